r"""Least squares restricted to supports, for many targets sharing one design.

The k-sparse solvers all minimise :math:`\|y - Xw\|_2^2` and need three
quantities, each available from ``X`` or from the Gram matrix
:math:`G = X^\top X`:

* the correlation :math:`c = X^\top (y - Xw)`,
* the squared residual :math:`\|y - Xw\|^2 = \|y\|^2 - 2 w^\top X^\top y + w^\top G w`,
* the least-squares solution on a support :math:`S`,
  :math:`w_S = G_{SS}^{-1} X_S^\top y` (:math:`LS(S)`).

:class:`LeastSquaresData` gathers them so that a solver is written once and
runs with or without a precomputed Gram matrix. Everything is vectorised across
targets: correlations are one matrix product (BLAS-3) and restricted solves are
one batched LAPACK call on the stacked ``(n_targets, k, k)`` Gram blocks.
"""

from collections import OrderedDict

import numpy as np

from .gram_columns import GramColumns
from .memory import row_blocks

# Pivot (relative to unit-diagonal blocks, times k) below which a restricted Gram block is singular.
_RANK_RTOL_FACTOR = 100.0

# k x k temporaries of one restricted solve (the block, its scaled copy, factor, LAPACK's copies).
_SOLVE_TEMPORARIES = 6


