r"""Orthogonal Matching Pursuit with Replacement (Jain, Tewari & Dhillon 2011).

With :math:`w = LS(S)` the least-squares solution on the current support and

.. math:: z = w + \eta X^\top (y - X w),

OMPR adds :math:`j = \arg\max_{j \notin S} |z_j|` and removes
:math:`i = \arg\min_{i \in S \cup \{j\}} |z_i|`, then re-fits
:math:`w \leftarrow LS(S)`. While :math:`|S| < k` nothing is removed, so the
support grows exactly as in OMP; afterwards every iteration swaps one index.
Since :math:`X_S^\top (y - X w) = 0` at a least-squares point, :math:`z_i = w_i`
on :math:`S` and :math:`z_j = \eta\, X_j^\top (y - X w)` outside: ``j`` enters
iff :math:`\eta |X_j^\top r| > \min_{i \in S} |w_i|` (ties keep the support;
among equal scores the lowest feature index is taken).

Halting rule: no swap changes the support (``converged``); the iteration that
finds it is counted in ``n_iter``. As for HTP, a target whose supports cycle
under the default step continues with the step :math:`1/\|X\|_2^2`, with
which no swap raises the residual (see
:class:`~skstexplore.solvers._ksparse.CycleGuard`); with a user-given step it
stops there, not converged.
"""

import numpy as np

from .._core.base import SolverResult
from .._core.lstsq import LeastSquaresData
from .._core.thresholding import largest_k_mask
from ._ksparse import CycleGuard, start_coef, tol_reached


def ompr(
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
    r"""OMP with Replacement for every column of ``Y``.

    Minimises :math:`\|y_t - X w\|_2^2` subject to :math:`\|w\|_0 \le k`
    for each target, all targets at once: each iteration is one correlation
    product for the targets still running and one batched restricted solve
    per distinct support size.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
    coef_init : ndarray of shape (n_targets, n_features) or None
        The starting support is the nonzeros of :math:`H_k(w^0)` (empty if
        None); it grows OMP-like to :math:`k` elements.
    step_size : float or None
        :math:`\eta`; None gives :math:`1 / \max_j \|X_j\|^2` (the step 1 of
        the authors for unit-norm columns).
    max_iter : int, default=1000
        Budget of swap iterations, on top of the (at most :math:`k`) growth
        iterations that bring the support to :math:`k` elements.
    tol : float or None
        Stop a target as soon as its squared residual norm is ``<= tol``.
    gram : ndarray of shape (n_features, n_features) or None
    callback : callable or None
        ``callback(n_iter, coef)`` after every iteration.

    Returns
    -------
    SolverResult
        ``extras["step_size"]`` holds the step of each target at the end.

    Examples
    --------
    >>> import numpy as np
    >>> ompr(np.eye(3), np.array([[2.0], [0.5], [-1.0]]), 2).coef
    array([[ 2.,  0., -1.]])
    """
    data = LeastSquaresData(X, Y, gram)
    n_targets = data.n_targets
    guard = CycleGuard(data, step_size)
    W0 = start_coef(coef_init, data)
    support = largest_k_mask(W0, n_nonzero_coefs) & (W0 != 0)
    W, C = data.solve_on_masks(support)
    n_iter = np.zeros(n_targets, dtype=int)
    converged = np.zeros(n_targets, dtype=bool)
    active = np.arange(n_targets)
    # the growth iterations come on top of max_iter, so that support_ always has k entries
    budget = max_iter + n_nonzero_coefs - support.sum(axis=1)
    for it in range(1, int(budget.max()) + 1):
        n_iter[active] = it
        # correlations at rounding level carry no direction (e.g. at an exact fit): zero them
        C = np.where(np.abs(C) > correlation_noise(data, C, active)[:, None], C, 0)
        new_support, changed = _replace(W[active], C, support[active], guard.step(active), n_nonzero_coefs)
        stay = ~changed
        converged[active[stay]] = True
        cycling = np.zeros_like(stay)
        cycling[changed] = guard.revisited(new_support[changed], active[changed])
        if guard.default:
            guard.make_safe(active[cycling])
        else:
            stay |= cycling
        moving = ~(stay | cycling)
        if moving.any():
            targets = active[moving]
            support[targets] = new_support[moving]
            W[targets], C[moving] = data.solve_on_masks(support[targets], targets)
            residual_sq = data.y_sq[targets] - np.einsum("ij,ij->i", W[targets], data.Xty[targets])
            stay[moving] = tol_reached(residual_sq, tol)
            converged[targets[stay[moving]]] = True
        stay |= it >= budget[active]
        active, C = active[~stay], C[~stay]
        if callback is not None:
            callback(it, W)
        if not active.size:
            break
    return SolverResult(
        coef=W, n_iter=n_iter, converged=converged, support=support, extras={"step_size": guard.eta}
    )


def correlation_noise(data, C, targets):
    r"""Rounding bound :math:`m \varepsilon (\|X^\top y\| + \|G w\|)` of each row of correlations."""
    xty = data.Xty[targets]
    bound = data.X.shape[0] * np.finfo(data.dtype).eps
    return bound * (np.sqrt(np.einsum("ij,ij->i", xty, xty)) + np.sqrt(np.einsum("ij,ij->i", xty - C, xty - C)))


def _replace(W, C, support, eta, k):
    """One OMPR support update per row; returns the new supports and which rows changed."""
    rows = np.arange(len(W))
    outside = np.where(support, -1, np.abs(C))
    j = np.argmax(outside, axis=1)
    growing = support.sum(axis=1) < k
    i = np.argmin(np.where(support, np.abs(W), np.inf), axis=1)
    swapping = ~growing & (eta[:, 0] * outside[rows, j] > np.abs(W[rows, i]))
    new_support = support.copy()
    changed = growing | swapping
    new_support[rows[changed], j[changed]] = True
    new_support[rows[swapping], i[swapping]] = False
    return new_support, changed
