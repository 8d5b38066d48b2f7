"""OracleISTALasso and the ISTA / FISTA / Oracle ISTA solvers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import eigvalsh
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from skstexplore import OracleISTALasso, OracleISTALassoCV
from skstexplore._core.lasso import alpha_max, lasso_dual_gap, lasso_objective
from skstexplore.solvers import ista as ista_module
from skstexplore.solvers.ista import fista, ista, lipschitz_constant, oista, proximal_gradient_step

SOLVERS = ["oista", "ista", "fista"]
SOLVER_FUNCTIONS = [oista, ista, fista]
SHAPES = {"tall": (40, 20), "wide": (20, 40)}


def make_data(shape, n_targets=1, seed=0):
    rng = np.random.default_rng(seed)
    n_samples, n_features = SHAPES[shape]
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros((n_features, n_targets))
    coef[:5] = rng.standard_normal((5, n_targets))
    Y = X @ coef + 0.5 * rng.standard_normal((n_samples, n_targets)) + 3.0
    return X, (Y[:, 0] if n_targets == 1 else Y)


def scaled_alpha(X, y, fraction, fit_intercept):
    """fraction x the largest alpha_max of the (centred) targets."""
    Y = y.reshape(len(y), -1)
    if fit_intercept:
        X, Y = X - X.mean(axis=0), Y - Y.mean(axis=0)
    return fraction * alpha_max(X, Y).max()


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return estimator.fit(X, y)


# --- agreement with sklearn's Lasso -------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.01])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_matches_sklearn_lasso(shape, fit_intercept, fraction, solver):
    X, y = make_data(shape)
    alpha = scaled_alpha(X, y, fraction, fit_intercept)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000, fit_intercept=fit_intercept).fit(X, y)
    est = fit_quietly(OracleISTALasso(alpha=alpha, solver=solver, tol=1e-13, max_iter=100000,
                                      fit_intercept=fit_intercept), X, y)
    assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6
    assert abs(est.intercept_ - ref.intercept_) <= 1e-6
    assert isinstance(est.n_iter_, int) and isinstance(est.dual_gap_, float)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_multi_target_matches_sklearn_lasso(shape, fit_intercept, solver):
    X, Y = make_data(shape, n_targets=4, seed=1)
    alpha = scaled_alpha(X, Y, 0.1, fit_intercept)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000, fit_intercept=fit_intercept).fit(X, Y)
    est = fit_quietly(OracleISTALasso(alpha=alpha, solver=solver, tol=1e-13, max_iter=100000,
                                      fit_intercept=fit_intercept), X, Y)
    assert est.coef_.shape == (4, X.shape[1])
    assert est.intercept_.shape == (4,) and est.n_iter_.shape == (4,) and est.dual_gap_.shape == (4,)
    assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)
    assert_allclose(est.predict(X), ref.predict(X), atol=1e-5)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_positive_matches_sklearn_lasso(shape, solver):
    X, Y = make_data(shape, n_targets=2, seed=2)
    alpha = scaled_alpha(X, Y, 0.05, True)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000, positive=True).fit(X, Y)
    est = fit_quietly(OracleISTALasso(alpha=alpha, solver=solver, tol=1e-13, max_iter=100000,
                                      positive=True), X, Y)
    assert est.coef_.min() >= 0
    assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6


@pytest.mark.parametrize("precompute", [True, False])
def test_precompute_gives_the_same_fit(precompute):
    X, Y = make_data("wide", n_targets=3, seed=3)
    alpha = scaled_alpha(X, Y, 0.1, True)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y)
    est = OracleISTALasso(alpha=alpha, tol=1e-13, max_iter=100000, precompute=precompute).fit(X, Y)
    assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6


@pytest.mark.parametrize("solver", SOLVERS)
def test_stopping_criterion_and_dual_gap_are_sklearns(solver):
    """dual_gap_ is Lasso's (objective scaling) and is <= tol * ||y - mean||^2 / n at the stop."""
    X, y = make_data("wide", seed=4)
    alpha = scaled_alpha(X, y, 0.1, True)
    tol = 1e-6
    est = fit_quietly(OracleISTALasso(alpha=alpha, solver=solver, tol=tol, max_iter=100000), X, y)
    Xc, yc = X - X.mean(axis=0), (y - y.mean())[:, None]
    gap = lasso_dual_gap(Xc, yc, est.coef_[None], alpha)[0]
    assert_allclose(est.dual_gap_, gap, rtol=1e-6, atol=1e-14)
    assert est.dual_gap_ <= tol * np.sum(yc**2) / len(y)
    # sklearn's dual_gap_ at its own solution is in the same scaling
    ref = Lasso(alpha=alpha, tol=tol).fit(X, y)
    assert_allclose(ref.dual_gap_, lasso_dual_gap(Xc, yc, ref.coef_[None], alpha)[0], rtol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_stays_float32(solver):
    X, Y = make_data("tall", n_targets=2, seed=5)
    alpha = scaled_alpha(X, Y, 0.1, True)
    est32 = OracleISTALasso(alpha=alpha, solver=solver, tol=1e-7).fit(X.astype(np.float32), Y.astype(np.float32))
    est64 = OracleISTALasso(alpha=alpha, solver=solver, tol=1e-12, max_iter=10000).fit(X, Y)
    assert est32.coef_.dtype == np.float32 and est32.intercept_.dtype == np.float32
    assert est32.predict(X.astype(np.float32)).dtype == np.float32
    assert np.max(np.abs(est32.coef_ - est64.coef_)) <= 1e-4


# --- warm start, degenerate input, warnings -------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_from_a_larger_alpha_takes_fewer_iterations(solver):
    X, Y = make_data("wide", n_targets=3, seed=1)
    alpha = scaled_alpha(X, Y, 0.2, True)
    kwargs = dict(solver=solver, tol=1e-8, max_iter=100000, working_set=False)
    warm = OracleISTALasso(alpha=alpha, warm_start=True, **kwargs).fit(X, Y)
    warm.set_params(alpha=0.95 * alpha).fit(X, Y)
    cold = OracleISTALasso(alpha=0.95 * alpha, **kwargs).fit(X, Y)
    assert np.all(warm.n_iter_ < cold.n_iter_)
    assert warm.n_iter_.sum() <= 0.8 * cold.n_iter_.sum()
    assert np.max(np.abs(warm.coef_ - cold.coef_)) <= 1e-4


def test_warm_start_at_the_solution_takes_no_iteration():
    X, y = make_data("tall", seed=7)
    est = OracleISTALasso(alpha=0.1, warm_start=True, tol=1e-6).fit(X, y)
    assert est.n_iter_ > 0
    assert est.fit(X, y).n_iter_ == 0


def test_warm_start_ignores_a_previous_fit_of_another_shape():
    X, Y = make_data("tall", n_targets=2, seed=8)
    est = OracleISTALasso(alpha=0.1, warm_start=True).fit(X, Y)
    ref = OracleISTALasso(alpha=0.1).fit(X, Y[:, 0])
    assert_allclose(est.fit(X, Y[:, 0]).coef_, ref.coef_)


def test_not_converging_warns():
    X, y = make_data("wide", seed=9)
    with pytest.warns(ConvergenceWarning, match="OracleISTALasso did not converge within max_iter=3"):
        OracleISTALasso(alpha=0.01, max_iter=3, tol=1e-12).fit(X, y)


@pytest.mark.parametrize("n_targets", [1, 3])
def test_float32_tolerance_below_rounding_stops_early_and_says_so(n_targets):
    # float32 coefficients re-solved exactly move in their last bits from one outer iteration to the next: a
    # gap tolerance below float32's rounding used to run the outer loop until max_iter (seconds, minutes in CV)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 30)).astype(np.float32)
    Y = (X[:, :3] @ rng.standard_normal((3, n_targets)) + 0.1 * rng.standard_normal((60, n_targets))).astype(np.float32)
    with pytest.warns(ConvergenceWarning, match="stopped decreasing above tol, at the rounding level"):
        est = OracleISTALasso(alpha=0.001, tol=1e-10, max_iter=1000).fit(X, Y)
    assert np.all(est.n_iter_ < 50)
    reference = OracleISTALasso(alpha=0.001, tol=1e-10).fit(X.astype(np.float64), Y.astype(np.float64))
    assert_allclose(est.coef_, reference.coef_.astype(np.float32), rtol=1e-4, atol=1e-5)
    with pytest.warns(ConvergenceWarning, match="stopped decreasing above tol"):
        cv = OracleISTALassoCV(n_alphas=10, cv=3, tol=1e-10, max_iter=1000).fit(X, Y[:, 0])
    assert cv.n_iter_ < 50


@pytest.mark.parametrize("solver", SOLVERS)
def test_alpha_above_alpha_max_gives_zero(solver):
    X, y = make_data("wide", seed=10)
    est = OracleISTALasso(alpha=scaled_alpha(X, y, 1.01, True), solver=solver).fit(X, y)
    assert_array_equal(est.coef_, 0)
    assert est.intercept_ == pytest.approx(y.mean())


@pytest.mark.parametrize("solver", SOLVERS)
def test_degenerate_input_gives_finite_results(solver):
    X, y = make_data("wide", seed=11)
    X[:, 3] = 0.0
    X[:, 5] = X[:, 4]
    est = OracleISTALasso(alpha=0.05, solver=solver, max_iter=5000).fit(X, y)
    assert np.all(np.isfinite(est.coef_)) and est.coef_[3] == 0
    zero = OracleISTALasso(alpha=0.05, solver=solver).fit(X, np.zeros(len(y)))
    assert_array_equal(zero.coef_, 0)
    assert zero.n_iter_ == 0
    constant = OracleISTALasso(alpha=0.05, solver=solver).fit(np.ones((5, 3)), np.arange(5.0))
    assert_array_equal(constant.coef_, 0)


def test_n_oracle_steps():
    X, y = make_data("wide", seed=12)
    alpha = scaled_alpha(X, y, 0.3, True)
    est = OracleISTALasso(alpha=alpha, tol=1e-10, max_iter=10000, working_set=False).fit(X, y)
    assert 0 < est.n_oracle_steps_ <= est.n_iter_
    assert OracleISTALasso(alpha=alpha, solver="ista", working_set=False).fit(X, y).n_oracle_steps_ == 0


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(alpha=-1.0), ValueError, r"alpha must be >= 0.0; got alpha=-1.0"),
        (dict(alpha=np.inf), ValueError, r"alpha must be a finite float >= 0; got alpha=inf"),
        (dict(alpha="big"), TypeError, r"alpha must be a float; got 'big'"),
        (dict(solver="cd"), ValueError, r"solver must be one of \['fista', 'ista', 'oista'\]; got 'cd'"),
        (dict(tol=-1e-3), ValueError, r"tol must be >= 0.0; got tol=-0.001"),
        (dict(tol=None), TypeError, r"tol must be a float; got None"),
        (dict(max_iter=0), ValueError, r"max_iter must be >= 1; got max_iter=0"),
        (dict(max_iter=2.5), TypeError, r"max_iter must be an int; got 2.5"),
        (dict(fit_intercept="yes"), TypeError, r"fit_intercept must be a bool; got 'yes'"),
        (dict(warm_start=1), TypeError, r"warm_start must be a bool; got 1"),
        (dict(positive=None), TypeError, r"positive must be a bool; got None"),
        (dict(precompute="always"), ValueError, r"precompute must be one of \['auto'\]; got 'always'"),
    ],
)
def test_bad_parameters_raise(params, error, match):
    X, y = make_data("tall")
    with pytest.raises(error, match=match):
        OracleISTALasso(**params).fit(X, y)


