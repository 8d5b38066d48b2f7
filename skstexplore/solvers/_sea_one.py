r"""SEA on one target: the iterations as events, scalar bookkeeping, preallocated buffers.

The path is the one of :class:`~skstexplore.solvers._sea_many.ManyTargetExplorer`
(same supports, same :math:`\Xi`, same stops); only the bookkeeping differs:

* iterations in which the support provably cannot change are skipped outright
  (nothing is done for them: the loss curve and the recorded supports are
  stored as runs of equal values and expanded at the end);
* when the gap :math:`\min_S |\Xi| - \max_{S^c} |\Xi|` closes, the new top-k
  is chosen among the few entries :math:`|\Xi_j| \ge \min_S |\Xi|` only
  (every other entry has k larger ones);
* a support's results are stored under the bytes of its sorted indices, in a
  dictionary kept in least-recently-used order;
* a new support costs the gather of the rows of :math:`G` of its indices
  that the last support solved did not have (about two, computed on demand),
  one k x k Cholesky factorisation and one gemv.

A few targets go through it one after the other (:func:`explore_each`),
sharing the Gram columns: this is faster than the array operations over all
targets, whose every iteration pays a few dozen calls however few targets
check their support, up to about 20 to 40 targets (``python
benchmarks/bench_sea.py --cases --few-targets``, one BLAS thread, medians
of 3: 0.32x and 0.44x of their time at 5 and 10 targets of 64 x 256,
k = 8, 0.42x and 0.61x at 250 x 1000, k = 25; 0.96x to 1.14x from 20 to
40 targets; 1.41x at 100).
"""

import numpy as np

from .._core.thresholding import largest_k
from ._sea_store import RestrictedCholesky, safe_iterations

# Gram rows computed beside the missing ones of a new support: the indices of largest |Xi| off it, the next to enter
PREFETCH = 16


