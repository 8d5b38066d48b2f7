r"""Selection scores of the soft greedy solvers and networks (Soft-OMP, Soft-IHT, OMP-Net, IHT-Net).

The selection step of OMP and IHT sorts the weighted magnitudes
:math:`c_j = |\omega_j u_j|` (:math:`u = X^\top r` for OMP, the gradient step
for IHT, :math:`\omega` the structure-aware ``weights``). SoftSort is not
scale-invariant, so the soft solvers sort the normalised scores

.. math:: s_j = \frac{c_j}{\max_l c_l} \in [0, 1]

(the best score is exactly 1), which are invariant to the units of ``X``,
``y`` and ``weights``: the temperature :math:`\tau` is then a gap relative
to the best score (an atom whose score is :math:`\tau` below the best gets
:math:`e^{-1}` times its weight in the soft selection). When every score is
zero (zero residual, zero weights) the normalised scores are all zero and the
soft selection is uniform.
"""

import numpy as np


def selection_scores(U, weights):
    r"""Normalised scores :math:`|\omega \odot u| / \max |\omega \odot u|` of each row of ``U``.

    Parameters
    ----------
    U : ndarray of shape (n_targets, n_features)
    weights : ndarray of shape (n_features,) or None (all ones)

    Returns
    -------
    S : ndarray of shape (n_targets, n_features)
    """
    C = np.abs(U if weights is None else U * weights)
    top = C.max(axis=1, keepdims=True)
    return np.divide(C, top, out=np.zeros_like(C), where=top > 0)


def selection_scores_vjp(grad_S, U, weights):
    r"""Gradients of :func:`selection_scores` with respect to ``U`` and ``weights``.

    With :math:`h = \omega \odot u`, :math:`c = |h|`, :math:`m = c_{j^*} = \max c`:
    :math:`\bar c = \bar s / m - e_{j^*} (\bar s^\top c) / m^2`,
    :math:`\bar h = \mathrm{sign}(h) \odot \bar c`, :math:`\bar u = \omega \odot \bar h`,
    :math:`\bar\omega = \sum_{\mathrm{rows}} u \odot \bar h`. Rows with
    :math:`m = 0` (constant scores) get zero gradients.

    Returns
    -------
    grad_U : ndarray of shape (n_targets, n_features)
    grad_weights : ndarray of shape (n_features,)
    """
    H = U if weights is None else U * weights
    C = np.abs(H)
    best = np.argmax(C, axis=1)
    rows = np.arange(len(C))
    top = C[rows, best]
    safe = np.where(top > 0, top, 1.0)
    grad_C = grad_S / safe[:, None]
    grad_C[rows, best] -= np.einsum("ij,ij->i", grad_S, C) / safe**2
    grad_C[top == 0] = 0.0
    grad_H = np.sign(H) * grad_C
    grad_U = grad_H if weights is None else grad_H * weights
    return grad_U, np.einsum("ij,ij->j", grad_H, U)
