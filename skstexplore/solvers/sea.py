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
:math:`t_{best} = \operatorname{argmin}_t \|y - X w^t\|_2^2` (a later iterate
replaces the best one only when its squared residual is lower by more than the
rounding floor :math:`16 k \epsilon \|y\|^2`: ties, such as two exact fits, go
to the earlier iterate whatever the path and the units).

Cost. Everything an iteration needs depends only on the support :math:`S^t`:
the coefficients :math:`w^t`, the residual and the gradient
:math:`G_{:,S} w_S - X^\top y` (:math:`O(n k)` from the columns of the Gram
matrix :math:`G = X^\top X`, precomputed or computed on demand for the
indices that enter supports). SEA revisits the same supports over and over,
so their results are kept in one bounded store for all targets. While a
support is unchanged :math:`\Xi` moves by the same step every iteration, so
it is brought up to date only when the support is checked, and the check is
skipped while :math:`\min_{S} |\Xi| - \max_{S^c} |\Xi|` provably cannot
close. A new support is factored afresh (one LAPACK Cholesky of
:math:`G_{SS}`): while SEA explores, consecutive supports differ by many
indices (measured: 15 to 35 of k = 120 at m = 400, n = 800), so updating the
previous factor index by index does not pay.

Halting: by default a target stops once the last :func:`default_patience`
support changes brought no new best residual (see the user guide).
"""

import numpy as np
from scipy.linalg import get_lapack_funcs

from .._core.base import SolverResult
from .._core.gram_columns import DEFAULT_COLUMN_BYTES, GramColumns
from .._core.lipschitz import spectral_norm_sq
from .._core.lstsq import _RANK_RTOL_FACTOR, LeastSquaresData, column_sq_norms, solve_gram_systems
from .._core.thresholding import largest_k_mask, mask_to_indices
from ._sea_store import DEFAULT_STORE_BYTES, SupportHasher, SupportStore

# Default iteration budget (see SEARegressor's docstring for the justification).
DEFAULT_MAX_ITER = 1000

# Fewer targets than this meeting new supports in one iteration are solved
# one by one (LAPACK directly), more in one batched solve.
_BATCH_MIN_TARGETS = 8

# Iterations stored at once in the loss curve (it grows by blocks, never to max_iter up front).
_CURVE_BLOCK = 256


def default_patience(n_nonzero_coefs):
    r"""Support changes without a new best residual after which the default rule halts SEA.

    300 whatever k: designed from measurements (user guide, "Halting"): the
    smallest patience tried that kept exact recovery and support distance
    within two standard errors of the 1000-iteration budget on the
    phase-transition and deconvolution studies; the patience a successful
    run needed did not grow with k there.
    """
    return 300


def default_step_size(X, gram=None, warm=True):
    r"""Default :math:`\eta`: :math:`1 / L`, :math:`L = \|X\|_2^2` (1 for an all-zero design).

    From :math:`\Xi^0 = 0` (``warm=False``) the supports visited do not depend
    on :math:`\eta`, so :math:`L` is not computed and
    :math:`\eta = 1 / \max_j \|X_j\|^2` is used. From a warm start
    :math:`\eta` only sets how fast the gradients override :math:`\Xi^0`, and
    :math:`L` is computed to 1 % (Lanczos iterations stop at a relative
    accuracy of 0.01: 21 products with :math:`X` and :math:`X^\top` instead
    of about 100 at 2000 x 10000).
    """
    if warm:
        L = spectral_norm_sq(X, gram=gram, rtol=1e-2)
    else:
        L = float(np.max(np.diag(gram) if gram is not None else column_sq_norms(X), initial=0.0))
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
    n_iter_no_change="auto",
    gram=None,
    record_supports=False,
    store_bytes=DEFAULT_STORE_BYTES,
    column_bytes=DEFAULT_COLUMN_BYTES,
):
    r"""Support Exploration Algorithm on every column of ``Y``.

    .. math::

        S^t = \mathrm{largest}_k(\Xi^t), \quad
        w^t = LS(S^t), \quad
        \Xi^{t+1} = \Xi^t - \eta X^\top (X w^t - y)

    Each target explores on its own; the iterations of all targets run
    together as array operations (support checks, top-k re-selection,
    best-iterate bookkeeping, store look-ups); the targets that meet new
    supports in the same iteration share one batched restricted solve when
    they are many.

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
        :math:`\eta`; None means :func:`default_step_size`.
    max_iter : int
        Iteration budget.
    tol : float, ndarray of shape (n_targets,) or None
        A target stops as soon as its squared residual is ``<= tol``.
    n_iter_no_change : int, "auto" or None
        A target stops when its best squared residual has not decreased for
        that many iterations; ``"auto"``: :func:`default_patience` iterations
        without a decrease of more than a relative :math:`\sqrt{\epsilon}`
        (rounding does not keep SEA going); None: run to ``max_iter``.
    gram : ndarray of shape (n_features, n_features) or None
        ``X.T @ X``; when None, the columns of it that supports need are
        computed on demand and cached (``GramColumns``).
    record_supports : bool
        Also return every support visited, in order (``extras["supports"]``,
        shape (n_targets, n_iter.max(), k), rows past ``n_iter`` unused).
    store_bytes, column_bytes : int
        Memory budgets of the per-support store and of the Gram columns.

    Returns
    -------
    result : SolverResult
        ``coef`` = :math:`w^{t_{best}}`; ``support`` = :math:`S^{t_{best}}`;
        ``n_iter`` = iterations run per target; ``converged`` is False only for
        targets given a ``tol`` they did not reach and not halted by
        ``n_iter_no_change``. ``extras``: ``exploration`` (:math:`\Xi` after
        the last iteration), ``loss_curve`` (list of one array per target,
        :math:`\|y - X w^t\|^2` for each iteration), ``best_iter``
        (:math:`t_{best}` per target), ``n_supports_explored`` (distinct
        supports visited per target), ``step_size`` (:math:`\eta`).

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
    if step_size is None:
        step_size = default_step_size(X, gram, warm=exploration_init is not None and np.any(exploration_init))
    eta = X.dtype.type(step_size)
    columns = GramColumns(X, gram, column_bytes)
    store = SupportStore(data.n_features, n_nonzero_coefs, data.dtype, store_bytes)
    explorer = _Explorer(data, columns, store, n_nonzero_coefs, eta, exploration_init)
    if isinstance(n_iter_no_change, str):
        halting = _Halting(default_patience(n_nonzero_coefs), np.sqrt(np.finfo(data.dtype).eps), count_changes=True)
    else:
        halting = None if n_iter_no_change is None else _Halting(n_iter_no_change, 0.0, count_changes=False)
    explorer.run(max_iter, tol, halting, record_supports)
    return explorer.result(tol, float(eta))


