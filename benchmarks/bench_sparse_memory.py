"""Peak memory of the k-sparse estimators on a large scipy.sparse design.

A 20000 x 50000 CSC design with 0.1 % nonzeros (1e6 entries, 12 MB) whose
densified float64 copy would take 8.0 GB. Each estimator (k = 10, one
target, ``fit_intercept=True``, so the centring goes through offsets) is
fitted in a fresh Python process; the script reports the process's peak
resident memory (``ru_maxrss``, interpreter and data included) and the peak
of the allocations traced during ``fit`` (``tracemalloc``, which sees NumPy's
and SciPy's buffers), against the size of the densified design (lower is
better; anything far below 8 GB proves ``X`` was never densified), the fit
time and whether the planted support was recovered.

Run ``python benchmarks/bench_sparse_memory.py`` (``--n-samples``,
``--n-features``, ``--density`` change the design).
"""

import argparse
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

ESTIMATORS = ["SEARegressor", "IHTRegressor", "HTPRegressor", "OMPRRegressor", "ELSRegressor"]


def sparse_problem(n_samples, n_features, density, k, seed=0):
    """CSC design with ``density * n_samples * n_features`` random entries (drawn without a dense mask)."""
    rng = np.random.default_rng(seed)
    nnz = int(density * n_samples * n_features)
    rows = rng.integers(0, n_samples, nnz)
    cols = rng.integers(0, n_features, nnz)
    X = sp.csc_matrix((rng.standard_normal(nnz), (rows, cols)), shape=(n_samples, n_features))
    coef = np.zeros(n_features)
    support = rng.choice(n_features, k, replace=False)
    coef[support] = rng.uniform(1.0, 2.0, k) * rng.choice([-1.0, 1.0], k)
    y = X @ coef + 0.01 * rng.standard_normal(n_samples)
    return X, y, coef


def fit_one(name, n_samples, n_features, density, k):
    import skstexplore

    X, y, coef = sparse_problem(n_samples, n_features, density, k)
    estimator = getattr(skstexplore, name)(n_nonzero_coefs=k)
    tracemalloc.start()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    elapsed = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    recovered = bool(np.array_equal(estimator.support_, coef != 0))
    print(f"{name} {rss_peak} {traced_peak} {elapsed} {recovered}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument("--n-features", type=int, default=50000)
    parser.add_argument("--density", type=float, default=0.001)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = (args.n_samples, args.n_features, args.density, args.k)
    if args.one:
        fit_one(args.one, *sizes)
        return
    dense_bytes = args.n_samples * args.n_features * 8
    nnz = int(args.density * args.n_samples * args.n_features)
    print(f"design {args.n_samples} x {args.n_features}, {nnz} nonzeros (CSC), k = {args.k}; "
          f"densified float64 X would take {dense_bytes / 1e9:.2f} GB")
    print(f"  {'estimator':15s} {'peak RSS':>10s} {'traced in fit':>14s} {'RSS / dense X':>14s} {'fit time':>9s}  support")
    for name in ESTIMATORS:
        command = [sys.executable, __file__, "--one", name, "--n-samples", str(args.n_samples),
                   "--n-features", str(args.n_features), "--density", str(args.density), "--k", str(args.k)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
        rss, traced, elapsed, recovered = int(output[1]), int(output[2]), float(output[3]), output[4]
        print(f"  {name:15s} {rss / 1e6:8.0f} MB {traced / 1e6:11.0f} MB {rss / dense_bytes:14.3f} "
              f"{elapsed:8.2f}s  {'recovered' if recovered == 'True' else 'missed'}")


if __name__ == "__main__":
    main()