def test_bad_data_raise():
    X, y = make_data("tall")
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN.\nOracleISTALasso does not accept missing values"):
        OracleISTALasso().fit(X_nan, y)
    X_inf = X.astype(np.float32)
    X_inf[3, 2] = -np.inf
    with pytest.raises(ValueError, match=r"Input X contains infinity or a value too large for dtype\('float32'\)"):
        OracleISTALasso(fit_intercept=False).fit(X_inf, y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        OracleISTALasso().fit(sp.csr_matrix(X_nan), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        OracleISTALasso().fit(X, y[:-1])
    est = OracleISTALasso().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])


# --- the solvers on plain arrays --------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_threshold_is_bit_identical_to_its_formula(dtype):
    """The shared soft_threshold (clip form, used by every solver here) equals sign(u) max(|u| - t, 0)."""
    from skstexplore._core.thresholding import soft_threshold

    rng = np.random.default_rng(18)
    U = rng.standard_normal((6, 50)).astype(dtype)
    U[0, :3] = [0.5, -0.5, 0.0]
    for t in (dtype(0.5), dtype(0.0), rng.random((6, 1)).astype(dtype)):
        result = soft_threshold(U, t)
        assert result.dtype == dtype
        assert_array_equal(result, np.sign(U) * np.maximum(np.abs(U) - t, 0))


