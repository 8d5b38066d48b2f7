"""Orthogonal Matching Pursuit with Replacement estimator."""

from .._core.base import KSparseRegressor
from .._core.validation import check_step_size
from ..solvers.ompr import ompr


class OMPRRegressor(KSparseRegressor):
    r"""k-sparse linear regression by Orthogonal Matching Pursuit with Replacement.

    Minimises, for each target :math:`y`,

    .. math:: \min_{w} \|y - X w\|_2^2 \quad \text{subject to} \quad \|w\|_0 \le k.

    With :math:`w` the least-squares solution on the support :math:`S` and
    :math:`z = w + \eta X^\top (y - X w)`, each iteration adds the index
    outside :math:`S` of largest :math:`|z_j|` and removes the index of
    :math:`S \cup \{j\}` of smallest :math:`|z_i|`, then re-fits. The support
    grows OMP-like to :math:`k` elements, then swaps one index per iteration
    and stops when no swap changes it.

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
        the authors' :math:`\eta = 1` for unit-norm columns; a float > 0 is
        taken as is. If the supports cycle, ``"auto"`` continues with
        :math:`1/\|X\|_2^2` (no swap then raises the residual) and a float
        stops there with a ``ConvergenceWarning``.
    max_iter : int, default=1000
        Budget of swap iterations, on top of the (at most :math:`k`) growth
        iterations, so that the support always reaches :math:`k` elements.
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
        Iterations run (support updates, the one that finds no swap included).
    n_nonzero_coefs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when ``X`` has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.OrthogonalMatchingPursuit : OMPR's growth phase.
    ELSRegressor : swaps chosen by their exact residual decrease.

    Notes
    -----
    Memory: ``fit`` holds about four arrays of the size of ``X`` and ``y``
    (validated, centred, brought to unit scale), the Gram matrix
    :math:`X^\top X` when it is used (``precompute``; ``"auto"`` uses it only
    within 1 GiB), four ``(n_targets, n_features)`` arrays (coefficients,
    correlations, :math:`X^\top Y`, the returned ``coef_``) and the
    temporaries of the targets processed together (targets in blocks of at
    most 16 MiB of temporaries, two such blocks live): the orthonormal
    basis of each growing support (:math:`n_{\text{samples}} \times
    \min(k, n_{\text{samples}})`) and the restricted :math:`k \times k`
    systems of the re-fits (a few per target), at least one target's even
    when larger. Nothing grows with ``max_iter``. At 200 x 20000 with the
    default :math:`k = 2000` the peak is about 60 MiB, at 5000 targets on
    1000 features about 200 MiB (``benchmarks/bench_memory.py``).

    References
    ----------
    .. [1] P. Jain, A. Tewari and I. S. Dhillon, "Orthogonal matching pursuit
       with replacement", NeurIPS 2011.

    Examples
    --------
    >>> from skstexplore import OMPRRegressor
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(50, 100, 5, random_state=0)
    >>> est = OMPRRegressor(n_nonzero_coefs=5).fit(X, y)
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

    _solver = staticmethod(ompr)
    _grows_short_starts = True

    def _solver_params(self):
        return {"step_size": check_step_size(self.step_size)}
