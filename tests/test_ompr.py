"""OMP with Replacement: OMP growth, halting condition, global optima on tiny problems, recovery."""

import numpy as np
import pytest
from ksparse_reference import ls_on_support, tiny_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import orthogonal_mp

from skstexplore import OMPRRegressor
from skstexplore._core.base import center_data
from skstexplore._core.lstsq import LeastSquaresData
from skstexplore.datasets import make_sparse_recovery
from skstexplore.solvers.ompr import ompr


@pytest.mark.parametrize("k", [1, 3, 7])
@pytest.mark.parametrize("use_gram", [False, True])
def test_growth_phase_is_omp(k, use_gram):
    X, Y, _ = make_sparse_recovery(30, 50, 5, n_targets=4, noise=0.1, random_state=k)
    grown = ompr(X, Y, k, max_iter=k, gram=X.T @ X if use_gram else None)
    assert_allclose(grown.coef, orthogonal_mp(X, Y, n_nonzero_coefs=k).T, atol=1e-10)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("use_gram", [False, True])
def test_halts_when_no_swap_changes_the_support(seed, use_gram):
    X, Y, k = tiny_problem(seed)
    result = ompr(X, Y, k, gram=X.T @ X if use_gram else None)
    assert result.converged.all()
    for t in range(2):
        support = result.support[t]
        w, _ = ls_on_support(X, Y[:, t], np.flatnonzero(support))
        assert_allclose(result.coef[t], w, atol=1e-10)
        score_out = result.extras["step_size"][t] * np.abs(X.T @ (Y[:, t] - X @ w))[~support]
        assert support.sum() == k and score_out.max() <= np.abs(w[support]).min() * (1 + 1e-12)


def test_swaps_repair_a_wrong_start():
    X, y, coef = make_sparse_recovery(60, 100, 5, random_state=4)
    wrong = np.zeros(100)
    wrong[np.flatnonzero(coef == 0)[:5]] = 1.0
    est = OMPRRegressor(n_nonzero_coefs=5, init=wrong, fit_intercept=False).fit(X, y)
    assert_allclose(est.coef_, coef, atol=1e-10)
    assert est.n_iter_ > 5  # at least one swap per wrong index, plus the final check


def test_init_with_fewer_nonzeros_grows_from_them():
    X, y, coef = make_sparse_recovery(60, 100, 5, random_state=5)
    start = np.where(np.arange(100) == np.flatnonzero(coef)[0], 1.0, 0.0)
    result = ompr(X, y[:, None], 5, coef_init=start[None], max_iter=4)
    assert result.support[0, np.flatnonzero(coef)[0]] and result.support.sum() == 5


def test_cycling_with_a_user_step_stops_and_warns():
    X, Y = make_regression(random_state=42, n_targets=5, n_samples=11, n_features=10)
    X, Y, _, _ = center_data(X, Y, True)
    step = 1 / np.max(np.sum(X**2, axis=0))
    assert ompr(X, Y[:, 1:2], 1).converged[0]  # default step: the cycle is caught, 1/L converges
    assert not ompr(X, Y[:, 1:2], 1, step_size=step).converged[0]
    with pytest.warns(ConvergenceWarning, match="OMPRRegressor did not converge"):
        OMPRRegressor(n_nonzero_coefs=1, step_size=step, fit_intercept=False).fit(X, Y[:, 1])


@pytest.mark.parametrize("use_gram", [False, True])
def test_solve_on_masks_handles_mixed_support_sizes(use_gram):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((12, 9)), rng.standard_normal((12, 4))
    mask = np.zeros((4, 9), dtype=bool)
    mask[0, [1, 5]] = mask[1, [0, 2, 7]] = mask[3, [4]] = True  # target 2: empty support
    W, C = LeastSquaresData(X, Y, X.T @ X if use_gram else None).solve_on_masks(mask)
    for t in range(4):
        w, _ = ls_on_support(X, Y[:, t], np.flatnonzero(mask[t]))
        assert_allclose(W[t], w, atol=1e-12)
        assert_allclose(C[t], X.T @ (Y[:, t] - X @ w), atol=1e-12)


