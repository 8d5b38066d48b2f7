"""The one-target Lasso path on the Gram matrix (solvers.gram_path) and the factor updates it relies on."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import lasso_path as sklearn_lasso_path

from skstexplore import lasso_path
from skstexplore._core.lasso import lasso_dual_gap
from skstexplore.solvers._support_factor import SupportFactor
from skstexplore.solvers.active_set import affine_move, symmetric_product
from skstexplore.solvers.gram_path import _gram_dual_gap, _within, gram_lasso_path


def problem(n_samples, n_features, seed=0, n_nonzero=8, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros(n_features)
    coef[rng.choice(n_features, n_nonzero, replace=False)] = rng.standard_normal(n_nonzero)
    return X, X @ coef + noise * rng.standard_normal(n_samples)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("n_alphas", [4, 30])
def test_path_matches_sklearn(n_alphas, positive):
    """Coarse grids (many features enter at once, wrong guesses dropped) and fine ones give sklearn's path."""
    X, y = problem(200, 80, seed=n_alphas)
    n_samples = len(y)
    ref_alphas, ref_coefs, _ = sklearn_lasso_path(X, y, alphas=n_alphas, eps=1e-3, tol=1e-12, max_iter=200000,
                                                  positive=positive)
    coefs, gaps, n_steps, converged = gram_lasso_path(X.T @ X, X.T @ y, y @ y, n_samples, ref_alphas,
                                                      tol=1e-10 * (y @ y) / n_samples, positive=positive)
    assert converged.all() and np.all(n_steps >= 0)
    assert np.max(np.abs(coefs - ref_coefs.T)) <= 1e-6
    # the gaps from the Gram matrix are those of the residual, to rounding
    for w, gap, alpha in zip(coefs, gaps, ref_alphas):
        exact = lasso_dual_gap(X, y[:, None], w[None], alpha, positive=positive)[0]
        assert abs(gap - exact) <= 1e-12 * (y @ y) / n_samples
    if positive:
        assert coefs.min() >= 0


@pytest.mark.parametrize("positive", [False, True])
def test_fine_path_moves_points_on_their_support(positive):
    """A fine grid: most points are the affine move of the previous one (no step), and the path is sklearn's."""
    X, y = problem(150, 40, seed=4)
    ref_alphas, ref_coefs, _ = sklearn_lasso_path(X, y, alphas=150, eps=1e-3, tol=1e-12, max_iter=200000,
                                                  positive=positive)
    coefs, _, n_steps, converged = gram_lasso_path(X.T @ X, X.T @ y, y @ y, len(y), ref_alphas,
                                                   tol=1e-10 * (y @ y) / len(y), positive=positive)
    assert converged.all() and np.count_nonzero(n_steps[1:] == 0) >= 50
    assert np.max(np.abs(coefs - ref_coefs.T)) <= 1e-6


