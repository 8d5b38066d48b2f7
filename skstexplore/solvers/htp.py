r"""Hard Thresholding Pursuit (Foucart 2011).

Each iteration keeps the :math:`k` largest entries of a gradient step and
re-fits by least squares on them:

.. math::

    S^{t+1} = \operatorname{largest}_k\!\left(w^t + \eta X^\top (y - X w^t)\right),
    \qquad w^{t+1} = LS(S^{t+1}) = \arg\min_{\operatorname{supp}(w) \subseteq S^{t+1}} \|y - X w\|^2 .

Halting rule: the support repeats, :math:`S^{t+1} = S^t`; then :math:`w^t` is a
fixed point of the update (``converged``), the iteration that detects it is
counted in ``n_iter`` and no least-squares problem is solved in it.

The default step :math:`1/\max_j \|X_j\|^2` can exceed :math:`1/\|X\|_2^2`,
and then the supports may cycle (for instance with columns of unequal norms).
A target that comes back to a support visited before continues with the step
:math:`1/\|X\|_2^2`, with which no support change raises the residual (see
:class:`~skstexplore.solvers._ksparse.CycleGuard`), so that, barring exact
ties, it ends at a fixed point; with a user-given step it stops there, not
converged.

Many targets are processed in blocks of targets whose
(n_targets, n_features) arrays stay within a few MiB (each block vectorised):
beyond the caches the time per target would grow with their number.
"""

import numpy as np

from .._core import memory
from .._core.base import SolverResult
from .._core.lstsq import LeastSquaresData
from .._core.memory import row_blocks
from .._core.thresholding import largest_k_mask, mask_to_indices
from ._ksparse import CycleGuard, start_coef, start_correlation, tol_reached

# One (targets, n_features) array of a block of targets takes at most this share of the shared
# block budget (2 MiB of 16): a block's dozen such arrays stay within the caches
_ARRAY_SHARE_OF_BLOCK = 8


def htp(
    X,
    Y,
    n_nonzero_coefs,
    *,
    coef_init=None,
    step_size=None,
    max_iter=100,
    tol=None,
    gram=None,
    callback=None,
):
    r"""Hard Thresholding Pursuit for every column of ``Y``.

    Minimises :math:`\|y_t - X w\|_2^2` subject to :math:`\|w\|_0 \le k`
    for each target :math:`t`, all targets at once: one matrix product gives
    every correlation and the restricted least-squares problems of the targets
    still iterating are solved by one batched factorisation.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
        :math:`k`.
    coef_init : ndarray of shape (n_targets, n_features) or None
        Starting point :math:`w^0` (zero if None). It need not be
        :math:`k`-sparse: the first iteration thresholds it.
    step_size : float or None
        :math:`\eta`; None gives :math:`1 / \max_j \|X_j\|^2` (Foucart's
        :math:`\eta = 1` for unit-norm columns). From :math:`w^0 = 0` the
        iterates do not depend on it.
    max_iter : int, default=100
    tol : float or None
        Stop a target as soon as its squared residual norm is ``<= tol``.
    gram : ndarray of shape (n_features, n_features) or None
        Precomputed ``X.T @ X``.
    callback : callable or None
        ``callback(n_iter, coef)`` after every iteration, ``coef`` of shape
        (n_targets, n_features).

    Returns
    -------
    SolverResult
        ``converged[t]`` is True when target ``t`` reached a fixed point (or
        ``tol``); ``support`` holds the final :math:`S`; ``extras["step_size"]``
        the step of each target at the end.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(4)
    >>> htp(X, np.array([[3.0], [0.1], [-2.0], [0.0]]), 2).coef
    array([[ 3.,  0., -2.,  0.]])
    """
    n_targets, n_features = Y.shape[1], X.shape[1]
    blocks = row_blocks(n_targets, n_features * X.dtype.itemsize, memory.BLOCK_BYTES // _ARRAY_SHARE_OF_BLOCK)
    if callback is not None or len(blocks) <= 1:
        return _htp_block(X, Y, n_nonzero_coefs, coef_init, step_size, max_iter, tol, gram, callback)
    safe_step = [None]  # 1/L, computed once for all blocks when a cycle first needs it
    parts = [
        _htp_block(X, Y[:, part], n_nonzero_coefs, _rows(coef_init, part, n_targets), step_size, max_iter,
                   _rows(tol, part, n_targets), gram, None, safe_step)
        for part in blocks
    ]
    return SolverResult(
        coef=np.concatenate([p.coef for p in parts]), n_iter=np.concatenate([p.n_iter for p in parts]),
        converged=np.concatenate([p.converged for p in parts]), support=np.concatenate([p.support for p in parts]),
        extras={"step_size": np.concatenate([p.extras["step_size"] for p in parts])},
    )


def _rows(value, part, n_targets):
    """The rows ``part`` of a per-target array; anything else (None, a scalar, one shared row) as is."""
    if value is None or np.ndim(value) == 0 or np.shape(value)[0] != n_targets:
        return value
    return value[part]


def _htp_block(X, Y, n_nonzero_coefs, coef_init, step_size, max_iter, tol, gram, callback, safe_step=None):
    """:func:`htp` on the targets ``Y``, vectorised; ``safe_step`` a one-item list sharing 1/L between calls."""
    data = LeastSquaresData(X, Y, gram)
    n_targets, n_features = data.n_targets, data.n_features
    guard = CycleGuard(data, step_size, safe_step=safe_step)
    W = start_coef(coef_init, data)
    C = start_correlation(coef_init, W, data)
    support = np.zeros((n_targets, n_features), dtype=bool)
    n_iter = np.zeros(n_targets, dtype=int)
    converged = np.zeros(n_targets, dtype=bool)
    active = np.arange(n_targets)
    for it in range(1, max_iter + 1):
        n_iter[active] = it
        new_support = largest_k_mask(W[active] + guard.step(active) * C, n_nonzero_coefs)
        stay = np.all(new_support == support[active], axis=1)
        converged[active[stay]] = True
        cycling = np.zeros_like(stay)
        cycling[~stay] = guard.revisited(new_support[~stay], active[~stay])
        if guard.default:
            guard.make_safe(active[cycling])
        else:
            stay |= cycling
        moving = ~(stay | cycling)
        if moving.any():
            targets, idx = active[moving], mask_to_indices(new_support[moving])
            values = data.solve_on_supports(idx, targets)
            W[targets] = data.scatter(idx, values)
            support[targets] = new_support[moving]
            C[moving] = data.correlation_on_supports(idx, values, targets)
            stay[moving] = tol_reached(data.residual_sq_on_supports(idx, values, targets), tol)
            converged[targets[stay[moving]]] = True
        active, C = active[~stay], C[~stay]
        if callback is not None:
            callback(it, W)
        if not active.size:
            break
    return SolverResult(
        coef=W, n_iter=n_iter, converged=converged, support=support, extras={"step_size": guard.eta}
    )
