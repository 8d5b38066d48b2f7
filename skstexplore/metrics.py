r"""Support-recovery metrics.

With :math:`S^*` the true support (nonzeros of ``coef_true``) and :math:`S` the
estimated one (nonzeros of ``coef_pred``):

* support distance :math:`(|S^*| - |S^* \cap S|) / |S^*|` (SEA paper),
* exact support recovery :math:`S = S^*`,
* support F1 score :math:`2 |S^* \cap S| / (|S^*| + |S|)`.
"""

import numpy as np


def _as_rows(coef_true, coef_pred):
    true = np.atleast_2d(np.asarray(coef_true))
    pred = np.atleast_2d(np.asarray(coef_pred))
    if true.shape != pred.shape:
        raise ValueError(
            f"coef_true and coef_pred must have the same shape; got {np.shape(coef_true)} and {np.shape(coef_pred)}."
        )
    return true != 0, pred != 0


def support_distance(coef_true, coef_pred):
    r"""Fraction of the true support missed, averaged over targets.

    .. math:: d(w^*, w) = \frac{|S^*| - |S^* \cap \mathrm{supp}(w)|}{|S^*|}

    A target whose true support is empty contributes 0.

    Parameters
    ----------
    coef_true, coef_pred : array-like of shape (n_features,) or (n_targets, n_features)

    Returns
    -------
    distance : float in [0, 1]

    Examples
    --------
    >>> support_distance([1.0, 0.0, 2.0, 0.0], [0.5, 0.0, 0.0, 3.0])
    0.5
    """
    true, pred = _as_rows(coef_true, coef_pred)
    k = true.sum(axis=1)
    missed = (true & ~pred).sum(axis=1)
    return float(np.mean(np.where(k > 0, missed / np.maximum(k, 1), 0.0)))


def support_recovery(coef_true, coef_pred):
    """Fraction of targets whose support is recovered exactly.

    Parameters
    ----------
    coef_true, coef_pred : array-like of shape (n_features,) or (n_targets, n_features)

    Returns
    -------
    rate : float in [0, 1]

    Examples
    --------
    >>> support_recovery([[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [1.0, 1.0]])
    0.5
    """
    true, pred = _as_rows(coef_true, coef_pred)
    return float(np.mean(np.all(true == pred, axis=1)))


def support_f1(coef_true, coef_pred):
    r"""F1 score of the estimated support, averaged over targets.

    .. math:: F_1 = \frac{2 |S^* \cap S|}{|S^*| + |S|}

    the harmonic mean of precision :math:`|S^* \cap S| / |S|` and recall
    :math:`|S^* \cap S| / |S^*|`: unlike :func:`support_distance` it counts
    false positives as well as misses, and equals 1 exactly when the support is
    recovered. A target whose two supports are both empty scores 1.

    Parameters
    ----------
    coef_true, coef_pred : array-like of shape (n_features,) or (n_targets, n_features)

    Returns
    -------
    f1 : float in [0, 1]

    Examples
    --------
    >>> support_f1([1.0, 0.0, 2.0, 0.0], [0.5, 0.0, 0.0, 3.0])
    0.5
    """
    true, pred = _as_rows(coef_true, coef_pred)
    sizes = true.sum(axis=1) + pred.sum(axis=1)
    common = (true & pred).sum(axis=1)
    return float(np.mean(np.where(sizes > 0, 2 * common / np.maximum(sizes, 1), 1.0)))
