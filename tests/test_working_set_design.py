"""The working-set Lasso's design cache (dense and sparse Gram blocks, correlations, fitted values) against
the centred design computed densely, and its fits against sklearn's Lasso on problems where the working set
grows several times and shrinks again."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from skstexplore import OracleISTALasso
from skstexplore._core.lasso import lasso_dual_gap
from skstexplore._core.preprocess import prepare_data
from skstexplore.solvers import _design_cache, _working_sets, working_set
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
        G = cache.gram_block(U)
        assert_allclose(G, dense[:, U].T @ dense[:, U], atol=1e-12)
        assert_array_equal(G, G.T)
        assert_allclose(cache.columns(U), dense[:, U], atol=1e-13)
    assert_allclose(cache.col_norms, np.linalg.norm(dense, axis=0), rtol=1e-12)
    R = rng.standard_normal((X.shape[0], 3))
    assert_allclose(cache.correlations(R), dense.T @ R, atol=1e-12)
    W = np.zeros((3, X.shape[1]))
    W[:, entered[:5]] = rng.standard_normal((3, 5))
    assert_allclose(cache.fitted(W), dense @ W.T, atol=1e-12)


@pytest.mark.parametrize("layout", ["dense", "csc"])
def test_float32_gram_blocks_are_exactly_symmetric(layout):
    """Blocks grown in chunks and completed within targets' features are symmetric to the last bit (the two
    ways of a float32 product differ there, and the active-set method reads both)."""
    X, y = sparse_problem(300, 200, 0.3, seed=4, dtype=np.float32)
    data = prepare_data(X if layout == "csc" else X.toarray(), y[:, None], True, None)
    rng = np.random.default_rng(5)
    for all_pairs in (True, False):
        cache = DesignCache(data.X, all_pairs=all_pairs)
        entered = np.empty(0, dtype=int)
        for chunk in (rng.choice(200, 40, replace=False), rng.choice(200, 60, replace=False)):
            U = cache.in_cache_order(np.union1d(entered, chunk))
            entered = U
            within = None if all_pairs else rng.random((2, U.size)) < 0.7
            G = cache.gram_block(U, within)
            if all_pairs:
                assert_array_equal(G, G.T)
            else:
                for rows in within:
                    assert_array_equal(G[np.ix_(rows, rows)], G[np.ix_(rows, rows)].T)


def test_new_features_follow_the_violators():
    """As many new features as violators, between the floor and the support's size."""
    floor = _working_sets._MIN_WORKING_SET
    n_support = np.array([0, 5, 100, 100, 100])
    n_violators = np.array([1000, 3, 7, 60, 5000])
    assert_allclose(_working_sets._new_features(n_support, n_violators), [floor, floor, floor, 60, 100])


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
    original = working_set.working_sets

    def spy(design, support, XtR, gap, *args):
        order, size = original(design, support, XtR, gap, *args)
        sizes.append(size[0])
        return order, size

    solve = working_set._solve_on_working_set

    def record(inner, design, Y, W, *args):
        solve(inner, design, Y, W, *args)
        R = Y[:, 0] - X @ W[0]
        objectives.append(R @ R / 160 + alpha * np.abs(W[0]).sum())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(working_set, "working_sets", spy)
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


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_working_set_keeps_the_support_and_no_screened_feature(n_targets, positive):
    """The working set holds every support feature, never a feature that gap-safe screening removes
    (:math:`\\rho_j + \\|x_j\\| R < 1`, written out here), and the best-scoring others."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 400))
    X[:, 5] = 0.0
    Y = X[:, :12] @ rng.standard_normal((12, n_targets)) + 0.3 * rng.standard_normal((60, n_targets))
    alpha = 0.2 * np.abs(X.T @ Y).max() / 60
    W = np.zeros((n_targets, 400))
    W[:, [0, 3, 9]] = 0.1
    R = Y - X @ W.T
    XtR = X.T @ R
    gap = lasso_dual_gap(X, Y, W, alpha, R=R, XtR=XtR, positive=positive)
    design = DesignCache(X)
    order, size = _working_sets.working_sets(design, W != 0, XtR, gap, alpha, 60, positive)
    sets = [np.sort(row[:count]) for row, count in zip(order, size)]
    assert all(np.all(np.diff(U) > 0) and {0, 3, 9} <= set(U) and 5 not in U for U in sets)
    corr = (np.maximum(XtR.T, 0) if positive else np.abs(XtR.T)) / 60
    rho = corr / (alpha * np.maximum(1.0, corr.max(axis=1) / alpha))[:, None]
    norms = np.linalg.norm(X, axis=0)
    screened = (rho + norms * (np.sqrt(2 * gap / 60) / alpha)[:, None] < 1 - 1e-12).all(axis=0)
    assert screened.any() and not any(screened[U].any() for U in sets)
    score = np.where(norms > 0, (1 - rho) / np.where(norms > 0, norms, 1), np.inf)
    best = np.argmin(np.where(W != 0, np.inf, score), axis=1)  # each target's best new feature enters its own
    assert all(feature in U for feature, U in zip(best, sets))


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_sparse_rescaling_shares_indices_and_non_canonical_input_fits(layout):
    """The power-of-two rescaling of a sparse design shares its index arrays and keeps its canonical flag;
    an input with duplicated, unsorted entries (not canonical) is summed before its columns are read, and
    its fit equals sklearn's on the dense matrix."""
    X, y = sparse_problem(50, 200, 0.08, seed=5)
    X = X.asformat(layout)
    design = prepare_data(X, y[:, None], True).X
    scaled = design.ldexp(-3)
    assert np.shares_memory(scaled.X.indices, X.indices) and np.shares_memory(scaled.X.indptr, X.indptr)
    assert scaled.X.has_canonical_format
    # every stored entry split in two halves stored apart, in reverse order within each row/column
    segments = [slice(a, b) for a, b in zip(X.indptr[:-1], X.indptr[1:])]
    indices = np.concatenate([np.tile(X.indices[seg][::-1], 2) for seg in segments])
    data = np.concatenate([np.tile(X.data[seg][::-1] / 2, 2) for seg in segments])
    doubled = type(X)((data, indices, 2 * X.indptr), shape=X.shape)
    assert not doubled.has_canonical_format
    rescaled = prepare_data(doubled, y[:, None], True).X.ldexp(-3).X  # a copy: scipy may sort it in place
    assert not np.shares_memory(rescaled.indices, doubled.indices)
    alpha = 0.05 * np.abs((X.toarray() - X.toarray().mean(axis=0)).T @ (y - y.mean())).max() / len(y)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=200000).fit(X.toarray(), y)
    est = OracleISTALasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(doubled, y)
    assert np.count_nonzero(ref.coef_) > 5
    assert np.max(np.abs(est.coef_ - ref.coef_)) <= 1e-6
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-5)


def test_first_additions_change_the_steps_not_the_solution(monkeypatch):
    """Adding several features in the first step from zero (and one at a time from a warm start) gives the
    solution of one-at-a-time additions, in no more steps."""
    X, y = sparse_problem(120, 500, 0.06, seed=6, n_nonzero=25)
    alpha = 0.05 * np.abs(X.T @ y).max() / len(y)
    fits = {}
    for first in (1, working_set._FIRST_ADDITIONS):
        monkeypatch.setattr(working_set, "_FIRST_ADDITIONS", first)
        fits[first] = OracleISTALasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, y)
    one, several = fits[1], fits[working_set._FIRST_ADDITIONS]
    assert working_set._FIRST_ADDITIONS > 1 and several.n_iter_ <= one.n_iter_
    assert np.max(np.abs(several.coef_ - one.coef_)) <= 1e-9 * np.abs(one.coef_).max()
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=200000).fit(X.toarray(), y)
    assert np.max(np.abs(several.coef_ - ref.coef_)) <= 1e-6
