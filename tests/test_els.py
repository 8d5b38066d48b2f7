"""Exhaustive Local Search: closed-form swap gains, swap-local optima, global optima, recovery."""

import numpy as np
import pytest
from ksparse_reference import best_swap_residual, ls_on_support, tiny_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import orthogonal_mp

from skstexplore import ELSRegressor
from skstexplore._core.lstsq import LeastSquaresData
from skstexplore.datasets import make_gaussian_deconvolution, make_sparse_recovery
from skstexplore._core import memory
from skstexplore.solvers.els import els, swap_gains


@pytest.mark.parametrize("use_gram", [False, True])
@pytest.mark.parametrize("case", ["regular", "duplicated_column", "zero_column"])
def test_swap_gains_equal_fresh_solves(use_gram, case):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((15, 9)) * rng.uniform(0.5, 2.0, 9)
    Y = rng.standard_normal((15, 3))
    idx = np.array([[0, 2, 5], [1, 3, 8], [1, 4, 6]])
    if case == "duplicated_column":
        X[:, 4] = X[:, 1]  # target 2 has both in its support, target 1 can add the copy
    elif case == "zero_column":
        X[:, 3] = 0.0  # in the support of target 1, a candidate for the others
    data = LeastSquaresData(X, Y, X.T @ X if use_gram else None)
    gains = swap_gains(data, idx, data.solve_on_supports(idx), np.arange(3))
    for t in range(3):
        _, before = ls_on_support(X, Y[:, t], idx[t])
        for p in range(3):
            for j in range(9):
                if j in idx[t]:
                    assert gains[t, p, j] == -np.inf
                    continue
                _, after = ls_on_support(X, Y[:, t], [j if q == p else s for q, s in enumerate(idx[t])])
                assert_allclose(gains[t, p, j], before - after, atol=1e-9)


def test_swap_gains_in_float32():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((20, 12)), rng.standard_normal((20, 2))
    idx = np.array([[0, 4, 7], [2, 3, 11]])
    exact = swap_gains(LeastSquaresData(X, Y), idx, LeastSquaresData(X, Y).solve_on_supports(idx), np.arange(2))
    data32 = LeastSquaresData(X.astype(np.float32), Y.astype(np.float32))
    gains32 = swap_gains(data32, idx, data32.solve_on_supports(idx), np.arange(2))
    assert gains32.dtype == np.float32
    finite = np.isfinite(exact)
    assert_allclose(gains32[finite], exact[finite], atol=1e-4 * np.sum(Y**2))


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("use_gram", [False, True])
def test_ends_at_a_swap_local_optimum(seed, use_gram):
    X, Y, k = tiny_problem(seed)
    result = els(X, Y, k, gram=X.T @ X if use_gram else None)
    assert result.converged.all()
    for t in range(2):
        support = np.flatnonzero(result.support[t])
        w, residual = ls_on_support(X, Y[:, t], support)
        assert_allclose(result.coef[t], w, atol=1e-10)
        assert best_swap_residual(X, Y[:, t], support) >= residual - 1e-10 * np.sum(Y[:, t] ** 2)


def test_every_swap_lowers_the_residual():
    X, y, _ = make_gaussian_deconvolution(60, 6, n_targets=3, noise=0.01, random_state=0)
    history = []
    result = els(X, y, 6, callback=lambda it, W: history.append(np.sum((y - X @ W.T) ** 2, axis=0)))
    history = np.array(history)
    for t in range(3):
        swaps = history[: result.n_iter[t] - 1, t]
        assert np.all(np.diff(swaps) < 0)


def test_first_iteration_from_omp_is_the_best_swap_of_omps_support():
    X, y, _ = make_gaussian_deconvolution(40, 4, noise=0.01, random_state=1)
    omp = orthogonal_mp(X, y, n_nonzero_coefs=4)
    first = els(X, y[:, None], 4, coef_init=omp[None], max_iter=1)
    omp_support = np.flatnonzero(omp)
    _, omp_residual = ls_on_support(X, y, omp_support)
    _, residual = ls_on_support(X, y, np.flatnonzero(first.support[0]))
    assert len(set(np.flatnonzero(first.support[0])) ^ set(omp_support)) == 2
    assert_allclose(residual, best_swap_residual(X, y, omp_support), rtol=1e-9)
    assert residual < omp_residual
    est = ELSRegressor(n_nonzero_coefs=4, init="omp", fit_intercept=False).fit(X, y)
    assert np.sum((y - X @ est.coef_) ** 2) <= residual


def test_tol_stops_before_scoring():
    X, Y, _ = make_sparse_recovery(30, 60, 6, n_targets=3, noise=0.05, random_state=2)
    result = els(X, Y, 6, tol=1e10)
    assert_array_equal(result.n_iter, [0, 0, 0])
    assert result.converged.all()


def test_scoring_in_blocks_changes_nothing(monkeypatch):
    X, Y, _ = make_gaussian_deconvolution(40, 4, n_targets=5, noise=0.01, random_state=2)
    whole = els(X, Y, 4)
    monkeypatch.setattr(memory, "BLOCK_BYTES", 8 * 2 * 4 * 40)  # two targets per block
    blocks = els(X, Y, 4)
    assert_array_equal(blocks.coef, whole.coef)
    assert_array_equal(blocks.n_iter, whole.n_iter)
    # fewer entries than one target's table: its features in blocks of 7 (the last one shorter)
    monkeypatch.setattr(memory, "BLOCK_BYTES", 8 * 4 * 7)
    for use_gram in (False, True):
        features = els(X, Y, 4, gram=X.T @ X if use_gram else None)
        assert_array_equal(features.coef != 0, whole.coef != 0)
        assert_allclose(features.coef, whole.coef, rtol=1e-10)
        assert_array_equal(features.n_iter, whole.n_iter)


def test_exact_fit_is_a_local_optimum():
    # k = rank(X): every support of k independent columns fits exactly; before the fix the
    # rounding noise of the swap scores kept ELS swapping until max_iter
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 30)), rng.standard_normal((10, 1))
    result = els(X, y, 10)
    assert result.converged.all()
    assert result.n_iter[0] <= 1


def test_tiny_informative_column_is_kept():
    # rank decisions relative to the column's own norm: a column 1e-7 times smaller is regular
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 30))
    X[:, 3] *= 1e-7
    y = X[:, [3, 7, 11]] @ np.array([2e7, 1.0, -1.0])
    result = els(X, y[:, None], 3)
    assert_array_equal(np.flatnonzero(result.support[0]), [3, 7, 11])
    assert_allclose(X @ result.coef[0], y, rtol=1e-8, atol=1e-8)
