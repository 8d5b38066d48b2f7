r"""One Lasso problem prepared once, solved for any ``alpha``: shared by
:class:`~skstexplore.OracleISTALasso`, :func:`~skstexplore.lasso_path` and
:class:`~skstexplore.OracleISTALassoCV`.

Preparation: sample weights and centring, columns that centring reduced to
rounding noise set to zero (:func:`~skstexplore._core.units.zero_centring_noise`),
the exact power-of-two rescaling of ``X`` and ``y`` of
:class:`~skstexplore._core.units.DataUnits` (so that no product overflows or
underflows, whatever the units: the solution is mapped back exactly), and a
:class:`~skstexplore.solvers.working_set.DesignCache` shared by every solve on
the same data (:func:`~skstexplore._core.preprocess.prepare_scaled`). A dense
``X`` goes through all of it in two passes
(:func:`~skstexplore._core.preprocess.prepare_dense_scaled`, which also gives
the column norms and refuses NaN and infinity); a sparse one through
:func:`~skstexplore._core.preprocess.prepare_data`, never densified.
"""

import warnings
from contextlib import nullcontext

import numpy as np
from scipy.sparse.linalg import LinearOperator, lsqr
from threadpoolctl import ThreadpoolController

from .._core.lasso import lasso_dual_gap
from .._core.preprocess import prepare_scaled
from .._core.units import _ldexp
from ..solvers.gram_path import gram_lasso_path
from ..solvers.ista import fista, ista, oista
from ..solvers.working_set import DesignCache, working_set_lasso

SOLVERS = {"oista": oista, "ista": ista, "fista": fista}

# BLAS threads are limited to one unless a fit multiplies many targets at
# once (n_targets * n_samples * n_features above this): the working-set and
# single-target products are small or matrix-vector, and threads only add
# synchronisation (measured with benchmarks/bench_lasso.py --threads 2 --busy:
# 500 x 5000, alpha = 0.01 alpha_max took 21.8 s with 2 threads against
# 1.5 s with one, while another process held a core).
_SMALL_PRODUCT = 50_000_000


