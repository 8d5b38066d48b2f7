r"""Pieces of the Lasso objective in scikit-learn's scaling.

.. math:: F(w) = \frac{1}{2 n} \|y - X w\|_2^2 + \alpha \|w\|_1

with :math:`n` = ``n_samples``, evaluated for many targets at once (rows of
``W``, columns of ``Y``). :math:`\alpha_{\max} = \|X^\top y\|_\infty / n` is the
smallest ``alpha`` for which :math:`w = 0` is a solution.
"""

import numpy as np


def lasso_objective(X, Y, W, alpha, R=None):
    r"""Lasso objective of each row of ``W``; ``R = Y - X @ W.T`` may be passed.

    Returns
    -------
    F : ndarray of shape (n_targets,)
        Summed in float64 (a float32 fit's objective to float64's rounding:
        changes of a few float32 epsilons stay visible).
    """
    n_samples = X.shape[0]
    if R is None:
        R = Y - X @ W.T
    return (np.einsum("ij,ij->j", R, R, dtype=np.float64) / (2 * n_samples)
            + alpha * np.abs(W).sum(axis=1, dtype=np.float64))


def alpha_max(X, Y):
    r""":math:`\|X^\top y\|_\infty / n` for each column of ``Y`` (shape (n_targets,))."""
    return np.max(np.abs(X.T @ Y), axis=0) / X.shape[0]


def lasso_dual_gap(X, Y, W, alpha, R=None, XtR=None, positive=False):
    r"""Duality gap of the Lasso for each target, in the objective's scaling.

    With :math:`r = y - Xw`, the dual point :math:`\theta = r / s`,
    :math:`s = \max(1, \|X^\top r\|_\infty / (n \alpha))` (for
    ``positive=True`` only positive correlations count) gives
    :math:`\mathrm{gap} = F(w) - \frac{1}{2n}(\|y\|^2 - \|y - \theta\|^2)`,
    which is ``dual_gap_`` of :class:`sklearn.linear_model.Lasso`. Substituting
    :math:`y = r + Xw` it equals the sum of non-negative terms

    .. math::

        \mathrm{gap} = \frac{(1 - 1/s)^2}{2n}\|r\|^2
        + \sum_j \Big(\alpha |w_j| - \frac{w_j (X^\top r)_j}{n s}\Big),

    evaluated in that form: the difference of primal and dual values cancels
    (its rounding error is :math:`\epsilon \|y\|^2 / n`, whatever the gap), this
    form does not. ``XtR`` must be :math:`X^\top r` computed from the residual,
    not :math:`X^\top y - Gw`, which cancels in the same way.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    W : ndarray of shape (n_targets, n_features)
    alpha : float
    R, XtR : ndarray, optional
        ``Y - X @ W.T`` and ``X.T @ R`` when already computed.
    positive : bool

    Returns
    -------
    gap : ndarray of shape (n_targets,)
    """
    n_samples = X.shape[0]
    if R is None:
        R = Y - X @ W.T
    if XtR is None:
        XtR = X.T @ R
    corr = np.max(XtR, axis=0) if positive else np.max(np.abs(XtR), axis=0)
    corr = np.asarray(corr, dtype=np.float64)
    scale = np.maximum(1.0, corr / (n_samples * alpha)) if alpha > 0 else np.ones_like(corr)
    r_sq = np.einsum("ij,ij->j", R, R).astype(np.float64)
    l1_terms = alpha * np.abs(W).sum(axis=1) - np.einsum("ij,ji->i", W, XtR) / (n_samples * scale)
    return (1.0 - 1.0 / scale) ** 2 * r_sq / (2 * n_samples) + np.maximum(l1_terms, 0.0)
