"""Tests of the SEA solver and of SEARegressor."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import OrthogonalMatchingPursuit, orthogonal_mp
from sklearn.neighbors import KNeighborsRegressor

from skstexplore import SEARegressor
from skstexplore._core.thresholding import largest_k
from skstexplore.datasets import make_gaussian_deconvolution, make_sparse_recovery
from skstexplore.solvers import sea as sea_module
from skstexplore.solvers.sea import default_step_size, sea


@pytest.fixture(params=["one after the other", "as arrays"])
def multi_target_path(request, monkeypatch):
    """Runs a test of several targets through each path: the targets one after the other (the default for a few)
    and all together as array operations (the default for many; forced here by a threshold of zero)."""
    if request.param == "as arrays":
        monkeypatch.setattr(sea_module, "FEW_TARGETS", 0)
    return request.param


def naive_sea(X, y, k, eta, n_iter, xi0=None):
    """SEA written directly from its definition: lstsq on the support, X.T @ r every iteration."""
    xi = np.zeros(X.shape[1]) if xi0 is None else np.array(xi0, dtype=float)
    supports, losses = [], []
    for _ in range(n_iter):
        S = largest_k(xi[None], k)[0]
        z = np.linalg.lstsq(X[:, S], y, rcond=None)[0]
        r = X[:, S] @ z - y
        supports.append(S)
        losses.append(r @ r)
        xi -= eta * (X.T @ r)
    return np.array(supports), np.array(losses), xi


def problem(m=30, n=60, k=6, n_targets=1, seed=0, dtype=np.float64):
    X, y, coef = make_sparse_recovery(m, n, k, n_targets=n_targets, random_state=seed)
    return X.astype(dtype), y.astype(dtype), coef


# -- the solver against its definition ---------------------------------------------


@pytest.mark.parametrize("use_gram", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solver_matches_definition(use_gram, seed):
    X, y, _ = problem(25, 50, 8, seed=seed)
    eta = default_step_size(X)
    result = sea(X, y[:, None], 8, step_size=eta, max_iter=150, gram=X.T @ X if use_gram else None,
                 n_iter_no_change=None, record_supports=True)
    supports, losses, xi = naive_sea(X, y, 8, eta, 150)
    np.testing.assert_array_equal(result.extras["supports"][0], supports)
    np.testing.assert_allclose(result.extras["loss_curve"][0], losses, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(result.extras["exploration"][0], xi, rtol=1e-7, atol=1e-9)
    assert result.extras["n_supports_explored"][0] == len({s.tobytes() for s in supports})


def test_solver_warm_start_matches_definition():
    X, y, _ = problem(25, 50, 8, seed=3)
    xi0 = np.random.default_rng(0).standard_normal(50)
    result = sea(X, y[:, None], 8, exploration_init=xi0[None], step_size=0.05, max_iter=100,
                 record_supports=True)
    supports, losses, xi = naive_sea(X, y, 8, 0.05, 100, xi0)
    np.testing.assert_array_equal(result.extras["supports"][0], supports)
    np.testing.assert_allclose(result.extras["exploration"][0], xi, rtol=1e-7, atol=1e-9)


@pytest.mark.usefixtures("multi_target_path")
def test_multi_target_equals_separate_runs():
    # 10 targets: as arrays, new supports of many targets at once go through the batched solve
    X, Y, _ = problem(25, 50, 5, n_targets=10, seed=4)
    joint = sea(X, Y, 5, max_iter=80, record_supports=True)
    for t in range(Y.shape[1]):
        alone = sea(X, Y[:, t:t + 1], 5, max_iter=80, record_supports=True)
        assert joint.n_iter[t] == alone.n_iter[0]
        np.testing.assert_array_equal(joint.extras["supports"][t][: joint.n_iter[t]], alone.extras["supports"][0])
        np.testing.assert_allclose(joint.coef[t], alone.coef[0], rtol=1e-10, atol=1e-12)
        assert joint.extras["best_iter"][t] == alone.extras["best_iter"][0]


# -- properties the issue asks for ---------------------------------------------------


@pytest.mark.parametrize("data", ["gaussian", "deconvolution"])
def test_supports_do_not_depend_on_step_size_from_zero(data):
    if data == "gaussian":
        X, y, _ = problem(30, 60, 10, seed=5)
    else:
        X, y, _ = make_gaussian_deconvolution(60, 6, random_state=0)
    paths = [
        sea(X, y[:, None], 6, step_size=eta, max_iter=200, record_supports=True).extras["supports"][0]
        for eta in (1e-3, 1.0, 1e3)
    ]
    np.testing.assert_array_equal(paths[0], paths[1])
    np.testing.assert_array_equal(paths[0], paths[2])
    fits = [SEARegressor(6, step_size=eta, max_iter=200).fit(X, y) for eta in (1e-3, 1e3)]
    np.testing.assert_allclose(fits[0].loss_curve_, fits[1].loss_curve_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=1e-9, atol=1e-12)
    assert fits[0].n_supports_explored_ == fits[1].n_supports_explored_
    # the exploration vector itself scales with the step
    np.testing.assert_allclose(fits[1].exploration_, 1e6 * fits[0].exploration_, rtol=1e-6)


def test_step_size_matters_with_warm_start():
    X, y, _ = problem(30, 60, 10, seed=6)
    paths = [
        sea(X, y[:, None], 10, exploration_init=np.ones((1, 60)), step_size=eta, max_iter=50,
            record_supports=True).extras["supports"][0]
        for eta in (1e-4, 1e2)
    ]
    assert not np.array_equal(paths[0], paths[1])


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_targets", [1, 3])
@pytest.mark.usefixtures("multi_target_path")
def test_best_iterate_agrees_with_loss_curve(fit_intercept, dtype, n_targets):
    X, y, _ = problem(30, 60, 12, n_targets=n_targets, seed=7, dtype=dtype)
    y = y + 2.5
    reg = SEARegressor(10, fit_intercept=fit_intercept, max_iter=120).fit(X, y)
    curves = [reg.loss_curve_] if n_targets == 1 else reg.loss_curve_
    best = np.atleast_1d(reg.best_iter_)
    residual = (y - reg.predict(X)).reshape(len(y), -1)
    rtol = 1e-3 if dtype == np.float32 else 1e-9
    for t, curve in enumerate(curves):
        assert len(curve) == np.atleast_1d(reg.n_iter_)[t]
        assert best[t] == np.argmin(curve)  # first iterate with the smallest residual
        np.testing.assert_allclose(residual[:, t] @ residual[:, t], curve[best[t]], rtol=rtol, atol=1e-4)
    assert reg.coef_.dtype == dtype and reg.exploration_.dtype == dtype
    assert np.all(reg.support_.sum(axis=-1) == 10)
    assert np.all(reg.coef_[~reg.support_] == 0)


# -- recovery ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_recovers_easy_problem(dtype, fit_intercept):
    X, y, coef = problem(40, 80, 6, seed=8, dtype=dtype)
    offset = 1.0 if fit_intercept else 0.0
    reg = SEARegressor(6, fit_intercept=fit_intercept).fit(X, y + offset)
    np.testing.assert_array_equal(reg.support_, coef != 0)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-3 if dtype == np.float32 else 1e-8, atol=1e-4)
    if fit_intercept:
        assert reg.intercept_ == pytest.approx(1.0, abs=1e-3)


def test_sea_omp_never_worse_than_omp():
    # the first support of SEA_OMP is OMP's, and the best iterate is returned
    for seed in range(5):
        X, y, _ = problem(30, 60, 14, seed=seed)
        omp = orthogonal_mp(X, y, n_nonzero_coefs=12)
        reg = SEARegressor(12, init="omp", fit_intercept=False, max_iter=100).fit(X, y)
        assert np.array_equal(reg.loss_curve_[0], np.sum((y - X @ omp) ** 2)) or np.isclose(
            reg.loss_curve_[0], np.sum((y - X @ omp) ** 2), rtol=1e-9)
        assert reg.loss_curve_[reg.best_iter_] <= reg.loss_curve_[0]


@pytest.mark.parametrize("init", ["omp", "array", "estimator"])
def test_init_forms(init):
    X, y, _ = problem(30, 60, 8, seed=9)
    omp = orthogonal_mp(X, y, n_nonzero_coefs=8)
    forms = {"omp": "omp", "array": omp, "estimator": OrthogonalMatchingPursuit(n_nonzero_coefs=8,
                                                                                fit_intercept=False)}
    reg = SEARegressor(8, init=forms[init], fit_intercept=False, max_iter=30).fit(X, y)
    reference = sea(X, y[:, None], 8, exploration_init=omp[None], max_iter=30)
    np.testing.assert_allclose(reg.exploration_, reference.extras["exploration"][0], rtol=1e-9, atol=1e-12)


def test_warm_start_continues_exploring():
    X, y, _ = problem(30, 60, 14, seed=10)
    reg = SEARegressor(12, max_iter=40, warm_start=True).fit(X, y)
    first_curve = reg.loss_curve_.copy()
    reg.fit(X, y)
    once = SEARegressor(12, max_iter=80).fit(X, y)
    np.testing.assert_allclose(np.concatenate([first_curve, reg.loss_curve_]), once.loss_curve_,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(reg.exploration_, once.exploration_, rtol=1e-9, atol=1e-12)
    # without warm_start a refit starts again from init
    cold = SEARegressor(12, max_iter=40).fit(X, y)
    cold.fit(X, y)
    np.testing.assert_allclose(cold.loss_curve_, first_curve)


@pytest.mark.usefixtures("multi_target_path")
def test_warm_start_ignores_previous_fit_of_other_shape():
    X, Y, _ = problem(30, 60, 6, n_targets=2, seed=11)
    reg = SEARegressor(6, max_iter=30, warm_start=True).fit(X, Y)
    reg.fit(X, Y[:, 0])
    fresh = SEARegressor(6, max_iter=30).fit(X, Y[:, 0])
    np.testing.assert_allclose(reg.coef_, fresh.coef_)


# -- halting --------------------------------------------------------------------------


def test_tol_stops_early_without_warning():
    X, y, _ = problem(40, 80, 6, seed=12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = SEARegressor(6, tol=1e-12, fit_intercept=False).fit(X, y)
    assert reg.n_iter_ == reg.best_iter_ + 1 < reg.max_iter
    assert reg.loss_curve_[-1] <= 1e-12


def test_unreached_tol_warns():
    X, y, _ = make_sparse_recovery(30, 60, 6, noise=0.1, random_state=13)
    with pytest.warns(ConvergenceWarning, match="SEARegressor did not converge within max_iter=20"):
        SEARegressor(6, tol=1e-12, max_iter=20).fit(X, y)


def test_fixed_budget_does_not_warn():
    X, y, _ = make_sparse_recovery(30, 60, 6, noise=0.1, random_state=13)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = SEARegressor(6, max_iter=20).fit(X, y)
    assert reg.n_iter_ == 20


def test_n_iter_no_change():
    X, y, _ = make_sparse_recovery(30, 60, 12, noise=0.05, random_state=14)
    reg = SEARegressor(10, n_iter_no_change=15, max_iter=1000).fit(X, y)
    assert reg.n_iter_ == reg.best_iter_ + 16
    full = SEARegressor(10, max_iter=reg.n_iter_).fit(X, y)
    np.testing.assert_allclose(full.loss_curve_, reg.loss_curve_)
    assert full.best_iter_ == reg.best_iter_


def test_zero_target_stops_at_once():
    X, _, _ = problem(20, 40, 4, seed=15)
    reg = SEARegressor(4).fit(X, np.zeros(20))
    assert reg.n_iter_ == 1 and np.all(reg.coef_ == 0) and reg.intercept_ == 0


# -- degenerate but valid input --------------------------------------------------------


def test_duplicated_and_zero_columns_give_finite_results():
    X, y, _ = problem(20, 30, 4, seed=16)
    X = np.hstack([X, X[:, :5], np.zeros((20, 3))])
    reg = SEARegressor(8, max_iter=60).fit(X, y)
    assert np.all(np.isfinite(reg.coef_)) and np.all(np.isfinite(reg.loss_curve_))


def test_k_larger_than_n_samples_and_all_features():
    X, y, _ = problem(10, 20, 3, seed=17)
    for k in (15, 20):
        reg = SEARegressor(k, max_iter=30).fit(X, y)
        assert np.all(np.isfinite(reg.coef_))
        assert reg.loss_curve_.min() == pytest.approx(0, abs=1e-10)


def test_precompute_does_not_change_the_path():
    X, y, _ = problem(30, 60, 10, seed=18)
    a = SEARegressor(8, precompute=True, max_iter=100).fit(X, y)
    b = SEARegressor(8, precompute=False, max_iter=100).fit(X, y)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(a.support_, b.support_)


def test_up_to_few_targets_explore_one_after_the_other(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the array operations over all targets ran")

    monkeypatch.setattr(sea_module, "ManyTargetExplorer", refuse)
    X, Y, _ = problem(20, 40, 3, n_targets=sea_module.FEW_TARGETS + 1, seed=27)
    sea(X, Y[:, : sea_module.FEW_TARGETS], 3, max_iter=20)
    with pytest.raises(AssertionError, match="array operations"):
        sea(X, Y, 3, max_iter=20)


@pytest.mark.usefixtures("multi_target_path")
def test_multi_target_attributes():
    X, Y, _ = problem(30, 60, 5, n_targets=3, seed=19)
    reg = SEARegressor(5, max_iter=50).fit(X, Y)
    assert reg.coef_.shape == reg.exploration_.shape == reg.support_.shape == (3, 60)
    assert reg.n_iter_.shape == reg.best_iter_.shape == reg.n_supports_explored_.shape == (3,)
    assert len(reg.loss_curve_) == 3
    for t in range(3):
        alone = SEARegressor(5, max_iter=50).fit(X, Y[:, t])
        np.testing.assert_allclose(reg.coef_[t], alone.coef_, rtol=1e-9, atol=1e-12)


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"init": np.zeros(7)}, ValueError, r"init has shape \(7,\); expected \(60,\)"),
        ({"init": np.zeros((2, 60))}, ValueError, r"init has shape \(2, 60\)"),
        ({"init": np.full(60, np.nan)}, ValueError, "init contains NaN"),
        ({"init": KNeighborsRegressor(n_neighbors=2)}, TypeError, "init estimator KNeighborsRegressor has no coef_"),
        ({"init": "lasso"}, ValueError, "init must be one of"),
        ({"init": 3.0}, TypeError, "init must be None"),
        ({"n_iter_no_change": -1}, ValueError, "n_iter_no_change must be >= 1; got n_iter_no_change=-1"),
        ({"n_iter_no_change": 0}, ValueError, "n_iter_no_change must be >= 1"),
        ({"n_iter_no_change": 2.5}, TypeError, "n_iter_no_change must be an int"),
        ({"step_size": 0.0}, ValueError, "step_size must be 'auto' or a finite float > 0"),
        ({"step_size": -1.0}, ValueError, "step_size=-1.0"),
        ({"step_size": "large"}, ValueError, "step_size must be one of"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
        ({"tol": -1.0}, ValueError, "tol must be >= 0"),
        ({"n_nonzero_coefs": 61}, ValueError, "n_nonzero_coefs=61 cannot be larger than n_features=60"),
        ({"precompute": "yes"}, ValueError, "precompute must be one of"),
        ({"warm_start": 1}, TypeError, "warm_start must be a bool"),
    ],
)
def test_bad_parameters(params, error, match):
    X, y, _ = problem(30, 60, 5, seed=20)
    with pytest.raises(error, match=match):
        SEARegressor(**params).fit(X, y)


def test_bad_data():
    X, y, _ = problem(30, 60, 5, seed=21)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SEARegressor(5).fit(X, y)


# -- reliability: units, memory, budgets (issue 8) --------------------------------------


@pytest.mark.parametrize("x_scale, y_scale", [(1e-160, 1.0), (1.0, 1e155), (1e155, 1.0), (1.0, 1e-160), (2.0**-30, 2.0**12)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_do_not_depend_on_units(x_scale, y_scale, dtype):
    if dtype == np.float32 and max(x_scale, y_scale, 1 / x_scale, 1 / y_scale) > 1e30:
        x_scale, y_scale = min(max(x_scale, 1e-30), 1e30), min(max(y_scale, 1e-30), 1e30)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 30)).astype(dtype), rng.standard_normal(20).astype(dtype)
    ref = SEARegressor(3, init="omp").fit(X, y)
    reg = SEARegressor(3, init="omp").fit(X * dtype(x_scale), y * dtype(y_scale))
    np.testing.assert_array_equal(reg.support_, ref.support_)
    np.testing.assert_allclose(reg.coef_ * (x_scale / y_scale), ref.coef_, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert reg.coef_.dtype == dtype


def test_user_step_tol_and_init_follow_the_units():
    X, y, coef = problem(30, 60, 6, seed=22)
    start = orthogonal_mp(X, y, n_nonzero_coefs=6) + 0.1
    ref = SEARegressor(6, init=start, step_size=0.01, tol=1e-3, max_iter=50, n_iter_no_change=None).fit(X, y)
    a, b = 2.0**40, 3.0**-20
    reg = SEARegressor(6, init=start * b / a, step_size=0.01 / a**2, tol=1e-3 * b**2, max_iter=50,
                       n_iter_no_change=None).fit(X * a, y * b)
    np.testing.assert_array_equal(reg.support_, ref.support_)
    assert reg.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(reg.exploration_ * a / b, ref.exploration_, rtol=1e-9)
    np.testing.assert_allclose(reg.loss_curve_ / b**2, ref.loss_curve_, rtol=1e-9)
    assert reg.step_size_ == pytest.approx(0.01 / a**2)


def test_huge_max_iter_is_not_preallocated():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 30)), rng.standard_normal(20)
    reg = SEARegressor(n_nonzero_coefs=3, max_iter=10**12, n_iter_no_change=50).fit(X, y)
    assert reg.n_iter_ == reg.best_iter_ + 51
    assert len(reg.loss_curve_) == reg.n_iter_


def test_support_store_stays_within_its_budget():
    from skstexplore.solvers._sea_store import SupportStore

    store = SupportStore(1000, 10, np.float64, max_bytes=2**20)
    keys = np.arange(1, 5001, dtype=np.uint64)
    for start in range(0, 5000, 100):
        part = slice(start, start + 100)
        store.insert(keys[part], np.ones((100, 10)), np.ones((100, 1000)), np.ones(100), np.ones(100))
        assert store.values.nbytes + store.steps.nbytes <= 2**20
    # the most recent entries are kept, the oldest replaced
    assert np.all(store.lookup(keys[-store.capacity:]) >= 0)
    assert np.all(store.lookup(keys[:100]) < 0)


@pytest.mark.parametrize("view", [False, True])
def test_support_store_keeps_its_entries_when_it_grows(view):
    from skstexplore.solvers._sea_store import SupportStore

    store = SupportStore(50, 3, np.float64, max_bytes=2**20)
    keys = np.arange(1, 201, dtype=np.uint64)
    rng = np.random.default_rng(0)
    values, steps = rng.standard_normal((200, 3)), rng.standard_normal((200, 50))
    store.insert(keys[:64], values[:64], steps[:64], np.ones(64), np.ones(64))
    held = store.steps[:2] if view else None  # a view: the store cannot grow in place, it copies
    for start in range(64, 200, 34):
        part = slice(start, start + 34)
        store.insert(keys[part], values[part], steps[part], np.ones(34), np.ones(34))
    slots = store.lookup(keys)
    assert len(store.steps) >= 200 and np.all(slots >= 0)
    np.testing.assert_array_equal(store.values[slots], values)
    np.testing.assert_array_equal(store.steps[slots], steps)
    if view:
        np.testing.assert_array_equal(held, steps[:2])


def test_memory_of_many_targets_is_bounded():
    import tracemalloc

    X, Y, _ = problem(40, 200, 4, n_targets=600, seed=23)
    data_bytes = X.nbytes + Y.nbytes
    tracemalloc.start()
    sea(X, Y, 4, max_iter=300, n_iter_no_change=None, store_bytes=2**20, column_bytes=2**20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the state is a few (n_targets, n_features) arrays and the loss curves (kept twice while
    # assembled); the stores stay within their budgets (the former per-target floor of 64
    # supports alone took 64 x 600 x 1.7 kB = 65 MB here)
    state, curves = 600 * 200 * 8, 2 * 600 * 512 * 8
    assert peak < 10 * state + curves + 2 * 2**20 + 10 * data_bytes


def test_gram_columns_match_the_gram_matrix_under_a_small_budget():
    from skstexplore._core.gram_columns import GramColumns

    rng = np.random.default_rng(1)
    X = rng.standard_normal((15, 40))
    G = X.T @ X
    columns = GramColumns(X, max_bytes=12 * 40 * 8)  # 12 columns
    for _ in range(20):
        idx = np.sort(rng.choice(40, size=(2, 5), replace=True), axis=1)
        assert columns.fetch(idx)
        np.testing.assert_allclose(columns.block(idx), G[idx[:, :, None], idx[:, None, :]], atol=1e-12)
        v = rng.standard_normal((2, 5))
        np.testing.assert_allclose(columns.times(idx, v), np.einsum("tk,tkn->tn", v, G[idx]), atol=1e-12)
    assert not columns.fetch(np.arange(13))
    assert columns.n_computed > 12


def test_gram_columns_bring_the_likely_ones_with_the_missing_ones():
    from skstexplore._core.gram_columns import GramColumns

    X = np.random.default_rng(2).standard_normal((15, 40))
    G = X.T @ X
    columns = GramColumns(X, max_bytes=12 * 40 * 8)  # 12 columns
    support, likely = np.array([3, 7]), np.array([7, 20, 31])
    np.testing.assert_allclose(columns.support_rows(support, likely=lambda: likely), G[support], atol=1e-12)
    assert columns.n_computed == 4  # 3, 7, 20 and 31 in one product
    np.testing.assert_allclose(columns.support_rows(np.array([20, 31])), G[[20, 31]], atol=1e-12)
    assert columns.n_computed == 4
    # likely ones that do not fit beside the support are left out
    wide = np.arange(11)
    np.testing.assert_allclose(columns.support_rows(wide, likely=lambda: np.arange(11, 40)), G[wide], atol=1e-12)


# one stored support, then about five: entries are replaced while targets stand on them
@pytest.mark.parametrize("store_bytes", [1, 3600])
@pytest.mark.parametrize("n_targets", [1, 12])
@pytest.mark.usefixtures("multi_target_path")
def test_store_and_column_budgets_do_not_change_the_path(store_bytes, n_targets):
    # (one target: the 6 columns of a support fit, the 16 more it would bring beside missing ones do not)
    X, Y, _ = problem(25, 50, 6, n_targets=n_targets, seed=24)
    Y = Y.reshape(len(Y), -1)
    big = sea(X, Y, 6, max_iter=200, n_iter_no_change=None, record_supports=True)
    tiny = sea(X, Y, 6, max_iter=200, n_iter_no_change=None, record_supports=True, store_bytes=store_bytes,
               column_bytes=6 * 50 * 8)
    np.testing.assert_array_equal(big.extras["supports"], tiny.extras["supports"])
    np.testing.assert_array_equal(big.extras["n_supports_explored"], tiny.extras["n_supports_explored"])


def tied_rows_and_supports(seed, n_rows, dtype, k=4):
    """Rows of 12 small integers (many ties, zeros included) and an old support of ``k`` random indices each."""
    rng = np.random.default_rng(seed)
    A = rng.integers(0, 4, size=(n_rows, 12)).astype(dtype)
    old = np.sort(rng.permuted(np.tile(np.arange(12), (n_rows, 1)), axis=1)[:, :k], axis=1)
    return A, old, k


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_top_k_among_the_candidates_is_largest_k(dtype):
    from skstexplore.solvers._sea_topk import top_k_above

    A, old, k = tied_rows_and_supports(5, 300, dtype)
    # lo: the smallest entry of the old support, so every row holds k entries >= lo
    lo = np.take_along_axis(A, old, axis=1).min(axis=1)
    np.testing.assert_array_equal(top_k_above(A, lo, k), largest_k(A, k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_swapping_in_the_largest_entry_off_the_support_is_largest_k(dtype):
    from skstexplore.solvers._sea_topk import off_support_largest, swap_in

    A, old, k = tied_rows_and_supports(6, 2000, dtype)
    np.put_along_axis(A, old, np.take_along_axis(A, old, axis=1) + 2, axis=1)  # mostly above the other entries
    on_support, hi, first, second = off_support_largest(A.copy(), old)
    lo = on_support.min(axis=1)
    # the rows with at most one entry off the support at least lo: the case swap_in is for
    one = second < lo
    assert 100 < np.sum(one & (hi == lo)) and 10 < np.sum(one & (hi > lo)) and 100 < np.sum(hi < lo)
    np.testing.assert_array_equal(np.take_along_axis(A, old, axis=1), on_support)
    off = A.copy()
    np.put_along_axis(off, old, -1, axis=1)
    np.testing.assert_array_equal(hi, off.max(axis=1))
    np.testing.assert_array_equal(np.take_along_axis(off, first[:, None], axis=1)[:, 0], hi)
    new = swap_in(on_support[one], old[one], lo[one], hi[one], first[one])
    np.testing.assert_array_equal(new, largest_k(A[one], k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_targets", [1, 3, 12])
@pytest.mark.parametrize("k", [6, 30])  # k > n_samples: every restricted block is singular
@pytest.mark.usefixtures("multi_target_path")
def test_supports_beyond_the_column_budget_go_through_x(dtype, n_targets, k):
    X, Y, _ = problem(25, 50, 6, n_targets=n_targets, seed=25)
    X, Y = X.astype(dtype), Y.astype(dtype).reshape(25, n_targets)
    itemsize = np.dtype(dtype).itemsize
    # past an exact fit (k > n_samples) the gradient is rounding noise and so are the next
    # supports, on either path: there the default rule stops at the exact fit
    halting = None if k < 25 else "auto"
    by_columns = sea(X, Y, k, max_iter=150, n_iter_no_change=halting, record_supports=True)
    # one support's k columns exceed the budget: no column is ever computed or stored
    through_x = sea(X, Y, k, max_iter=150, n_iter_no_change=halting, record_supports=True,
                    column_bytes=k * 50 * itemsize - 1)
    np.testing.assert_array_equal(by_columns.extras["supports"], through_x.extras["supports"])
    np.testing.assert_array_equal(by_columns.n_iter, through_x.n_iter)
    scale = np.abs(by_columns.coef).max()
    np.testing.assert_allclose(through_x.coef, by_columns.coef, rtol=0, atol=1e3 * np.finfo(dtype).eps * scale)


@pytest.mark.usefixtures("multi_target_path")
def test_through_x_holds_no_rows_of_the_gram_matrix(monkeypatch):
    from skstexplore._core import gram_columns

    def refuse(*args, **kwargs):
        raise AssertionError("a k x n_features product was formed")

    monkeypatch.setattr(gram_columns.GramColumns, "fetch", refuse)
    monkeypatch.setattr(gram_columns.GramColumns, "support_rows", refuse)
    X, Y, _ = problem(20, 40, 4, n_targets=2, seed=26)  # Y of shape (20, 2)
    for y in (Y[:, :1], Y):
        result = sea(X, y, 30, max_iter=50, column_bytes=30 * 40 * 8 - 1)
        assert np.all(np.count_nonzero(result.coef, axis=1) <= 30)


# -- the default halting rule ----------------------------------------------------------


def test_default_halting_rule_counts_support_changes_without_progress():
    from skstexplore.solvers.sea import default_patience

    X, y, _ = make_gaussian_deconvolution(60, 8, noise=0.05, random_state=3)
    halted = sea(X, y[:, None], 8, max_iter=5000, record_supports=True)
    n_iter = halted.n_iter[0]
    assert n_iter < 5000 and halted.converged[0]
    full = sea(X, y[:, None], 8, max_iter=n_iter, n_iter_no_change=None, record_supports=True)
    # the rule only decides where to stop: the path is the budget's
    supports = full.extras["supports"][0]
    np.testing.assert_array_equal(halted.extras["supports"][0][:n_iter], supports)
    curve = full.extras["loss_curve"][0]
    relative = np.sqrt(np.finfo(float).eps)
    best, last_progress = np.inf, 0
    for t, loss in enumerate(curve):
        if loss < (1 - relative) * best:
            best, last_progress = loss, t
    changes_after = np.sum(np.any(supports[last_progress + 1:] != supports[last_progress:-1], axis=1))
    assert changes_after == default_patience(8)
    assert not np.array_equal(supports[-1], supports[-2])  # it halts on a change
    assert halted.extras["best_iter"][0] == full.extras["best_iter"][0]


def test_halting_rule_can_be_switched_off():
    X, y, _ = make_sparse_recovery(30, 60, 6, noise=0.1, random_state=25)
    assert SEARegressor(6, max_iter=700, n_iter_no_change=None).fit(X, y).n_iter_ == 700
    with pytest.raises(ValueError, match="n_iter_no_change must be one of"):
        SEARegressor(6, n_iter_no_change="never").fit(X, y)


@pytest.mark.parametrize("n_targets", [1, 3])
@pytest.mark.usefixtures("multi_target_path")
def test_default_rule_stops_at_an_exact_fit_with_the_budget_result(n_targets):
    # noiseless: once the best residual is at the rounding level no later iterate can replace it
    X, Y, _ = problem(40, 80, 6, n_targets=n_targets, seed=26)
    Y = Y.reshape(40, n_targets)
    halted = sea(X, Y, 6, max_iter=1000)
    full = sea(X, Y, 6, max_iter=1000, n_iter_no_change=None)
    best_iter = full.extras["best_iter"]
    assert np.all(full.extras["loss_curve"][0][best_iter[0]] <= 1e-12 * (Y[:, 0] @ Y[:, 0]))
    np.testing.assert_array_equal(halted.n_iter, best_iter + 1)
    np.testing.assert_array_equal(halted.extras["best_iter"], best_iter)
    np.testing.assert_array_equal(halted.coef, full.coef)