def test_proximal_gradient_step_is_the_prox_of_the_l1_model():
    """The step minimises <grad, w - w0> + ||w - w0||^2 / (2 s) + alpha ||w||_1 (checked on a grid)."""
    w0, neg_grad, s, alpha = np.array([[0.3, -0.2, 1.0]]), np.array([[0.5, 0.1, -4.0]]), 0.5, 0.4
    w = proximal_gradient_step(w0, neg_grad, s, alpha)
    grid = np.linspace(-3, 3, 60001)
    for j in range(3):
        model = -neg_grad[0, j] * (grid - w0[0, j]) + (grid - w0[0, j]) ** 2 / (2 * s) + alpha * np.abs(grid)
        assert abs(w[0, j] - grid[np.argmin(model)]) <= 1e-4
    assert np.all(proximal_gradient_step(w0, neg_grad, s, alpha, positive=True) >= 0)


@pytest.mark.parametrize("solve", [ista, oista])
def test_objective_decreases_monotonically(solve):
    X, Y = make_data("wide", n_targets=3, seed=13)
    Y = Y - Y.mean(axis=0)
    alpha = 0.1 * alpha_max(X, Y).max()
    values = []
    solve(X, Y, alpha, max_iter=300, callback=lambda W, step: values.append(lasso_objective(X, Y, W, alpha)))
    assert np.all(np.diff(np.array(values), axis=0) <= 1e-12)


