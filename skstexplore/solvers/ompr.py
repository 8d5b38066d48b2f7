r"""Orthogonal Matching Pursuit with Replacement (Jain, Tewari & Dhillon 2011).

With :math:`w = LS(S)` the least-squares solution on the current support and

.. math:: z = w + \eta X^\top (y - X w),

OMPR adds :math:`j = \arg\max_{j \notin S} |z_j|` and removes
:math:`i = \arg\min_{i \in S \cup \{j\}} |z_i|`, then re-fits
:math:`w \leftarrow LS(S)`. While :math:`|S| < k` nothing is removed, so the
support grows exactly as in OMP (incrementally, see ``grow_supports``;
beyond the rank of ``X`` the support is completed with features that cannot
change the fit); afterwards every iteration swaps one index.
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
from .._core.lstsq import _RANK_RTOL_FACTOR, LeastSquaresData
from .._core.memory import row_blocks
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
    for each target, all targets at once: the growth orthonormalises the
    entering columns of a block of targets together, and each swap iteration
    is one correlation product for the targets still running and one batched
    restricted solve per distinct support size.

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
        ``callback(n_iter, coef)`` after the growth and after every swap
        iteration.

    Returns
    -------
    SolverResult
        ``extras["step_size"]`` holds the step of each target at the end.
        ``n_iter`` counts one iteration per feature added by the growth,
        then the swap iterations.

    Examples
    --------
    >>> import numpy as np
    >>> ompr(np.eye(3), np.array([[2.0], [0.5], [-1.0]]), 2).coef
    array([[ 2.,  0., -1.]])
    """
    data = LeastSquaresData(X, Y, gram)
    n_targets = data.n_targets
    guard = CycleGuard(data, step_size)
    support, fitted, n_iter, residual_sq = grow_supports(data, _start_support(coef_init, data, n_nonzero_coefs),
                                                         n_nonzero_coefs, tol)
    W, C = data.solve_on_masks(fitted)
    converged = tol_reached(residual_sq, tol)
    n_grown = int(n_iter.max(initial=0))
    if callback is not None:
        callback(n_grown, W)
    active = np.flatnonzero(~converged)
    if active.size < n_targets:
        C = C[active]
    for it in range(1, max_iter + 1):
        if not active.size:
            break
        n_iter[active] += 1
        zero_correlation_noise(data, C, active)
        new_support, changed = _swaps(W, C, support, guard.step(active), active)
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
            _refit(data, W, C, support, targets, np.flatnonzero(moving))
            residual_sq = data.y_sq[targets] - np.einsum("ij,ij->i", W[targets], data.Xty[targets])
            stay[moving] = tol_reached(residual_sq, tol)
            converged[targets[stay[moving]]] = True
        active, C = active[~stay], C[~stay]
        if callback is not None:
            callback(n_grown + it, W)
    return SolverResult(
        coef=W, n_iter=n_iter, converged=converged, support=support, extras={"step_size": guard.eta}
    )


def _start_support(coef_init, data, k):
    """The nonzeros of :math:`H_k(w^0)` (none without ``coef_init``), ranked in blocks of targets."""
    start = np.zeros((data.n_targets, data.n_features), dtype=bool)
    if coef_init is None:
        return start
    W0 = start_coef(coef_init, data)
    for rows in row_blocks(len(W0), 4 * W0.shape[1] * W0.itemsize):
        start[rows] = largest_k_mask(W0[rows], k) & (W0[rows] != 0)
    return start


def grow_supports(data, start, k, tol=None):
    r"""OMP's growth of each support from ``start`` to ``k`` features, incrementally.

    The features of ``start`` enter first (in index order), then, one per
    iteration, the feature of largest :math:`|X_j^\top r|` outside the
    support (lowest index on ties), :math:`r` the least-squares residual:
    OMPR's growth phase. Instead of re-solving the least squares on every
    support from scratch (:math:`O(k^3)` per feature, :math:`O(k^4)` for the
    growth), the columns are orthonormalised as they enter (classical
    Gram-Schmidt applied twice, :math:`O(m \min(k, m))` per feature), so the
    residual is updated by one projection and the correlations are one
    product :math:`X^\top r` per feature.

    A feature whose column is (numerically) in the span of the support, its
    squared distance to it at most ``100 eps |S|`` times its squared norm
    (the rank rule of the restricted solves), cannot change the fit. When the
    best feature is such a one, or no correlation exceeds its rounding bound,
    the residual is already as explained as any feature can make it (the rank
    of ``X`` is reached, or the residual is orthogonal to every column): no
    further feature can change the fit, and the support is completed at once
    with the lowest-index features outside it, which carry zero coefficients.
    So ``support`` always has ``k`` features (unless ``tol`` is reached), in
    :math:`O(1)` work per completing feature.

    Parameters
    ----------
    data : LeastSquaresData
    start : ndarray of bool of shape (n_targets, n_features)
        Starting supports (at most ``k`` features each).
    k : int
    tol : float or None
        A target stops growing as soon as its squared residual is ``<= tol``.

    Returns
    -------
    support : ndarray of bool of shape (n_targets, n_features)
    fitted : ndarray of bool of shape (n_targets, n_features)
        The features of ``support`` that carry coefficients: linearly
        independent columns, whose least squares give the fit.
    n_iter : ndarray of int of shape (n_targets,)
        Features added (one iteration each, as in OMP).
    residual_sq : ndarray of shape (n_targets,)
        Squared residuals of the fits.
    """
    n_samples = data.X.shape[0]
    rank_cap = min(k, n_samples)
    support, fitted = start.copy(), np.zeros_like(start)
    n_iter = np.zeros(len(start), dtype=int)
    row_bytes = (n_samples * (rank_cap + 2) + 2 * data.n_features) * np.dtype(data.dtype).itemsize
    residual_sq = np.empty(len(start), dtype=data.dtype)
    for rows in row_blocks(len(start), row_bytes):
        residual_sq[rows] = _grow_block(data, support[rows], fitted[rows], n_iter[rows], np.arange(len(start))[rows],
                                        k, rank_cap, tol)
    return support, fitted, n_iter, residual_sq