class LassoProblem:
    """Weighted, centred, rescaled data of one fit, and its design cache.

    Parameters
    ----------
    X : ndarray or CSR/CSC matrix of shape (n_samples, n_features)
        Validated, floating point; ``X`` may still hold NaN or infinity:
        they are refused here, from its first pass, with scikit-learn's
        message naming ``estimator_name``.
    Y : ndarray of shape (n_samples, n_targets)
    fit_intercept : bool
    sample_weight : ndarray of shape (n_samples,) or None
        Validated.
    precompute : "auto" or bool
    path : bool
        Solved for many alphas (a path, a cross-validation fold): with
        ``"auto"``, the full Gram matrix is then computed once when
        ``n_features <= n_samples``, as scikit-learn's ``lasso_path`` does.
    estimator_name : str, optional
    """

    def __init__(self, X, Y, fit_intercept, sample_weight=None, precompute="auto", path=False, estimator_name=None):
        # a path is likely to have the full Gram matrix, whose diagonal gives the column norms: computed on demand
        scaled = prepare_scaled(X, Y, fit_intercept, sample_weight, estimator_name, column_norms=not path)
        data, self.units = scaled.data, scaled.units
        self.X, self.Y = data.X, data.Y
        self._col_sq_norms = scaled.col_sq_norms
        self.X_offset, self.y_offset = data.X_offset, data.y_offset
        self.is_sparse = data.is_sparse
        self.n_samples, self.n_features = X.shape
        self.n_targets, self.dtype = self.Y.shape[1], self.X.dtype
        self.y_sq = np.einsum("ij,ij->j", self.Y, self.Y).astype(np.float64)
        self.precompute = precompute
        self.path = path
        self._design = None

    @property
    def col_norms(self):
        """The column norms of a dense ``X`` when exact (see :func:`_exact_norms`), else None."""
        if self._col_sq_norms is None and not self.is_sparse:
            self._col_sq_norms = np.einsum("ij,ij->j", self.X, self.X)  # as prepare_dense_scaled sums them
        return None if self._col_sq_norms is None else _exact_norms(self._col_sq_norms)

    def design(self, working_set, n_targets):
        """The :class:`DesignCache`, with a full Gram matrix when it pays."""
        wants_gram = gram_wanted(self.precompute, self.n_samples, self.n_features, n_targets, self.dtype.itemsize,
                                 working_set, self.is_sparse, self.path)
        if self._design is None or (wants_gram and self._design.gram is None):
            gram = None
            if wants_gram:
                gram = self.X.gram() if self.is_sparse else self.X.T @ self.X
            # column norms from the Gram diagonal when there is one; Gram entries only within the blocks asked for
            # when several targets have their own working sets
            self._design = DesignCache(self.X, gram, None if wants_gram else self.col_norms, all_pairs=n_targets == 1)
        return self._design

    def adopt_gram(self, gram, units):
        """Use ``gram``, the Gram matrix of this problem's ``X`` computed elsewhere in the internal units
        ``units`` (a cross-validation fold's, from :mod:`~skstexplore._core.scatter`), instead of computing it."""
        shift = 2 * (units.ex - self.units.ex)
        self._design = DesignCache(self.X, _ldexp(gram, shift) if shift else gram, None, all_pairs=self.n_targets == 1)

    def correlations(self):
        r""":math:`X^\top Y` in internal units, shape (n_features, n_targets)."""
        return self.X.T @ self.Y

    def alpha_max(self, positive=False):
        r""":math:`\|X^\top y\|_\infty / n` of each target (largest positive entry for
        ``positive``), in the user's units: the smallest ``alpha`` with a zero solution."""
        XtY = self.correlations()
        corr = np.maximum(XtY.max(axis=0), 0) if positive else np.abs(XtY).max(axis=0)
        return np.ldexp(corr.astype(np.float64) / self.n_samples, self.units.ex + self.units.ey)

    def gap_tolerance(self, tol):
        """scikit-learn's criterion, ``tol * ||y||^2 / n`` per target (centred, weighted)."""
        return tol * self.y_sq / self.n_samples

    def solve(self, alpha, *, solver="oista", working_set=True, max_iter=1000, tol=1e-4, positive=False,
              coef_init=None, targets=None):
        """The solver's result for the targets ``targets`` (all if None), in the user's units.

        ``alpha`` and ``coef_init`` (n_targets, n_features) are in the user's
        units, and so are the returned ``coef`` and ``extras["dual_gap"]``.
        """
        targets = np.arange(self.n_targets) if targets is None else targets
        Y, gap_tol = self.Y[:, targets], self.gap_tolerance(tol)[targets]
        scaled_alpha = float(np.ldexp(alpha, -(self.units.ex + self.units.ey)))
        init = None if coef_init is None else self.units.coef_to_internal(np.asarray(coef_init, dtype=self.dtype))
        design = self.design(working_set, self.n_targets)
        with _blas_limits(self.n_samples, self.n_features, Y.shape[1]):
            if working_set:
                result = working_set_lasso(SOLVERS[solver], self.X, Y, scaled_alpha, design=design, coef_init=init,
                                           max_iter=max_iter, tol=gap_tol, positive=positive)
            else:
                result = SOLVERS[solver](self.X, Y, scaled_alpha, coef_init=init, gram=design.gram, max_iter=max_iter,
                                         tol=gap_tol, positive=positive)
        result.coef = self.units.coef_to_user(result.coef)
        result.extras["dual_gap"] = self.units.residual_sq_to_user(np.asarray(result.extras["dual_gap"], dtype=float))
        return result

    def solve_path(self, alphas, *, solver="oista", working_set=True, max_iter=1000, tol=1e-4, positive=False,
                   coef_init=None):
        r"""Solutions along the decreasing ``alphas``, each warm-started from the previous one, in the user's units.

        One target with a full Gram matrix and working sets (the active-set
        method on all features) runs :func:`~skstexplore.solvers.gram_path.gram_lasso_path`:
        :math:`X^\top y` computed once, gaps from the Gram matrix, one
        BLAS-thread limit for the whole path; a point it leaves unconverged
        is finished by :meth:`solve`. Otherwise each point is a :meth:`solve`.

        Returns
        -------
        coefs : ndarray of shape (n_alphas, n_targets, n_features)
        gaps, n_iter : ndarray of shape (n_alphas, n_targets)
        converged : ndarray of bool of shape (n_alphas, n_targets)
        """
        settings = dict(solver=solver, working_set=working_set, max_iter=max_iter, tol=tol, positive=positive)
        n_targets = self.n_targets
        gram = self._path_gram(working_set)
        if gram is not None:
            return self._gram_path(gram, alphas, settings, coef_init)
        coefs = np.empty((len(alphas), n_targets, self.n_features), dtype=self.dtype)
        gaps, n_iter = np.empty((len(alphas), n_targets)), np.empty((len(alphas), n_targets), dtype=int)
        converged = np.empty((len(alphas), n_targets), dtype=bool)
        W = coef_init
        for i, alpha in enumerate(alphas):
            result = self.solve(alpha, coef_init=W, **settings)
            W = coefs[i] = result.coef
            gaps[i], n_iter[i], converged[i] = result.extras["dual_gap"], result.n_iter, result.converged
        return coefs, gaps, n_iter, converged

    def _path_gram(self, working_set):
        """The full Gram matrix when :meth:`solve_path` runs the Gram path (one target, working sets), else None."""
        return self.design(True, 1).gram if working_set and self.n_targets == 1 else None

    def _gram_path(self, gram, alphas, settings, coef_init):
        """:meth:`solve_path` for one target on the full Gram matrix."""
        units = self.units
        init = None if coef_init is None else units.coef_to_internal(
            np.asarray(coef_init, dtype=self.dtype).reshape(1, -1))[0]
        scaled = np.ldexp(np.asarray(alphas, dtype=np.float64), -(units.ex + units.ey))
        with _blas_limits(self.n_samples, self.n_features, 1):
            coefs, gaps, n_iter, converged = gram_lasso_path(
                gram, self.correlations()[:, 0], float(self.y_sq[0]), self.n_samples, scaled, coef_init=init,
                tol=float(self.gap_tolerance(settings["tol"])[0]), positive=settings["positive"],
                max_steps=min(settings["max_iter"], 50 + 4 * self.n_features))
        coefs = units.coef_to_user(coefs.astype(self.dtype, copy=False))[:, None, :]
        gaps, n_iter, converged = units.residual_sq_to_user(gaps)[:, None], n_iter[:, None], converged[:, None]
        for i in np.flatnonzero(~converged[:, 0]):  # finished with the residual (rounding, or out of steps)
            result = self.solve(alphas[i], coef_init=coefs[i], **settings)
            coefs[i], gaps[i], n_iter[i] = result.coef, result.extras["dual_gap"], n_iter[i] + result.n_iter
            converged[i] = result.converged
        return coefs, gaps, n_iter, converged

    def least_squares(self):
        """The ``alpha = 0`` fit: least squares (minimum norm when ``X`` is rank deficient)."""
        if self.is_sparse:
            W = np.array([lsqr(_as_operator(self.X), y, atol=1e-14, btol=1e-14)[0] for y in self.Y.T])
        else:
            W = np.linalg.lstsq(self.X, self.Y, rcond=None)[0].T
        W = W.astype(self.X.dtype, copy=False)
        gap = lasso_dual_gap(self.X, self.Y, W, 0.0)
        return self.units.coef_to_user(W), self.units.residual_sq_to_user(gap)

    def intercept(self, coef):
        """Intercepts of coefficients ``coef`` (n_targets, n_features) in the user's units."""
        return self.y_offset - coef @ self.X_offset


