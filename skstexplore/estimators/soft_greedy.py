"""Soft-OMP and Soft-IHT: differentiable OMP and IHT whose selections are SoftSort rows."""

from .._core.base import KSparseRegressor
from .._core.lipschitz import spectral_norm_sq
from .._core.softsort import check_temperature, check_weights
from .._core.units import IDENTITY
from .._core.validation import check_bool, check_precompute, check_step_size
from ..solvers.soft_iht import soft_iht
from ..solvers.soft_omp import soft_omp


class _SoftGreedyRegressor(KSparseRegressor):
    """What Soft-OMP and Soft-IHT share on top of the k-sparse base: temperature, weights, Gram rule."""

    def _solver_params(self):
        check_temperature(self.temperature)
        return {}

    def _gram(self, X, n_targets, precompute):
        # the soft iterates are dense: G costs n^2 per product against 2 m n through X
        if precompute == "auto":
            precompute = X.shape[1] <= 2 * X.shape[0]
        return super()._gram(X, n_targets, precompute)

    def _soft_params(self, X):
        return {"temperature": float(self.temperature), "weights": check_weights(self.weights, X.shape[1])}


class SoftOMPRegressor(_SoftGreedyRegressor):
    r"""Soft-OMP: Orthogonal Matching Pursuit whose atom selections are SoftSort rows.

    OMP selects at each of its :math:`k` steps the atom of largest
    :math:`|X^\top r|`, the first row of an argsort permutation. Soft-OMP
    (Mohammad-Taheri, Colbrook & Brugiapaglia 2025) takes the first SoftSort
    row of the weighted correlations instead, stacks the rows into a soft
    selection :math:`P_t \in \mathbb{R}^{t \times n}` and re-fits

    .. math:: z_t = \arg\min_z \|X P_t^\top z - y\|_2, \qquad w_t = P_t^\top z_t,
              \qquad r_t = y - X w_t.

    The scores :math:`|\omega \odot X^\top r|` are divided by their largest
    value before SoftSort, so ``temperature`` is relative to the best score
    and means the same at every scale of ``X``, ``y`` and ``weights``. As
    ``temperature`` goes to 0 the result is OMP's (scikit-learn's
    :func:`~sklearn.linear_model.orthogonal_mp`; to :math:`10^{-8}` at
    ``1e-9`` in the tests). The output is differentiable in ``X``, ``y`` and
    ``weights``, which is what :class:`OMPNet` trains.

    Read more in the :doc:`user guide </user_guide/soft_greedy>`.

    Parameters
    ----------
    n_nonzero_coefs : int or None, default=None
        Number of steps :math:`k`; None gives ``max(int(0.1 * n_features), 1)``.
    temperature : float, default=1e-3
        SoftSort temperature :math:`\tau > 0`, relative to the best score.
    weights : array-like of shape (n_features,) or None, default=None
        Structure-aware weights :math:`\omega \ge 0` multiplying the
        correlations in the selection scores (None: all ones). A zero weight
        excludes an atom (unless every score is zero).
    fit_intercept : bool, default=True
        Centre ``X`` and ``y``.
    precompute : "auto" or bool, default="auto"
        Use :math:`X^\top X`; ``"auto"`` does when ``n_features <= 2 * n_samples``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        :math:`P_k^\top z_k`; in general not exactly ``k``-sparse (the
        selections are soft).
    intercept_ : float or ndarray of shape (n_targets,)
    support_ : ndarray of bool, same shape as ``coef_``
        The ``k`` largest :math:`|w_j|`.
    n_iter_ : int or ndarray of shape (n_targets,)
        Steps run (``k``).
    n_nonzero_coefs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has feature names that are all strings.

    See Also
    --------
    OMPNet : Soft-OMP with trained weights.
    sklearn.linear_model.OrthogonalMatchingPursuit : the hard algorithm.

    References
    ----------
    .. [1] S. Mohammad-Taheri, M. J. Colbrook, S. Brugiapaglia, "Deep greedy
       unfolding: sorting out argsorting in greedy sparse recovery
       algorithms", 2025.
    .. [2] S. Prillo, J. Eisenschlos, "SoftSort: a continuous relaxation for
       the argsort operator", ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import orthogonal_mp
    >>> from skstexplore import SoftOMPRegressor
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(40, 80, 4, noise=0.01, random_state=0)
    >>> soft = SoftOMPRegressor(4, temperature=1e-9, fit_intercept=False).fit(X, y)
    >>> float(np.abs(soft.coef_ - orthogonal_mp(X, y, n_nonzero_coefs=4)).max()) < 1e-12
    True
    >>> warm = SoftOMPRegressor(4, temperature=0.3, fit_intercept=False).fit(X, y)
    >>> int((warm.coef_ != 0).sum()) > 4
    True
    """

    def __init__(self, n_nonzero_coefs=None, *, temperature=1e-3, weights=None, fit_intercept=True,
                 precompute="auto"):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.temperature = temperature
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.precompute = precompute

    def _check_common_params(self):
        check_bool(self.fit_intercept, "fit_intercept")
        return check_precompute(self.precompute)

    def _initial_coef(self, X, Y, k, gram, y_is_1d, units=IDENTITY):
        return None

    def _solve(self, X, Y, n_nonzero_coefs, coef_init, gram, units=IDENTITY):
        return soft_omp(X, Y, n_nonzero_coefs, gram=gram, **self._soft_params(X))