def test_oista_is_safe_when_lipschitz_estimates_are_too_small():
    """An underestimated L_S is caught by the majorisation test: F still decreases, L_S is raised.

    Start near the solution, off it along the top eigenvector of the restricted
    Gram matrix, with estimates 0.45 L_S: the step 1/(0.45 L_S) stays in S but
    overshoots along that direction, which the test must detect.
    """
    X, Y = make_data("wide", n_targets=3, seed=14)
    Y = Y - Y.mean(axis=0)
    n_samples = X.shape[0]
    alpha = 0.3 * alpha_max(X, Y).min()
    W = oista(X, Y, alpha, max_iter=20000, tol=1e-14).coef
    assert np.all((W != 0).sum(axis=1) >= 2)
    exact = np.zeros(3)
    for t, support in enumerate(W != 0):
        values, vectors = np.linalg.eigh(X[:, support].T @ X[:, support] / n_samples)
        exact[t] = values[-1]
        W[t, support] += 1e-3 * np.abs(W[t, support]).min() * vectors[:, -1]
    state = ista_module._OISTA(ista_module._scaled_data(X, Y, None), W.copy(), lipschitz_constant(X),
                               alpha, False)
    state.settled[:] = True
    state._set_estimates(np.arange(3), 0.45 * exact)
    before = lasso_objective(X, Y, state.W, alpha)
    state.step()
    assert_array_equal(state.S, W != 0)  # the candidates stayed in S ...
    assert not state.accepted.any()  # ... but were refused
    assert np.all(lasso_objective(X, Y, state.W, alpha) < before)
    assert np.all(state.L_S > 0.9 * exact)  # raised to the curvature along d ~ top eigenvector
    assert np.all(state.L_S <= exact * (1 + 1e-10))


