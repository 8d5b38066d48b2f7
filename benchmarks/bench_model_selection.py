"""Benchmark of model selection over the sparsity k (SparsityCV, sparsity_path).

Every ratio is measured in one run, ours and the reference on the same data,
timings interleaved, medians of ``--repeats``:

1. ``cv``: ``SparsityCV`` on 100 targets sharing one 64 x 256 Gaussian design
   (true k = 8, SNR 10) against a loop of scikit-learn's
   ``OrthogonalMatchingPursuitCV`` over the targets (same 5 folds): time
   ratio, and the fraction of targets whose chosen k is the true k (higher is
   better), for ``SparsityCV`` around each k-sparse estimator
   (``--estimators``; SEA is ``SEARegressor(init="omp")``, the default).
2. ``path``: the warm-started ``sparsity_path`` over k = 1..25 against
   independent cold fits for each k (``estimator.set_params(n_nonzero_coefs=k)
   .fit``), same data as 1, for each k-sparse estimator: time ratio (higher is
   better for the path), and in how many of the (k, target) fits the path's
   squared residual is lower / higher than the cold fit's (lower is better).
3. ``patience``: what a smaller halting patience would buy inside SEA's path
   (a what-if: ``skstexplore.solvers.sea.default_patience`` replaced for the
   run): the path over k = 1..25 with 500 (the default), 100 and 50 support
   changes on data like 2's (another seed), against the default
   path: time, exact recovery at the true k (higher is better), and the
   squared residuals per (k, target) relative to the default path's (lower is
   better).
4. ``truek``: ``--runs`` noisy problems (m=100, n=200, true k=10, SNR 10
   meaning ||X w|| / ||e|| = 10, nonzeros uniform in [-2, -1] U [1, 2] so
   that all of them stand above the noise): the fraction of runs in which
   ``SparsityCV(SEARegressor(init="omp"))`` chooses k = 10, beside
   ``OrthogonalMatchingPursuitCV``'s (same folds). ``--snr`` changes the SNR.

Run ``python benchmarks/bench_model_selection.py [cv] [path] [patience] [truek] --runs 50``
(``--threads 1`` pins BLAS to one thread on a shared machine).
"""

import argparse
import platform
import warnings

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import OrthogonalMatchingPursuitCV
from threadpoolctl import threadpool_limits
from timing import median_time

from skstexplore import (
    ELSRegressor,
    HTPRegressor,
    IHTRegressor,
    OMPRRegressor,
    SEARegressor,
    SparsityCV,
    sparsity_path,
)
from skstexplore.datasets import make_sparse_recovery
from skstexplore.solvers import sea as sea_solver


def noisy_problem(n_samples, n_features, k, n_targets, snr, seed, coef_distribution="uniform"):
    """Gaussian design, k-sparse codes, noise scaled so that ||X w_t|| / ||e_t|| = snr for each target."""
    X, Y, coef = make_sparse_recovery(
        n_samples, n_features, k, n_targets=n_targets, coef_distribution=coef_distribution, random_state=seed
    )
    Y = Y.reshape(n_samples, -1)
    noise = np.random.default_rng(seed + 10**6).standard_normal(Y.shape)
    noise *= np.linalg.norm(Y, axis=0) / (snr * np.linalg.norm(noise, axis=0))
    return X, Y + noise, coef.reshape(-1, n_features)


def omp_cv_loop(X, Y):
    return np.array([OrthogonalMatchingPursuitCV().fit(X, Y[:, t]).n_nonzero_coefs_ for t in range(Y.shape[1])])


ESTIMATORS = {
    "SEA": SEARegressor(init="omp"),
    "IHT": IHTRegressor(),
    "HTP": HTPRegressor(),
    "OMPR": OMPRRegressor(),
    "ELS": ELSRegressor(),
}


def bench_cv(repeats, snr, n_targets, names):
    X, Y, coef = noisy_problem(64, 256, 8, n_targets, snr, seed=0)
    true_k = (coef != 0).sum(axis=1)
    print(f"1. SparsityCV on {n_targets} targets sharing a 64 x 256 design (true k = 8, SNR {snr}) "
          "vs a loop of OMP-CV")
    chosen = {}

    def record(name, fit):
        return lambda: chosen.__setitem__(name, fit())

    runs = {"OMP-CV loop": record("OMP-CV loop", lambda: omp_cv_loop(X, Y))}
    for name in names:
        runs[f"SparsityCV({name})"] = record(
            f"SparsityCV({name})", lambda est=ESTIMATORS[name]: SparsityCV(est).fit(X, Y).n_nonzero_coefs_
        )
    times = interleaved_medians(runs, repeats)
    for name, t in times.items():
        ratio = t / times["OMP-CV loop"]
        rate = np.mean(chosen[name] == true_k)
        print(f"  {name:22s} {t:8.2f} s   time / OMP-CV loop = {ratio:6.2f}   true k chosen for {rate:.2f} of targets")


def interleaved_medians(runs, repeats):
    """Median time of each callable, the repeats interleaved (robust to a varying machine load)."""
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(median_time(run, 1))
    return {name: float(np.median(t)) for name, t in times.items()}


