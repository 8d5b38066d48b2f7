r"""The Cholesky factor of a support's Gram block, updated feature by feature: :class:`SupportFactor`."""

import numpy as np
from scipy.linalg import qr_delete
from scipy.linalg.lapack import dpotrs, dtrtrs


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
        Upper triangular factor.
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
        self.features, self.R = np.empty(0, dtype=int), np.empty((0, 0))
        self.k_add = 1

    def attach(self, G, labels, w):
        """Use the block ``G`` of features ``labels``; refactorise unless the kept factor is ``w``'s support's."""
        self.G, self.labels = G, labels
        self.cutoff = 100 * np.finfo(np.float64).eps * max(float(np.max(np.diagonal(G), initial=0.0)), 1e-300)
        support = np.flatnonzero(w)
        position = dict(zip(labels[support].tolist(), support.tolist()))
        order = np.array([position.get(feature, -1) for feature in self.features.tolist()], dtype=int)
        if order.size == support.size and np.all(order >= 0):
            self.order = order
        else:
            self.reset(support)

    def reset(self, order):
        self.order, self.R = np.empty(0, dtype=int), np.empty((0, 0))
        if not self.add(order):
            self.order = None
        self._label()

    def _label(self):
        self.features = self.labels[self.order] if self.order is not None else np.empty(0, dtype=int)

    def add(self, new):
        """Append the features ``new``; False (factor unchanged) if the block becomes singular."""
        if not new.size:
            return True
        K = self.order.size
        B = _triangular(self.R, self.G[np.ix_(self.order, new)], trans=1) if K else np.empty((0, new.size))
        S = self.G[np.ix_(new, new)] - B.T @ B
        try:
            R22 = np.linalg.cholesky(S).T
        except np.linalg.LinAlgError:
            return False
        if np.min(np.diagonal(R22)) ** 2 <= (K + new.size) * self.cutoff:
            return False
        R = np.zeros((K + new.size, K + new.size))
        R[:K, :K], R[:K, K:], R[K:, K:] = self.R, B, R22
        self.R, self.order = R, np.concatenate([self.order, new])
        self._label()
        return True

    def remove(self, positions):
        """Drop the features at ``positions`` of ``order``.

        Deleting column :math:`p` of :math:`R` leaves its rows above
        :math:`p` upper triangular and its trailing block
        :math:`R_{p:, p+1:}` upper Hessenberg: Givens rotations of that block
        alone (:func:`scipy.linalg.qr_delete`, :math:`O((K - p)^2)`) restore
        the triangle, so features near the end of the order (the last ones
        added) cost little.
        """
        if not len(positions):
            return
        R, K = self.R, self.order.size
        for position in np.sort(positions)[::-1]:
            m = K - position
            if m > 1:
                trailing = R[position:K, position:K]
                R[position:K, position + 1:K] = qr_delete(np.eye(m), trailing, 0, which="col", check_finite=False)[1]
                R[:K, position:K - 1] = R[:K, position + 1:K].copy()
            K -= 1
        self.R, self.order = np.ascontiguousarray(R[:K, :K]), np.delete(self.order, positions)
        self._label()

    def solve(self, rhs):
        r""":math:`G_{AA}^{-1} b` by the two triangular solves of one LAPACK call (``potrs``)."""
        if not rhs.size:
            return rhs
        # R is C-ordered: R.T is the same memory in Fortran order (LAPACK's), lower triangular
        x, info = dpotrs(self.R.T, rhs.reshape(rhs.shape[0], -1), lower=1)
        if info != 0:
            raise np.linalg.LinAlgError("singular Cholesky factor")
        return x.reshape(rhs.shape)


def _triangular(R, b, trans):
    """:math:`R^{-1} b` (``trans=0``) or :math:`R^{-\top} b` (``trans=1``) for upper triangular ``R`` (LAPACK)."""
    if not b.size:
        return b
    # R is C-ordered: R.T is the same memory in Fortran order (LAPACK's), lower triangular
    x, info = dtrtrs(R.T, b.reshape(b.shape[0], -1), lower=1, trans=1 - trans)
    if info != 0:
        raise np.linalg.LinAlgError("singular triangular factor")
    return x.reshape(b.shape)
