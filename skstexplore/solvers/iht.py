r"""Iterative Hard Thresholding, normalised (Blumensath & Davies 2009, 2010).

.. math::

    w^{t+1} = H_k\!\left(w^t + \mu_t\, g^t\right), \qquad g^t = X^\top (y - X w^t),

with :math:`H_k` keeping the :math:`k` largest entries. A fixed ``step_size``
gives classical IHT (:math:`\mu_t = \eta`, stable for :math:`\eta \le 1/L`).
By default the step is normalised IHT's: with :math:`\Gamma^t` the current
support (initially the nonzeros of :math:`w^0`, completed by the largest
:math:`|g^0_j|`),

.. math::

    \mu_t = \frac{\|g^t_{\Gamma^t}\|^2}{\|X_{\Gamma^t} g^t_{\Gamma^t}\|^2},

the exact line-search step along the gradient restricted to the support. When
the new support differs from :math:`\Gamma^t` the step is accepted only if
:math:`\mu_t \le \omega_t = (1 - c)\,\|w^{t+1} - w^t\|^2 / \|X (w^{t+1} - w^t)\|^2`;
otherwise :math:`\mu_t \leftarrow \mu_t / (\kappa (1 - c))` and the step is
redone. With :math:`c = 0.01` and :math:`\kappa = 2 > 1/(1-c)` every accepted
step decreases the residual (Blumensath & Davies 2010, Theorem 1). When
:math:`g^t_{\Gamma^t} = 0` (a least-squares point of the support), or is
below the rounding bound of the correlations, the step falls back to :math:`1 / \max_j \|X_j\|^2`.

Halting rule: the support does not change and
:math:`\|w^{t+1} - w^t\| \le \sqrt{\varepsilon}\, \|w^{t+1}\|`, and the
reference step :math:`1 / (k \max_j \|X_j\|^2)` (a lower bound of the
normalised step) would not move :math:`w` more either (so that a tiny
user-given ``step_size`` is not mistaken for convergence)
(:math:`\varepsilon` the machine epsilon of the dtype, so :math:`1.5 \cdot
10^{-8}` in float64): IHT only approaches its fixed points, so a relative step
at the level where rounding takes over marks convergence.
"""

import numpy as np

from .._core.base import SolverResult
from .._core.lstsq import LeastSquaresData
from .._core.memory import row_blocks
from .._core.thresholding import largest_k_mask, mask_to_indices
from ._ksparse import default_step, initial_support, start_coef, start_correlation, tol_reached

# Normalised IHT's constants: shrink factor kappa > 1 / (1 - c).
_C_SHRINK = 0.01
_KAPPA = 2.0

# (n_targets, n_features) temporaries of one step, per target (sizes the blocks of targets stepped together).
_STEP_TEMPORARIES = 12


def iht(
    X,
    Y,
    n_nonzero_coefs,
    *,
    coef_init=None,
    step_size=None,
    max_iter=1000,
    tol=None,
    gram=None,
    callback=None,
):
    r"""(Normalised) Iterative Hard Thresholding for every column of ``Y``.

    Minimises :math:`\|y_t - X w\|_2^2` subject to :math:`\|w\|_0 \le k`
    for each target, all targets at once (one step size per target).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
    coef_init : ndarray of shape (n_targets, n_features) or None
    step_size : float or None
        Fixed step :math:`\eta` (classical IHT); None gives normalised IHT's
        adaptive step with its shrinking rule.
    max_iter : int, default=1000
    tol : float or None
        Stop a target as soon as its squared residual norm is ``<= tol``.
    gram : ndarray of shape (n_features, n_features) or None
    callback : callable or None
        ``callback(n_iter, coef)`` after every iteration.

    Returns
    -------
    SolverResult

    Examples
    --------
    >>> import numpy as np
    >>> iht(np.eye(3), np.array([[2.0], [0.5], [-1.0]]), 2).coef
    array([[ 2.,  0., -1.]])
    """
    data = LeastSquaresData(X, Y, gram)
    n_targets = data.n_targets
    fallback_step = default_step(data)
    W = start_coef(coef_init, data)
    C = start_correlation(coef_init, W, data)
    support = initial_support(W, C, n_nonzero_coefs)
    n_iter = np.zeros(n_targets, dtype=int)
    converged = np.zeros(n_targets, dtype=bool)
    active = np.arange(n_targets)
    # targets are stepped in blocks, so that the step's temporaries stay within a fixed budget
    row_bytes = _STEP_TEMPORARIES * data.n_features * W.itemsize
    for it in range(1, max_iter + 1):
        done = np.zeros(active.size, dtype=bool)
        for block in row_blocks(active.size, row_bytes):
            done[block] = _iterate(data, W, C, support, active[block], n_nonzero_coefs, step_size, fallback_step, tol)
        n_iter[active] = it
        converged[active[done]] = True
        active = active[~done]
        if callback is not None:
            callback(it, W)
        if not active.size:
            break
    return SolverResult(coef=W, n_iter=n_iter, converged=converged, support=support)


