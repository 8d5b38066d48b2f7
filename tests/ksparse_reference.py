"""Brute-force references for the k-sparse least-squares tests (tiny problems only)."""

from itertools import combinations

import numpy as np


def ls_on_support(X, y, support):
    """Least-squares coefficients (dense) and squared residual on ``support``, by lstsq in float64."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    support = list(support)
    w = np.zeros(X.shape[1])
    w[support] = np.linalg.lstsq(X[:, support], y, rcond=None)[0]
    return w, float(np.sum((y - X @ w) ** 2))


def best_k_sparse(X, y, k):
    """Global minimiser of ``||y - Xw||^2`` over ``||w||_0 <= k``: (support, squared residual)."""
    best = min(combinations(range(X.shape[1]), k), key=lambda s: ls_on_support(X, y, s)[1])
    return set(best), ls_on_support(X, y, best)[1]


def best_swap_residual(X, y, support):
    """Smallest squared residual among the supports one swap away from ``support``."""
    support = sorted(support)
    outside = [j for j in range(X.shape[1]) if j not in support]
    return min(
        ls_on_support(X, y, [j if s == i else s for s in support])[1] for i in support for j in outside
    )


def planted_problem(rng, n_samples, n_features, k, n_targets=1, noise=0.0):
    """Well-conditioned problem with a planted support per target (nonzeros of magnitude in [1, 2])."""
    X = rng.standard_normal((n_samples, n_features))
    X /= np.linalg.norm(X, axis=0)
    coef = np.zeros((n_targets, n_features))
    for t in range(n_targets):
        support = rng.choice(n_features, k, replace=False)
        coef[t, support] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 2.0, k)
    Y = X @ coef.T + noise * rng.standard_normal((n_samples, n_targets))
    return X, Y, coef


def tiny_problem(seed):
    """Tiny random problem with unequal column norms and two targets: ``X, Y, k``."""
    rng = np.random.default_rng(seed)
    n_samples, n_features = rng.integers(4, 13), rng.integers(5, 13)
    k = int(rng.integers(1, min(n_samples, n_features) - 1))
    X = rng.standard_normal((n_samples, n_features)) * rng.uniform(0.3, 3.0, n_features)
    Y = rng.standard_normal((n_samples, 2))
    return X, Y, k
