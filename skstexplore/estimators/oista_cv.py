"""The Lasso along a path of alphas (``lasso_path``) and its cross-validation (``OracleISTALassoCV``)."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import check_cv
from sklearn.utils import check_array
from sklearn.utils.extmath import safe_sparse_dot

from .._core.base import SparseLinearRegressor, per_target, warn_if_not_converged
from .._core.memory import row_blocks
from .._core.validation import check_float, check_option, check_positive_int, check_precompute, check_sample_weight
from ._cv_folds import fold_problems
from ._lasso_problem import SOLVERS, LassoProblem
from .oista import LassoSolverMixin


def lasso_path(X, y, *, eps=1e-3, n_alphas=100, alphas=None, solver="oista", working_set=True, max_iter=1000,
               tol=1e-4, positive=False, precompute="auto", coef_init=None, return_n_iter=False):
    r"""The Lasso for a decreasing sequence of alphas, each fit warm-started from the previous one.

    Minimises, for each ``alpha``, scikit-learn's Lasso objective

    .. math:: \frac{1}{2 n_{\text{samples}}}\|y - Xw\|_2^2 + \alpha\|w\|_1

    with the conventions of :func:`sklearn.linear_model.lasso_path` (no
    intercept: centre ``X`` and ``y`` beforehand if needed; same return values
    and shapes). Everything that depends on ``X`` alone (column norms, the
    Gram entries and dense columns of the features that enter some working
    set; with ``n_features <= n_samples`` the full Gram matrix, as
    :func:`sklearn.linear_model.lasso_path` does) is computed once for the
    whole path, and each alpha starts the exact active-set solver from the
    previous solution and its Cholesky factor. A 2-D ``y`` gets one independent
    Lasso per target (not sklearn's multi-task Lasso), solved together.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Dense, CSR or CSC (never densified).
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    n_alphas : int, default=100
        Length of the default grid, geometric from
        :math:`\alpha_{\max} = \max_t \|X^\top y_t\|_\infty / n` down.
    alphas : array-like, default=None
        The alphas, used in decreasing order; overrides the default grid.
    solver : {"oista", "ista", "fista"}, default="oista"
    working_set : bool, default=True
        See :class:`~skstexplore.OracleISTALasso`.
    max_iter : int, default=1000
        Iterations per alpha and target.
    tol : float, default=1e-4
        Each fit stops when its duality gap is ``<= tol * ||y||^2 / n_samples``.
    positive : bool, default=False
    precompute : "auto" or bool, default="auto"
    coef_init : ndarray of shape (n_features,) or (n_targets, n_features), default=None
        Starting point of the first fit.
    return_n_iter : bool, default=False

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        In the objective's scaling (as ``Lasso.dual_gap_``).
    n_iters : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        Only when ``return_n_iter``.

    See Also
    --------
    sklearn.linear_model.lasso_path : coordinate descent on the same path.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import lasso_path
    >>> X = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 1.0], [0.0, 1.0, 3.0]])
    >>> y = np.array([1.0, 2.0, 3.0])
    >>> alphas, coefs, gaps = lasso_path(X, y, n_alphas=3, tol=1e-10)
    >>> alphas.round(3), coefs.shape
    (array([3.667, 0.116, 0.004]), (3, 3))
    >>> np.count_nonzero(coefs, axis=0)
    array([0, 3, 3])
    """
    check_option(solver, "solver", set(SOLVERS))
    tol = check_float(tol, "tol", min_val=0.0)
    check_positive_int(max_iter, "max_iter")
    precompute = check_precompute(precompute)
    # NaN and infinity in X are refused by LassoProblem, from the peak its units need (a check here is a pass more)
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], ensure_all_finite=False)
    y = check_array(y, ensure_2d=False, dtype=X.dtype)
    y_is_1d = y.ndim == 1
    problem = LassoProblem(X, y.reshape(X.shape[0], -1), False, None, precompute, path=True)
    alphas = _alpha_grid(problem, eps, n_alphas, alphas, positive)
    W = None if coef_init is None else np.broadcast_to(np.asarray(coef_init, dtype=X.dtype),
                                                       (problem.Y.shape[1], problem.n_features))
    coefs, gaps, n_iters, _ = problem.solve_path(alphas, solver=solver, working_set=working_set, max_iter=max_iter,
                                                 tol=tol, positive=positive, coef_init=W)
    # (n_alphas, n_targets, ...) to sklearn's (n_targets, n_features, n_alphas)
    coefs, gaps, n_iters = coefs.transpose(1, 2, 0), gaps.T, n_iters.T
    if y_is_1d:
        coefs, gaps, n_iters = coefs[0], gaps[0], n_iters[0]
    return (alphas, coefs, gaps, n_iters) if return_n_iter else (alphas, coefs, gaps)


def _alpha_grid(problem, eps, n_alphas, alphas, positive):
    """The alphas in decreasing order: given, or geometric from the largest alpha_max of the targets."""
    if alphas is not None:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or alphas[-1] <= 0:
            raise ValueError(f"alphas must be finite and > 0; got alphas={alphas!r}.")
        return alphas
    check_positive_int(n_alphas, "n_alphas")
    eps = check_float(eps, "eps", min_val=0.0, include_min=False)
    top = problem.alpha_max(positive).max()
    # alpha_max at the rounding of the data (in its unit scale): y is orthogonal to X, every alpha gives zero
    # coefficients; scikit-learn's grid is then this resolution, here in units of X^T y so that rescaling X and
    # y rescales the grid
    floor = float(np.ldexp(np.finfo(np.float64).resolution, problem.units.ex + problem.units.ey))
    if top <= floor:
        return np.full(n_alphas, floor)
    return np.geomspace(top, top * eps, num=n_alphas)


class OracleISTALassoCV(LassoSolverMixin, SparseLinearRegressor):
    r"""Lasso with ``alpha`` chosen by cross-validation along a warm-started path.

    The counterpart of :class:`sklearn.linear_model.LassoCV` with the solvers
    of :class:`~skstexplore.OracleISTALasso` (same objective,

    .. math:: \frac{1}{2 n_{\text{samples}}}\|y - Xw\|_2^2 + \alpha\|w\|_1,

    same conventions): the grid of alphas is computed on the whole data, each
    fold runs :func:`~skstexplore.lasso_path`'s warm-started path on its
    training part (what depends on the fold's ``X`` computed once per fold;
    when the folds' training sets are unions of shared blocks of samples, as
    with ``KFold``, and their paths run on the full Gram matrix, every fold's
    Gram matrix comes from the blocks' scatters, one Gram matrix of the data
    in all, without a centred copy of the fold), the mean squared error on the held-out part (weighted by
    ``sample_weight``) is averaged over folds, and the model is refitted on all
    data at the best alpha. A 2-D ``y`` gets one alpha per target
    (``alpha_`` is then an array; sklearn's ``LassoCV`` refuses 2-D ``y``).

    Parameters
    ----------
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the grid.
    n_alphas : int, default=100
    alphas : array-like, default=None
        The grid, instead of the default one.
    cv : int, cross-validation generator or iterable, default=None
        As in :class:`sklearn.linear_model.LassoCV` (None: 5-fold ``KFold``).
    solver : {"oista", "ista", "fista"}, default="oista"
    n_jobs : int, default=None
        Folds computed in parallel (threads, as sklearn's ``LassoCV``).
    max_iter : int, default=1000
    tol : float, default=1e-4
    fit_intercept : bool, default=True
    precompute : "auto" or bool, default="auto"
    positive : bool, default=False
    working_set : bool, default=True

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
    alphas_ : ndarray of shape (n_alphas,)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_alphas, n_folds, n_targets)
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    dual_gap_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or ndarray of shape (n_targets,)
        Iterations of the final fit.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.LassoCV
    skstexplore.lasso_path

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import OracleISTALassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 20))
    >>> y = X[:, :3] @ np.array([2.0, -1.0, 1.5]) + 0.1 * rng.standard_normal(60)
    >>> model = OracleISTALassoCV(n_alphas=20).fit(X, y)
    >>> np.flatnonzero(np.abs(model.coef_) > 0.5)
    array([0, 1, 2])
    >>> model.mse_path_.shape
    (20, 5)
    """

    def __init__(self, *, eps=1e-3, n_alphas=100, alphas=None, cv=None, solver="oista", n_jobs=None, max_iter=1000,
                 tol=1e-4, fit_intercept=True, precompute="auto", positive=False, working_set=True):
        self.eps = eps
        self.n_alphas = n_alphas
        self.alphas = alphas
        self.cv = cv
        self.solver = solver
        self.n_jobs = n_jobs
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.positive = positive
        self.working_set = working_set

    def fit(self, X, y, sample_weight=None):
        """Choose alpha by cross-validation, then fit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            As in :class:`~skstexplore.OracleISTALasso`; the held-out errors
            are weighted by it too.

        Returns
        -------
        self : object
        """
        tol, precompute = self._check_solver_params()
        X, Y, y_is_1d = self._validate_fit_data(X, y, accept_sparse=True, ensure_all_finite=False)  # see lasso_path
        sample_weight = check_sample_weight(sample_weight, X)
        problem = LassoProblem(X, Y, self.fit_intercept, sample_weight, precompute, estimator_name=type(self).__name__)
        alphas = _alpha_grid(problem, self.eps, self.n_alphas, self.alphas, self.positive)
        folds = list(check_cv(self.cv).split(X, Y[:, 0] if y_is_1d else Y))
        settings = dict(solver=self.solver, working_set=self.working_set, max_iter=self.max_iter, tol=tol,
                        positive=self.positive)
        makers = fold_problems(X, Y, sample_weight, folds, self.fit_intercept, precompute, self.working_set, problem)
        mse = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fold_mse)(make_problem, X, Y, sample_weight, test, alphas, settings)
            for make_problem, (_, test) in zip(makers, folds))
        mse_path = np.stack(mse, axis=1)  # (n_alphas, n_folds, n_targets)
        best = np.argmin(mse_path.mean(axis=1), axis=0)
        coef, gap, n_iter, converged = _refit(problem, alphas, best, settings)
        self.alphas_ = alphas
        self.alpha_ = per_target(alphas[best], y_is_1d)
        self.mse_path_ = mse_path[..., 0] if y_is_1d else mse_path
        self._set_linear_attributes(coef, problem.X_offset, problem.y_offset, y_is_1d)
        self.dual_gap_ = per_target(gap, y_is_1d)
        self.n_iter_ = per_target(n_iter, y_is_1d)
        warn_if_not_converged(self, converged, n_iter)
        return self


def _fold_mse(make_problem, X, Y, sample_weight, test, alphas, settings):
    """Held-out mean squared errors along the warm-started path of one fold, shape (n_alphas, n_targets)."""
    problem = make_problem()
    X_test, Y_test = X[test], Y[test]
    weight_test = None if sample_weight is None else sample_weight[test]
    mse = np.empty((alphas.size, Y.shape[1]))
    W = None
    # the path in blocks of alphas whose coefficients fit in BLOCK_BYTES; each block's held-out predictions
    # in one product with X_test
    for block in row_blocks(alphas.size, Y.shape[1] * problem.n_features * problem.dtype.itemsize):
        coefs = problem.solve_path(alphas[block], coef_init=W, **settings)[0]  # (n_block, n_targets, n_features)
        W = coefs[-1]
        predictions = safe_sparse_dot(X_test, coefs.reshape(-1, coefs.shape[2]).T)
        predictions = predictions.reshape(X_test.shape[0], -1, Y.shape[1])
        residual = predictions + problem.intercept(coefs) - Y_test[:, None, :]
        # squares in float64: those of float32 residuals above ~1e19 overflow
        mse[block] = np.average(np.square(residual, dtype=np.float64), axis=0, weights=weight_test)
    return mse


def _refit(problem, alphas, best, settings):
    """Fit on all data, each target at its own best alpha (targets sharing one are solved together)."""
    n_targets = best.size
    coef = np.zeros((n_targets, problem.n_features), dtype=problem.dtype)
    gap, n_iter, converged = np.zeros(n_targets), np.zeros(n_targets, dtype=int), np.zeros(n_targets, dtype=bool)
    for i in np.unique(best):
        targets = np.flatnonzero(best == i)
        result = problem.solve(alphas[i], targets=targets, **settings)
        coef[targets], gap[targets] = result.coef, result.extras["dual_gap"]
        n_iter[targets], converged[targets] = result.n_iter, result.converged
    return coef, gap, n_iter, converged
