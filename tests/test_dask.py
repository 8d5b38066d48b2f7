"""Scaling out: joblib's ``dask`` backend on a small local Dask cluster gives the serial results."""

import numpy as np
import pytest
from dask import distributed
from joblib import parallel_config
from sklearn.linear_model import OrthogonalMatchingPursuit
from sklearn.model_selection import GridSearchCV

from skstexplore import SEARegressor
from skstexplore.compare import ProblemSpec, run_comparison
from skstexplore.datasets import make_sparse_recovery
from skstexplore.experiments import phase_transition


@pytest.fixture(scope="module")
def dask_client():
    # in-process workers: starts in about a second, and the tasks still go through the scheduler
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_grid_search_on_dask_equals_serial(dask_client):
    X, y, _ = make_sparse_recovery(40, 60, 4, noise=0.01, random_state=0)
    grid = {"n_nonzero_coefs": [2, 4, 6], "init": [None, "omp"]}
    serial = GridSearchCV(SEARegressor(), grid, cv=3).fit(X, y)
    with distributed.get_task_stream(dask_client) as stream, parallel_config(backend="dask"):
        on_dask = GridSearchCV(SEARegressor(), grid, cv=3, n_jobs=-1).fit(X, y)
    # the 6 candidates x 3 folds ran on the cluster (joblib's auto-batching may group several fits in one task)
    assert len(stream.data) >= 2
    assert on_dask.best_params_ == serial.best_params_ == {"init": None, "n_nonzero_coefs": 4}
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(on_dask.best_estimator_.coef_, serial.best_estimator_.coef_)


def test_phase_transition_on_dask_equals_serial(dask_client):
    settings = dict(n_features=20, deltas=(0.4, 0.8), rhos=(0.1, 0.3), n_runs=3, algorithms=("OMP", "HTP"),
                    verbose=False)
    serial = phase_transition(**settings)
    with parallel_config(backend="dask"):
        on_dask = phase_transition(**settings, n_jobs=-1)
    np.testing.assert_array_equal(on_dask.success, serial.success)
    assert serial.success.max() == 1.0  # the easy cells are solved: the comparison is not between two empty grids


def test_main_job_runner_on_dask_equals_serial(dask_client):
    spec = ProblemSpec("gaussian", n_features=30, n_nonzero_coefs=3, n_samples=20, noise=0.01)
    estimators = {"OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=3, fit_intercept=False),
                  "SEA": SEARegressor(n_nonzero_coefs=3, fit_intercept=False)}
    serial = run_comparison(spec, estimators, n_runs=4, random_state=1)
    with parallel_config(backend="dask"):
        on_dask = run_comparison(spec, estimators, n_runs=4, random_state=1, n_jobs=-1)
    for name in estimators:
        for key in ("exact_recovery", "f1", "relative_error", "n_nonzero", "converged"):
            assert on_dask[name][key] == serial[name][key]