def bench_path(repeats, snr, n_targets, names):
    X, Y, _ = noisy_problem(64, 256, 8, n_targets, snr, seed=0)
    grid = np.arange(1, 26)
    print(f"2. warm-started sparsity_path over k = 1..25 vs cold fits per k ({n_targets} targets, 64 x 256, "
          f"SNR {snr}); residuals compared per (k, target)")
    for name in names:
        estimator = ESTIMATORS[name]
        coefs = {}

        def path():
            coefs["path"] = sparsity_path(estimator, X, Y, grid)

        def cold():
            coefs["cold"] = np.stack(
                [clone(estimator).set_params(n_nonzero_coefs=int(k)).fit(X, Y).coef_ for k in grid]
            )

        times = interleaved_medians({"path": path, "cold": cold}, repeats)
        lower, higher = compare_residuals(X, Y, coefs["path"], coefs["cold"])
        print(
            f"  {name:15s} path {times['path']:7.2f} s   cold {times['cold']:7.2f} s   "
            f"cold / path = {times['cold'] / times['path']:5.2f}x   path residual lower / higher than cold's "
            f"in {lower} / {higher} of {len(grid) * Y.shape[1]}"
        )


def bench_path_patience(n_targets, snr, patiences=(500, 100, 50)):
    X, Y, coef = noisy_problem(64, 256, 8, n_targets, snr, seed=1)
    grid = np.arange(1, 26)
    print(f"3. SEA's path over k = 1..25 with a smaller halting patience ({n_targets} targets, 64 x 256, true k = 8, "
          f"SNR {snr}), against the default of {patiences[0]} support changes; one run each; recovery: higher is "
          "better, residual ratios: lower is better")
    default = sea_solver.default_patience
    coefs, times = {}, {}
    try:
        for patience in patiences:
            sea_solver.default_patience = lambda k, patience=patience: patience
            times[patience] = median_time(lambda: coefs.__setitem__(
                patience, sparsity_path(SEARegressor(init="omp"), X, Y, grid)), 1)
    finally:
        sea_solver.default_patience = default
    reference = residual_sq(X, Y, coefs[patiences[0]])
    for patience in patiences:
        res = residual_sq(X, Y, coefs[patience])
        recovered = np.mean(np.all((coefs[patience][7] != 0) == (coef != 0), axis=1))
        print(f"  patience {patience:4d}: path {times[patience]:6.2f} s, exact recovery at k = 8 {recovered:.3f}, "
              f"squared residual / default's: mean {np.mean(res / reference):.5f}, max {np.max(res / reference):.3g}")


def residual_sq(X, Y, coefs):
    """Squared residuals (n_k, n_targets) of path coefficients (n_k, n_targets, n_features), centred data."""
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    return ((Yc.T - coefs.reshape(len(coefs), Y.shape[1], -1) @ Xc.T) ** 2).sum(axis=-1)


def compare_residuals(X, Y, path_coefs, cold_coefs):
    """How many (k, target) fits of the path have a squared residual below / above the cold fit's (rel. 1e-9)."""
    path, cold = residual_sq(X, Y, path_coefs), residual_sq(X, Y, cold_coefs)
    return int(np.sum(path < cold * (1 - 1e-9))), int(np.sum(path > cold * (1 + 1e-9)))


def bench_true_k(runs, snr, coef_distribution, first_run):
    print(f"4. true k chosen over {runs} noisy problems (m=100, n=200, k=10, SNR {snr}, "
          f"{coef_distribution} nonzeros), 5-fold CV")
    hits = {"SparsityCV(SEA_OMP)": [], "OMP-CV": []}
    for run in range(first_run, first_run + runs):
        X, Y, _ = noisy_problem(100, 200, 10, 1, snr, seed=run, coef_distribution=coef_distribution)
        y = Y[:, 0]
        ours = SparsityCV().fit(X, y).n_nonzero_coefs_
        theirs = OrthogonalMatchingPursuitCV().fit(X, y).n_nonzero_coefs_
        hits["SparsityCV(SEA_OMP)"].append(ours == 10)
        hits["OMP-CV"].append(theirs == 10)
        print(f"  run {run:2d}: SparsityCV k={ours:2d}  OMP-CV k={theirs:2d}", flush=True)
    for name, hit in hits.items():
        rate = np.mean(hit)
        print(f"  {name:22s} true k in {sum(hit)}/{runs} runs = {rate:.2f} "
              f"(standard error {np.sqrt(rate * (1 - rate) / runs):.2f})")
    ours, theirs = (np.array(hit) for hit in hits.values())
    print(f"  paired: only SparsityCV right in {np.sum(ours & ~theirs)} runs, only OMP-CV right in "
          f"{np.sum(theirs & ~ours)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["cv", "path", "truek"],
                        choices=["cv", "path", "patience", "truek"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5, help="problems for the true-k rate (the issue asks 50)")
    parser.add_argument("--snr", type=float, default=10.0)
    parser.add_argument("--n-targets", type=int, default=100, help="targets sharing the design in parts 1 and 2")
    parser.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=list(ESTIMATORS),
                        help="estimators of parts 1 and 2 (SEA with init='omp')")
    parser.add_argument("--coef-distribution", default="uniform", choices=["uniform", "gaussian", "rademacher"],
                        help="nonzeros of the true-k problems: U([-2,-1] U [1,2]) by default")
    parser.add_argument("--first-run", type=int, default=0, help="seed of the first true-k problem")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, {platform.processor() or platform.machine()}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(args.threads):
        if "cv" in args.parts:
            bench_cv(args.repeats, args.snr, args.n_targets, args.estimators)
        if "path" in args.parts:
            bench_path(args.repeats, args.snr, args.n_targets, args.estimators)
        if "patience" in args.parts:
            bench_path_patience(args.n_targets, args.snr)
        if "truek" in args.parts:
            bench_true_k(args.runs, args.snr, args.coef_distribution, args.first_run)


if __name__ == "__main__":
    main()