class SoftIHTRegressor(_SoftGreedyRegressor):
    r"""Soft-IHT: Iterative Hard Thresholding whose support mask is made of SoftSort rows.

    IHT keeps the :math:`k` largest entries of a gradient step; Soft-IHT
    (Mohammad-Taheri, Colbrook & Brugiapaglia 2025) weights the step by the
    sum of the first :math:`k` SoftSort rows :math:`Q` of the weighted
    magnitudes, a soft support mask:

    .. math:: u = w + \eta X^\top (y - X w), \qquad w \leftarrow (\mathbf{1}^\top Q) \odot u.

    The scores :math:`|\omega \odot u|` are divided by their largest value
    before SoftSort, so ``temperature`` is relative to the best score. As
    ``temperature`` goes to 0 the iterates are those of IHT with the same
    fixed step (:class:`IHTRegressor` with a float ``step_size``; to
    :math:`10^{-8}` at ``1e-9`` in the tests). Stops when the relative change
    of :math:`w` is below :math:`\sqrt{\varepsilon}`, or the squared residual
    is below ``tol``.

    Read more in the :doc:`user guide </user_guide/soft_greedy>`.

    Parameters
    ----------
    n_nonzero_coefs : int or None, default=None
        :math:`k`; None gives ``max(int(0.1 * n_features), 1)``.
    temperature : float, default=1e-3
        SoftSort temperature :math:`\tau > 0`, relative to the best score.
    weights : array-like of shape (n_features,) or None, default=None
        Structure-aware weights :math:`\omega \ge 0` (None: all ones).
    step_size : "auto" or float, default="auto"
        Fixed step :math:`\eta`; ``"auto"`` is :math:`1/\|X\|_2^2`, classical
        IHT's stable step (normalised IHT's adaptive step has no soft
        counterpart here).
    max_iter : int, default=100
    tol : float or None, default=None
        Stop as soon as :math:`\|y - Xw\|^2 \le` ``tol``.
    fit_intercept : bool, default=True
    warm_start : bool, default=False
        Start a refit from the previous ``coef_``.
    precompute : "auto" or bool, default="auto"
        Use :math:`X^\top X`; ``"auto"`` does when ``n_features <= 2 * n_samples``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        In general not exactly ``k``-sparse (the mask is soft).
    intercept_ : float or ndarray of shape (n_targets,)
    support_ : ndarray of bool, same shape as ``coef_``
        The ``k`` largest :math:`|w_j|`.
    n_iter_ : int or ndarray of shape (n_targets,)
    n_nonzero_coefs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has feature names that are all strings.

    See Also
    --------
    IHTNet : Soft-IHT unrolled with trained weights.
    IHTRegressor : the hard algorithm (normalised step by default).

    References
    ----------
    .. [1] S. Mohammad-Taheri, M. J. Colbrook, S. Brugiapaglia, "Deep greedy
       unfolding: sorting out argsorting in greedy sparse recovery
       algorithms", 2025.
    .. [2] T. Blumensath and M. E. Davies, "Iterative hard thresholding for
       compressed sensing", Appl. Comput. Harmon. Anal. 27(3), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import IHTRegressor, SoftIHTRegressor
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(40, 80, 4, random_state=0)
    >>> soft = SoftIHTRegressor(4, temperature=1e-9, step_size=0.2, max_iter=1000, fit_intercept=False).fit(X, y)
    >>> hard = IHTRegressor(4, step_size=0.2, max_iter=1000, fit_intercept=False).fit(X, y)
    >>> float(np.abs(soft.coef_ - hard.coef_).max()) < 1e-6
    True
    """

    def __init__(self, n_nonzero_coefs=None, *, temperature=1e-3, weights=None, step_size="auto", max_iter=100,
                 tol=None, fit_intercept=True, warm_start=False, precompute="auto"):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.temperature = temperature
        self.weights = weights
        self.step_size = step_size
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.precompute = precompute

    def _solver_params(self):
        check_step_size(self.step_size)
        return super()._solver_params()

    def _initial_coef(self, X, Y, k, gram, y_is_1d, units=IDENTITY):
        coef = self._warm_start_coef(Y.shape[1], X.shape[1])
        return None if coef is None else units.coef_to_internal(coef.astype(X.dtype))

    def _solve(self, X, Y, n_nonzero_coefs, coef_init, gram, units=IDENTITY):
        step = units.step_to_internal(check_step_size(self.step_size))
        if step is None:
            L = spectral_norm_sq(X, gram=gram)
            step = 1.0 / L if L > 0 else 1.0
        return soft_iht(X, Y, n_nonzero_coefs, step_size=step, coef_init=coef_init, max_iter=self.max_iter,
                        tol=units.residual_sq_to_internal(self.tol), gram=gram, **self._soft_params(X))
