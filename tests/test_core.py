"""The shared core: thresholding, restricted least squares, Cholesky updates,
Lipschitz constants, Lasso helpers, init resolution."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import Lasso, LinearRegression, orthogonal_mp

from skstexplore._core.init import resolve_init
from skstexplore._core.lasso import alpha_max, lasso_dual_gap, lasso_objective
from skstexplore._core import lipschitz
from skstexplore._core.lipschitz import spectral_norm_sq
from skstexplore._core.lstsq import LeastSquaresData, SupportCache, solve_gram_systems
from skstexplore._core.thresholding import hard_threshold, largest_k, largest_k_mask, soft_threshold
from skstexplore._core.validation import check_coef_array, resolve_n_nonzero_coefs


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_largest_k_matches_sort(rng):
    V = rng.standard_normal((7, 30))
    for k in (1, 5, 30):
        expected = np.sort(np.argsort(-np.abs(V), axis=1, kind="stable")[:, :k], axis=1)
        assert_array_equal(largest_k(V, k), expected)


def test_largest_k_breaks_ties_towards_low_indices():
    V = np.array([[1.0, -2.0, 2.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    assert_array_equal(largest_k(V, 2), [[1, 2], [0, 1]])
    assert_array_equal(largest_k_mask(V, 4).sum(axis=1), [4, 4])


def test_hard_and_soft_thresholding():
    V = np.array([[3.0, -1.0, 0.5, -4.0]])
    assert_array_equal(hard_threshold(V, 2), [[3.0, 0.0, 0.0, -4.0]])
    assert_allclose(soft_threshold(V, 1.0), [[2.0, 0.0, 0.0, -3.0]])


@pytest.mark.parametrize("use_gram", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_solve_on_supports_matches_lstsq(rng, use_gram, dtype):
    X = rng.standard_normal((20, 12)).astype(dtype)
    Y = rng.standard_normal((20, 4)).astype(dtype)
    data = LeastSquaresData(X, Y, X.T @ X if use_gram else None)
    idx = np.array([[0, 3, 5], [1, 2, 11], [4, 6, 7], [0, 1, 2]])
    values = data.solve_on_supports(idx)
    assert values.dtype == dtype
    for t in range(4):
        expected = np.linalg.lstsq(X[:, idx[t]].astype(float), Y[:, t].astype(float), rcond=None)[0]
        assert_allclose(values[t], expected, rtol=1e-4 if dtype == np.float32 else 1e-10)
    W = data.scatter(idx, values)
    residual = Y - X @ W.T
    assert_allclose(data.residual_sq(W), (residual**2).sum(0), rtol=1e-3 if dtype == np.float32 else 1e-9)
    assert_allclose(data.correlation(W), (X.T @ residual).T, atol=1e-3 if dtype == np.float32 else 1e-10)


def test_rank_deficient_supports_get_minimum_norm_solution(rng):
    X = rng.standard_normal((10, 4))
    X[:, 2] = X[:, 1]  # duplicated column
    X[:, 3] = 0.0  # zero column
    Y = rng.standard_normal((10, 1))
    data = LeastSquaresData(X, Y, X.T @ X)
    values = data.solve_on_supports(np.array([[0, 1, 2, 3]]))
    expected = np.linalg.lstsq(X, Y[:, 0], rcond=None)[0]
    assert np.all(np.isfinite(values))
    assert_allclose(values[0], expected, atol=1e-10)


def test_solve_gram_systems_mixes_regular_and_singular_blocks(rng):
    A = rng.standard_normal((6, 3))
    G_regular = A.T @ A
    G_singular = np.ones((3, 3))
    b = rng.standard_normal((2, 3))
    z = solve_gram_systems(np.stack([G_regular, G_singular]), b)
    assert_allclose(z[0], np.linalg.solve(G_regular, b[0]))
    assert_allclose(z[1], np.linalg.pinv(G_singular) @ b[1], atol=1e-12)


def test_support_cache_is_bounded_lru():
    cache = SupportCache(max_size=2)
    cache.put([0, 1], "a")
    cache.put([0, 2], "b")
    assert cache.get([0, 1]) == "a"
    cache.put([1, 2], "c")  # evicts [0, 2], the least recently used
    assert cache.get([0, 2]) is None
    assert len(cache) == 2 and cache.hits == 1 and cache.misses == 1


@pytest.mark.parametrize("shape", [(30, 20), (20, 30), (400, 350), (350, 400)])
def test_spectral_norm_sq(rng, shape):
    X = rng.standard_normal(shape)
    expected = np.linalg.norm(X, 2) ** 2
    assert_allclose(spectral_norm_sq(X), expected, rtol=1e-9)
    assert_allclose(spectral_norm_sq(gram=X.T @ X), expected, rtol=1e-9)


@pytest.mark.parametrize("shape", [(400, 350), (350, 400), (301, 1000)])
def test_spectral_norm_sq_in_one_pass_over_a_large_design(rng, shape, monkeypatch):
    """The one-pass product (designs beyond the cache; here forced, with blocks of a few rows) gives the same L."""
    monkeypatch.setattr(lipschitz, "_ONE_PASS_MIN_BYTES", 0)
    monkeypatch.setattr(lipschitz, "_ONE_PASS_BLOCK_BYTES", 7 * shape[1] * 8)  # 7 rows: a last, shorter block
    X = rng.standard_normal(shape)
    v = rng.standard_normal(shape[1])
    assert_allclose(lipschitz._one_pass_gram_product(X)(v), X.T @ (X @ v), rtol=1e-12)
    assert_allclose(spectral_norm_sq(X), np.linalg.norm(X, 2) ** 2, rtol=1e-9)
    # a design that is not C-ordered keeps the two-pass products
    assert_allclose(spectral_norm_sq(np.asfortranarray(X)), np.linalg.norm(X, 2) ** 2, rtol=1e-9)


@pytest.mark.parametrize("positive", [False, True])
def test_lasso_helpers_match_sklearn(rng, positive):
    X = rng.standard_normal((30, 40))
    y = rng.standard_normal(30)
    amax = alpha_max(X, y[:, None])[0]
    assert_allclose(amax, np.max(np.abs(X.T @ y)) / 30)
    alpha = 0.2 * amax
    lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-6, positive=positive, max_iter=10000).fit(X, y)
    W = lasso.coef_[None, :]
    gap = lasso_dual_gap(X, y[:, None], W, alpha, positive=positive)
    assert_allclose(gap, lasso.dual_gap_, rtol=1e-6, atol=1e-14)
    F = lasso_objective(X, y[:, None], W, alpha)
    assert_allclose(F, ((y - X @ lasso.coef_) ** 2).sum() / 60 + alpha * np.abs(lasso.coef_).sum())


def test_resolve_n_nonzero_coefs():
    assert resolve_n_nonzero_coefs(None, 25) == 2
    assert resolve_n_nonzero_coefs(None, 5) == 1
    with pytest.raises(ValueError, match="n_nonzero_coefs=6 cannot be larger than n_features=5"):
        resolve_n_nonzero_coefs(6, 5)
    with pytest.raises(ValueError, match="n_nonzero_coefs must be >= 1; got n_nonzero_coefs=0"):
        resolve_n_nonzero_coefs(0, 5)
    with pytest.raises(TypeError, match="n_nonzero_coefs must be an int or None; got 2.5"):
        resolve_n_nonzero_coefs(2.5, 5)


def test_resolve_init_forms(rng):
    X = rng.standard_normal((20, 8))
    Y = rng.standard_normal((20, 2))
    assert resolve_init(None, X, Y, 2) is None
    assert resolve_init("zeros", X, Y, 2) is None
    assert_allclose(resolve_init("omp", X, Y, 2), orthogonal_mp(X, Y, n_nonzero_coefs=2).T)
    assert_allclose(resolve_init("omp", X, Y, 2, gram=X.T @ X), orthogonal_mp(X, Y, n_nonzero_coefs=2).T)
    assert_allclose(resolve_init(np.arange(8.0), X, Y, 2), np.tile(np.arange(8.0), (2, 1)))
    expected = LinearRegression().fit(X, Y).coef_
    assert_allclose(resolve_init(LinearRegression(), X, Y, 2), expected)


def test_resolve_init_errors(rng):
    X = rng.standard_normal((20, 8))
    Y = rng.standard_normal((20, 1))
    with pytest.raises(ValueError, match=r"init has shape \(7,\); expected \(8,\)"):
        resolve_init(np.zeros(7), X, Y, 2)
    with pytest.raises(ValueError, match="init contains NaN or infinity"):
        resolve_init(np.full(8, np.nan), X, Y, 2)
    with pytest.raises(ValueError, match="init must be one of"):
        resolve_init("lars", X, Y, 2)
    with pytest.raises(TypeError, match="init must be None"):
        resolve_init(3.0, X, Y, 2)

    class NoCoef:
        def fit(self, X, y):
            return self

        def get_params(self, deep=True):
            return {}

    with pytest.raises(TypeError, match="init estimator NoCoef has no coef_ attribute"):
        resolve_init(NoCoef(), X, Y, 2, y_is_1d=True)


def test_check_coef_array_dtype():
    out = check_coef_array(np.ones(3), "init", 2, 3, np.float32)
    assert out.dtype == np.float32 and out.shape == (2, 3) and out.flags.writeable
