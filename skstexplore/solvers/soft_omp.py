r"""Soft-OMP: Orthogonal Matching Pursuit with SoftSort selections, and its backward pass (OMP-Net).

OMP written with permutation rows (Mohammad-Taheri, Colbrook & Brugiapaglia
2025): at step :math:`t = 1, \dots, k` the selected atom is the first row of
the argsort of the weighted correlations; Soft-OMP takes the first SoftSort
row instead,

.. math::

    p_t &= \mathrm{softsort}_\tau\!\left(s(\omega \odot X^\top r_{t-1})\right)_1,
    \qquad P_t = [p_1; \dots; p_t] \in \mathbb{R}^{t \times n}, \\
    z_t &= \arg\min_z \|X P_t^\top z - y\|_2, \qquad w_t = P_t^\top z_t,
    \qquad r_t = y - X w_t,

from :math:`r_0 = y`, with :math:`s` the normalised scores of
:mod:`skstexplore.solvers._soft_greedy` (so :math:`\tau` is relative to the
best score). As :math:`\tau \to 0` the rows are one-hot and :math:`w_k` is
OMP's solution.

Everything goes through :math:`G = X^\top X` (precomputed, or applied as
:math:`X^\top (X \cdot)`) and :math:`v = X^\top y`: with :math:`B_t = P_t G`,
the normal equations are :math:`M_t z_t = P_t v` with :math:`M_t = B_t
P_t^\top` and the correlation is :math:`X^\top r_t = v - B_t^\top z_t`. Each
step adds one row to :math:`P`, :math:`B` and :math:`M` (one product with
:math:`G`) and solves the small system by a batched Cholesky factorisation
(minimum-norm solution when :math:`M_t` is singular, e.g. an atom selected
twice).
"""

import numpy as np

from .._core.base import SolverResult
from .._core.lstsq import LeastSquaresData, solve_gram_systems
from .._core.softsort import softsort_rows, softsort_vjp
from .._core.thresholding import largest_k_mask
from ._soft_greedy import selection_scores, selection_scores_vjp


def soft_omp_forward(data, n_nonzero_coefs, temperature, weights=None, *, return_trace=False):
    """Soft-OMP for every target of ``data`` (a ``LeastSquaresData``).

    Returns
    -------
    coef : ndarray of shape (n_targets, n_features)
    trace : dict, only with ``return_trace``
        ``P``, ``B`` (n_targets, k, n_features), ``M`` (n_targets, k, k), the
        coefficients ``z`` of every step, the correlations ``U`` entering every
        step and the final correlation ``U_final`` (what :func:`soft_omp_backward` needs).
    """
    n_targets, n_features, k = data.n_targets, data.n_features, n_nonzero_coefs
    P = np.zeros((n_targets, k, n_features), dtype=data.dtype)
    B = np.zeros_like(P)
    M = np.zeros((n_targets, k, k), dtype=data.dtype)
    rhs = np.zeros((n_targets, k), dtype=data.dtype)
    U, Us, zs = data.Xty, [], []
    for t in range(k):
        Us.append(U)
        p = softsort_rows(selection_scores(U, weights), temperature, 1)[0][:, 0]
        P[:, t], B[:, t] = p, data.gram_times(p)
        M[:, t, : t + 1] = np.einsum("ij,ikj->ik", B[:, t], P[:, : t + 1])
        M[:, : t + 1, t] = M[:, t, : t + 1]
        rhs[:, t] = np.einsum("ij,ij->i", p, data.Xty)
        z = solve_gram_systems(M[:, : t + 1, : t + 1], rhs[:, : t + 1])
        zs.append(z)
        U = data.Xty - np.einsum("ik,ikj->ij", z, B[:, : t + 1])
    coef = np.einsum("ik,ikj->ij", zs[-1], P)
    if not return_trace:
        return coef
    return coef, {"P": P, "B": B, "M": M, "z": zs, "U": Us, "U_final": U}


