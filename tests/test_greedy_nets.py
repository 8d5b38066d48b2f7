"""OMP-Net and IHT-Net: gradients, untrained = soft solvers, training, encode, warm start, bad input."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import orthogonal_mp

from skstexplore import IHTNet, OMPNet
from skstexplore._core.lstsq import LeastSquaresData
from skstexplore.datasets import make_structured_sparse_signals
from skstexplore.solvers.greedy_nets import loss_and_gradient, network_forward
from skstexplore.solvers.soft_iht import soft_iht
from skstexplore.solvers.soft_omp import soft_omp

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CONFIGS = {
    "omp": {"n_nonzero_coefs": 4, "temperature": 0.2},
    "iht": {"n_nonzero_coefs": 4, "temperature": 0.2, "step_size": 0.3, "n_layers": 6},
}


def small(Net, *args, **params):
    """The network with a short IHT-Net (5 layers) to keep the tests fast."""
    return Net(*args, **params, **({"n_layers": 5} if Net is IHTNet else {}))


@pytest.fixture
def signals():
    X, Y, coef, hidden = make_structured_sparse_signals(12, 24, 3, n_hidden=8, n_signals=10, design="gaussian",
                                                        noise=0.01, random_state=0)
    return X, Y, coef


@pytest.mark.parametrize("kind", ["omp", "iht"])
@pytest.mark.parametrize("supervised", [True, False])
@pytest.mark.parametrize("use_gram", [True, False])
def test_gradient_matches_central_finite_differences(signals, kind, supervised, use_gram):
    X, Y, coef = signals
    data = LeastSquaresData(X, Y, X.T @ X if use_gram else None)
    weights = 1.0 + 0.5 * np.random.default_rng(1).random(X.shape[1])
    coef_true = coef if supervised else None
    config = CONFIGS[kind]
    _, grad = loss_and_gradient(kind, data, weights, config, coef_true)
    h = 1e-6
    fd = np.array([
        (loss_and_gradient(kind, data, weights + h * e, config, coef_true)[0]
         - loss_and_gradient(kind, data, weights - h * e, config, coef_true)[0]) / (2 * h)
        for e in np.eye(len(weights))
    ])
    assert np.abs(grad).max() > 0
    assert np.abs(grad - fd).max() <= 1e-6 * np.abs(grad).max()


@pytest.mark.parametrize("kind", ["omp", "iht"])
def test_losses_are_the_documented_ones(signals, kind):
    X, Y, coef = signals
    data, weights = LeastSquaresData(X, Y), np.ones(X.shape[1])
    codes = network_forward(kind, data, weights, CONFIGS[kind])
    supervised, _ = loss_and_gradient(kind, data, weights, CONFIGS[kind], coef)
    data_fit, _ = loss_and_gradient(kind, data, weights, CONFIGS[kind])
    assert supervised == pytest.approx(np.mean(np.sum((codes - coef) ** 2, axis=1)), rel=1e-12)
    assert data_fit == pytest.approx(np.mean(np.sum((Y - X @ codes.T) ** 2, axis=0)) / 2, rel=1e-10)


def test_untrained_networks_are_the_soft_solvers(signals):
    X, Y, coef = signals
    data, ones = LeastSquaresData(X, Y), np.ones(X.shape[1])
    assert_allclose(network_forward("omp", data, ones, CONFIGS["omp"]),
                    soft_omp(X, Y, 4, temperature=0.2).coef, rtol=1e-13)
    iht_config = CONFIGS["iht"]
    expected = soft_iht(X, Y, 4, temperature=0.2, step_size=0.3, max_iter=6, tol=0.0).coef
    assert_allclose(network_forward("iht", data, ones, iht_config), expected, rtol=1e-13)
    net = OMPNet(4, temperature=0.2, max_iter=1, fit_intercept=False).fit(X, Y, coef=coef)
    loss_at_ones = np.mean(np.sum((soft_omp(X, Y, 4, temperature=0.2).coef - coef) ** 2, axis=1))
    assert net.train_loss_curve_[0] == pytest.approx(loss_at_ones, rel=1e-12)


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
@pytest.mark.parametrize("supervised", [True, False])
def test_training_decreases_the_loss_monotonically_and_stays_finite(signals, Net, supervised):
    X, Y, coef = signals
    net = small(Net, 3, temperature=0.1, max_iter=8, tol=0.0, fit_intercept=False)
    net.fit(X, Y, coef=coef if supervised else None)
    curve = net.train_loss_curve_
    assert np.all(np.isfinite(curve)) and np.all(np.diff(curve) <= 0) and curve[-1] < curve[0]
    assert net.n_iter_ == len(curve) - 1
    assert np.all(np.isfinite(net.weights_)) and net.weights_.max() == 1.0 and net.weights_.min() >= 0
    assert_array_equal(net.encode(Y), net.coef_)


def test_omp_net_learns_the_hidden_set():
    X, Y, coef, Y_test, coef_test, hidden = make_structured_sparse_signals(
        14, 64, 4, n_hidden=8, n_signals=(150, 60), noise=1e-3 / np.sqrt(14), random_state=3)
    net = OMPNet(4, temperature=0.05, max_iter=40, fit_intercept=False).fit(X, Y, coef=coef)
    top = np.argsort(-net.weights_)[:8]
    assert np.isin(top, hidden).sum() >= 6

    def median_error(codes):
        return np.median(np.linalg.norm(codes - coef_test, axis=1) / np.linalg.norm(coef_test, axis=1))

    assert median_error(net.encode(Y_test)) < 0.5 * median_error(orthogonal_mp(X, Y_test, n_nonzero_coefs=4).T)


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
def test_training_is_deterministic_whatever_random_state(signals, Net):
    X, Y, coef = signals
    fits = [small(Net, 3, temperature=0.1, max_iter=4, random_state=seed).fit(X, Y, coef=coef)
            for seed in (0, 0, 1)]
    for other in fits[1:]:
        assert_array_equal(other.weights_, fits[0].weights_)
        assert_array_equal(other.train_loss_curve_, fits[0].train_loss_curve_)


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
def test_warm_start_continues_training(signals, Net):
    X, Y, coef = signals
    net = small(Net, 3, temperature=0.1, max_iter=4, tol=0.0).fit(X, Y, coef=coef)
    first = net.train_loss_curve_[-1]
    net.set_params(warm_start=True).fit(X, Y, coef=coef)
    assert net.train_loss_curve_[0] == pytest.approx(first, rel=1e-12)
    assert net.train_loss_curve_[-1] <= first
    net.set_params(warm_start=False).fit(X, Y, coef=coef)
    assert net.train_loss_curve_[-1] == pytest.approx(first, rel=1e-12)


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_encode_applies_the_trained_network(signals, Net, fit_intercept):
    X, Y, coef = signals
    Y = Y + 1.5
    net = small(Net, 3, temperature=0.1, max_iter=3, fit_intercept=fit_intercept).fit(X, Y, coef=coef)
    assert_array_equal(net.encode(Y), net.coef_)
    Y_new = np.random.default_rng(4).standard_normal((X.shape[0], 3))
    centred = Y_new - Y_new.mean(axis=0) if fit_intercept else Y_new
    expected = network_forward(Net._kind, LeastSquaresData(net.dictionary_, centred), net.weights_, net._config_)
    assert_allclose(net.encode(Y_new), expected, rtol=1e-12, atol=1e-14)
    assert_allclose(net.encode(Y_new[:, 0]), expected[0], rtol=1e-12, atol=1e-14)
    assert_allclose(net.predict(X), X @ net.coef_.T + net.intercept_)
    codes = net.encode(Y_new)
    net.set_params(temperature=5.0, fit_intercept=not fit_intercept)
    assert_array_equal(net.encode(Y_new), codes)


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("one_d", [True, False])
def test_dtype_and_single_signal(signals, Net, dtype, one_d):
    X, Y, coef = signals
    y, c = (Y[:, 0], coef[0]) if one_d else (Y[:, :1], coef[:1])
    net = small(Net, 3, temperature=0.1, max_iter=3).fit(X.astype(dtype), y.astype(dtype), coef=c)
    assert net.coef_.dtype == dtype and net.coef_.shape == ((24,) if one_d else (1, 24))
    assert net.encode(y.astype(dtype)).dtype == dtype
    assert isinstance(net.intercept_, float) if one_d else net.intercept_.shape == (1,)


def test_iht_net_default_step_is_one_over_L(signals):
    X, Y, coef = signals
    net = IHTNet(3, n_layers=2, max_iter=1, fit_intercept=False).fit(X, Y)
    assert net.step_size_ == pytest.approx(1.0 / np.linalg.norm(X, 2) ** 2, rel=1e-10)
    assert IHTNet(3, n_layers=2, step_size=0.25, max_iter=1).fit(X, Y).step_size_ == 0.25


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
def test_degenerate_inputs_give_finite_weights(Net):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((10, 6))
    X[:, 2] = 0.0
    X[:, 4] = X[:, 5]
    for Y in (np.zeros((10, 4)), rng.standard_normal((10, 4))):
        net = small(Net, 2, temperature=1e-3, max_iter=5).fit(X, Y)
        assert np.all(np.isfinite(net.weights_)) and np.all(np.isfinite(net.coef_))


def test_convergence_warning():
    X, Y, coef, _ = make_structured_sparse_signals(10, 20, 2, n_hidden=5, n_signals=8, random_state=6)
    with pytest.warns(ConvergenceWarning, match="OMPNet did not converge within max_iter=1"):
        OMPNet(2, temperature=0.1, max_iter=1, tol=0.0).fit(X, Y, coef=coef)


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"temperature": 0.0}, ValueError, "temperature must be a finite float > 0; got temperature=0.0"),
        ({"temperature": np.nan}, ValueError, "temperature must be a (number, a )?finite float( > 0)?; got temperature=nan"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1; got max_iter=0"),
        ({"tol": -1.0}, ValueError, "tol must be >= 0.0; got tol=-1.0"),
        ({"n_nonzero_coefs": 9}, ValueError, "n_nonzero_coefs=9 cannot be larger than n_features=8"),
        ({"warm_start": "yes"}, TypeError, "warm_start must be a bool; got 'yes'"),
        ({"verbose": -1}, ValueError, "verbose must be >= 0; got verbose=-1"),
        ({"random_state": "seed"}, ValueError, "'seed' cannot be used to seed"),
    ],
)
def test_bad_parameters_raise_clear_errors(Net, params, error, match):
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((6, 8)), rng.standard_normal((6, 3))
    with pytest.raises(error, match=match):
        Net(**params).fit(X, Y)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_layers": 0}, ValueError, "n_layers must be >= 1; got n_layers=0"),
        ({"step_size": -0.5}, ValueError, "step_size must be 'auto' or a finite float > 0; got step_size=-0.5"),
    ],
)
def test_iht_net_bad_parameters(params, error, match):
    rng = np.random.default_rng(8)
    with pytest.raises(error, match=match):
        IHTNet(**params).fit(rng.standard_normal((6, 8)), rng.standard_normal((6, 3)))


@pytest.mark.parametrize("Net", [OMPNet, IHTNet])
def test_bad_codes_and_encode_input_raise_clear_errors(Net):
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((6, 8)), rng.standard_normal((6, 3))
    name = Net.__name__
    with pytest.raises(ValueError, match=r"coef has shape \(2, 8\) but y has 3 signal\(s\) and X 8 features; "
                                         r"expected \(3, 8\)"):
        small(Net, 2).fit(X, Y, coef=np.zeros((2, 8)))
    with pytest.raises(ValueError, match=r"coef has shape \(3, 7\)"):
        small(Net, 2).fit(X, Y, coef=np.zeros((3, 7)))
    with pytest.raises(ValueError, match=r"coef has shape \(1, 8\) .* expected \(8,\)"):
        small(Net, 2).fit(X, Y[:, 0], coef=np.zeros((1, 8)))
    with pytest.raises(ValueError, match="Input coef contains NaN"):
        small(Net, 2).fit(X, Y, coef=np.full((3, 8), np.nan))
    net = small(Net, 2, max_iter=2)
    with pytest.raises(NotFittedError, match=f"This {name} instance is not fitted yet"):
        net.encode(Y)
    net.fit(X, Y)
    with pytest.raises(ValueError, match=f"Y has 5 rows but {name} was fitted with X of 6 samples"):
        net.encode(Y[:5])
    with pytest.raises(ValueError, match="Input Y contains infinity"):
        net.encode(np.full((6, 2), np.inf))
    with pytest.raises(ValueError, match="Found array with dim 3"):
        net.encode(Y[:, :, None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.encode(Y)


def test_subnormal_gradients_end_training_cleanly():
    """A loss almost flat in the weights (gradient ~1e-315) must stop training, not overflow into NaN steps."""
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(10, 3)), np.repeat([0.0, 1.0], 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = OMPNet().fit(X, y)
    assert net.n_iter_ <= 2 and np.all(np.isfinite(net.weights_))
