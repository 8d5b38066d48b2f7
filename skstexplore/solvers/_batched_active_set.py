r"""The active-set method's steps for many targets at once (see :mod:`.active_set`).

Each live target keeps its support compactly, as ``idx`` (its features) and
``val`` (their values; zero for padding and for a coordinate that left), rows
of ``(R, K)`` arrays with ``K`` the largest support. Only the gradient (a
sparse product through the supports) and the search for violators (one pass
for :math:`|g|`, one arg-max per feature added) look at all ``m`` features;
the guess, the solves and the line search work on ``(R, K)`` arrays. A step:

1. :math:`g = W G - C` and the optimality test on the rows optimal on their
   support (:func:`_optimal_rows`);
2. the guess: the support plus the ``k`` worst violators of each row
   (:func:`top_violators`) with the sign that decreases :math:`q`,
   compacted to the left;
3. :math:`G_{AA} z = c_A - \lambda\theta_A` in groups of similar sizes and the
   exact line search on :math:`[w, z]` (:func:`solve_and_search`).

Where :math:`z` breaks its guessed signs, :func:`solve_and_search` solves
once more without the coordinates that broke them and takes that solution
:math:`z'` when it keeps its signs and lowers :math:`q`: one full step where
the line search would stop at a kink and need a second step to re-solve.
Where ``w`` is optimal on its support ``S`` and only added features broke
their signs, :math:`z'` on :math:`S \cup N'` (``N'`` the added features that
kept theirs) minimises the quadratic :math:`q_\theta` that equals :math:`q`
on the signs :math:`\theta`, so :math:`q(z') = q_\theta(z') < q_\theta(w) =
q(w)` (``w`` is not stationary for :math:`q_\theta`: the added features
violate the conditions at ``w``); elsewhere the test decides, from
:math:`q(z') = -\tfrac12 z'^\top (c - \lambda\theta)` and :math:`q(w) =
\tfrac12 w^\top (g - c) + \lambda\|w\|_1`. Every step lowers :math:`q`, and a
step ending with the guessed signs lands on the minimiser of :math:`q` on its
support and signs, so no such point repeats and the method ends.
"""

import numpy as np
from scipy.sparse import csr_matrix

from .._core.memory import row_blocks
from ._line_search import line_search
from ._restricted import SOLVE_TEMPORARIES, solve_psd_systems

# (m,) arrays per target alive at once in a batched step: the gradient, the correlations it subtracts, the
# violations and the copy the search for violators consumes.
STEP_TEMPORARIES = 4
# Top violators are found by repeated arg-max (one pass over the row per feature added, sorted as they come) up
# to this many, beyond by a partition and a sort.
_ARGMAX_ADDITIONS = 32
# Fewest rows of a batched solve: smaller groups of support sizes join the next larger.
_MIN_GROUP_ROWS = 16


