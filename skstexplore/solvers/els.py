r"""Exhaustive Local Search (Axiotis & Sviridenko, ICML 2020).

From a support :math:`S` of size :math:`k`, ELS performs the single swap
(remove :math:`i \in S`, add :math:`j \notin S`) that lowers the least-squares
residual :math:`\|y - X\,LS(S')\|^2` the most, re-fits, and repeats.

All :math:`k(n-k)` swaps of an iteration are scored in closed form from one
Cholesky factor :math:`L L^\top = G_{SS}` (:math:`G = X^\top X`). With
:math:`w = LS(S)`, :math:`r = y - X_S w`, :math:`c = X^\top r`,
:math:`L^{-1}` (one solve against the factor with :math:`k` right-hand
sides), :math:`Q = L^{-1} G_{S,:}`, :math:`H = G_{SS}^{-1}` (only its diagonal
:math:`h_i`, the squared column norms of :math:`L^{-1}`),
:math:`P = G_{SS}^{-1} G_{S,:} = L^{-\top} Q` and
:math:`d_j = \|X_j\|^2 - \|Q_{:,j}\|^2` (squared distance of :math:`X_j` to
:math:`\mathrm{span}(X_S)`):

* removing :math:`i` raises the squared residual by :math:`w_i^2 / h_i` and
  changes the correlation of :math:`j` to :math:`c_j + w_i P_{ij} / h_i`;
* the squared distance of :math:`X_j` to :math:`\mathrm{span}(X_{S \setminus i})`
  is :math:`d_j + P_{ij}^2 / h_i`, so adding :math:`j` then lowers it by the
  squared correlation over that distance.

Hence the decrease of the squared residual of the swap :math:`(i, j)`

.. math::

    \Delta_{ij} = \frac{(h_i c_j + w_i P_{ij})^2}{h_i\,(h_i d_j + P_{ij}^2)}
                  - \frac{w_i^2}{h_i},

a :math:`k \times n` array computed with matrix operations in
:math:`O(k^2 n)` per iteration, instead of :math:`k(n-k)` least-squares
solves costing :math:`O(k^2 m)` each. A feature ``j`` (numerically) in the span
of :math:`X_{S \setminus i}` adds nothing. A singular :math:`G_{SS}`
(duplicated or zero columns in :math:`S`, judged relative to each column's
own norm) is factored with a tiny ridge :math:`100\,\varepsilon k\,\|X_i\|^2`
on each diagonal entry so that swapping a redundant column out scores as the
near-free move it is.

Halting rule: the best swap lowers the squared residual by at most
:math:`10^3 \varepsilon \|y\|^2` (:math:`\varepsilon` the machine epsilon of the
dtype), i.e. :math:`S` is a swap-local optimum up to rounding (``converged``);
in particular when the squared residual itself is below that level (an exact
fit, e.g. :math:`k` equal to the rank of ``X``), since no swap can gain more
than the residual.
"""

import numpy as np

from .._core.base import SolverResult
from .._core import memory
from .._core.lstsq import LeastSquaresData, _well_conditioned
from .._core.thresholding import mask_to_indices
from ._ksparse import initial_support, start_coef, start_correlation, tol_reached

# Swaps gaining at most this many epsilons of ||y||^2 are rounding noise.
_SWAP_EPS_FACTOR = 1e3
# Pivot cut-off (relative, times k) below which G_SS is treated as singular.
_RANK_EPS_FACTOR = 100.0


