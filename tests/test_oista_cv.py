"""lasso_path and OracleISTALassoCV against sklearn's lasso_path and LassoCV."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LassoCV
from sklearn.linear_model import lasso_path as sklearn_lasso_path
from sklearn.model_selection import KFold

from skstexplore import OracleISTALasso, OracleISTALassoCV, lasso_path


def problem(n_samples=60, n_features=30, n_targets=1, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros((n_features, n_targets))
    coef[:5] = 2 * rng.standard_normal((5, n_targets))
    Y = X @ coef + noise * rng.standard_normal((n_samples, n_targets)) + 1.0
    return X, (Y[:, 0] if n_targets == 1 else Y)


@pytest.mark.parametrize("solver", ["oista", "ista", "fista"])
@pytest.mark.parametrize("sparse", [False, True])
def test_lasso_path_matches_sklearn(sparse, solver):
    X, y = problem(seed=1)
    X_ours = sp.csc_matrix(X) if sparse else X
    ref_alphas, ref_coefs, _ = sklearn_lasso_path(X, y, alphas=15, tol=1e-12, max_iter=100000)
    alphas, coefs, gaps, n_iters = lasso_path(X_ours, y, n_alphas=15, tol=1e-14, max_iter=100000, solver=solver,
                                              return_n_iter=True)
    assert_allclose(alphas, ref_alphas, rtol=1e-12)
    assert coefs.shape == (30, 15) and gaps.shape == (15,) and n_iters.shape == (15,)
    assert np.max(np.abs(coefs - ref_coefs)) <= 1e-6
    assert np.all(gaps <= 1e-14 * (y @ y) / len(y))


def test_lasso_path_equals_independent_fits_and_warm_starts_help():
    X, y = problem(seed=2)
    alphas, coefs, _, n_iters = lasso_path(X, y, n_alphas=10, tol=1e-10, return_n_iter=True, working_set=False)
    cold = [OracleISTALasso(alpha=a, fit_intercept=False, tol=1e-10, working_set=False).fit(X, y) for a in alphas]
    assert_allclose(coefs, np.array([m.coef_ for m in cold]).T, atol=1e-6)
    assert n_iters.sum() < sum(m.n_iter_ for m in cold)


def test_lasso_path_multi_target_and_given_alphas():
    X, Y = problem(n_targets=3, seed=3)
    alphas, coefs, gaps = lasso_path(X, Y, alphas=[0.01, 1.0, 0.1], tol=1e-12, max_iter=100000)
    assert_array_equal(alphas, [1.0, 0.1, 0.01])
    assert coefs.shape == (3, 30, 3) and gaps.shape == (3, 3)
    for t in range(3):
        _, single, _ = lasso_path(X, Y[:, t], alphas=alphas, tol=1e-12, max_iter=100000)
        assert_allclose(coefs[t], single, atol=1e-8)


def test_lasso_path_positive():
    X, y = problem(seed=4)
    ref_alphas, ref_coefs, _ = sklearn_lasso_path(X, y, alphas=8, tol=1e-12, positive=True, max_iter=100000)
    alphas, coefs, _ = lasso_path(X, y, n_alphas=8, tol=1e-14, positive=True, max_iter=100000)
    assert_allclose(alphas, ref_alphas)
    assert coefs.min() >= 0 and np.max(np.abs(coefs - ref_coefs)) <= 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_cv_picks_sklearns_alpha(seed):
    X, y = problem(seed=10 + seed, noise=2.0)
    cv = KFold(4, shuffle=True, random_state=seed)
    ref = LassoCV(alphas=30, cv=cv, tol=1e-10, max_iter=100000).fit(X, y)
    ours = OracleISTALassoCV(n_alphas=30, cv=cv, tol=1e-10, max_iter=100000).fit(X, y)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert_allclose(ours.alphas_, ref.alphas_)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert np.max(np.abs(ours.coef_ - ref.coef_)) <= 1e-6
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


def test_cv_default_tolerance_picks_sklearns_alpha():
    X, y = problem(80, 40, seed=20, noise=2.0)
    ref = LassoCV(cv=KFold(5)).fit(X, y)
    ours = OracleISTALassoCV().fit(X, y)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert ours.mse_path_.shape == (100, 5)


@pytest.mark.parametrize("sparse", [False, True])
def test_cv_with_sample_weights_and_sparse_x(sparse):
    X, y = problem(seed=21, noise=2.0)
    weight = np.random.default_rng(21).uniform(0.1, 3, len(y))
    X_ours = sp.csr_matrix(X) if sparse else X
    ref = LassoCV(alphas=20, cv=KFold(3), tol=1e-10, max_iter=100000).fit(X, y, sample_weight=weight)
    ours = OracleISTALassoCV(n_alphas=20, cv=KFold(3), tol=1e-10, max_iter=100000).fit(X_ours, y,
                                                                                      sample_weight=weight)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert np.max(np.abs(ours.coef_ - ref.coef_)) <= 1e-6


def test_cv_multi_target_gets_one_alpha_per_target():
    X, Y = problem(n_targets=3, seed=22, noise=2.0)
    Y[:, 1] *= 5  # targets of different scales want different alphas
    alphas = np.geomspace(5.0, 0.005, 25)
    multi = OracleISTALassoCV(alphas=alphas, cv=KFold(4), tol=1e-10, n_jobs=2).fit(X, Y)
    assert multi.alpha_.shape == (3,) and multi.mse_path_.shape == (25, 4, 3)
    assert multi.coef_.shape == (3, 30) and multi.intercept_.shape == (3,) and multi.dual_gap_.shape == (3,)
    for t in range(3):
        single = OracleISTALassoCV(alphas=alphas, cv=KFold(4), tol=1e-10).fit(X, Y[:, t])
        assert multi.alpha_[t] == single.alpha_
        assert_allclose(multi.mse_path_[..., t], single.mse_path_, rtol=1e-8)
        assert_allclose(multi.coef_[t], single.coef_, atol=1e-8)
    assert len(set(multi.alpha_.tolist())) > 1


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(n_alphas=0), ValueError, "n_alphas must be >= 1; got n_alphas=0"),
        (dict(eps=0.0), ValueError, r"eps must be > 0.0; got eps=0.0"),
        (dict(alphas=[0.1, -1.0]), ValueError, "alphas must be finite and > 0"),
        (dict(solver="cd"), ValueError, r"solver must be one of"),
        (dict(tol=np.nan), ValueError, r"tol must be a (number, a )?finite float >= 0; got tol=nan"),
    ],
)
def test_cv_bad_parameters(params, error, match):
    X, y = problem(seed=23)
    with pytest.raises(error, match=match):
        OracleISTALassoCV(**params).fit(X, y)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("bad, match", [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")])
def test_path_and_cv_refuse_non_finite_x(layout, bad, match):
    """Refused by the preparation's first pass (no separate check of X), with scikit-learn's message."""
    X, y = problem(seed=24)
    X[7, 3] = bad
    X = sp.csr_matrix(X) if layout == "csr" else X
    with pytest.raises(ValueError, match=match):
        lasso_path(X, y)
    with pytest.raises(ValueError, match=match):
        OracleISTALassoCV(cv=3).fit(X, y)
