"""Pieces shared by the k-sparse least-squares solvers (IHT, HTP, OMPR, ELS)."""

import numpy as np

from .._core.lipschitz import spectral_norm_sq
from .._core.memory import row_blocks
from .._core.thresholding import largest_k_mask

# (n_targets, n_features) temporaries of ranking one target's start (sizes the blocks of targets).
_RANKING_TEMPORARIES = 8


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
    largest ``|scores|`` among the other features. Rows are ranked in blocks
    (the ranking's temporaries stay within a fixed budget).
    """
    mask = np.empty(W.shape, dtype=bool)
    for rows in row_blocks(len(W), _RANKING_TEMPORARIES * W.shape[1] * W.itemsize):
        mask[rows] = _initial_support_rows(W[rows], scores[rows], k)
    return mask


def _initial_support_rows(W, scores, k):
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


class CycleGuard:
    r"""Per-target steps of HTP and OMPR, with detection of cycling supports.

    The recommended step :math:`\eta = 1 / \max_j \|X_j\|^2` may exceed
    :math:`1/L` (:math:`L = \|X\|_2^2`), and then the supports can cycle
    without ever reaching a fixed point. With :math:`\eta \le 1/L` the
    residual never increases, so only supports of exactly equal residual could
    alternate: for :math:`u = w + \eta g` and :math:`v` its best :math:`k`-sparse
    approximation on the candidate set, :math:`\|v - u\| \le \|w - u\|` and the
    descent lemma give :math:`\|y - Xv\|^2 \le \|y - Xw\|^2 - (1/\eta - L)
    \|v - w\|^2`, and the re-fit only lowers it further.

    So a target whose new support was already visited (supports are hashed
    with fixed random 64-bit weights, collisions having probability
    :math:`2^{-64}`) is switched to :math:`\eta = 1/L` when the step is the
    default one, and stopped (not converged) when the user chose the step.
    Switched targets are not checked again; ``max_iter`` bounds them.

    Parameters
    ----------
    data : LeastSquaresData
    step_size : float or None
        None for the default step with the safeguard.
    safe_step : list or None
        A one-item list holding :math:`1/L` (or None until computed), shared by
        guards of several blocks of targets of the same design.
    """

    def __init__(self, data, step_size, safe_step=None):
        self.data = data
        self.default = step_size is None
        self.eta = np.full(data.n_targets, default_step(data) if self.default else step_size)
        self.safe = np.zeros(data.n_targets, dtype=bool)
        self._safe_step = [None] if safe_step is None else safe_step
        self._weights = np.random.default_rng(0).integers(1, 2**63, data.n_features, dtype=np.uint64)
        # one row of support hashes per recorded iteration (0 = not recorded), grown by doubling
        self._visited = np.zeros((16, data.n_targets), dtype=np.uint64)
        self._n_visited = 0

    def step(self, targets):
        """Steps of ``targets`` as a column, in the data's dtype."""
        return self.eta[targets, None].astype(self.data.dtype)

    def revisited(self, supports, targets):
        """Record ``supports`` of ``targets``; return which were visited before (safe targets never are)."""
        hashes = np.where(supports, self._weights, np.uint64(0)).sum(axis=1, dtype=np.uint64)
        seen = np.any(self._visited[: self._n_visited, targets] == hashes, axis=0)
        if self._n_visited == len(self._visited):
            self._visited = np.concatenate([self._visited, np.zeros_like(self._visited)])
        self._visited[self._n_visited, targets] = hashes
        self._n_visited += 1
        return seen & ~self.safe[targets]

    def make_safe(self, targets):
        """Switch ``targets`` to the step 1/L (computed once, when first needed)."""
        if not len(targets):
            return
        if self._safe_step[0] is None:
            # from X, which works on the smaller of X^T X and X X^T
            L = spectral_norm_sq(self.data.X)
            self._safe_step[0] = 1.0 / L if L > 0 else default_step(self.data)
        self.eta[targets] = np.minimum(self.eta[targets], self._safe_step[0])
        self.safe[targets] = True