def _exact_norms(sq_norms):
    """The column norms, when :class:`DesignCache`'s square root of their square gives them back (no underflow)."""
    norms = np.sqrt(sq_norms).astype(np.float64)
    return norms if np.array_equal(np.sqrt(norms**2), norms) else None


def gram_wanted(precompute, n_samples, n_features, n_targets, itemsize, working_set, is_sparse, path):
    """Whether a problem precomputes its full Gram matrix: ``precompute``, or with "auto" :func:`_gram_pays`."""
    if precompute != "auto":
        return precompute
    return _gram_pays(n_samples, n_features, n_targets, itemsize, working_set, is_sparse, path)


def _gram_pays(n_samples, n_features, n_targets, itemsize, working_set, is_sparse, path=False):
    r"""Whether to precompute the full Gram matrix :math:`X^\top X`.

    It must fit in 1 GiB. The plain solvers need it for a sparse ``X`` and
    use it for a dense one when a product with it is cheaper than two with
    ``X`` (``n_features <= 2 n_samples``). With working sets only Gram blocks
    of the working set are used, computed on demand; the full matrix
    (:math:`n p^2`, and the active-set method then runs on all features)
    pays when many targets share it (their working sets cover most
    features): ``10 n_targets >= n_features``, or along a path, whose small
    alphas bring most features in, when ``n_features <= n_samples``.
    """
    fits = n_features * n_features * itemsize <= 2**30
    if working_set:
        shared = n_features <= 2 * n_samples and 10 * n_targets >= n_features
        return fits and (shared or (path and n_features <= n_samples))
    return fits and (is_sparse or n_features <= 2 * n_samples)


_controller = []


def _blas_limits(n_samples, n_features, n_targets):
    """One BLAS thread unless the products are large BLAS-3 ones (see ``_SMALL_PRODUCT``).

    The thread-pool controller is created once: its discovery of the loaded
    libraries costs ~10 ms, more than a small fit.
    """
    if n_targets * n_samples * n_features > _SMALL_PRODUCT:
        return nullcontext()
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")


def _as_operator(design):
    return LinearOperator(design.shape, matvec=design.dot, rmatvec=design.rdot, dtype=design.dtype)


def warn_alpha_zero(estimator_name):
    warnings.warn(
        f"{estimator_name} with alpha=0 is ordinary least squares: the least-squares fit is returned "
        "(minimum-norm when X is rank deficient); sklearn.linear_model.LinearRegression is the "
        "estimator meant for it.",
        UserWarning,
    )
