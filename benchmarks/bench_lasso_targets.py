"""OracleISTALasso on a few targets: one joint fit against one fit per target.

Each target of a joint fit has its own working set: one that is large is
solved alone (as a fit of that target by itself would be), small ones are
batched. This benchmark checks that a joint fit is never slower than a loop
over the targets, where supports are large (p > n at a small alpha: each
working set reaches hundreds of features, their union thousands; a working
set shared by all targets made the joint fit 6 times slower here) and where
they are small (many targets: the batched solves pay). For each case, on the
same data, with medians of ``--repeats`` interleaved repeats and 1 BLAS
thread:

* the wall time of ``OracleISTALasso(alpha).fit(X, Y)`` (joint) and of a loop
  of ``fit(X, Y[:, t])`` (one by one), and their ratio loop / joint (above 1:
  the joint fit is faster);
* the largest objective difference between the two, relative to the
  objective (both are within ``tol=1e-4`` of the optimum; lower is better).

Data: Gaussian designs, 20 Gaussian nonzeros per target, noise 0.5, alpha a
fraction of the largest alpha_max of the targets.

Run: ``python benchmarks/bench_lasso_targets.py`` (from the repository root
with ``PYTHONPATH=.``).
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from skstexplore import OracleISTALasso

# (n_samples, n_features, n_targets, alpha / alpha_max)
CASES = [
    (500, 5000, 8, 0.01),
    (500, 5000, 8, 0.1),
    (200, 1000, 20, 0.01),
    (200, 1000, 20, 0.1),
    (2000, 1000, 4, 0.01),
    (64, 256, 10, 0.1),
    (64, 256, 100, 0.1),
]


def problem(n_samples, n_features, n_targets, fraction, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros((n_features, n_targets))
    for t in range(n_targets):
        coef[rng.choice(n_features, 20, replace=False), t] = rng.standard_normal(20)
    Y = X @ coef + 0.5 * rng.standard_normal((n_samples, n_targets))
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    alpha = fraction * np.abs(Xc.T @ Yc).max() / n_samples
    return X, Y, alpha


def objectives(X, Y, coef, alpha):
    """sklearn's Lasso objective of each target with the optimal intercept (coef: (n_targets, n_features))."""
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    R = Yc - Xc @ coef.T
    return (R**2).sum(axis=0) / (2 * len(X)) + alpha * np.abs(coef).sum(axis=1)


def run_case(case, repeats, seed):
    X, Y, alpha = problem(*case, seed)
    fits = {
        "joint": lambda: OracleISTALasso(alpha=alpha).fit(X, Y).coef_,
        "one by one": lambda: np.array([OracleISTALasso(alpha=alpha).fit(X, y).coef_ for y in Y.T]),
    }
    times = {name: [] for name in fits}
    coefs = {}
    for _ in range(repeats):  # interleaved, so that load on the machine hits both alike
        for name, fit in fits.items():
            start = time.perf_counter()
            coefs[name] = fit()
            times[name].append(time.perf_counter() - start)
    joint, loop = (float(np.median(times[name])) for name in fits)
    F_joint, F_loop = objectives(X, Y, coefs["joint"], alpha), objectives(X, Y, coefs["one by one"], alpha)
    gap = float(np.max(np.abs(F_joint - F_loop) / np.minimum(F_joint, F_loop)))
    n, p, T, fraction = case
    print(f"{n:5d} x {p:5d}, {T:3d} targets, alpha = {fraction:4} alpha_max:  joint {joint * 1e3:8.1f} ms   "
          f"one by one {loop * 1e3:8.1f} ms   loop / joint {loop / joint:5.2f}   objective difference {gap:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: the library's default)")
    args = parser.parse_args()
    print(f"median of {args.repeats} interleaved repeats, {args.threads or 'default'} BLAS thread(s); "
          "loop / joint above 1: the joint fit is faster; objective difference: relative, lower is better")
    with threadpool_limits(args.threads or None):
        for case in CASES:
            run_case(case, args.repeats, args.seed)


if __name__ == "__main__":
    main()
