"""OracleISTALasso against sklearn's Lasso: every solver, with and without working sets,
dense and sparse X, intercept, multi-target, positive, sample weights; degenerate input;
the reliability fixes of issue 8 (alpha=0, gap without cancellation, scale)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression

from skstexplore import OracleISTALasso
from skstexplore._core.lasso import alpha_max, lasso_dual_gap
from skstexplore.solvers.ista import oista
from skstexplore.solvers.working_set import exact_restricted_solve, working_set_lasso

SOLVERS = ["oista", "ista", "fista"]


def problem(n_samples=30, n_features=40, n_targets=1, density=None, seed=0):
    rng = np.random.default_rng(seed)
    if density is None:
        X = rng.standard_normal((n_samples, n_features))
    else:
        X = sp.random(n_samples, n_features, density=density, random_state=seed, format="csr").toarray()
        X += (X != 0) * 0.3
    coef = np.zeros((n_features, n_targets))
    coef[:4] = 2 * rng.standard_normal((4, n_targets))
    Y = X @ coef + 0.3 * rng.standard_normal((n_samples, n_targets)) + 1.5
    return X, (Y[:, 0] if n_targets == 1 else Y)


def alpha_at(X, y, fraction, fit_intercept=True, positive=False):
    Y = y.reshape(len(y), -1)
    if fit_intercept:
        X, Y = X - X.mean(axis=0), Y - Y.mean(axis=0)
    corr = X.T @ Y / len(X)
    return fraction * (corr.max() if positive else np.abs(corr).max())


@pytest.mark.parametrize("working_set", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_every_solver_matches_sklearn(n_targets, fit_intercept, sparse, working_set):
    X, y = problem(n_targets=n_targets, density=0.3 if sparse else None, seed=n_targets)
    alpha = alpha_at(X, y, 0.1, fit_intercept)
    X_ours = sp.csc_matrix(X) if sparse else X
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000, fit_intercept=fit_intercept).fit(X, y)
    for solver in SOLVERS:
        est = OracleISTALasso(alpha=alpha, solver=solver, tol=1e-14, max_iter=100000, fit_intercept=fit_intercept,
                              working_set=working_set).fit(X_ours, y)
        assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6, solver
        assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)
        assert_allclose(est.predict(X_ours), ref.predict(X), atol=1e-5)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("working_set", [True, False])
def test_positive_matches_sklearn(working_set, sparse):
    X, Y = problem(n_targets=2, density=0.3 if sparse else None, seed=5)
    alpha = alpha_at(X, Y, 0.05, positive=True)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000, positive=True).fit(X, Y)
    for solver in SOLVERS:
        est = OracleISTALasso(alpha=alpha, solver=solver, tol=1e-12, max_iter=100000, positive=True,
                              working_set=working_set).fit(sp.csr_matrix(X) if sparse else X, Y)
        assert est.coef_.min() >= 0
        assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6, solver


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("working_set", [True, False])
def test_sample_weights_match_sklearn(working_set, sparse):
    X, Y = problem(n_targets=2, density=0.3 if sparse else None, seed=6)
    weight = np.random.default_rng(6).uniform(0, 3, len(X))
    alpha = alpha_at(X, Y, 0.1)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y, sample_weight=weight)
    for solver in SOLVERS:
        est = OracleISTALasso(alpha=alpha, solver=solver, tol=1e-12, max_iter=100000,
                              working_set=working_set).fit(sp.csr_matrix(X) if sparse else X, Y, sample_weight=weight)
        assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6, solver
        assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
def test_integer_weights_repeat_rows_and_zero_weights_drop_them(solver, sparse):
    X, Y = problem(n_targets=2, seed=7)
    weight = np.random.default_rng(7).integers(0, 4, len(X))
    alpha = alpha_at(X, Y, 0.1)
    kwargs = dict(alpha=alpha, solver=solver, tol=1e-14, max_iter=100000)
    to = sp.csr_matrix if sparse else np.asarray
    weighted = OracleISTALasso(**kwargs).fit(to(X), Y, sample_weight=weight.astype(float))
    repeated = OracleISTALasso(**kwargs).fit(to(np.repeat(X, weight, axis=0)), np.repeat(Y, weight, axis=0))
    assert_allclose(weighted.coef_, repeated.coef_, atol=1e-10)
    assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-10)


def test_dense_and_sparse_give_the_same_fit():
    X, Y = problem(60, 80, n_targets=3, density=0.1, seed=8)
    alpha = alpha_at(X, Y, 0.05)
    dense = OracleISTALasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y)
    for fmt in ("csr", "csc"):
        sparse = OracleISTALasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(sp.csr_matrix(X).asformat(fmt), Y)
        assert_allclose(sparse.coef_, dense.coef_, atol=1e-10)
        assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-10)


# --- working sets -------------------------------------------------------------------------


def test_working_set_batches_targets_with_their_own_supports():
    X, Y = problem(40, 100, n_targets=5, seed=9)
    Y = Y - Y.mean(axis=0)
    alpha = 0.2 * alpha_max(X, Y).min()
    tol = 1e-12 * np.sum(Y**2, axis=0) / len(X)
    batch = working_set_lasso(oista, X, Y, alpha, tol=tol, max_iter=10000)
    assert batch.converged.all() and np.all(batch.extras["dual_gap"] <= tol)
    assert len({tuple(np.flatnonzero(w)) for w in batch.coef}) == 5
    for t in range(5):
        single = working_set_lasso(oista, X, Y[:, t:t + 1], alpha, tol=tol[t], max_iter=10000)
        assert_allclose(batch.coef[t], single.coef[0], atol=1e-10)


def test_exact_restricted_solve_finishes_the_fit():
    """The restricted system on the right support and signs gives the solution to rounding."""
    X, y = problem(50, 30, seed=10)
    X, y = X - X.mean(axis=0), y - y.mean()
    alpha = alpha_at(X, y, 0.2, fit_intercept=False)
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=100000, fit_intercept=False).fit(X, y).coef_
    rough = ref + 1e-3 * np.sign(ref)  # same support and signs, off the solution
    exact, accepted = exact_restricted_solve(X.T @ X, (X.T @ y)[None], rough[None], len(y) * alpha)
    assert accepted[0]
    assert_allclose(exact[0], ref, atol=1e-12)
    wrong = rough.copy()
    wrong[np.flatnonzero(ref)[0]] *= -1  # a wrong sign is refused, the point kept
    kept, accepted = exact_restricted_solve(X.T @ X, (X.T @ y)[None], wrong[None], len(y) * alpha)
    assert not accepted[0]
    assert_array_equal(kept[0], wrong)


def test_working_set_screens_and_stays_small():
    X, y = problem(100, 2000, seed=11)
    X, y = X - X.mean(axis=0), y - y.mean()
    alpha = alpha_at(X, y, 0.3, fit_intercept=False)
    res = working_set_lasso(oista, X, y[:, None], alpha, tol=1e-10 * (y @ y) / len(y))
    assert res.converged[0] and res.extras["n_exact"][0] >= 1
    ref = Lasso(alpha=alpha, tol=1e-12, fit_intercept=False).fit(X, y).coef_
    assert_allclose(res.coef[0], ref, atol=1e-7)


# --- degenerate input ---------------------------------------------------------------------


@pytest.mark.parametrize("working_set", [True, False])
@pytest.mark.parametrize("solver", SOLVERS)
def test_duplicated_and_zero_columns(solver, working_set):
    X, y = problem(30, 20, seed=12)
    X[:, 3] = 0.0
    X[:, 5] = X[:, 0]
    alpha = alpha_at(X, y, 0.1)
    est = OracleISTALasso(alpha=alpha, solver=solver, tol=1e-12, max_iter=100000, working_set=working_set).fit(X, y)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, y)
    assert np.all(np.isfinite(est.coef_)) and est.coef_[3] == 0
    # duplicated columns: the split between them is not unique, the fit and the objective are
    assert_allclose(est.predict(X), ref.predict(X), atol=1e-6)
    assert est.coef_[0] + est.coef_[5] == pytest.approx(ref.coef_[0] + ref.coef_[5], abs=1e-6)


@pytest.mark.parametrize("working_set", [True, False])
@pytest.mark.parametrize("solver", SOLVERS)
def test_alpha_at_least_alpha_max_gives_zeros_at_once(solver, working_set):
    X, Y = problem(n_targets=2, seed=13)
    alpha = alpha_at(X, Y, 1.0)
    est = OracleISTALasso(alpha=alpha, solver=solver, working_set=working_set).fit(X, Y)
    assert_array_equal(est.coef_, 0)
    assert_array_equal(est.n_iter_, 0)
    assert_allclose(est.intercept_, Y.mean(axis=0))


@pytest.mark.parametrize("working_set", [True, False])
def test_y_zero_and_tiny_alpha(working_set):
    X, y = problem(40, 10, seed=14)
    zero = OracleISTALasso(alpha=0.1, working_set=working_set).fit(X, np.zeros(len(y)))
    assert_array_equal(zero.coef_, 0)
    assert zero.n_iter_ == 0 and zero.dual_gap_ == 0
    tiny = OracleISTALasso(alpha=1e-10, working_set=working_set, tol=1e-12, max_iter=100000).fit(X, y)
    ols = LinearRegression().fit(X, y)
    assert_allclose(tiny.coef_, ols.coef_, atol=1e-6)


# --- issue 8: alpha = 0, gap without cancellation, scale --------------------------------


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
def test_alpha_zero_warns_and_returns_least_squares(solver, sparse):
    X, Y = problem(40, 10, n_targets=2, seed=15)
    with pytest.warns(UserWarning, match="alpha=0 is ordinary least squares"):
        est = OracleISTALasso(alpha=0.0, solver=solver).fit(sp.csr_matrix(X) if sparse else X, Y)
    ols = LinearRegression().fit(X, Y)
    assert_allclose(est.coef_, ols.coef_, atol=1e-8)
    assert_allclose(est.intercept_, ols.intercept_, atol=1e-8)
    assert np.all(est.dual_gap_ <= 1e-12)


def test_alpha_zero_wide_design_interpolates_with_minimum_norm():
    X, y = problem(10, 30, seed=16)
    with pytest.warns(UserWarning, match="alpha=0"):
        est = OracleISTALasso(alpha=0.0).fit(X, y)
    assert_allclose(est.predict(X), y, atol=1e-10)
    Xc = X - X.mean(axis=0)
    assert_allclose(est.coef_, np.linalg.pinv(Xc) @ (y - y.mean()), atol=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_dual_gap_does_not_cancel(solver):
    """alpha = 1e-36: the dual point is ~0, so the gap is ~the objective; it used to report 0.

    Computed as primal minus dual, or from X^T r = X^T y - G w, the gap is lost
    in rounding of order eps ||y||^2; as a sum of non-negative terms with X^T r
    from the residual it is right to relative precision.
    """
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 30)), rng.standard_normal(20)
    with pytest.warns(ConvergenceWarning):
        est = OracleISTALasso(alpha=1e-36, solver=solver, working_set=False, max_iter=5).fit(X, y)
    residual = y - est.predict(X)
    objective = residual @ residual / (2 * len(y)) + 1e-36 * np.abs(est.coef_).sum()
    assert est.dual_gap_ == pytest.approx(objective, rel=1e-6)
    assert est.dual_gap_ > 1e-6


def test_dual_gap_formula_equals_primal_minus_dual():
    X, Y = problem(20, 15, n_targets=3, seed=17)
    W = np.random.default_rng(17).standard_normal((3, 15)) * (np.arange(15) < 4)
    for alpha, positive in [(0.5, False), (0.05, False), (0.5, True)]:
        Wp = np.abs(W) if positive else W
        R = Y - X @ Wp.T
        corr = X.T @ R
        corr = corr.max(axis=0) if positive else np.abs(corr).max(axis=0)
        theta = R / np.maximum(1, corr / (len(X) * alpha))
        primal = np.sum(R**2, axis=0) / (2 * len(X)) + alpha * np.abs(Wp).sum(axis=1)
        dual = (np.sum(Y**2, axis=0) - np.sum((Y - theta) ** 2, axis=0)) / (2 * len(X))
        assert_allclose(lasso_dual_gap(X, Y, Wp, alpha, positive=positive), primal - dual, rtol=1e-10)


def test_constant_columns_are_not_fitted():
    """Centred constant columns are rounding noise: they must not enter the model."""
    X = np.tile([0.1, 0.7, 0.35738041], (10, 1))
    y = np.random.default_rng(0).standard_normal(10)
    est = OracleISTALasso(alpha=1e-36).fit(X, y)
    assert_array_equal(est.coef_, 0)
    assert est.intercept_ == pytest.approx(y.mean())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_scale, y_scale", [(1e19, 1.0), (1e-30, 1.0), (1.0, 1e30), (1e150, 1e-150)])
def test_scale_invariance(x_scale, y_scale, dtype):
    """Rescaling X and y rescales the coefficients, whatever the units (float32 included)."""
    if dtype == np.float32 and max(x_scale, y_scale, 1 / x_scale, 1 / y_scale) > 1e30:
        x_scale, y_scale = min(max(x_scale, 1e-18), 1e18), min(max(y_scale, 1e-18), 1e18)
    X, y = problem(30, 20, seed=18)
    alpha = alpha_at(X, y, 0.1)
    tol = 1e-10 if dtype == np.float64 else 1e-6
    base = OracleISTALasso(alpha=alpha, tol=tol).fit(X.astype(dtype), y.astype(dtype))
    scaled = OracleISTALasso(alpha=alpha * x_scale * y_scale, tol=tol).fit(
        (X * x_scale).astype(dtype), (y * y_scale).astype(dtype))
    assert_array_equal(scaled.coef_ != 0, base.coef_ != 0)
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    assert_allclose(scaled.coef_ * x_scale / y_scale, base.coef_, rtol=rtol, atol=rtol * np.abs(base.coef_).max())
    assert np.isfinite(scaled.dual_gap_)