class LeastSquaresData:
    r"""Data of :math:`\min_w \|y_t - X w\|^2` for targets :math:`t` sharing ``X``.

    Parameters
    ----------
    X : ndarray or CenteredSparseDesign of shape (n_samples, n_features)
        A dense array, or the centred operator of a ``scipy.sparse`` design
        (:class:`~skstexplore._core.preprocess.CenteredSparseDesign`), which
        is never densified: column blocks go through :meth:`columns`.
    Y : ndarray of shape (n_samples, n_targets)
    gram : ndarray of shape (n_features, n_features) or None
        Precomputed ``X.T @ X``; when None every product goes through ``X``.

    Attributes
    ----------
    Xty : ndarray of shape (n_targets, n_features)
        ``(X.T @ Y).T``.
    y_sq : ndarray of shape (n_targets,)
        Squared norms of the targets.
    col_sq : ndarray of shape (n_features,)
        Squared column norms of ``X``.
    """

    def __init__(self, X, Y, gram=None):
        self.X = X
        self.Y = Y
        self.gram = gram
        self.Xty = _xty(X, Y)
        self.y_sq = np.einsum("ij,ij->j", Y, Y)
        self.col_sq = np.diag(gram).copy() if gram is not None else column_sq_norms(X)

    def target(self, t):
        """The data of target ``t`` alone, sharing ``X``, the Gram matrix and the column norms (nothing recomputed)."""
        one = object.__new__(LeastSquaresData)
        one.X, one.gram, one.col_sq = self.X, self.gram, self.col_sq
        one.Y, one.Xty, one.y_sq = self.Y[:, t:t + 1], self.Xty[t:t + 1], self.y_sq[t:t + 1]
        return one

    @property
    def n_targets(self):
        return self.Xty.shape[0]

    @property
    def n_features(self):
        return self.Xty.shape[1]

    @property
    def dtype(self):
        return self.Xty.dtype

    def columns(self, idx):
        """Dense columns ``X[:, idx]`` for an integer array ``idx``, shape (n_samples, *idx.shape)."""
        return self.X[:, idx]

    def gram_times(self, W):
        """``W @ G`` for coefficients ``W`` of shape (n_targets, n_features)."""
        if self.gram is not None:
            return W @ self.gram
        return (W @ self.X.T) @ self.X

    def correlation(self, W):
        r"""Negative gradient :math:`X^\top (y - X w)` of each row of ``W``."""
        return self.Xty - self.gram_times(W)

    def residual_sq(self, W, GW=None):
        r""":math:`\|y - X w\|^2` for each row of ``W``; ``GW = W @ G`` may be passed."""
        if GW is None:
            GW = self.gram_times(W)
        sq = self.y_sq - np.einsum("ij,ij->i", W, 2 * self.Xty - GW)
        return np.maximum(sq, 0)

    def gram_blocks(self, rows, cols):
        """Stacked blocks ``G[rows_t][:, cols_t]``, shape (n_targets, len(rows_t), len(cols_t))."""
        if self.gram is not None:
            return self.gram[rows[:, :, None], cols[:, None, :]]
        Xr = self.columns(rows).transpose(1, 2, 0)
        Xc = self.columns(cols).transpose(1, 0, 2)
        return Xr @ Xc

    def xty_on(self, idx):
        """``X_S^T y`` for each target's support, shape (n_targets, k)."""
        return np.take_along_axis(self.Xty, idx, axis=1)

    def solve_on_supports(self, idx, targets=None):
        """Least squares restricted to ``idx[t]`` for each target.

        Parameters
        ----------
        idx : ndarray of int of shape (n, k)
            One support per row.
        targets : ndarray of int of shape (n,) or None
            Which targets the rows of ``idx`` belong to (all, in order, if None).

        Returns
        -------
        values : ndarray of shape (n, k)
            Coefficients on each support; the minimum-norm solution where the
            restricted Gram block is singular.
        """
        rhs = np.take_along_axis(self.Xty if targets is None else self.Xty[targets], idx, axis=1)
        values = np.empty(rhs.shape, dtype=rhs.dtype)
        k = idx.shape[1]
        # in blocks of rows: the stacked blocks, their scaled copies and factors take a few k x k each
        for rows in row_blocks(len(idx), _SOLVE_TEMPORARIES * k * k * rhs.itemsize):
            values[rows] = solve_gram_systems(self.gram_blocks(idx[rows], idx[rows]), rhs[rows])
        return values

    def correlation_on_supports(self, idx, values, targets=None):
        r"""Correlation :math:`X^\top (y - X_S w_S)` of sparse coefficients.

        ``values[t]`` sits on the columns ``idx[t]`` of target ``targets[t]``
        (all targets, in order, if None). Costs :math:`O(k\,n)` per target
        with the Gram matrix and :math:`O(m(k + n))` without, instead of the
        dense :math:`O(n^2)` / :math:`O(m n)`.

        Returns
        -------
        C : ndarray of shape (len(idx), n_features)
        """
        xty = self.Xty if targets is None else self.Xty[targets]
        if self.gram is not None:
            # in chunks of targets: the gathered rows of G would otherwise take n_targets * k * n floats
            C = GramColumns(self.X, self.gram).times(idx, values)
        else:
            C = np.einsum("mtk,tk->tm", self.columns(idx), values) @ self.X
        return np.subtract(xty, C, out=C)

    def solve_on_masks(self, mask, targets=None, correlations=True):
        r"""Least squares on boolean supports of possibly different sizes.

        Rows are grouped by support size and each group is one batched
        :meth:`solve_on_supports`, so the cost is one LAPACK call per distinct
        size, never one per target.

        Parameters
        ----------
        mask : ndarray of bool of shape (n, n_features)
        targets : ndarray of int of shape (n,) or None
            Which targets the rows of ``mask`` belong to (all, in order, if None).
        correlations : bool, default=True
            Also compute the correlations (one product per group of rows).

        Returns
        -------
        W : ndarray of shape (n, n_features)
            Dense coefficients, zero outside each support.
        C : ndarray of shape (n, n_features) or None
            Their correlations :math:`X^\top (y - X w)`; None without ``correlations``.
        """
        targets = np.arange(mask.shape[0]) if targets is None else np.asarray(targets)
        W = np.zeros(mask.shape, dtype=self.dtype)
        C = np.empty(mask.shape, dtype=self.dtype) if correlations else None
        sizes = mask.sum(axis=1)
        row_bytes = 3 * self.n_features * np.dtype(self.dtype).itemsize
        for size in np.unique(sizes):
            group = np.flatnonzero(sizes == size)
            # in blocks of rows: their dense coefficients and correlations are made before being stored
            for block in row_blocks(len(group), row_bytes):
                rows = group[block]
                idx = np.nonzero(mask[rows])[1].reshape(len(rows), size)
                values = self.solve_on_supports(idx, targets[rows])
                W[rows] = self.scatter(idx, values)
                if correlations:
                    C[rows] = self.correlation_on_supports(idx, values, targets[rows])
        return W, C

    def residual_sq_on_supports(self, idx, values, targets=None):
        r""":math:`\|y\|^2 - w_S^\top X_S^\top y`, the squared residual of least-squares
        coefficients ``values`` on ``idx`` (valid because :math:`G_{SS} w_S = X_S^\top y`)."""
        xty = self.Xty if targets is None else self.Xty[targets]
        y_sq = self.y_sq if targets is None else self.y_sq[targets]
        sq = y_sq - np.einsum("tk,tk->t", values, np.take_along_axis(xty, idx, axis=1))
        return np.maximum(sq, 0)

    def scatter(self, idx, values):
        """Dense coefficients (n, n_features) with ``values`` placed at ``idx``."""
        W = np.zeros((idx.shape[0], self.n_features), dtype=self.dtype)
        np.put_along_axis(W, idx, values, axis=1)
        return W


def _xty(X, Y):
    """``(X.T @ Y).T``, accumulated in float64 for float32 data and rounded once.

    A batch of targets is one matrix product and a single target a
    matrix-vector one: BLAS sums them in different orders, and in float32 the
    difference (a few ulps, amplified by the conditioning of the restricted
    systems) would make a target's fit depend on the batch it came in.
    Rounding a float64 sum once gives the same float32 value either way.
    """
    if X.dtype != np.float32 or not isinstance(X, np.ndarray):
        return np.ascontiguousarray((X.T @ Y).T)
    return np.ascontiguousarray((X.T.astype(np.float64) @ Y.astype(np.float64)).T.astype(np.float32))


