r"""Each target's working set for :func:`~skstexplore.solvers.working_set.working_set_lasso`."""

import numpy as np

# Fewest new features in a working set (the first working set's size).
_MIN_WORKING_SET = 20


def working_sets(design, support, XtR, gap, alpha, n_samples, positive):
    r"""Each target's working set: ``order[t, :size[t]]`` (feature indices, in no particular order).

    ``support`` is ``W != 0``. A target's working set is its support and the
    unscreened features closest to violating the optimality conditions, by
    :math:`1 - \rho_j` (largest correlations first, the order in which
    features enter along the regularisation path), as many as it has
    violators, at least ``_MIN_WORKING_SET`` and at most as many as its
    support has. A feature is screened when
    :math:`\rho_j + \|x_j\| R < 1`, i.e. when its gap-safe score
    :math:`(1 - \rho_j)/\|x_j\|` (the distance of the dual point to its
    constraint) exceeds the radius :math:`R`; its rank is then infinite, so
    that the best ``size`` features are all unscreened. (Ranked by the score
    itself, as celer does, a sparse design's many short columns, whose
    scores are large whatever their correlations, cost an outer iteration
    more: 5 instead of 4 on the sparse case of ``benchmarks/bench_lasso.py``,
    and 19 instead of 13 on a dense design with columns of unequal norms;
    the same on equal norms.) Besides ``XtR`` this holds two
    ``(n_targets, n_features)`` float arrays and a boolean one at a time.
    """
    rho = np.maximum(XtR.T, 0) if positive else np.abs(XtR.T)
    rho = rho.astype(np.float64, copy=False) / n_samples
    violating = rho > alpha
    n_violators = _row_counts(violating) - _row_counts(violating & support)
    del violating
    scale = np.maximum(1.0, rho.max(axis=1) / alpha)
    radius = np.sqrt(2 * gap / n_samples) / alpha
    rho /= (alpha * scale)[:, None]
    closeness = np.subtract(1.0, rho, out=rho)  # 1 - rho_j
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.divide(closeness, design.col_norms)
    score[:, design.zero_columns] = np.inf
    score[support] = -1.0
    unscreened = score <= radius[:, None]
    n_candidates = _row_counts(unscreened)  # the support included
    rank = score  # in the score's memory: 1 - rho_j where unscreened, infinite elsewhere, -1 on the support
    np.copyto(rank, np.inf)
    np.copyto(rank, closeness, where=unscreened)
    rank[support] = -1.0
    n_support = _row_counts(support)
    size = np.minimum(n_support + _new_features(n_support, n_violators), n_candidates)
    k = max(int(size.max()), 1)
    if k < rank.shape[1] and rank.shape[0] == 1:  # one target: its k best, in any order
        return np.argpartition(rank[0], k - 1)[None, :k], size
    if k < rank.shape[1]:  # the k best of each row, then in order (a partition, not a full sort)
        order = np.argpartition(rank, k - 1, axis=1)[:, :k].copy()  # not a view of the whole partition
        order = np.take_along_axis(order, np.argsort(np.take_along_axis(rank, order, axis=1), axis=1,
                                                     kind="stable"), axis=1)
    else:
        order = np.argsort(rank, axis=1, kind="stable")
    return order, size


def _row_counts(mask):
    """``np.count_nonzero(mask, axis=1)``, without its per-axis overhead for one row."""
    return np.array([np.count_nonzero(mask)]) if mask.shape[0] == 1 else np.count_nonzero(mask, axis=1)


def _new_features(n_support, n_violators):
    """How many features join the support in a working set: one per violator, at least ``_MIN_WORKING_SET``
    and at most as many as the support has (the working set at most doubles)."""
    return np.minimum(np.maximum(n_violators, _MIN_WORKING_SET), np.maximum(n_support, _MIN_WORKING_SET))