class OneTargetExplorer:
    """Exploration of the single target of ``data`` (``data.n_targets == 1``)."""

    def __init__(self, data, columns, store_bytes, k, eta, exploration_init):
        self.data, self.columns, self.k, self.eta = data, columns, k, eta
        n, dtype = data.n_features, data.dtype
        self.Xi = np.zeros(n, dtype=dtype) if exploration_init is None else np.array(
            exploration_init[0], dtype=dtype)
        self.xty, self.y_sq = data.Xty[0], data.y_sq[0]
        self.eps = float(np.finfo(dtype).eps)
        self.loss_floor = 16 * k * self.eps * float(self.y_sq)
        entry_bytes = (n + k + 2) * np.dtype(dtype).itemsize + 200
        self.capacity = int(max(1, store_bytes // entry_bytes))
        self.store = {}
        self.visited = set()
        self.cholesky = RestrictedCholesky(data)
        self._buffer, self._magnitude = np.empty(n, dtype=dtype), np.empty(n, dtype=dtype)
        # k rows of G when they fit in the column budget, otherwise every support goes through X
        self.held = _HeldRows(columns, n, k, dtype) if columns.holds(k) else None
        self._coef_in_row = np.empty(k, dtype=dtype)
        self.t_base = 0
        self.check_at = 1
        self._prefetch = None  # (|Xi| is known from the first check on)
        self._move_to(largest_k(self.Xi[None], k)[0])
        self._prefetch = self._likely_entrants

    # -- one support ----------------------------------------------------------------
    def _move_to(self, idx):
        """Make ``idx`` (sorted) the current support: its results from the store, or solved."""
        key = idx.tobytes()
        entry = self.store.pop(key, None)
        if entry is None:
            entry = self._solve(idx)
            if len(self.store) >= self.capacity:
                del self.store[next(iter(self.store))]
            self.visited.add(key)
        self.store[key] = entry  # most recently used last
        self.idx = idx
        self.vals, self.step_grad, self.loss, self.drift = entry

    def _solve(self, S):
        rhs = self.xty.take(S)
        vals, grad = self._by_rows(S, rhs) if self.held is not None else self._through_x(S, rhs)
        loss = max(float(self.y_sq - vals @ rhs), 0.0)
        step_grad = self.eta * grad
        magnitude = np.abs(step_grad, out=self._buffer)
        drift = float(magnitude.max()) + float(magnitude.take(S).max())  # gap_drift of one row
        return vals, step_grad, loss, drift

    def _by_rows(self, S, rhs):
        r"""Coefficients and gradient :math:`G_{:,S} w_S - X^\top y` from the held rows of :math:`G`."""
        rows = self.held.rows
        position = self.held.positions(S, self._prefetch)
        vals = self.cholesky.solve_block(rows.take(S, axis=1).take(position, axis=0), rhs)  # G_SS, in the order of S
        coef = self._coef_in_row
        coef[position] = vals  # a permutation: every entry is set
        grad = coef @ rows
        grad -= self.xty
        return vals, grad

    def _through_x(self, S, rhs):
        r"""Coefficients and gradient :math:`X^\top (X_S w_S) - X^\top y`: :math:`O(k^2 + m k)` memory, no k x n rows."""
        X = self.data.X
        XS = X.take(S, axis=1)
        vals = self.cholesky.solve_block(XS.T @ XS, rhs)
        grad = (XS @ vals) @ X
        grad -= self.xty
        return vals, grad

    def _likely_entrants(self):
        r"""The ``k`` + :data:`PREFETCH` indices of largest :math:`|\Xi|`, as of the last check (the current
        support and the next to enter)."""
        A = self._magnitude
        top = min(self.k + PREFETCH, A.size)
        return np.argpartition(A, A.size - top)[A.size - top:]

    def _advance(self, it):
        r""":math:`\Xi^{it} = \Xi^{t_{base}} - (it - t_{base})\, \eta \nabla` (in place)."""
        lag = it - self.t_base
        if lag:
            np.multiply(self.step_grad, self.Xi.dtype.type(lag), out=self._buffer)
            np.subtract(self.Xi, self._buffer, out=self.Xi)
            self.t_base = it
        return self.Xi

    def _check(self, it):
        r"""Move the support to :math:`\mathrm{largest}_k(\Xi^{it})`; whether it changed.

        While :math:`\mathrm{lo} = \min_S |\Xi| > \mathrm{hi} = \max_{S^c} |\Xi|`
        the support stays; the next check is put where the gap may first close
        (:func:`~skstexplore.solvers._sea_store.safe_iterations`).
        """
        A = np.abs(self._advance(it), out=self._magnitude)
        S = self.idx
        on_support = A.take(S)
        lo = float(on_support.min())
        A.put(S, -1.0)
        hi = float(A.max())
        if lo > hi:
            self.check_at = it + 1 + safe_iterations(lo - hi, self.drift, max(hi, float(on_support.max())), self.eps)
            return False
        self.check_at = it + 1
        A.put(S, on_support)
        # the new top-k lies among the entries >= lo (any other has the k entries of S above it);
        # ties go to the lowest indices, as in largest_k
        candidates = np.flatnonzero(A >= lo)
        order = np.argsort(-A.take(candidates), kind="stable")[: self.k]
        idx = np.sort(candidates.take(order))
        if idx.tobytes() == S.tobytes():
            return False
        self._move_to(idx)
        return True

    # -- iterations -------------------------------------------------------------------
    def run(self, max_iter, tol, halting, record_supports=False):
        self.max_iter, self.reached_tol = max_iter, False
        self.best_loss, self.best_iter, self.best_idx, self.best_vals = np.inf, 0, self.idx, self.vals
        self.progress_loss, self.progress_iter, self.changes_since_progress = np.inf, 0, 0
        self.run_starts, self.run_losses = [], []
        self.run_supports = [] if record_supports else None
        tol = None if tol is None else float(np.asarray(tol).reshape(-1)[0])
        by_iterations = halting is not None and not halting.count_changes
        halt_at = max_iter
        it = 0
        changed = True
        while True:
            if changed and self._on_change(it, tol, halting):
                break
            if by_iterations:
                halt_at = self.progress_iter + halting.patience
                if it >= halt_at:
                    break
            it = min(self.check_at, halt_at, max_iter)
            if it >= max_iter:
                self.n_iter = max_iter
                self._advance(max_iter)
                return
            changed = it >= self.check_at and self._check(it)
        self.n_iter = it + 1
        self._advance(it + 1)

    def _on_change(self, it, tol, halting):
        """Bookkeeping of the new support met at ``it``; whether the target halts."""
        loss = self.loss
        self.run_starts.append(it)
        self.run_losses.append(loss)
        if self.run_supports is not None:
            self.run_supports.append(self.idx)
        if loss < self.best_loss - self.loss_floor:
            self.best_loss, self.best_iter, self.best_idx, self.best_vals = loss, it, self.idx, self.vals
        if halting is not None:
            if it > 0:
                self.changes_since_progress += 1
            if loss < (1 - halting.relative) * self.progress_loss:
                self.progress_loss, self.progress_iter, self.changes_since_progress = loss, it, 0
        if tol is not None and loss <= tol:
            self.reached_tol = True
            return True
        if self.drift == 0:  # zero gradient: Xi is frozen and every later iterate is the same
            return True
        if halting is None:
            return False
        if halting.exact_fit and self.best_loss <= self.loss_floor:
            return True
        return halting.count_changes and self.changes_since_progress >= halting.patience

    # -- what the solver returns --------------------------------------------------------
    def _expand(self, values):
        counts = np.diff(np.append(self.run_starts, self.n_iter))
        return np.repeat(np.asarray(values), counts, axis=0)

    def outputs(self):
        """The fields of the result, each with a leading axis of length 1 (one target)."""
        dtype = self.data.dtype
        out = {
            "best_idx": np.asarray(self.best_idx)[None],
            "best_vals": np.asarray(self.best_vals, dtype=dtype)[None],
            "n_iter": np.array([self.n_iter]),
            "reached_tol": np.array([self.reached_tol]),
            "stationary": np.array([self.drift == 0]),
            "exploration": self.Xi[None],
            "loss_curves": [self._expand(np.asarray(self.run_losses, dtype=dtype))],
            "best_iter": np.array([self.best_iter]),
            "n_explored": np.array([len(self.visited)]),
        }
        if self.run_supports is not None:
            out["supports"] = self._expand(np.array(self.run_supports))[None]
        return out


def explore_each(data, columns, store_bytes, k, eta, exploration_init, max_iter, tol, halting, record_supports):
    """:class:`OneTargetExplorer` on each target of ``data`` in turn, sharing ``columns``.

    Returns the outputs of all the targets, as
    :meth:`~skstexplore.solvers._sea_many.ManyTargetExplorer.outputs` gives
    them (the recorded supports of a target past its ``n_iter``: zero).
    """
    tols = None if tol is None else np.broadcast_to(np.asarray(tol), (data.n_targets,))
    outputs = []
    for t in range(data.n_targets):
        start = None if exploration_init is None else exploration_init[t:t + 1]
        explorer = OneTargetExplorer(data.target(t), columns, store_bytes, k, eta, start)
        explorer.run(max_iter, None if tols is None else tols[t], halting, record_supports)
        outputs.append(explorer.outputs())
    return _stacked(outputs)


def _stacked(outputs):
    """The outputs of one target each, as one output of all of them."""
    ragged = ("loss_curves", "supports")
    out = {key: np.concatenate([o[key] for o in outputs]) for key in outputs[0] if key not in ragged}
    out["loss_curves"] = [curve for o in outputs for curve in o["loss_curves"]]
    if "supports" in outputs[0]:
        n_iter, k = max(o["supports"].shape[1] for o in outputs), outputs[0]["supports"].shape[2]
        supports = np.zeros((len(outputs), n_iter, k), dtype=np.intp)
        for row, o in zip(supports, outputs):
            row[: o["supports"].shape[1]] = o["supports"][0]
        out["supports"] = supports
    return out


class _HeldRows:
    r"""Rows :math:`G_{j,:}` of the k indices of the last support solved, in one fixed buffer.

    Consecutive supports differ by about two indices (measured: 1.7 on
    average of k = 50 at 500 x 1000, 2.4 of k = 100 at 2000 x 10000), so a new
    support gathers only the rows of its indices not held, into the rows of
    the indices it dropped, instead of k rows: the buffer is in no particular
    order and :meth:`positions` says where each index of a support is.
    """

    def __init__(self, columns, n_features, k, dtype):
        self.columns = columns
        self.rows = np.empty((k, n_features), dtype=dtype)
        self.index = np.full(k, -1, dtype=np.intp)  # index held by each row, -1: none
        self.row_of = np.full(n_features, -1, dtype=np.intp)

    def positions(self, support, likely=None):
        """The row holding each index of ``support``, after loading the missing ones (``likely``: see
        :meth:`~skstexplore._core.gram_columns.GramColumns.support_rows`)."""
        position = self.row_of.take(support)
        missing = position < 0
        if missing.any():
            in_use = np.zeros(len(self.index), dtype=bool)
            in_use[position[~missing]] = True
            free = np.flatnonzero(~in_use)  # as many as missing: the support has k indices
            dropped = self.index[free]
            self.row_of[dropped[dropped >= 0]] = -1
            new = support[missing]
            self.rows[free] = self.columns.support_rows(new, likely=likely)
            self.index[free] = new
            self.row_of[new] = free
            position[missing] = free
        return position
