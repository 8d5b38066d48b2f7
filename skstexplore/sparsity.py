r"""Paths over the sparsity level k, warm-started from one k to the next.

For an increasing grid :math:`k_1 < k_2 < \dots`, the fit at :math:`k_{i+1}`
starts from the solution at :math:`k_i` grown to :math:`k_{i+1}` atoms by
OMP steps: with :math:`S` the previous support and :math:`w` the previous
solution, the feature of largest :math:`|X_j^\top (y - Xw)|` outside
:math:`S` enters and :math:`w` is re-fitted by least squares on the grown
support, until :math:`|S| = k_{i+1}`. The estimator's own
algorithm then improves that k-sparse least-squares start (SEA explores from
it, IHT and HTP iterate from it, ELS swaps from it...), so a path never starts
from scratch, and what depends on ``X`` alone (validation, centring, sample
weights, the Gram matrix) is computed once for the whole path.

Estimators of the package (:class:`~skstexplore._core.base.KSparseRegressor`)
take the fast route above. Any other regressor with an ``n_nonzero_coefs``
parameter works too: it keeps its own warm start between k when it has a
``warm_start`` parameter, and is otherwise fitted cold for each k (as
scikit-learn's :class:`~sklearn.linear_model.OrthogonalMatchingPursuit`).
"""

import copy
import numbers

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import has_fit_parameter

from ._core.base import KSparseRegressor
from ._core.lstsq import LeastSquaresData


def default_sparsity_grid(n_features):
    """``1, ..., min(max(int(0.1 * n_features), 5), n_features)``, as sklearn's ``OrthogonalMatchingPursuitCV``."""
    return np.arange(1, min(max(int(0.1 * n_features), 5), n_features) + 1)


def check_sparsity_grid(n_nonzero_coefs, n_features):
    """The grid of k as a strictly increasing int array within ``[1, n_features]``; None gives the default."""
    if n_nonzero_coefs is None:
        return default_sparsity_grid(n_features)
    grid = np.atleast_1d(np.asarray(n_nonzero_coefs))
    if grid.ndim != 1 or grid.size == 0 or not all(
        isinstance(k, numbers.Integral) and not isinstance(k, (bool, np.bool_)) for k in grid.tolist()
    ):
        raise TypeError(f"n_nonzero_coefs must be a non-empty 1-D sequence of ints or None; got {n_nonzero_coefs!r}.")
    if grid.min() < 1 or grid.max() > n_features:
        raise ValueError(
            f"n_nonzero_coefs must lie in [1, n_features={n_features}]; got values from {grid.min()} to {grid.max()}."
        )
    if np.any(np.diff(grid) <= 0):
        raise ValueError(f"n_nonzero_coefs must be strictly increasing; got {grid.tolist()}.")
    return grid.astype(int)


def check_sparse_estimator(estimator):
    """Refuse an estimator without an ``n_nonzero_coefs`` parameter (naming it)."""
    if not hasattr(estimator, "get_params") or "n_nonzero_coefs" not in estimator.get_params(deep=False):
        raise TypeError(
            f"estimator must be a regressor with an n_nonzero_coefs parameter (such as SEARegressor or "
            f"sklearn's OrthogonalMatchingPursuit); got {estimator!r}."
        )
    return estimator


def grow_supports(data, support, k, coef=None):
    r"""Coefficients on ``support`` grown to ``k`` atoms by OMP steps.

    With :math:`w` = ``coef`` (the previous solution, zero outside
    ``support``) or, when None, :math:`w = LS(S)`, the feature of largest
    :math:`|X_j^\top (y - X w)|` outside :math:`S` enters and :math:`w` is
    re-fitted by least squares on the grown support, until :math:`|S| = k`.

    Parameters
    ----------
    data : LeastSquaresData
    support : ndarray of bool of shape (n_targets, n_features)
        At most ``k`` entries per row.
    k : int
    coef : ndarray of shape (n_targets, n_features) or None
        Coefficients supported on ``support`` to grow from; None: least
        squares on ``support``.

    Returns
    -------
    coef : ndarray of shape (n_targets, n_features)
        :math:`LS(S)` on the grown supports :math:`S` (k entries per row;
        ``coef`` itself, or :math:`LS` on ``support``, where it already has k).
    """
    mask = support.copy()
    W, C = data.solve_on_masks(mask) if coef is None else (coef, data.correlation(coef))
    while True:
        short = mask.sum(axis=1) < k
        if not short.any():
            return W
        rows = np.flatnonzero(short)
        best = np.argmax(np.where(mask[rows], -1, np.abs(C[rows])), axis=1)
        mask[rows, best] = True
        # the correlations only serve a next addition
        W, C = data.solve_on_masks(mask, correlations=bool((mask.sum(axis=1) < k).any()))


class PathFits:
    """Coefficients, intercepts and supports along a path over k, targets as rows.

    Attributes
    ----------
    coefs : ndarray of shape (n_k, n_targets, n_features)
    intercepts : ndarray of shape (n_k, n_targets)
    supports : ndarray of bool of shape (n_k, n_targets, n_features)
    estimators : dict
        The estimator fitted at each k asked for in ``keep``.
    y_is_1d : bool
    """

    def __init__(self, coefs, intercepts, supports, estimators, y_is_1d):
        self.coefs, self.intercepts, self.supports = coefs, intercepts, supports
        self.estimators, self.y_is_1d = estimators, y_is_1d