class _Explorer:
    """State of the exploration of every target: current and best support, stores."""

    def __init__(self, data, columns, store, k, eta, exploration_init):
        self.data, self.columns, self.store, self.k, self.eta = data, columns, store, k, eta
        T, n = data.n_targets, data.n_features
        self.Xi = np.zeros((T, n), dtype=data.dtype) if exploration_init is None else np.array(
            exploration_init, dtype=data.dtype
        )
        self.hasher = SupportHasher(n, T)
        self.targets = np.arange(T)
        # current support of each target and what it gives
        self.mask = largest_k_mask(self.Xi, k)
        self.idx = mask_to_indices(self.mask)
        self.keys = self.hasher.keys(self.idx, self.targets)
        self.vals = np.zeros((T, k), dtype=data.dtype)
        self.step_grad = np.zeros((T, n), dtype=data.dtype)  # eta * gradient
        self.loss = np.zeros(T, dtype=data.dtype)
        self.max_step = np.zeros(T, dtype=data.dtype)  # largest |eta * gradient| entry; 0: stationary
        self.check_at = np.zeros(T, dtype=np.intp)  # first iteration whose support may differ
        self.t_base = np.zeros(T, dtype=np.intp)  # iteration at which ``Xi`` is stored (see _advance)
        # best iterate, and the last iteration that lowered it enough to count as progress
        self.best_loss = np.full(T, np.inf, dtype=data.dtype)
        # squared residuals closer than their rounding error (the Gram and the column paths round
        # differently) are a tie, kept by the earlier iterate: which of two exact fits is returned
        # must not depend on the path or the units
        self.loss_floor = (16 * k * np.finfo(data.dtype).eps * data.y_sq).astype(data.dtype)
        self.progress_loss = np.full(T, np.inf, dtype=data.dtype)
        self.best_idx = self.idx.copy()
        self.best_vals = self.vals.copy()
        self.best_iter = np.zeros(T, dtype=np.intp)
        self.progress_iter = np.zeros(T, dtype=np.intp)
        self.changes_since_progress = np.zeros(T, dtype=np.intp)
        self.n_iter = np.zeros(T, dtype=np.intp)
        self.reached_tol = np.zeros(T, dtype=bool)
        self.visited = set()
        self.n_explored = np.zeros(T, dtype=np.intp)
        self.cholesky = _RestrictedCholesky(data, columns)
        self._evaluate(self.targets)

    # -- one support per target -------------------------------------------------
    def _evaluate(self, targets):
        """Look the current supports of ``targets`` up in the store; solve the misses together."""
        keys = self.keys[targets]
        slots = self.store.lookup(keys)
        hit = slots >= 0
        if hit.any():
            t, s = targets[hit], slots[hit]
            self.vals[t], self.step_grad[t] = self.store.values[s], self.store.steps[s]
            self.loss[t], self.max_step[t] = self.store.loss[s], self.store.max_step[s]
        if not hit.all():
            self._solve(targets[~hit], keys[~hit])

    def _solve(self, targets, keys):
        """Least squares, gradient and residual on the (new) supports of ``targets``.

        Many targets at once go through one batched solve, a few one by one
        through LAPACK directly (cheaper for a single small system).
        """
        idx = self.idx[targets]
        if not self.columns.fetch(idx):
            # more distinct indices than the column store holds: go through X, in parts that fit
            part = max(1, len(targets) // 2)
            for start in range(0, len(targets), part):
                self._solve(targets[start : start + part], keys[start : start + part])
            return
        if len(targets) >= _BATCH_MIN_TARGETS:
            vals = solve_gram_systems(self.columns.block(idx), np.take_along_axis(self.data.Xty[targets], idx, axis=1))
        else:
            vals = np.array([self._solve_one(t) for t in targets]).reshape(idx.shape)
        grad = self.columns.times(idx, vals) - self.data.Xty[targets]
        xty_on_support = np.take_along_axis(self.data.Xty[targets], idx, axis=1)
        loss = np.maximum(self.data.y_sq[targets] - np.einsum("tk,tk->t", vals, xty_on_support), 0)
        step_grad = self.eta * grad
        max_step = np.abs(step_grad).max(axis=1)
        self.store.insert(keys, vals, step_grad, loss, max_step)
        self.vals[targets], self.step_grad[targets], self.loss[targets], self.max_step[targets] = (
            vals, step_grad, loss, max_step)
        visited, keys = self.visited, keys.tolist()
        new = np.fromiter((key not in visited for key in keys), dtype=bool, count=len(keys))
        visited.update(keys)
        self.n_explored[targets[new]] += 1  # targets are distinct

    def _solve_one(self, t):
        """Least squares on the support of target ``t``."""
        S = self.idx[t]
        L = self.cholesky.factor(S)
        if L is None:
            # rank-deficient support: the shared deterministic minimum-norm solve
            return solve_gram_systems(self.columns.block(S[None]), self.data.Xty[t, S][None])[0]
        return self.cholesky.solve(L, self.data.Xty[t, S])

    def _next_supports(self, rows, it):
        r"""Move the supports of ``rows`` to :math:`\mathrm{largest}_k(\Xi)`; the targets whose support changed.

        A support is still the top-k while :math:`\mathrm{lo} = \min_S |\Xi| >
        \mathrm{hi} = \max_{S^c} |\Xi|`. Each iteration moves every entry by at
        most :math:`s = \max |\eta\, \nabla|`, so the gap cannot close within
        :math:`(\mathrm{lo} - \mathrm{hi}) / (2 s)` iterations: the check is
        skipped for half of that (the other half absorbs rounding). Targets
        whose gap closed get their new top-k in one vectorised selection.
        """
        due = self.check_at[rows] <= it
        targets = self.targets[rows] if due.all() else self.targets[rows][due]
        A, mask = np.abs(self._advance(targets, it)), self.mask[targets]
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
                return targets[:0]
        moved = targets[~kept]
        new_mask = largest_k_mask(A[~kept], self.k)
        differs = np.any(new_mask != mask[~kept], axis=1)
        changed = moved[differs]
        if changed.size:
            self.mask[changed] = new_mask[differs]
            self.idx[changed] = mask_to_indices(new_mask[differs])
            self.keys[changed] = self.hasher.keys(self.idx[changed], changed)
            self._evaluate(changed)
        return changed

    def _advance(self, targets, it):
        r""":math:`\Xi^{it}` of ``targets`` (stored, and returned).

        While its support is unchanged a target's :math:`\Xi` moves by the same
        step every iteration, so it is stored at the iteration ``t_base`` of
        its last check and brought up to date only when looked at:
        :math:`\Xi^{it} = \Xi^{t_{base}} - (it - t_{base})\, \eta \nabla`.
        Iterations in which no support is checked cost nothing per feature.
        """
        lag = it - self.t_base[targets]
        if not lag.any():
            return self.Xi[targets]
        Xi = self.Xi[targets] - lag[:, None].astype(self.Xi.dtype) * self.step_grad[targets]
        self.Xi[targets] = Xi
        self.t_base[targets] = it
        return Xi

    # -- iterations ----------------------------------------------------------------
    def run(self, max_iter, tol, halting, record_supports=False):
        T = self.Xi.shape[0]
        self.max_iter = max_iter
        self.curve = _Recorder((T,), self.data.dtype)
        self.supports = _Recorder((T, self.k), np.intp) if record_supports else None
        tol = None if tol is None else np.broadcast_to(np.asarray(tol, dtype=self.data.dtype), (T,))
        active = np.ones(T, dtype=bool)
        rows = slice(None)  # the active targets (a slice while all are, to avoid copies)
        next_check = 1  # first iteration at which some active support may change
        changed = self.targets
        for it in range(max_iter):
            if it >= next_check:
                changed = self._next_supports(rows, it)
                next_check = self.check_at[rows].min()
            self.curve.record(it, rows, self.loss[rows])
            if self.supports is not None:
                self.supports.record(it, rows, self.idx[rows])
            if changed.size:
                # with unchanged supports the loss repeats: no new best, no new halt on tol
                self._record_best(changed, it, halting)
            stop = self._stops(rows, changed, it, tol, halting)
            changed = self.targets[:0]
            if stop.size:
                self.n_iter[stop] = it + 1
                self._advance(stop, it + 1)
                active[stop] = False
                if not active.any():
                    return
                rows = np.flatnonzero(active)
                next_check = self.check_at[rows].min()
        self.n_iter[rows] = max_iter
        self._advance(self.targets[rows], max_iter)

    def _record_best(self, targets, it, halting):
        loss = self.loss[targets]
        improved = loss < self.best_loss[targets] - self.loss_floor[targets]
        if improved.any():
            t = targets[improved]
            self.best_loss[t] = loss[improved]
            self.best_idx[t] = self.idx[t]
            self.best_vals[t] = self.vals[t]
            self.best_iter[t] = it
        if halting is None:
            return
        if it > 0:
            self.changes_since_progress[targets] += 1
        progress = loss < (1 - halting.relative) * self.progress_loss[targets]
        self.progress_loss[targets[progress]] = loss[progress]
        self.progress_iter[targets[progress]] = it
        self.changes_since_progress[targets[progress]] = 0

    def _stops(self, rows, changed, it, tol, halting):
        """The targets among ``rows`` that halt after iteration ``it`` (sorted, unique)."""
        parts = []
        if changed.size:
            # zero gradient: Xi is frozen and every later iterate is the same
            parts.append(changed[self.max_step[changed] == 0])
            if tol is not None:
                reached = changed[self.loss[changed] <= tol[changed]]
                self.reached_tol[reached] = True
                parts.append(reached)
        if halting is not None and halting.count_changes:
            # the count only moves with the supports
            parts.append(changed[self.changes_since_progress[changed] >= halting.patience])
        elif halting is not None:
            progress_iter = self.progress_iter[rows]
            if it - progress_iter.min() >= halting.patience:
                parts.append(self.targets[rows][it - progress_iter >= halting.patience])
        parts = [part for part in parts if part.size]
        if not parts:
            return self.targets[:0]
        return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))

    def result(self, tol, eta):
        n_iter = self.n_iter
        converged = self.reached_tol | (self.max_step == 0) | np.array(tol is None)
        if tol is not None:
            # stopping for lack of progress is a halting rule too, not a failure
            converged |= n_iter < self.max_iter
        coef = self.data.scatter(self.best_idx, self.best_vals)
        support = np.zeros(coef.shape, dtype=bool)
        np.put_along_axis(support, self.best_idx, True, axis=1)
        curve = self.curve.array()
        extras = {
            "exploration": self.Xi,
            "loss_curve": [row[:n] for row, n in zip(curve, n_iter)],
            "best_iter": self.best_iter.copy(),
            "n_supports_explored": self.n_explored.copy(),
            "step_size": eta,
        }
        if self.supports is not None:
            extras["supports"] = self.supports.array()
        return SolverResult(coef=coef, n_iter=n_iter.copy(), converged=converged, support=support, extras=extras)


