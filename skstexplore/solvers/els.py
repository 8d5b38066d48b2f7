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
(duplicated or zero columns in :math:`S`) is factored with a tiny ridge
:math:`100\,\varepsilon k \max_j \|X_j\|^2` so that swapping a redundant column
out scores as the near-free move it is.

Halting rule: the best swap lowers the squared residual by at most
:math:`10^3 \varepsilon \|y\|^2` (:math:`\varepsilon` the machine epsilon of the
dtype), i.e. :math:`S` is a swap-local optimum up to rounding (``converged``).
"""

import numpy as np

from .._core.base import SolverResult
from .._core.lstsq import LeastSquaresData, _well_conditioned
from .._core.thresholding import mask_to_indices
from ._ksparse import initial_support, start_coef, start_correlation, tol_reached

# Swaps gaining at most this many epsilons of ||y||^2 are rounding noise.
_SWAP_EPS_FACTOR = 1e3
# Pivot cut-off (relative, times k) below which G_SS is treated as singular.
_RANK_EPS_FACTOR = 100.0
# Largest swap table (n_targets x k x n_features entries) scored at once.
_BLOCK_ELEMENTS = 2**22


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
    W0 = start_coef(coef_init, data)
    norms = np.sqrt(np.maximum(data.col_sq, np.finfo(data.dtype).tiny))
    supports = mask_to_indices(initial_support(W0, start_correlation(coef_init, W0, data) / norms, n_nonzero_coefs))
    min_gain = _SWAP_EPS_FACTOR * np.finfo(data.dtype).eps * data.y_sq
    n_iter = np.zeros(n_targets, dtype=int)
    converged = np.zeros(n_targets, dtype=bool)
    active = np.arange(n_targets)
    values = data.solve_on_supports(supports)
    W = data.scatter(supports, values)
    for it in range(1, max_iter + 1):
        done = tol_reached(data.residual_sq_on_supports(supports[active], values, active), tol)
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


def swap_gains(data, idx, values, targets):
    r"""Decrease :math:`\Delta_{ij}` of the squared residual for every swap.

    Parameters
    ----------
    data : LeastSquaresData
    idx : ndarray of int of shape (n, k)
        Current supports.
    values : ndarray of shape (n, k)
        Least-squares coefficients on them.
    targets : ndarray of int of shape (n,)

    Returns
    -------
    gain : ndarray of shape (n, k, n_features)
        ``gain[t, p, j]``: decrease when ``idx[t, p]`` leaves and ``j``
        enters; ``-inf`` for ``j`` already in the support.
    """
    n, k = idx.shape
    G_rows = _gram_rows(data, idx)
    L = _cholesky_of_blocks(np.take_along_axis(G_rows, np.broadcast_to(idx[:, None, :], (n, k, k)), axis=2), data)
    # L^{-1} by one batched solve against the factor with k right-hand sides; applying
    # it to the n columns is then a batched product, far cheaper than n-column solves
    L_inv = np.linalg.solve(L, np.broadcast_to(np.eye(k, dtype=L.dtype), L.shape))
    Q = L_inv @ G_rows
    P = np.swapaxes(L_inv, 1, 2) @ Q
    h = np.einsum("tli,tli->ti", L_inv, L_inv)[:, :, None]
    c = data.Xty[targets] - (values[:, None, :] @ G_rows)[:, 0, :]
    d = data.col_sq - np.einsum("tkn,tkn->tn", Q, Q)
    w = values[:, :, None]
    cross = w * P
    cross += h * c[:, None, :]
    dist = P * P
    dist += h * d[:, None, :]  # h_i times the squared distance of X_j to span(S \ i)
    addable = dist > (_RANK_EPS_FACTOR * k * np.finfo(data.dtype).eps) * h * data.col_sq
    np.square(cross, out=cross)
    dist *= h
    gain = np.divide(cross, dist, out=np.zeros_like(cross), where=addable)
    gain -= w * w / h
    np.put_along_axis(gain, np.broadcast_to(idx[:, None, :], (n, k, k)), -np.inf, axis=2)
    return gain


def best_swaps(data, idx, values, targets):
    """Best swap of each row: its gain, the position in ``idx`` that leaves and the feature that enters.

    Ties go to the lowest (position, feature) pair in row-major order. Rows
    are scored in blocks of at most ``_BLOCK_ELEMENTS`` table entries, which
    bounds the memory of the ``(n, k, n_features)`` tables.
    """
    n, k = idx.shape
    block = max(1, _BLOCK_ELEMENTS // (k * data.n_features))
    gain = np.empty(n, dtype=data.dtype)
    best = np.empty(n, dtype=np.intp)
    for start in range(0, n, block):
        rows = slice(start, start + block)
        table = swap_gains(data, idx[rows], values[rows], targets[rows]).reshape(len(idx[rows]), -1)
        best[rows] = np.argmax(table, axis=1)
        gain[rows] = table[np.arange(len(table)), best[rows]]
    remove_pos, add_feature = np.divmod(best, data.n_features)
    return gain, remove_pos, add_feature


def _gram_rows(data, idx):
    """``G[idx[t], :]`` stacked, shape (n, k, n_features): a gather, or one GEMM through ``X``."""
    n, k = idx.shape
    if data.gram is not None:
        return data.gram[idx]
    X_S = data.columns(idx.ravel())
    return (X_S.T @ data.X).reshape(n, k, data.n_features)


def _cholesky_of_blocks(G, data):
    """Batched Cholesky factors of ``G``, with a tiny ridge on the (numerically) singular blocks."""
    n, k = G.shape[:2]
    rtol = _RANK_EPS_FACTOR * k * np.finfo(G.dtype).eps
    scale = float(np.max(data.col_sq, initial=0.0)) or 1.0
    singular = ~_well_conditioned(G, np.full(n, scale), rtol)
    if singular.any():
        G = G.copy()
        G[singular] += rtol * scale * np.eye(k, dtype=G.dtype)
    return np.linalg.cholesky(G)