@pytest.mark.parametrize("fraction, large_supports", [(0.5, False), (0.02, True)])
def test_oista_step_sizes_are_one_over_restricted_lipschitz(fraction, large_supports):
    """At convergence the step is 1/L_S of the final support: exact for small supports,
    a lower bound within 1 % (power iteration) for supports above _EXACT_MAX_SIZE."""
    rng = np.random.default_rng(15)
    X = rng.standard_normal((60, 120))
    Y = rng.standard_normal((60, 2))
    alpha = fraction * alpha_max(X, Y).max()
    steps = []
    res = oista(X, Y, alpha, max_iter=20000, tol=1e-12, callback=lambda W, step: steps.append(step.copy()))
    sizes = (res.coef != 0).sum(axis=1)
    assert np.all((sizes > ista_module._OISTA._EXACT_MAX_SIZE) == large_supports)
    if large_supports:
        assert res.extras["n_power_steps"] > 0
    exact = np.array([eigvalsh(X[:, s].T @ X[:, s])[-1] for s in res.coef != 0]) / X.shape[0]
    estimated = 1.0 / steps[-1]
    assert np.all(estimated <= exact * (1 + 1e-10))
    assert np.all(estimated >= exact * (1 - (1e-2 if large_supports else 1e-10)))
    assert np.all(estimated < lipschitz_constant(X))
    assert res.extras["n_supports"] >= 1


@pytest.mark.parametrize("solve", SOLVER_FUNCTIONS)
def test_batched_targets_equal_separate_runs(solve):
    """Targets stop at different iterations; the batch gives each the result of its own run.

    Bit-identical results cannot be asked for: BLAS multiplies a block of 4
    rows and a single row with different kernels, so iterates differ in the
    last bits (~1e-15), and the gap, which depends to first order on the
    iterate, moves by as much. The gap is only meaningful against the
    tolerance it is compared with, so it is compared on that scale (and it
    is computed without cancellation, see ``lasso_dual_gap``).
    """
    X, Y = make_data("wide", n_targets=4, seed=16)
    Y = Y - Y.mean(axis=0)
    alpha = 0.2 * alpha_max(X, Y).min()
    tol = 1e-9 * np.sum(Y**2, axis=0) / X.shape[0]
    batch = solve(X, Y, alpha, max_iter=20000, tol=tol, gram=X.T @ X)
    assert len(set(batch.n_iter.tolist())) > 1
    for t in range(4):
        single = solve(X, Y[:, t : t + 1], alpha, max_iter=20000, tol=tol[t])
        assert batch.n_iter[t] == single.n_iter[0]
        assert_allclose(batch.coef[t], single.coef[0], atol=1e-10)
        assert abs(batch.extras["dual_gap"][t] - single.extras["dual_gap"][0]) <= 1e-5 * tol[t]
        assert single.extras["dual_gap"][0] <= tol[t]


def test_oista_takes_fewer_iterations_than_ista_on_sparse_problems():
    rng = np.random.default_rng(17)
    X = rng.standard_normal((50, 100))
    Y = rng.standard_normal((50, 5))
    alpha = 0.5 * alpha_max(X, Y).min()
    tol = 1e-10 * np.sum(Y**2, axis=0) / 50
    n_ista = ista(X, Y, alpha, max_iter=20000, tol=tol).n_iter
    n_oista = oista(X, Y, alpha, max_iter=20000, tol=tol).n_iter
    assert np.all(n_oista < n_ista)
    assert n_oista.sum() <= 0.6 * n_ista.sum()
