r"""What depends on the design alone, computed once per fit, path or fold: :class:`DesignCache`."""

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import LinearOperator, eigsh

from .._core.lipschitz import spectral_norm_sq
from .._core.preprocess import CenteredSparseDesign
from ._support_factor import SupportFactor

# Blocks up to this size get L_U from a dense eigensolver; larger ones from
# Lanczos to this relative accuracy (a step 1/L_U needs an upper bound of the
# curvature, not its digits).
_DENSE_EIGEN_MAX = 300
_LANCZOS_RTOL = 1e-4
# For a sparse X, new Gram columns needing more multiply-adds than this through the cached dense rows come
# from a sparse product instead (a temporary of this many entries).
_GATHER_MAX = 500_000


class DesignCache:
    r"""What depends on the design alone, computed once and reused.

    Column norms at construction; the dense columns of the features :math:`E`
    that have entered some working set, and the Gram entries among them that
    some block asked for, both grown on demand. The entered columns are kept
    as rows (gathering rows is contiguous); new ones are gathered in
    increasing feature order (a strided gather from a C-ordered ``X`` then
    costs half as much). With ``all_pairs`` (one target: its working sets
    grow, shrink and grow again over the same features) a feature's entries
    with every entered feature are computed when it enters,
    :math:`n |E_{new}| (|E| + |E_{new}|)`; otherwise (many targets) only
    within the blocks requested (:meth:`gram_block`): a block :math:`G_{UU}`
    costs :math:`n |U| |N|` for the features :math:`N \subseteq U` with
    entries missing in it, so targets with disjoint working sets never pay
    for each other's cross entries. For a sparse ``X`` the cached rows are
    gathered at the nonzeros of the new columns
    (:math:`|U|\,\mathrm{nnz}(X_N)`), and the centring enters without
    cancellation between large terms. A precomputed full Gram matrix, when
    given, is sliced instead.
    ``correlations`` (:math:`X^\top R`, the outer iterations' full product)
    and ``fitted`` (:math:`X W^\top` through the cached columns of the
    support) complete what a working-set solve needs of ``X``.

    Parameters
    ----------
    X : ndarray or CenteredSparseDesign of shape (n_samples, n_features)
    gram : ndarray of shape (n_features, n_features), optional
    col_norms : ndarray of shape (n_features,), optional
        Column norms when already known.
    all_pairs : bool, default=True
        Compute the Gram entries of a feature with all the entered ones when
        it enters (else only those of the blocks asked for).
    """

    def __init__(self, X, gram=None, col_norms=None, all_pairs=True):
        self.X = X
        self.gram = gram
        self.is_sparse = isinstance(X, CenteredSparseDesign)
        if col_norms is not None:
            col_sq = col_norms**2
        elif gram is not None:
            col_sq = np.diagonal(gram)
        elif self.is_sparse:
            col_sq = X.col_sq_norms()
        else:
            col_sq = np.einsum("ij,ij->j", X, X)
        self.col_norms = np.sqrt(np.maximum(col_sq, 0)).astype(np.float64)
        self.zero_columns = np.flatnonzero(self.col_norms == 0)
        self._position = np.full(X.shape[1], -1)
        self._n_entered = 0
        self._full_value = None
        # entered columns stored as rows (gathering rows is contiguous)
        self._rows = np.empty((0, X.shape[0]), dtype=X.dtype)
        self._features = np.empty(0, dtype=np.intp)  # the entered features, in cache order
        self._weighted_sums = np.empty(0, dtype=X.dtype)  # rows times sqrt(s), for a sparse X's centring
        self._csc = _canonical_csc(X.X) if self.is_sparse else None  # column slices of a sparse X
        self._unweighted = self.is_sparse and bool(np.all(X.sqrt_weight == 1))
        # X^T of a sparse X as a CSR matrix sharing the CSC arrays (no transpose object per product)
        self._csr_t = None if self._csc is None else csr_matrix(
            (self._csc.data, self._csc.indices, self._csc.indptr), shape=X.shape[::-1])
        self._lipschitz_vector = np.zeros(X.shape[1])
        self._gram = np.empty((0, 0), dtype=X.dtype)
        # which entries of _gram are computed (all, among the entered features, with all_pairs)
        self._known = None if all_pairs else np.empty((0, 0), dtype=bool)
        # Cholesky factors of the supports of the targets solved alone (a path's next point starts from them)
        self._factors = {}

    def support_factor_of(self, target):
        """The :class:`~skstexplore.solvers.active_set.SupportFactor` of ``target``, kept across fits (a path)."""
        if target not in self._factors:
            self._factors[target] = SupportFactor()
        return self._factors[target]

    def columns(self, idx):
        """Dense columns ``idx``, shape (n_samples, len(idx))."""
        if self.gram is not None:  # nothing to cache: the Gram entries are known
            return self.X.columns(idx) if self.is_sparse else self.X[:, idx]
        self._enter(idx)
        return self._rows[self._take(self._position[idx])].T

    def correlations(self, R):
        r""":math:`X^\top R` for ``R`` of shape (n_samples, n_targets)."""
        if self.is_sparse:
            XtR = np.asarray(self._csr_t @ R)
            XtR -= np.multiply.outer(self.X.offset, self.X.sqrt_weight @ R)
            return XtR
        return self.X.T @ R

    def fitted(self, W):
        r""":math:`X W^\top` through the columns of the joint support only (all of ``X`` when it has few columns)."""
        support = np.flatnonzero(W[0] if W.shape[0] == 1 else (W != 0).any(axis=0))
        if self.gram is not None and not self.is_sparse and 4 * support.size >= W.shape[1]:
            return self.X @ W.T  # cheaper than gathering the columns
        return self.columns(support) @ W[:, support].T

    def gram_block(self, idx, within=None):
        """:math:`G_{UU}` for the features ``idx``, its missing entries computed first.

        ``within`` (boolean, one row per target, one column per feature of
        ``idx``), without ``all_pairs``: only the entries within each row's
        features are computed (the others, unless known, are zero).
        """
        if self.gram is not None:
            return self.gram[np.ix_(idx, idx)]
        self._enter(idx)
        position = self._take(self._position[idx])
        if self._known is not None:
            every = np.arange(position.stop) if isinstance(position, slice) else position
            for rows in [slice(None)] if within is None else within:
                self._complete(every[rows])
        if isinstance(position, slice):
            return self._gram[position, position]
        return self._gram[np.ix_(position, position)]

    def _complete(self, position):
        """Compute the missing entries among the cached ``position``."""
        known = self._known[np.ix_(position, position)]
        if not known.all():
            self._fill(position, position[_cover(~known)])

    def _fill(self, rows, new, nonzeros=None):
        """The Gram entries between the cached positions ``rows`` and ``new`` (among them; two arrays, or two
        slices), both ways; ``nonzeros``: the :meth:`_nonzeros` of a sparse ``new`` when already read."""
        cached = self._rows[rows]  # a view for a slice
        cross = self._sparse_cross(cached, rows, new, nonzeros) if self.is_sparse else cached @ self._rows[new].T
        down, across = ((rows, new), (new, rows)) if isinstance(rows, slice) else (np.ix_(rows, new), np.ix_(new, rows))
        self._gram[across] = cross.T
        self._gram[down] = cross
        self._symmetrize(new)
        if self._known is not None:
            self._known[across] = True
            self._known[down] = True

    def _symmetrize(self, new):
        """Make the block among ``new`` (inside ``rows`` of :meth:`_fill`) exactly symmetric: the mean of its two ways.

        Its entries come from one product of the rows with the new rows,
        whose two ways (``(i, j)`` and ``(j, i)``) may differ in the last
        bit (in float32, far above float64's rounding): the active-set method
        reads one triangle for its products and rows for its factor, and
        would solve a system inconsistent with its gradient. ``a + b`` and
        ``b + a`` round alike, and halving is exact (data in unit scale).
        """
        where = (new, new) if isinstance(new, slice) else np.ix_(new, new)
        block = self._gram[where]
        block += block.T
        block *= 0.5
        if not isinstance(new, slice):
            self._gram[where] = block

    def _full_lipschitz(self):
        r"""An upper bound of :math:`\lambda_{\max}(X^\top X)`, by Lanczos on ``X`` once per design."""
        if self._full_value is None:
            X = self.X
            operator = LinearOperator((X.shape[1], X.shape[1]), dtype=np.float64,
                                      matvec=lambda v: X.T @ (X @ v.astype(X.dtype)))
            value = eigsh(operator, k=1, which="LA", tol=_LANCZOS_RTOL, return_eigenvectors=False)[0]
            self._full_value = float(value) * (1 + 10 * _LANCZOS_RTOL)
        return self._full_value

    def in_cache_order(self, idx):
        """``idx`` reordered as stored (a set that is a prefix of the cache is then sliced, not gathered)."""
        if self.gram is not None:
            return idx
        self._enter(idx)
        return idx[np.argsort(self._position[idx], kind="stable")]

    def _take(self, position):
        """Row positions as a slice when they are ``0, 1, ..., k - 1``."""
        if position.size and position[0] == 0 and position[-1] == position.size - 1 and np.all(np.diff(position) == 1):
            return slice(0, position.size)
        return position

    def _enter(self, idx):
        """The dense (centred) rows of the features ``idx`` not cached yet, in increasing feature order."""
        new = idx[self._position[idx] < 0]
        if not new.size:
            return
        if new.size > 1 and not np.all(new[1:] > new[:-1]):  # (the callers' features are mostly sorted already)
            new = np.unique(new)
        m, total = self._n_entered, self._n_entered + new.size
        if total > self._gram.shape[0]:
            self._grow(min(2 * total, self.X.shape[1]))  # room for twice the entered features: at least doubling
        self._features[m:total] = new
        nonzeros = None
        if self.is_sparse:
            nonzeros = self._enter_sparse(new, m, total)
        else:
            self._rows[m:total] = self.X.T[new]
        self._position[new] = np.arange(m, total)
        self._n_entered = total
        if self._known is None:
            self._fill(slice(0, total), slice(m, total), nonzeros)

    def _enter_sparse(self, new, m, total):
        r"""Dense centred rows of the sparse columns ``new`` into the cache: :math:`x_j - \sqrt{s}\,\bar x_j`,
        and their products with :math:`\sqrt{s}` (for :meth:`_sparse_cross`); returns their :meth:`_nonzeros`."""
        weight, offset = self.X.sqrt_weight, self.X.offset
        nonzeros = samples, values, lengths, _ = self._nonzeros(new)
        rows = self._rows[m:total]
        if self._unweighted:  # the centring (times a unit weight: the same numbers), then the stored entries
            rows[:] = -offset[new, None]
        else:
            np.multiply.outer(-offset[new], weight, out=rows)
        rows[np.repeat(np.arange(new.size), lengths), samples] += values  # (no duplicates)
        self._weighted_sums[m:total] = rows @ weight
        return nonzeros

    def _nonzeros(self, features):
        """Sample indices and values of the nonzeros of the sparse columns ``features``, read from the CSC
        arrays directly (no sparse matrix objects: their overhead exceeds the work on small blocks), with each
        column's count and start."""
        indptr = self._csc.indptr
        lengths = indptr[features + 1] - indptr[features]
        starts = np.cumsum(lengths) - lengths
        source = np.repeat(indptr[features] - starts, lengths) + np.arange(starts[-1] + lengths[-1])
        return self._csc.indices[source], self._csc.data[source], lengths, starts

    def _sparse_cross(self, cached, rows, new, nonzeros=None):
        r""":math:`X_{c,E}^\top X_{c,N}` for the cached positions ``rows`` (:math:`E`, their rows ``cached``) and
        ``new`` (:math:`N`).

        With :math:`X_c = X - \sqrt{s}\,\bar x^\top`,
        :math:`X_{c,E}^\top X_{c,N} = X_{c,E}^\top X_N - (X_{c,E}^\top
        \sqrt{s})\,\bar x_N^\top`, where :math:`X_{c,E}^\top X_N` gathers the
        cached rows at the columns' nonzeros (:math:`|E|\,\mathrm{nnz}(X_N)`
        multiply-adds) or, beyond ``_GATHER_MAX`` of them, comes from a sparse
        product.
        """
        weight, offset = self.X.sqrt_weight, self.X.offset
        features = self._features[new]
        samples, values, lengths, starts = self._nonzeros(features) if nonzeros is None else nonzeros
        if cached.shape[0] * values.size > _GATHER_MAX:
            block = self._csc[:, features]
            cross = (self._csc[:, self._features[rows]].T @ block).toarray()
            cross -= np.multiply.outer(offset[self._features[rows]], np.asarray(block.T @ weight).ravel())
        else:
            products = cached[:, samples] * values
            filled = lengths > 0  # reduceat cannot give an empty column's zero sum
            if filled.all():
                cross = np.add.reduceat(products, starts, axis=1)
            else:
                cross = np.zeros((cached.shape[0], features.size), dtype=self._rows.dtype)
                if filled.any():
                    cross[:, filled] = np.add.reduceat(products, starts[filled], axis=1)
        cross -= np.multiply.outer(self._weighted_sums[rows], offset[features])
        return cross

    def _grow(self, capacity):
        """Room for ``capacity`` entered features (amortised: capacities double)."""
        m = self._n_entered
        rows = np.empty((capacity, self.X.shape[0]), dtype=self.X.dtype)
        rows[:m] = self._rows[:m]
        # without all_pairs, entries never computed stay zero (a block's unneeded entries)
        gram = (np.empty if self._known is None else np.zeros)((capacity, capacity), dtype=self.X.dtype)
        gram[:m, :m] = self._gram[:m, :m]
        known = None
        if self._known is not None:
            known = np.zeros((capacity, capacity), dtype=bool)
            known[:m, :m] = self._known[:m, :m]
        features = np.empty(capacity, dtype=np.intp)
        features[:m] = self._features[:m]
        sums = np.empty(capacity, dtype=self.X.dtype)
        sums[:m] = self._weighted_sums[:m]
        self._rows, self._gram, self._known, self._features, self._weighted_sums = rows, gram, known, features, sums

    def lipschitz(self, idx, gram_block):
        r""":math:`\lambda_{\max}(G_{UU}) / n` for the features ``idx`` (1 if zero).

        Exact (LAPACK) for small blocks; for larger ones Lanczos to relative
        accuracy ``1e-4``, started from the top eigenvector of the previous
        block restricted to ``idx`` (working sets grow by a few features, so
        it starts close), and raised by ``1e-3`` (relative) to an upper bound;
        a set of at least half the features gets the bound
        :math:`\lambda_{\max}(X^\top X)/n`, computed once per design.
        """
        n_samples, n_features = self.X.shape
        if idx.size <= _DENSE_EIGEN_MAX:
            value = spectral_norm_sq(gram=gram_block)
        elif 2 * idx.size >= n_features:
            value = self._full_lipschitz()  # an upper bound, computed once per design
        else:
            v0 = self._lipschitz_vector[idx] + 1e-3 / np.sqrt(idx.size)
            values, vectors = eigsh(gram_block.astype(np.float64, copy=False), k=1, which="LA", v0=v0,
                                    tol=_LANCZOS_RTOL)
            # Ritz value within _LANCZOS_RTOL (relative) below: inflated to an upper bound
            value = float(values[0]) * (1 + 10 * _LANCZOS_RTOL)
            self._lipschitz_vector[:] = 0
            self._lipschitz_vector[idx] = np.abs(vectors[:, 0])
        value /= n_samples
        return value if value > 0 else 1.0


def _cover(unknown):
    """Features (positions in the block) that every unknown entry of the symmetric mask ``unknown`` has as
    its row or column: of each unknown pair, the one with more unknown entries (the later one on a tie), so
    that features new to the block take the entries they share with the rest.

    Feature ``j`` is taken when some unknown partner (itself included: its
    diagonal entry) ranks no higher; the higher of each unknown pair then is.
    """
    n = unknown.shape[0]
    count = unknown.sum(axis=0)
    if count.min() == n:  # nothing known
        return np.arange(n)
    rank = count * n + np.arange(n)
    lowest_partner = np.where(unknown, rank[:, None], n * n + n).min(axis=0)
    return lowest_partner <= rank


def _canonical_csc(X):
    """``X`` as CSC without duplicated entries (its arrays are read directly); a copy only where needed."""
    csc = X.tocsc()
    if not csc.has_canonical_format:
        csc = csc.copy()
        csc.sum_duplicates()
    return csc
