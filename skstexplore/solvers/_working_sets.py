r"""Each target's working set for :func:`~skstexplore.solvers.working_set.working_set_lasso`."""

import numpy as np

# Fewest new features in a working set (the first working set's size).
_MIN_WORKING_SET = 20


def working_sets(design, support, XtR, gap, alpha, n_samples, positive):
    r"""Each target's working set: ``order[t, :size[t]]`` (feature indices, in no particular order).

    ``support`` is ``W != 0``. A target's working set is its support and the
    features closest to violating the optimality conditions, by
    :math:`(1 - \rho_j)/\|x_j\|`, as many as it has violators, at least
    ``_MIN_WORKING_SET`` and at most as many as its support has. The scores
    are computed in place: besides ``XtR`` this holds two ``(n_targets,
    n_features)`` arrays at a time. A feature is screened exactly when its
    score exceeds the gap-safe radius (:math:`\rho_j + \|x_j\| R < 1 \iff
    (1 - \rho_j)/\|x_j\| > R`), so the screened features are never among the
    best ``size`` ones, which are all taken among the features scoring at
    most ``R``.
    """
    n_targets = XtR.shape[1]
    rho = np.maximum(XtR.T, 0) if positive else np.abs(XtR.T)
    if rho.dtype == np.float64:
        rho /= n_samples
    else:
        rho = rho.astype(np.float64) / n_samples
    # the support by its entries (few): its counts and its scores without passes over all features
    in_support = np.nonzero(support)
    n_support = np.bincount(in_support[0], minlength=n_targets)
    violating = rho > alpha
    n_violators = _row_counts(violating) - np.bincount(in_support[0][violating[in_support]], minlength=n_targets)
    del violating
    scale = np.maximum(1.0, rho.max(axis=1) / alpha)
    radius = np.sqrt(2 * gap / n_samples) / alpha
    rho /= (alpha * scale)[:, None]
    score = np.subtract(1.0, rho, out=rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        score /= design.col_norms
    score[:, design.zero_columns] = np.inf
    score[in_support] = -1.0
    n_candidates = _row_counts(score <= radius[:, None])  # the unscreened ones
    size = np.minimum(n_support + _new_features(n_support, n_violators), n_candidates)
    k = max(int(size.max()), 1)
    if k < score.shape[1] and score.shape[0] == 1:  # one target: its k best, in any order
        return np.argpartition(score[0], k - 1)[None, :k], size
    if k < score.shape[1]:  # the k best of each row, then in order (a partition, not a full sort)
        order = np.argpartition(score, k - 1, axis=1)[:, :k].copy()  # not a view of the whole partition
        order = np.take_along_axis(order, np.argsort(np.take_along_axis(score, order, axis=1), axis=1,
                                                     kind="stable"), axis=1)
    else:
        order = np.argsort(score, axis=1, kind="stable")
    return order, size


def _row_counts(mask):
    """``np.count_nonzero(mask, axis=1)``, without its per-axis overhead for one row."""
    return np.array([np.count_nonzero(mask)]) if mask.shape[0] == 1 else np.count_nonzero(mask, axis=1)


def _new_features(n_support, n_violators):
    """How many features join the support in a working set: one per violator, at least ``_MIN_WORKING_SET``
    and at most as many as the support has (the working set at most doubles)."""
    return np.minimum(np.maximum(n_violators, _MIN_WORKING_SET), np.maximum(n_support, _MIN_WORKING_SET))
