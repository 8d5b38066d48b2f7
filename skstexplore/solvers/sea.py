r"""Support Exploration Algorithm (SEA), Mohamed, Malgouyres, Emiya & Chaux (ICML 2024).

SEA minimises :math:`F(H(\Xi))` where :math:`H(\Xi)` is the least-squares
solution on the support :math:`\mathrm{largest}_k(\Xi)`, with the
straight-through estimator of the gradient: a dense *exploration vector*
:math:`\Xi` accumulates the gradients of :math:`F` taken at the sparse iterates,

.. math::

    S^t = \mathrm{largest}_k(\Xi^t), \qquad
    w^t = \operatorname*{argmin}_{\mathrm{supp}(w) \subseteq S^t} \|y - X w\|_2^2, \qquad
    \Xi^{t+1} = \Xi^t - \eta\, X^\top (X w^t - y),

and returns the iterate :math:`w^{t_{best}}` with the smallest residual,
:math:`t_{best} = \operatorname{argmin}_t \|y - X w^t\|_2^2`.

Cost. Everything an iteration needs depends only on the support :math:`S^t`:
the coefficients :math:`w^t`, the residual and the gradient
:math:`G_{:,S} w_S - X^\top y` (:math:`O(n k)` through the Gram matrix
:math:`G = X^\top X`). SEA revisits the same supports over and over, so they
are cached per support and an iteration on a known support costs one update
of :math:`\Xi`. The new support itself is found without sorting: the support
is unchanged while :math:`\min_{S} |\Xi| > \max_{S^c} |\Xi|`, and otherwise the
new top-k lies among the current support and the few outside entries that
reached :math:`\min_S |\Xi|`. A new support is factored afresh (one
LAPACK Cholesky of :math:`G_{SS}`, microseconds for the k of compressed
sensing): while SEA explores, consecutive supports differ by many indices
(measured: 15 to 35 of k = 120 at m = 400, n = 800), so updating the previous
factor index by index does not pay; once it has settled, supports recur and
come from the cache.
"""

import numpy as np
from scipy.linalg import get_lapack_funcs

from .._core.base import SolverResult
from .._core.lipschitz import spectral_norm_sq
from .._core.lstsq import _RANK_RTOL_FACTOR, LeastSquaresData, SupportCache
from .._core.thresholding import largest_k_mask, mask_to_indices

# Default iteration budget (see SEARegressor's docstring for the justification).
DEFAULT_MAX_ITER = 1000

# Fewer targets than this meeting new supports in one iteration are solved
# one by one (LAPACK directly), more in one batched solve.
_BATCH_MIN_TARGETS = 8

# Memory allowed to the per-support caches of one call, all targets together.
_CACHE_BYTES = 256 * 2**20


def default_step_size(X, gram=None):
    r""":math:`\eta = 1 / L` with :math:`L = \|X\|_2^2` (1 for an all-zero design)."""
    L = spectral_norm_sq(X, gram=gram)
    return 1.0 / L if L > 0 else 1.0


