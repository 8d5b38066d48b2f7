"""Behaviour shared by every k-sparse estimator (found automatically: new ones join)."""

import re
import warnings

import numpy as np
import pytest
from ksparse_reference import best_k_sparse, planted_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, OrthogonalMatchingPursuit

from skstexplore import OMPRRegressor
from skstexplore._core.base import KSparseRegressor
from skstexplore._core.discovery import all_estimators
from skstexplore.datasets import make_gaussian_deconvolution, make_sparse_recovery
from skstexplore.metrics import support_recovery
from skstexplore.solvers.els import els
from skstexplore.solvers.htp import htp
from skstexplore.solvers.iht import iht
from skstexplore.solvers.ompr import ompr

KSPARSE = [cls for _, cls in all_estimators() if issubclass(cls, KSparseRegressor)]
WITH_STEP = [cls for cls in KSPARSE if "step_size" in cls().get_params()]


def test_the_four_greedy_estimators_are_found():
    names = {cls.__name__ for cls in KSPARSE}
    assert {"IHTRegressor", "HTPRegressor", "OMPRRegressor", "ELSRegressor"} <= names


def easy_problem(n_targets=3, dtype=np.float64, offset=0.0):
    X, Y, coef = make_sparse_recovery(40, 60, 4, n_targets=n_targets, random_state=0)
    return X.astype(dtype), (Y + offset).astype(dtype), coef


def hard_problem(n_targets=4):
    """Noisy, few samples: targets stop at different iterations, some exploring long."""
    X, Y, coef = make_sparse_recovery(20, 40, 5, n_targets=n_targets, noise=0.1, random_state=1)
    return X + 0.3, Y, coef


def fit_quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize("problem", [easy_problem, hard_problem])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("precompute", [True, False])
def test_multi_target_equals_per_target(cls, problem, fit_intercept, precompute):
    X, Y, _ = problem()
    params = dict(n_nonzero_coefs=4, fit_intercept=fit_intercept, precompute=precompute)
    joint = fit_quiet(cls(**params), X, Y)
    for t in range(Y.shape[1]):
        single = fit_quiet(cls(**params), X, Y[:, t])
        assert_allclose(joint.coef_[t], single.coef_, rtol=0, atol=1e-10)
        assert_allclose(joint.intercept_[t], single.intercept_, rtol=0, atol=1e-10)
        assert_array_equal(joint.support_[t], single.support_)
        assert joint.n_iter_[t] == single.n_iter_


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize("n_targets", [1, 3])
def test_float32_in_float32_out(cls, n_targets):
    X, Y, coef = easy_problem(dtype=np.float32, offset=2.0)
    y = Y[:, 0] if n_targets == 1 else Y
    est = fit_quiet(cls(n_nonzero_coefs=4), X, y)
    assert est.coef_.dtype == np.float32
    assert np.asarray(est.intercept_, dtype=np.float32).dtype == np.float32
    assert est.predict(X).dtype == np.float32
    ref = fit_quiet(cls(n_nonzero_coefs=4), X.astype(np.float64), y.astype(np.float64))
    assert_array_equal(est.support_, ref.support_)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("cls", KSPARSE)
def test_intercept_is_the_centring_of_sklearn(cls):
    X, Y, _ = easy_problem()
    X_shifted, Y_shifted = X + 3.0, Y - 7.0
    with_intercept = fit_quiet(cls(n_nonzero_coefs=4), X_shifted, Y_shifted)
    centred = fit_quiet(
        cls(n_nonzero_coefs=4, fit_intercept=False),
        X_shifted - X_shifted.mean(0),
        Y_shifted - Y_shifted.mean(0),
    )
    assert_allclose(with_intercept.coef_, centred.coef_, atol=1e-10)
    expected = Y_shifted.mean(0) - with_intercept.coef_ @ X_shifted.mean(0)
    assert_allclose(with_intercept.intercept_, expected, atol=1e-10)
    assert_allclose(with_intercept.predict(X_shifted), Y_shifted, atol=1e-8)
    no_intercept = fit_quiet(cls(n_nonzero_coefs=4, fit_intercept=False), X, Y)
    assert_array_equal(no_intercept.intercept_, np.zeros(3))


@pytest.mark.parametrize("cls", KSPARSE)
def test_fitted_attributes(cls):
    X, Y, coef = easy_problem()
    est = fit_quiet(cls(), X, Y)
    assert est.n_nonzero_coefs_ == 6  # max(int(0.1 * 60), 1)
    assert est.support_.shape == est.coef_.shape == (3, 60)
    assert_array_equal(est.support_.sum(axis=1), [6, 6, 6])
    assert not np.any(est.coef_[~est.support_])
    assert est.n_iter_.shape == (3,)
    single = fit_quiet(cls(n_nonzero_coefs=4), X, Y[:, 0])
    assert single.coef_.shape == single.support_.shape == (60,)
    assert isinstance(single.n_iter_, int) and isinstance(single.intercept_, float)
    assert_array_equal(single.support_, coef[0] != 0)


