"""Exhaustive Local Search estimator."""

from .._core.base import KSparseRegressor
from ..solvers.els import els


class ELSRegressor(KSparseRegressor):
    r"""k-sparse linear regression by Exhaustive Local Search.

    Minimises, for each target :math:`y`,

    .. math:: \min_{w} \|y - X w\|_2^2 \quad \text{subject to} \quad \|w\|_0 \le k.

    From a support of size :math:`k`, each iteration performs the single swap
    (remove :math:`i \in S`, add :math:`j \notin S`) that lowers the
    least-squares residual the most, then re-fits; it stops at a swap-local
    optimum (no swap lowers the squared residual by more than
    :math:`10^3 \varepsilon \|y\|^2`). All :math:`k(n-k)` swaps are scored in
    closed form from one Cholesky factor of the restricted Gram matrix. The
    start is the support of ``init`` completed by the features of largest
    :math:`|X_j^\top r| / \|X_j\|`.

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
    max_iter : int, default=1000
        Maximum number of swaps.
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
        Iterations run (scoring passes, the one that finds no improving swap included).
    n_nonzero_coefs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has feature names that are all strings.

    Notes
    -----
    ELS has no gradient step, hence no ``step_size`` parameter.

    Memory: ``fit`` holds about four arrays of the size of ``X`` and ``y``
    (validated, centred, brought to unit scale), the Gram matrix
    :math:`X^\top X` when it is used (``precompute``; ``"auto"`` uses it only
    within 1 GiB), four ``(n_targets, n_features)`` arrays (coefficients,
    :math:`X^\top Y`, the start's correlations, the returned ``coef_``), the
    swap-score tables of the targets scored together, of at most 16 MiB each
    (targets, or one target's features, in blocks sized to that; at most
    eight tables live), and the :math:`k \times k` Cholesky factors of those
    targets. Restricted least-squares solves are made in blocks of targets
    of a few :math:`k \times k` blocks each within 16 MiB. Nothing grows
    with ``max_iter``. At 200 x 20000 with the default :math:`k = 2000` the
    peak is about 130 MiB, at 5000 targets on 1000 features about 160 MiB
    (``benchmarks/bench_memory.py``).

    See Also
    --------
    OMPRRegressor : swaps chosen by a gradient score instead of the exact gain.
    HTPRegressor : replaces the whole support at each iteration.

    References
    ----------
    .. [1] K. Axiotis and M. Sviridenko, "Sparse convex optimization via
       adaptively regularized hard thresholding", ICML 2020.

    Examples
    --------
    >>> from skstexplore import ELSRegressor
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(50, 100, 5, random_state=0)
    >>> est = ELSRegressor(n_nonzero_coefs=5).fit(X, y)
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
        max_iter=1000,
        tol=None,
        fit_intercept=True,
        warm_start=False,
        precompute="auto",
    ):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.precompute = precompute

    _solver = staticmethod(els)