def soft_omp_backward(data, trace, grad_coef, temperature, weights=None):
    r"""Gradient of a loss of Soft-OMP's output with respect to ``weights`` (hand-derived VJP).

    Going back from step :math:`k`, with :math:`\bar w_t` the gradient with
    respect to :math:`w_t = P_t^\top z_t`:

    * :math:`\bar z = P_t \bar w_t`, :math:`\lambda = M_t^{-1} \bar z`, and the rows
      of :math:`P_t` (shared by every later step) accumulate
      :math:`z_t \bar w_t^\top + \lambda v^\top - (\lambda z_t^\top + z_t \lambda^\top) B_t
      = z_t (\bar w_t - B_t^\top \lambda)^\top + \lambda u_t^\top`
      (from :math:`w = P^\top z`, :math:`z = M^{-1} P v` and :math:`M = P G P^\top`;
      :math:`u_t = v - B_t^\top z_t`);
    * the gradient of row :math:`p_t` is then complete: it goes back through
      SoftSort (``softsort_vjp``) and the
      normalised scores to :math:`\omega` and to the correlation
      :math:`u_{t-1} = v - G w_{t-1}`, giving :math:`\bar w_{t-1} = -G \bar u_{t-1}`.

    Parameters
    ----------
    data : LeastSquaresData
    trace : dict
        From :func:`~skstexplore.solvers.soft_omp.soft_omp_forward` with ``return_trace=True``.
    grad_coef : ndarray of shape (n_targets, n_features)
        Gradient of the loss with respect to the output coefficients.
    temperature : float
    weights : ndarray of shape (n_features,) or None

    Returns
    -------
    grad_weights : ndarray of shape (n_features,)
    """
    P, B, M, zs, Us = trace["P"], trace["B"], trace["M"], trace["z"], trace["U"]
    grad_P = np.zeros_like(P)
    grad_w = grad_coef
    grad_weights = np.zeros(data.n_features, dtype=data.dtype)
    for t in reversed(range(len(zs))):
        Pt, Bt, z = P[:, : t + 1], B[:, : t + 1], zs[t]
        lam = solve_gram_systems(M[:, : t + 1, : t + 1], np.einsum("ikj,ij->ik", Pt, grad_w))
        # v - B_t^T z_t is the correlation after step t
        U_after = Us[t + 1] if t + 1 < len(Us) else trace["U_final"]
        grad_P[:, : t + 1] += (z[:, :, None] * (grad_w - np.einsum("ik,ikj->ij", lam, Bt))[:, None, :]
                               + lam[:, :, None] * U_after[:, None, :])
        S = selection_scores(Us[t], weights)
        grad_S = softsort_vjp(S, grad_P[:, t : t + 1], temperature)
        grad_U, grad_layer = selection_scores_vjp(grad_S, Us[t], weights)
        grad_weights += grad_layer
        grad_w = -data.gram_times(grad_U)
    return grad_weights


def soft_omp(X, Y, n_nonzero_coefs, *, temperature=1e-3, weights=None, gram=None):
    r"""Soft-OMP for every column of ``Y``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
        Number of steps :math:`k` (soft atoms selected).
    temperature : float, default=1e-3
        SoftSort temperature, relative to the best normalised score.
    weights : ndarray of shape (n_features,) or None
        Structure-aware weights :math:`\omega \ge 0` of the selection scores
        (None: all ones).
    gram : ndarray of shape (n_features, n_features) or None
        Precomputed :math:`X^\top X`.

    Returns
    -------
    SolverResult
        ``coef`` (dense in general: the selections are soft), ``support`` the
        ``k`` largest :math:`|w_j|`, ``n_iter`` = ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> soft_omp(X, np.array([[2.0], [0.5]]), 1, temperature=1e-9).coef  # X^T y = (2, 0.5, 2.5)
    array([[0.  , 0.  , 1.25]])
    >>> np.round(soft_omp(X, np.array([[2.0], [0.5]]), 1, temperature=0.2).coef, 3)
    array([[0.41 , 0.02 , 1.116]])
    """
    data = LeastSquaresData(X, Y, gram)
    coef = soft_omp_forward(data, n_nonzero_coefs, temperature, weights)
    n_targets = data.n_targets
    return SolverResult(
        coef=coef,
        n_iter=np.full(n_targets, n_nonzero_coefs),
        converged=np.ones(n_targets, dtype=bool),
        support=largest_k_mask(coef, n_nonzero_coefs),
    )
