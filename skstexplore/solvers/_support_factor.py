r"""The Cholesky factor of a support's Gram block, updated feature by feature: :class:`SupportFactor`."""

import numpy as np
from scipy.linalg import qr_delete
from scipy.linalg.lapack import dpotrf, dpotrs, dtrtrs


class SupportFactor:
    r"""Upper Cholesky factor :math:`R` of :math:`G_{AA} = R^\top R` for an ordered support :math:`A`.

    Kept by a caller across calls of :func:`active_set_lasso` on blocks of
    the same design (a path, the outer iterations of a working-set solve):
    ``labels`` name the features of the current block, and the factor is
    reused whenever the starting support is the one it factors. Features are
    appended by a block Cholesky step (:math:`O(K^2 k)` for ``k`` features)
    and removed by Givens rotations (:func:`scipy.linalg.qr_delete`,
    :math:`O(K^2)`).

    Attributes
    ----------
    features : ndarray of int
        The factored support, as labels, in factor order.
    order : ndarray of int or None
        The same as positions in the current block; None after a failed
        factorisation (a singular block).
    R : ndarray of shape (K, K)
        Upper triangular factor (a view of the storage: valid until the
        next update).
    k_add : int
        How many features the last call was adding per step.

    Examples
    --------
    >>> import numpy as np
    >>> G = np.array([[4.0, 2.0, 0.0], [2.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    >>> factor = SupportFactor()
    >>> factor.attach(G, np.arange(3), np.array([1.0, 0.0, -1.0]))
    >>> factor.features, np.allclose(factor.R.T @ factor.R, G[np.ix_([0, 2], [0, 2])])
    (array([0, 2]), True)
    """

    def __init__(self):
        self.features, self.order = np.empty(0, dtype=int), np.empty(0, dtype=int)
        self.k_add = 1
        # R is the top-left (K, K) corner of a Fortran-ordered (capacity, capacity) buffer: its first K columns are
        # one contiguous block, which LAPACK reads as R with leading dimension `capacity`. An append writes the new
        # columns and rows in place, a removal shifts whole columns in place: no copy of R
        self._storage = np.empty((0, 0), order="F")
        self._forward = (None, None)  # the last right-hand side of forward() and R^-T of it, until R changes

    def attach(self, G, labels, w):
        """Use the block ``G`` of features ``labels``; refactorise unless the kept factor is ``w``'s support's."""
        self.G, self.labels = G, labels
        self.cutoff = 100 * np.finfo(np.float64).eps * max(float(np.max(np.diagonal(G), initial=0.0)), 1e-300)
        support = w.nonzero()[0]
        position = dict(zip(labels[support].tolist(), support.tolist()))
        order = np.array([position.get(feature, -1) for feature in self.features.tolist()], dtype=int)
        if order.size == support.size and np.all(order >= 0):
            self.order = order
        else:
            self.reset(support)

    @property
    def R(self):
        K = self.order.size
        return self._storage[:K, :K]

    @property
    def _columns(self):
        """The first K columns of the storage (contiguous): R padded with rows that LAPACK does not read."""
        return self._storage[:, : self.order.size]

    def reset(self, order):
        self.order, self._forward = np.empty(0, dtype=int), (None, None)
        if not self.add(order):
            self.order = None
        self._label()

    def _label(self):
        self.features = self.labels[self.order] if self.order is not None else np.empty(0, dtype=int)

    def add(self, new):
        """Append the features ``new``; False (factor unchanged) if the block becomes singular."""
        if not new.size:
            return True
        extension = self.extension(new)
        if extension is None:
            return False
        extension.append()
        return True

    def extension(self, new):
        """The factor extended by the features ``new``, before appending them (an ``Extension``); None if singular."""
        K, k = self.order.size, new.size
        G_new = self.G[new]  # rows are contiguous: G_{A,new} is the transpose of G_{new,A} (G is symmetric)
        B = _triangular(self._columns, G_new[:, self.order].T, trans=1) if K else np.empty((0, k))
        extension = Extension(self, new, B, G_new[:, new] - B.T @ B)
        return extension if extension.R22 is not None else None

    def _append(self, new, B, R22):
        K, k = self.order.size, new.size
        self._reserve(K + k)
        R = self._storage
        R[:K, K:K + k], R[K:K + k, :K], R[K:K + k, K:K + k] = B, 0.0, R22
        self.order, self._forward = np.concatenate([self.order, new]), (None, None)
        self._label()

    def _reserve(self, size):
        """Grow the storage (keeping R) to hold a factor of ``size`` features: doubling, at most the block's size."""
        capacity = self._storage.shape[0]
        if size <= capacity:
            return
        K = self.order.size
        capacity = max(size, min(2 * capacity, self.G.shape[0]))
        storage = np.empty((capacity, capacity), order="F")
        storage[:K, :K] = self._storage[:K, :K]
        self._storage = storage

    def remove(self, positions):
        """Drop the features at ``positions`` of ``order``.

        Deleting column :math:`p` of :math:`R` leaves its rows above
        :math:`p` upper triangular (they only lose that entry) and its
        trailing block :math:`R_{p:, p+1:}` upper Hessenberg: Givens
        rotations of the trailing block alone (:func:`scipy.linalg.qr_delete`,
        :math:`O((K - p)^2)`) restore the triangle, so features near the end
        of the order (the last ones added) cost little. Several positions are
        taken in increasing order, each on the trailing block left by the
        previous one, and every row is written once.
        """
        if not len(positions):
            return
        positions = np.sort(positions)
        R, K, first = self._storage, self.order.size, int(positions[0])
        keep = np.ones(K, dtype=bool)
        keep[positions] = False
        # rows above the first deleted feature only lose columns: columns shifted left in place
        _copy_kept_columns(R[:first, first:K - positions.size], R[:first, first:K], positions - first)
        # the trailing triangle, as a contiguous copy rotated in place
        block, row = np.asfortranarray(R[first:K, first:K]), first
        for i, position in enumerate(positions.tolist()):
            size = block.shape[0]
            if size == 1:
                break
            rotated = qr_delete(np.eye(size, order="F"), block, 0, which="col", overwrite_qr=True,
                                check_finite=False)[1][: size - 1]
            # rows of the features up to the next deleted one are final: they only lose later deleted columns
            n_rows = (int(positions[i + 1]) if i + 1 < positions.size else K) - position - 1
            R[row:row + n_rows, first:row] = 0.0
            _copy_kept_columns(R[row:row + n_rows, row:K - positions.size], rotated[:n_rows],
                               positions[i + 1:] - position - 1)
            row += n_rows
            block = rotated[n_rows:, n_rows:]
        self.order, self._forward = self.order[keep], (None, None)
        self._label()

    def solve(self, rhs):
        r""":math:`G_{AA}^{-1} b`: :meth:`forward`, then the back substitution with :math:`R`."""
        if rhs.ndim == 1 and rhs.size:
            return _triangular(self._columns, self.forward(rhs), trans=0)
        return _triangular(self._columns, _triangular(self._columns, rhs, trans=1), trans=0)

    def forward(self, rhs):
        r""":math:`R^{-\top} b`, kept for the last ``b`` until :math:`R` changes.

        A step that re-solves the support and the next one, which extends it,
        share the right-hand side on the support (same signs and penalty):
        the second needs no forward substitution with :math:`R`.
        """
        cached, y = self._forward
        if cached is None or cached.shape != rhs.shape or not np.array_equal(cached, rhs):
            y = _triangular(self._columns, rhs, trans=1)
            self._forward = (rhs.copy(), y)
        return y