def sea(
    X,
    Y,
    n_nonzero_coefs,
    *,
    exploration_init=None,
    step_size=None,
    max_iter=DEFAULT_MAX_ITER,
    tol=None,
    n_iter_no_change=None,
    gram=None,
    record_supports=False,
):
    r"""Support Exploration Algorithm on every column of ``Y``.

    .. math::

        S^t = \mathrm{largest}_k(\Xi^t), \quad
        w^t = LS(S^t), \quad
        \Xi^{t+1} = \Xi^t - \eta X^\top (X w^t - y)

    Each target explores on its own; the iterations of all targets run
    together, vectorised (the exploration updates are array operations on all
    targets, and the targets that meet new supports in the same iteration
    share one batched restricted solve when they are many).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
        k, ``1 <= k <= n_features``.
    exploration_init : ndarray of shape (n_targets, n_features) or None
        :math:`\Xi^0`: zero when None, otherwise the coefficients of a warm
        start (another algorithm's solution) or a previous exploration vector.
    step_size : float or None
        :math:`\eta`; None means :math:`1 / \|X\|_2^2`.
    max_iter : int
        Iteration budget, SEA's normal halting rule.
    tol : float or None
        A target stops as soon as its squared residual is ``<= tol``.
    n_iter_no_change : int or None
        A target stops when its best squared residual has not decreased for
        that many iterations.
    gram : ndarray of shape (n_features, n_features) or None
        ``X.T @ X``; the gradients go through ``X`` when None.
    record_supports : bool
        Also return every support visited, in order (``extras["supports"]``,
        shape (n_targets, max_iter, k), rows past ``n_iter`` unused).

    Returns
    -------
    result : SolverResult
        ``coef`` = :math:`w^{t_{best}}`; ``support`` = :math:`S^{t_{best}}`;
        ``n_iter`` = iterations run per target; ``converged`` is False only for
        targets given a ``tol`` they did not reach within ``max_iter`` (a
        fixed budget is the normal end of SEA). ``extras``: ``exploration``
        (:math:`\Xi` after the last iteration, shape of ``coef``),
        ``loss_curve`` (list of one array per target, :math:`\|y - X w^t\|^2`
        for each iteration), ``best_iter`` (:math:`t_{best}` per target),
        ``n_supports_explored`` (distinct supports visited per target).

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(30, 60, 5, random_state=0)
    >>> result = sea(X, y[:, None], 5, max_iter=200)
    >>> bool(np.array_equal(result.coef[0] != 0, coef != 0))
    True
    """
    data = LeastSquaresData(X, Y, gram)
    eta = X.dtype.type(default_step_size(X, gram) if step_size is None else step_size)
    explorer = _Explorer(data, n_nonzero_coefs, eta, exploration_init)
    explorer.run(max_iter, tol, n_iter_no_change, record_supports)
    return explorer.result(tol)


