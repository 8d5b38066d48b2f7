"""Benchmark of the hard-thresholding family (IHT, HTP, OMPR, ELS).

Every ratio is measured in one run (ours and the reference on the same data),
as the median of ``--repeats`` timings:

1. ``HTPRegressor`` against scikit-learn's ``OrthogonalMatchingPursuit`` on one
   target, (m, n, k) = (500, 1000, 50);
2. the same on 1000 and on 10000 targets sharing one design, (m, n, k) =
   (64, 256, 8), and how HTP's time grows from one to the other (linear: x10;
   CPU times of interleaved repeats, robust to the load of a shared machine);
3. one iteration of ELS (all k(n-k) swaps scored in closed form, then the
   re-fit) against a naive iteration that solves every swap with ``lstsq``,
   (m, n, k) = (100, 200, 10); both must choose the same swap;
4. with ``--recovery``: exact support recovery over ``--runs`` noiseless
   Gaussian problems (m, n, k) = (100, 200, 10) for the four algorithms and
   scikit-learn's OMP.

Run ``python benchmarks/bench_greedy.py`` (add ``--recovery`` for item 4, and
``--threads 1`` to pin both sides to one BLAS thread on a shared machine).
"""

import argparse
import platform
import time
import warnings

import numpy as np
import sklearn
from threadpoolctl import threadpool_limits
from sklearn.linear_model import OrthogonalMatchingPursuit

from skstexplore import ELSRegressor, HTPRegressor, IHTRegressor, OMPRRegressor
from skstexplore.datasets import make_sparse_recovery
from skstexplore.metrics import support_recovery
from skstexplore.solvers.els import els
from timing import median_time



def compare_with_omp(n_samples, n_features, k, n_targets, repeats, seed):
    X, Y, coef = make_sparse_recovery(
        n_samples, n_features, k, n_targets=n_targets, noise=0.01, coef_distribution="uniform", random_state=seed
    )
    ours = HTPRegressor(n_nonzero_coefs=k)
    omp = OrthogonalMatchingPursuit(n_nonzero_coefs=k)
    omp_gram = OrthogonalMatchingPursuit(n_nonzero_coefs=k, precompute=True)
    t_ours = median_time(lambda: ours.fit(X, Y), repeats, warmup=True)
    t_omp = median_time(lambda: omp.fit(X, Y), repeats, warmup=True)
    t_omp_gram = median_time(lambda: omp_gram.fit(X, Y), repeats, warmup=True)
    print(f"HTP vs OMP, m={n_samples} n={n_features} k={k} targets={n_targets}:")
    print(f"  HTPRegressor                 {t_ours * 1e3:9.2f} ms  (recovery {support_recovery(coef, ours.coef_):.2f})")
    print(f"  OrthogonalMatchingPursuit    {t_omp * 1e3:9.2f} ms  (recovery {support_recovery(coef, omp.coef_):.2f})")
    print(f"  OMP(precompute=True)         {t_omp_gram * 1e3:9.2f} ms")
    print(f"  time ratio HTP / OMP = {t_ours / t_omp:.3f}   (OMP / HTP = {t_omp / t_ours:.2f}x)")
    return t_ours, t_omp


def htp_growth(repeats, seed, targets=(1000, 10000)):
    """CPU time of HTPRegressor on 1000 and 10000 targets (64 x 256, k = 8), repeats interleaved; the growth."""
    data = {T: make_sparse_recovery(64, 256, 8, n_targets=T, noise=0.01, coef_distribution="uniform",
                                    random_state=seed)[:2] for T in targets}
    times = {T: [] for T in targets}
    for _ in range(repeats):  # interleaved: load on a shared machine hits both sizes alike
        for T, (X, Y) in data.items():
            start = time.process_time()
            HTPRegressor(n_nonzero_coefs=8).fit(X, Y)
            times[T].append(time.process_time() - start)
    median = {T: float(np.median(v)) for T, v in times.items()}
    print("HTP CPU time, 64 x 256, k = 8, interleaved repeats: "
          + ", ".join(f"{T} targets {median[T] * 1e3:.0f} ms" for T in targets))
    growth = median[targets[1]] / median[targets[0]]
    print(f"HTP time from {targets[0]} to {targets[1]} targets: x{growth:.1f} (linear: x{targets[1] // targets[0]})")
    return growth