class State:
    """Per-target bookkeeping: whether optimal on its support, how many features to add next."""

    def __init__(self, n_targets):
        self.polished = np.zeros(n_targets, dtype=bool)
        self.k_add = np.ones(n_targets, dtype=int)
        self.n_steps = np.zeros(n_targets, dtype=int)
        self.converged = np.zeros(n_targets, dtype=bool)
        self.stalled = np.zeros(n_targets, dtype=bool)

    def update(self, rows, t, consistent, k):
        full = (t == 1.0) & consistent
        moved = t > 0
        # a failed addition of one feature from an optimal support is rounding: the target is done
        self.stalled[rows[~moved & (k == 1)]] = True
        self.polished[rows] = np.where(moved, full, self.polished[rows] | (k == 0))
        grown = np.where(full, 2 * k, np.maximum(k // 2, 1))
        # a re-solve on the support (k = 0) keeps the pace of additions
        self.k_add[rows] = np.where((k > 0) & (moved | (k > 1)), grown, self.k_add[rows])


def batched_steps(G, C, penalty, W, block, state, positive, max_steps, rtol, slack, allowed=None):
    """The batched steps for the targets of the slice ``block`` until each is optimal, stalled or out of
    steps (in place in ``W`` and ``state``); a target adds only the features ``allowed`` to it (a row of
    ``allowed`` per target of the block; all if None)."""
    live = np.arange(block.start, block.stop)
    idx, val, _ = compact_rows(W[block] != 0, np.broadcast_to(np.arange(W.shape[1]), (live.size, W.shape[1])),
                               W[block])
    threshold = penalty * (1.0 + rtol)
    while live.size:
        grad = gradient(idx, val, G, C, live, W)
        in_support = val != 0
        violation = -grad if positive else np.abs(grad)
        rows, cols = np.nonzero(in_support)
        violation[rows, idx[rows, cols]] = -np.inf
        if allowed is not None:
            violation[~allowed[live - block.start]] = -np.inf
        optimal = _optimal_rows(grad, violation, idx, val, state.polished[live], penalty, threshold, slack)
        state.converged[live[optimal]] = True
        go = np.flatnonzero(~optimal & (state.n_steps[live] < max_steps) & ~state.stalled[live])
        if not go.size:
            break
        live, idx, val, in_support = live[go], idx[go], val[go], in_support[go]
        # additions at most double the support (k doubles after each full step, also where fewer violated)
        k = np.where(state.polished[live], np.minimum(state.k_add[live], in_support.sum(axis=1) + 1), 0)
        top, added = top_violators(violation, go, k, threshold)
        del violation
        A_idx, w_A, is_new, valid = compact_rows(np.concatenate([in_support, added], axis=1),
                                                 np.concatenate([idx, top], axis=1),
                                                 np.concatenate([val, np.zeros(top.shape)], axis=1),
                                                 np.concatenate([np.zeros(idx.shape, dtype=bool), added], axis=1))
        theta = _signs(w_A, is_new & valid, grad, go, A_idx, positive)
        grad_A = np.where(valid, grad[go[:, None], A_idx], 0.0)
        del grad
        C_A = np.where(valid, C[live[:, None], A_idx], 0.0)
        t, new, consistent, singular = solve_and_search(G, A_idx, valid, C_A, w_A, grad_A, theta, penalty, positive)
        new[singular] = w_A[singular]  # left to the one-target method, unchanged
        new[~valid] = 0.0
        rows, cols = np.nonzero(valid)
        W[live[rows], A_idx[rows, cols]] = new[rows, cols]
        idx, val = A_idx, new
        state.n_steps[live] += 1
        state.update(live, t, consistent, k)
        state.stalled[live[singular]] = True


def gradient(idx, val, G, C, live, W):
    r""":math:`W G - C` on the rows ``live`` (rows :math:`G w - c`), through the supports ``idx, val`` (the
    nonzeros of ``W[live]``) when they are few."""
    nonzero = val != 0
    count = nonzero.sum(axis=1)
    rows = _as_slice(live)
    if 4 * int(count.sum()) >= live.size * G.shape[0]:
        grad = W[rows] @ G
    else:
        indptr = np.concatenate([[0], np.cumsum(count)])
        grad = csr_matrix((val[nonzero], idx[nonzero], indptr), shape=(live.size, G.shape[0])) @ G
    grad -= C[rows]
    return grad


def _as_slice(rows):
    """Increasing ``rows`` as a slice when consecutive (a view instead of a gathered copy)."""
    return slice(rows[0], rows[-1] + 1) if rows.size and rows[-1] - rows[0] + 1 == rows.size else rows


def _optimal_rows(grad, violation, idx, val, polished, penalty, threshold, slack):
    r"""Whether each row is optimal: no violation above ``threshold`` outside its support and
    :math:`g_S = -\lambda\,\mathrm{sign}(w_S)` to the tolerance. Only rows optimal on their support
    (``polished``, a full step) can be."""
    optimal = np.zeros(polished.size, dtype=bool)
    check = np.flatnonzero(polished)
    if check.size:
        values = val[check]
        residual = np.abs(grad[check[:, None], idx[check]] + penalty * np.sign(values), where=values != 0,
                          out=np.zeros(values.shape))
        bound = slack[0] + slack[1] * np.maximum(1.0, np.abs(values).sum(axis=1))
        optimal[check] = (violation[check].max(axis=1) <= threshold) & (residual.max(axis=1) <= bound)
    return optimal


def top_violators(violation, rows, k, threshold):
    """The ``k[i]`` features of largest violation above ``threshold`` of each row ``rows[i]``, most violating
    first: indices ``(len(rows), max k)`` and whether each entry is one."""
    k_max = min(int(k.max(initial=0)), violation.shape[1])
    top, added = np.zeros((rows.size, k_max), dtype=int), np.zeros((rows.size, k_max), dtype=bool)
    adding = np.flatnonzero(k > 0)
    if not adding.size:
        return top, added
    part = violation[rows[adding]]
    if k_max <= _ARGMAX_ADDITIONS:
        at = np.arange(adding.size)
        for i in range(k_max):
            best = np.argmax(part, axis=1)
            found = (part[at, best] > threshold) & (k[adding] > i)
            if not found.any():  # the next ones violate less
                break
            top[adding, i], added[adding, i] = best, found
            part[at, best] = -np.inf
    else:
        order = np.argpartition(-part, k_max - 1, axis=1)[:, :k_max]
        order = np.take_along_axis(order, np.argsort(-np.take_along_axis(part, order, axis=1), axis=1,
                                                     kind="stable"), axis=1)
        top[adding] = order
        added[adding] = (np.arange(k_max) < k[adding, None]) & (np.take_along_axis(part, order, axis=1) > threshold)
    return top, added


def _signs(w_A, is_new, grad, grad_rows, A_idx, positive):
    """The guessed signs: the support's own, and for an added feature the one that decreases :math:`q`."""
    theta = np.sign(w_A)
    rows, cols = np.nonzero(is_new)
    theta[rows, cols] = 1.0 if positive else -np.sign(grad[grad_rows[rows], A_idx[rows, cols]])
    return theta


def compact_rows(mask, *arrays):
    """The entries of each row of ``arrays`` where ``mask`` holds, moved to the left (in order) and cut to
    the widest row (zeros past a row's count), then the new mask."""
    count = mask.sum(axis=1)
    K = max(int(count.max(initial=0)), 1)
    if mask.shape[1] == K and mask.all():
        return (*arrays, mask)
    rows, cols = np.nonzero(mask)  # row by row
    position = np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count)
    compact = []
    for a in arrays:
        out = np.zeros((mask.shape[0], K), dtype=a.dtype)
        out[rows, position] = a[rows, cols]
        compact.append(out)
    return (*compact, np.arange(K) < count[:, None])


def solve_and_search(G, idx, valid, C_A, w_A, grad_A, theta, penalty, positive):
    r"""Solve on each row's guessed support ``idx[valid]``, then the exact line search on :math:`[w, z]`.

    Where :math:`z` breaks the guessed signs, the solve is repeated without
    the coordinates that broke them, and its solution taken when it keeps its
    signs and lowers :math:`q` (module docstring). Returns the step length
    ``t`` in :math:`[0, 1]`, the new values, whether the step ends on a
    solution with the guessed signs (a point optimal on its support) and
    whether the block was singular.
    """
    rhs = np.where(valid, C_A - penalty * theta, 0.0)
    z, singular = _solve_padded(G, idx, valid, valid.sum(axis=1), rhs)
    wrong = _wrong_signs(z, theta, valid, positive)
    consistent = ~wrong.any(axis=1)
    retry = np.flatnonzero(~consistent & ~singular & (valid & ~wrong).any(axis=1))
    if retry.size:
        keep = valid[retry] & ~wrong[retry]
        z_kept, singular_kept = _solve_masked(G, idx[retry], keep, rhs[retry])
        # q(z') = -z'.rhs / 2 where G z' = rhs on its support and the signs hold; q(w) through g = G w - c
        w = w_A[retry]
        q_w = 0.5 * np.einsum("ri,ri->r", w, grad_A[retry] - C_A[retry]) + penalty * np.abs(w).sum(axis=1)
        q_kept = -0.5 * np.einsum("ri,ri->r", z_kept, rhs[retry])
        ok = ~singular_kept & ~_wrong_signs(z_kept, theta[retry], keep, positive).any(axis=1) & (q_kept < q_w)
        z[retry[ok]] = z_kept[ok]
        consistent[retry[ok]] = True
    d = z - w_A
    t, at_zero = line_search(grad_A, theta, w_A, d, penalty, positive)
    # z with the guessed signs minimises q on the support: the step is 1 exactly (not a rounded root)
    t[consistent] = 1.0
    at_zero[consistent] = False
    new = np.where(t[:, None] == 1.0, z, w_A + t[:, None] * d)
    new[at_zero] = 0.0
    return t, new, consistent, singular


def _wrong_signs(z, theta, valid, positive):
    """Coordinates of ``z`` against their guessed signs ``theta`` (or negative, with ``positive``)."""
    wrong = valid & (theta * z < 0)
    return wrong | (valid & (z < 0)) if positive else wrong


def _solve_masked(G, idx, valid, rhs):
    """:func:`_solve_padded` for supports ``idx[valid]`` not compacted to the left; ``z`` in ``idx``'s layout,
    zero off ``valid``."""
    order = np.argsort(~valid, axis=1, kind="stable")
    size = valid.sum(axis=1)
    K = max(int(size.max(initial=0)), 1)
    on = np.arange(K) < size[:, None]
    z_on, singular = _solve_padded(G, np.take_along_axis(idx, order[:, :K], axis=1), on, size,
                                   np.where(on, np.take_along_axis(rhs, order[:, :K], axis=1), 0.0))
    z = np.zeros(rhs.shape)
    np.put_along_axis(z, order[:, :K], np.where(on, z_on, 0.0), axis=1)
    return z, singular


def _solve_padded(G, idx, valid, size, rhs):
    """Solve every row's system :math:`G_{AA} z = b` (``idx[valid]`` compacted to the left), in groups of similar
    support sizes (:func:`_size_groups`).

    Each group is padded (identity rows) to its largest support only: one
    batched factorisation costs the cube of the padded size. A group is
    solved in blocks of rows whose ``(K, K)`` systems (the gathered blocks,
    their factors and the solver's copy) fit in ``BLOCK_BYTES``.
    """
    z, singular = np.zeros_like(rhs), np.zeros(rhs.shape[0], dtype=bool)
    m = G.shape[0]
    # one flat gather is cheaper than indexing G by two index arrays (G is C-contiguous from the batched steps)
    flat = G.reshape(-1) if G.flags.c_contiguous else None
    for in_group, K in _size_groups(size):
        for part in row_blocks(in_group.size, SOLVE_TEMPORARIES * K * K * G.itemsize):
            rows = in_group[part]
            sub_idx, sub_valid = idx[rows, :K], valid[rows, :K]
            if flat is None:
                block = G[sub_idx[:, :, None], sub_idx[:, None, :]]
            else:
                block = np.take(flat, sub_idx[:, :, None] * m + sub_idx[:, None, :])
            if not sub_valid.all():  # identity on the padding
                on = sub_valid.astype(G.dtype)
                block *= on[:, :, None]
                block *= on[:, None, :]
                block[:, np.arange(K), np.arange(K)] += 1.0 - on
            z[rows, :K], singular[rows] = solve_psd_systems(block, rhs[rows, :K], return_singular=True)
    return z, singular


def _size_groups(size):
    """Rows in groups of support sizes within a factor :math:`\\sqrt 2`, a group of fewer than
    ``_MIN_GROUP_ROWS`` rows joined to the next larger one (a batched call costs more than some padding); yields
    each group's rows and largest size."""
    group = np.ceil(2 * np.log2(np.maximum(size, 1))).astype(int)
    labels, counts = np.unique(group, return_counts=True)
    low, pending = labels[0], 0
    for position, (label, count) in enumerate(zip(labels, counts)):
        pending += count
        if pending < _MIN_GROUP_ROWS and position + 1 < labels.size:
            continue
        rows = np.flatnonzero((group >= low) & (group <= label))
        yield rows, max(int(size[rows].max()), 1)
        pending = 0
        if position + 1 < labels.size:
            low = labels[position + 1]


def dense_guess(W, grad, support, violation, k, positive):
    """Support guess (the support plus the ``k`` worst violators of each row, ``violation > 0``) and its
    signs, as dense ``(n_rows, m)`` arrays."""
    member = support.copy()
    top, added = top_violators(violation, np.arange(W.shape[0]), k, 0.0)
    rows = np.broadcast_to(np.arange(W.shape[0])[:, None], top.shape)
    member[rows[added], top[added]] = True
    theta = np.where(support, np.sign(W), 1.0 if positive else -np.sign(grad))
    return member, np.where(member, theta, 0.0)


def dense_step(G, C, W, grad, member, theta, penalty, positive):
    r""":func:`solve_and_search` on dense ``(n_rows, m)`` arrays: the guessed supports ``member`` and signs
    ``theta``. Returns ``t``, the new rows, whether :math:`z` had the guessed signs and whether the block was
    singular."""
    columns = np.broadcast_to(np.arange(W.shape[1]), W.shape)
    idx, valid = compact_rows(member, columns)

    def on_support(a):
        return np.where(valid, np.take_along_axis(a, idx, axis=1), 0.0)

    t, new, consistent, singular = solve_and_search(G, idx, valid, on_support(C), on_support(W), on_support(grad),
                                                    on_support(theta), penalty, positive)
    W_new = W.copy()
    rows, cols = np.nonzero(valid)
    W_new[rows, idx[rows, cols]] = new[rows, cols]
    return t, W_new, consistent, singular
