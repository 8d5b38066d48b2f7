"""Time per SEA iteration: skstexplore's solver against a straightforward implementation.

The straightforward SEA solves ``numpy.linalg.lstsq`` on the support and forms
``X.T @ r`` at every iteration; ours goes through the Gram matrix (computed
inside the timed call), caches every support it meets and finds the new
support without sorting. Both use the same step 1/L and the same tie rule,
and the benchmark checks that they visit identical supports. Medians of
``--repeats`` runs. Then the wall time of the default phase-transition run
(``skstexplore.experiments.phase_transition()``, ``--n-jobs`` processes).

With ``--budget-runs N``, also the fraction of N noiseless Gaussian problems
(m=50, n=100, rho = k/m in {0.3, 0.4}) that SEA_0 and SEA_OMP solve within
100 to 5000 iterations (the justification of the default ``max_iter``).

Run: ``python benchmarks/bench_sea.py`` (one thread per process is what the
numbers below assume: ``OPENBLAS_NUM_THREADS=1``).
"""

import argparse

import numpy as np
from joblib import Parallel, delayed

from skstexplore._core.thresholding import largest_k
from skstexplore import SEARegressor
from skstexplore.datasets import make_sparse_recovery
from skstexplore.experiments import phase_transition
from skstexplore.solvers.sea import default_step_size, sea
from timing import median_time


def straightforward_sea(X, y, k, eta, n_iter):
    """SEA from its definition; returns the supports visited."""
    xi = np.zeros(X.shape[1])
    supports = np.empty((n_iter, k), dtype=np.intp)
    for t in range(n_iter):
        S = largest_k(xi[None], k)[0]
        z = np.linalg.lstsq(X[:, S], y, rcond=None)[0]
        xi -= eta * (X.T @ (X[:, S] @ z - y))
        supports[t] = S
    return supports


def ours(X, y, k, eta, n_iter, record_supports=False, use_gram=True):
    """Our solver; the Gram matrix, when used, is computed inside the timed call."""
    gram = X.T @ X if use_gram else None
    return sea(X, y[:, None], k, step_size=eta, max_iter=n_iter, gram=gram, record_supports=record_supports)


BUDGETS = (100, 250, 500, 1000, 2000, 5000)


def solved_within_budgets(k, seed, init):
    """Whether the best residual of the first t iterations is ~0 (solved), for each budget t."""
    X, y, _ = make_sparse_recovery(50, 100, k, normalize=False, random_state=seed)
    reg = SEARegressor(k, init=init, fit_intercept=False, max_iter=max(BUDGETS)).fit(X, y)
    best = np.minimum.accumulate(reg.loss_curve_)
    return [best[t - 1] <= 1e-12 * (y @ y) for t in BUDGETS]


def budget_study(n_runs, n_jobs):
    print(f"fraction of {n_runs} problems (m=50, n=100) solved within t iterations")
    print("              " + " ".join(f"{t:>6d}" for t in BUDGETS))
    for k in (15, 20):
        for init, name in (("zeros", "SEA_0"), ("omp", "SEA_OMP")):
            solved = Parallel(n_jobs=n_jobs)(delayed(solved_within_budgets)(k, s, init) for s in range(n_runs))
            print(f"  k={k} {name:<8}" + " ".join(f"{rate:6.2f}" for rate in np.mean(solved, axis=0)))



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=250)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--k", type=int, default=25)
    parser.add_argument("--n-iter", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--no-phase-transition", action="store_true")
    parser.add_argument("--budget-runs", type=int, default=0, help="runs of the max_iter study (0: skip)")
    args = parser.parse_args()

    X, y, _ = make_sparse_recovery(args.m, args.n, args.k, random_state=0)
    eta = default_step_size(X)
    result = ours(X, y, args.k, eta, args.n_iter, record_supports=True)
    identical = np.array_equal(result.extras["supports"][0], straightforward_sea(X, y, args.k, eta, args.n_iter))
    identical &= np.array_equal(result.extras["supports"][0],
                                ours(X, y, args.k, eta, args.n_iter, True, use_gram=False).extras["supports"][0])
    # interleaved repeats, so that load on the machine hits all three alike
    timings = {"straightforward": [], "gram": [], "no gram": []}
    for _ in range(args.repeats):
        timings["straightforward"].append(median_time(lambda: straightforward_sea(X, y, args.k, eta, args.n_iter), 1))
        timings["gram"].append(median_time(lambda: ours(X, y, args.k, eta, args.n_iter), 1))
        timings["no gram"].append(median_time(lambda: ours(X, y, args.k, eta, args.n_iter, use_gram=False), 1))
    t_ref, t_gram, t_x = (float(np.median(timings[key])) for key in ("straightforward", "gram", "no gram"))
    print(f"SEA, m={args.m}, n={args.n}, k={args.k}, {args.n_iter} iterations, median of {args.repeats}")
    print(f"  distinct supports visited: {result.extras['n_supports_explored'][0]}; identical supports: {identical}")
    print(f"  straightforward (lstsq + X.T @ r):   {1e6 * t_ref / args.n_iter:8.1f} us per iteration")
    print(f"  sea, Gram matrix (computed in call): {1e6 * t_gram / args.n_iter:8.1f} us per iteration,"
          f" speed-up {t_ref / t_gram:.1f}x")
    print(f"  sea, no Gram matrix:                 {1e6 * t_x / args.n_iter:8.1f} us per iteration,"
          f" speed-up {t_ref / t_x:.1f}x")

    if not args.no_phase_transition:
        res = phase_transition(n_jobs=args.n_jobs, verbose=False)
        print(f"default phase transition ({len(res.algorithms)} algorithms, {res.success.shape[1]}x"
              f"{res.success.shape[2]} cells, {res.n_runs} runs, n_jobs={args.n_jobs}): "
              f"{res.settings['wall_time_s']:.1f} s")

    if args.budget_runs:
        budget_study(args.budget_runs, args.n_jobs)


if __name__ == "__main__":
    main()
