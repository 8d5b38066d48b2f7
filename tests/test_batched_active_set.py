"""The many-target active-set steps (skstexplore.solvers._batched_active_set) against sklearn, the one-target
method and brute force, and their pieces (violator search, compaction, grouped solves, the pruned re-solve)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import Lasso

from skstexplore import OracleISTALasso
from skstexplore.solvers import _batched_active_set as batched
from skstexplore.solvers._restricted import solve_psd_systems
from skstexplore.solvers.active_set import active_set_lasso


def many_targets(n_samples, n_features, n_targets, seed=0, n_nonzero=6):
    """Targets with supports of different sizes (1 to ``n_nonzero`` true features), so that a step mixes
    additions, re-solves and groups of several support sizes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros((n_features, n_targets))
    for t in range(n_targets):
        chosen = rng.choice(n_features, 1 + t % n_nonzero, replace=False)
        coef[chosen, t] = 2 * rng.standard_normal(chosen.size)
    return X, X @ coef + 0.2 * rng.standard_normal((n_samples, n_targets))


def solve(X, Y, alpha, **kwargs):
    return active_set_lasso(X.T @ X, (X.T @ Y).T, len(X) * alpha, np.zeros((Y.shape[1], X.shape[1])), **kwargs)


def sklearn_coef(X, Y, alpha, positive=False, fit_intercept=False):
    model = Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=200000, positive=positive)
    return np.atleast_2d(model.fit(X, Y).coef_)


def q(G, C, W, penalty):
    return 0.5 * np.einsum("ti,ij,tj->t", W, G, W) - np.einsum("ti,ti->t", C, W) + penalty * np.abs(W).sum(axis=1)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("shape", [(40, 25), (30, 90)])
@pytest.mark.parametrize("fraction", [0.3, 0.05, 0.02])
def test_many_targets_match_sklearn_and_one_at_a_time(shape, fraction, positive):
    X, Y = many_targets(*shape, n_targets=40, seed=shape[1])
    alpha = fraction * np.median(np.abs(X.T @ Y).max(axis=0)) / len(X)
    W, converged, n_steps = solve(X, Y, alpha, positive=positive)
    assert converged.all()
    assert_allclose(W, sklearn_coef(X, Y, alpha, positive), atol=1e-7)
    for t in (0, 7, 31, 39):
        assert_allclose(W[t], solve(X, Y[:, [t]], alpha, positive=positive)[0][0], atol=1e-10)
    assert_array_equal(W, solve(X, Y, alpha, positive=positive)[0])  # deterministic


def test_every_step_lowers_the_objective():
    """The state after s steps (max_steps=s) never has a larger q than after s - 1: line searches and pruned
    re-solves only go down."""
    X, Y = many_targets(25, 60, 20, seed=4, n_nonzero=12)
    G, C, penalty = X.T @ X, (X.T @ Y).T, 0.02 * np.abs(X.T @ Y).max()
    previous = q(G, C, np.zeros_like(C), penalty)
    for steps in range(1, 25):
        W, converged, _ = active_set_lasso(G, C, penalty, np.zeros_like(C), max_steps=steps)
        value = q(G, C, W, penalty)
        assert np.all(value <= previous + 1e-12 * np.abs(previous))
        previous = value
    assert converged.all()


def test_pruned_resolve_is_taken_only_where_it_lowers_q():
    """A guess where one coordinate of the support and one added feature break their signs: the result of
    solve_and_search never raises q, and a step reported consistent ends on the minimiser of q on its
    support and signs."""
    rng = np.random.default_rng(1)
    n_taken = 0
    for _ in range(200):
        A = rng.standard_normal((10, 6))
        G = A.T @ A
        c = 3 * rng.standard_normal(6)
        penalty = 1.0
        w = np.where(rng.random(6) < 0.5, rng.standard_normal(6), 0.0)
        grad = G @ w - c
        theta = np.where(w != 0, np.sign(w), -np.sign(grad))
        idx, valid = np.arange(6)[None], np.ones((1, 6), dtype=bool)
        t, new, consistent, singular = batched.solve_and_search(G, idx, valid, c[None], w[None], grad[None],
                                                               theta[None], penalty, False)
        assert not singular[0]
        assert q(G, c[None], new, penalty)[0] <= q(G, c[None], w[None], penalty)[0] + 1e-10
        z_full = np.linalg.solve(G, c - penalty * theta)
        if consistent[0] and np.any(theta * z_full < 0):  # the pruned re-solve was taken
            n_taken += 1
            on = new[0] != 0
            z = np.linalg.solve(G[np.ix_(on, on)], c[on] - penalty * theta[on])
            assert_allclose(new[0, on], z, atol=1e-10)
    assert n_taken > 0


