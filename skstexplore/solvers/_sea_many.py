r"""SEA on many targets at once: the iterations of all targets as array operations.

Support checks, top-k re-selection of the targets whose gap closed,
best-iterate and halting bookkeeping and store look-ups (by 64-bit support
hashes) run over all targets together; the targets that meet new supports in
the same iteration share one batched restricted solve when they are many.

Most iterations revisit supports already solved (the targets cycle among a few
dozen), so the cost is that of the checks: a check of a target is a few passes
over its n entries (:math:`\Xi` brought up to date from its stored value and
its support's step, read from the store where it lies, never copied at a
support change; then :math:`\min_S |\Xi|` and the two largest entries off
:math:`S`), made by blocks of targets whose rows stay in cache through these
passes. A target whose gap closed usually has one entry off its support at
least :math:`\min_S |\Xi|`, which is swapped in; one with several picks its
new top-k among its entries :math:`|\Xi_j| \ge \min_S |\Xi|` only.
"""

import numpy as np

from .._core.lstsq import solve_gram_systems
from .._core.memory import row_blocks
from .._core.thresholding import largest_k
from ._sea_store import RestrictedCholesky, SupportHasher, gap_drift, safe_iterations
from ._sea_topk import flat_index, off_support_largest, swap_in, top_k_above

# Fewer targets than this meeting new supports in one iteration are solved
# one by one (LAPACK directly), more in one batched solve.
_BATCH_MIN_TARGETS = 8

# Rows of Xi gone through at once by a support check (they stay in a core's cache).
_SCAN_BYTES = 2**19

# Iterations stored at once in the loss curve (it grows by blocks, never to max_iter up front).
_CURVE_BLOCK = 256


