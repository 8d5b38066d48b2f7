"""SparsityCV: the sparsity level k chosen by cross-validation along a warm-started path."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import check_cv
from sklearn.utils import get_tags

from .._core.base import SparseLinearRegressor
from .._core.validation import check_positive_int, check_sample_weight
from ..sparsity import check_sparse_estimator, check_sparsity_grid, fit_path
from .sea import SEARegressor


class SparsityCV(SparseLinearRegressor):
    r"""k-sparse regression with k chosen by cross-validation, one k per target.

    For each fold, the wrapped estimator is fitted on the training rows for
    every k of the grid along a warm-started path
    (:func:`~skstexplore.sparsity_path`: the fit at each k starts from the
    previous k's solution grown by OMP steps), and the mean squared error of
    each fit on the held-out rows is recorded. Each target gets the k of
    smallest error averaged over the folds,

    .. math:: \hat k_t = \operatorname*{argmin}_{k} \frac{1}{n_{folds}} \sum_{f}
              \frac{1}{|T_f|} \sum_{i \in T_f} \big(y_{it} - b_{f,k,t} - x_i^\top w_{f,k,t}\big)^2

    (the first k on ties; weighted by ``sample_weight`` when given), and the
    path is refitted on all the data up to the largest chosen k.

    Parameters
    ----------
    estimator : regressor, default=None
        Any regressor with an ``n_nonzero_coefs`` parameter: every k-sparse
        estimator of the package (warm-started along the path) or, e.g.,
        scikit-learn's :class:`~sklearn.linear_model.OrthogonalMatchingPursuit`
        (fitted cold for each k: it has no warm start). None means
        ``SEARegressor(init="omp")``. Cloned, never modified.
    n_nonzero_coefs : array-like of int, default=None
        Strictly increasing grid of k. None means ``1, ...,
        min(max(int(0.1 * n_features), 5), n_features)``, the grid of
        :class:`~sklearn.linear_model.OrthogonalMatchingPursuitCV`.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (:func:`~sklearn.model_selection.check_cv`): None
        is 5-fold :class:`~sklearn.model_selection.KFold` without shuffling.
    n_jobs : int, default=None
        Folds run in parallel through joblib (``-1``: all processors).
    verbose : int, default=0
        Verbosity of joblib.

    Attributes
    ----------
    n_nonzero_coefs_ : int or ndarray of int of shape (n_targets,)
        The chosen k (one per target for a 2-D ``y``).
    n_nonzero_coefs_grid_ : ndarray of int of shape (n_k,)
        The grid searched.
    mse_path_ : ndarray of shape (n_k, n_folds) or (n_k, n_folds, n_targets)
        Held-out mean squared error of each k on each fold.
    estimator_ : estimator or dict
        The wrapped estimator refitted on all the data at the chosen k (a
        dict ``{k: estimator}`` fitted on all targets when the targets chose
        different k; target ``t`` uses the one at ``n_nonzero_coefs_[t]``).
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    support_ : ndarray of bool, shape of ``coef_``
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has feature names that are all strings.

    See Also
    --------
    sparsity_path : the warm-started path over k.
    sklearn.linear_model.OrthogonalMatchingPursuitCV : OMP only, single target.

    Examples
    --------
    >>> from skstexplore import SparsityCV
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(60, 100, 4, noise=0.01, random_state=0)
    >>> model = SparsityCV().fit(X, y)
    >>> int(model.n_nonzero_coefs_)
    4
    >>> model.mse_path_.shape
    (10, 5)
    """

    def __init__(self, estimator=None, *, n_nonzero_coefs=None, cv=None, n_jobs=None, verbose=0):
        self.estimator = estimator
        self.n_nonzero_coefs = n_nonzero_coefs
        self.cv = cv
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _estimator(self):
        return SEARegressor(init="omp") if self.estimator is None else check_sparse_estimator(self.estimator)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator = SEARegressor() if self.estimator is None else self.estimator
        tags.input_tags.sparse = get_tags(estimator).input_tags.sparse
        return tags

    def fit(self, X, y, sample_weight=None):
        """Choose k by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input when the wrapped estimator accepts it.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit and weighting the held-out errors.

        Returns
        -------
        self : object
        """
        estimator = self._estimator()
        check_positive_int(self.verbose, "verbose", min_val=0)
        X, Y, y_is_1d = self._validate_fit_data(X, y, accept_sparse=self.__sklearn_tags__().input_tags.sparse)
        y = Y[:, 0] if y_is_1d else Y
        sample_weight = check_sample_weight(sample_weight, X)
        grid = check_sparsity_grid(self.n_nonzero_coefs, X.shape[1])
        folds = list(check_cv(self.cv, y, classifier=False).split(X, y))
        fold_mse = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_held_out_mse)(estimator, X, y, sample_weight, train, test, grid) for train, test in folds
        )
        mse_path = np.stack(fold_mse, axis=1)  # (n_k, n_folds, n_targets)
        best = np.argmin(np.nanmean(mse_path, axis=1), axis=0)
        self.n_nonzero_coefs_grid_ = grid
        self.mse_path_ = mse_path[..., 0] if y_is_1d else mse_path
        self._refit(estimator, X, y, sample_weight, grid, best, y_is_1d)
        return self

    def _refit(self, estimator, X, y, sample_weight, grid, best, y_is_1d):
        """The path on all the data up to the largest chosen k; each target takes its k."""
        chosen = grid[best]
        fits = fit_path(estimator, X, y, grid[: best.max() + 1], sample_weight=sample_weight, keep=set(chosen.tolist()))
        targets = np.arange(len(best))
        coef, intercept = fits.coefs[best, targets], fits.intercepts[best, targets]
        self.coef_ = coef[0] if y_is_1d else coef
        self.intercept_ = intercept[0].item() if y_is_1d else intercept
        support = fits.supports[best, targets]
        self.support_ = support[0] if y_is_1d else support
        self.n_nonzero_coefs_ = chosen[0].item() if y_is_1d else chosen
        distinct = np.unique(chosen)
        self.estimator_ = fits.estimators[distinct[0]] if len(distinct) == 1 else dict(fits.estimators)


def _held_out_mse(estimator, X, y, sample_weight, train, test, grid):
    """Held-out mean squared error of the path fitted on ``train``, shape (n_k, n_targets).

    Rows of ``test`` are weighted by ``sample_weight``; a fold whose test
    weights are all zero carries no information and gives NaN (ignored in the
    mean over folds).
    """
    weight_train = None if sample_weight is None else sample_weight[train]
    fits = fit_path(estimator, X[train], y[train], grid, sample_weight=weight_train)
    n_k, n_targets, n_features = fits.coefs.shape
    prediction = np.asarray(X[test] @ fits.coefs.reshape(-1, n_features).T).reshape(len(test), n_k, n_targets)
    residual_sq = (prediction + fits.intercepts - y[test].reshape(len(test), 1, -1)) ** 2
    weight = np.ones(len(test)) if sample_weight is None else sample_weight[test]
    if not weight.sum() > 0:
        return np.full((n_k, n_targets), np.nan)
    return np.einsum("i,ikt->kt", weight, residual_sq) / weight.sum()
