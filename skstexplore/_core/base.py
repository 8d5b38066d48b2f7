"""Estimator base classes: validation, centring, prediction, fitted attributes.

Estimators only validate, centre, call a solver from :mod:`skstexplore.solvers`
and store what it returns; all numerics live in the solvers and in
:mod:`skstexplore._core`.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from .init import resolve_init
from .preprocess import PreparedData, prepare_scaled
from .units import IDENTITY, DataUnits
from .validation import (
    check_bool,
    check_precompute,
    check_positive_int,
    check_sample_weight,
    check_tol,
    gram_pays,
    resolve_n_nonzero_coefs,
)


@dataclass
class SolverResult:
    """What a solver returns, every array with targets as rows.

    Attributes
    ----------
    coef : ndarray of shape (n_targets, n_features)
    n_iter : ndarray of int of shape (n_targets,)
    converged : ndarray of bool of shape (n_targets,)
    support : ndarray of bool of shape (n_targets, n_features) or None
        The support chosen by a k-sparse solver (may be larger than
        ``coef != 0`` when a least-squares coefficient is exactly zero).
    extras : dict
        Solver-specific outputs (exploration vector, loss curves, ...).
    """

    coef: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    support: np.ndarray = None
    extras: dict = field(default_factory=dict)


def center_data(X, Y, fit_intercept):
    """Centre ``X`` and ``Y`` as scikit-learn's linear models do (always a copy).

    Returns
    -------
    Xc, Yc, X_offset, y_offset
        Offsets are zero when ``fit_intercept`` is False.
    """
    if fit_intercept:
        X_offset = X.mean(axis=0)
        y_offset = Y.mean(axis=0)
    else:
        X_offset = np.zeros(X.shape[1], dtype=X.dtype)
        y_offset = np.zeros(Y.shape[1], dtype=X.dtype)
    return X - X_offset, Y - y_offset, X_offset, y_offset


class SparseLinearRegressor(RegressorMixin, BaseEstimator):
    """Base of every estimator: data validation, centring and ``predict``.

    Subclasses implement ``fit`` with :meth:`_validate_fit_data`,
    :func:`center_data` and :meth:`_set_linear_attributes`.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def _validate_fit_data(self, X, y, *, accept_sparse=False, ensure_all_finite=True):
        """Validated float ``X`` and 2-D ``Y`` of the same dtype, and whether ``y`` was 1-D.

        ``accept_sparse=True`` lets a CSR or CSC ``X`` through (see
        :func:`skstexplore._core.preprocess.prepare_data`); ``ensure_all_finite=False``
        leaves NaN and infinity in ``X`` to the caller.
        """
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=[np.float64, np.float32],
            accept_sparse=["csr", "csc"] if accept_sparse else False, ensure_all_finite=ensure_all_finite,
        )
        y_is_1d = y.ndim == 1
        Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        return X, Y, y_is_1d

    def _set_linear_attributes(self, coef, X_offset, y_offset, y_is_1d):
        """Set ``coef_`` and ``intercept_`` from ``coef`` of shape (n_targets, n_features)."""
        intercept = y_offset - coef @ X_offset
        if y_is_1d:
            self.coef_ = coef[0]
            self.intercept_ = intercept[0].item() if self.fit_intercept else 0.0
        else:
            self.coef_ = coef
            self.intercept_ = intercept if self.fit_intercept else np.zeros(coef.shape[0], dtype=coef.dtype)

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        accept_sparse = ["csr", "csc"] if self.__sklearn_tags__().input_tags.sparse else False
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], accept_sparse=accept_sparse)
        return X @ self.coef_.T + self.intercept_


def per_target(values, y_is_1d):
    """Scalar for a 1-D target, the array otherwise (``n_iter_`` and friends)."""
    values = np.asarray(values)
    return values[0].item() if y_is_1d else values


