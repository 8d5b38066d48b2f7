"""Property-based tests of every estimator at the edges (hypothesis).

Random shapes, ``k`` from 1 to ``n_features``, float32/float64, scales of X
and y from 1e-150 to 1e150 (1e-30 to 1e30 in float32) chosen separately,
constant, zero and duplicated columns, rank-deficient designs, ``y = 0`` and
every ``init`` form. Each property holds for all seven estimators (found
automatically) unless it is meaningless for one (said where so):

* a fit returns within a time limit with finite, k-sparse coefficients of the
  right shape and dtype, or raises a ``ValueError`` that names the parameter
  or the overflow;
* rescaling X and y by powers of two (exact in floating point) rescales the
  coefficients and keeps the support;
* a batch of targets is fitted as each target alone, and with or without the
  precomputed Gram matrix alike;
* Oracle ISTA reaches the Lasso objective of scikit-learn's coordinate descent.

CI runs ``PROPERTY_EXAMPLES`` examples per property (25 by default; set the
``SKSTEXPLORE_PROPERTY_EXAMPLES`` environment variable for a deeper search),
derandomized: the same examples on every run, so a failure is reproducible
and CI never flakes.
"""

import os
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, OrthogonalMatchingPursuit

from skstexplore._core.base import KSparseRegressor
from skstexplore._core.discovery import all_estimators

# The seven solvers of the k-sparse and Lasso problems; the soft-greedy family (dense codes by design), the
# trained nets and the model-selection wrappers have their own tests.
SOLVERS = {
    "IHTRegressor", "HTPRegressor", "OMPRRegressor", "ELSRegressor", "SEARegressor", "OracleISTALasso", "LearnedISTA",
}
ESTIMATORS = {name: cls for name, cls in all_estimators() if name in SOLVERS}
KSPARSE = sorted(name for name, cls in ESTIMATORS.items() if issubclass(cls, KSparseRegressor))
WITH_PRECOMPUTE = sorted(name for name, cls in ESTIMATORS.items() if "precompute" in cls().get_params())
# LearnedISTA trains one network on all the signals: a batch is one problem, not many.
PER_TARGET = sorted(name for name in ESTIMATORS if name != "LearnedISTA")
INIT_FORMS = [None, "zeros", "omp", "ompr", "els", "iht", "htp", "array", "regressor"]