def naive_els_iteration(X, y, support):
    """One ELS iteration the slow way: every swap re-solved from scratch with lstsq."""
    support = list(support)
    outside = np.setdiff1d(np.arange(X.shape[1]), support)
    best = (np.inf, None, None)
    for p in range(len(support)):
        for j in outside:
            trial = support.copy()
            trial[p] = j
            w = np.linalg.lstsq(X[:, trial], y, rcond=None)[0]
            residual = np.sum((y - X[:, trial] @ w) ** 2)
            if residual < best[0]:
                best = (residual, p, j)
    new_support = support.copy()
    new_support[best[1]] = best[2]
    return sorted(new_support)


def fast_els_iteration(X, y, support):
    """One iteration of ``els`` from ``support`` (set-up, scoring, swap, re-fit)."""
    start = np.zeros((1, X.shape[1]))
    start[0, support] = 1.0
    return els(X, y[:, None], len(support), coef_init=start, max_iter=1).support[0]


def compare_els_iteration(n_samples, n_features, k, repeats, seed):
    X, y, _ = make_sparse_recovery(n_samples, n_features, k, noise=0.01, random_state=seed)
    support = np.sort(np.random.default_rng(seed).choice(n_features, k, replace=False))
    naive_choice = naive_els_iteration(X, y, support)
    fast_choice = np.flatnonzero(fast_els_iteration(X, y, support)).tolist()
    assert naive_choice == fast_choice, (naive_choice, fast_choice)
    t_fast = median_time(lambda: fast_els_iteration(X, y, support), repeats, warmup=True)
    t_naive = median_time(lambda: naive_els_iteration(X, y, support), max(1, repeats // 3), warmup=True)
    print(f"ELS iteration, m={n_samples} n={n_features} k={k} ({k * (n_features - k)} swaps), same swap chosen:")
    print(f"  closed-form scoring          {t_fast * 1e3:9.3f} ms")
    print(f"  naive lstsq per swap         {t_naive * 1e3:9.3f} ms")
    print(f"  speed-up = {t_naive / t_fast:.1f}x")
    return t_naive / t_fast


def recovery_rates(n_samples, n_features, k, runs):
    estimators = {
        "IHT": IHTRegressor(n_nonzero_coefs=k, fit_intercept=False),
        "HTP": HTPRegressor(n_nonzero_coefs=k, fit_intercept=False),
        "OMPR": OMPRRegressor(n_nonzero_coefs=k, fit_intercept=False),
        "ELS": ELSRegressor(n_nonzero_coefs=k, fit_intercept=False),
        "OMP (sklearn)": OrthogonalMatchingPursuit(n_nonzero_coefs=k, fit_intercept=False),
    }
    hits = dict.fromkeys(estimators, 0)
    for seed in range(runs):
        X, y, coef = make_sparse_recovery(n_samples, n_features, k, random_state=seed)
        for name, est in estimators.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hits[name] += support_recovery(coef, est.fit(X, y).coef_) == 1.0
    print(f"Exact support recovery, noiseless Gaussian m={n_samples} n={n_features} k={k}, {runs} runs (seeds 0..{runs - 1}):")
    for name, count in hits.items():
        print(f"  {name:14s} {count:4d}/{runs} = {100 * count / runs:.0f} %")
    return hits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timings per measurement (median reported)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recovery", action="store_true", help="also measure recovery rates")
    parser.add_argument("--runs", type=int, default=100, help="problems for --recovery")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for both sides (default: library's)")
    args = parser.parse_args(argv)
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, {platform.processor() or platform.machine()}")
    with threadpool_limits(limits=args.threads):
        print(f"BLAS threads: {args.threads or 'library default'}")
        compare_with_omp(500, 1000, 50, 1, args.repeats, args.seed)
        for n_targets in (1000, 10000):
            compare_with_omp(64, 256, 8, n_targets, args.repeats, args.seed)
        htp_growth(args.repeats, args.seed)
        compare_els_iteration(100, 200, 10, args.repeats, args.seed)
        if args.recovery:
            recovery_rates(100, 200, 10, args.runs)


if __name__ == "__main__":
    main()