@pytest.mark.parametrize("k_max", [3, 40])
def test_top_violators_are_the_largest_in_order(k_max):
    """Repeated arg-max (few additions) and the partition (many) both give the k largest above the threshold,
    most violating first."""
    rng = np.random.default_rng(2)
    violation = rng.random((7, 60))
    violation[3] = -np.inf  # nothing to add
    rows = np.array([0, 1, 3, 5, 6])
    k = np.array([k_max, 1, k_max, 0, k_max // 2])
    top, added = batched.top_violators(violation, rows, k, 0.3)
    for i, (row, count) in enumerate(zip(rows, k)):
        expected = np.argsort(-violation[row], kind="stable")[:count]
        expected = expected[violation[row, expected] > 0.3]
        assert_array_equal(top[i][added[i]], expected)


def test_compact_rows_moves_entries_left_in_order():
    mask = np.array([[False, True, False, True], [False, False, False, False], [True, True, True, False]])
    values = np.arange(12).reshape(3, 4)
    (compact, on) = batched.compact_rows(mask, values)
    assert_array_equal(on, [[True, True, False], [False, False, False], [True, True, True]])
    assert_array_equal(compact[on], values[mask])


def test_grouped_padded_solves_equal_each_system_alone():
    """Supports of many sizes (groups, small groups joined to larger ones, padding, substitutions for large
    groups) give each system's own solution."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((80, 50))
    G = A.T @ A
    sizes = np.concatenate([np.full(100, 3), np.full(5, 7), np.full(40, 12), [30]])
    rng.shuffle(sizes)
    K = sizes.max()
    idx = np.zeros((sizes.size, K), dtype=int)
    for row, size in enumerate(sizes):
        idx[row, :size] = rng.choice(50, size, replace=False)
    valid = np.arange(K) < sizes[:, None]
    rhs = np.where(valid, rng.standard_normal(idx.shape), 0.0)
    groups = list(batched._size_groups(sizes))
    assert_array_equal(np.sort(np.concatenate([rows for rows, _ in groups])), np.arange(sizes.size))
    assert all(sizes[rows].max() == width for rows, width in groups)
    z, singular = batched._solve_padded(G, idx, valid, sizes, rhs)
    assert not singular.any()
    for row, size in enumerate(sizes):
        support = idx[row, :size]
        assert_allclose(z[row, :size], np.linalg.solve(G[np.ix_(support, support)], rhs[row, :size]), rtol=1e-9,
                        atol=1e-12)
        assert np.all(z[row, size:] == 0)


def test_substitutions_reuse_the_factor():
    """Many systems per unknown: the Cholesky factor is reused by vectorised substitutions."""
    rng = np.random.default_rng(4)
    A = rng.standard_normal((200, 30, 8))
    G = np.einsum("rki,rkj->rij", A, A)
    b = rng.standard_normal((200, 8))
    z, singular = solve_psd_systems(G, b, return_singular=True)
    assert not singular.any()
    assert_allclose(np.einsum("rij,rj->ri", G, z), b, atol=1e-10)


def test_degenerate_targets_together():
    """Zero targets, targets with alpha above their alpha_max, duplicated and zero columns, and targets that
    need supports at the rank (p > n, tiny alpha: left to the one-target method) in one batched call."""
    X, Y = many_targets(12, 30, 12, seed=6)
    X[:, 5] = X[:, 2]
    X[:, 9] = 0.0
    Y[:, 0] = 0.0
    Y[:, 1] *= 1e-3  # below the others' alpha_max by far: zero at this alpha
    alpha_max = np.abs(X.T @ Y).max(axis=0) / len(X)
    for a in (1e-5 * alpha_max.max(), np.median(alpha_max)):  # tiny; above half the targets' alpha_max
        W, converged, _ = solve(X, Y, a)
        assert converged.all()
        assert np.all(W[0] == 0) and np.all(W[:, 9] == 0) and np.all(W[alpha_max <= a] == 0)
        assert np.all(np.count_nonzero(W, axis=1) <= np.linalg.matrix_rank(X))
        G, C = X.T @ X, (X.T @ Y).T
        one_at_a_time = np.vstack([solve(X, Y[:, [t]], a)[0] for t in range(Y.shape[1])])
        assert_allclose(q(G, C, W, len(X) * a), q(G, C, one_at_a_time, len(X) * a), rtol=1e-9, atol=1e-12)
    W, converged, n_steps = solve(X, Y, alpha_max.max())
    assert converged.all() and np.all(W == 0) and np.all(n_steps == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("positive", [False, True])
def test_estimator_on_many_targets_matches_sklearn(dtype, positive):
    """OracleISTALasso on many targets sharing a wide design (the batched steps), with an intercept."""
    X, Y = many_targets(30, 70, 120, seed=8)
    Y = Y + 1.5
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    alpha = 0.1 * np.median(np.abs(Xc.T @ Yc).max(axis=0)) / len(X)
    # the solution is exact either way; a float32 duality gap cannot certify less than its rounding
    tol = 1e-5 if dtype == np.float32 else 1e-12
    ours = OracleISTALasso(alpha=alpha, tol=tol, max_iter=1000, positive=positive).fit(X.astype(dtype), Y.astype(dtype))
    reference = sklearn_coef(X.astype(dtype).astype(np.float64), Y.astype(dtype).astype(np.float64), alpha,
                             positive, fit_intercept=True)
    assert ours.coef_.dtype == dtype
    assert np.max(np.abs(ours.coef_ - reference)) <= (1e-4 if dtype == np.float32 else 1e-6)


def test_warm_starts_anywhere_reach_the_cold_result():
    """Starts that are not optimal on their supports (dense, random signs; a previous penalty's solution)
    end where a cold start does."""
    X, Y = many_targets(30, 40, 25, seed=9)
    G, C = X.T @ X, (X.T @ Y).T
    penalty = 0.05 * np.abs(C).max()
    cold, converged, _ = active_set_lasso(G, C, penalty, np.zeros_like(C))
    assert converged.all()
    dense = np.random.default_rng(0).standard_normal(C.shape)
    previous = active_set_lasso(G, C, 2 * penalty, np.zeros_like(C))[0]
    for start, polished in ((dense, False), (previous, True)):
        W, converged, _ = active_set_lasso(G, C, penalty, start, polished=polished)
        assert converged.all()
        assert_allclose(W, cold, atol=1e-10)