PROPERTY_EXAMPLES = int(os.environ.get("SKSTEXPLORE_PROPERTY_EXAMPLES", "25"))
PROPERTY_SETTINGS = settings(
    max_examples=PROPERTY_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIT_TIME_LIMIT_S = 60
MAX_EXPONENT = {np.float64: 150, np.float32: 30}


def test_the_seven_estimators_are_covered():
    assert set(ESTIMATORS) == SOLVERS


@contextmanager
def time_limit(seconds):
    """``TimeoutError`` if the block runs longer than ``seconds`` (a hang is a failure, not a stuck CI)."""

    def raise_timeout(signum, frame):
        raise TimeoutError(f"the fit did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def make_estimator(name, k, X, Y, **params):
    """The estimator with small budgets; the Lasso ones with ``alpha`` relative to ``alpha_max``."""
    cls = ESTIMATORS[name]
    if name == "SEARegressor":
        params.setdefault("max_iter", 100)  # SEA always runs its budget: keep CI short
    if name in KSPARSE:
        return cls(n_nonzero_coefs=k, **params)
    alpha = params.pop("alpha_fraction", 0.1) * _alpha_max(X, Y)
    if name == "LearnedISTA":
        return cls(alpha=alpha, n_layers=3, max_iter=5, **params)
    return cls(alpha=alpha, **params)


def _alpha_max(X, Y):
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    with np.errstate(over="ignore"):
        value = float(np.max(np.abs(Xc.astype(np.float64).T @ Yc.astype(np.float64))) / X.shape[0])
    return value if np.isfinite(value) else 1.0


def fit(estimator, X, y, ignore=()):
    """Fit with internal warnings as errors (they must not reach the user), convergence ones aside."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        # the documented alpha=0 warning is meant for the user (as sklearn's Lasso gives it), not internal
        warnings.filterwarnings("ignore", message=".*alpha=0 is ordinary least squares", category=UserWarning)
        for message in ignore:
            warnings.filterwarnings("ignore", message=message, category=RuntimeWarning)
        with time_limit(FIT_TIME_LIMIT_S):
            return estimator.fit(X, y)


def fit_or_clear_error(estimator, X, y, ignore=()):
    """The fitted estimator, or None after a ``ValueError`` naming a parameter or an overflow."""
    try:
        return fit(estimator, X, y, ignore)
    except ValueError as exc:
        message = str(exc)
        names = list(estimator.get_params()) + ["X", "y", "overflow", "init"]
        assert any(name in message for name in names), f"unclear error: {message}"
        return None


@st.composite
def problems(draw, *, scaled=True, n_targets=None):
    """``(X, Y, k)``: a random design with degenerate columns, targets, a sparsity level."""
    n_samples = draw(st.integers(2, 10))
    n_features = draw(st.integers(1, 10))
    n_targets = draw(st.integers(1, 3)) if n_targets is None else n_targets
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.standard_normal((n_samples, n_features))
    Y = X[:, : min(2, n_features)] @ rng.standard_normal((min(2, n_features), n_targets))
    Y += draw(st.sampled_from([0.0, 0.1, 1.0])) * rng.standard_normal(Y.shape)
    case = draw(st.sampled_from(["plain", "constant", "zero", "duplicated", "rank_deficient", "zero_y"]))
    j = draw(st.integers(0, n_features - 1))
    if case == "constant":
        X[:, j] = draw(st.sampled_from([0.1, 0.7, 0.35738041, -3.0]))
    elif case == "zero":
        X[:, j] = 0.0
    elif case == "duplicated":
        X[:, j] = X[:, 0]
    elif case == "rank_deficient":
        rank = min(2, n_features)
        X = X[:, :rank] @ rng.standard_normal((rank, n_features))
    elif case == "zero_y":
        Y[:] = 0.0
    if scaled:
        top = MAX_EXPONENT[dtype]
        X = X * 10.0 ** draw(st.integers(-top, top))
        Y = Y * 10.0 ** draw(st.integers(-top, top))
    k = draw(st.integers(1, n_features))
    return X.astype(dtype), Y.astype(dtype), k


def one_d(Y):
    return Y[:, 0] if Y.shape[1] == 1 else Y


# ---------------------------------------------------------------- finite, k-sparse or a clear error


def check_fitted(est, name, X, Y, k):
    coef = np.atleast_2d(est.coef_)
    assert coef.shape == (Y.shape[1], X.shape[1])
    assert coef.dtype == X.dtype
    assert np.all(np.isfinite(coef)), "non-finite coefficients"
    assert np.all(np.isfinite(est.intercept_)), "non-finite intercept"
    if name in KSPARSE:
        assert np.all(np.count_nonzero(coef, axis=1) <= k)
        support = np.atleast_2d(est.support_)
        assert np.all(support.sum(axis=1) == k), "support_ must have k entries"


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@PROPERTY_SETTINGS
@given(problem=problems(), alpha_fraction=st.sampled_from([0.0, 0.01, 0.3, 2.0]))
def test_fit_is_finite_and_sparse_or_a_clear_error(name, problem, alpha_fraction):
    X, Y, k = problem
    params = {} if name in KSPARSE else {"alpha_fraction": alpha_fraction}
    est = fit_or_clear_error(make_estimator(name, k, X, Y, **params), X, one_d(Y))
    if est is not None:
        check_fitted(est, name, X, Y, k)


@pytest.mark.parametrize("name", KSPARSE)
@PROPERTY_SETTINGS
@given(problem=problems(), init=st.sampled_from(INIT_FORMS), init_scale=st.integers(-30, 30))
def test_every_init_form_gives_a_finite_sparse_fit(name, problem, init, init_scale):
    X, Y, k = problem
    # the user's own regressor is fitted on the data as given: its warnings are its own to give
    ignore = [".*"] if init == "regressor" else []
    if init == "array":
        init = np.random.default_rng(0).standard_normal(X.shape[1]) * 10.0**init_scale
    elif init == "regressor":
        init = OrthogonalMatchingPursuit(n_nonzero_coefs=1)
    est = fit_or_clear_error(make_estimator(name, k, X, Y, init=init), X, one_d(Y), ignore)
    if est is not None:
        check_fitted(est, name, X, Y, k)


# ---------------------------------------------------------------- units


def exact_rescaling(problem, ex, ey):
    X, Y, k = problem
    return np.ldexp(X, ex).astype(X.dtype), np.ldexp(Y, ey).astype(Y.dtype)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@PROPERTY_SETTINGS
@given(problem=problems(scaled=False), data=st.data())
def test_rescaling_X_and_y_rescales_the_coefficients(name, problem, data):
    X, Y, k = problem
    # 2**480 ~ 1e144; in float32 2**45 ~ 4e13, so that 2**(ey - ex) times the coefficients stays
    # within the normal numbers (subnormal results lose digits)
    top = 480 if X.dtype == np.float64 else 45
    ex = data.draw(st.integers(-top, top), label="ex")
    ey = data.draw(st.integers(-top, top), label="ey")
    Xs, Ys = exact_rescaling(problem, ex, ey)
    ref = make_estimator(name, k, X, Y)
    # the Lasso's alpha is in units of X^T y: Lasso(aX, by, ab alpha) = (b / a) Lasso(X, y, alpha)
    scaled = make_estimator(name, k, X, Y)
    if name not in KSPARSE:
        scaled.set_params(alpha=float(np.ldexp(ref.alpha, ex + ey)))
    ref = fit(ref, X, one_d(Y))
    scaled = fit_or_clear_error(scaled, Xs, one_d(Ys))
    if scaled is None:
        # refused only when the rescaled coefficients cannot be represented
        assert np.max(np.abs(np.ldexp(np.asarray(ref.coef_, dtype=np.float64), ey - ex))) > np.finfo(X.dtype).max
        return
    back = np.ldexp(np.asarray(scaled.coef_, dtype=np.float64), ex - ey)
    if name in KSPARSE or name == "LearnedISTA":
        # exact: both train in unit scale, reached by powers of two
        assert_array_equal(back != 0, np.asarray(ref.coef_) != 0)
        assert_allclose(back, ref.coef_, rtol=1e-5 if X.dtype == np.float32 else 1e-10, atol=0)
    else:
        # iterative solvers stop on relative criteria: equal up to their tolerance
        size = max(float(np.max(np.abs(ref.coef_), initial=0.0)), np.finfo(X.dtype).tiny)
        assert_allclose(back, ref.coef_, rtol=0, atol=1e-3 * size)


# ---------------------------------------------------------------- batching and precompute


@pytest.mark.parametrize("name", PER_TARGET)
@PROPERTY_SETTINGS
@given(problem=problems(n_targets=3))
def test_a_batch_is_fitted_as_each_target_alone(name, problem):
    X, Y, k = problem
    batch = fit_or_clear_error(make_estimator(name, k, X, Y), X, Y)
    for t in range(Y.shape[1]):
        alone = fit_or_clear_error(make_estimator(name, k, X, Y), X, Y[:, t])
        assert (batch is None) == (alone is None)
        if batch is None:
            return
        assert_same_fit(name, alone.coef_, batch.coef_[t], X.dtype)


@pytest.mark.parametrize("name", WITH_PRECOMPUTE)
@PROPERTY_SETTINGS
@given(problem=problems())
def test_precompute_changes_nothing(name, problem):
    X, Y, k = problem
    fits = [fit_or_clear_error(make_estimator(name, k, X, Y, precompute=p), X, one_d(Y)) for p in (False, True)]
    assert (fits[0] is None) == (fits[1] is None)
    if fits[0] is not None:
        assert_same_fit(name, fits[0].coef_, fits[1].coef_, X.dtype)


def assert_same_fit(name, a, b, dtype):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    size = max(float(np.max(np.abs(a), initial=0.0)), np.finfo(dtype).tiny)
    if name in KSPARSE:
        assert_array_equal(a != 0, b != 0)
        assert_allclose(a, b, rtol=1e-3 if dtype == np.float32 else 1e-7, atol=1e-6 * size)
    else:
        assert_allclose(a, b, rtol=0, atol=1e-3 * size)


# ---------------------------------------------------------------- the Lasso against scikit-learn


def lasso_objective(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    return r @ r / (2 * len(y)) + alpha * np.abs(coef).sum()


@PROPERTY_SETTINGS
@given(problem=problems(scaled=False, n_targets=1), alpha_fraction=st.sampled_from([0.0, 0.01, 0.3]))
def test_oracle_ista_reaches_the_lasso_objective_of_coordinate_descent(problem, alpha_fraction):
    X, Y, _ = problem
    X, y = X.astype(np.float64), Y[:, 0].astype(np.float64)
    est = fit(make_estimator("OracleISTALasso", 1, X, Y, alpha_fraction=alpha_fraction, max_iter=10000, tol=1e-10),
              X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Lasso(alpha=est.alpha, max_iter=100000, tol=1e-12).fit(X, y)
    ours = lasso_objective(X, y, est.coef_, est.intercept_, est.alpha)
    theirs = lasso_objective(X, y, ref.coef_, ref.intercept_, est.alpha)
    assert ours <= theirs + 1e-6 * max(y @ y / (2 * len(y)), 1e-300)
