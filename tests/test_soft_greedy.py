"""Soft-OMP and Soft-IHT: hard limits against OMP and IHT, scale invariance, weights, estimator behaviour."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import OrthogonalMatchingPursuit, orthogonal_mp

from skstexplore import IHTRegressor, SoftIHTRegressor, SoftOMPRegressor
from skstexplore.solvers.iht import iht
from skstexplore.solvers.soft_iht import soft_iht
from skstexplore.solvers.soft_omp import soft_omp


def random_problem(rng, n_samples=20, n_features=40, n_targets=2, normalize=True):
    X = rng.standard_normal((n_samples, n_features))
    if normalize:
        X /= np.linalg.norm(X, axis=0)
    return X, rng.standard_normal((n_samples, n_targets))


def relative_error(coef, reference):
    return np.abs(coef - reference).max() / np.abs(reference).max()


def test_soft_omp_at_tiny_temperature_is_sklearn_omp_on_50_problems():
    rng = np.random.default_rng(0)
    worst = 0.0
    for problem in range(50):
        X, Y = random_problem(rng, normalize=problem % 2 == 0)
        k = 1 + problem % 8
        reference = orthogonal_mp(X, Y, n_nonzero_coefs=k).T
        gram = X.T @ X if problem % 3 == 0 else None
        result = soft_omp(X, Y, k, temperature=1e-9, gram=gram)
        worst = max(worst, relative_error(result.coef, reference))
        assert_array_equal(result.support, reference != 0)
    assert worst <= 1e-8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_soft_omp_estimator_matches_sklearn_omp(dtype, fit_intercept, n_targets):
    rng = np.random.default_rng(1)
    X, Y = random_problem(rng, 25, 30, n_targets)
    X, Y = X.astype(dtype), (Y[:, 0] if n_targets == 1 else Y).astype(dtype) + 2.0
    soft = SoftOMPRegressor(4, temperature=1e-9, fit_intercept=fit_intercept).fit(X, Y)
    hard = OrthogonalMatchingPursuit(n_nonzero_coefs=4, fit_intercept=fit_intercept).fit(X, Y)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert soft.coef_.dtype == dtype and soft.coef_.shape == hard.coef_.shape
    assert_allclose(soft.coef_, hard.coef_, rtol=rtol, atol=rtol * np.abs(hard.coef_).max())
    assert_allclose(soft.intercept_, hard.intercept_, rtol=rtol, atol=rtol)
    assert_array_equal(soft.support_, hard.coef_ != 0)
    assert soft.n_nonzero_coefs_ == 4
    assert np.all(soft.n_iter_ == 4)


def test_soft_iht_at_tiny_temperature_is_iht_with_the_same_step():
    rng = np.random.default_rng(2)
    worst = 0.0
    for problem in range(50):
        X, Y = random_problem(rng, 30, 50, 3)
        k, step = 2 + problem % 6, (0.3 + 0.5 * rng.random()) / np.linalg.norm(X, 2) ** 2
        reference = iht(X, Y, k, step_size=step, max_iter=12)
        result = soft_iht(X, Y, k, temperature=1e-9, step_size=step, max_iter=12,
                          gram=X.T @ X if problem % 2 else None)
        assert_array_equal(result.n_iter, reference.n_iter)
        worst = max(worst, relative_error(result.coef, reference.coef))
    assert worst <= 1e-8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_soft_iht_estimator_matches_iht_estimator(dtype, fit_intercept, n_targets):
    rng = np.random.default_rng(3)
    X, Y = random_problem(rng, 30, 40, n_targets)
    X, Y = X.astype(dtype), (Y[:, 0] if n_targets == 1 else Y).astype(dtype) - 1.0
    params = dict(step_size=0.1, max_iter=15, fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        soft = SoftIHTRegressor(5, temperature=1e-9, **params).fit(X, Y)
        hard = IHTRegressor(5, **params).fit(X, Y)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert soft.coef_.dtype == dtype
    assert_allclose(soft.coef_, hard.coef_, rtol=rtol, atol=rtol * np.abs(hard.coef_).max())
    assert_allclose(soft.intercept_, hard.intercept_, rtol=rtol, atol=rtol)
    assert_array_equal(soft.support_, hard.support_)
    assert_array_equal(soft.n_iter_, hard.n_iter_)


@pytest.mark.parametrize("Estimator", [SoftOMPRegressor, SoftIHTRegressor])
def test_temperature_is_relative_to_the_scale_of_the_scores(Estimator):
    rng = np.random.default_rng(4)
    X, Y = random_problem(rng, 20, 30, 2)
    weights = rng.random(30) + 0.5
    model = Estimator(4, temperature=0.05, weights=weights, fit_intercept=False)
    if Estimator is SoftIHTRegressor:
        model.set_params(max_iter=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = model.fit(X, Y).coef_
        scaled = model.set_params(weights=7.0 * weights).fit(3.0 * X, 1e-4 * Y).coef_
    assert np.count_nonzero(reference) > 8  # the selections are soft at this temperature
    assert_allclose(scaled, reference * 1e-4 / 3.0, rtol=1e-9, atol=1e-12 * np.abs(reference).max())


def test_soft_omp_moves_away_from_omp_as_the_temperature_grows():
    rng = np.random.default_rng(5)
    X, Y = random_problem(rng, 20, 40, 20)
    reference = orthogonal_mp(X, Y, n_nonzero_coefs=4).T
    errors = [relative_error(soft_omp(X, Y, 4, temperature=tau).coef, reference) for tau in (1e-9, 1e-3, 1e-1)]
    assert errors[0] <= 1e-12 < errors[2]
    assert errors[0] <= errors[1] <= errors[2]


def test_binary_weights_at_tiny_temperature_restrict_omp_to_their_atoms():
    rng = np.random.default_rng(6)
    X, Y = random_problem(rng, 20, 40, 3)
    subset = np.sort(rng.choice(40, 10, replace=False))
    weights = np.zeros(40)
    weights[subset] = 1.0
    expected = np.zeros((3, 40))
    expected[:, subset] = orthogonal_mp(X[:, subset], Y, n_nonzero_coefs=4).T
    assert_allclose(soft_omp(X, Y, 4, temperature=1e-9, weights=weights).coef, expected, rtol=1e-10, atol=1e-12)
    expected = np.zeros((3, 40))
    expected[:, subset] = iht(X[:, subset], Y, 4, step_size=0.2, max_iter=8).coef
    result = soft_iht(X, Y, 4, temperature=1e-9, weights=weights, step_size=0.2, max_iter=8)
    # off the subset the iterates keep the gradient step times a zero mask
    assert_allclose(result.coef, expected, rtol=1e-10, atol=1e-12)


def test_soft_iht_warm_start_continues_the_iterations():
    rng = np.random.default_rng(7)
    X, y = random_problem(rng, 20, 30, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftIHTRegressor(3, temperature=0.01, max_iter=4, warm_start=True).fit(X, y[:, 0])
        model.fit(X, y[:, 0])
        straight = SoftIHTRegressor(3, temperature=0.01, max_iter=8).fit(X, y[:, 0])
    assert_allclose(model.coef_, straight.coef_, rtol=1e-12)


def test_soft_iht_default_step_and_convergence():
    rng = np.random.default_rng(8)
    X, y = random_problem(rng, 30, 40, 1)
    y = X[:, :3] @ np.array([1.0, -2.0, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftIHTRegressor(3, temperature=1e-6, max_iter=5000, fit_intercept=False).fit(X, y)
    reference = iht(X, y[:, None], 3, step_size=1.0 / np.linalg.norm(X, 2) ** 2, max_iter=5000)
    assert_allclose(model.coef_, reference.coef[0], rtol=1e-6, atol=1e-8)
    assert model.n_iter_ < 5000
    with pytest.warns(ConvergenceWarning, match="SoftIHTRegressor did not converge within max_iter=2"):
        SoftIHTRegressor(3, max_iter=2).fit(X, y)
    # tol: stop as soon as the squared residual is below it
    model = SoftIHTRegressor(3, temperature=1e-6, max_iter=5000, tol=1e-2, fit_intercept=False).fit(X, y)
    assert np.sum((y - X @ model.coef_) ** 2) <= 1e-2
    assert model.n_iter_ < SoftIHTRegressor(3, temperature=1e-6, max_iter=5000, fit_intercept=False).fit(X, y).n_iter_


@pytest.mark.parametrize("Estimator", [SoftOMPRegressor, SoftIHTRegressor])
def test_degenerate_inputs_give_finite_results(Estimator):
    rng = np.random.default_rng(9)
    X = rng.standard_normal((10, 6))
    X[:, 2] = 0.0
    X[:, 4] = X[:, 5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for y in (np.zeros(10), rng.standard_normal(10)):
            for weights in (None, np.zeros(6)):
                model = Estimator(3, weights=weights).fit(X, y)
                assert np.all(np.isfinite(model.coef_))
        assert_array_equal(Estimator(3).fit(X, np.zeros(10)).coef_, 0.0)


@pytest.mark.parametrize("Estimator", [SoftOMPRegressor, SoftIHTRegressor])
@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"temperature": 0.0}, ValueError, "temperature must be a finite float > 0; got temperature=0.0"),
        ({"temperature": -1e-3}, ValueError, "temperature must be a finite float > 0; got temperature=-0.001"),
        ({"temperature": np.inf}, ValueError, "temperature must be a finite float > 0; got temperature=inf"),
        ({"temperature": np.nan}, ValueError, "temperature must be a (number, a )?finite float( > 0)?; got temperature=nan"),
        ({"weights": np.ones(5)}, ValueError, r"weights has shape \(5,\); expected \(n_features,\) = \(8,\)"),
        ({"weights": np.ones((1, 8))}, ValueError, r"weights has shape \(1, 8\); expected \(n_features,\)"),
        ({"weights": -np.ones(8)}, ValueError, "weights must be non-negative; got a minimum of -1.0"),
        ({"weights": np.full(8, np.nan)}, ValueError, "weights contains NaN or infinity"),
        ({"weights": ["a"] * 8}, TypeError, "weights must be an array of real numbers"),
        ({"n_nonzero_coefs": 9}, ValueError, "n_nonzero_coefs=9 cannot be larger than n_features=8"),
        ({"n_nonzero_coefs": 0}, ValueError, "n_nonzero_coefs must be >= 1; got n_nonzero_coefs=0"),
        ({"fit_intercept": "no"}, TypeError, "fit_intercept must be a bool; got 'no'"),
        ({"precompute": "always"}, ValueError, r"precompute must be one of \['auto'\]; got 'always'"),
    ],
)
def test_bad_parameters_raise_clear_errors(Estimator, params, error, match):
    rng = np.random.default_rng(10)
    X, y = random_problem(rng, 6, 8, 1)
    with pytest.raises(error, match=match):
        Estimator(**params).fit(X, y[:, 0])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"step_size": 0.0}, ValueError, "step_size must be 'auto' or a finite float > 0; got step_size=0.0"),
        ({"step_size": "big"}, ValueError, r"step_size must be one of \['auto'\]; got 'big'"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1; got max_iter=0"),
        ({"tol": -1.0}, ValueError, "tol must be >= 0.0; got tol=-1.0"),
        ({"warm_start": 1}, TypeError, "warm_start must be a bool; got 1"),
    ],
)
def test_soft_iht_bad_parameters(params, error, match):
    rng = np.random.default_rng(11)
    X, y = random_problem(rng, 6, 8, 1)
    with pytest.raises(error, match=match):
        SoftIHTRegressor(**params).fit(X, y[:, 0])
