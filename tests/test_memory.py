"""Memory of the k-sparse solvers and the Lasso: blocks over targets, and the documented budgets.

The budgets are the formulas of the estimators' "Memory" paragraphs, as
``benchmarks/bench_memory.py`` evaluates them; here they are checked at small
sizes with the block budget shrunk, so that the number of ``(n_targets,
n_features)`` arrays a fit keeps alive is what is measured.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from benchmarks.bench_memory import budget
from skstexplore import ELSRegressor, HTPRegressor, IHTRegressor, OMPRRegressor, OracleISTALasso
from skstexplore._core import memory
from skstexplore._core.lstsq import solve_gram_systems
from skstexplore._core.memory import row_blocks

ESTIMATORS = [IHTRegressor, HTPRegressor, ELSRegressor, OMPRRegressor]


def _problem(n_samples=40, n_features=60, n_targets=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    W = np.zeros((n_features, n_targets))
    W[:4] = rng.standard_normal((4, n_targets))
    return X, X @ W + 0.1 * rng.standard_normal((n_samples, n_targets))


def _fit(cls, X, Y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(n_nonzero_coefs=4, max_iter=20, **params).fit(X, Y)


@pytest.mark.parametrize("n_rows, bytes_per_row, max_bytes", [(10, 3, 10), (7, 100, 10), (0, 5, 10), (5, 0, 10)])
def test_row_blocks_cover_the_rows_in_order_within_the_budget(n_rows, bytes_per_row, max_bytes):
    blocks = row_blocks(n_rows, bytes_per_row, max_bytes)
    covered = np.concatenate([np.arange(n_rows)[block] for block in blocks]) if blocks else np.array([], int)
    assert_array_equal(covered, np.arange(n_rows))
    for block in blocks:
        size = block.stop - block.start
        assert size == 1 or size * bytes_per_row <= max_bytes


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("precompute", [True, False])
def test_blocks_of_targets_change_nothing(cls, precompute, monkeypatch):
    X, Y = _problem()
    whole = _fit(cls, X, Y, precompute=precompute)
    monkeypatch.setattr(memory, "BLOCK_BYTES", 1)  # one target per block
    single = _fit(cls, X, Y, precompute=precompute)
    # the same decisions; the values up to the ulps of BLAS (a product of one row is a GEMV, not a GEMM)
    assert_array_equal(single.support_, whole.support_)
    assert_allclose(single.coef_, whole.coef_, rtol=1e-12)
    assert_array_equal(single.n_iter_, whole.n_iter_)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("precompute", [True, False])
def test_peak_memory_is_within_the_documented_budget(cls, precompute, monkeypatch):
    n_samples, n_features, n_targets, k = 30, 200, 600, 4
    monkeypatch.setattr(memory, "BLOCK_BYTES", 2**16)
    X, Y = _problem(n_samples, n_features, n_targets)
    allowed = budget(cls.__name__, n_samples, n_features, n_targets, k=k)
    tracemalloc.start()
    try:
        _fit(cls, X, Y, precompute=precompute)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the budget is meaningful: a handful of (n_targets, n_features) arrays, not a dozen
    assert peak <= allowed < 8 * n_targets * n_features * 8, (peak, allowed)


def test_restricted_solves_in_blocks_are_the_same_solves(monkeypatch):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 8, 5))
    A[2, :, 4] = A[2, :, 0]  # a singular block (minimum-norm path)
    A[4, :, 1] = 0  # a zero column
    G, b = np.swapaxes(A, 1, 2) @ A, rng.standard_normal((6, 5))
    whole = solve_gram_systems(G, b)
    monkeypatch.setattr(memory, "BLOCK_BYTES", 1)
    assert_array_equal(solve_gram_systems(G, b), whole)
    assert whole[4, 1] == 0


def _fit_lasso(X, Y, **params):
    return OracleISTALasso(alpha=0.05, tol=1e-8, **params).fit(X, Y)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("precompute", [True, False])
def test_lasso_blocks_of_targets_change_nothing(positive, precompute, monkeypatch):
    X, Y = _problem()
    whole = _fit_lasso(X, Y, positive=positive, precompute=precompute)
    monkeypatch.setattr(memory, "BLOCK_BYTES", 1)  # one target per block of active-set steps and solves
    single = _fit_lasso(X, Y, positive=positive, precompute=precompute)
    assert_array_equal(single.coef_ != 0, whole.coef_ != 0)
    assert_allclose(single.coef_, whole.coef_, rtol=1e-10, atol=1e-14)
    assert_array_equal(single.n_iter_, whole.n_iter_)
    assert np.all(single.dual_gap_ <= 1e-8 * np.sum((Y - Y.mean(axis=0)) ** 2, axis=0) / len(Y))


@pytest.mark.parametrize("params", [{}, {"precompute": True}, {"working_set": False}])
def test_lasso_peak_memory_is_within_the_documented_budget(params, monkeypatch):
    n_samples, n_features, n_targets = 30, 200, 600
    monkeypatch.setattr(memory, "BLOCK_BYTES", 2**19)  # 32 targets a block
    X, Y = _problem(n_samples, n_features, n_targets)
    allowed = budget("OracleISTALasso", n_samples, n_features, n_targets)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # working_set=False stops at max_iter
            OracleISTALasso(alpha=0.05, max_iter=50, **params).fit(X, Y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= allowed, (peak, allowed)