def fit_path(estimator, X, y, grid, *, sample_weight=None, keep=()):
    """Fit ``estimator`` for each k of the increasing ``grid``; see :func:`sparsity_path`.

    ``keep`` lists the k whose fitted estimator is returned (copies).
    """
    check_sparse_estimator(estimator)
    if sample_weight is not None and not has_fit_parameter(estimator, "sample_weight"):
        raise TypeError(f"{type(estimator).__name__}.fit does not accept sample_weight; fit without it.")
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    estimator = clone(estimator)
    if isinstance(estimator, KSparseRegressor):
        fits = _warm_path(estimator, X, y, grid, sample_weight, keep)
    else:
        fits = _generic_path(estimator, X, y, grid, fit_params, keep)
    coefs, intercepts, supports, kept = zip(*fits)
    estimators = {k: est for k, est in zip(grid, kept) if est is not None}
    y_is_1d = np.ndim(y) == 1
    return PathFits(np.stack(coefs), np.stack(intercepts), np.stack(supports), estimators, y_is_1d)


def _as_rows(estimator):
    """``coef_``, ``intercept_`` and support of a fitted estimator with targets as rows."""
    coef = np.asarray(estimator.coef_)
    coef = coef.reshape(-1, coef.shape[-1])
    intercept = np.broadcast_to(np.asarray(estimator.intercept_, dtype=coef.dtype).ravel(), coef.shape[:1])
    support = getattr(estimator, "support_", None)
    support = coef != 0 if support is None else np.asarray(support).reshape(coef.shape)
    return coef.copy(), intercept.copy(), support.copy()


def _warm_path(estimator, X, y, grid, sample_weight, keep):
    """Package estimators: validate and centre once, each k started from the previous one grown."""
    problem = estimator._prepare_problem(X, y, sample_weight)
    data = LeastSquaresData(problem.X, problem.Y, problem.gram)
    support = previous = None
    for k in grid:
        if support is None:
            coef_init = None
        elif estimator._grows_short_starts:
            coef_init = previous  # its own growth adds the same atoms (largest correlation, then least squares)
        else:
            coef_init = grow_supports(data, support, k, previous)
        estimator._fit_problem(problem, int(k), coef_init)
        coef, intercept, support = _as_rows(estimator)
        # the next start grows this solution (in the problem's internal units, an exact rescaling)
        previous = problem.units.coef_to_internal(coef.astype(problem.X.dtype, copy=False))
        yield coef, intercept, support, (copy.deepcopy(estimator) if k in keep else None)


def _generic_path(estimator, X, y, grid, fit_params, keep):
    """Other regressors: their own warm start between k if they have one, cold fits otherwise."""
    warm = "warm_start" in estimator.get_params(deep=False)
    if warm:
        estimator.set_params(warm_start=True)
    for k in grid:
        current = estimator if warm else clone(estimator)
        current.set_params(n_nonzero_coefs=int(k)).fit(X, y, **fit_params)
        yield (*_as_rows(current), copy.deepcopy(current) if k in keep else None)


def sparsity_path(estimator, X, y, n_nonzero_coefs, *, sample_weight=None):
    r"""Fits of a k-sparse estimator for each k of an increasing grid, warm-started.

    The fit at each k starts from the previous k's solution grown by OMP
    steps to k atoms (see :ref:`the user guide <model_selection>`); the first k starts
    from the estimator's own ``init``. Everything that depends on ``X`` alone
    (validation, centring, the Gram matrix) is computed once. A regressor
    from outside the package with an ``n_nonzero_coefs`` parameter is fitted
    with its own warm start when it has one, cold for each k otherwise.

    Parameters
    ----------
    estimator : regressor
        Any estimator with an ``n_nonzero_coefs`` parameter (cloned).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
    n_nonzero_coefs : array-like of int
        Strictly increasing grid of k.
    sample_weight : array-like of shape (n_samples,), default=None
        Passed to every fit.

    Returns
    -------
    coefs : ndarray of shape (n_k, n_features) or (n_k, n_targets, n_features)
        ``coefs[i]`` is the ``coef_`` of the fit at ``n_nonzero_coefs[i]``.

    See Also
    --------
    SparsityCV : chooses k by cross-validation along this path.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import SEARegressor, sparsity_path
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(30, 60, 3, random_state=0)
    >>> coefs = sparsity_path(SEARegressor(init="omp", max_iter=100), X, y, [1, 2, 3, 4])
    >>> coefs.shape
    (4, 60)
    >>> (coefs != 0).sum(axis=1).tolist()
    [1, 2, 3, 4]
    """
    check_sparse_estimator(estimator)
    n_features = np.shape(X)[1]
    grid = check_sparsity_grid(n_nonzero_coefs, n_features)
    fits = fit_path(estimator, X, y, grid, sample_weight=sample_weight)
    return fits.coefs[:, 0] if fits.y_is_1d else fits.coefs
