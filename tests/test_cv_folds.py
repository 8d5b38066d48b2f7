"""The training folds of OracleISTALassoCV from the blocks' scatters, against each fold's own LassoProblem."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import KFold, ShuffleSplit, TimeSeriesSplit

from skstexplore import OracleISTALassoCV
from skstexplore._core.scatter import block_scatter, union_scatter
from skstexplore.estimators._cv_folds import GramFoldProblem, fold_problems
from skstexplore.estimators._lasso_problem import LassoProblem


def data(n_samples=100, n_features=20, n_targets=1, seed=0, offset=0.0, dtype=np.float64, sort=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if sort:  # unshuffled folds of sorted data: blocks far apart
        X = X[np.argsort(X[:, 0])] + np.linspace(0, 30, n_samples)[:, None]
    Y = X[:, :4] @ rng.standard_normal((4, n_targets)) + rng.standard_normal((n_samples, n_targets)) + 3.0
    return (X + offset).astype(dtype), Y.astype(dtype)


def direct(X, Y, weight, train, fit_intercept=True):
    return LassoProblem(X[train], Y[train], fit_intercept, None if weight is None else weight[train], path=True)


def scaled_difference(A, B, G):
    """max |A - B| entry by entry over sqrt(G_ii G_jj) (the scale of a Gram entry; Cauchy-Schwarz)."""
    scale = np.sqrt(np.diagonal(G))
    return float(np.max(np.abs(A - B) / np.maximum(np.multiply.outer(scale, scale), np.finfo(float).tiny)))


@pytest.mark.parametrize("offset", [0.0, 1e6])
@pytest.mark.parametrize("sort", [False, True])
def test_union_scatter_equals_the_unions_own_centred_scatter(offset, sort):
    X, _ = data(120, 6, seed=1, offset=offset, sort=sort)
    weight = np.random.default_rng(1).uniform(0.2, 3.0, 120)
    labels = np.repeat(np.arange(4), 30)
    reference = X.mean(axis=0)
    moments = [block_scatter(X[labels == b] - reference, np.sqrt(weight[labels == b])) for b in range(4)]
    weights, means = np.array([m[0] for m in moments]), np.array([m[1] for m in moments])
    scatters = [m[2] for m in moments]
    for members in ([True, True, True, False], [True, False, False, False], [False, True, True, False]):
        rows = np.isin(labels, np.flatnonzero(members))
        w = weight[rows]
        mu = w @ X[rows] / w.sum()
        Xc = (X[rows] - mu) * np.sqrt(w)[:, None]
        expected = Xc.T @ Xc
        scatter, mean, loss = union_scatter(weights, means, scatters, sum(scatters), np.array(members))
        assert scaled_difference(scatter, expected, expected) <= 1e-14
        assert_allclose(mean + reference, mu, rtol=1e-13, atol=1e-14 * np.abs(X).max())
        assert np.all(loss >= 1 - 1e-12) and np.all(loss < 10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("offset, sort", [(0.0, False), (1e6, False), (1e3, True)])
def test_fold_gram_equals_the_folds_own(dtype, fit_intercept, weighted, offset, sort):
    X, Y = data(100, 20, seed=2, offset=offset, dtype=dtype, sort=sort)
    weight = None
    if weighted:
        weight = np.random.default_rng(2).uniform(0.0, 2.0, 100)
        weight[::9] = 0
    folds = list(KFold(5).split(X))
    full = LassoProblem(X, Y, fit_intercept, weight)
    makers = fold_problems(X, Y, weight, folds, fit_intercept, "auto", True, full)
    rtol = 1e-13 if dtype == np.float64 else 2e-6
    # float32 columns of spread 1 at 1e6 are within centring noise (the entry-wise test decides): computed directly
    noise = dtype == np.float32 and offset == 1e6 and fit_intercept
    for make, (train, _) in zip(makers, folds):
        fold, expected = make(), direct(X, Y, weight, train, fit_intercept)
        assert isinstance(fold, GramFoldProblem) != noise
        if noise:
            continue
        assert (fold.units.ex, fold.units.ey) == (expected.units.ex, expected.units.ey)
        G = expected.design(True, 1).gram
        assert fold.gram.dtype == G.dtype and fold.gram.flags.c_contiguous
        assert_array_equal(fold.gram, fold.gram.T)  # exactly: the active-set method reads rows and one triangle
        assert scaled_difference(fold.gram, G, G) <= rtol
        c = expected.correlations()
        assert np.max(np.abs(fold.correlations() - c) / np.sqrt(np.diagonal(G)[:, None] * expected.y_sq)) <= rtol
        assert_allclose(fold.y_sq, expected.y_sq, rtol=10 * np.finfo(dtype).eps)
        assert_allclose(fold.X_offset, expected.X_offset, rtol=rtol, atol=rtol * np.abs(X).max())
        assert_allclose(fold.y_offset, expected.y_offset, rtol=10 * np.finfo(dtype).eps)
        eps = float(np.finfo(dtype).eps)
        assert fold.gap_tolerance(1e-4) == pytest.approx(expected.gap_tolerance(1e-4), rel=10 * eps)


def test_columns_constant_on_a_fold_are_zero_and_nearly_constant_ones_computed_directly():
    X, Y = data(100, 10, seed=3)
    X[:, 5] = 3.0
    X[80:, 5] = np.random.default_rng(3).standard_normal(20)  # constant on the fold that leaves out the last block
    X[:, 6] = 0.7
    folds = list(KFold(5).split(X))
    full = LassoProblem(X, Y, True)
    for k, (make, (train, _)) in enumerate(zip(fold_problems(X, Y, None, folds, True, "auto", True, full), folds)):
        fold, G = make(), direct(X, Y, None, train).design(True, 1).gram
        assert isinstance(fold, GramFoldProblem)
        assert_array_equal(np.flatnonzero(np.diagonal(fold.gram) == 0), [5, 6] if k == 4 else [6])
        assert np.all(fold.gram[[6]] == 0) and np.all(fold.correlations()[6] == 0)
        assert scaled_difference(fold.gram, G, G) <= 1e-13
    X[:, 7] = 1 + 1e-15 * np.random.default_rng(4).standard_normal(100)  # centring noise: the entry-wise test decides
    makers = fold_problems(X, Y, None, folds, True, "auto", True, LassoProblem(X, Y, True))
    assert not any(isinstance(make(), GramFoldProblem) for make in makers)


@pytest.mark.parametrize(
    "cv, expected",
    [(KFold(4), [True] * 4), (TimeSeriesSplit(4), [False, True, True, True]),
     (ShuffleSplit(3, random_state=0), [False] * 3)],
)
def test_which_folds_come_from_the_blocks(cv, expected):
    # TimeSeriesSplit's first training set (20 rows) is too short for a Gram path on 30 features; ShuffleSplit's
    # training sets are not unions of shared blocks
    X, Y = data(100, 30, seed=5)
    folds = list(cv.split(X))
    makers = fold_problems(X, Y, None, folds, True, "auto", True, LassoProblem(X, Y, True))
    assert [isinstance(make(), GramFoldProblem) for make in makers] == expected
    X_sparse = sp.csr_matrix(X)
    sparse = fold_problems(X_sparse, Y, None, folds, True, "auto", True, LassoProblem(X_sparse, Y, True))
    assert not any(isinstance(make(), GramFoldProblem) for make in sparse)


@pytest.mark.parametrize("n_targets", [1, 3])
def test_fold_solves_with_the_residual_equal_the_folds_own(n_targets):
    # the points the Gram path leaves to a solve with the residual, and several targets (one solve per alpha), run
    # on the fold's data problem built on demand with the blocks' Gram matrix
    X, Y = data(100, 20, n_targets, seed=6)
    folds = list(KFold(5).split(X))
    weight = np.random.default_rng(6).uniform(0.5, 2.0, 100)
    fold = fold_problems(X, Y, weight, folds, True, "auto", True, LassoProblem(X, Y, True, weight))[1]()
    expected = direct(X, Y, weight, folds[1][0])
    assert isinstance(fold, GramFoldProblem)
    alphas = np.geomspace(0.5, 0.005, 6)
    coefs, gaps, _, converged = fold.solve_path(alphas, tol=1e-12, max_iter=10000)
    ref_coefs, ref_gaps, _, _ = expected.solve_path(alphas, tol=1e-12, max_iter=10000)
    assert converged.all()
    assert_allclose(coefs, ref_coefs, atol=1e-9)
    result, ref = fold.solve(0.02, tol=1e-12), expected.solve(0.02, tol=1e-12)
    assert_allclose(result.coef, ref.coef, atol=1e-9)
    assert np.array_equal(fold.data_problem().design(True, n_targets).gram, fold.gram)


def test_a_training_fold_with_only_zero_weights_is_refused():
    X, Y = data(40, 5, seed=7)
    weight = np.ones(40)
    weight[10:] = 0
    with pytest.raises(ValueError, match="A training fold has only zero sample weights"):
        OracleISTALassoCV(cv=KFold(4), n_alphas=5).fit(X, Y[:, 0], sample_weight=weight)


def _per_fold_mse(X, Y, weight, folds, alphas, fit_intercept, **settings):
    """The held-out errors from each fold's own LassoProblem (the computation before the blocks)."""
    mse = np.empty((alphas.size, len(folds), Y.shape[1]))
    for k, (train, test) in enumerate(folds):
        coefs = direct(X, Y, weight, train, fit_intercept).solve_path(alphas, **settings)[0]
        problem = direct(X, Y, weight, train, fit_intercept)
        for i, coef in enumerate(coefs):
            residual = X[test] @ coef.T + problem.intercept(coef) - Y[test]
            mse[i, k] = np.average(residual**2, axis=0, weights=None if weight is None else weight[test])
    return mse


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_cv_mse_path_equals_the_per_fold_computation(dtype, fit_intercept, weighted, n_targets):
    X, Y = data(90, 25, n_targets, seed=8, dtype=dtype)
    weight = np.random.default_rng(8).uniform(0.2, 2.0, 90) if weighted else None
    folds = list(KFold(3).split(X))
    tol = 1e-10 if dtype == np.float64 else 1e-5  # (float32 cannot reach 1e-10)
    model = OracleISTALassoCV(n_alphas=12, cv=folds, tol=tol, max_iter=2000, fit_intercept=fit_intercept)
    model.fit(X, Y[:, 0] if n_targets == 1 else Y, sample_weight=weight)
    mse = _per_fold_mse(X, Y, weight, folds, model.alphas_, fit_intercept, tol=tol, max_iter=2000)
    assert_allclose(model.mse_path_, mse[..., 0] if n_targets == 1 else mse, rtol=1e-9 if dtype == np.float64 else 1e-4)


def test_sparse_cv_keeps_the_per_fold_problems():
    X, Y = data(90, 25, seed=9)
    X[np.abs(X) < 1.0] = 0
    folds = list(KFold(3).split(X))
    model = OracleISTALassoCV(n_alphas=10, cv=folds, tol=1e-10, max_iter=10000).fit(sp.csc_matrix(X), Y[:, 0])
    mse = _per_fold_mse(X, Y, None, folds, model.alphas_, True, tol=1e-10, max_iter=10000)
    assert_allclose(model.mse_path_, mse[..., 0], rtol=1e-9)