class _Explorer:
    """State of the exploration of every target: current and best support, caches."""

    def __init__(self, data, k, eta, exploration_init):
        self.data, self.k, self.eta = data, k, eta
        T, n = data.n_targets, data.n_features
        self.Xi = np.zeros((T, n), dtype=data.dtype) if exploration_init is None else np.array(
            exploration_init, dtype=data.dtype
        )
        # current support of each target and what it gives
        self.mask = largest_k_mask(self.Xi, k)
        self.idx = mask_to_indices(self.mask)
        self.vals = np.zeros((T, k), dtype=data.dtype)
        self.step_grad = np.zeros((T, n), dtype=data.dtype)  # eta * gradient
        self.loss = np.zeros(T, dtype=data.dtype)
        self.max_step = np.zeros(T, dtype=data.dtype)  # largest |eta * gradient| entry; 0: stationary
        self.check_at = np.zeros(T, dtype=np.intp)  # first iteration whose support may differ
        # best iterate
        self.best_loss = np.full(T, np.inf, dtype=data.dtype)
        self.best_idx = self.idx.copy()
        self.best_vals = self.vals.copy()
        self.best_iter = np.zeros(T, dtype=np.intp)
        self.n_iter = np.zeros(T, dtype=np.intp)
        self.targets = np.arange(T)
        self.reached_tol = np.zeros(T, dtype=bool)
        self.cholesky = _RestrictedCholesky(data)
        entry_bytes = (n + k + 2) * data.dtype.itemsize + k * 8
        self.caches = [SupportCache(max(64, _CACHE_BYTES // (entry_bytes * T))) for _ in range(T)]
        self.visited = [set() for _ in range(T)]
        self._evaluate(np.arange(T))

    # -- one support per target -------------------------------------------------
    def _evaluate(self, targets):
        """Look the current supports of ``targets`` up in the caches; solve the misses together."""
        misses = []
        for t in targets:
            entry = self.caches[t].get(self.idx[t])
            if entry is None:
                misses.append(t)
            else:
                self._set_current(t, entry)
        if misses:
            self._solve(np.asarray(misses))

    def _solve(self, targets):
        """Least squares, gradient and residual on the (new) supports of ``targets``.

        Many targets at once go through one batched solve, a few one by one
        through LAPACK directly (cheaper for a single small system).
        """
        idx = self.idx[targets]
        if len(targets) >= _BATCH_MIN_TARGETS:
            vals = self.data.solve_on_supports(idx, targets)
        else:
            vals = np.array([self._solve_one(t) for t in targets]).reshape(idx.shape)
        grad, loss = _gradient_and_loss(self.data, idx, vals, targets)
        step_grad = self.eta * grad
        max_step = np.abs(step_grad).max(axis=1)
        for row, t in enumerate(targets):
            # copies: a cached row must not keep the whole batch alive
            entry = (vals[row].copy(), step_grad[row].copy(), loss[row], max_step[row])
            self.caches[t].put(idx[row], entry)
            self.visited[t].add(idx[row].tobytes())
            self._set_current(t, entry)

    def _set_current(self, t, entry):
        self.vals[t], self.step_grad[t], self.loss[t], self.max_step[t] = entry

    def _solve_one(self, t):
        """Least squares on the support of target ``t``."""
        S = self.idx[t]
        L = self.cholesky.factor(S)
        if L is None:
            # rank-deficient support: the shared deterministic minimum-norm solve
            return self.data.solve_on_supports(S[None], np.array([t]))[0]
        return self.cholesky.solve(L, self.data.Xty[t, S])

    def _next_supports(self, rows, it):
        r"""Move the supports of ``rows`` to :math:`\mathrm{largest}_k(\Xi)`; whether any changed.

        A support is still the top-k while :math:`\mathrm{lo} = \min_S |\Xi| >
        \mathrm{hi} = \max_{S^c} |\Xi|`. Each iteration moves every entry by at
        most :math:`s = \max |\eta\, \nabla|`, so the gap cannot close within
        :math:`(\mathrm{lo} - \mathrm{hi}) / (2 s)` iterations: the check is
        skipped for half of that (the other half absorbs rounding).
        """
        due = self.check_at[rows] <= it
        if due.all():  # views when ``rows`` is a slice
            targets, A, mask = self.targets[rows], np.abs(self.Xi[rows]), self.mask[rows]
        else:
            targets = self.targets[rows][due]
            A, mask = np.abs(self.Xi[targets]), self.mask[targets]
        lo = np.where(mask, A, np.inf).min(axis=1)
        hi = np.where(mask, -np.inf, A).max(axis=1)
        gap = lo - hi
        self.check_at[targets] = it + 1
        kept = gap > 0
        if kept.any():
            drift = 2 * self.max_step[targets[kept]] + 16 * np.finfo(A.dtype).eps * A[kept].max(axis=1)
            n_safe = np.minimum(0.5 * gap[kept] / np.maximum(drift, np.finfo(A.dtype).tiny), 2**30)
            self.check_at[targets[kept]] += n_safe.astype(np.intp)
            if kept.all():
                return False
        moved = ~kept
        changed = [t for t, a, m in zip(targets[moved], A[moved], lo[moved]) if self._reselect(t, a, m)]
        if changed:
            self._evaluate(changed)
        return bool(changed)

    def _reselect(self, t, a, lo):
        """New top-k of target ``t`` (magnitudes ``a``); whether it differs from the current one.

        Entries below ``lo`` (the smallest magnitude on the current support)
        cannot enter the top-k: it lies among the entries ``>= lo``, ranked by
        magnitude then index (the tie rule of :func:`largest_k`).
        """
        pool = np.flatnonzero(a >= lo)
        new_idx = np.sort(pool[np.lexsort((pool, -a[pool]))[: self.k]])
        if np.array_equal(new_idx, self.idx[t]):
            return False
        self.mask[t, self.idx[t]] = False
        self.mask[t, new_idx] = True
        self.idx[t] = new_idx
        return True

    # -- iterations ----------------------------------------------------------------
    def run(self, max_iter, tol, n_iter_no_change, record_supports=False):
        T = self.Xi.shape[0]
        self.loss_curve = np.empty((T, max_iter), dtype=self.data.dtype)
        self.supports = np.zeros((T, max_iter, self.k), dtype=np.intp) if record_supports else None
        active = np.ones(T, dtype=bool)
        rows = slice(None)  # the active targets (a slice while all are, to avoid copies)
        next_check = 1  # first iteration at which some active support may change
        for it in range(max_iter):
            # with unchanged supports the loss repeats: no new best, no new halt on tol
            changed = it == 0
            if it >= next_check:
                changed = self._next_supports(rows, it)
                next_check = self.check_at[rows].min()
            self.loss_curve[rows, it] = self.loss[rows]
            if self.supports is not None:
                self.supports[rows, it] = self.idx[rows]
            if changed:
                self._record_best(rows, it)
            self.Xi[rows] -= self.step_grad[rows]
            stop = self._stops(rows, it, tol, n_iter_no_change, changed)
            if stop is not None:
                stopped = self.targets[rows][stop]
                self.n_iter[stopped] = it + 1
                active[stopped] = False
                if not active.any():
                    return
                rows = np.flatnonzero(active)
                next_check = self.check_at[rows].min()
        self.n_iter[rows] = max_iter

    def _record_best(self, rows, it):
        loss = self.loss[rows]
        improved = loss < self.best_loss[rows]
        if improved.any():
            targets = self.targets[rows][improved]
            self.best_loss[targets] = loss[improved]
            self.best_idx[targets] = self.idx[targets]
            self.best_vals[targets] = self.vals[targets]
            self.best_iter[targets] = it

    def _stops(self, rows, it, tol, n_iter_no_change, changed):
        """Boolean mask of the ``rows`` that halt after iteration ``it``, or None."""
        stop = None
        if changed:
            # zero gradient: Xi is frozen and every later iterate is the same
            stop = self.max_step[rows] == 0
            if tol is not None:
                reached = self.loss[rows] <= tol
                self.reached_tol[self.targets[rows][reached]] = True
                stop |= reached
        if n_iter_no_change is not None:
            stalled = it - self.best_iter[rows] >= n_iter_no_change
            stop = stalled if stop is None else stop | stalled
        return stop if stop is not None and stop.any() else None

    def result(self, tol):
        converged = self.reached_tol | (self.max_step == 0) | np.array(tol is None)
        if tol is not None:
            # stopping for lack of progress is a halting rule too, not a failure
            converged |= self.n_iter < self.loss_curve.shape[1]
        coef = self.data.scatter(self.best_idx, self.best_vals)
        support = np.zeros(coef.shape, dtype=bool)
        np.put_along_axis(support, self.best_idx, True, axis=1)
        return SolverResult(
            coef=coef,
            n_iter=self.n_iter.copy(),
            converged=converged,
            support=support,
            extras={
                "exploration": self.Xi,
                "loss_curve": [curve[:n] for curve, n in zip(self.loss_curve, self.n_iter)],
                "best_iter": self.best_iter.copy(),
                "n_supports_explored": np.array([len(v) for v in self.visited]),
                **({} if self.supports is None else {"supports": self.supports}),
            },
        )


def _gradient_and_loss(data, idx, vals, targets):
    r"""Gradient :math:`X^\top (X w - y)` and :math:`\|y - Xw\|^2` of least-squares solutions.

    ``vals[i]`` is the least-squares solution on ``idx[i]`` for target
    ``targets[i]``. Through the Gram matrix the gradient is
    :math:`G_{:,S} w_S - X^\top y` (:math:`O(n k)`) and, since
    :math:`G_{SS} w_S = X_S^\top y` at the solution, the residual is
    :math:`\|y\|^2 - w_S^\top X_S^\top y`.
    """
    if data.gram is not None:
        grad = np.einsum("tk,tkn->tn", vals, data.gram[idx]) - data.Xty[targets]
        xty_on_support = np.take_along_axis(data.Xty[targets], idx, axis=1)
        loss = data.y_sq[targets] - np.einsum("tk,tk->t", vals, xty_on_support)
        return grad, np.maximum(loss, 0)
    residual = np.einsum("mtk,tk->tm", data.columns(idx), vals) - data.Y[:, targets].T
    return residual @ data.X, np.einsum("tm,tm->t", residual, residual)


class _RestrictedCholesky:
    r"""Cholesky factor :math:`L L^\top = G_{SS}` of one restricted Gram block, by LAPACK directly.

    For one small system this costs a few microseconds where the batched
    :func:`~skstexplore._core.lstsq.solve_gram_systems` pays its set-up. A
    factor whose smallest pivot falls below the cut-off of
    :func:`~skstexplore._core.lstsq.solve_gram_systems` is refused (None), so
    rank-deficient supports get the same minimum-norm solution either way.
    """

    def __init__(self, data):
        self.data = data
        self.potrf, self.potrs = get_lapack_funcs(("potrf", "potrs"), dtype=data.dtype)
        self.rtol = _RANK_RTOL_FACTOR * np.finfo(data.dtype).eps

    def _block(self, rows, cols):
        return self.data.gram_blocks(rows[None], cols[None])[0]

    def _regular(self, L, support):
        scale = max(float(self.data.col_sq[support].max()), np.finfo(L.dtype).tiny)
        return float(np.min(np.diagonal(L))) ** 2 > self.rtol * len(support) * scale

    def factor(self, support):
        L, info = self.potrf(self._block(support, support), lower=1, clean=1)
        if info != 0 or not self._regular(L, support):
            return None
        return L

    def solve(self, L, rhs):
        return self.potrs(L, rhs, lower=1)[0]
