import numpy as np
import pytest
from numpy.testing import assert_allclose

from skstexplore.datasets import make_gaussian_deconvolution, make_lasso_signals, make_sparse_recovery
from skstexplore.metrics import support_distance, support_recovery


@pytest.mark.parametrize("n_targets", [1, 3])
@pytest.mark.parametrize("distribution", ["gaussian", "uniform", "rademacher"])
def test_make_sparse_recovery(n_targets, distribution):
    X, y, coef = make_sparse_recovery(
        30, 60, 4, n_targets=n_targets, coef_distribution=distribution, random_state=1
    )
    assert X.shape == (30, 60)
    assert_allclose(np.linalg.norm(X, axis=0), 1.0)
    rows = np.atleast_2d(coef)
    assert np.all((rows != 0).sum(axis=1) == 4)
    assert_allclose(y, X @ coef.T)
    if distribution == "uniform":
        nz = np.abs(rows[rows != 0])
        assert nz.min() >= 1 and nz.max() <= 2
    X2, y2, coef2 = make_sparse_recovery(30, 60, 4, n_targets=n_targets, coef_distribution=distribution, random_state=1)
    assert_allclose(y, y2)


def test_make_sparse_recovery_noise_and_errors():
    X, y, coef = make_sparse_recovery(200, 20, 2, noise=0.5, random_state=0)
    assert 0.3 < np.std(y - X @ coef) < 0.7
    with pytest.raises(ValueError, match="n_nonzero_coefs must be <= 20; got n_nonzero_coefs=21"):
        make_sparse_recovery(10, 20, 21)
    with pytest.raises(ValueError, match="coef_distribution must be one of"):
        make_sparse_recovery(10, 20, 2, coef_distribution="cauchy")
    with pytest.raises(ValueError, match="noise must be >= 0.0; got noise=-1"):
        make_sparse_recovery(10, 20, 2, noise=-1.0)


def test_deconvolution_coherence():
    X, y, coef = make_gaussian_deconvolution(100, 20, random_state=0)
    G = X.T @ X
    mu = np.max(np.abs(G - np.diag(np.diag(G))))
    assert abs(mu - 0.97) < 0.005
    assert np.all(np.abs(coef[coef != 0]) >= 1)
    with pytest.raises(ValueError, match="width must be > 0.0; got width=0.0"):
        make_gaussian_deconvolution(100, 5, width=0.0)


def test_metrics():
    true = np.array([[1.0, 0, 2, 0], [0, 1.0, 0, 0]])
    pred = np.array([[1.0, 0, 0, 5], [0, 3.0, 0, 0]])
    assert support_distance(true, pred) == pytest.approx(0.25)
    assert support_recovery(true, pred) == pytest.approx(0.5)
    assert support_distance(true[0], true[0]) == 0.0
    assert support_distance(np.zeros(3), np.ones(3)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        support_distance(np.ones(3), np.ones(4))


def test_make_lasso_signals():
    X, Y_train, Y_test = make_lasso_signals(20, 50, (7, 3), random_state=0)
    assert X.shape == (20, 50) and Y_train.shape == (20, 7) and Y_test.shape == (20, 3)
    assert_allclose(np.linalg.norm(X, axis=0), 1.0)
    assert_allclose(np.abs(X.T @ Y_test).max(axis=0) / 20, 1.0)
    X1, Y1 = make_lasso_signals(20, 50, 7, random_state=0)
    assert_allclose(X1, X)
    assert_allclose(Y1, Y_train)
    with pytest.raises(ValueError, match="n_signals must be >= 1; got n_signals=0"):
        make_lasso_signals(20, 50, (7, 0))