def _refit_from_scratch_growth(X, y, k):
    """OMPR's growth as it was written first: re-solve the least squares on every support (O(k^4))."""
    support = []
    for _ in range(k):
        w, _ = ls_on_support(X, y, support)
        scores = np.abs(X.T @ (y - X @ w))
        scores[support] = -1
        support = sorted(support + [int(np.argmax(scores))])
    return ls_on_support(X, y, support)[0]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("use_gram", [False, True])
def test_incremental_growth_equals_refitting_every_support(seed, use_gram):
    X, Y, _ = make_sparse_recovery(40, 80, 6, n_targets=3, noise=0.05, random_state=seed)
    k = 12
    grown = ompr(X, Y, k, max_iter=0, gram=X.T @ X if use_gram else None)
    for t in range(3):
        assert_allclose(grown.coef[t], _refit_from_scratch_growth(X, Y[:, t], k), atol=1e-10)
    assert (grown.support.sum(axis=1) == k).all()
    assert (grown.n_iter == k).all()


@pytest.mark.parametrize("use_gram", [False, True])
def test_growth_beyond_the_rank_completes_the_support_without_changing_the_fit(use_gram):
    # k = 40 > rank = 15: once the residual is explained no feature changes the fit; sklearn's OMP
    # stops there ("ended prematurely"), OMPR completes support_ with the lowest-index features left
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((15, 60)), rng.standard_normal((15, 2))
    X[:, 7] = X[:, 3]  # a duplicated column too
    result = ompr(X, Y, 40, max_iter=0, gram=X.T @ X if use_gram else None)
    with pytest.warns(RuntimeWarning, match="ended prematurely"):
        omp = orthogonal_mp(X, Y, n_nonzero_coefs=40).T
    for t in range(2):
        fitted = np.flatnonzero(result.coef[t])
        assert len(fitted) == 15  # the rank; sklearn adds atoms until its Cholesky update fails
        assert_allclose(X @ result.coef[t], X @ omp[t], atol=1e-10)
        assert_allclose(X @ result.coef[t], Y[:, t], atol=1e-10)  # full row rank: exact fit
        completed = np.flatnonzero(result.support[t] & (result.coef[t] == 0))
        assert_array_equal(completed, np.setdiff1d(np.arange(60), fitted)[:25])
    assert (result.n_iter == 40).all()  # one iteration per feature, as in OMP
    swapped = ompr(X, Y, 40, max_iter=3, gram=X.T @ X if use_gram else None)
    assert swapped.converged.all() and (swapped.n_iter == 41).all()  # no swap can improve an exact fit
    assert_array_equal(swapped.support, result.support)


def test_growth_of_a_wide_problem_at_the_default_k_is_fast_and_complete():
    # 50 x 2000 with k = 200 > n_samples re-solved every support from scratch before (O(k^4))
    X, y, _ = make_sparse_recovery(50, 2000, 5, noise=0.01, random_state=0)
    est = OMPRRegressor(max_iter=5).fit(X, y)
    assert est.support_.sum() == 200 and np.count_nonzero(est.coef_) <= 49
    assert_allclose(est.predict(X), y, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_warm_start_supports_enter_at_once_or_one_by_one_with_the_same_fit(dtype):
    # rows 0-2: independent starting columns (one batched QR, sizes 4 and 6); row 3: a duplicated column
    # in its start (entered feature by feature, the duplicate leaves no coefficient); k = 6 grows rows of 4
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((30, 50)).astype(dtype), rng.standard_normal((30, 4)).astype(dtype)
    X[:, 9] = X[:, 2]
    starts = [[1, 5, 20, 33], [0, 2, 7, 8, 40, 49], [3, 4, 11, 12], [2, 9, 17, 30, 31, 44]]
    W0 = np.zeros((4, 50), dtype=dtype)
    for t, start in enumerate(starts):
        W0[t, start] = 1.0
    result = ompr(X, Y, 6, coef_init=W0, max_iter=0)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for t, start in enumerate(starts):
        support = np.flatnonzero(result.support[t])
        assert set(start) <= set(support) and len(support) == 6
        fitted = [j for j in support if j != 9] if t == 3 else support
        assert_allclose(result.coef[t, fitted], ls_on_support(X, Y[:, t], fitted)[0][fitted], rtol=rtol, atol=rtol)
    assert result.coef[3, 9] == 0 and result.coef[3, 2] != 0
    assert_array_equal(result.n_iter, [2, 0, 2, 0])
