"""Hard Thresholding Pursuit estimator."""

from .._core.base import KSparseRegressor
from .._core.validation import check_step_size
from ..solvers.htp import htp


class HTPRegressor(KSparseRegressor):
    r"""k-sparse linear regression by Hard Thresholding Pursuit.

    Minimises, for each target :math:`y`,

    .. math:: \min_{w} \|y - X w\|_2^2 \quad \text{subject to} \quad \|w\|_0 \le k.

    Each iteration selects the :math:`k` largest entries of a gradient step and
    re-fits by least squares on them,

    .. math:: S \leftarrow \operatorname{largest}_k(w + \eta X^\top (y - X w)),
              \qquad w \leftarrow \arg\min_{\operatorname{supp}(w) \subseteq S} \|y - X w\|^2,

    and stops when the support repeats (then :math:`w` is a fixed point).

    Read more in the :doc:`user guide </user_guide/greedy>`.

    Parameters
    ----------
    n_nonzero_coefs : int or None, default=None
        Sparsity level :math:`k`; None gives ``max(int(0.1 * n_features), 1)``
        as scikit-learn's OMP. The value used is stored in ``n_nonzero_coefs_``.
    init : None, str, array-like or regressor, default=None
        Starting point: None or ``"zeros"``; ``"omp"``, ``"ompr"``, ``"els"``,
        ``"iht"`` or ``"htp"`` (run that algorithm first); coefficients of
        shape ``(n_features,)`` or ``(n_targets, n_features)``; or a
        scikit-learn regressor, cloned and fitted on the same data, whose
        ``coef_`` is used.
    step_size : "auto" or float, default="auto"
        Gradient step :math:`\eta`. ``"auto"``: :math:`1 / \max_j \|X_j\|^2`,
        Foucart's :math:`\eta = 1` for unit-norm columns (from a zero start the
        iterates do not depend on it); a float > 0 is taken as is. This step
        may exceed :math:`1/\|X\|_2^2` and let the supports cycle: with
        ``"auto"`` a target that revisits a support continues with
        :math:`1/\|X\|_2^2` (no support change then raises the residual);
        with a float it stops there with a ``ConvergenceWarning``.
    max_iter : int, default=100
        Iteration budget.
    tol : float or None, default=None
        Stop as soon as the squared residual norm :math:`\|y - Xw\|^2` is
        ``<= tol``.
    fit_intercept : bool, default=True
        Centre ``X`` and ``y`` (the intercept is not counted in the sparsity).
    warm_start : bool, default=False
        Start a refit from the previous ``coef_`` (ignoring ``init``).
    precompute : "auto" or bool, default="auto"
        Use the Gram matrix :math:`X^\top X`; ``"auto"`` does when it pays.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    support_ : ndarray of bool, same shape as ``coef_``
        The selected support (of size :math:`k`).
    n_iter_ : int or ndarray of shape (n_targets,)
        Iterations run (thresholding steps, the one that finds the repeated support included).
    n_nonzero_coefs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has feature names that are all strings.

    See Also
    --------
    IHTRegressor : the same thresholding step without the re-fit.
    OMPRRegressor : one index swapped per iteration.

    Notes
    -----
    Memory: ``fit`` holds about four arrays of the size of ``X`` and ``y``
    (validated, centred, brought to unit scale), the Gram matrix
    :math:`X^\top X` when it is used (``precompute``; ``"auto"`` uses it only
    within 1 GiB), three ``(n_targets, n_features)`` arrays for the results;
    the targets iterate in blocks whose dozen ``(targets, n_features)``
    arrays take at most 2 MiB each, with their restricted solves within
    32 MiB (or one :math:`k \times k` system, three times, when it is larger)
    and the ``(n_samples, k)`` columns of the block's targets.
    Nothing grows with ``max_iter``. At 200 x 20000 with the default
    :math:`k = 2000`, or 5000 targets on 1000 features, that is a few hundred
    MiB (``benchmarks/bench_memory.py``).

    References
    ----------
    .. [1] S. Foucart, "Hard thresholding pursuit: an algorithm for compressive
       sensing", SIAM J. Numer. Anal. 49(6), 2011.

    Examples
    --------
    >>> from skstexplore import HTPRegressor
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(50, 100, 5, random_state=0)
    >>> est = HTPRegressor(n_nonzero_coefs=5).fit(X, y)
    >>> bool((est.support_ == (coef != 0)).all())
    True
    >>> round(est.score(X, y), 6)
    1.0
    """

    def __init__(
        self,
        n_nonzero_coefs=None,
        *,
        init=None,
        step_size="auto",
        max_iter=100,
        tol=None,
        fit_intercept=True,
        warm_start=False,
        precompute="auto",
    ):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.init = init
        self.step_size = step_size
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.precompute = precompute

    _solver = staticmethod(htp)

    def _solver_params(self):
        return {"step_size": check_step_size(self.step_size)}