class KSparseRegressor(SparseLinearRegressor):
    """Base of the k-sparse least-squares estimators (IHT, HTP, OMPR, ELS, SEA).

    Subclasses define the constructor with the common parameters, the solver
    function ``_solver`` (a :mod:`skstexplore.solvers` function taking
    ``(X, Y, k, *, coef_init, max_iter, tol, gram, ...)``) and
    ``_solver_params`` for the algorithm's own validated keyword arguments;
    this class does the rest: validation, centring, Gram precomputation,
    ``init`` and ``warm_start`` resolution, attributes and
    ``ConvergenceWarning``. ``fit`` accepts ``sample_weight`` and a
    ``scipy.sparse`` ``X`` (CSR or CSC, never densified), both handled by
    :func:`~skstexplore._core.preprocess.prepare_data`: the solvers see a
    centred, row-weighted design (a dense array or a
    :class:`~skstexplore._core.preprocess.CenteredSparseDesign`).
    """

    _solver = None
    # whether the solver grows a start with fewer than k nonzeros OMP-like itself (then a path over k
    # hands it the previous k's solution as it is, see skstexplore.sparsity)
    _grows_short_starts = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _solver_params(self):
        """Validated algorithm-specific keyword arguments of the solver (override)."""
        return {}

    def _solve(self, X, Y, n_nonzero_coefs, coef_init, gram, units=IDENTITY):
        """Run the solver on centred data in the internal ``units``; return its :class:`SolverResult`."""
        return type(self)._solver(
            X, Y, n_nonzero_coefs, coef_init=coef_init, max_iter=self.max_iter,
            tol=units.residual_sq_to_internal(self.tol), gram=gram,
            **units.solver_params_to_internal(self._solver_params()),
        )

    def _n_products_hint(self, n_targets):
        """Rough number of correlations the solver computes (for ``precompute``)."""
        return n_targets * self.max_iter

    def _check_common_params(self):
        check_positive_int(self.max_iter, "max_iter")
        check_tol(self.tol)
        check_bool(self.fit_intercept, "fit_intercept")
        check_bool(self.warm_start, "warm_start")
        return check_precompute(self.precompute)

    def _gram(self, X, n_targets, precompute):
        if precompute == "auto":
            precompute = gram_pays(*X.shape, self._n_products_hint(n_targets), X.dtype.itemsize)
        if not precompute:
            return None
        return X.T @ X if isinstance(X, np.ndarray) else X.gram()

    def _warm_start_coef(self, n_targets, n_features):
        """Previous ``coef_`` as (n_targets, n_features) when ``warm_start`` applies, else None."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        coef = np.asarray(self.coef_).reshape(-1, self.coef_.shape[-1])
        if coef.shape != (n_targets, n_features):
            return None
        return coef

    def _initial_coef(self, X, Y, k, gram, y_is_1d, units=IDENTITY):
        coef = self._warm_start_coef(Y.shape[1], X.shape[1])
        if coef is not None:
            return units.coef_to_internal(coef.astype(X.dtype))
        return resolve_init(self.init, X, Y, k, gram=gram, y_is_1d=y_is_1d, units=units)

    def fit(self, X, y, sample_weight=None):
        """Fit the k-sparse model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A CSR or CSC matrix is used as is, never densified (CSC makes
            the column blocks of the restricted solves cheapest).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as :class:`sklearn.linear_model.Lasso`
            takes them: weighted centring and each squared residual weighted
            (rescaled to sum to ``n_samples``), so an integer weight repeats
            the row and a zero weight drops it.

        Returns
        -------
        self : object
        """
        problem = self._prepare_problem(X, y, sample_weight)
        return self._fit_problem(problem, resolve_n_nonzero_coefs(self.n_nonzero_coefs, problem.X.shape[1]))

    def _prepare_problem(self, X, y, sample_weight):
        """Validate everything and centre once: the :class:`FitProblem` that any k can be fitted on."""
        precompute = self._check_common_params()
        self._solver_params()  # validates the algorithm's own parameters before any work
        # a dense X is checked for NaN and infinity by the first of prepare_dense_scaled's two passes over it
        X, Y, y_is_1d = self._validate_fit_data(X, y, accept_sparse=True, ensure_all_finite=sp.issparse(X))
        sample_weight = check_sample_weight(sample_weight, X)
        scaled = prepare_scaled(X, Y, self.fit_intercept, sample_weight, type(self).__name__)
        data = scaled.data
        gram = self._gram(data.X, Y.shape[1], precompute)
        return FitProblem(data.X, data.Y, data.X_offset, data.y_offset, data.sqrt_weight, gram=gram,
                          y_is_1d=y_is_1d, units=scaled.units)

    def _fit_problem(self, problem, k, coef_init=None):
        """Fit ``k`` on a prepared problem, from ``coef_init`` (targets as rows, in the problem's internal
        units) or else from ``init``/``warm_start``."""
        units = problem.units
        if coef_init is None:
            coef_init = self._initial_coef(problem.X, problem.Y, k, problem.gram, problem.y_is_1d, units)
        result = units.result_to_user(self._solve(problem.X, problem.Y, k, coef_init, problem.gram, units=units))
        y_is_1d = problem.y_is_1d
        self.n_nonzero_coefs_ = k
        coef = result.coef.astype(problem.Y.dtype, copy=False)
        self._set_linear_attributes(coef, problem.X_offset, problem.y_offset, y_is_1d)
        support = result.support if result.support is not None else result.coef != 0
        self.support_ = support[0] if y_is_1d else support
        self.n_iter_ = per_target(result.n_iter, y_is_1d)
        self._set_extra_attributes(result, y_is_1d)
        warn_if_not_converged(self, result.converged)
        return self

    def _set_extra_attributes(self, result, y_is_1d):
        """Store solver-specific outputs (override)."""


@dataclass
class FitProblem(PreparedData):
    """Centred, weighted data of a k-sparse fit with what depends on ``X`` alone.

    Attributes
    ----------
    gram : ndarray of shape (n_features, n_features) or None
        ``X.T @ X`` of the centred design when precomputed.
    y_is_1d : bool
        Whether the user's ``y`` was 1-D.
    units : DataUnits
        The power-of-two rescaling that brought ``X`` and ``Y`` to unit scale.
    """

    gram: np.ndarray = None
    y_is_1d: bool = False
    units: DataUnits = IDENTITY


def warn_if_not_converged(estimator, converged, n_iter=None):
    """``ConvergenceWarning`` naming the estimator and how many targets did not converge.

    With ``n_iter`` (per target), targets that all stopped before
    ``max_iter`` are said to have stalled at the rounding level of the data
    (more iterations would not help).
    """
    converged = np.asarray(converged)
    if converged.all():
        return
    n_bad, n_targets = int((~converged).sum()), converged.size
    which = "" if n_targets == 1 else f" for {n_bad} of {n_targets} targets"
    name, max_iter = type(estimator).__name__, estimator.max_iter
    if n_iter is not None and np.all(np.asarray(n_iter)[~converged] < max_iter):
        message = (f"{name} did not converge{which}: its duality gap stopped decreasing above tol, at the rounding "
                   f"level of the data's floating-point precision, before max_iter={max_iter}; relax tol.")
    else:
        message = (f"{name} did not converge within max_iter={max_iter} iterations{which}; "
                   "increase max_iter or relax tol.")
    warnings.warn(message, ConvergenceWarning)
