"""Regression tests of the reliability defects of issue 8 (edges of scale, degenerate input, messages).

The property-based suite (test_properties.py) searches the same classes
broadly; these are the reported reproductions, fast and explicit.
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import OrthogonalMatchingPursuit

from skstexplore import (
    ELSRegressor, HTPRegressor, IHTRegressor, LearnedISTA, OMPRRegressor, SoftIHTRegressor, SoftOMPRegressor,
)
from skstexplore._core.base import KSparseRegressor
from skstexplore._core.discovery import all_estimators
from skstexplore._core.units import DataUnits, zero_centring_noise

ALL = [cls for _, cls in all_estimators()]
KSPARSE = [cls for cls in ALL if issubclass(cls, KSparseRegressor)]
# dense codes: every entry is a sum of SoftSort weights exp(-gap / temperature), down to the underflow threshold
SOFT = (SoftOMPRegressor, SoftIHTRegressor)
WITH_TOL = [cls for cls in ALL if "tol" in cls._get_param_names()]


def data(m=20, n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.standard_normal(m)


@pytest.mark.parametrize("cls", WITH_TOL)
def test_tol_nan_is_refused(cls):
    X, y = data()
    with pytest.raises(ValueError, match=r"^tol must be a number, a finite float >= 0; got tol=nan\.$"):
        cls(tol=np.nan).fit(X, y)


def test_precompute_array_message_is_short():
    X, y = data()
    with pytest.raises(TypeError, match=r"precompute must be a bool; got an array of shape \(30, 30\)") as info:
        IHTRegressor(precompute=X.T @ X).fit(X, y)
    assert len(str(info.value)) < 120


def test_init_class_is_named():
    X, y = data()
    with pytest.raises(TypeError, match="init must be a regressor instance, not the class OrthogonalMatchingPursuit"):
        IHTRegressor(n_nonzero_coefs=3, init=OrthogonalMatchingPursuit).fit(X, y)


def test_init_beyond_float32_is_an_overflow_not_a_nan():
    X, y = data()
    with pytest.raises(ValueError, match="init has entries of magnitude up to 1e\\+39, beyond the largest float32"):
        IHTRegressor(n_nonzero_coefs=3, init=np.full(30, 1e39)).fit(X.astype(np.float32), y.astype(np.float32))


def test_random_state_is_named():
    X, y = data()
    with pytest.raises(ValueError, match="random_state must be None, an int"):
        LearnedISTA(random_state=-1).fit(X, y)


def test_init_omp_on_a_rank_deficient_design_does_not_warn():
    X, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IHTRegressor(n_nonzero_coefs=8, init="omp").fit(np.repeat(X[:, :5], 6, axis=1), y)


@pytest.mark.parametrize("cls", KSPARSE)
def test_constant_columns_give_zero_coefficients(cls):
    _, y = data()
    X = np.tile([0.1, 0.7, 0.35738041], (10, 1))
    Y = np.c_[y[:10], y[10:]]
    single = cls(n_nonzero_coefs=2).fit(X, y[:10])
    batch = cls(n_nonzero_coefs=2).fit(X, Y)
    assert_array_equal(single.coef_, 0.0)
    assert_array_equal(batch.coef_, 0.0)
    assert_allclose(single.intercept_, y[:10].mean())


def test_centring_noise_is_zeroed_but_small_columns_are_kept():
    X = np.c_[np.full(10, 0.35738041), 1e-12 * np.arange(10.0), np.arange(10.0)]
    Xc = zero_centring_noise(X - X.mean(axis=0), X)
    assert_array_equal(Xc[:, 0], 0.0)
    assert np.all(Xc[:, 1] != 0) and np.all(Xc[:, 2][[0, -1]] != 0)


def test_units_are_powers_of_two():
    X, y = data()
    units = DataUnits(X * 1e155, y[:, None] * 1e-10)
    Xs = units.scale_X(X * 1e155)
    assert 0.5 <= np.abs(Xs).max() < 1
    assert_array_equal(units.user_X(Xs), X * 1e155)
    coef = np.array([[1.5, -2.0]])
    assert_array_equal(units.coef_to_user(units.coef_to_internal(coef)), coef)


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize("x_scale, y_scale, dtype", [
    (1e80, 1.0, np.float64), (1e-100, 1.0, np.float64), (1e155, 1.0, np.float64),
    (1.0, 1e155, np.float64), (1.0, 1e-160, np.float64), (1e19, 1.0, np.float32),
])
def test_the_fit_does_not_depend_on_the_units(cls, x_scale, y_scale, dtype):
    X, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = cls(n_nonzero_coefs=3).fit(X.astype(dtype), y.astype(dtype))
        est = cls(n_nonzero_coefs=3).fit((X * x_scale).astype(dtype), (y * y_scale).astype(dtype))
    assert_array_equal(est.support_, ref.support_)
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    # A soft code has entries down to the smallest subnormal; the user's units move the underflow
    # threshold (an entry of 1e-170 is 0 in units 1e155 times smaller) and the absolute precision of
    # subnormals, so such entries cannot be equal entrywise: they are equal relative to the code.
    atol = rtol * np.abs(ref.coef_).max() if cls in SOFT else 0.0
    assert_allclose(est.coef_ * (x_scale / y_scale), ref.coef_, rtol=rtol, atol=atol)
    if cls in SOFT:  # and every entry that carries weight is equal entrywise
        weighty = np.abs(ref.coef_) > np.sqrt(np.finfo(dtype).eps) * np.abs(ref.coef_).max()
        assert_allclose((est.coef_ * (x_scale / y_scale))[weighty], ref.coef_[weighty], rtol=rtol)


def test_a_step_too_small_to_move_is_not_convergence():
    X, y = data()
    with pytest.warns(ConvergenceWarning, match="IHTRegressor did not converge"):
        IHTRegressor(n_nonzero_coefs=3, step_size=1e-300, max_iter=50).fit(X, y)


@pytest.mark.parametrize("seed", [37, 53, 125])
def test_iht_from_omp_is_the_same_batched_or_not(seed):
    # a least-squares start: the gradient on the support is rounding noise
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((15, 25)), rng.standard_normal((15, 2))
    batch = IHTRegressor(n_nonzero_coefs=3, init="omp").fit(X, Y)
    for t in range(2):
        alone = IHTRegressor(n_nonzero_coefs=3, init="omp").fit(X, Y[:, t])
        assert_array_equal(alone.support_, batch.support_[t])
        assert_allclose(alone.coef_, batch.coef_[t], rtol=1e-9)
    gram = IHTRegressor(n_nonzero_coefs=3, init="omp", precompute=True).fit(X, Y[:, 0])
    no_gram = IHTRegressor(n_nonzero_coefs=3, init="omp", precompute=False).fit(X, Y[:, 0])
    assert_array_equal(gram.support_, no_gram.support_)


@pytest.mark.parametrize("y_scale", [1e-160, 1e155])
def test_learned_ista_at_extreme_signal_scales(y_scale):
    X, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LearnedISTA(alpha=0.05, n_layers=3, max_iter=10).fit(X, y)
        est = LearnedISTA(alpha=0.05 * y_scale, n_layers=3, max_iter=10).fit(X, y * y_scale)
    assert_allclose(est.coef_ / y_scale, ref.coef_, rtol=1e-9, atol=1e-12 * np.abs(ref.coef_).max())


def test_learned_ista_with_zero_alpha_and_subnormal_signals_returns():
    X, y = data()
    est = LearnedISTA(alpha=0.0, n_layers=3, max_iter=20).fit(X, y * 1e-160)
    assert np.all(np.isfinite(est.coef_))


def test_learned_ista_memory_is_checked_up_front():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 20000))
    message = re.escape("LearnedISTA(parametrization='lista', n_layers=10) on 20000 features and 1 signals needs")
    with pytest.raises(MemoryError, match=message):
        LearnedISTA(alpha=0.1, parametrization="lista").fit(X, rng.standard_normal(20))


def test_ols_start_of_hard_thresholding_is_unaffected_by_omp_warnings():
    X, y = data()
    for cls in (HTPRegressor, OMPRRegressor, ELSRegressor):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cls(n_nonzero_coefs=8, init="omp").fit(np.repeat(X[:, :5], 6, axis=1), y)
