"""Oracle ISTA (and ISTA, FISTA) for scikit-learn's Lasso objective."""

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from .._core.base import SparseLinearRegressor, per_target, warn_if_not_converged
from .._core.validation import (
    check_bool,
    check_float,
    check_option,
    check_positive_int,
    check_precompute,
    check_sample_weight,
)
from ._lasso_problem import SOLVERS, LassoProblem, warn_alpha_zero


class LassoSolverMixin:
    """What OracleISTALasso and OracleISTALassoCV share: sparse ``X``, parameter checks, ``predict``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_solver_params(self):
        check_option(self.solver, "solver", set(SOLVERS))
        check_positive_int(self.max_iter, "max_iter")
        tol = check_float(self.tol, "tol", min_val=0.0)
        if not np.isfinite(tol):
            raise ValueError(f"tol must be a finite float >= 0; got tol={self.tol!r}.")
        for name in ("fit_intercept", "positive", "working_set"):
            check_bool(getattr(self, name), name)
        return tol, check_precompute(self.precompute)

    def _prepare(self, X, y, sample_weight, precompute):
        # X (dense or sparse) is checked for NaN and infinity by LassoProblem, from the peak its units need: a
        # check here would be one more pass
        X, Y, y_is_1d = self._validate_fit_data(X, y, accept_sparse=True, ensure_all_finite=False)
        sample_weight = check_sample_weight(sample_weight, X)
        problem = LassoProblem(X, Y, self.fit_intercept, sample_weight, precompute, estimator_name=type(self).__name__)
        return problem, y_is_1d

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], accept_sparse=["csr", "csc"])
        return safe_sparse_dot(X, self.coef_.T) + self.intercept_


class OracleISTALasso(LassoSolverMixin, SparseLinearRegressor):
    r"""Lasso solved by Oracle ISTA, a drop-in for :class:`sklearn.linear_model.Lasso`.

    Minimises exactly the objective of :class:`sklearn.linear_model.Lasso`,

    .. math::

        \min_w \frac{1}{2 n_{\text{samples}}} \|y - Xw\|_2^2 + \alpha \|w\|_1,

    so that ``coef_`` matches ``Lasso(alpha).coef_`` (to the tolerance). The
    default solver, Oracle ISTA (Ablin et al. 2019), takes the proximal
    gradient step :math:`1/L_S`, with :math:`L_S = \|X_S\|_2^2 / n_{\text{samples}}`
    on the current support :math:`S`, whenever the new iterate stays in
    :math:`S`, and the ISTA step :math:`1/L` otherwise; for sparse solutions
    its steps are several times larger than ISTA's. :math:`L_S` is cached per
    support, exact for small supports and estimated by a warm-started power
    iteration for large ones, and every step is checked to be a valid
    majorisation step (see :func:`skstexplore.solvers.ista.oista`). ``solver="ista"`` and
    ``solver="fista"`` are the classical references.

    With ``working_set=True`` (default) the problem is solved on a growing
    working set of features chosen from the optimality conditions, features
    that cannot be in the solution are screened out (gap-safe rules), and the
    problem restricted to the working set is solved exactly by an active-set
    method on its Gram block (Cholesky solves updated feature by feature,
    about one per change of support); the chosen solver is its fallback where
    it stalls (supports beyond the rank of the block). A fit ends only when
    the duality gap on all features is below the tolerance (see
    :func:`~skstexplore.solvers.working_set.working_set_lasso`); it is the
    fast setting. ``working_set=False`` runs the plain algorithm on all
    features (the iteration counts of the papers, and ``n_oracle_steps_``).

    Multi-target ``y`` is solved for all targets at once, one matrix product
    per iteration for all of them, each target with its own support,
    :math:`L_S` and stopping. ``X`` may be a ``scipy.sparse`` CSR or CSC
    matrix (never densified: centring goes through offsets) and ``fit``
    accepts ``sample_weight`` with the semantics of
    :class:`sklearn.linear_model.Lasso`. ``alpha=0`` warns and returns the
    least-squares fit.

    Memory: ``X`` (not copied when sparse, one centred copy when dense); with
    working sets the dense columns and Gram block of the features that ever
    entered (``n_samples x m + m^2``); the full Gram matrix
    (``n_features^2``) only where ``precompute`` asks for it; the
    coefficients ``n_targets x n_features``.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, ``>= 0``, with the meaning it has in
        :class:`sklearn.linear_model.Lasso`.
    solver : {"oista", "ista", "fista"}, default="oista"
    max_iter : int, default=1000
        Maximum number of iterations per target.
    tol : float, default=1e-4
        Stop a target when its duality gap is ``<= tol * ||y||^2 / n_samples``
        (``y`` centred and weighted), the criterion of
        :class:`sklearn.linear_model.Lasso`.
    fit_intercept : bool, default=True
        Centre ``X`` and ``y``; the intercept is not penalised.
    warm_start : bool, default=False
        Start from the previous ``coef_`` (e.g. along a path of decreasing
        ``alpha``).
    precompute : "auto" or bool, default="auto"
        Precompute the full Gram matrix :math:`X^\top X`. ``"auto"``: without
        working sets, when a product with it is cheaper than two products with
        ``X`` (``n_features <= 2 * n_samples``, always for a sparse ``X``);
        with working sets, only when many targets share it
        (``10 * n_targets >= n_features``); never above 1 GiB.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    working_set : bool, default=True
        Working sets, screening and the exact active-set solver (the chosen
        solver as its fallback); ``False`` runs the plain algorithm on all
        features.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the end, in the scaling of the objective (as
        ``Lasso.dual_gap_``).
    n_oracle_steps_ : int or ndarray of shape (n_targets,)
        Accepted :math:`1/L_S` steps (larger than :math:`1/L`); 0 for
        ``solver="ista"`` and ``"fista"``.
    n_iter_ : int or ndarray of shape (n_targets,)
        Iterations of the solver (with ``working_set=True``: active-set steps,
        plus proximal iterations where the fallback ran).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.Lasso : coordinate descent on the same objective.
    skstexplore.solvers.ista.oista : the solver, on plain arrays.

    Notes
    -----
    Memory: ``fit`` holds about four arrays of the size of ``X`` and ``y``,
    the Gram matrix when used (``"auto"``: within 1 GiB) and at most about a
    dozen ``(n_targets, n_features)`` arrays (the plain solvers; about five
    with working sets, whose active-set steps and solves go through the
    targets in blocks of 16 MiB of temporaries); nothing grows with
    ``max_iter``.

    References
    ----------
    .. [1] P. Ablin, T. Moreau, M. Massias, A. Gramfort. "Learning step sizes
       for unfolded sparse coding", NeurIPS 2019.
    .. [2] A. Beck, M. Teboulle. "A fast iterative shrinkage-thresholding
       algorithm for linear inverse problems", SIAM J. Imaging Sci. 2009.
    .. [3] M. Massias, A. Gramfort, J. Salmon. "Celer: a fast solver for the
       Lasso with dual extrapolation", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import OracleISTALasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 100))
    >>> y = X[:, :3] @ np.array([2.0, -1.0, 1.5])
    >>> model = OracleISTALasso(alpha=0.1).fit(X, y)
    >>> np.flatnonzero(np.abs(model.coef_) > 0.1)
    array([0, 1, 2])
    >>> plain = OracleISTALasso(alpha=0.1, working_set=False).fit(X, y)
    >>> plain.n_oracle_steps_ > 0
    True
    """

    def __init__(self, alpha=1.0, *, solver="oista", max_iter=1000, tol=1e-4, fit_intercept=True,
                 warm_start=False, precompute="auto", positive=False, working_set=True):
        self.alpha = alpha
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.precompute = precompute
        self.positive = positive
        self.working_set = working_set

    def _check_params(self):
        alpha = check_float(self.alpha, "alpha", min_val=0.0)
        if not np.isfinite(alpha):
            raise ValueError(f"alpha must be a finite float >= 0; got alpha={self.alpha!r}.")
        check_bool(self.warm_start, "warm_start")
        return (alpha, *self._check_solver_params())

    def fit(self, X, y, sample_weight=None):
        """Fit the Lasso.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Weight of each sample's squared residual (and in the centring);
            zero weights drop rows. Rescaled to sum to ``n_samples`` as
            :class:`sklearn.linear_model.Lasso` does.

        Returns
        -------
        self : object
        """
        alpha, tol, precompute = self._check_params()
        problem, y_is_1d = self._prepare(X, y, sample_weight, precompute)
        n_targets = problem.Y.shape[1]
        if alpha == 0.0:
            warn_alpha_zero(type(self).__name__)
            coef, gap = problem.least_squares()
            n_iter, n_oracle, converged = np.zeros(n_targets, dtype=int), np.zeros(n_targets, dtype=int), True
        else:
            result = problem.solve(alpha, solver=self.solver, working_set=self.working_set, max_iter=self.max_iter,
                                   tol=tol, positive=self.positive, coef_init=self._warm_start_coef(problem))
            coef, gap, n_iter, converged = result.coef, result.extras["dual_gap"], result.n_iter, result.converged
            n_oracle = result.extras.get("n_oracle_steps", np.zeros(n_targets, dtype=int))
        self._set_linear_attributes(coef, problem.X_offset, problem.y_offset, y_is_1d)
        self.n_iter_ = per_target(n_iter, y_is_1d)
        self.dual_gap_ = per_target(gap, y_is_1d)
        self.n_oracle_steps_ = per_target(n_oracle, y_is_1d)
        warn_if_not_converged(self, converged, n_iter)
        return self

    def _warm_start_coef(self, problem):
        """Previous ``coef_`` as (n_targets, n_features) when ``warm_start`` applies, else None."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        coef = np.asarray(self.coef_).reshape(-1, self.coef_.shape[-1])
        if coef.shape != (problem.Y.shape[1], problem.n_features):
            return None
        return coef