class _Basis:
    """Orthonormal bases of the fitted columns of a block of targets, and their residuals."""

    def __init__(self, data, targets, rank_cap):
        self.data = data
        self.Q = np.zeros((len(targets), data.X.shape[0], rank_cap), dtype=data.dtype)
        self.rank = np.zeros(len(targets), dtype=int)
        self.residual = np.ascontiguousarray(data.Y[:, targets].T)
        self.residual_sq = np.einsum("ij,ij->i", self.residual, self.residual)

    def add(self, rows, features):
        """Orthonormalise the columns ``features`` into the bases ``rows``; which were independent."""
        data = self.data
        x = data.columns(features).T  # (len(rows), n_samples)
        width = int(self.rank[rows].max(initial=0))  # columns beyond every row's rank are zero
        Q = self.Q[:, :, :width] if len(rows) == len(self.Q) else self.Q[rows, :, :width]
        u = x.copy()
        for _ in range(2):  # twice is enough (Giraud et al. 2005)
            u -= (Q @ (u[:, None, :] @ Q).transpose(0, 2, 1))[:, :, 0]
        dist_sq = np.einsum("ij,ij->i", u, u)
        # the rank rule of the restricted solves, on the block of the fitted columns and this one
        cutoff = _RANK_RTOL_FACTOR * np.finfo(data.dtype).eps * (self.rank[rows] + 1)
        independent = (self.rank[rows] < self.Q.shape[2]) & (dist_sq > cutoff * np.einsum("ij,ij->i", x, x))
        rows, u, dist_sq = rows[independent], u[independent], dist_sq[independent]
        q = u / np.sqrt(dist_sq)[:, None]
        self.Q[rows, :, self.rank[rows]] = q
        self.rank[rows] += 1
        r = self.residual[rows]
        r -= q * np.einsum("ij,ij->i", q, r)[:, None]
        self.residual[rows] = r
        self.residual_sq[rows] = np.einsum("ij,ij->i", r, r)
        return independent


    def add_independent(self, rows, features):
        r"""Orthonormalise all the columns ``features[i]`` into the empty basis of ``rows[i]``, where they are independent.

        One batched Householder QR of the stacked :math:`X_S`: the diagonal of
        :math:`R` gives each column's distance to the span of the columns
        before it, so the rank rule of :meth:`add` is checked for every
        column at once. Rows where some column is dependent are left
        untouched (False).
        """
        data = self.data
        size = features.shape[1]
        if size > self.Q.shape[2]:
            return np.zeros(len(rows), dtype=bool)
        XS = np.moveaxis(data.columns(features), 0, 1)  # (len(rows), n_samples, size)
        Q, R = np.linalg.qr(XS)
        dist_sq = np.diagonal(R, axis1=1, axis2=2) ** 2
        cutoff = _RANK_RTOL_FACTOR * np.finfo(data.dtype).eps * np.arange(1, size + 1)
        entered = np.all(dist_sq > cutoff * np.einsum("tij,tij->tj", XS, XS), axis=1)
        rows, Q = rows[entered], Q[entered]
        self.Q[rows, :, :size] = Q
        self.rank[rows] = size
        r = self.residual[rows]
        r -= (Q @ (r[:, None, :] @ Q).transpose(0, 2, 1))[:, :, 0]
        self.residual[rows] = r
        self.residual_sq[rows] = np.einsum("ij,ij->i", r, r)
        return entered


