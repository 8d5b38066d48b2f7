"""SoftSort: definition, limits, stability, vector-Jacobian products, soft top-k mask, bad input."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skstexplore import softsort
from skstexplore._core.softsort import (
    soft_topk_mask,
    soft_topk_mask_vjp,
    softsort_rows,
    softsort_vjp,
    top_scores,
)


def central_differences(func, S, G, h=1e-6):
    """d <G, func(S)> / dS by central differences."""
    grad = np.zeros_like(S)
    for index in np.ndindex(S.shape):
        plus, minus = S.copy(), S.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (np.sum(G * func(plus)) - np.sum(G * func(minus))) / (2 * h)
    return grad


def test_known_values_from_the_definition():
    P = softsort([2.0, 5.0, 4.0], temperature=1.0)
    # the (0.035, 0.705, 0.260) to its three digits (the third entry is 0.25950)
    assert_allclose(P[0], [0.035, 0.705, 0.260], atol=1e-3)
    assert_allclose(P[0], [0.0351190, 0.7053845, 0.2594965], atol=1e-7)
    # row i = softmax(-|sort_desc(s)_i - s_j|), written out
    s, a = np.array([2.0, 5.0, 4.0]), np.array([5.0, 4.0, 2.0])
    expected = np.exp(-np.abs(a[:, None] - s[None, :]))
    assert_allclose(P, expected / expected.sum(axis=1, keepdims=True), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("temperature", [1e-2, 0.3, 1.0, 10.0])
def test_rows_sum_to_one_and_batches_match(dtype, temperature):
    rng = np.random.default_rng(0)
    S = rng.standard_normal((4, 9)).astype(dtype)
    P = softsort(S, temperature=temperature, n_rows=5)
    assert P.shape == (4, 5, 9) and P.dtype == dtype
    assert_allclose(P.sum(axis=2), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-14)
    for b in range(4):
        assert_allclose(P[b], softsort(S[b], temperature=temperature)[:5], rtol=1e-6)


@pytest.mark.parametrize("temperature", [1e-6, 1e-12, 1e-300])
def test_tiny_temperature_is_the_hard_permutation(temperature):
    rng = np.random.default_rng(1)
    s = rng.standard_normal(12) * 1e3
    with np.errstate(invalid="raise", divide="raise"):
        P = softsort(s, temperature=temperature)
    assert_array_equal(P, np.eye(12)[np.argsort(-s)])


def test_ties_share_rows_deterministically():
    s = np.array([1.0, 3.0, 3.0, 0.5])
    P = softsort(s, temperature=1e-9)
    assert_array_equal(P[0], [0, 0.5, 0.5, 0])
    assert_array_equal(P[1], P[0])
    values, indices = top_scores(s[None], 3)
    assert_array_equal(indices, [[1, 2, 0]])  # ties to the lowest index
    assert_array_equal(values, [[3.0, 3.0, 1.0]])


def test_partial_rows_are_the_first_rows():
    rng = np.random.default_rng(2)
    s = rng.standard_normal(15)
    assert_allclose(softsort(s, 0.2, n_rows=4), softsort(s, 0.2)[:4], rtol=1e-15)


@pytest.mark.parametrize("n_rows", [1, 3, 7])
@pytest.mark.parametrize("temperature", [0.05, 0.5, 3.0])
def test_vjp_matches_central_differences(n_rows, temperature):
    rng = np.random.default_rng(3)
    S = rng.standard_normal((3, 7))
    G = rng.standard_normal((3, n_rows, 7))
    grad = softsort_vjp(S, G, temperature)
    fd = central_differences(lambda V: softsort_rows(V, temperature, n_rows)[0], S, G)
    assert np.abs(grad).max() > 0
    assert np.abs(grad - fd).max() <= 1e-6 * np.abs(grad).max()
    assert_allclose(softsort_vjp(S, G, temperature, P=softsort_rows(S, temperature, n_rows)[0]), grad, rtol=1e-14)


@pytest.mark.parametrize("temperature", [1e-9, 1e-3, 0.1, 2.0])
def test_soft_topk_mask_is_the_sum_of_the_first_rows(temperature):
    rng = np.random.default_rng(4)
    S, k = rng.random((5, 20)), 6
    assert_allclose(soft_topk_mask(S, temperature, k), softsort_rows(S, temperature, k)[0].sum(axis=1),
                    rtol=1e-13, atol=1e-15)
    g = rng.standard_normal((5, 20))
    expected = softsort_vjp(S, np.broadcast_to(g[:, None, :], (5, k, 20)), temperature)
    assert_allclose(soft_topk_mask_vjp(S, g, temperature, k), expected, rtol=1e-10,
                    atol=1e-12 * max(np.abs(expected).max(), 1.0))


def test_soft_topk_mask_vjp_matches_central_differences():
    rng = np.random.default_rng(5)
    S, g, k, tau = rng.random((3, 10)), rng.standard_normal((3, 10)), 3, 0.1
    grad = soft_topk_mask_vjp(S, g, tau, k)
    fd = central_differences(lambda V: soft_topk_mask(V, tau, k), S, g)
    assert np.abs(grad - fd).max() <= 1e-6 * np.abs(grad).max()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"temperature": 0.0}, ValueError, "temperature must be a finite float > 0; got temperature=0.0"),
        ({"temperature": -1.0}, ValueError, "temperature must be a finite float > 0; got temperature=-1.0"),
        ({"temperature": np.nan}, ValueError, "temperature must be a (number, a )?finite float( > 0)?; got temperature=nan"),
        ({"temperature": np.inf}, ValueError, "temperature must be a finite float > 0; got temperature=inf"),
        ({"temperature": "hot"}, TypeError, "temperature must be a float; got 'hot'"),
        ({"n_rows": 0}, ValueError, "n_rows must be >= 1; got n_rows=0"),
        ({"n_rows": 4}, ValueError, "n_rows must be <= 3; got n_rows=4"),
        ({"n_rows": 1.5}, TypeError, "n_rows must be an int; got 1.5"),
        ({"scores": [1.0, np.nan, 2.0]}, ValueError, "scores contains NaN or infinity"),
        ({"scores": [[[1.0]]]}, ValueError, r"scores must be a non-empty 1-D \(n,\) or 2-D \(batch, n\) array; "
                                            r"got shape \(1, 1, 1\)"),
        ({"scores": []}, ValueError, "scores must be a non-empty"),
        ({"scores": ["a", "b"]}, TypeError, "scores must be an array of real numbers"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, error, match):
    arguments = {"scores": [2.0, 5.0, 4.0], **kwargs}
    with pytest.raises(error, match=match):
        softsort(**arguments)
