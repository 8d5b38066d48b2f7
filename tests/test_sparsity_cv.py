"""sparsity_path and SparsityCV: against sklearn's OMP and OMP-CV, per-target choices, weights, errors."""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, OrthogonalMatchingPursuit, OrthogonalMatchingPursuitCV, orthogonal_mp
from sklearn.model_selection import KFold

from skstexplore import ELSRegressor, HTPRegressor, SEARegressor, SparsityCV, sparsity_path
from skstexplore._core.base import KSparseRegressor
from skstexplore._core.discovery import all_estimators
from skstexplore._core.lstsq import LeastSquaresData
from skstexplore.datasets import make_sparse_recovery
from skstexplore.sparsity import fit_path, grow_supports

# the hard k-sparse solvers (the soft-greedy ones, with dense codes and no init, have their own tests)
KSPARSE = [cls for _, cls in all_estimators() if issubclass(cls, KSparseRegressor) and "init" in cls().get_params()]
FAST_SEA = SEARegressor(init="omp", max_iter=40)


def noisy_problem(seed, n_targets=1, n_samples=40, n_features=60, k=4, noise=0.05):
    X, y, coef = make_sparse_recovery(n_samples, n_features, k, n_targets=n_targets, noise=noise, random_state=seed)
    return X + 0.5, y + 2.0, coef


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function(*args, **kwargs)


@pytest.mark.parametrize("n_targets", [1, 3])
def test_growing_an_empty_support_is_omp(n_targets):
    X, Y, _ = noisy_problem(0, n_targets=n_targets)
    X = X - X.mean(0)
    Y = Y.reshape(len(Y), -1)
    data = LeastSquaresData(X, Y)
    for k in (1, 3, 6):
        grown = grow_supports(data, np.zeros((n_targets, X.shape[1]), dtype=bool), k)
        reference = orthogonal_mp(X, Y, n_nonzero_coefs=k).reshape(X.shape[1], -1).T
        assert_allclose(grown, reference, atol=1e-12)


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_each_point_of_the_path_is_the_fit_from_the_grown_previous_solution(cls, n_targets, fit_intercept):
    """The path = fits at each k started from the previous solution grown by OMP steps."""
    X, y, _ = noisy_problem(1, n_targets=n_targets)
    estimator = cls(n_nonzero_coefs=1, init="omp", fit_intercept=fit_intercept, max_iter=50)
    grid = [1, 2, 4, 5]
    coefs = quiet(sparsity_path, estimator, X, y, grid)
    assert coefs.shape == (4, X.shape[1]) if n_targets == 1 else (4, n_targets, X.shape[1])
    previous = quiet(estimator.fit, X, y)
    assert_allclose(coefs[0], previous.coef_, atol=1e-12)
    Xc = X - X.mean(0) if fit_intercept else X
    Yc = (y - y.mean(0) if fit_intercept else y).reshape(len(y), -1)
    data = LeastSquaresData(Xc, Yc)
    for i, k in enumerate(grid[1:], start=1):
        start = grow_supports(data, previous.support_.reshape(n_targets, -1), k, previous.coef_.reshape(n_targets, -1))
        previous = quiet(cls(n_nonzero_coefs=k, init=start, fit_intercept=fit_intercept, max_iter=50).fit, X, y)
        assert_allclose(coefs[i], previous.coef_, atol=1e-10)
        assert np.all((coefs[i] != 0).sum(axis=-1) <= k)


@pytest.mark.parametrize("cls", [SEARegressor, ELSRegressor])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_each_fit_of_the_path_is_a_least_squares_fit_never_worse_than_its_warm_start(cls, n_targets):
    """SEA returns its best iterate (the first is the start's), ELS only swaps to lower residuals."""
    X, y, _ = noisy_problem(6, n_targets=n_targets, noise=0.3)
    grid = [1, 2, 4, 7, 8]
    fits = fit_path(cls(init="omp", max_iter=60), X, y, grid)
    data = LeastSquaresData(X - X.mean(0), (y - y.mean(0)).reshape(len(y), -1))
    for i, k in enumerate(grid):
        support, coef = fits.supports[i], fits.coefs[i]
        assert_array_equal(support.sum(axis=1), k)
        assert not np.any(coef[~support])
        # least squares on its support: the correlation vanishes there
        assert_allclose(data.correlation(coef)[support], 0, atol=1e-10 * np.abs(data.Xty).max())
        if i:
            start = grow_supports(data, fits.supports[i - 1], k, fits.coefs[i - 1])
            assert np.all(data.residual_sq(coef) <= data.residual_sq(start) * (1 + 1e-12))


def test_path_of_sklearn_omp_is_fitted_cold_and_equals_its_own_path():
    X, y, _ = noisy_problem(2)
    coefs = sparsity_path(OrthogonalMatchingPursuit(), X, y, [1, 2, 3, 6])
    Xc, yc = X - X.mean(0), y - y.mean()
    reference = orthogonal_mp(Xc, yc, n_nonzero_coefs=6, return_path=True)
    assert_allclose(coefs[:3], reference[:, :3].T, atol=1e-12)
    assert_allclose(coefs[3], reference[:, 5], atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cv", [None, 3, KFold(4, shuffle=True, random_state=0)])
def test_same_k_as_sklearn_omp_cv_with_sklearn_omp_inside(seed, cv):
    X, y, _ = noisy_problem(seed, noise=0.5, k=5)
    ours = SparsityCV(OrthogonalMatchingPursuit(), cv=cv).fit(X, y)
    theirs = OrthogonalMatchingPursuitCV(cv=cv).fit(X, y)
    assert ours.n_nonzero_coefs_ == theirs.n_nonzero_coefs_
    assert_allclose(ours.coef_, theirs.coef_, atol=1e-12)
    assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-12)
    assert ours.mse_path_.shape == (6, 5 if cv is None else (3 if cv == 3 else 4))


