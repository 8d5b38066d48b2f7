"""(Normalised) Iterative Hard Thresholding: monotone residual, fixed points, global optima, recovery."""

import numpy as np
import pytest
from ksparse_reference import ls_on_support, planted_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skstexplore import IHTRegressor
from skstexplore._core.thresholding import largest_k_mask
from skstexplore.datasets import make_gaussian_deconvolution, make_sparse_recovery
from skstexplore.solvers import iht as iht_module
from skstexplore.solvers.iht import iht


def residuals_along_the_run(X, Y, **params):
    history = []
    result = iht(X, Y, params.pop("k"), callback=lambda it, W: history.append(np.sum((Y - X @ W.T) ** 2, 0)), **params)
    return result, np.array(history)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("fixed_step", [False, True])
def test_every_step_lowers_the_residual(seed, fixed_step):
    # normalised IHT's shrinking rule, and the step 1/L, guarantee a monotone residual
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 40)) * rng.uniform(0.5, 2.0, 40)
    Y = rng.standard_normal((20, 3))
    step = 1 / np.linalg.norm(X, 2) ** 2 if fixed_step else None
    result, history = residuals_along_the_run(X, Y, k=4, step_size=step, max_iter=300)
    assert np.all(np.diff(history, axis=0) <= 1e-10 * history[:-1])


def test_the_shrinking_rule_is_needed(monkeypatch):
    # on a coherent dictionary the unshrunk normalised step raises the residual
    X, y, _ = make_gaussian_deconvolution(60, 6, random_state=0)
    _, history = residuals_along_the_run(X, y[:, None], k=6, max_iter=200)
    assert np.all(np.diff(history[:, 0]) <= 1e-12 * history[:-1, 0])
    monkeypatch.setattr(iht_module, "_step_too_long", lambda data, W, *args: np.zeros(len(W), dtype=bool))
    _, unshrunk = residuals_along_the_run(X, y[:, None], k=6, max_iter=200)
    assert np.any(np.diff(unshrunk[:, 0]) > 1e-3 * unshrunk[:-1, 0])


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("use_gram", [False, True])
def test_converges_to_a_fixed_point(seed, use_gram):
    rng = np.random.default_rng(seed)
    X, Y, _ = planted_problem(rng, 30, 12, 3, n_targets=2, noise=0.1)
    result = iht(X, Y, 3, gram=X.T @ X if use_gram else None)
    assert result.converged.all()
    for t in range(2):
        support = np.flatnonzero(result.support[t])
        w, _ = ls_on_support(X, Y[:, t], support)
        assert_allclose(result.coef[t], w, rtol=1e-6, atol=1e-7)
        z = w + X.T @ (Y[:, t] - X @ w) / np.max(np.sum(X**2, 0))
        assert_array_equal(largest_k_mask(z[None], 3)[0], result.support[t])


def test_fixed_step_is_classical_iht():
    X, y, coef = make_sparse_recovery(60, 100, 4, random_state=0)
    step = 1 / np.linalg.norm(X, 2) ** 2
    est = IHTRegressor(n_nonzero_coefs=4, step_size=step, fit_intercept=False, max_iter=1, init=coef * 0.5)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    expected = coef * 0.5 + step * X.T @ (y - X @ (coef * 0.5))
    assert_allclose(est.coef_, np.where(largest_k_mask(expected[None], 4)[0], expected, 0))


def test_tol_stops_early():
    X, Y, _ = make_sparse_recovery(30, 60, 6, n_targets=3, noise=0.05, random_state=2)
    full = iht(X, Y, 6)
    tol = float(np.max(np.sum((Y - X @ full.coef.T) ** 2, axis=0))) * 4
    early = iht(X, Y, 6, tol=tol)
    assert np.all(np.sum((Y - X @ early.coef.T) ** 2, axis=0) <= tol) and early.converged.all()
    assert np.all(early.n_iter < full.n_iter)