class ManyTargetExplorer:
    """State of the exploration of every target: current and best support, stores."""

    def __init__(self, data, columns, store, k, eta, exploration_init):
        self.data, self.columns, self.store, self.k, self.eta = data, columns, store, k, eta
        T, n = data.n_targets, data.n_features
        self.Xi = np.zeros((T, n), dtype=data.dtype) if exploration_init is None else np.array(
            exploration_init, dtype=data.dtype, order="C"  # rows are gathered: a Fortran start would cost strides
        )
        self.hasher = SupportHasher(n, T)
        self.targets = np.arange(T)
        # current support of each target and what it gives
        self.idx = largest_k(self.Xi, k)
        self.keys = self.hasher.keys(self.idx, self.targets)
        self.vals = np.zeros((T, k), dtype=data.dtype)
        # the step eta * gradient of each target's support: the store's row ``slot`` (no copy per
        # support change), or where that is -1 (its entry was replaced or never stored), its own row
        self.slot = np.full(T, -1, dtype=np.intp)
        self.step_grad = np.zeros((T, n), dtype=data.dtype)
        self.loss = np.zeros(T, dtype=data.dtype)
        self.drift = np.zeros(T, dtype=data.dtype)  # see gap_drift; 0: stationary
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
        self.cholesky = RestrictedCholesky(data)
        self.eps = np.finfo(data.dtype).eps
        self._evaluate(self.targets)

    # -- one support per target -------------------------------------------------
    def _evaluate(self, targets):
        """Look the current supports of ``targets`` up in the store; solve the misses together."""
        keys = self.keys[targets]
        slots = self.store.lookup(keys)
        hit = slots >= 0
        if hit.any():
            t, s = targets[hit], slots[hit]
            self.vals[t], self.slot[t] = self.store.values[s], s
            self.loss[t], self.drift[t] = self.store.loss[s], self.store.drift[s]
        if not hit.all():
            self._solve(targets[~hit], keys[~hit])

    def _solve(self, targets, keys):
        """Least squares, gradient and residual on the (new) supports of ``targets``.

        From the Gram columns of the supports when they fit in the column
        store, otherwise through ``X`` (:meth:`_solve_through_x`); both give
        the same results up to rounding.
        """
        idx = self.idx[targets]
        xty = self.data.Xty[targets]
        rhs = xty.reshape(-1).take(flat_index(idx, xty.shape[1]))  # X_S^T y
        if not self.columns.holds(self.k):
            vals, grad = self._solve_through_x(idx, xty, rhs)
        elif self.columns.fetch(idx):
            vals, grad = self._solve_by_columns(idx, xty, rhs)
        else:
            # more distinct indices than the column store holds (one support fits): in parts that fit
            part = max(1, len(targets) // 2)
            for start in range(0, len(targets), part):
                self._solve(targets[start : start + part], keys[start : start + part])
            return
        loss = np.maximum(self.data.y_sq[targets] - np.einsum("tk,tk->t", vals, rhs), 0)
        step_grad = self.eta * grad
        drift = gap_drift(step_grad, idx)
        slots = self.store.insert(keys, vals, step_grad, loss, drift, on_evict=self._release)
        unstored = len(targets) - len(slots)  # the first ones, when not all fit
        self.slot[targets[unstored:]], self.slot[targets[:unstored]] = slots, -1
        self.step_grad[targets[:unstored]] = step_grad[:unstored]
        self.vals[targets], self.loss[targets], self.drift[targets] = vals, loss, drift
        visited, keys = self.visited, keys.tolist()
        new = ~np.fromiter(map(visited.__contains__, keys), dtype=bool, count=len(keys))
        visited.update(keys)
        self.n_explored[targets[new]] += 1  # targets are distinct

    def _solve_by_columns(self, idx, xty, rhs):
        r"""Coefficients and gradient :math:`G_{:,S} w_S - X^\top y` from the fetched columns.

        The k x k blocks are gathered by blocks of targets of at most
        ``BLOCK_BYTES`` (never one stack for every target at once).
        """
        vals = np.empty_like(rhs)
        batched = len(idx) >= _BATCH_MIN_TARGETS
        for rows in row_blocks(len(idx), self.k * self.k * rhs.itemsize):
            vals[rows] = self._restricted_solve(self.columns.block(idx[rows]), rhs[rows], batched)
        return vals, self.columns.times(idx, vals) - xty

    def _solve_through_x(self, idx, xty, rhs):
        r"""Coefficients and gradient :math:`X^\top (X_S w_S) - X^\top y` without Gram columns.

        For supports whose k columns of :math:`G` exceed the column budget:
        per block of targets, :math:`X_S` (m x k), :math:`G_{SS} = X_S^\top
        X_S`, the restricted solve and one product of the fitted values with
        ``X``; memory :math:`O(k^2 + m k)` per target of a block, no k x n array.
        """
        X = self.data.X
        vals, grad = np.empty_like(rhs), np.empty((len(idx), X.shape[1]), dtype=rhs.dtype)
        batched = len(idx) >= _BATCH_MIN_TARGETS
        m, k = X.shape[0], self.k
        for rows in row_blocks(len(idx), (2 * m * k + k * k) * rhs.itemsize):
            XS = np.moveaxis(X[:, idx[rows]], 1, 0)  # (targets, m, k)
            vals[rows] = self._restricted_solve(np.swapaxes(XS, 1, 2) @ XS, rhs[rows], batched)
            fitted = (XS @ vals[rows][:, :, None])[:, :, 0]
            grad[rows] = fitted @ X
        grad -= xty
        return vals, grad

    def _restricted_solve(self, blocks, rhs, batched):
        """Least squares from the stacked :math:`G_{SS}`: one batched solve, or one by one through LAPACK."""
        if batched:
            return solve_gram_systems(blocks, rhs)
        return np.array([self.cholesky.solve_block(block, b) for block, b in zip(blocks, rhs)]).reshape(rhs.shape)

    def _next_supports(self, rows, it):
        r"""Move the supports of ``rows`` to :math:`\mathrm{largest}_k(\Xi)`; the targets whose support changed.

        A support is still the top-k while :math:`\mathrm{lo} = \min_S |\Xi| >
        \mathrm{hi} = \max_{S^c} |\Xi|`; the checks are skipped while the gap
        provably cannot close (:func:`~skstexplore.solvers._sea_store.safe_iterations`).
        A target whose gap closed takes in its largest entry off the support
        (:func:`~skstexplore.solvers._sea_topk.swap_in`), or when it has several entries
        :math:`|\Xi_j| \ge \mathrm{lo}` off the support, its new top-k among
        its entries :math:`\ge \mathrm{lo}` (:func:`~skstexplore.solvers._sea_topk.top_k_above`).
        """
        due = self.check_at[rows] <= it
        targets = self.targets[rows] if due.all() else self.targets[rows][due]
        idx = self.idx[targets]
        A, on_support, hi, first, second = self._scan(targets, idx, it)
        lo = on_support.min(axis=1)
        gap = lo - hi
        kept = gap > 0
        check_at = np.full(len(targets), it + 1)
        if kept.any():
            largest = np.maximum(hi[kept], on_support[kept].max(axis=1))
            check_at[kept] += safe_iterations(gap[kept], self.drift[targets[kept]], largest, self.eps)
        self.check_at[targets] = check_at
        if kept.all():
            return targets[:0]
        # a row whose gap is open keeps its support; one with an entry off it at least lo (usually one):
        # that entry swapped in; with several: a selection among them
        new_idx = swap_in(on_support, idx, lo, hi, first)
        several = np.flatnonzero(second >= lo)
        if several.size:
            new_idx[several] = self._select(A, several, on_support, idx, lo, hi, first)
        differs = np.any(new_idx != idx, axis=1)
        changed = targets[differs]
        if changed.size:
            self.idx[changed] = new_idx[differs]
            self.keys[changed] = self.hasher.keys(self.idx[changed], changed)
            self._evaluate(changed)
        return changed

    def _scan(self, targets, idx, it):
        r""":math:`|\Xi^{it}|` of ``targets`` and :func:`~skstexplore.solvers._sea_topk.off_support_largest` of it.

        By blocks of rows that stay in cache through the passes over them
        (bringing :math:`\Xi` up to date, magnitudes, largest entries).
        """
        A = np.empty((len(targets), self.Xi.shape[1]), dtype=self.Xi.dtype)
        on_support = np.empty(idx.shape, dtype=A.dtype)
        hi, second = np.empty(len(targets), dtype=A.dtype), np.empty(len(targets), dtype=A.dtype)
        first = np.empty(len(targets), dtype=np.intp)
        for rows in row_blocks(len(targets), A.shape[1] * A.itemsize, _SCAN_BYTES):
            block = self._advance(targets[rows], it, out=A[rows])
            np.abs(block, out=block)
            on_support[rows], hi[rows], first[rows], second[rows] = off_support_largest(block, idx[rows])
        return A, on_support, hi, first, second

    def _select(self, A, rows, on_support, idx, lo, hi, first):
        """:func:`~skstexplore.solvers._sea_topk.top_k_above` of the rows ``rows`` of ``A``.

        Their entries overwritten by :func:`~skstexplore.solvers._sea_topk.off_support_largest` put back.
        """
        A = A[rows]
        A_flat = A.reshape(-1)
        A_flat.put(flat_index(idx[rows], A.shape[1]), on_support[rows])
        A_flat.put(flat_index(first[rows], A.shape[1]), hi[rows])
        return top_k_above(A, lo[rows], self.k)

    def _advance(self, targets, it, out=None):
        r""":math:`\Xi^{it}` of ``targets`` (stored, and returned as a copy, in ``out`` when given).

        While its support is unchanged a target's :math:`\Xi` moves by the same
        step every iteration, so it is stored at the iteration ``t_base`` of
        its last check and brought up to date only when looked at:
        :math:`\Xi^{it} = \Xi^{t_{base}} - (it - t_{base})\, \eta \nabla`.
        Iterations in which no support is checked cost nothing per feature.
        """
        Xi = self.Xi.take(targets, axis=0, out=out, mode="clip")
        lag = it - self.t_base[targets]
        if not lag.any():
            return Xi
        moves = self._steps(targets)
        scaled = lag != 1  # most targets are checked again the next iteration: their step is used as is
        if scaled.any():
            moves[scaled] *= lag[scaled, None].astype(self.Xi.dtype)
        Xi -= moves
        self.Xi[targets] = Xi
        self.t_base[targets] = it
        return Xi

    def _steps(self, targets):
        """The steps of the supports of ``targets`` (a copy), from the store or their own rows."""
        slot = self.slot[targets]
        steps = self.store.steps.take(slot, axis=0, mode="clip")
        own = slot < 0
        if own.any():
            steps[own] = self.step_grad[targets[own]]
        return steps

    def _release(self, victims):
        """Before the store replaces the entries ``victims``: the targets on them keep their own copy of the step."""
        replaced = np.zeros(len(self.store.steps) + 1, dtype=bool)  # the last entry: slot -1
        replaced[victims] = True
        owners = np.flatnonzero(replaced[self.slot])
        if owners.size:
            self.step_grad[owners] = self.store.steps[self.slot[owners]]
            self.slot[owners] = -1

    # -- iterations ----------------------------------------------------------------
    def run(self, max_iter, tol, halting, record_supports=False):
        T = self.Xi.shape[0]
        self.max_iter = max_iter
        self.curve = Recorder((T,), self.data.dtype)
        self.supports = Recorder((T, self.k), np.intp) if record_supports else None
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
            parts.append(changed[self.drift[changed] == 0])
            if tol is not None:
                reached = changed[self.loss[changed] <= tol[changed]]
                self.reached_tol[reached] = True
                parts.append(reached)
        if halting is not None and halting.count_changes:
            # the count only moves with the supports
            parts.append(changed[self.changes_since_progress[changed] >= halting.patience])
        if halting is not None and halting.exact_fit:
            parts.append(changed[self.best_loss[changed] <= self.loss_floor[changed]])
        elif halting is not None:
            progress_iter = self.progress_iter[rows]
            if it - progress_iter.min() >= halting.patience:
                parts.append(self.targets[rows][it - progress_iter >= halting.patience])
        parts = [part for part in parts if part.size]
        if not parts:
            return self.targets[:0]
        return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))

    def outputs(self):
        """The fields of the result, one row per target."""
        curve = self.curve.array()
        out = {
            "best_idx": self.best_idx,
            "best_vals": self.best_vals,
            "n_iter": self.n_iter.copy(),
            "reached_tol": self.reached_tol,
            "stationary": self.drift == 0,
            "exploration": self.Xi,
            "loss_curves": [row[:n] for row, n in zip(curve, self.n_iter)],
            "best_iter": self.best_iter.copy(),
            "n_explored": self.n_explored.copy(),
        }
        if self.supports is not None:
            out["supports"] = self.supports.array()
        return out


class Recorder:
    """Per-iteration values of every target, stored by blocks of iterations (never ``max_iter`` up front).

    A block holds one row per iteration, so that recording an iteration
    writes contiguous memory (not one value per target's row).
    """

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype
        self.blocks = []
        self.n_columns_asked = 0

    def record(self, it, rows, values):
        if it // _CURVE_BLOCK == len(self.blocks):
            self.blocks.append(np.zeros((_CURVE_BLOCK,) + self.shape, dtype=self.dtype))
        self.blocks[-1][it % _CURVE_BLOCK, rows] = values
        self.n_columns_asked = it + 1

    def array(self):
        """Shape (n_targets, iterations recorded, ...)."""
        out = np.empty(self.shape[:1] + (self.n_columns_asked,) + self.shape[1:], dtype=self.dtype)
        for start, block in zip(range(0, self.n_columns_asked, _CURVE_BLOCK), self.blocks):
            stop = min(start + _CURVE_BLOCK, self.n_columns_asked)
            out[:, start:stop] = np.swapaxes(block[: stop - start], 0, 1)
        return out
