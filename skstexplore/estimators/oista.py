"""Oracle ISTA (and ISTA, FISTA) for scikit-learn's Lasso objective."""

import numpy as np

from .._core.base import SparseLinearRegressor, center_data, per_target, warn_if_not_converged
from .._core.validation import check_bool, check_float, check_option, check_positive_int, check_precompute
from ..solvers.ista import fista, ista, oista

_SOLVERS = {"oista": oista, "ista": ista, "fista": fista}


class OracleISTALasso(SparseLinearRegressor):
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

    Multi-target ``y`` is solved for all targets at once, one matrix product
    per iteration for all of them, each target with its own support and
    :math:`L_S`.

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
        (``y`` centred when ``fit_intercept``), the criterion of
        :class:`sklearn.linear_model.Lasso`. The gap is evaluated every 10
        iterations (it costs one product with ``X``), at the start and at
        ``max_iter``.
    fit_intercept : bool, default=True
        Centre ``X`` and ``y``; the intercept is not penalised.
    warm_start : bool, default=False
        Start from the previous ``coef_`` (e.g. along a path of decreasing
        ``alpha``).
    precompute : "auto" or bool, default="auto"
        Iterate with the Gram matrix :math:`X^\top X`. ``"auto"`` uses it when
        a product with it is cheaper than two products with ``X``
        (``n_features <= 2 * n_samples``) and it fits in 1 GiB.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or ndarray of shape (n_targets,)
        Iterations run for each target.
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the end, in the scaling of the objective (as
        ``Lasso.dual_gap_``).
    n_oracle_steps_ : int or ndarray of shape (n_targets,)
        Accepted :math:`1/L_S` steps (larger than :math:`1/L`); 0 for
        ``solver="ista"`` and ``"fista"``.
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
    the Gram matrix when used (``"auto"``: within 1 GiB) and about a dozen
    ``(n_targets, n_features)`` arrays; nothing grows with ``max_iter``.

    References
    ----------
    .. [1] P. Ablin, T. Moreau, M. Massias, A. Gramfort. "Learning step sizes
       for unfolded sparse coding", NeurIPS 2019.
    .. [2] A. Beck, M. Teboulle. "A fast iterative shrinkage-thresholding
       algorithm for linear inverse problems", SIAM J. Imaging Sci. 2009.

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
    >>> model.n_oracle_steps_ > 0
    True
    """

    def __init__(self, alpha=1.0, *, solver="oista", max_iter=1000, tol=1e-4, fit_intercept=True,
                 warm_start=False, precompute="auto", positive=False):
        self.alpha = alpha
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.precompute = precompute
        self.positive = positive

    def _check_params(self):
        alpha = check_float(self.alpha, "alpha", min_val=0.0)
        if not np.isfinite(alpha):
            raise ValueError(f"alpha must be a finite float >= 0; got alpha={self.alpha!r}.")
        check_option(self.solver, "solver", set(_SOLVERS))
        check_positive_int(self.max_iter, "max_iter")
        tol = check_float(self.tol, "tol", min_val=0.0)
        for name in ("fit_intercept", "warm_start", "positive"):
            check_bool(getattr(self, name), name)
        return alpha, tol, check_precompute(self.precompute)

    def fit(self, X, y):
        """Fit the Lasso.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : object
        """
        alpha, tol, precompute = self._check_params()
        X, Y, y_is_1d = self._validate_fit_data(X, y)
        Xc, Yc, X_offset, y_offset = center_data(X, Y, self.fit_intercept)
        n_samples, n_features = X.shape
        if precompute == "auto":
            precompute = _gram_pays(n_samples, n_features, X.dtype.itemsize)
        # sklearn's criterion: gap <= tol * ||y||^2 / n_samples, per target.
        gap_tol = tol * np.einsum("ij,ij->j", Yc, Yc) / n_samples
        result = _SOLVERS[self.solver](
            Xc, Yc, alpha, coef_init=self._warm_start_coef(Y.shape[1], n_features, X.dtype),
            gram=Xc.T @ Xc if precompute else None, max_iter=self.max_iter, tol=gap_tol,
            positive=self.positive)
        self._set_linear_attributes(result.coef, X_offset, y_offset, y_is_1d)
        self.n_iter_ = per_target(result.n_iter, y_is_1d)
        self.dual_gap_ = per_target(result.extras["dual_gap"], y_is_1d)
        n_oracle = result.extras.get("n_oracle_steps", np.zeros(Y.shape[1], dtype=int))
        self.n_oracle_steps_ = per_target(n_oracle, y_is_1d)
        warn_if_not_converged(self, result.converged)
        return self

    def _warm_start_coef(self, n_targets, n_features, dtype):
        """Previous ``coef_`` as (n_targets, n_features) when ``warm_start`` applies, else None."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        coef = np.asarray(self.coef_).reshape(-1, self.coef_.shape[-1])
        if coef.shape != (n_targets, n_features):
            return None
        return coef.astype(dtype)


def _gram_pays(n_samples, n_features, itemsize):
    r"""Whether iterating with :math:`G = X^\top X` beats iterating with ``X``.

    Each iteration multiplies dense coefficients: :math:`WG` costs
    :math:`n_{\text{features}}^2` per target, :math:`(WX^\top)X` costs
    :math:`2 n_{\text{samples}} n_{\text{features}}`; :math:`G` itself costs one
    product, paid back within a few iterations, and must fit in 1 GiB.
    """
    return n_features <= 2 * n_samples and n_features * n_features * itemsize <= 2**30