class Extension:
    r"""The factor of a support :math:`A` extended by features :math:`N`, before they are appended.

    .. math::

        R_{ext} = \begin{pmatrix} R & B \\ 0 & R_{N} \end{pmatrix}, \qquad
        B = R^{-\top} G_{AN}, \qquad R_N^\top R_N = S = G_{NN} - B^\top B.

    Solves reuse the forward substitution with :math:`R` while the
    right-hand side on :math:`A` is unchanged (:meth:`SupportFactor.forward`),
    and dropping new features only refactors the small Schur complement
    :math:`S`: a step that guesses several new features and keeps some costs
    no update of :math:`R` beyond the final :meth:`append`.
    """

    def __init__(self, factor, new, B, S):
        self.factor, self.new, self.B, self.S = factor, new, B, S
        self.R22 = self._cholesky(S)

    def _cholesky(self, S):
        # S is symmetric and C-ordered: S.T is the same matrix in LAPACK's order, and L.T is C-ordered
        L, info = dpotrf(S.T, lower=1)
        if info != 0:
            return None
        R22 = L.T
        if S.size and R22.diagonal().min() ** 2 <= (self.factor.order.size + S.shape[0]) * self.factor.cutoff:
            return None
        return R22

    def solve(self, rhs):
        r""":math:`G^{-1} b` on :math:`A \cup N` (``rhs`` in that order) by block substitution."""
        K = self.factor.order.size
        rhs_A, rhs_N = rhs[:K], rhs[K:]
        y_A = self.factor.forward(rhs_A)
        x_N = _cholesky_solve(self.R22, rhs_N - self.B.T @ y_A)
        return np.concatenate([_triangular(self.factor._columns, y_A - self.B @ x_N, trans=0), x_N])

    def drop(self, positions):
        """Leave out the new features at ``positions`` (of ``new``); False (unchanged) if the rest is singular."""
        keep = np.ones(self.new.size, dtype=bool)
        keep[positions] = False
        S = self.S[np.ix_(keep, keep)]
        R22 = self._cholesky(S)
        if R22 is None:
            return False
        self.new, self.B, self.S, self.R22 = self.new[keep], self.B[:, keep], S, R22
        return True

    def append(self):
        """Append the new features to the factor."""
        self.factor._append(self.new, self.B, self.R22)


def _copy_kept_columns(out, source, deleted):
    """``source`` without its columns ``deleted`` (sorted), into ``out`` by slices (no temporary)."""
    written, start = 0, 0
    for stop in [*deleted.tolist(), source.shape[1]]:
        out[:, written:written + stop - start] = source[:, start:stop]
        written, start = written + stop - start, stop + 1


def _cholesky_solve(R, b):
    r""":math:`(R^\top R)^{-1} b` by the two triangular solves of one LAPACK call (``potrs``)."""
    if not b.size:
        return b
    # R is C-ordered: R.T is the same memory in Fortran order (LAPACK's), lower triangular
    x, info = dpotrs(R.T, b, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("singular Cholesky factor")
    return x


def _triangular(columns, b, trans):
    """:math:`R^{-1} b` (``trans=0``) or :math:`R^{-\top} b` (``trans=1``) for upper triangular ``R`` (LAPACK).

    ``columns``: Fortran-contiguous, of shape (>= K, K), whose first K rows are ``R``.
    """
    if not b.size:
        return b
    # leading dimension columns.shape[0]: LAPACK reads the first K rows
    x, info = dtrtrs(columns, b.reshape(b.shape[0], -1), lower=0, trans=trans)
    if info != 0:
        raise np.linalg.LinAlgError("singular triangular factor")
    return x.reshape(b.shape)
