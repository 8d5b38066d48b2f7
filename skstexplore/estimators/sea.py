"""SEARegressor: the Support Exploration Algorithm as a scikit-learn regressor."""

import numpy as np

from .._core.base import KSparseRegressor, per_target
from .._core.units import IDENTITY
from .._core.validation import check_positive_int, check_step_size
from ..solvers.sea import DEFAULT_MAX_ITER, sea


class SEARegressor(KSparseRegressor):
    r"""k-sparse least squares by the Support Exploration Algorithm (SEA).

    SEA minimises

    .. math:: \min_{w} \|y - X w\|_2^2 \quad \text{subject to} \quad \|w\|_0 \le k

    by applying the straight-through estimator to :math:`F(H(\Xi))`, where
    :math:`H(\Xi)` is the least-squares solution on the support
    :math:`\mathrm{largest}_k(\Xi)`. A dense *exploration vector* :math:`\Xi`
    accumulates the gradients taken at the sparse iterates:

    .. math::

        S^t = \mathrm{largest}_k(\Xi^t), \qquad
        w^t = \operatorname*{argmin}_{\mathrm{supp}(w) \subseteq S^t} \|y - X w\|_2^2, \qquad
        \Xi^{t+1} = \Xi^t - \eta\, X^\top (X w^t - y),

    and the iterate with the smallest residual,
    :math:`t_{best} = \operatorname{argmin}_t \|y - X w^t\|_2^2`, is returned.
    Unlike HTP, whose iterate is the sparse vector itself, SEA keeps the whole
    gradient history in :math:`\Xi`, so it leaves local minima and explores
    other supports; it shines on coherent dictionaries (spike deconvolution).
    Under the (2k+1)-RIP with unit-norm columns, for every :math:`\Xi^0` and
    :math:`\eta` some iteration :math:`t \le T_{RIP}` has a support containing
    the true one (see the user guide).

    Each column of a 2-D ``y`` explores on its own; the iterations of all
    targets run together, vectorised. Least-squares solutions, residuals and
    gradients are cached per support (SEA revisits supports constantly), and
    gradients go through the Gram matrix when ``precompute`` allows.

    Parameters
    ----------
    n_nonzero_coefs : int, default=None
        k. None means ``max(int(0.1 * n_features), 1)``.
    init : None, str, array-like or regressor, default=None
        :math:`\Xi^0`. None or ``"zeros"``: :math:`\Xi^0 = 0` (SEA_0);
        ``"omp"``, ``"ompr"``, ``"els"``, ``"iht"``, ``"htp"``: the solution
        of that algorithm (SEA_OMP, SEA_ELS...); an array of coefficients of
        shape ``(n_features,)`` or ``(n_targets, n_features)``; or a
        scikit-learn regressor, cloned and fitted on the same data, whose
        ``coef_`` is used. The first support of a warm start is the initial
        solution's, so SEA never returns a worse residual than it.
    step_size : float or "auto", default="auto"
        :math:`\eta`. ``"auto"`` is :math:`1 / L`, :math:`L = \|X\|_2^2` (the
        paper's exact choice could not be confirmed). From :math:`\Xi^0 = 0`
        the supports visited do not depend on :math:`\eta` (``largest_k`` is
        scale invariant); with a warm start :math:`\eta` sets how fast the
        gradient history overrides the initial ranking.
    max_iter : int, default=1000
        Iteration budget; a fixed budget is SEA's halting rule (it has no
        natural stopping point). Measured on 100 noiseless Gaussian problems
        (m=50, n=100, k=15): SEA_OMP solves 0.92, 0.95, 0.96, 0.96 of them
        within 100, 500, 1000, 5000 iterations, SEA_0 0.17, 0.33, 0.37, 0.42
        (``benchmarks/bench_sea.py --budget-runs 100``): 1000 captures
        nearly all of the gain, and iterations on supports already visited
        cost little (they are cached).
    tol : float, default=None
        Stop as soon as the squared residual :math:`\|y - Xw^t\|^2` is
        ``<= tol``. When set and not reached within ``max_iter`` (nor halted
        by ``n_iter_no_change``), a ``ConvergenceWarning`` is raised: the
        residual asked for was not attained. Without ``tol`` the budget is
        the normal end of SEA and no warning is raised.
    n_iter_no_change : int, default=None
        Stop when the best squared residual has not decreased for that many
        iterations.
    fit_intercept : bool, default=True
        Centre ``X`` and ``y``; the intercept is not counted in k.
    warm_start : bool, default=False
        When True, a refit on data of the same shape continues exploring from
        ``exploration_`` (``init`` is then ignored); the returned iterate is
        the best one of the new run.
    precompute : bool or "auto", default="auto"
        Use the Gram matrix :math:`X^\top X` (gradients in :math:`O(n k)`);
        ``"auto"`` decides from the sizes.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        :math:`w^{t_{best}}`.
    intercept_ : float or ndarray of shape (n_targets,)
    support_ : ndarray of bool, shape of ``coef_``
        :math:`S^{t_{best}}` (k entries per target).
    n_nonzero_coefs_ : int
    n_iter_ : int or ndarray of shape (n_targets,)
        Iterations run.
    best_iter_ : int or ndarray of shape (n_targets,)
        :math:`t_{best}`, index into ``loss_curve_``.
    exploration_ : ndarray, shape of ``coef_``
        :math:`\Xi` after the last iteration.
    loss_curve_ : ndarray of shape (`n_iter_`,) or list of such arrays
        :math:`\|y - X w^t\|^2` (centred data) for each iteration; one array
        per target for a 2-D ``y``.
    n_supports_explored_ : int or ndarray of shape (n_targets,)
        Distinct supports visited.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has feature names that are all strings.

    See Also
    --------
    HTPRegressor : Hard Thresholding Pursuit, the same steps without memory.
    sklearn.linear_model.OrthogonalMatchingPursuit : greedy k-sparse solver.

    Notes
    -----
    Memory: ``fit`` holds about four arrays of the size of ``X`` and ``y``,
    the Gram matrix when used (``"auto"``: within 1 GiB), about sixteen
    ``(n_targets, n_features)`` arrays, the per-support caches (at most 256
    MiB in all) and the loss curve, which grows with the iterations run (not
    preallocated for ``max_iter``).

    References
    ----------
    .. [1] M. Mohamed, F. Malgouyres, V. Emiya, C. Chaux, "Straight-Through
       Meets Sparse Recovery: the Support Exploration Algorithm", ICML 2024.

    Examples
    --------
    >>> from skstexplore import SEARegressor
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(40, 80, 8, random_state=0)
    >>> reg = SEARegressor(n_nonzero_coefs=8, init="omp", fit_intercept=False).fit(X, y)
    >>> bool((reg.support_ == (coef != 0)).all())
    True
    >>> bool(reg.loss_curve_[reg.best_iter_] == reg.loss_curve_.min())
    True
    """

    def __init__(
        self,
        n_nonzero_coefs=None,
        *,
        init=None,
        step_size="auto",
        max_iter=DEFAULT_MAX_ITER,
        tol=None,
        n_iter_no_change=None,
        fit_intercept=True,
        warm_start=False,
        precompute="auto",
    ):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.init = init
        self.step_size = step_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.precompute = precompute

    def _solver_params(self):
        if self.n_iter_no_change is not None:
            check_positive_int(self.n_iter_no_change, "n_iter_no_change")
        return {"step_size": check_step_size(self.step_size), "n_iter_no_change": self.n_iter_no_change}

    def _warm_start_coef(self, n_targets, n_features):
        """``exploration_`` as (n_targets, n_features): warm starts continue exploring."""
        if not (self.warm_start and hasattr(self, "exploration_")):
            return None
        exploration = np.asarray(self.exploration_).reshape(-1, self.exploration_.shape[-1])
        return exploration if exploration.shape == (n_targets, n_features) else None

    def _solve(self, X, Y, n_nonzero_coefs, coef_init, gram, units=IDENTITY):
        # the starting point of SEA is its exploration vector
        return sea(
            X, Y, n_nonzero_coefs, exploration_init=coef_init, max_iter=self.max_iter,
            tol=units.residual_sq_to_internal(self.tol), gram=gram,
            **units.solver_params_to_internal(self._solver_params()),
        )

    def _set_extra_attributes(self, result, y_is_1d):
        extras = result.extras
        self.exploration_ = extras["exploration"][0] if y_is_1d else extras["exploration"]
        self.loss_curve_ = extras["loss_curve"][0] if y_is_1d else extras["loss_curve"]
        self.best_iter_ = per_target(extras["best_iter"], y_is_1d)
        self.n_supports_explored_ = per_target(extras["n_supports_explored"], y_is_1d)