@pytest.mark.parametrize("cls", KSPARSE)
def test_warm_start_passes_the_previous_state(cls, monkeypatch):
    X, Y, _ = hard_problem()
    est = fit_quiet(cls(n_nonzero_coefs=4, warm_start=True, init="zeros"), X, Y)
    # SEA continues exploring from its exploration vector, the others from coef_
    first = getattr(est, "exploration_", est.coef_).copy()
    seen = {}
    solve = cls._solve

    def spy(self, X, Y, k, coef_init, gram, units):
        # the solver works in internal units (X and Y rescaled by powers of two)
        seen["coef_init"] = None if coef_init is None else units.coef_to_user(coef_init)
        return solve(self, X, Y, k, coef_init, gram, units=units)

    monkeypatch.setattr(cls, "_solve", spy)
    fit_quiet(est, X, Y)
    assert_array_equal(seen["coef_init"], first)
    fit_quiet(est.set_params(warm_start=False), X, Y)
    assert seen["coef_init"] is None


@pytest.mark.parametrize("cls", KSPARSE)
def test_cold_refit_is_reproducible(cls):
    X, Y, _ = hard_problem()
    est = fit_quiet(cls(n_nonzero_coefs=4), X, Y)
    first = est.coef_.copy()
    assert_array_equal(fit_quiet(est, X, Y).coef_, first)


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize(
    "init",
    [None, "zeros", "omp", "ompr", "els", "iht", "htp", "true_1d", "true_2d", OrthogonalMatchingPursuit(n_nonzero_coefs=4)],
)
def test_every_init_form(cls, init):
    X, Y, coef = easy_problem()
    if init == "true_1d":
        init, Y = coef[0], np.repeat(Y[:, :1], 3, axis=1)
        coef = np.repeat(coef[:1], 3, axis=0)
    elif init == "true_2d":
        init = coef
    est = fit_quiet(cls(n_nonzero_coefs=4, init=init), X, Y)
    assert_array_equal(est.support_, coef != 0)
    assert_allclose(est.coef_, coef, atol=1e-8)


@pytest.mark.parametrize("cls", KSPARSE)
def test_init_estimator_is_fitted_on_a_1d_target(cls):
    X, Y, coef = easy_problem()
    est = fit_quiet(cls(n_nonzero_coefs=4, init=Lasso(alpha=1e-3)), X, Y[:, 1])
    assert_array_equal(est.support_, coef[1] != 0)


@pytest.mark.parametrize("cls", KSPARSE)
def test_tol_stops_early_without_warning(cls):
    X, Y, _ = hard_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = cls(n_nonzero_coefs=4, tol=1e10).fit(X, Y)
    assert np.all(np.sum((Y - est.predict(X)) ** 2, axis=0) <= 1e10)


@pytest.mark.parametrize("cls", KSPARSE)
def test_not_converging_warns(cls):
    X, y, _ = make_gaussian_deconvolution(60, 6, random_state=0)
    # an unreachable tol: SEA's fixed budget is a normal stop unless tol is asked for; OMPR's
    # growth is not counted in max_iter and with its default step it often stops right after it
    params = {"step_size": 1e3} if cls.__name__ == "OMPRRegressor" else {}
    with pytest.warns(ConvergenceWarning, match=rf"{cls.__name__} did not converge within max_iter=1"):
        cls(n_nonzero_coefs=6, max_iter=1, tol=1e-30, **params).fit(X, y)


