"""Hard Thresholding Pursuit: fixed points, global optima on tiny problems, recovery, cycling."""

import numpy as np
import pytest
from ksparse_reference import ls_on_support, tiny_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning

from skstexplore import HTPRegressor
from skstexplore._core.base import center_data
from skstexplore._core.lstsq import LeastSquaresData
from skstexplore._core.thresholding import largest_k_mask
from skstexplore.datasets import make_sparse_recovery
from skstexplore.solvers.htp import htp


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("use_gram", [False, True])
def test_ends_at_a_fixed_point_of_its_update(seed, use_gram):
    X, Y, k = tiny_problem(seed)
    result = htp(X, Y, k, gram=X.T @ X if use_gram else None)
    assert result.converged.all()
    for t in range(2):
        support = np.flatnonzero(result.support[t])
        assert support.size == k
        w, _ = ls_on_support(X, Y[:, t], support)
        assert_allclose(result.coef[t], w, atol=1e-10)
        z = w + result.extras["step_size"][t] * X.T @ (Y[:, t] - X @ w)
        assert_array_equal(largest_k_mask(z[None], k)[0], result.support[t])


def test_starting_at_the_solution_stops_at_once():
    X, y, coef = make_sparse_recovery(40, 80, 5, random_state=3)
    # iteration 1 re-fits on the support of the start, iteration 2 sees it repeat
    est = HTPRegressor(n_nonzero_coefs=5, init=coef, fit_intercept=False).fit(X, y)
    assert est.n_iter_ == 2
    assert_allclose(est.coef_, coef, atol=1e-12)
    est.set_params(init=None, warm_start=True).fit(X, y)
    assert est.n_iter_ == 2


def cycling_problem():
    X, Y = make_regression(random_state=42, n_targets=5, n_samples=11, n_features=10)
    Xc, Yc, _, _ = center_data(X, Y, True)
    return Xc, Yc[:, 1:2]


def test_cycling_supports_switch_to_the_safe_step():
    X, Y = cycling_problem()
    default_step = 1 / np.max(np.sum(X**2, axis=0))
    supports = []
    result = htp(X, Y, 1, callback=lambda it, W: supports.append(np.flatnonzero(W[0]).tolist()))
    # the default step goes 5 -> 1 -> 5: the revisit switches to 1/L, which stays at 1
    assert supports[:4] == [[5], [1], [1], [1]]
    assert result.converged[0] and result.n_iter[0] == 4
    assert_allclose(result.extras["step_size"], 1 / np.linalg.norm(X, 2) ** 2)
    assert default_step > result.extras["step_size"][0]


def test_cycling_with_a_user_step_stops_and_warns():
    X, Y = cycling_problem()
    step = 1 / np.max(np.sum(X**2, axis=0))
    result = htp(X, Y, 1, step_size=step)
    assert not result.converged[0] and result.n_iter[0] == 3
    with pytest.warns(ConvergenceWarning, match="HTPRegressor did not converge"):
        HTPRegressor(n_nonzero_coefs=1, step_size=step, fit_intercept=False).fit(X, Y[:, 0])


def test_tol_stops_as_soon_as_the_residual_is_small():
    X, Y, _ = make_sparse_recovery(30, 60, 6, n_targets=3, noise=0.05, random_state=2)
    full = htp(X, Y, 6)
    tol = float(np.max(np.sum((Y - X @ full.coef.T) ** 2, axis=0))) * 4
    early = htp(X, Y, 6, tol=tol)
    residual = np.sum((Y - X @ early.coef.T) ** 2, axis=0)
    assert np.all(residual <= tol) and early.converged.all()
    assert np.all(early.n_iter <= full.n_iter)


def test_callback_sees_every_iteration():
    X, Y, _ = make_sparse_recovery(30, 60, 6, n_targets=2, random_state=2)
    calls = []
    result = htp(X, Y, 6, callback=lambda it, W: calls.append(it))
    assert calls == list(range(1, result.n_iter.max() + 1))


@pytest.mark.parametrize("use_gram", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_correlation_and_residual_match_dense(use_gram, dtype):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((12, 9)).astype(dtype), rng.standard_normal((12, 3)).astype(dtype)
    data = LeastSquaresData(X, Y, X.T @ X if use_gram else None)
    idx = np.array([[0, 4, 8], [1, 2, 3]])
    targets = np.array([2, 0])
    values = data.solve_on_supports(idx, targets)
    W = data.scatter(idx, values)
    C = data.correlation_on_supports(idx, values, targets)
    assert C.dtype == dtype
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert_allclose(C, (X.T @ (Y[:, targets] - X @ W.T)).T, atol=rtol * 10)
    residual = np.sum((Y[:, targets] - X @ W.T) ** 2, axis=0)
    assert_allclose(data.residual_sq_on_supports(idx, values, targets), residual, rtol=rtol * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocks_of_targets_give_the_results_of_one_block(monkeypatch, dtype):
    from skstexplore._core import memory
    from skstexplore.solvers.htp import _ARRAY_SHARE_OF_BLOCK as share

    X, Y, _ = make_sparse_recovery(20, 40, 3, n_targets=23, noise=0.05, random_state=7)
    X, Y = X.astype(dtype), Y.astype(dtype)
    tol = 0.05
    Xc, cycling = cycling_problem()
    Yc = np.repeat(cycling, 7, axis=1)
    whole = htp(X, Y, 3, tol=tol), htp(Xc, Yc, 1)
    # blocks of 5 targets for X, of 2 for the cycling problem (which needs the safe step 1/L)
    monkeypatch.setattr(memory, "BLOCK_BYTES", share * 5 * X.shape[1] * X.dtype.itemsize)
    blocked = htp(X, Y, 3, tol=tol)
    monkeypatch.setattr(memory, "BLOCK_BYTES", share * 2 * Xc.shape[1] * Xc.dtype.itemsize)
    blocks = blocked, htp(Xc, Yc, 1)
    # the same decisions; the values up to the ulps of BLAS (a block of one target multiplies by GEMV, not GEMM,
    # which round differently on some CPUs, e.g. OpenBLAS's AVX-512 kernels)
    for one, many in zip(whole, blocks):
        for field in ("n_iter", "converged", "support"):
            assert_array_equal(getattr(many, field), getattr(one, field))
        assert_allclose(many.coef, one.coef, rtol=50 * np.finfo(one.coef.dtype).eps)
        assert_array_equal(many.extras["step_size"], one.extras["step_size"])
    assert_allclose(blocks[1].extras["step_size"], 1 / np.linalg.norm(Xc, 2) ** 2)
