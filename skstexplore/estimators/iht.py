"""Normalised Iterative Hard Thresholding estimator."""

from .._core.base import KSparseRegressor
from .._core.validation import check_step_size
from ..solvers.iht import iht


class IHTRegressor(KSparseRegressor):
    r"""k-sparse linear regression by (normalised) Iterative Hard Thresholding.

    Minimises, for each target :math:`y`,

    .. math:: \min_{w} \|y - X w\|_2^2 \quad \text{subject to} \quad \|w\|_0 \le k.

    Each iteration takes a gradient step and keeps the :math:`k` largest
    entries, :math:`w \leftarrow H_k(w + \mu X^\top (y - X w))`. With
    ``step_size="auto"`` the step is normalised IHT's (Blumensath & Davies
    2010): :math:`\mu = \|g_\Gamma\|^2 / \|X_\Gamma g_\Gamma\|^2` with
    :math:`g_\Gamma` the gradient on the current support :math:`\Gamma`,
    shrunk by :math:`\kappa (1 - c) = 1.98` while a support change would not
    decrease the residual enough; it needs no knowledge of :math:`\|X\|_2`.
    A float gives classical IHT with that fixed step (stable for
    :math:`\le 1/\|X\|_2^2`). Stops when the support is unchanged and the
    relative change of :math:`w` is below :math:`\sqrt{\varepsilon}`.

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
        Gradient step. ``"auto"``: normalised IHT's adaptive step with its
        shrinking rule (recommended by its authors); a float > 0: that fixed
        step (classical IHT).
    max_iter : int, default=1000
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
        Iterations run (gradient steps).
    n_nonzero_coefs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has feature names that are all strings.

    See Also
    --------
    HTPRegressor : the same step followed by a least-squares re-fit on the support.
    ELSRegressor : best single swap per iteration, exact residual decrease.

    Notes
    -----
    Memory: ``fit`` holds about four arrays of the size of ``X`` and ``y``
    (validated, centred, brought to unit scale), the Gram matrix
    :math:`X^\top X` when it is used (``precompute``; ``"auto"`` uses it only
    within 1 GiB), four ``(n_targets, n_features)`` arrays (coefficients,
    correlations, :math:`X^\top Y`, the returned ``coef_``) and the
    temporaries of the targets stepped together, at most 2 x 16 MiB (targets
    are stepped in blocks sized to that budget). Nothing grows with
    ``max_iter``. At 200 x 20000 with the default :math:`k = 2000` that is
    about 60 MiB, at 5000 targets on 1000 features about 170 MiB
    (``benchmarks/bench_memory.py``).

    References
    ----------
    .. [1] T. Blumensath and M. E. Davies, "Iterative hard thresholding for
       compressed sensing", Appl. Comput. Harmon. Anal. 27(3), 2009.
    .. [2] T. Blumensath and M. E. Davies, "Normalized iterative hard
       thresholding: guaranteed stability and performance", IEEE J. Sel. Top.
       Signal Process. 4(2), 2010.

    Examples
    --------
    >>> from skstexplore import IHTRegressor
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(50, 100, 5, random_state=0)
    >>> est = IHTRegressor(n_nonzero_coefs=5).fit(X, y)
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
        max_iter=1000,
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

    _solver = staticmethod(iht)

    def _solver_params(self):
        return {"step_size": check_step_size(self.step_size)}
