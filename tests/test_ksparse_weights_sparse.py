"""sample_weight and scipy.sparse X for every k-sparse estimator (found automatically: new ones join)."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from skstexplore._core.base import KSparseRegressor
from skstexplore._core.discovery import all_estimators

# the hard k-sparse solvers (the soft-greedy ones, with dense codes and no init, have their own tests)
KSPARSE = [cls for _, cls in all_estimators() if issubclass(cls, KSparseRegressor) and "init" in cls().get_params()]


def fit_quiet(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def weighted_problem(seed=0, n_samples=30, n_features=40, density=0.3, n_targets=2, dtype=np.float64):
    """A sparse design with an offset column, targets from a 3-sparse model, integer weights with zeros."""
    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=density, format="csc", random_state=seed, dtype=np.float64)
    coef = np.zeros((n_features, n_targets))
    coef[rng.choice(n_features, 3, replace=False)] = rng.uniform(1, 2, (3, n_targets))
    Y = X @ coef + 0.05 * rng.standard_normal((n_samples, n_targets)) + 3.0
    weight = rng.integers(0, 4, n_samples).astype(float)
    return X.astype(dtype), Y.astype(dtype), weight


def tolerance(est):
    """1e-10, except for IHT, which only approaches its fixed points.

    IHT halts at a relative step of sqrt(eps) (1.5e-8): its result is
    determined to that precision, not to rounding (measured: perturbing a
    dense X by 1e-16 relative moves it by 3e-9), so it is compared at ten
    times its halting precision.
    """
    if type(est).__name__ == "IHTRegressor":
        return 10 * np.sqrt(np.finfo(np.float64).eps) * max(np.abs(est.coef_).max(), 1.0)
    return 1e-10


def assert_same_fit(a, b):
    atol = tolerance(b)
    assert_array_equal(a.support_, b.support_)
    assert_allclose(a.coef_, b.coef_, rtol=0, atol=atol)
    assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=atol)


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("precompute", [True, False])
def test_integer_weights_equal_repeated_rows(cls, fit_intercept, n_targets, precompute):
    X, Y, weight = weighted_problem(seed=1, n_targets=n_targets)
    X, y = X.toarray(), Y[:, 0] if n_targets == 1 else Y
    params = dict(n_nonzero_coefs=3, fit_intercept=fit_intercept, precompute=precompute)
    weighted = fit_quiet(cls(**params), X, y, sample_weight=weight)
    rows = np.repeat(np.arange(len(weight)), weight.astype(int))
    repeated = fit_quiet(cls(**params), X[rows], y[rows])
    assert_same_fit(weighted, repeated)


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_zero_weights_equal_dropped_rows(cls, fit_intercept):
    X, Y, weight = weighted_problem(seed=2)
    X = X.toarray()
    weight = np.where(weight > 0, np.random.default_rng(0).uniform(0.5, 2.0, len(weight)), 0.0)
    params = dict(n_nonzero_coefs=3, fit_intercept=fit_intercept)
    weighted = fit_quiet(cls(**params), X, Y, sample_weight=weight)
    keep = weight > 0
    dropped = fit_quiet(cls(**params), X[keep], Y[keep], sample_weight=weight[keep])
    assert_same_fit(weighted, dropped)
    # and unit weights are no weights
    assert_same_fit(fit_quiet(cls(**params), X, Y, sample_weight=np.ones(len(weight))), fit_quiet(cls(**params), X, Y))


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize(
    "fmt, fit_intercept, precompute, init, use_weight",
    [
        ("csc", True, False, None, True),
        ("csr", True, True, "omp", True),
        ("csc", False, False, "omp", True),
        ("csr", False, True, None, False),
        ("csc", True, True, None, False),
        ("csr", True, False, "omp", False),
    ],
)
def test_sparse_X_gives_the_dense_fit(cls, fmt, fit_intercept, precompute, init, use_weight):
    X, Y, weight = weighted_problem(seed=3)
    fit_params = {"sample_weight": weight} if use_weight else {}
    params = dict(n_nonzero_coefs=3, fit_intercept=fit_intercept, precompute=precompute, init=init)
    dense = fit_quiet(cls(**params), X.toarray(), Y, **fit_params)
    sparse = fit_quiet(cls(**params), X.asformat(fmt), Y, **fit_params)
    assert_same_fit(sparse, dense)
    assert_allclose(sparse.predict(X.asformat(fmt)), dense.predict(X.toarray()), rtol=0, atol=10 * tolerance(dense))


@pytest.mark.parametrize("cls", KSPARSE)
def test_sparse_float32_stays_float32(cls):
    X, Y, _ = weighted_problem(seed=4, dtype=np.float32)
    sparse = fit_quiet(cls(n_nonzero_coefs=3), X.tocsr(), Y)
    dense = fit_quiet(cls(n_nonzero_coefs=3), X.toarray(), Y)
    assert sparse.coef_.dtype == np.float32 and sparse.predict(X).dtype == np.float32
    assert_array_equal(sparse.support_, dense.support_)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-4, atol=1e-4)


def _refusing_full_size(densify, shape):
    def guarded(matrix, *args, **kwargs):
        assert sorted(matrix.shape) != sorted(shape), "the sparse design was densified"
        return densify(matrix, *args, **kwargs)

    return guarded


@pytest.mark.parametrize("cls", KSPARSE)
def test_sparse_X_is_never_densified(cls, monkeypatch):
    X, Y, _ = weighted_problem(seed=5)

    # without Gram matrix only products and column blocks of X may be formed densely
    for matrix_cls in (sp.csc_matrix, sp.csr_matrix):
        for method in ("toarray", "todense"):
            monkeypatch.setattr(matrix_cls, method, _refusing_full_size(getattr(matrix_cls, method), X.shape))
    est = fit_quiet(cls(n_nonzero_coefs=3, precompute=False, init="omp"), X, Y)
    assert est.coef_.shape == (2, 40)


@pytest.mark.parametrize("cls", KSPARSE)
def test_sparse_X_with_an_estimator_init_is_refused_by_name(cls):
    X, Y, _ = weighted_problem(seed=6)
    with pytest.raises(TypeError, match=re.escape("init=Lasso(...) (an estimator) cannot be used with a scipy.sparse X")):
        cls(n_nonzero_coefs=3, init=Lasso()).fit(X, Y)


@pytest.mark.parametrize("cls", KSPARSE)
@pytest.mark.parametrize(
    "sample_weight, error, message",
    [
        (-np.ones(30), ValueError, "Negative values in data passed to `?sample_weight"),
        (np.zeros(30), ValueError, "(sample_weight must have a positive sum|at least one non-zero)"),
        (np.ones(29), ValueError, r"sample_weight.shape == \(29,\), expected \(30,\)"),
        (np.full(30, np.nan), ValueError, "Input sample_weight contains NaN"),
    ],
)
def test_bad_sample_weight_is_named_in_the_error(cls, sample_weight, error, message):
    X, Y, _ = weighted_problem()
    with pytest.raises(error, match=message):
        cls(n_nonzero_coefs=3).fit(X, Y, sample_weight=sample_weight)