def column_sq_norms(X):
    """Squared column norms of a dense ``X`` or of a centred sparse design operator."""
    if isinstance(X, np.ndarray):
        return np.einsum("ij,ij->j", X, X)
    return X.col_sq_norms()


def solve_gram_systems(G, b):
    r"""Solve the stacked symmetric systems :math:`G_t z_t = b_t`.

    ``G`` has shape (n, k, k) and ``b`` shape (n, k). Rank decisions are made
    relative to each column's own norm, never to the largest one of the block:
    the systems are first scaled to unit diagonal,
    :math:`\tilde G = D^{-1/2} G D^{-1/2}` with :math:`D = \mathrm{diag}(G)`
    (a zero column gets a zero coefficient), so that an informative column
    :math:`10^{-7}` times smaller than the others is as regular as it is in
    exact arithmetic, and the solution does not depend on the units of the
    columns. Positive-definite scaled blocks are solved by one batched
    Cholesky factorisation; blocks with a Cholesky pivot below
    ``100 * eps * k`` (duplicated columns, ``k > n_samples``) get the
    minimum-norm solution of the scaled system from an eigendecomposition
    with the same cut-off, so rank deficiency is handled the same way on
    every platform. The systems are solved in blocks whose temporaries (scaled
    copies, factors) take at most 16 MiB, so that they never add several
    stacks of the size of ``G``.
    """
    n, k = b.shape
    if k == 0:
        return b.copy()
    z = np.empty_like(b)
    for rows in row_blocks(n, _SOLVE_TEMPORARIES * k * k * G.itemsize):
        z[rows] = _solve_unit_diagonal(G[rows], b[rows])
    return z


def _solve_unit_diagonal(G, b):
    """:func:`solve_gram_systems` for one block of systems."""
    n, k = b.shape
    diag = np.diagonal(G, axis1=1, axis2=2)
    inv_norm = np.zeros(diag.shape, dtype=G.dtype)
    np.divide(1.0, np.sqrt(diag), out=inv_norm, where=diag > 0)
    Gs = G * inv_norm[:, :, None] * inv_norm[:, None, :]
    zero = diag <= 0
    if zero.any():
        # a zero column: unit pivot and zero right-hand side, so its coefficient is exactly 0
        rows, cols = np.nonzero(zero)
        Gs[rows, cols, cols] = 1
    bs = b * inv_norm
    rtol = _RANK_RTOL_FACTOR * np.finfo(G.dtype).eps * k
    unit = np.ones(n, dtype=G.dtype)
    regular = _well_conditioned(Gs, unit, rtol)
    z = np.empty_like(b)
    if regular.any():
        z[regular] = np.linalg.solve(Gs[regular], bs[regular][..., None])[..., 0]
    for t in np.flatnonzero(~regular):
        z[t] = _min_norm_solve(Gs[t], bs[t], rtol)
    return z * inv_norm


def _well_conditioned(G, scale, rtol):
    """Which stacked blocks have a Cholesky factor with all pivots above the cut-off."""
    try:
        L = np.linalg.cholesky(G)
    except np.linalg.LinAlgError:
        ok = np.zeros(len(G), dtype=bool)
        for t in range(len(G)):
            try:
                Lt = np.linalg.cholesky(G[t])
            except np.linalg.LinAlgError:
                continue
            ok[t] = np.min(np.diag(Lt)) ** 2 > rtol * scale[t]
        return ok
    pivots = np.min(np.diagonal(L, axis1=1, axis2=2), axis=1) ** 2
    return np.isfinite(pivots) & (pivots > rtol * scale)


def _min_norm_solve(G, b, cutoff):
    """Minimum-norm solution of ``G z = b`` for symmetric PSD ``G`` (pseudo-inverse)."""
    eigval, eigvec = np.linalg.eigh(G)
    keep = eigval > cutoff
    return eigvec[:, keep] @ ((eigvec[:, keep].T @ b) / eigval[keep])


class SupportCache:
    """Bounded least-recently-used cache of per-support results.

    Keys are supports given as sorted integer index arrays; values are whatever
    the solver stores (coefficients, residual, a Cholesky factor...).

    Parameters
    ----------
    max_size : int
        Number of supports kept; the least recently used is dropped first.
    """

    def __init__(self, max_size=4096):
        self.max_size = max_size
        self._store = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(support):
        return np.asarray(support, dtype=np.intp).tobytes()

    def get(self, support):
        key = self.key(support)
        value = self._store.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._store.move_to_end(key)
        return value

    def put(self, support, value):
        key = self.key(support)
        self._store[key] = value
        self._store.move_to_end(key)
        if len(self._store) > self.max_size:
            self._store.popitem(last=False)

    def __len__(self):
        return len(self._store)
