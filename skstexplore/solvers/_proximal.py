"""The proximal gradient step and the iteration states of ISTA and FISTA.

:func:`skstexplore.solvers.ista.ista` and :func:`~skstexplore.solvers.ista.fista`
drive these states; :mod:`skstexplore.solvers._oracle` extends :class:`_ISTA`
to Oracle ISTA.
"""

import numpy as np
import scipy.sparse as sp

from .._core.lstsq import LeastSquaresData
from .._core.preprocess import CenteredSparseDesign
from .._core.thresholding import nonnegative_soft_threshold, soft_threshold


def proximal_gradient_step(W, neg_grad, step, alpha, positive=False):
    r"""The ISTA step shared by every solver of this module.

    .. math:: w^+ = \mathrm{ST}\big(w + s\,(-\nabla f(w)),\ \alpha s\big)

    (with ``positive=True`` the proximal operator also projects on
    :math:`w \ge 0`).

    Parameters
    ----------
    W : ndarray of shape (n_targets, n_features)
        Point where the step is taken.
    neg_grad : ndarray of shape (n_targets, n_features)
        :math:`-\nabla f(w) = X^\top (y - Xw) / n` at ``W``.
    step : float or ndarray of shape (n_targets, 1)
        Step size(s) ``s``.
    alpha : float
    positive : bool

    Returns
    -------
    W_new : ndarray of shape (n_targets, n_features)
    """
    prox = nonnegative_soft_threshold if positive else soft_threshold
    return prox(W + step * neg_grad, alpha * step)


def _scaled_data(X, Y, gram):
    r"""Least-squares data of :math:`X/\sqrt{n}`, :math:`Y/\sqrt{n}`.

    Its correlation :math:`X^\top y/n - (G/n) w` is then exactly
    :math:`-\nabla f(w)`, with no division per iteration. A sparse design
    (:class:`~skstexplore._core.preprocess.CenteredSparseDesign`) is scaled
    through its data and offsets, never densified; it needs ``gram``.
    """
    n_samples = X.shape[0]
    scale = X.dtype.type(1.0 / np.sqrt(n_samples))
    gram = None if gram is None else gram / X.dtype.type(n_samples)
    if isinstance(X, CenteredSparseDesign):
        X_scaled = CenteredSparseDesign(X.X * scale, X.offset * scale, X.sqrt_weight)
    else:
        X_scaled = X * scale
    return _SparseIterateData(X_scaled, Y * scale, gram)


class _SparseIterateData(LeastSquaresData):
    r"""Products :math:`WG` that skip the zeros of sparse iterates.

    Proximal iterates are sparse; when at most :data:`_SPARSE_PRODUCT_DENSITY`
    of their entries are nonzero, :math:`WG` is computed from ``W`` in CSR
    form (cost proportional to its nonzeros instead of its size).
    """

    def gram_times(self, W):
        if self.gram is not None and W.shape[0] > 1 and np.count_nonzero(W) <= _SPARSE_PRODUCT_DENSITY * W.size:
            return np.asarray(sp.csr_matrix(W) @ self.gram)
        return super().gram_times(W)


# Below this fraction of nonzeros, a CSR product beats the dense BLAS one
# (measured on 1000 x 256 iterates times a 256 x 256 Gram matrix).
_SPARSE_PRODUCT_DENSITY = 0.03


class _ISTA:
    """ISTA on the active targets: iterate ``W``, ``WG`` = :math:`W G / n`, ``b`` = :math:`(X^\\top Y)^\\top / n`."""

    # Arrays with one row per active target, restricted by ``keep``.
    _row_arrays = ("rows", "b", "W", "WG")

    def __init__(self, data, W, L, alpha, positive):
        self.data, self.L, self.alpha, self.positive = data, L, alpha, positive
        self.rows = np.arange(W.shape[0])
        self.b = data.Xty
        self.W = W
        self.WG = data.gram_times(W)
        self._step = W.dtype.type(1.0 / L)

    @property
    def step_used(self):
        """Step taken by each active row at the last iteration."""
        return np.full(self.W.shape[0], 1.0 / self.L)

    def neg_grad(self):
        r""":math:`-\nabla f = X^\top(y - Xw)/n` of the active rows."""
        return self.b - self.WG

    def step(self):
        self.W = self._ista_step(self.W, self.neg_grad())
        self.WG = self.data.gram_times(self.W)

    def _ista_step(self, W, neg_grad):
        return proximal_gradient_step(W, neg_grad, self._step, self.alpha, self.positive)

    def keep(self, rows):
        """Restrict the state to the rows selected by the boolean mask ``rows``."""
        for name in self._row_arrays:
            setattr(self, name, getattr(self, name)[rows])

    def extras(self, n_targets):
        return {}


class _FISTA(_ISTA):
    """FISTA: also the extrapolated point ``Z``, its ``ZG`` and the momentum ``t``."""

    _row_arrays = _ISTA._row_arrays + ("Z", "ZG")

    def __init__(self, data, W, L, alpha, positive):
        super().__init__(data, W, L, alpha, positive)
        self.Z, self.ZG, self.t = W, self.WG, 1.0

    def step(self):
        W_new = self._ista_step(self.Z, self.b - self.ZG)
        WG_new = self.data.gram_times(W_new)
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * self.t**2)) / 2.0
        beta = W_new.dtype.type((self.t - 1.0) / t_new)
        self.Z = W_new + beta * (W_new - self.W)
        self.ZG = WG_new + beta * (WG_new - self.WG)
        self.W, self.WG, self.t = W_new, WG_new, t_new