def test_finds_the_true_k_of_a_noisy_problem():
    X, y, coef = noisy_problem(0, n_samples=60, n_features=100, k=5, noise=0.02)
    model = SparsityCV(FAST_SEA).fit(X, y)
    assert model.n_nonzero_coefs_ == 5
    assert_array_equal(model.support_, coef != 0)
    assert_array_equal(model.n_nonzero_coefs_grid_, np.arange(1, 11))
    assert model.mse_path_.shape == (10, 5)
    assert model.estimator_.n_nonzero_coefs_ == 5
    assert_allclose(model.predict(X), model.estimator_.predict(X), atol=1e-12)


def test_one_k_per_target_equals_one_fit_per_target():
    X, Y, _ = make_sparse_recovery(40, 60, 3, n_targets=3, noise=0.05, random_state=3)
    Y[:, 1] = X[:, :6] @ np.linspace(1, 2, 6) + 0.05 * np.random.default_rng(0).standard_normal(40)
    joint = SparsityCV(FAST_SEA).fit(X, Y)
    assert joint.mse_path_.shape == (6, 5, 3)
    assert len(np.unique(joint.n_nonzero_coefs_)) > 1
    assert isinstance(joint.estimator_, dict)
    for t in range(3):
        single = SparsityCV(FAST_SEA).fit(X, Y[:, t])
        assert joint.n_nonzero_coefs_[t] == single.n_nonzero_coefs_
        assert_allclose(joint.mse_path_[:, :, t], single.mse_path_, atol=1e-12)
        assert_allclose(joint.coef_[t], single.coef_, atol=1e-12)
        assert_allclose(joint.intercept_[t], single.intercept_, atol=1e-12)
        assert_allclose(joint.estimator_[joint.n_nonzero_coefs_[t]].coef_[t], single.coef_, atol=1e-12)


def test_parallel_folds_give_the_sequential_result():
    X, Y, _ = noisy_problem(4, n_targets=2, n_samples=20, n_features=30)
    sequential = SparsityCV(HTPRegressor(), n_jobs=1).fit(X, Y)
    parallel = SparsityCV(HTPRegressor(), n_jobs=2).fit(X, Y)
    assert_array_equal(parallel.mse_path_, sequential.mse_path_)
    assert_array_equal(parallel.coef_, sequential.coef_)


def test_zero_weights_equal_dropped_rows_with_the_same_folds():
    X, y, _ = noisy_problem(5, noise=0.3)
    weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    dropped = np.arange(0, len(y), 4)
    weight[dropped] = 0.0
    keep = np.flatnonzero(weight > 0)
    position = np.full(len(y), -1)
    position[keep] = np.arange(len(keep))
    folds = list(KFold(4).split(X))
    kept_folds = [(position[np.intersect1d(train, keep)], position[np.intersect1d(test, keep)]) for train, test in folds]
    weighted = SparsityCV(FAST_SEA, cv=folds).fit(X, y, sample_weight=weight)
    reduced = SparsityCV(FAST_SEA, cv=kept_folds).fit(X[keep], y[keep], sample_weight=weight[keep])
    assert_allclose(weighted.mse_path_, reduced.mse_path_, rtol=1e-10)
    assert weighted.n_nonzero_coefs_ == reduced.n_nonzero_coefs_
    assert_allclose(weighted.coef_, reduced.coef_, atol=1e-10)
    assert_allclose(weighted.intercept_, reduced.intercept_, atol=1e-10)


@pytest.mark.parametrize(
    "estimator, grid, error, message",
    [
        (Lasso(), None, TypeError, "estimator must be a regressor with an n_nonzero_coefs parameter"),
        (None, [3, 2], ValueError, "n_nonzero_coefs must be strictly increasing; got [3, 2]"),
        (None, [0, 2], ValueError, "n_nonzero_coefs must lie in [1, n_features=60]; got values from 0 to 2"),
        (None, [2, 61], ValueError, "n_nonzero_coefs must lie in [1, n_features=60]; got values from 2 to 61"),
        (None, [1.5, 2], TypeError, "n_nonzero_coefs must be a non-empty 1-D sequence of ints or None"),
        (None, [], TypeError, "n_nonzero_coefs must be a non-empty 1-D sequence of ints or None"),
    ],
)
def test_bad_input_is_named_in_the_error(estimator, grid, error, message):
    X, y, _ = noisy_problem(0)
    with pytest.raises(error, match=re.escape(message)):
        SparsityCV(estimator, n_nonzero_coefs=grid).fit(X, y)
    with pytest.raises(error, match=re.escape(message)):
        sparsity_path(estimator or FAST_SEA, X, y, [1, 2] if grid is None else grid)


def test_sample_weight_with_an_estimator_that_has_none_is_refused():
    X, y, _ = noisy_problem(0)
    with pytest.raises(TypeError, match="OrthogonalMatchingPursuit.fit does not accept sample_weight"):
        SparsityCV(OrthogonalMatchingPursuit()).fit(X, y, sample_weight=np.ones(len(y)))
