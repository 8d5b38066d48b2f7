"""SEARegressor: the Support Exploration Algorithm as a scikit-learn regressor."""

import numpy as np

from .._core.base import KSparseRegressor, per_target
from .._core.units import IDENTITY
from .._core.validation import check_option, check_positive_int, check_step_size
from ..solvers.sea import DEFAULT_MAX_ITER, default_patience, sea


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

    Each column of a 2-D ``y`` explores on its own: up to 20 targets one
    after the other, more with the iterations of all targets run together
    as array operations (faster from about 20 to 40 targets on).
    Least-squares solutions, residuals and gradients are cached per support
    (SEA revisits supports constantly), and gradients go through the Gram
    matrix, or its columns.

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
        :math:`\eta`. From :math:`\Xi^0 = 0` the supports visited do not
        depend on :math:`\eta` (``largest_k`` is scale invariant), so
        ``"auto"`` then takes :math:`1 / \max_j \|X_j\|^2` and computes no
        spectral norm; with a warm start :math:`\eta` sets how fast the
        gradient history overrides the initial ranking, and ``"auto"`` is
        :math:`1 / L`, :math:`L = \|X\|_2^2` to 1 % (the paper's exact choice
        could not be confirmed). A ``warm_start`` continuation keeps the step
        of the fit it continues. The step used is ``step_size_``.
    max_iter : int, default=1000
        Iteration budget.
    tol : float, default=None
        Stop as soon as the squared residual :math:`\|y - Xw^t\|^2` is
        ``<= tol``. When set and not reached (nor halted by
        ``n_iter_no_change``), a ``ConvergenceWarning`` is raised: the
        residual asked for was not attained. Without ``tol`` the halting rule
        or the budget is the normal end of SEA and no warning is raised.
    n_iter_no_change : "auto", int or None, default="auto"
        Halting rule. ``"auto"``: stop once the last
        :math:`P(k) = \mathrm{default\_patience}(k)` support changes brought
        no decrease of the best squared residual by more than a relative
        :math:`\sqrt{\epsilon}`: exploring has stopped paying; or as soon
        as the best squared residual is at the rounding level of an exact fit
        (:math:`\le 16 k \epsilon \|y\|^2`: no later iterate could replace
        it, the result is the full budget's). Iterations that
        keep the support cost almost nothing and are not counted. Designed
        from measurements (user guide, "Halting"): on the phase-transition
        and deconvolution studies it keeps recovery within the statistical
        noise of the full budget. An int: stop when the best squared residual
        has not decreased for that many iterations. None: run ``max_iter``
        iterations.
    fit_intercept : bool, default=True
        Centre ``X`` and ``y``; the intercept is not counted in k.
    warm_start : bool, default=False
        When True, a refit on data of the same shape continues exploring from
        ``exploration_`` (``init`` is then ignored); the returned iterate is
        the best one of the new run.
    precompute : bool or "auto", default="auto"
        Use the Gram matrix :math:`X^\top X` (gradients in :math:`O(n k)`);
        ``"auto"`` decides from the sizes. Without it, the columns of
        :math:`X^\top X` that supports need are computed on demand and cached.

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
    step_size_ : float
        :math:`\eta` used, in the units of ``X``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has feature names that are all strings.

    See Also
    --------
    HTPRegressor : Hard Thresholding Pursuit, the same steps without memory.
    sklearn.linear_model.OrthogonalMatchingPursuit : greedy k-sparse solver.

    Notes
    -----
    Memory, beyond ``X`` and ``y`` (and their centred copies): about five
    arrays of shape (n_targets, n_features) for the state of the exploration
    (:math:`\Xi`, the current gradient step, the support masks,
    :math:`X^\top y`); the Gram matrix (n_features^2 values) when
    ``precompute`` uses it, otherwise at most 256 MiB of its columns, or none
    when the k columns of one support (k x n_features values) exceed these
    256 MiB: each new support is then solved through ``X`` (:math:`X_S`,
    :math:`X_S^\top X_S` and the restricted solve: about
    2 n_samples k + 4 k^2 values per target, for blocks of targets whose
    2 n_samples k + k^2 values take at most 16 MiB, one target at least); the
    k x k restricted blocks of the supports met in one iteration, gathered
    for blocks of targets of at most 16 MiB; at most 256 MiB of per-support
    results (coefficients, gradient, residual) shared by all targets,
    whatever their number; and, growing with the iterations
    actually run (never allocated up front for ``max_iter``), the loss curves
    (n_targets x ``n_iter_`` values) and the set of distinct supports visited
    (about 70 bytes each). ``X`` and ``y`` are brought to unit scale by exact
    powers of two before the solver runs, so that results do not depend on
    their units.

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
        n_iter_no_change="auto",
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
        n_iter_no_change = self.n_iter_no_change
        if isinstance(n_iter_no_change, str):
            check_option(n_iter_no_change, "n_iter_no_change", {"auto"})
        elif n_iter_no_change is not None:
            check_positive_int(n_iter_no_change, "n_iter_no_change")
        return {"step_size": check_step_size(self.step_size), "n_iter_no_change": n_iter_no_change}

    def _n_products_hint(self, n_targets):
        """Gram columns SEA needs: its start's and those of the indices its halting rule lets in."""
        return n_targets * (default_patience(1) + (self.n_nonzero_coefs or 1))

    def _warm_start_coef(self, n_targets, n_features):
        """``exploration_`` as (n_targets, n_features): warm starts continue exploring."""
        if not (self.warm_start and hasattr(self, "exploration_")):
            return None
        exploration = np.asarray(self.exploration_).reshape(-1, self.exploration_.shape[-1])
        return exploration if exploration.shape == (n_targets, n_features) else None

    def _continued_step(self):
        """The step of the fit a warm start continues, so that two fits equal one longer fit."""
        if self.warm_start and hasattr(self, "step_size_"):
            return self.step_size_
        return None

    def _solve(self, X, Y, n_nonzero_coefs, coef_init, gram, units=IDENTITY):
        # the starting point of SEA is its exploration vector
        params = self._solver_params()
        step = params.pop("step_size")
        if step is None and coef_init is not None:
            step = self._continued_step()
        return sea(
            X, Y, n_nonzero_coefs, exploration_init=coef_init, max_iter=self.max_iter,
            tol=units.residual_sq_to_internal(self.tol), gram=gram, step_size=units.step_to_internal(step),
            **params,
        )

    def _set_extra_attributes(self, result, y_is_1d):
        extras = result.extras
        self.step_size_ = extras["step_size"]
        self.exploration_ = extras["exploration"][0] if y_is_1d else extras["exploration"]
        self.loss_curve_ = extras["loss_curve"][0] if y_is_1d else extras["loss_curve"]
        self.best_iter_ = per_target(extras["best_iter"], y_is_1d)
        self.n_supports_explored_ = per_target(extras["n_supports_explored"], y_is_1d)
