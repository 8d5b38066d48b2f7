"""Centring with sample weights, dense and sparse (skstexplore._core.preprocess)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model._base import _preprocess_data

from skstexplore._core import preprocess
from skstexplore._core.preprocess import prepare_data, prepare_dense_scaled, sparse_column_sums
from skstexplore._core.units import DataUnits, column_peaks, zero_centring_noise
from skstexplore._core.validation import check_sample_weight


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(15, 8, density=0.4, format="csr", random_state=seed, dtype=np.float64)
    X = X.astype(dtype)
    Y = rng.standard_normal((15, 3)).astype(dtype)
    weight = rng.uniform(0, 2, 15).astype(dtype)
    weight[[2, 7]] = 0.0
    return X, Y, weight


def _dense_operator(prepared, n_features):
    """The centred weighted design as a dense array, through its products."""
    X = prepared.X
    return X.dot(np.eye(n_features, dtype=X.dtype)) if prepared.is_sparse else X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("use_weight", [True, False])
def test_sparse_design_equals_dense(dtype, fit_intercept, use_weight):
    X, Y, weight = _data(dtype)
    weight = weight if use_weight else None
    dense = prepare_data(X.toarray(), Y, fit_intercept, weight)
    sparse = prepare_data(X.tocsc(), Y, fit_intercept, weight)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    Xd = dense.X
    Xs = sparse.X
    assert sparse.is_sparse and not dense.is_sparse
    assert_allclose(_dense_operator(sparse, 8), Xd, rtol=rtol, atol=rtol)
    assert_allclose(sparse.Y, dense.Y, rtol=rtol, atol=rtol)
    V = np.arange(16, dtype=dtype).reshape(8, 2)
    R = np.arange(30, dtype=dtype).reshape(15, 2)
    assert_allclose(Xs @ V, Xd @ V, rtol=rtol, atol=10 * rtol)
    assert_allclose(Xs.T @ R, Xd.T @ R, rtol=rtol, atol=100 * rtol)
    assert_allclose(V.T @ Xs.T, V.T @ Xd.T, rtol=rtol, atol=10 * rtol)
    assert_allclose(R.T @ Xs, R.T @ Xd, rtol=rtol, atol=100 * rtol)
    assert_allclose(Xs.gram(), Xd.T @ Xd, rtol=rtol, atol=10 * rtol)
    assert_allclose(Xs.col_sq_norms(), np.sum(Xd**2, axis=0), rtol=rtol, atol=10 * rtol)
    assert_allclose(Xs.columns([1, 5]), Xd[:, [1, 5]], rtol=rtol, atol=rtol)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_offsets_match_sklearn(fit_intercept):
    X, Y, weight = _data(np.float64, seed=3)
    prepared = prepare_data(X.toarray(), Y, fit_intercept, weight)
    _, _, X_offset, y_offset, *_ = _preprocess_data(
        X.toarray(), Y, fit_intercept=fit_intercept, copy=True, sample_weight=weight
    )
    assert_allclose(prepared.X_offset, X_offset, rtol=1e-12)
    assert_allclose(prepared.y_offset, y_offset, rtol=1e-12)


def test_zero_weights_equal_dropped_rows_and_integer_weights_repeated_rows():
    X, Y, weight = _data(np.float64, seed=5)
    X = X.toarray()
    weight = np.round(weight * 2)
    weighted = prepare_data(X, Y, True, weight)
    rows = np.repeat(np.arange(15), weight.astype(int))
    repeated = prepare_data(X[rows], Y[rows], True, None)
    # Same normal equations: the weighted problem has the rows of the repeated one.
    scale = 15 / weight.sum()
    assert_allclose(weighted.X.T @ weighted.X, scale * repeated.X.T @ repeated.X, atol=1e-10)
    assert_allclose(weighted.X.T @ weighted.Y, scale * repeated.X.T @ repeated.Y, atol=1e-10)
    assert_allclose(weighted.X_offset, repeated.X_offset, atol=1e-12)


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (-np.ones(4), "Negative values in data passed to `?sample_weight"),
        (np.zeros(4), "(sample_weight must have a positive sum|at least one non-zero)"),
        (np.array([1.0, np.nan, 1.0, 1.0]), "Input sample_weight contains NaN"),
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(4,\)"),
    ],
)
def test_bad_sample_weight_message(sample_weight, message):
    with pytest.raises(ValueError, match=message):
        check_sample_weight(sample_weight, np.ones((4, 2)))


def test_scalar_sample_weight_is_broadcast():
    assert_allclose(check_sample_weight(2.0, np.ones((4, 2))), np.full(4, 2.0))


@pytest.mark.parametrize("layout", ["csr", "csc", "coo"])
def test_sparse_column_sums_of_any_values(layout):
    """Column sums through the stored entries (CSR/CSC arrays read directly) equal the dense ones."""
    X, _, _ = _data(np.float64, seed=3)
    X = X.asformat(layout)
    assert_allclose(sparse_column_sums(X, X.data), X.toarray().sum(axis=0), rtol=1e-14)
    assert_allclose(sparse_column_sums(X, X.data**2), (X.toarray() ** 2).sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize("exponent", [-3, 40, -1070])
def test_sparse_ldexp_is_exact(exponent):
    """Rescaling a sparse design by a power of two is exact, subnormal factors included."""
    X, Y, _ = _data(np.float64, seed=4)
    design = prepare_data(X, Y, True).X
    scaled = design.ldexp(exponent)
    assert_allclose(scaled.X.data, np.ldexp(design.X.data, exponent), rtol=0, atol=0)
    assert_allclose(scaled.offset, np.ldexp(design.offset, exponent), rtol=0, atol=0)


def _separate_steps(X, Y, fit_intercept, weight):
    """What prepare_dense_scaled fuses: centring, noise columns zeroed, rescaling by max|X|, column norms."""
    data = prepare_data(X, Y, fit_intercept, weight)
    peaks = column_peaks(X)
    if fit_intercept:
        zero_centring_noise(data.X, X, peaks)
    units = DataUnits(peaks[None, :], data.Y)
    Xs = units.scale_X(data.X, in_place=True)
    return Xs, units.scale_Y(data.Y), data.X_offset, data.y_offset, units, np.einsum("ij,ij->j", Xs, Xs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("use_weight", [True, False])
@pytest.mark.parametrize("scale", [1.0, 3e-30, 5e20])
def test_dense_scaled_preparation_is_bit_identical_to_the_separate_steps(dtype, layout, fit_intercept, use_weight,
                                                                          scale, monkeypatch):
    # blocks of a few rows (columns for F), so that the running sums cross blocks
    monkeypatch.setattr(preprocess, "_PASS_BYTES", 3 * 80 * np.dtype(dtype).itemsize)
    monkeypatch.setattr(preprocess, "_whole_pass_bytes", lambda: 0)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((37, 80)) * scale
    X[:, 3], X[:, 5], X[:, 6] = 3.7 * scale, 0.0, X[:, 6] * 1e-9  # a noise column, an empty one, a tiny one
    X = {"C": X, "F": np.asfortranarray(X), "strided": np.repeat(X, 2, axis=1)[:, ::2]}[layout].astype(dtype)
    Y = rng.standard_normal((37, 2)).astype(dtype) * scale
    weight = rng.uniform(0, 2, 37).astype(dtype) if use_weight else None
    Xs, Ys, X_offset, y_offset, units, col_sq = _separate_steps(X, Y, fit_intercept, weight)
    fused = prepare_dense_scaled(X, Y, fit_intercept, weight)
    for expected, got in [(Xs, fused.data.X), (Ys, fused.data.Y), (X_offset, fused.data.X_offset),
                          (y_offset, fused.data.y_offset), (col_sq, fused.col_sq_norms)]:
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    assert (fused.units.ex, fused.units.ey) == (units.ex, units.ey)
    assert not fit_intercept or not fused.data.X[:, 3].any()
    # without the norms (a path, whose Gram matrix has them): the same data; the intercept still needs them
    unnormed = prepare_dense_scaled(X, Y, fit_intercept, weight, column_norms=False)
    np.testing.assert_array_equal(unnormed.data.X, Xs)
    assert (unnormed.col_sq_norms is None) != fit_intercept


@pytest.mark.parametrize("shape", [(50, 1), (1, 50)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dense_scaled_preparation_of_one_column_or_one_row_is_bit_identical(shape, fit_intercept, monkeypatch):
    # numpy sums a single column pairwise, not row after row
    monkeypatch.setattr(preprocess, "_PASS_BYTES", 24)
    monkeypatch.setattr(preprocess, "_whole_pass_bytes", lambda: 0)
    X, Y = np.random.default_rng(2).standard_normal((2, *shape)) * 3
    Xs, _, X_offset, _, units, col_sq = _separate_steps(X, Y[:, :1], fit_intercept, None)
    fused = prepare_dense_scaled(X, Y[:, :1], fit_intercept)
    for expected, got in [(Xs, fused.data.X), (X_offset, fused.data.X_offset), (col_sq, fused.col_sq_norms)]:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dense_scaled_preparation_whole_or_by_blocks_gives_the_same_bits(layout, fit_intercept, monkeypatch):
    # a design within the last-level cache is worked on whole, a larger one by blocks
    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 70)) * 7.0
    X = np.asfortranarray(X) if layout == "F" else X
    Y = rng.standard_normal((90, 2))
    assert preprocess._whole_pass_bytes() >= X.nbytes  # (the system's cache size, or the default)
    whole = prepare_dense_scaled(X, Y, fit_intercept)
    monkeypatch.setattr(preprocess, "_whole_pass_bytes", lambda: 0)
    monkeypatch.setattr(preprocess, "_PASS_BYTES", 7 * 70 * 8)
    blocked = prepare_dense_scaled(X, Y, fit_intercept)
    for got, expected in [(blocked.data.X, whole.data.X), (blocked.data.X_offset, whole.data.X_offset),
                          (blocked.col_sq_norms, whole.col_sq_norms)]:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("value, message", [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity"),
                                            (-np.inf, "Input X contains infinity")])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("use_weight", [True, False])
def test_dense_scaled_preparation_refuses_non_finite_x(value, message, fit_intercept, use_weight):
    X, Y = np.ones((6, 3)), np.ones((6, 1))
    X[4, 1] = value
    with pytest.raises(ValueError, match=message):
        prepare_dense_scaled(X, Y, fit_intercept, np.ones(6) if use_weight else None)