def els(
    X,
    Y,
    n_nonzero_coefs,
    *,
    coef_init=None,
    max_iter=1000,
    tol=None,
    gram=None,
    callback=None,
):
    r"""Exhaustive Local Search for every column of ``Y``.

    Minimises :math:`\|y_t - X w\|_2^2` subject to :math:`\|w\|_0 \le k`
    for each target by best-improvement single swaps, all targets at once
    (the swap scores of every running target form one
    ``(n_targets, k, n_features)`` array).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
    coef_init : ndarray of shape (n_targets, n_features) or None
        The starting support holds the largest nonzeros of :math:`w^0`,
        completed by the features of largest normalised correlation
        :math:`|X_j^\top (y - X w^0)| / \|X_j\|` (OMP's selection rule).
    max_iter : int, default=1000
        Number of swaps allowed.
    tol : float or None
        Stop a target as soon as its squared residual norm is ``<= tol``.
    gram : ndarray of shape (n_features, n_features) or None
    callback : callable or None
        ``callback(n_iter, coef)`` after every swap.

    Returns
    -------
    SolverResult
        ``n_iter`` counts the scoring passes (the one that finds no improving
        swap included).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    >>> els(X, np.array([[1.0], [1.0], [0.0]]), 2).coef
    array([[1., 1., 0.]])
    """
    data = LeastSquaresData(X, Y, gram)
    n_targets, n_features = data.n_targets, data.n_features
    supports = _initial_supports(coef_init, data, n_nonzero_coefs)
    min_gain = _SWAP_EPS_FACTOR * np.finfo(data.dtype).eps * data.y_sq
    n_iter = np.zeros(n_targets, dtype=int)
    converged = np.zeros(n_targets, dtype=bool)
    active = np.arange(n_targets)
    values = data.solve_on_supports(supports)
    W = data.scatter(supports, values)
    for it in range(1, max_iter + 1):
        residual_sq = data.residual_sq_on_supports(supports[active], values, active)
        # no swap can gain more than the residual: an exact fit (k = rank) is a local optimum,
        # whatever the rounding noise of its swap scores says
        done = tol_reached(residual_sq, tol) | (residual_sq <= min_gain[active])
        converged[active[done]] = True
        active, values = active[~done], values[~done]
        if not active.size:
            break
        n_iter[active] = it
        gain, remove_pos, add_feature = best_swaps(data, supports[active], values, active)
        local_optimum = gain <= min_gain[active]
        converged[active[local_optimum]] = True
        active, remove_pos, add_feature = active[~local_optimum], remove_pos[~local_optimum], add_feature[~local_optimum]
        if not active.size:
            break
        supports[active, remove_pos] = add_feature
        supports[active] = np.sort(supports[active], axis=1)
        values = data.solve_on_supports(supports[active], active)
        W[active] = data.scatter(supports[active], values)
        if callback is not None:
            callback(it, W)
    support = np.zeros((n_targets, n_features), dtype=bool)
    np.put_along_axis(support, supports, True, axis=1)
    return SolverResult(coef=W, n_iter=n_iter, converged=converged, support=support)


def _initial_supports(coef_init, data, k):
    """Starting supports (n_targets, k): the largest nonzeros of ``coef_init``, then OMP's selection rule."""
    W0 = start_coef(coef_init, data)
    scores = start_correlation(coef_init, W0, data)
    scores /= np.sqrt(np.maximum(data.col_sq, np.finfo(data.dtype).tiny))
    return mask_to_indices(initial_support(W0, scores, k))


def swap_gains(data, idx, values, targets, features=None):
    r"""Decrease :math:`\Delta_{ij}` of the squared residual for every swap.

    Parameters
    ----------
    data : LeastSquaresData
    idx : ndarray of int of shape (n, k)
        Current supports.
    values : ndarray of shape (n, k)
        Least-squares coefficients on them.
    targets : ndarray of int of shape (n,)
    features : slice or None
        The entering features ``j`` scored (all by default); scoring a block
        of features at a time bounds the memory of the tables.

    Returns
    -------
    gain : ndarray of shape (n, k, n_block)
        ``gain[t, p, j]``: decrease when ``idx[t, p]`` leaves and feature
        ``j`` (of the block) enters; ``-inf`` for ``j`` already in the support.
    """
    return _SupportFactors(data, idx, values, targets).gains(slice(None) if features is None else features)


class _SupportFactors:
    """What the swap scores need from the supports alone: :math:`L^{-1}`, :math:`h`, :math:`w`."""

    def __init__(self, data, idx, values, targets):
        n, k = idx.shape
        self.data, self.idx, self.targets = data, idx, targets
        L = _cholesky_of_blocks(data.gram_blocks(idx, idx), data)
        # L^{-1} by one batched solve against the factor with k right-hand sides; applying
        # it to the n columns is then a batched product, far cheaper than n-column solves
        self.L_inv = np.linalg.solve(L, np.broadcast_to(np.eye(k, dtype=L.dtype), L.shape))
        self.h = np.einsum("tli,tli->ti", self.L_inv, self.L_inv)[:, :, None]
        self.w = values[:, :, None]
        self.removal = self.w * self.w / self.h

    def gains(self, features):
        data, idx, h, w = self.data, self.idx, self.h, self.w
        n, k = idx.shape
        G_rows = _gram_rows(data, idx, features)
        Q = self.L_inv @ G_rows
        P = np.swapaxes(self.L_inv, 1, 2) @ Q
        c = data.Xty[self.targets][:, features] - (w.transpose(0, 2, 1) @ G_rows)[:, 0, :]
        col_sq = data.col_sq[features]
        d = col_sq - np.einsum("tkn,tkn->tn", Q, Q)
        del G_rows, Q
        cross = w * P
        cross += h * c[:, None, :]
        dist = P * P
        del P
        dist += h * d[:, None, :]  # h_i times the squared distance of X_j to span(S \ i)
        addable = dist > (_RANK_EPS_FACTOR * k * np.finfo(data.dtype).eps) * h * col_sq
        np.square(cross, out=cross)
        dist *= h
        gain = np.divide(cross, dist, out=np.zeros_like(cross), where=addable)
        gain -= self.removal
        first = features.start or 0
        inside = (idx >= first) & (idx < first + gain.shape[2])
        rows, pos = np.nonzero(inside)
        gain[rows, :, idx[rows, pos] - first] = -np.inf
        return gain


