"""Pieces shared by the k-sparse least-squares solvers (IHT, HTP, OMPR, ELS)."""

import numpy as np

from .._core.thresholding import largest_k_mask


def default_step(data):
    r"""HTP/OMPR step :math:`1 / \max_j \|X_j\|^2` (Foucart's step 1 for unit-norm columns)."""
    return 1.0 / max(float(np.max(data.col_sq, initial=0.0)), np.finfo(data.dtype).tiny)


def start_coef(coef_init, data):
    """Starting coefficients ``(n_targets, n_features)`` (zero when ``coef_init`` is None), a copy."""
    shape = (data.n_targets, data.n_features)
    if coef_init is None:
        return np.zeros(shape, dtype=data.dtype)
    return np.array(np.broadcast_to(coef_init, shape), dtype=data.dtype)


def start_correlation(coef_init, W, data):
    r"""Correlation :math:`X^\top (y - X w)` of the start (``X^T y`` for free from zero)."""
    if coef_init is None:
        return data.Xty.copy()
    return data.correlation(W)


def initial_support(W, scores, k):
    """Size-``k`` supports that keep the nonzeros of ``W`` first, then the best ``scores``.

    Among the nonzeros of ``W`` the largest magnitudes win (so a ``W`` with more
    than ``k`` nonzeros is hard-thresholded); free slots are filled with the
    largest ``|scores|`` among the other features.
    """
    W_abs, S_abs = np.abs(W), np.abs(scores)
    w_max = np.maximum(W_abs.max(axis=1, keepdims=True), np.finfo(W.dtype).tiny)
    s_max = np.maximum(S_abs.max(axis=1, keepdims=True), np.finfo(W.dtype).tiny)
    # nonzeros of W score in (1, 2], the others in [0, 1/2]: a lexicographic order
    ranking = np.where(W != 0, 1.0 + W_abs / w_max, 0.5 * S_abs / s_max)
    return largest_k_mask(ranking, k)


def tol_reached(residual_sq, tol):
    """Which targets have a squared residual norm ``<= tol`` (none if ``tol`` is None)."""
    if tol is None:
        return np.zeros(residual_sq.shape, dtype=bool)
    return residual_sq <= tol
