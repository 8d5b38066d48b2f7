"""The working-set Lasso's design cache (dense and sparse Gram blocks, correlations, fitted values) against
the centred design computed densely, and its fits against sklearn's Lasso on problems where the working set
grows several times and shrinks again."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from skstexplore import OracleISTALasso
from skstexplore._core.preprocess import prepare_data
from skstexplore.solvers import _design_cache, working_set
from skstexplore.solvers.ista import oista
from skstexplore.solvers.working_set import DesignCache, working_set_lasso


def sparse_problem(n_samples, n_features, density, seed, n_nonzero=8, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=density, random_state=seed, format="csc",
                  data_rvs=rng.standard_normal).astype(dtype)
    coef = np.zeros(n_features)
    coef[rng.choice(n_features, n_nonzero, replace=False)] = 2 * rng.standard_normal(n_nonzero)
    y = X @ coef + 0.1 * rng.standard_normal(n_samples) + 1.0
    return X, y.astype(dtype)


@pytest.mark.parametrize("products", ["gathered", "sparse"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "csr", "csc"])
def test_cache_matches_the_centred_design(layout, fit_intercept, weighted, products, monkeypatch):
    """Gram blocks grown in several chunks, columns, X^T R and X W^T equal those of the dense centred design,
    whichever product builds the blocks of a sparse X (forced by the size threshold), empty columns included."""
    if products == "sparse":
        monkeypatch.setattr(_design_cache, "_GATHER_MAX", 0)
    X, y = sparse_problem(40, 120, 0.1, seed=1)
    X = X.tolil()
    X[:, [55, 119]] = 0
    X = X.tocsc()
    X.eliminate_zeros()
    rng = np.random.default_rng(2)
    weight = rng.uniform(0, 2, X.shape[0]) if weighted else None
    data = prepare_data(X if layout != "dense" else X.toarray(), y[:, None], fit_intercept, weight)
    if layout != "dense":
        data.X.X = data.X.X.asformat(layout)
    dense = data.X.dot(np.eye(X.shape[1])) if layout != "dense" else data.X
    cache = DesignCache(data.X)
    entered = np.empty(0, dtype=int)
    for chunk in (rng.choice(120, 7, replace=False), rng.choice(120, 30, replace=False), np.arange(50, 60), [119]):
        U = cache.in_cache_order(np.union1d(entered, chunk))
        entered = U
        assert_allclose(cache.gram_block(U), dense[:, U].T @ dense[:, U], atol=1e-12)
        assert_allclose(cache.columns(U), dense[:, U], atol=1e-13)
    assert_allclose(cache.col_norms, np.linalg.norm(dense, axis=0), rtol=1e-12)
    R = rng.standard_normal((X.shape[0], 3))
    assert_allclose(cache.correlations(R), dense.T @ R, atol=1e-12)
    W = np.zeros((3, X.shape[1]))
    W[:, entered[:5]] = rng.standard_normal((3, 5))
    assert_allclose(cache.fitted(W), dense @ W.T, atol=1e-12)


def test_new_features_follow_the_violators():
    """As many new features as violators, between the floor and the support's size."""
    floor = working_set._MIN_WORKING_SET
    n_support = np.array([0, 5, 100, 100, 100])
    n_violators = np.array([1000, 3, 7, 60, 5000])
    assert_allclose(working_set._new_features(n_support, n_violators), [floor, floor, floor, 60, 100])


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csc", "csr"])
def test_wide_fits_match_sklearn(layout, dtype, fit_intercept, positive):
    """A wide problem at a small alpha (a support of about a hundred features, reached through working sets
    that double and then shrink) equals sklearn's Lasso(tol=1e-12): 1e-6 in float64, 1e-4 in float32."""
    X, y = sparse_problem(150, 600, 0.05, seed=3, n_nonzero=60)
    Xc = X.toarray() - X.toarray().mean(axis=0) if fit_intercept else X.toarray()
    yc = y - y.mean() if fit_intercept else y
    corr = Xc.T @ yc / len(y)
    alpha = 0.03 * (corr.max() if positive else np.abs(corr).max())
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=200000, fit_intercept=fit_intercept, positive=positive)
    ref.fit(X.toarray(), y)
    X_ours = X.toarray() if layout == "dense" else X.asformat(layout)
    est = OracleISTALasso(alpha=alpha, tol=1e-12 if dtype == np.float64 else 1e-5, max_iter=100000,
                          fit_intercept=fit_intercept, positive=positive)
    est.fit(X_ours.astype(dtype), y.astype(dtype))
    assert np.count_nonzero(ref.coef_) > 40
    atol = 1e-6 if dtype == np.float64 else 1e-4 * np.abs(ref.coef_).max()
    assert np.max(np.abs(est.coef_ - ref.coef_)) <= atol
    assert_allclose(est.intercept_, ref.intercept_, atol=10 * atol)
    if positive:
        assert est.coef_.min() >= 0


def test_working_set_shrinks_and_outer_iterations_decrease_the_objective():
    """The working sets follow the violators (they may shrink); each outer iteration lowers F and the fit
    is certified by the gap on all features."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 1000))
    y = X[:, :30] @ rng.standard_normal(30) + 0.1 * rng.standard_normal(80)
    alpha = 0.02 * np.abs(X.T @ y).max() / 80
    sizes, objectives = [], []
    original = working_set._working_set

    def spy(design, support, XtR, gap, *args):
        U = original(design, support, XtR, gap, *args)
        sizes.append(U.size)
        return U

    solve = working_set._solve_on_working_set

    def record(inner, design, Y, W, *args):
        solve(inner, design, Y, W, *args)
        R = Y[:, 0] - X @ W[0]
        objectives.append(R @ R / 160 + alpha * np.abs(W[0]).sum())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(working_set, "_working_set", spy)
        patch.setattr(working_set, "_solve_on_working_set", record)
        res = working_set_lasso(oista, X, y[:, None], alpha, tol=1e-12 * (y @ y) / 80)
    assert res.converged[0] and res.extras["dual_gap"][0] <= 1e-12 * (y @ y) / 80
    assert len(sizes) >= 3 and min(np.diff(sizes)) < 0  # grown, then shrunk
    assert np.all(np.diff(objectives) < 0)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=200000, fit_intercept=False).fit(X, y).coef_
    assert np.max(np.abs(res.coef[0] - ref)) <= 1e-6


def test_a_fit_that_rounding_stalls_stops_early():
    """float32 at a tolerance near its rounding: a target whose outer iterations stop changing its
    coefficients ends there (a ConvergenceWarning when its gap is above the tolerance), not at max_iter."""
    X, y = sparse_problem(150, 600, 0.05, seed=3)
    Xd = X.toarray()
    alpha = 0.03 * (Xd - Xd.mean(axis=0)).T.dot(y - y.mean()).max() / len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = OracleISTALasso(alpha=alpha, tol=1e-6, max_iter=100000, positive=True)
        est.fit(Xd.astype(np.float32), y.astype(np.float32))
    assert est.n_iter_ < 10000
    assert np.isfinite(est.dual_gap_) and est.coef_.min() >= 0
