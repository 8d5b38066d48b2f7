"""LearnedISTA: gradients, ISTA equivalence, training, estimator behaviour, bad input."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skstexplore import LearnedISTA
from skstexplore._core.lasso import alpha_max, lasso_objective
from skstexplore._core.optimize import minimize_lbfgs
from skstexplore.solvers.ista import fista, ista, lipschitz_constant
from skstexplore.solvers.lista import (
    PARAMETRIZATIONS,
    TRAINABLE,
    _pack,
    _unpack,
    alista_weights,
    initial_parameters,
    learned_ista,
    loss_and_gradient,
    network_forward,
    train_network,
)

# Short trainings on purpose; the warning itself is tested once.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def make_signals(rng, n_samples, n_features, n_signals, X=None):
    """Gaussian design with unit-norm columns and signals rescaled to alpha_max = 1."""
    if X is None:
        X = rng.standard_normal((n_samples, n_features))
        X /= np.linalg.norm(X, axis=0)
    Y = rng.standard_normal((n_samples, n_signals))
    return X, Y / alpha_max(X, Y)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X, Y = make_signals(rng, 8, 15, 12)
    return X, Y, 0.2


def flat_gradient(X, Y, params, alpha, parametrization):
    loss, grads = loss_and_gradient(X, Y, params, alpha, parametrization)
    return loss, np.concatenate([grads[key].ravel() for key in TRAINABLE[parametrization]])


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_gradient_matches_central_finite_differences(problem, parametrization):
    X, Y, alpha = problem
    rng = np.random.default_rng(1)
    keys, n_layers = TRAINABLE[parametrization], 4
    ones = dict.fromkeys(keys, 1.0)
    params = initial_parameters(X, alpha, n_layers, parametrization)
    # a generic point away from the ISTA initialisation (no |u| at its threshold)
    vector = _pack(params, keys, n_layers, ones)
    vector = vector * (1 + 0.2 * rng.standard_normal(vector.size))
    params = _unpack(vector, params, keys, n_layers, ones)
    _, grad = flat_gradient(X, Y, params, alpha, parametrization)

    def loss_at(v):
        return loss_and_gradient(X, Y, _unpack(v, params, keys, n_layers, ones), alpha, parametrization)[0]

    h = 1e-6
    fd = np.array([(loss_at(vector + h * e) - loss_at(vector - h * e)) / (2 * h) for e in np.eye(vector.size)])
    assert np.abs(grad).max() > 0
    assert np.abs(grad - fd).max() <= 1e-6 * np.abs(grad).max()


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_gradient_of_partial_depth_matches_finite_differences(problem, parametrization):
    """Layer-wise training differentiates the first k layers only."""
    X, Y, alpha = problem
    keys, depth = TRAINABLE[parametrization], 2
    params = initial_parameters(X, alpha, 5, parametrization)
    ones = dict.fromkeys(keys, 1.0)
    vector = _pack(params, keys, depth, ones) * 1.1
    params = _unpack(vector, params, keys, depth, ones)
    loss, grads = loss_and_gradient(X, Y, params, alpha, parametrization, depth)
    Z = network_forward(X, Y, params, alpha, parametrization, depth)
    assert loss == pytest.approx(lasso_objective(X, Y, Z, alpha).mean(), rel=1e-14)
    grad = np.concatenate([grads[key].ravel() for key in keys])
    assert grad.size == vector.size
    h = 1e-6
    fd = np.array([
        (loss_and_gradient(X, Y, _unpack(vector + h * e, params, keys, depth, ones), alpha, parametrization, depth)[0]
         - loss_and_gradient(X, Y, _unpack(vector - h * e, params, keys, depth, ones), alpha, parametrization,
                             depth)[0]) / (2 * h)
        for e in np.eye(vector.size)
    ])
    assert np.abs(grad - fd).max() <= 1e-6 * np.abs(grad).max()


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
@pytest.mark.parametrize("n_layers", [1, 7])
@pytest.mark.parametrize("shape", [(8, 15), (20, 6)])
def test_untrained_network_is_ista(parametrization, n_layers, shape):
    rng = np.random.default_rng(2)
    X, Y = make_signals(rng, *shape, 5)
    alpha = 0.15
    params = initial_parameters(X, alpha, n_layers, parametrization)
    if parametrization == "alista":
        params["weights"] = X.copy()  # ALISTA with W = X is ISTA
    Z = network_forward(X, Y, params, alpha, parametrization)
    expected = ista(X, Y, alpha, max_iter=n_layers, tol=0.0).coef
    assert np.abs(Z).max() > 0
    assert np.abs(Z - expected).max() <= 1e-12 * np.abs(expected).max()


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_negative_thresholds_act_as_zero(problem, parametrization):
    """ST is a proximal operator only for theta >= 0: thresholds are clipped, their gradient is then zero."""
    X, Y, alpha = problem
    params = initial_parameters(X, alpha, 3, parametrization)
    key = "steps" if parametrization == "step" else "thresholds"
    negative, zero = dict(params), dict(params)
    negative[key], zero[key] = params[key].copy(), params[key].copy()
    negative[key][1] = -np.abs(params[key][1]) if parametrization != "step" else -params[key][1]
    if parametrization == "step":
        # layer 2 with a negative step: z - a G(z), no thresholding at all
        n = X.shape[0]
        Z1 = network_forward(X, Y, negative, alpha, parametrization, 1)
        a = negative["steps"][1]
        expected = Z1 - a * (Z1 @ X.T - Y.T) @ X / n
        assert_allclose(network_forward(X, Y, negative, alpha, parametrization, 2), expected, rtol=1e-13, atol=1e-15)
    else:
        zero[key][1] = 0.0
        assert_array_equal(network_forward(X, Y, negative, alpha, parametrization),
                           network_forward(X, Y, zero, alpha, parametrization))
        _, grads = loss_and_gradient(X, Y, negative, alpha, parametrization)
        assert_array_equal(grads["thresholds"][1], 0.0)
    # and the gradient there still matches finite differences
    _, grads = loss_and_gradient(X, Y, negative, alpha, parametrization)
    h, index = 1e-6, (1, 0) if negative[key].ndim == 2 else 1
    plus, minus = {**negative, key: negative[key].copy()}, {**negative, key: negative[key].copy()}
    plus[key][index] += h
    minus[key][index] -= h
    fd = (loss_and_gradient(X, Y, plus, alpha, parametrization)[0]
          - loss_and_gradient(X, Y, minus, alpha, parametrization)[0]) / (2 * h)
    assert abs(fd - grads[key][index]) <= 1e-6 * max(abs(fd), 1e-8)


def test_alista_weights_are_the_analytic_minimiser():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 30))
    W = alista_weights(X)
    assert_allclose(np.diag(W.T @ X), (X**2).sum(axis=0), rtol=1e-10)
    # Lagrange conditions of min ||X^T w_j||^2 s.t. x_j^T w_j = ||x_j||^2: X X^T w_j parallel to x_j
    XXtW = X @ X.T @ W
    ratio = np.einsum("ij,ij->j", XXtW, X) / (X**2).sum(axis=0)
    assert_allclose(XXtW, X * ratio, atol=1e-10 * np.abs(XXtW).max())
    # and lower interference than X itself (which satisfies the same constraint)
    assert np.linalg.norm(W.T @ X) < np.linalg.norm(X.T @ X)


def test_alista_weights_rank_deficient_and_zero_columns():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 12))
    X = np.vstack([X, X[:2]])  # duplicated rows: X X^T is singular
    X[:, 3] = 0.0
    W = alista_weights(X)
    assert np.all(np.isfinite(W))
    assert_array_equal(W[:, 3], 0.0)
    mask = np.arange(12) != 3
    assert_allclose(np.diag(W.T @ X)[mask], (X**2).sum(axis=0)[mask], rtol=1e-8)


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_training_decreases_loss_monotonically(problem, parametrization):
    X, Y, alpha = problem
    result = learned_ista(X, Y, alpha, n_layers=4, parametrization=parametrization, max_iter=15, tol=0.0)
    curve = result.extras["loss_curve"]
    params = result.extras["params"]
    Z = network_forward(X, Y, params, alpha, parametrization)
    assert_allclose(result.coef, Z)
    assert np.all(np.isfinite(curve))
    if parametrization in ("coupled", "lista"):
        # layer-wise: within each stage the loss never increases; the last stage ends the curve
        assert curve.size == result.n_iter[0] + 1
    else:
        assert np.all(np.diff(curve) <= 0)
    assert curve[-1] == pytest.approx(lasso_objective(X, Y, Z, alpha).mean(), rel=1e-12)
    assert curve[-1] < curve[0]
    for value in params.values():
        assert np.all(np.isfinite(value))


def test_layerwise_stages_never_increase_their_loss(problem):
    X, Y, alpha = problem
    T, max_iter = 3, 5
    params = initial_parameters(X, alpha, T, "coupled")
    _, curve, n_iter, _ = train_network(X, Y, params, alpha, "coupled", max_iter=max_iter, tol=0.0, layerwise=True)
    assert n_iter == T * max_iter and curve.size == n_iter + 1
    stages = [curve[:max_iter + 1]] + [curve[1 + k * max_iter:1 + (k + 1) * max_iter] for k in range(1, T)]
    for stage in stages:
        assert np.all(np.diff(stage) <= 0)


def test_lbfgs_backs_off_from_non_finite_losses():
    """A loss that is NaN outside a ball: the line search must stay inside and still converge."""
    target = np.array([0.6, -0.3])
    calls = {"nan": 0}

    def fun(x):
        if np.linalg.norm(x) > 1.0:
            calls["nan"] += 1
            return np.nan, np.full_like(x, np.nan)
        return float(((x - target) ** 2).sum()), 2 * (x - target)

    x, losses, converged = minimize_lbfgs(fun, np.zeros(2), max_iter=50, tol=1e-14, first_step=10.0)
    assert calls["nan"] > 0
    assert converged
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(losses))
    assert np.all(np.diff(losses) <= 0)
    assert_allclose(x, target, atol=1e-6)


def test_lbfgs_refuses_a_non_finite_start():
    with pytest.raises(FloatingPointError, match="training loss at the starting parameters is not finite"):
        minimize_lbfgs(lambda x: (np.inf, x), np.zeros(2), max_iter=5, tol=0.0)


def test_lbfgs_minimises_a_quadratic_to_precision():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((12, 12))
    H, b = A @ A.T + np.eye(12), rng.standard_normal(12)
    x, _, converged = minimize_lbfgs(lambda x: (0.5 * x @ H @ x - b @ x, H @ x - b), np.zeros(12),
                                     max_iter=500, tol=0.0)
    assert converged
    assert_allclose(x, np.linalg.solve(H, b), rtol=1e-6)


def test_trained_slista_beats_ista_on_held_out_signals():
    rng = np.random.default_rng(6)
    X, Y_train = make_signals(rng, 16, 40, 300)
    _, Y_test = make_signals(rng, 16, 40, 100, X=X)
    alpha, T = 0.1, 5
    model = LearnedISTA(alpha=alpha, n_layers=T, fit_intercept=False, max_iter=100).fit(X, Y_train)
    F_star = lasso_objective(X, Y_test, fista(X, Y_test, alpha, max_iter=20000, tol=1e-12).coef, alpha)
    gap_network = (lasso_objective(X, Y_test, model.encode(Y_test), alpha) - F_star).mean()
    gap_ista = (lasso_objective(X, Y_test, ista(X, Y_test, alpha, max_iter=T).coef, alpha) - F_star).mean()
    assert gap_network < 0.5 * gap_ista
    # the learned steps are larger than ISTA's 1/L on average (they track 1/L_S)
    assert model.steps_.mean() > 1.0 / model.lipschitz_


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_encode_matches_training_forward_pass(parametrization, fit_intercept):
    rng = np.random.default_rng(7)
    X, Y = make_signals(rng, 10, 20, 30)
    Y = Y + 3.0
    _, Y_new = make_signals(rng, 10, 20, 4, X=X)
    model = LearnedISTA(alpha=0.1, n_layers=3, parametrization=parametrization, max_iter=5,
                        fit_intercept=fit_intercept)
    model.fit(X, Y)
    assert_array_equal(model.encode(Y), model.coef_)
    Y_centred = Y_new - Y_new.mean(axis=0) if fit_intercept else Y_new
    expected = network_forward(model.dictionary_, Y_centred, model._params, 0.1, parametrization)
    assert_allclose(model.encode(Y_new), expected, rtol=1e-12, atol=1e-14)
    assert_allclose(model.encode(Y_new[:, 0]), expected[0], rtol=1e-12, atol=1e-14)
    # coef_ is the network's output on the (centred) training signals
    Xc = X - X.mean(axis=0) if fit_intercept else X
    Yc = Y - Y.mean(axis=0) if fit_intercept else Y
    assert_allclose(model.dictionary_, Xc)
    assert_allclose(model.coef_, network_forward(Xc, Yc, model._params, 0.1, parametrization), rtol=1e-12)
    assert_allclose(model.predict(X), X @ model.coef_.T + model.intercept_)
    # changing the parameters after fit does not change what the fitted network does
    codes = model.encode(Y_new)
    model.set_params(fit_intercept=not fit_intercept, alpha=5.0, parametrization="lista")
    assert_array_equal(model.encode(Y_new), codes)


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_warm_start_does_not_increase_training_loss(parametrization):
    rng = np.random.default_rng(8)
    X, Y = make_signals(rng, 10, 20, 40)
    model = LearnedISTA(alpha=0.1, n_layers=4, parametrization=parametrization, max_iter=10, tol=0.0)
    model.fit(X, Y)
    first = model.train_loss_curve_[-1]
    model.set_params(warm_start=True)
    model.fit(X, Y)
    assert model.train_loss_curve_[0] == pytest.approx(first, rel=1e-12)
    assert model.train_loss_curve_[-1] <= first
    assert np.all(np.diff(model.train_loss_curve_) <= 0)  # continued jointly, not layer by layer
    # without warm start, the refit starts again from ISTA
    model.set_params(warm_start=False)
    model.fit(X, Y)
    assert model.train_loss_curve_[-1] == pytest.approx(first, rel=1e-12)


def test_warm_start_with_another_depth_starts_from_ista():
    rng = np.random.default_rng(9)
    X, Y = make_signals(rng, 10, 20, 20)
    model = LearnedISTA(alpha=0.1, n_layers=3, max_iter=5, warm_start=True).fit(X, Y)
    model.set_params(n_layers=5).fit(X, Y)
    Yc = Y - Y.mean(axis=0)
    ista_loss = lasso_objective(model.dictionary_, Yc, ista(model.dictionary_, Yc, 0.1, max_iter=5).coef, 0.1).mean()
    assert model.steps_.shape == (5,)
    assert model.train_loss_curve_[0] == pytest.approx(ista_loss, rel=1e-12)


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_fitted_attributes_have_the_documented_shapes(parametrization):
    rng = np.random.default_rng(10)
    X, Y = make_signals(rng, 9, 14, 6)
    T = 3
    model = LearnedISTA(alpha=0.1, n_layers=T, parametrization=parametrization, max_iter=3).fit(X, Y)
    L = lipschitz_constant(model.dictionary_)
    assert model.lipschitz_ == pytest.approx(L)
    assert model.coef_.shape == (6, 14)
    assert model.intercept_.shape == (6,)
    assert isinstance(model.n_iter_, int)
    expected = {
        "step": {"steps_": (T,), "thresholds_": (T,)},
        "alista": {"steps_": (T,), "thresholds_": (T,), "weights_": (9, 14)},
        "coupled": {"thresholds_": (T, 14), "weights_": (T, 9, 14)},
        "lista": {"thresholds_": (T, 14), "weights_": (T, 14, 14), "input_weights_": (T, 14, 9)},
    }[parametrization]
    for name in ("steps_", "thresholds_", "weights_", "input_weights_"):
        if name in expected:
            assert getattr(model, name).shape == expected[name]
        else:
            assert not hasattr(model, name)
    if parametrization == "step":
        assert_allclose(model.thresholds_, 0.1 * model.steps_)
    if parametrization == "alista":
        assert_allclose(model.weights_, alista_weights(model.dictionary_))


def test_refit_with_another_parametrization_drops_stale_attributes():
    rng = np.random.default_rng(11)
    X, Y = make_signals(rng, 9, 14, 6)
    model = LearnedISTA(alpha=0.1, n_layers=2, parametrization="lista", max_iter=2).fit(X, Y)
    model.set_params(parametrization="step", warm_start=True).fit(X, Y)
    assert not hasattr(model, "weights_") and not hasattr(model, "input_weights_")
    assert model.steps_.shape == (2,)


def test_training_is_deterministic_whatever_random_state():
    rng = np.random.default_rng(12)
    X, Y = make_signals(rng, 10, 20, 30)
    fits = [LearnedISTA(alpha=0.1, n_layers=4, parametrization="coupled", max_iter=5, random_state=seed).fit(X, Y)
            for seed in (0, 0, 1)]
    for other in fits[1:]:
        assert_array_equal(other.coef_, fits[0].coef_)
        assert_array_equal(other.weights_, fits[0].weights_)
        assert_array_equal(other.train_loss_curve_, fits[0].train_loss_curve_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("one_d", [True, False])
def test_dtype_and_single_signal(dtype, one_d):
    rng = np.random.default_rng(13)
    X, Y = make_signals(rng, 12, 20, 1)
    y = Y[:, 0] if one_d else Y
    model = LearnedISTA(alpha=0.1, n_layers=4).fit(X.astype(dtype), y.astype(dtype))
    assert model.coef_.dtype == dtype
    assert model.coef_.shape == ((20,) if one_d else (1, 20))
    codes = model.encode(y.astype(dtype))
    assert codes.dtype == dtype
    assert_allclose(codes, model.coef_, rtol=1e-5 if dtype == np.float32 else 1e-12)
    # training runs in float64: a float32 fit is the float64 fit of the same (rounded) numbers
    model = LearnedISTA(alpha=0.1, n_layers=4, fit_intercept=False).fit(X.astype(dtype), y.astype(dtype))
    X64, Y64 = X.astype(dtype).astype(np.float64), Y.astype(dtype).astype(np.float64)
    reference = LearnedISTA(alpha=0.1, n_layers=4, fit_intercept=False).fit(X64, Y64)
    assert_allclose(np.atleast_2d(model.coef_), reference.coef_, rtol=1e-6, atol=1e-6 * np.abs(reference.coef_).max())
    assert isinstance(model.intercept_, float) if one_d else model.intercept_.shape == (1,)


def test_converged_training_does_not_warn_and_max_iter_warns():
    rng = np.random.default_rng(14)
    X, Y = make_signals(rng, 10, 20, 10)
    with pytest.warns(ConvergenceWarning, match="LearnedISTA did not converge within max_iter=1"):
        LearnedISTA(alpha=0.1, n_layers=3, max_iter=1, tol=0.0).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LearnedISTA(alpha=0.1, n_layers=3, max_iter=1000, tol=1e-4).fit(X, Y)


def test_verbose_reports_progress(capsys):
    rng = np.random.default_rng(15)
    X, Y = make_signals(rng, 10, 20, 5)
    LearnedISTA(alpha=0.1, n_layers=2, parametrization="coupled", max_iter=2, verbose=1).fit(X, Y)
    out = capsys.readouterr().out
    assert "layers 1/2 iteration 1: loss" in out and "layers 2/2 iteration 2: loss" in out
    LearnedISTA(alpha=0.1, n_layers=2, max_iter=1, verbose=False).fit(X, Y)
    assert capsys.readouterr().out == ""


def test_degenerate_inputs_give_finite_codes():
    rng = np.random.default_rng(16)
    X = rng.standard_normal((10, 6))
    X[:, 2] = 0.0
    X[:, 4] = X[:, 5]
    for y in (np.zeros(10), rng.standard_normal(10)):
        for parametrization in PARAMETRIZATIONS:
            model = LearnedISTA(alpha=0.01, n_layers=3, parametrization=parametrization, max_iter=5).fit(X, y)
            assert np.all(np.isfinite(model.coef_))
            assert model.coef_[2] == 0.0


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_layers": 0}, ValueError, "n_layers must be >= 1; got n_layers=0"),
        ({"n_layers": 2.5}, TypeError, "n_layers must be an int; got 2.5"),
        ({"parametrization": "deep"}, ValueError, r"parametrization must be one of \['alista', 'coupled', 'lista', "
                                                  r"'step'\]; got 'deep'"),
        ({"alpha": -1.0}, ValueError, "alpha must be >= 0.0; got alpha=-1.0"),
        ({"alpha": np.inf}, ValueError, "alpha must be finite; got alpha=inf"),
        ({"alpha": "big"}, TypeError, "alpha must be a float; got 'big'"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1; got max_iter=0"),
        ({"tol": -1e-3}, ValueError, "tol must be >= 0.0; got tol=-0.001"),
        ({"warm_start": "yes"}, TypeError, "warm_start must be a bool; got 'yes'"),
        ({"fit_intercept": 1}, TypeError, "fit_intercept must be a bool; got 1"),
        ({"verbose": -1}, ValueError, "verbose must be >= 0; got verbose=-1"),
        ({"random_state": "seed"}, ValueError, "'seed' cannot be used to seed"),
    ],
)
def test_bad_parameters_raise_clear_errors(params, error, match):
    rng = np.random.default_rng(17)
    X, Y = make_signals(rng, 6, 8, 3)
    with pytest.raises(error, match=match):
        LearnedISTA(**params).fit(X, Y)


def test_encode_bad_input_raises_clear_errors():
    rng = np.random.default_rng(18)
    X, Y = make_signals(rng, 6, 8, 3)
    model = LearnedISTA(alpha=0.1, n_layers=2)
    with pytest.raises(NotFittedError, match="LearnedISTA instance is not fitted yet"):
        model.encode(Y)
    model.fit(X, Y)
    with pytest.raises(ValueError, match=r"Y has 5 rows but LearnedISTA was fitted with X of 6 samples"):
        model.encode(Y[:5])
    bad = Y.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input Y contains NaN"):
        model.encode(bad)
    with pytest.raises(ValueError, match="Found array with dim 3"):
        model.encode(Y[:, :, None])
    with pytest.raises(ValueError, match="n_layers must be <= 2; got n_layers=3"):
        model.encode(Y, n_layers=3)
    with pytest.raises(ValueError, match="n_layers must be >= 1; got n_layers=0"):
        model.encode(Y, n_layers=0)


def test_encode_first_layers_is_the_shallower_network():
    rng = np.random.default_rng(20)
    X, Y = make_signals(rng, 8, 12, 10)
    model = LearnedISTA(alpha=0.1, n_layers=4, parametrization="alista", max_iter=5).fit(X, Y)
    Yc = Y - Y.mean(axis=0)
    for t in (1, 3):
        expected = network_forward(model.dictionary_, Yc, model._params, 0.1, "alista", t)
        assert_allclose(model.encode(Y, n_layers=t), expected, rtol=1e-12, atol=1e-14)
    assert_array_equal(model.encode(Y, n_layers=4), model.coef_)


def test_fit_bad_data_raises_clear_errors():
    rng = np.random.default_rng(19)
    X, Y = make_signals(rng, 6, 8, 3)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LearnedISTA().fit(X, Y[:5])
    bad = X.copy()
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        LearnedISTA().fit(bad, Y)
