"""Property-based tests of lasso_path and OracleISTALassoCV at the edges (hypothesis), on the random degenerate
problems of ``test_properties`` (constant, zero and duplicated columns, rank-deficient designs, ``y = 0``,
float32/float64, scales of X and y from 1e-150 to 1e150 chosen separately):

* a cross-validation computes each fold from the blocks' scatters (one Gram matrix of the data) exactly as
  from the fold's own data: the same held-out errors, alpha and coefficients;
* rescaling X and y by powers of two rescales the alphas, the path's coefficients and the held-out errors,
  and keeps the chosen alpha's position on the grid;
* the same for the sparsity path of every k-sparse estimator and :class:`~skstexplore.SparsityCV`'s choice
  of k (exactly: they work in unit scale).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import KFold

from skstexplore import (
    ELSRegressor, HTPRegressor, IHTRegressor, OMPRRegressor, OracleISTALassoCV, SEARegressor, SparsityCV, lasso_path,
    sparsity_path,
)
from skstexplore.estimators import _cv_folds

from test_properties import PROPERTY_SETTINGS, exact_rescaling, fit_or_clear_error, one_d, problems


def cross_validation(n_samples):
    return KFold(min(3, n_samples))


def tolerance(dtype):
    return 1e-4 if dtype == np.float32 else 1e-9


def gap_tol(dtype):
    """A duality-gap tolerance the dtype can reach."""
    return 1e-6 if dtype == np.float32 else 1e-10


@PROPERTY_SETTINGS
@given(problem=problems())
def test_folds_from_the_blocks_equal_folds_from_their_data(problem):
    X, Y, _ = problem
    y = one_d(Y[:, :1])
    if X.shape[0] < 2:
        return
    cv = cross_validation(X.shape[0])
    blocks = fit_or_clear_error(OracleISTALassoCV(cv=cv, n_alphas=8, tol=gap_tol(X.dtype)), X, y)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_cv_folds, "_SCATTER_BYTES", 0)  # every fold from its own centred copy
        direct = fit_or_clear_error(OracleISTALassoCV(cv=cv, n_alphas=8, tol=gap_tol(X.dtype)), X, y)
    assert (blocks is None) == (direct is None)
    if blocks is None:
        return
    assert_array_equal(blocks.alphas_, direct.alphas_)
    scale = max(float(np.max(direct.mse_path_, initial=0.0)), float(np.finfo(X.dtype).tiny))
    assert_allclose(blocks.mse_path_, direct.mse_path_, rtol=tolerance(X.dtype), atol=tolerance(X.dtype) * scale)


@PROPERTY_SETTINGS
@given(problem=problems(scaled=False), data=st.data())
def test_rescaling_rescales_the_path_and_the_cross_validation(problem, data):
    X, Y, _ = problem
    y = one_d(Y[:, :1])
    top = 480 if X.dtype == np.float64 else 45
    ex, ey = data.draw(st.integers(-top, top), label="ex"), data.draw(st.integers(-top, top), label="ey")
    Xs, Ys = exact_rescaling(problem, ex, ey)
    ys = one_d(Ys[:, :1])
    alphas, coefs, _ = lasso_path(X, y, n_alphas=6, tol=gap_tol(X.dtype))
    alphas_s, coefs_s, _ = lasso_path(Xs, ys, n_alphas=6, tol=gap_tol(X.dtype))
    if not (np.any(y) and np.any(X)):  # y or X zero: nothing to rescale in it, any grid, zero coefficients
        assert not np.any(coefs) and not np.any(coefs_s)
        return
    assert_allclose(alphas_s, np.ldexp(alphas, ex + ey), rtol=1e-6 if X.dtype == np.float32 else 1e-12)
    back = np.ldexp(np.asarray(coefs_s, dtype=np.float64), ex - ey)
    size = max(float(np.max(np.abs(coefs), initial=0.0)), float(np.finfo(X.dtype).tiny))
    assert_allclose(back, coefs, rtol=0, atol=1e-3 * size)
    if X.shape[0] < 2:
        return
    cv = cross_validation(X.shape[0])
    ref = OracleISTALassoCV(cv=cv, n_alphas=6, tol=gap_tol(X.dtype)).fit(X, y)
    scaled = OracleISTALassoCV(cv=cv, n_alphas=6, tol=gap_tol(X.dtype)).fit(Xs, ys)
    errors = np.ldexp(np.asarray(scaled.mse_path_, dtype=np.float64), -2 * ey)
    size = max(float(np.max(ref.mse_path_, initial=0.0)), float(np.finfo(X.dtype).tiny))
    assert_allclose(errors, ref.mse_path_, rtol=0, atol=1e-6 * size)


# ---------------------------------------------------------------- sparsity paths and SparsityCV

PATH_ESTIMATORS = {
    "SEA": lambda: SEARegressor(init="omp", max_iter=60),
    "HTP": HTPRegressor,
    "OMPR": OMPRRegressor,
    "ELS": ELSRegressor,
    "IHT": IHTRegressor,
}


@pytest.mark.parametrize("name", sorted(PATH_ESTIMATORS))
@PROPERTY_SETTINGS
@given(problem=problems(scaled=False, n_targets=2), data=st.data())
def test_rescaling_rescales_the_sparsity_path_and_keeps_the_chosen_k(name, problem, data):
    X, Y, _ = problem
    top = 480 if X.dtype == np.float64 else 45
    ex, ey = data.draw(st.integers(-top, top), label="ex"), data.draw(st.integers(-top, top), label="ey")
    Xs, Ys = exact_rescaling(problem, ex, ey)
    grid = np.arange(1, X.shape[1] + 1)
    coefs = sparsity_path(PATH_ESTIMATORS[name](), X, Y, grid)
    coefs_s = sparsity_path(PATH_ESTIMATORS[name](), Xs, Ys, grid)
    # exact: the k-sparse estimators work in unit scale, reached by powers of two
    back = np.ldexp(np.asarray(coefs_s, dtype=np.float64), ex - ey)
    assert_array_equal(back != 0, coefs != 0)
    assert_allclose(back, coefs, rtol=1e-5 if X.dtype == np.float32 else 1e-10, atol=0)
    if X.shape[0] < 2:
        return
    cv = cross_validation(X.shape[0])
    ref = SparsityCV(PATH_ESTIMATORS[name](), cv=cv).fit(X, Y)
    scaled = SparsityCV(PATH_ESTIMATORS[name](), cv=cv).fit(Xs, Ys)
    assert_array_equal(scaled.n_nonzero_coefs_, ref.n_nonzero_coefs_)
    errors = np.ldexp(np.asarray(scaled.mse_path_, dtype=np.float64), -2 * ey)
    size = max(float(np.max(ref.mse_path_, initial=0.0)), float(np.finfo(X.dtype).tiny))
    assert_allclose(errors, ref.mse_path_, rtol=1e-4 if X.dtype == np.float32 else 1e-9, atol=1e-12 * size)