def _iterate(data, W, C, support, targets, k, step_size, fallback_step, tol):
    """One IHT iteration of the rows ``targets`` of ``W``, ``C``, ``support`` (updated in place).

    Returns which of them halt (stalled, or ``tol`` reached).
    """
    W_old, C_old, S_old = W[targets], C[targets], support[targets]
    if step_size is None:
        W_new, S_new, C_new = _normalised_step(data, W_old, C_old, S_old, k, fallback_step, targets)
    else:
        W_new, S_new, C_new = _threshold_step(data, W_old, C_old, np.full(len(targets), step_size), k, targets)
    W[targets], support[targets], C[targets] = W_new, S_new, C_new
    rtol_sq = np.finfo(data.dtype).eps
    W_old -= W_new
    change_sq = np.einsum("ij,ij->i", W_old, W_old)
    w_sq = np.einsum("ij,ij->i", W_new, W_new)
    # a step too small to move w is not convergence: the reference step must not move it either
    g_new = np.take_along_axis(C_new, mask_to_indices(S_new), axis=1)
    ref_move = np.sqrt(np.einsum("ij,ij->i", g_new, g_new)) * (fallback_step / k)
    stalled = np.all(S_new == S_old, axis=1) & (change_sq <= rtol_sq * w_sq) & (ref_move <= np.sqrt(rtol_sq * w_sq))
    C_new += data.Xty[targets]
    residual_sq = data.y_sq[targets] - np.einsum("ij,ij->i", W_new, C_new)
    return stalled | tol_reached(residual_sq, tol)


def _threshold_step(data, W, C, mu, k, targets):
    """``H_k(W + mu C)`` row by row, with its support mask and its correlation."""
    Z = mu[:, None].astype(W.dtype) * C
    Z += W
    mask = largest_k_mask(Z, k)
    idx = mask_to_indices(mask)
    values = np.take_along_axis(Z, idx, axis=1)
    return data.scatter(idx, values), mask, data.correlation_on_supports(idx, values, targets)


def _image_sq_on_supports(data, idx, values):
    r""":math:`\|X_S v\|^2` for each row: ``values[t]`` on the columns ``idx[t]``."""
    out = np.empty(len(idx), dtype=values.dtype)
    k = idx.shape[1]
    # in blocks of targets: the stacked G_SS blocks (or X_S columns) of all targets at once would be
    # n_targets * k * k (or n_samples * k) floats
    row_bytes = k * (k if data.gram is not None else data.X.shape[0]) * values.itemsize
    for rows in row_blocks(len(idx), row_bytes):
        if data.gram is not None:
            out[rows] = np.einsum("ti,tij,tj->t", values[rows], data.gram_blocks(idx[rows], idx[rows]), values[rows])
        else:
            image = np.einsum("mtk,tk->tm", data.columns(idx[rows]), values[rows])
            out[rows] = np.einsum("tm,tm->t", image, image)
    return out


def _normalised_step(data, W, C, support, k, fallback_step, targets):
    """One normalised-IHT step for each row, shrinking the step where the support moves too far."""
    idx = mask_to_indices(support)
    g = np.take_along_axis(C, idx, axis=1)
    numerator = np.einsum("ij,ij->i", g, g)
    denominator = _image_sq_on_supports(data, idx, g)
    regular = (denominator > 0) & (numerator > _rounding_noise_sq(data, C, targets))
    mu = np.full(len(W), fallback_step)
    mu[regular] = numerator[regular] / denominator[regular]
    W_new, S_new, C_new = _threshold_step(data, W, C, mu, k, targets)
    redo = _step_too_long(W, C, W_new, S_new, C_new, support, mu)
    while redo.any():
        mu[redo] /= _KAPPA * (1.0 - _C_SHRINK)
        W_new[redo], S_new[redo], C_new[redo] = _threshold_step(data, W[redo], C[redo], mu[redo], k, targets[redo])
        redo[redo] = _step_too_long(W[redo], C[redo], W_new[redo], S_new[redo], C_new[redo], support[redo], mu[redo])
    return W_new, S_new, C_new


def _rounding_noise_sq(data, C, targets):
    r"""Squared size of the rounding error of the correlations :math:`c = X^\top y - G w`.

    Each entry is a difference of dot products of length ``n_samples``, exact
    to :math:`m \varepsilon (|X^\top y| + |G w|)` at worst; a gradient on the
    support below that bound (at a least-squares point, e.g. after
    ``init="omp"``) carries no direction, and a step computed from it would
    depend on how the products were blocked (batching, ``precompute``).
    """
    xty = data.Xty[targets]
    bound = data.X.shape[0] * np.finfo(data.dtype).eps
    return bound**2 * (np.einsum("ij,ij->i", xty, xty) + np.einsum("ij,ij->i", xty - C, xty - C))


def _step_too_long(W, C, W_new, S_new, C_new, support, mu):
    r"""Rows whose support moved and whose step exceeds :math:`\omega`.

    With :math:`D = w^+ - w`, :math:`\|X D\|^2 = D^\top (G w^+ - G w) = D^\top (c - c^+)`
    from the correlations :math:`c = X^\top y - G w` already at hand.
    """
    moved = np.any(S_new != support, axis=1)
    D = W_new - W
    image = np.einsum("ij,ij->i", D, C - C_new)
    # omega is infinite when X D = 0: such a step never increases the residual
    with np.errstate(divide="ignore", invalid="ignore"):
        omega = np.where(image > 0, (1.0 - _C_SHRINK) * np.einsum("ij,ij->i", D, D) / image, np.inf)
    return moved & (mu > omega)