def _grow_block(data, support, fitted, n_iter, targets, k, rank_cap, tol):
    """:func:`grow_supports` for one block of targets (``support``, ``fitted``, ``n_iter`` updated in place).

    Returns the squared residuals of the block.
    """
    basis = _Basis(data, targets, rank_cap)
    _enter_start(basis, support, fitted)
    growing = np.flatnonzero((support.sum(axis=1) < k) & ~tol_reached(basis.residual_sq, tol))
    C = basis.residual[growing] @ data.X
    while growing.size:
        zero_correlation_noise(data, C, targets[growing])
        outside = np.where(support[growing], -1, np.abs(C))
        best = np.argmax(outside, axis=1)
        explained = outside[np.arange(growing.size), best] <= 0
        candidates = ~explained
        independent = np.zeros(growing.size, dtype=bool)
        independent[candidates] = basis.add(growing[candidates], best[candidates])
        support[growing[independent], best[independent]] = True
        fitted[growing[independent], best[independent]] = True
        n_iter[growing[independent]] += 1
        # the best feature adds nothing: no feature can change the fit
        complete = ~independent
        for t in growing[complete]:
            missing = k - np.count_nonzero(support[t])
            support[t, np.flatnonzero(~support[t])[:missing]] = True
            n_iter[t] += missing
        keep = independent & (support[growing].sum(axis=1) < k) & ~tol_reached(basis.residual_sq[growing], tol)
        growing, C = growing[keep], C[keep]
        if growing.size:
            C = basis.residual[growing] @ data.X
    return basis.residual_sq


def _enter_start(basis, support, fitted):
    """The starting features of each row into its basis (``fitted`` updated in place), in index order.

    Rows whose starting columns are all independent enter them at once (one
    batched QR per starting size, see :meth:`_Basis.add_independent`); the
    others, feature by feature, since which of their columns count as
    dependent depends on the order.
    """
    sizes = support.sum(axis=1)
    one_by_one = []
    for size in np.unique(sizes[sizes > 0]):
        rows = np.flatnonzero(sizes == size)
        features = np.nonzero(support[rows])[1].reshape(len(rows), size)  # each row's, increasing
        entered = basis.add_independent(rows, features)
        fitted[rows[entered, None], features[entered]] = True
        one_by_one.extend(zip(rows[~entered].tolist(), features[~entered]))
    for position in range(max((len(features) for _, features in one_by_one), default=0)):
        rows = np.array([t for t, features in one_by_one if len(features) > position], dtype=np.intp)
        features = np.array([features[position] for _, features in one_by_one if len(features) > position],
                            dtype=np.intp)
        independent = basis.add(rows, features)
        fitted[rows[independent], features[independent]] = True


def zero_correlation_noise(data, C, targets):
    """Set to zero, in place, the correlations at rounding level: they carry no direction (e.g. at an exact fit).

    Rows are treated in blocks (the bound's temporaries stay within a fixed budget).
    """
    for rows in row_blocks(len(C), 3 * C.shape[1] * C.itemsize):
        block = C[rows]
        block[np.abs(block) <= correlation_noise(data, block, targets[rows])[:, None]] = 0


def correlation_noise(data, C, targets):
    r"""Rounding bound :math:`m \varepsilon (\|X^\top y\| + \|G w\|)` of each row of correlations."""
    xty = data.Xty[targets]
    bound = data.X.shape[0] * np.finfo(data.dtype).eps
    return bound * (np.sqrt(np.einsum("ij,ij->i", xty, xty)) + np.sqrt(np.einsum("ij,ij->i", xty - C, xty - C)))


def _refit(data, W, C, support, targets, C_rows):
    """Least squares on the supports of ``targets`` into their rows of ``W`` and the rows ``C_rows`` of ``C``.

    In blocks of targets, so that the new coefficients and correlations are
    stored block by block rather than made for all targets first.
    """
    for block in row_blocks(len(targets), 2 * C.shape[1] * C.itemsize):
        W[targets[block]], C[C_rows[block]] = data.solve_on_masks(support[targets[block]], targets[block])


def _swaps(W, C, support, eta, targets):
    """:func:`_swap` for the rows ``targets`` of ``W`` and ``support`` (``C``, ``eta``: theirs), in blocks of rows."""
    new_support = np.empty((len(targets), support.shape[1]), dtype=bool)
    changed = np.empty(len(targets), dtype=bool)
    for rows in row_blocks(len(targets), 4 * C.shape[1] * C.itemsize):
        new_support[rows], changed[rows] = _swap(W[targets[rows]], C[rows], support[targets[rows]], eta[rows])
    return new_support, changed


def _swap(W, C, support, eta):
    """One OMPR swap per row of full supports; returns the new supports and which rows changed."""
    rows = np.arange(len(W))
    outside = np.where(support, -1, np.abs(C))
    j = np.argmax(outside, axis=1)
    i = np.argmin(np.where(support, np.abs(W), np.inf), axis=1)
    changed = eta[:, 0] * outside[rows, j] > np.abs(W[rows, i])
    new_support = support.copy()
    new_support[rows[changed], j[changed]] = True
    new_support[rows[changed], i[changed]] = False
    return new_support, changed
