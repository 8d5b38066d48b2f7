"""
=====================================================
Scaling out on a Dask cluster with joblib's backend
=====================================================

Everything in skstexplore that runs in parallel goes through joblib
(:func:`~skstexplore.experiments.phase_transition`,
:func:`~skstexplore.compare.run_comparison`, scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV`), so the same code runs on a
Dask cluster inside ``joblib.parallel_config(backend="dask")``, with no change
to the estimators. This example starts a local cluster of ``--workers``
single-threaded worker processes (on a real cluster, pass the scheduler's
address to ``dask.distributed.Client`` instead), runs a small
phase-transition study and a cross-validated search over
:class:`~skstexplore.SEARegressor` both serially and on the cluster, checks
that the results are identical, and plots the wall times (lower is better;
one run of each, so on a loaded machine they are indicative only).

The gain needs free cores and tasks larger than the cost of shipping them:
the wall time falls roughly with the number of workers when each task is a
fit of a second or more on idle cores, the cluster's start being paid once.
The defaults here are deliberately small (phase-transition tasks of a few
milliseconds each), so the figure shows the overhead as much as the gain: on
our 2-core build machine, loaded by other jobs (load average about 17), the
cluster took 1.0 and 3.0 times the serial time for the search and the study.
``--n-runs`` and ``--cv`` make the workloads larger, which is where a cluster
pays.
"""

import argparse
import logging
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402
from joblib import parallel_config  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skstexplore import SEARegressor  # noqa: E402
from skstexplore.datasets import make_sparse_recovery  # noqa: E402
from skstexplore.experiments import phase_transition  # noqa: E402


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def study(n_runs, n_jobs):
    return phase_transition(n_features=40, deltas=(0.3, 0.6, 0.9), rhos=(0.1, 0.2, 0.3), n_runs=n_runs,
                            algorithms=("SEA_OMP", "OMP", "HTP"), n_jobs=n_jobs, verbose=False)


def search(X, y, cv, n_jobs):
    grid = {"n_nonzero_coefs": [4, 8, 12], "init": [None, "omp"]}
    return GridSearchCV(SEARegressor(), grid, cv=cv, n_jobs=n_jobs).fit(X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster")
    parser.add_argument("--n-runs", type=int, default=10, help="runs per cell of the phase-transition grid")
    parser.add_argument("--cv", type=int, default=5, help="folds of the cross-validated search")
    parser.add_argument("--output", default="dask.png")
    args = parser.parse_args()
    X, y, _ = make_sparse_recovery(80, 160, 8, noise=0.01, random_state=0)

    (serial_study, serial_search), serial_times = zip(
        timed(lambda: study(args.n_runs, None)), timed(lambda: search(X, y, args.cv, None)))

    (cluster, client), startup = timed(lambda: _start(args.workers))
    with cluster, client, parallel_config(backend="dask"):
        (dask_study, dask_search), dask_times = zip(
            timed(lambda: study(args.n_runs, -1)), timed(lambda: search(X, y, args.cv, -1)))

    assert np.array_equal(dask_study.success, serial_study.success)
    assert dask_search.best_params_ == serial_search.best_params_
    assert np.array_equal(dask_search.cv_results_["mean_test_score"], serial_search.cv_results_["mean_test_score"])
    print(f"cluster of {args.workers} workers started in {startup:.1f} s; results identical to the serial ones")
    tasks = (f"phase transition\n(9 cells x {args.n_runs} runs x 3 algorithms)",
             f"GridSearchCV over SEA\n(6 candidates x {args.cv} folds)")
    for task, serial, on_dask in zip(tasks, serial_times, dask_times):
        print(f"{task.splitlines()[0]:18s} serial {serial:6.2f} s   dask {on_dask:6.2f} s   ratio {on_dask / serial:.2f}")
    print(f"best parameters: {dask_search.best_params_}")

    fig, ax = plt.subplots(figsize=(7, 3.6))
    positions = np.arange(len(tasks))
    ax.barh(positions - 0.2, serial_times, height=0.4, color="0.6", hatch="//", label="serial (n_jobs=None)")
    ax.barh(positions + 0.2, dask_times, height=0.4, color="C0", label=f"Dask, {args.workers} workers (n_jobs=-1)")
    ax.set_yticks(positions, tasks, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("wall time, s (lower is better)")
    ax.set_title(f"Same results, serial and on a local Dask cluster (one run each; start-up {startup:.1f} s)",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)


def _start(n_workers):
    # silence_logs: the nanny's notes at shutdown are not the example's output
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return cluster, Client(cluster)


if __name__ == "__main__":
    main()
