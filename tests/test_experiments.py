"""Tests of the experiment runners (phase transition, deconvolution)."""

import numpy as np
import pytest

from skstexplore import ELSRegressor, HTPRegressor, SEARegressor
from skstexplore.datasets import make_sparse_recovery
from skstexplore.experiments import (
    ALGORITHMS,
    PhaseTransitionResult,
    deconvolution_support_distance,
    fit_algorithm,
    fit_algorithms,
    make_algorithm,
    phase_transition,
    transition_curve,
)
from skstexplore.metrics import support_recovery


def test_make_algorithm_names():
    assert make_algorithm("SEA_0", 3).get_params()["init"] == "zeros"
    assert make_algorithm("SEA_ELS", 3).get_params()["init"] == "els"
    assert isinstance(make_algorithm("HTP_OMP", 3), HTPRegressor)
    assert isinstance(make_algorithm("ELS", 3), ELSRegressor)
    for name in ALGORITHMS:
        assert make_algorithm(name, 4).get_params()["n_nonzero_coefs"] == 4
    with pytest.raises(ValueError, match="unknown algorithm 'SEA_LASSO'"):
        make_algorithm("SEA_LASSO", 3)
    with pytest.raises(ValueError, match="unknown algorithm 'CoSaMP'"):
        phase_transition(algorithms=["CoSaMP"])


def test_fit_algorithm_matches_estimator():
    X, y, coef = make_sparse_recovery(30, 60, 4, normalize=False, random_state=0)
    w = fit_algorithm("SEA_OMP", 4, X, y)
    assert support_recovery(coef, w) == 1.0
    np.testing.assert_allclose(w, SEARegressor(4, init="omp", fit_intercept=False).fit(X, y).coef_, atol=1e-10)


def test_transition_curve_needs_every_smaller_rho():
    success = np.array([[1.0, 1.0, 0.9, 1.0], [0.5, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.96]])
    np.testing.assert_allclose(transition_curve(success, [0.1, 0.2, 0.3, 0.4]), [0.2, 0.0, 0.4])


def test_phase_transition_counts_and_json(tmp_path):
    kwargs = dict(n_features=30, deltas=[0.5, 1.0], rhos=[0.1, 0.5], n_runs=3, algorithms=["SEA_OMP", "OMP"],
                  verbose=False)
    result = phase_transition(**kwargs)
    assert result.success.shape == (2, 2, 2)
    assert np.all((result.success * 3) % 1 == 0)  # fractions of 3 runs
    # k = 1 from 15 Gaussian measurements: both recover every support
    np.testing.assert_array_equal(result.success[:, 0, 0], 1.0)
    # same problems whatever the parallelism
    parallel = phase_transition(**kwargs, n_jobs=2)
    np.testing.assert_array_equal(parallel.success, result.success)
    path = tmp_path / "pt.json"
    result.to_json(path)
    loaded = PhaseTransitionResult.from_json(path)
    np.testing.assert_array_equal(loaded.success, result.success)
    assert loaded.algorithms == result.algorithms and loaded.curves().keys() == result.curves().keys()


def test_deconvolution_support_distance_shapes():
    mean, std_error = deconvolution_support_distance([2, 4], n_features=40, n_runs=3, algorithms=["SEA_0", "OMP"],
                                                     verbose=False)
    assert mean.shape == std_error.shape == (2, 2)
    assert np.all((mean >= 0) & (mean <= 1)) and np.all(std_error >= 0)


def test_fit_algorithms_share_the_starts_of_separate_fits():
    X, y, _ = make_sparse_recovery(30, 60, 6, normalize=False, random_state=1)
    names = ["SEA_OMP", "OMP", "HTP_ELS", "ELS", "SEA_0", "IHT_OMP"]
    for name, w in zip(names, fit_algorithms(names, 6, X, y)):
        np.testing.assert_array_equal(w != 0, fit_algorithm(name, 6, X, y) != 0)
