r"""Soft-IHT: Iterative Hard Thresholding with a SoftSort support mask, and its backward pass (IHT-Net).

IHT's hard thresholding keeps the entries indexed by the first :math:`k`
rows of the argsort; Soft-IHT (Mohammad-Taheri, Colbrook & Brugiapaglia
2025) uses the first :math:`k` SoftSort rows :math:`Q` instead and keeps
:math:`u` weighted by the soft mask :math:`\mathbf{1}^\top Q`:

.. math::

    u^t = w^t + \eta X^\top (y - X w^t), \qquad
    Q^t = \mathrm{softsort}_\tau\!\left(s(\omega \odot u^t)\right)_{1:k}, \qquad
    w^{t+1} = (\mathbf{1}^\top Q^t) \odot u^t,

with :math:`s` the normalised scores of :mod:`skstexplore.solvers._soft_greedy`
(:math:`\tau` relative to the best score) and a fixed step :math:`\eta`. As
:math:`\tau \to 0` the mask is the indicator of the :math:`k` largest
:math:`|\omega_j u_j|` and the iterates are those of IHT with step :math:`\eta`.

Halting rule of :func:`soft_iht`: :math:`\|w^{t+1} - w^t\| \le
\sqrt{\varepsilon}\,\|w^{t+1}\|` (:math:`\varepsilon` the machine epsilon),
or the squared residual :math:`\le` ``tol``.
"""

import numpy as np

from .._core.base import SolverResult
from .._core.lstsq import LeastSquaresData
from .._core.softsort import soft_topk_mask, soft_topk_mask_vjp
from .._core.thresholding import largest_k_mask
from ._ksparse import start_coef, tol_reached
from ._soft_greedy import selection_scores, selection_scores_vjp


def soft_iht_step(data, W, step_size, n_nonzero_coefs, temperature, weights=None, targets=None):
    """One Soft-IHT iteration of the rows ``W`` (targets ``targets`` of ``data``, all if None).

    Returns
    -------
    W_new : ndarray of shape (n, n_features)
    U : ndarray of shape (n, n_features)
        The gradient step :math:`u` that was masked.
    mask : ndarray of shape (n, n_features)
        The soft mask :math:`\\mathbf{1}^\\top Q`.
    C : ndarray of shape (n, n_features)
        The correlation :math:`X^\\top (y - X w)` of the input ``W``.
    """
    Xty = data.Xty if targets is None else data.Xty[targets]
    C = Xty - data.gram_times(W)
    U = W + step_size * C
    mask = soft_topk_mask(selection_scores(U, weights), temperature, n_nonzero_coefs)
    return mask * U, U, mask, C


def soft_iht_forward(data, step_size, n_layers, n_nonzero_coefs, temperature, weights=None, *, return_trace=False):
    """``n_layers`` Soft-IHT iterations from zero for every target (the IHT-Net forward pass).

    Returns
    -------
    coef : ndarray of shape (n_targets, n_features)
    trace : list of (U, mask) per layer, only with ``return_trace``
    """
    W = np.zeros((data.n_targets, data.n_features), dtype=data.dtype)
    trace = []
    for _ in range(n_layers):
        W, U, mask, _ = soft_iht_step(data, W, step_size, n_nonzero_coefs, temperature, weights)
        if return_trace:
            trace.append((U, mask))
    return (W, trace) if return_trace else W