def test_ompr_support_reaches_k_when_max_iter_is_below_k():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 80)), rng.standard_normal(60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = OMPRRegressor(n_nonzero_coefs=30, max_iter=5).fit(X, y)
    assert est.support_.sum() == 30
    assert est.n_iter_ <= 30 + 5


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize("case", ["zero_columns", "duplicated_columns", "zero_target", "k_above_n_samples", "all_zero"])
def test_degenerate_input_gives_finite_results(cls, case):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((15, 12))
    y = X[:, [1, 4, 7]] @ np.array([1.0, -2.0, 1.5])
    k = 3
    if case == "zero_columns":
        X[:, [0, 5]] = 0.0
    elif case == "duplicated_columns":
        X[:, 2] = X[:, 4]
        X[:, 9] = X[:, 1]
    elif case == "zero_target":
        y = np.zeros(15)
    elif case == "k_above_n_samples":
        X, y, k = X[:5], y[:5], 8
    else:
        X, y = np.zeros_like(X), np.zeros(15)
    est = fit_quiet(cls(n_nonzero_coefs=k), X, y)
    assert np.all(np.isfinite(est.coef_)) and np.isfinite(est.intercept_)
    assert np.all(np.isfinite(est.predict(X)))
    assert est.support_.sum() == k
    if case in ("zero_target", "all_zero"):
        assert_array_equal(est.coef_, np.zeros(12))
    if case == "zero_columns":
        assert_array_equal(est.coef_[[0, 5]], [0.0, 0.0])


def _bad_params(cls):
    cases = [
        ({"n_nonzero_coefs": 61}, ValueError, "n_nonzero_coefs=61 cannot be larger than n_features=60"),
        ({"n_nonzero_coefs": 0}, ValueError, "n_nonzero_coefs must be >= 1; got n_nonzero_coefs=0"),
        ({"n_nonzero_coefs": 2.5}, TypeError, "n_nonzero_coefs must be an int or None; got 2.5"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1; got max_iter=0"),
        ({"max_iter": "10"}, TypeError, "max_iter must be an int; got '10'"),
        ({"tol": -1.0}, ValueError, "tol must be >= 0.0; got tol=-1.0"),
        ({"fit_intercept": "yes"}, TypeError, "fit_intercept must be a bool; got 'yes'"),
        ({"warm_start": 1}, TypeError, "warm_start must be a bool; got 1"),
        ({"precompute": "always"}, ValueError, "precompute must be one of ['auto']; got 'always'"),
        ({"init": "lasso"}, ValueError, "init must be one of ['zeros', 'omp', 'ompr', 'els', 'iht', 'htp']"),
        ({"init": 3.0}, TypeError, "init must be None, one of"),
        ({"init": np.ones(59)}, ValueError, r"init has shape (59,); expected (60,) or (3, 60)"),
        ({"init": np.ones((2, 60))}, ValueError, r"init has shape (2, 60); expected (60,) or (3, 60)"),
        ({"init": np.full(60, np.nan)}, ValueError, "init contains NaN or infinity"),
    ]
    if cls in WITH_STEP:
        cases += [
            ({"step_size": 0.0}, ValueError, "step_size must be 'auto' or a finite float > 0; got step_size=0.0"),
            ({"step_size": -1.0}, ValueError, "step_size must be 'auto' or a finite float > 0; got step_size=-1.0"),
            ({"step_size": np.inf}, ValueError, "step_size must be 'auto' or a finite float > 0; got step_size=inf"),
            ({"step_size": "big"}, ValueError, "step_size must be one of ['auto']; got 'big'"),
        ]
    return [(cls, *case) for case in cases]


@pytest.mark.parametrize(
    "cls, params, error, message", [case for cls in KSPARSE for case in _bad_params(cls)]
)
def test_bad_parameters_are_named_in_the_error(cls, params, error, message):
    X, Y, _ = easy_problem()
    with pytest.raises(error, match=re.escape(message)):
        cls(**params).fit(X, Y)


@pytest.mark.parametrize("cls", KSPARSE)
def test_bad_data_is_named_in_the_error(cls):
    X, Y, _ = easy_problem()
    X_nan, Y_inf = X.copy(), Y.copy()
    X_nan[0, 0], Y_inf[1, 1] = np.nan, np.inf
    with pytest.raises(ValueError, match="Input X contains NaN"):
        cls().fit(X_nan, Y)
    with pytest.raises(ValueError, match="Input y contains infinity"):
        cls().fit(X, Y_inf)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        cls().fit(X[:, 0], Y)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[40, 39\]"):
        cls().fit(X, Y[:-1])
    with pytest.raises(ValueError, match="could not convert string to float"):
        cls().fit(np.full(X.shape, "a"), Y)
    est = fit_quiet(cls(n_nonzero_coefs=4), X, Y)
    with pytest.raises(ValueError, match="X has 59 features, but .* is expecting 60 features"):
        est.predict(X[:, 1:])


@pytest.mark.parametrize("cls", KSPARSE)
def test_precompute_does_not_change_the_result(cls):
    X, Y, _ = hard_problem()
    with_gram = fit_quiet(cls(n_nonzero_coefs=4, precompute=True), X, Y)
    without = fit_quiet(cls(n_nonzero_coefs=4, precompute=False), X, Y)
    assert_allclose(with_gram.coef_, without.coef_, rtol=0, atol=1e-10)
    assert_array_equal(with_gram.n_iter_, without.n_iter_)


SOLVERS = {"iht": iht, "htp": htp, "ompr": ompr, "els": els}
# IHT's iterates converge to the optimum rather than land on it
OPTIMUM_RTOL = {"iht": 1e-6, "htp": 1e-9, "ompr": 1e-9, "els": 1e-9}


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("seed", range(20))
def test_solvers_find_the_global_optimum_of_planted_problems(name, seed):
    rng = np.random.default_rng(seed)
    n_features = int(rng.integers(8, 13))
    k = int(rng.integers(1, 4))
    X, Y, _ = planted_problem(rng, 3 * n_features, n_features, k, n_targets=2, noise=0.01)
    result = SOLVERS[name](X, Y, k)
    for t in range(2):
        support, best = best_k_sparse(X, Y[:, t], k)
        assert set(np.flatnonzero(result.support[t])) == support
        assert_allclose(np.sum((Y[:, t] - X @ result.coef[t]) ** 2), best, rtol=OPTIMUM_RTOL[name])


@pytest.mark.parametrize("name", SOLVERS)
def test_solvers_recover_noiseless_gaussian_problems(name):
    # the full 100-run measurement is benchmarks/bench_greedy.py --recovery
    X, Y, coef = make_sparse_recovery(100, 200, 10, n_targets=20, random_state=0)
    assert support_recovery(coef, SOLVERS[name](X, Y, 10).coef) >= 0.95
