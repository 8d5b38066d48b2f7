"""The exact active-set solver (skstexplore.solvers.active_set) against scikit-learn and brute force."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import Lasso

from skstexplore.solvers._line_search import line_search, line_search_one
from skstexplore.solvers.active_set import SupportFactor, active_set_lasso


def problem(n_samples, n_features, n_targets=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros((n_features, n_targets))
    coef[:4] = rng.standard_normal((4, n_targets))
    Y = X @ coef + 0.3 * rng.standard_normal((n_samples, n_targets))
    return X, Y


def sklearn_coef(X, Y, alpha, positive=False):
    model = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=200000, positive=positive)
    return np.atleast_2d(model.fit(X, Y[:, 0] if Y.shape[1] == 1 else Y).coef_)


def objective(X, Y, W, alpha):
    R = Y - X @ W.T
    return (R**2).sum(axis=0) / (2 * len(X)) + alpha * np.abs(W).sum(axis=1)


def solve(X, Y, alpha, **kwargs):
    n_samples, n_features = X.shape
    W0 = np.zeros((Y.shape[1], n_features))
    return active_set_lasso(X.T @ X, (X.T @ Y).T, n_samples * alpha, W0, **kwargs)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("shape", [(60, 30), (30, 60)])
@pytest.mark.parametrize("fraction", [0.5, 0.05, 0.005])
def test_matches_sklearn(shape, fraction, positive):
    X, Y = problem(*shape)
    alpha = fraction * np.abs(X.T @ Y).max() / len(X)
    W, converged, n_steps = solve(X, Y, alpha, positive=positive)
    assert converged.all() and n_steps[0] > 0
    assert_allclose(W, sklearn_coef(X, Y, alpha, positive), atol=1e-8)


def test_batched_targets_equal_one_at_a_time():
    X, Y = problem(40, 80, n_targets=6, seed=3)
    alpha = 0.05 * np.abs(X.T @ Y).max() / len(X)
    W, converged, _ = solve(X, Y, alpha)
    assert converged.all()
    for t in range(Y.shape[1]):
        assert_allclose(W[t], solve(X, Y[:, [t]], alpha)[0][0], atol=1e-10)
    assert_allclose(W, sklearn_coef(X, Y, alpha), atol=1e-8)


@pytest.mark.parametrize("n_targets", [1, 3])
def test_rank_deficient_supports(n_targets):
    """Duplicated columns and supports at the rank (p > n, tiny alpha): the exact minimum is reached."""
    X, Y = problem(15, 40, n_targets=n_targets, seed=5)
    X[:, 7] = X[:, 2]
    alpha = 1e-4 * np.abs(X.T @ Y).max() / len(X)
    W, converged, _ = solve(X, Y, alpha)
    assert converged.all()
    assert np.all(np.count_nonzero(W, axis=1) <= np.linalg.matrix_rank(X))
    reference = sklearn_coef(X, Y, alpha)
    assert np.all(objective(X, Y, W, alpha) <= objective(X, Y, reference, alpha) * (1 + 1e-9))


def test_factor_reused_across_penalties_and_blocks():
    """A path: the factor kept from the previous penalty, on a block of other features, gives the cold result."""
    X, Y = problem(80, 50, seed=7)
    G, c = X.T @ X, (X.T @ Y).T
    top = np.abs(c).max()
    factor = SupportFactor()
    W = np.zeros((1, 50))
    for fraction in (0.5, 0.2, 0.05, 0.01):
        W, converged, _ = active_set_lasso(G, c, fraction * top, W, factor=factor, labels=np.arange(50))
        cold = active_set_lasso(G, c, fraction * top, np.zeros((1, 50)))[0]
        assert converged.all()
        assert_allclose(W, cold, atol=1e-10)
        assert_allclose(factor.R.T @ factor.R, G[np.ix_(factor.order, factor.order)], atol=1e-9)
    # the same support seen through a block of features in another order
    block = np.random.default_rng(0).permutation(50)
    W_block, converged, _ = active_set_lasso(G[np.ix_(block, block)], c[:, block], 0.01 * top, W[:, block],
                                             factor=factor, labels=block)
    assert converged.all()
    assert_allclose(W_block[:, np.argsort(block)], W, atol=1e-10)


def test_line_search_is_the_exact_minimiser_on_the_segment():
    rng = np.random.default_rng(11)
    penalty = 0.7
    for _ in range(20):
        A = rng.standard_normal((12, 8))
        G, c = A.T @ A, rng.standard_normal(8)
        w = rng.standard_normal(8) * (rng.random(8) < 0.6)
        d = rng.standard_normal(8)
        sign = np.where(w != 0, np.sign(w), np.sign(d))
        grad = G @ w - c
        # the line search takes G d from the system it came from: make d the step to that system's solution
        z = np.linalg.solve(G, c - penalty * sign)
        d = z - w
        t, _ = line_search(grad[None], sign[None], w[None], d[None], penalty, False)
        t_one, _ = line_search_one(grad, sign, w, d, penalty, False)
        grid = np.linspace(0, 1, 20001)
        values = [0.5 * v @ G @ v - c @ v + penalty * np.abs(v).sum() for v in w + grid[:, None] * d]
        best = grid[int(np.argmin(values))]
        assert abs(t[0] - best) <= 1e-4
        assert abs(t_one - t[0]) <= 1e-12


def test_max_steps_is_honoured_and_reported():
    X, Y = problem(30, 60, seed=2)
    alpha = 0.005 * np.abs(X.T @ Y).max() / len(X)
    W, converged, n_steps = solve(X, Y, alpha, max_steps=2)
    assert not converged[0] and n_steps[0] == 2