def best_swaps(data, idx, values, targets):
    """Best swap of each row: its gain, the position in ``idx`` that leaves and the feature that enters.

    Ties go to the lowest (position, feature) pair in row-major order. Rows
    are scored in blocks whose ``(rows, k, n_features)`` tables take at most
    ``memory.BLOCK_BYTES`` (16 MiB) each, and when one
    row's ``k x n_features`` table is larger, its features in blocks of that
    size, which bounds the memory of the tables (about six of them are live).
    """
    n, k = idx.shape
    n_features = data.n_features
    elements = max(1, memory.BLOCK_BYTES // np.dtype(data.dtype).itemsize)
    rows_per_block = max(1, elements // (k * n_features))
    features_per_block = min(n_features, max(1, elements // k))
    gain = np.full(n, -np.inf, dtype=data.dtype)
    best = np.zeros(n, dtype=np.intp)
    for start in range(0, n, rows_per_block):
        rows = slice(start, start + rows_per_block)
        factors = _SupportFactors(data, idx[rows], values[rows], targets[rows])
        best_pos = np.zeros(len(idx[rows]), dtype=np.intp)
        for first in range(0, n_features, features_per_block):
            features = slice(first, min(first + features_per_block, n_features))
            table = factors.gains(features)
            width = table.shape[2]
            flat = np.argmax(table.reshape(len(table), -1), axis=1)
            block_gain = table.reshape(len(table), -1)[np.arange(len(table)), flat]
            pos, j = np.divmod(flat, width)
            # strict improvement keeps the earlier (lower feature) block on ties; the
            # position is compared too so that ties follow row-major (position, feature) order
            better = (block_gain > gain[rows]) | ((block_gain == gain[rows]) & (pos < best_pos))
            gain[rows][better] = block_gain[better]
            best[rows][better] = (first + j)[better]
            best_pos[better] = pos[better]
            del table  # before the next block's table is made
        best[rows] += best_pos * n_features
    remove_pos, add_feature = np.divmod(best, n_features)
    return gain, remove_pos, add_feature


def _gram_rows(data, idx, features):
    """``G[idx[t], features]`` stacked, shape (n, k, n_block): a gather, or one GEMM through ``X``."""
    n, k = idx.shape
    if data.gram is not None:
        return data.gram[:, features][idx]
    X_S = data.columns(idx.ravel())
    if isinstance(data.X, np.ndarray):
        rows = X_S.T @ data.X[:, features]
    else:  # a centred sparse design: products with it, never a dense block of it
        rows = (X_S.T @ data.X)[:, features]
    return rows.reshape(n, k, rows.shape[1])


def _cholesky_of_blocks(G, data):
    r"""Batched Cholesky factors of ``G``, with a tiny ridge on the (numerically) singular blocks.

    Singularity is judged on the unit-diagonal blocks :math:`D^{-1/2} G D^{-1/2}`
    (relative to each column's own norm, so a small but informative column is
    kept); a ridge of ``100 eps k`` is added there, and :math:`L = D^{1/2}
    \tilde L` is a factor of :math:`G + \text{ridge}\cdot D`. A zero column counts
    with the largest column norm, so that it is the cheap one to swap out.
    """
    n, k = G.shape[:2]
    rtol = _RANK_EPS_FACTOR * k * np.finfo(G.dtype).eps
    diag = np.diagonal(G, axis1=1, axis2=2)
    scale = float(np.max(data.col_sq, initial=0.0)) or 1.0
    norm = np.sqrt(np.where(diag > 0, diag, scale))
    Gs = G / norm[:, :, None] / norm[:, None, :]
    singular = ~_well_conditioned(Gs, np.ones(n), rtol)
    if singular.any():
        Gs[singular] += rtol * np.eye(k, dtype=G.dtype)
    return np.linalg.cholesky(Gs) * norm[:, :, None]