def soft_iht_backward(data, trace, grad_coef, step_size, n_nonzero_coefs, temperature, weights=None):
    r"""Gradient of a loss of :func:`~skstexplore.solvers.soft_iht.soft_iht_forward`'s output with respect to ``weights``.

    Back through layer :math:`t`, :math:`w^{t+1} = m \odot u` with
    :math:`m = \mathbf{1}^\top Q`: :math:`\bar m = \bar w^{t+1} \odot u`
    (every row of :math:`Q` gets :math:`\bar m`), then the mask's VJP
    (``soft_topk_mask_vjp``) and the
    normalised scores give :math:`\bar\omega` and a second term of
    :math:`\bar u = m \odot \bar w^{t+1} + \dots`, and :math:`u = (I - \eta G)
    w^t + \eta v` gives :math:`\bar w^t = \bar u - \eta G \bar u`.

    Parameters
    ----------
    data : LeastSquaresData
    trace : list
        From :func:`~skstexplore.solvers.soft_iht.soft_iht_forward` with ``return_trace=True``.
    grad_coef : ndarray of shape (n_targets, n_features)
    step_size, n_nonzero_coefs, temperature, weights
        As in the forward pass.

    Returns
    -------
    grad_weights : ndarray of shape (n_features,)
    """
    grad_w = grad_coef
    grad_weights = np.zeros(data.n_features, dtype=data.dtype)
    for t in reversed(range(len(trace))):
        U, mask = trace[t]
        S = selection_scores(U, weights)
        grad_S = soft_topk_mask_vjp(S, grad_w * U, temperature, n_nonzero_coefs)
        grad_U, grad_layer = selection_scores_vjp(grad_S, U, weights)
        grad_U += mask * grad_w
        grad_weights += grad_layer
        if t > 0:
            grad_w = grad_U - step_size * data.gram_times(grad_U)
    return grad_weights


def soft_iht(
    X,
    Y,
    n_nonzero_coefs,
    *,
    temperature=1e-3,
    weights=None,
    step_size,
    coef_init=None,
    max_iter=100,
    tol=None,
    gram=None,
):
    r"""Soft-IHT with a fixed step for every column of ``Y``, all targets at once.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
        :math:`k`, the number of SoftSort rows summed into the mask.
    temperature : float, default=1e-3
        SoftSort temperature, relative to the best normalised score.
    weights : ndarray of shape (n_features,) or None
        Structure-aware weights :math:`\omega \ge 0` (None: all ones).
    step_size : float
        Fixed step :math:`\eta` (stable for :math:`\eta \le 1/\|X\|_2^2`).
    coef_init : ndarray of shape (n_targets, n_features) or None
        Start (zero by default).
    max_iter : int, default=100
    tol : float or None
        Stop a target once its squared residual norm is ``<= tol``.
    gram : ndarray of shape (n_features, n_features) or None

    Returns
    -------
    SolverResult
        ``coef`` (a soft mask keeps every entry in general), ``support`` the
        ``k`` largest :math:`|w_j|`.

    Examples
    --------
    >>> import numpy as np
    >>> soft_iht(np.eye(3), np.array([[2.0], [0.5], [-1.0]]), 2, temperature=1e-9, step_size=1.0).coef
    array([[ 2.,  0., -1.]])
    """
    data = LeastSquaresData(X, Y, gram)
    W = start_coef(coef_init, data)
    rtol_sq = np.finfo(data.dtype).eps
    n_iter = np.zeros(data.n_targets, dtype=int)
    converged = np.zeros(data.n_targets, dtype=bool)
    active = np.arange(data.n_targets)
    for it in range(1, max_iter + 1):
        W_old = W[active]
        W_new, _, _, C = soft_iht_step(data, W_old, step_size, n_nonzero_coefs, temperature, weights, active)
        # the correlation of the input gives its residual for free: ||r||^2 = ||y||^2 - w.(X^T y + c)
        done_before = tol_reached(data.y_sq[active] - np.einsum("ij,ij->i", W_old, data.Xty[active] + C), tol)
        W_new[done_before] = W_old[done_before]
        W[active] = W_new
        n_iter[active] = np.where(done_before, it - 1, it)
        change_sq = np.einsum("ij,ij->i", W_new - W_old, W_new - W_old)
        done = done_before | (change_sq <= rtol_sq * np.einsum("ij,ij->i", W_new, W_new))
        converged[active[done]] = True
        active = active[~done]
        if not active.size:
            break
    if tol is not None and active.size:
        converged[active] = tol_reached(data.residual_sq(W)[active], tol)
    return SolverResult(coef=W, n_iter=n_iter, converged=converged, support=largest_k_mask(W, n_nonzero_coefs))