@pytest.mark.parametrize("positive", [False, True])
def test_path_stops_each_point_within_its_tolerance(positive):
    """At a loose tol a point stops as soon as its gap is within it (as coordinate descent does): every gap,
    recomputed from the residual, is within tol, in fewer steps than the exact path; a tol within the gap's
    rounding gets the exact path."""
    X, y = problem(300, 150, seed=5, n_nonzero=30)
    n_samples, y_sq = len(y), y @ y
    alphas = np.geomspace(1, 1e-3, 20) * np.abs(X.T @ y).max() / n_samples
    G, c = X.T @ X, X.T @ y
    tol = 1e-3 * y_sq / n_samples
    coefs, gaps, n_steps, converged = gram_lasso_path(G, c, y_sq, n_samples, alphas, tol=tol, positive=positive)
    exact, _, exact_steps, _ = gram_lasso_path(G, c, y_sq, n_samples, alphas, tol=0.0, positive=positive)
    rounding, _, rounding_steps, _ = gram_lasso_path(G, c, y_sq, n_samples, alphas, tol=1e-14 * y_sq / n_samples,
                                                     positive=positive)
    assert converged.all() and n_steps.sum() < exact_steps.sum()
    for w, alpha in zip(coefs, alphas):
        assert lasso_dual_gap(X, y[:, None], w[None], alpha, positive=positive)[0] <= tol
    np.testing.assert_array_equal(rounding, exact)
    np.testing.assert_array_equal(rounding_steps, exact_steps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n_support", [0, 3, 40])
def test_symmetric_product_equals_the_product(dtype, order, n_support):
    rng = np.random.default_rng(n_support)
    X = rng.standard_normal((60, 40))
    G = np.asarray(X.T @ X, dtype=dtype, order=order)
    support = np.sort(rng.choice(40, n_support, replace=False))
    w = np.zeros(40, dtype=dtype)
    w[support] = rng.standard_normal(n_support)
    expected = G.astype(np.float64) @ w.astype(np.float64)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for given in (None, support):
        assert_allclose(symmetric_product(G, w, given), expected, rtol=rtol, atol=rtol * np.abs(G).max())


def test_affine_move_is_the_solution_on_the_support():
    X, y = problem(100, 30, seed=6)
    G, c, n = X.T @ X, X.T @ y, len(y)
    alpha = 0.05 * np.abs(c).max() / n
    w = gram_lasso_path(G, c, y @ y, n, np.array([alpha]), tol=1e-12)[0][0]
    factor = SupportFactor()
    factor.attach(G, np.arange(30), w)
    grad = G @ w - c
    support, theta = np.flatnonzero(w), np.sign(w[np.flatnonzero(w)])
    direction = None
    for penalty, decrease in ((1 - 1e-3) * n * alpha, 1e-3 * n * alpha), ((1 - 3e-3) * n * alpha, 2e-3 * n * alpha):
        # the first move solves, the second reuses the direction
        kept = direction
        direction = affine_move(G, c, factor, w, grad, penalty, decrease, direction)
        assert direction is not None and (kept is None or direction is kept)
        assert_allclose(w[support], np.linalg.solve(G[np.ix_(support, support)], c[support] - penalty * theta),
                        rtol=1e-10)
        assert np.count_nonzero(w) == support.size
        assert_allclose(grad, G @ w - c, atol=1e-10 * np.abs(c).max())
    # a move that makes a coordinate cross zero (here: back up to a penalty far above alpha_max) moves nothing
    before, before_grad = w.copy(), grad.copy()
    assert affine_move(G, c, factor, w, grad, 1e3 * n * alpha, -1e3 * n * alpha, direction) is None
    assert_allclose(w, before, atol=0)
    assert_allclose(grad, before_grad, atol=0)


def test_path_with_rank_deficient_supports():
    """p > n and a duplicated column: the supports stay within the rank and each point is a minimum."""
    X, y = problem(25, 60, seed=9)
    X[:, 7] = X[:, 3]
    ref_alphas, ref_coefs, _ = sklearn_lasso_path(X, y, alphas=12, eps=1e-4, tol=1e-12, max_iter=500000)
    coefs, _, _, converged = gram_lasso_path(X.T @ X, X.T @ y, y @ y, 25, ref_alphas, tol=1e-10 * (y @ y) / 25)
    assert converged.all()
    assert np.all(np.count_nonzero(coefs, axis=1) <= np.linalg.matrix_rank(X))
    objective = [((y - X @ w) ** 2).sum() / 50 + a * np.abs(w).sum() for w, a in zip(coefs, ref_alphas)]
    reference = [((y - X @ w) ** 2).sum() / 50 + a * np.abs(w).sum() for w, a in zip(ref_coefs.T, ref_alphas)]
    assert np.all(np.array(objective) <= np.array(reference) * (1 + 1e-9))


def test_path_from_a_start_and_with_a_step_budget():
    X, y = problem(120, 40, seed=3)
    G, c = X.T @ X, X.T @ y
    alphas = np.geomspace(0.5, 0.005, 6) * np.abs(c).max() / len(y)
    full = gram_lasso_path(G, c, y @ y, len(y), alphas, tol=1e-12)[0]
    # starting from the last point and going back up the path gives the same points
    back = gram_lasso_path(G, c, y @ y, len(y), alphas[::-1], coef_init=full[-1], tol=1e-12)[0]
    assert_allclose(back[::-1], full, atol=1e-9)
    _, _, n_steps, converged = gram_lasso_path(G, c, y @ y, len(y), alphas, tol=1e-12, max_steps=1)
    assert np.all(n_steps <= 1) and not converged.all()


def test_gram_gap_equals_the_residual_gap():
    X, y = problem(50, 20, seed=5)
    rng = np.random.default_rng(0)
    for positive in (False, True):
        for _ in range(5):
            w = rng.standard_normal(20) * (rng.random(20) < 0.4)
            alpha = rng.uniform(0.01, 1.0)
            grad = X.T @ (X @ w) - X.T @ y
            exact = lasso_dual_gap(X, y[:, None], w[None], alpha, positive=positive)[0]
            gap = _gram_dual_gap(X.T @ y, w[None], grad[None], y @ y, 50, np.array([alpha]), positive)[0]
            assert_allclose(gap, exact, rtol=1e-9)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("n_features", [1, 7, 64, 1000])
def test_point_check_decides_on_the_reported_gap(n_features, positive):
    """The check a point stops on computes the gap that the path reports, to the bit: a tol equal to the
    reported gap passes, the next float below fails (else a point accepted within tol could be reported
    unconverged, and solved again)."""
    rng = np.random.default_rng(n_features)
    X, y = problem(50, n_features, seed=n_features, n_nonzero=1)
    c, y_sq = X.T @ y, y @ y
    W = rng.standard_normal((20, n_features)) * (rng.random((20, n_features)) < 0.5) * np.logspace(-6, 2, 20)[:, None]
    grads = W @ (X.T @ X) - c
    alphas = rng.uniform(0.01, 1.0, 20) * np.abs(c).max() / 50
    gaps = _gram_dual_gap(c, W, grads, y_sq, 50, alphas, positive)
    for w, grad, alpha, gap in zip(W, grads, alphas, gaps):
        assert _within(c, y_sq, 50, alpha, gap, positive)(w, grad)
        assert not _within(c, y_sq, 50, alpha, np.nextafter(gap, -np.inf), positive)(w, grad)


def test_lasso_path_finishes_unconverged_points_with_the_residual():
    """A tolerance below the Gram gap's rounding: each point is finished by the residual-based solve."""
    X, y = problem(100, 30, seed=7)
    ref_alphas, ref_coefs, _ = sklearn_lasso_path(X, y, alphas=5, tol=1e-12, max_iter=200000)
    alphas, coefs, gaps = lasso_path(X, y, n_alphas=5, tol=1e-30, max_iter=50)
    assert np.max(np.abs(coefs - ref_coefs)) <= 1e-6


def _assert_factor(factor, G):
    assert_allclose(factor.R.T @ factor.R, G[np.ix_(factor.order, factor.order)], atol=1e-9 * np.abs(G).max())
    assert_allclose(np.tril(factor.R, -1), 0.0, atol=0)


def test_factor_updates_equal_a_fresh_cholesky():
    """Random sequences of additions, removals (last, deep, several) and extensions keep R^T R = G_AA."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 60))
    G = X.T @ X
    factor = SupportFactor()
    factor.attach(G, np.arange(60), np.zeros(60))
    for _ in range(40):
        outside = np.setdiff1d(np.arange(60), factor.order)
        K = factor.order.size
        move = rng.integers(4)
        if move == 0 or K < 3:
            assert factor.add(rng.choice(outside, min(rng.integers(1, 8), outside.size), replace=False))
        elif move == 1:
            factor.remove(np.array([K - 1]))
        elif move == 2:
            factor.remove(rng.choice(K, min(rng.integers(1, 4), K), replace=False))
        else:
            new = rng.choice(outside, min(5, outside.size), replace=False)
            extension = factor.extension(new)
            rhs = rng.standard_normal(K + new.size)
            idx = np.concatenate([factor.order, new])
            assert_allclose(extension.solve(rhs), np.linalg.solve(G[np.ix_(idx, idx)], rhs), rtol=1e-8)
            assert extension.drop(np.array([0, 2]))
            idx = np.concatenate([factor.order, extension.new])
            rhs = np.delete(rhs, [K, K + 2])
            assert_allclose(extension.solve(rhs), np.linalg.solve(G[np.ix_(idx, idx)], rhs), rtol=1e-8)
            extension.append()
        _assert_factor(factor, G)
        b = rng.standard_normal(factor.order.size)
        assert_allclose(G[np.ix_(factor.order, factor.order)] @ factor.solve(b), b, rtol=1e-8, atol=1e-10)


def test_factor_grows_past_its_first_block():
    """Kept across blocks of a working set: a factor filling a small block keeps its R when a larger block adds more."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 40))
    G = X.T @ X
    small = np.arange(0, 40, 4)
    factor = SupportFactor()
    factor.attach(G[np.ix_(small, small)], small, np.ones(small.size))
    assert factor.order.size == small.size
    w = np.zeros(40)
    w[small] = 1.0
    factor.attach(G, np.arange(40), w)
    assert_allclose(factor.features, small)
    assert factor.add(np.setdiff1d(np.arange(40), small)[::2])
    factor.remove(np.array([1, 3, 12]))
    _assert_factor(factor, G)
    B = rng.standard_normal((factor.order.size, 3))
    assert_allclose(G[np.ix_(factor.order, factor.order)] @ factor.solve(B), B, rtol=1e-8, atol=1e-10)


def test_extension_refuses_a_singular_block():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 6))
    X[:, 5] = X[:, 1] - X[:, 2]
    G = X.T @ X
    factor = SupportFactor()
    factor.attach(G, np.arange(6), np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
    assert factor.extension(np.array([5])) is None
    assert not factor.add(np.array([3, 5])) and factor.order.size == 2
    extension = factor.extension(np.array([0, 3]))
    extension.drop(np.array([0]))
    extension.append()
    _assert_factor(factor, G)


def test_lasso_path_float32_and_intercept_free_conventions():
    X, y = problem(150, 40, seed=11)
    alphas, coefs64, _ = lasso_path(X, y, n_alphas=10, tol=1e-10)
    alphas32, coefs32, gaps32 = lasso_path(X.astype(np.float32), y.astype(np.float32), n_alphas=10, tol=1e-10)
    assert coefs32.dtype == np.float32 and gaps32.shape == (10,)
    assert_allclose(alphas32, alphas, rtol=1e-5)
    assert np.max(np.abs(coefs32 - coefs64)) <= 1e-4 * np.abs(coefs64).max()