class _Halting:
    """Stop a target after ``patience`` iterations (or support changes, ``count_changes``) without
    its best squared residual decreasing by more than the fraction ``relative``."""

    def __init__(self, patience, relative, count_changes):
        self.patience, self.relative, self.count_changes = patience, relative, count_changes


class _Recorder:
    """Per-iteration values of every target, stored by blocks of iterations (never ``max_iter`` up front)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype
        self.blocks = []
        self.n_columns_asked = 0

    def record(self, it, rows, values):
        if it // _CURVE_BLOCK == len(self.blocks):
            T = self.shape[0]
            self.blocks.append(np.zeros((T, _CURVE_BLOCK) + self.shape[1:], dtype=self.dtype))
        self.blocks[-1][rows, it % _CURVE_BLOCK] = values
        self.n_columns_asked = it + 1

    def array(self):
        """Shape (n_targets, iterations recorded, ...)."""
        if not self.blocks:
            return np.zeros(self.shape[:1] + (0,) + self.shape[1:], dtype=self.dtype)
        return np.concatenate(self.blocks, axis=1)[:, : self.n_columns_asked]


class _RestrictedCholesky:
    r"""Cholesky factor :math:`L L^\top = G_{SS}` of one restricted Gram block, by LAPACK directly.

    For one small system this costs a few microseconds where the batched
    :func:`~skstexplore._core.lstsq.solve_gram_systems` pays its set-up. A
    factor whose smallest pivot falls below the cut-off of
    :func:`~skstexplore._core.lstsq.solve_gram_systems` is refused (None), so
    rank-deficient supports get the same minimum-norm solution either way.
    """

    def __init__(self, data, columns):
        self.data, self.columns = data, columns
        self.potrf, self.potrs = get_lapack_funcs(("potrf", "potrs"), dtype=data.dtype)
        self.rtol = _RANK_RTOL_FACTOR * np.finfo(data.dtype).eps

    def _regular(self, L, block):
        scale = max(float(np.max(np.diagonal(block))), np.finfo(L.dtype).tiny)
        return float(np.min(np.diagonal(L))) ** 2 > self.rtol * len(block) * scale

    def factor(self, support):
        block = self.columns.block(support[None])[0]
        L, info = self.potrf(block, lower=1, clean=1)
        if info != 0 or not self._regular(L, block):
            return None
        return L

    def solve(self, L, rhs):
        return self.potrs(L, rhs, lower=1)[0]
