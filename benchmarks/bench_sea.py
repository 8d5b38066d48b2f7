"""SEA against the OMP it starts from, on the cases of issue 9, and the cost of a new support.

For each case (noisy k-sparse Gaussian problems, ``noise=0.01``, nonzeros
uniform in +-[1, 2], as in ``bench_greedy.py``), in one run and on the same
data, with medians of ``--repeats`` interleaved repeats:

Times are CPU times of the process (``time.process_time``) with one BLAS
thread, so that the load of a shared machine does not enter them.

* ``SEARegressor(init="omp")`` with its defaults (its OMP start included),
  scikit-learn's ``OrthogonalMatchingPursuit`` and ``HTPRegressor``: wall
  time, the ratio SEA_OMP / OMP (the target is <= 2) and exact support
  recovery (fraction of targets whose support is found exactly);
* SEA's own part (started from OMP's coefficients, given as an array): time,
  iterations, distinct supports solved, and the time per new support against
  the floor of a new support, one ``n x k`` gemv plus one ``k x k`` Cholesky
  factorisation (timed in the same run; the target is <= 3x); also the fixed
  part of that fit (the same fit with ``max_iter=1``: validation, units,
  step, start) and the time per new support of exploring alone (the
  difference, per support solved after the first iteration).

Then a check that the supports visited equal those of the straightforward SEA
(``lstsq`` on the support and ``X.T @ r`` every iteration), and with
``--budget-runs N`` the fraction of N noiseless problems solved within 100 to
5000 iterations, and with ``--halting-runs N`` the halting rules replayed on
runs recorded for 1000 iterations without halting (N runs per cell of a
phase-transition grid and of the deconvolution study, SEA_0, SEA_OMP and
SEA_ELS): exact recovery and iterations of each rule against the budget;
with ``--few-targets``, SEA's part on 5 to 100 targets run one after the
other (the default up to ``FEW_TARGETS`` targets) against all together as
array operations (the default above). The 7500 x 30000 case (a
1.8 GB design, about 5 GB peak with the copies of the three estimators)
runs only with ``--big``.

Run: ``python benchmarks/bench_sea.py`` (one BLAS thread by default,
``--threads 0`` for the library's default).
"""

import argparse
import pickle
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy.linalg import get_lapack_funcs
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import OrthogonalMatchingPursuit
from threadpoolctl import threadpool_limits

from skstexplore import HTPRegressor, SEARegressor
from skstexplore._core.thresholding import largest_k
from skstexplore.datasets import make_gaussian_deconvolution, make_sparse_recovery
from skstexplore.experiments import _seed, fit_algorithm
from skstexplore.solvers import sea as sea_solver
from skstexplore.solvers.sea import default_step_size, sea

CASES = {
    "500x1000": (500, 1000, 50, 1),
    "2000x10000": (2000, 10000, 100, 1),
    "7500x30000": (7500, 30000, 375, 1),
    "1000 targets": (64, 256, 8, 1000),
    "10000 targets": (64, 256, 8, 10000),
}


def exact_recovery(coef_true, coef):
    coef_true, coef = np.atleast_2d(coef_true), np.atleast_2d(coef)
    return float(np.mean(np.all((coef_true != 0) == (coef != 0), axis=1)))


def floor_per_support(n_features, k, repeats=200):
    """Seconds of one ``n x k`` gemv plus one ``k x k`` Cholesky (the floor of a new support)."""
    rng = np.random.default_rng(0)
    columns, values = rng.standard_normal((k, n_features)), rng.standard_normal(k)
    block = rng.standard_normal((k, k))
    block = block @ block.T + k * np.eye(k)
    potrf = get_lapack_funcs(("potrf",), dtype=np.float64)[0]

    def new_support():
        values @ columns
        potrf(block, lower=1)

    times = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(repeats):
            new_support()
        times.append(time.process_time() - start)
    return float(np.median(times)) / repeats


def compare_case(name, repeats, seed):
    m, n, k, n_targets = CASES[name]
    X, Y, coef = make_sparse_recovery(m, n, k, n_targets=n_targets, noise=0.01, coef_distribution="uniform",
                                      random_state=seed)
    omp_start = OrthogonalMatchingPursuit(n_nonzero_coefs=k).fit(X, Y).coef_
    fits = {
        "SEA_OMP": SEARegressor(k, init="omp"),
        "OMP (sklearn)": OrthogonalMatchingPursuit(n_nonzero_coefs=k),
        "HTP": HTPRegressor(k),
        "SEA part": SEARegressor(k, init=omp_start),
        "SEA part, 1 iteration": SEARegressor(k, init=omp_start, max_iter=1),
    }
    times = {label: [] for label in fits}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):  # interleaved, so that load on the machine hits all alike
            for label, estimator in fits.items():
                start = time.process_time()  # CPU time: one BLAS thread, robust to the load of a shared machine
                estimator.fit(X, Y)
                times[label].append(time.process_time() - start)
    t = {label: float(np.median(v)) for label, v in times.items()}
    part = fits["SEA part"]
    n_solved = int(np.sum(part.n_supports_explored_))
    floor = floor_per_support(n, k)
    per_support = t["SEA part"] / max(n_solved, 1)
    # what exploring costs beyond the fit's fixed part (validation, units, step, start)
    n_first = int(np.sum(fits["SEA part, 1 iteration"].n_supports_explored_))
    marginal = (t["SEA part"] - t["SEA part, 1 iteration"]) / max(n_solved - n_first, 1)
    print(f"{name}: m={m} n={n} k={k} targets={n_targets}, median of {repeats}")
    for label in ("SEA_OMP", "OMP (sklearn)", "HTP"):
        print(f"  {label:14s} {t[label]:9.3f} s CPU   exact recovery {exact_recovery(coef, fits[label].coef_):.4f}")
    print(f"  SEA_OMP / OMP = {t['SEA_OMP'] / t['OMP (sklearn)']:.2f}  (target <= 2)")
    print(f"  SEA part (from OMP's coefficients): {t['SEA part']:.3f} s, iterations per target "
          f"{np.mean(part.n_iter_):.0f}, supports solved {n_solved}; per new support "
          f"{per_support * 1e6:.0f} us, floor (gemv n x k + Cholesky k x k) {floor * 1e6:.0f} us, "
          f"ratio {per_support / floor:.1f} (target <= 3)")
    print(f"  fixed part (SEA part with max_iter=1): {t['SEA part, 1 iteration']:.3f} s; exploring alone: "
          f"{marginal * 1e6:.0f} us per new support, ratio {marginal / floor:.1f} to the floor")
    return t


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


def check_identical_supports(m=250, n=500, k=25, n_iter=1000):
    X, y, _ = make_sparse_recovery(m, n, k, random_state=0)
    eta = default_step_size(X)
    reference = straightforward_sea(X, y, k, eta, n_iter)
    for gram in (X.T @ X, None):
        ours = sea(X, y[:, None], k, step_size=eta, max_iter=n_iter, n_iter_no_change=None, gram=gram,
                   record_supports=True).extras["supports"][0]
        label = "Gram matrix" if gram is not None else "Gram columns on demand"
        print(f"supports visited ({label}, m={m} n={n} k={k}, {n_iter} iterations) identical to the "
              f"straightforward SEA: {np.array_equal(ours, reference)}")


BUDGETS = (100, 300, 1000, 3000, 10000, 30000, 100000)


def solved_within_budgets(k, seed, init):
    """Whether the best residual of the first t iterations is ~0 (solved), for each budget t.

    One run of ``max(BUDGETS)`` iterations without halting rule, stopped once
    solved (``tol``): a run that stopped early is solved for the later budgets.
    Then, on the same problem: SEA with its defaults (1000 iterations, halting
    rule; solved, iterations run), OMP and ELS (solved).
    """
    X, y, _ = make_sparse_recovery(50, 100, k, normalize=False, random_state=seed)
    solved_at = 1e-12 * (y @ y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = SEARegressor(k, init=init, fit_intercept=False, max_iter=max(BUDGETS), n_iter_no_change=None,
                           tol=solved_at).fit(X, y)
        default = SEARegressor(k, init=init, fit_intercept=False, tol=solved_at).fit(X, y)
    best = np.minimum.accumulate(reg.loss_curve_)
    budgets = [best[min(t, len(best)) - 1] <= solved_at for t in BUDGETS]
    others = [np.sum((y - X @ fit_algorithm(name, k, X, y)) ** 2) <= solved_at for name in ("OMP", "ELS")]
    return budgets + [default.loss_curve_.min() <= solved_at, default.n_iter_] + others


def budget_study(n_runs, n_jobs):
    print(f"fraction of {n_runs} noiseless problems (m=50, n=100) solved (residual <= 1e-12 |y|^2; higher is "
          f"better) by SEA within t iterations, by SEA with its defaults (halting rule, 1000 iterations; "
          f"mean iterations), by OMP and ELS")
    print("              " + " ".join(f"{t:>6d}" for t in BUDGETS) + "  default (iter.)    OMP    ELS")
    for k in (15, 20):
        for init, name in (("zeros", "SEA_0"), ("omp", "SEA_OMP")):
            rows = Parallel(n_jobs=n_jobs)(delayed(solved_within_budgets)(k, s, init) for s in range(n_runs))
            rate = np.mean(rows, axis=0)
            nb = len(BUDGETS)
            print(f"  k={k} {name:<8}" + " ".join(f"{r:6.2f}" for r in rate[:nb])
                  + f"  {rate[nb]:6.2f} ({rate[nb + 1]:5.0f})  {rate[nb + 2]:5.2f}  {rate[nb + 3]:5.2f}")


# halting rules replayed on recorded runs: (clock, patience); "changes" is the default rule's clock,
# "changes x k" a patience of that many support changes per nonzero
HALTING_RULES = ([("iterations", P) for P in (100, 200, 300, 500)] + [("changes", P) for P in (50, 100, 200, 300, 500)]
                 + [("changes x k", c) for c in (5, 10, 20, 40)])


def replay_halting_rules(curve, supports, coef, k, metric="exact"):
    """Iterations run and recovery of the best iterate at the halt, for each rule of ``HALTING_RULES``.

    Recovery: exact support recovery (``metric="exact"``, 0 or 1) or the
    support distance (fraction of the true support missed).

    ``curve`` and ``supports`` are a run recorded without halting rule. A rule
    halts at the first iteration whose clock (iterations, or support changes,
    since the last decrease of the best residual by more than a relative
    sqrt(eps)) reaches its patience.
    """
    truth, relative = set(np.flatnonzero(coef)), np.sqrt(np.finfo(float).eps)
    changes = np.r_[0, np.cumsum(np.any(supports[1:] != supports[:-1], axis=1))]
    progress_at, best_at = np.zeros(len(curve), dtype=int), np.zeros(len(curve), dtype=int)
    best, progress = np.inf, 0
    for t, loss in enumerate(curve):
        if loss < (1 - relative) * best:
            progress = t
        if loss < best:
            best, best_at[t] = loss, t
        else:
            best_at[t] = best_at[t - 1]
        progress_at[t] = progress
    outcomes = {}
    for clock, patience in HALTING_RULES + [("budget", None)]:
        if clock == "budget":
            stop = len(curve) - 1
        else:
            patience = patience * k if clock == "changes x k" else patience
            waited = np.arange(len(curve)) - progress_at if clock == "iterations" else changes - changes[progress_at]
            reached = np.flatnonzero(waited >= patience)
            stop = reached[0] if len(reached) else len(curve) - 1
        found = set(supports[best_at[stop]].tolist())
        outcomes[(clock, patience if clock != "changes x k" else patience // k)] = (
            stop + 1, float(found == truth) if metric == "exact" else 1 - len(found & truth) / k)
    return outcomes


def recorded_run(kind, a, b, run, init, max_iter):
    """One noiseless problem (phase transition: delta a, rho b; deconvolution: k = b) run without halting.

    The run stops at an exact fit (``tol``), as the default rule does.
    """
    if kind == "phase transition":
        m = int(round(a * 100))
        k = max(1, int(round(b * m)))
        X, y, coef = make_sparse_recovery(m, 100, k, normalize=False, random_state=_seed(0, int(a * 100), int(b * 1000), run))
    else:
        k = b
        X, y, coef = make_gaussian_deconvolution(100, k, random_state=_seed(1, k, run))
    start = None if init == "0" else fit_algorithm(init, k, X, y)[None]
    result = sea(X, y[:, None], k, exploration_init=start, max_iter=max_iter, n_iter_no_change=None,
                 tol=1e-12 * float(y @ y), record_supports=True)
    curve = result.extras["loss_curve"][0]
    metric = "exact" if kind == "phase transition" else "distance"
    return kind, a if kind == "phase transition" else b, init, replay_halting_rules(
        curve, result.extras["supports"][0][: len(curve)], coef, k, metric)


def _rule_name(rule):
    clock, patience = rule
    return {"iterations": f"it{patience}", "changes": f"ch{patience}", "changes x k": f"{patience}k",
            "budget": "budget"}[clock]


def halting_study(n_runs, n_jobs, max_iter=1000, save=None):
    tasks = [("phase transition", delta, rho, run, init)
             for init in ("0", "OMP", "ELS") for delta in (0.25, 0.5, 0.75) for rho in (0.1, 0.2, 0.3, 0.4, 0.5)
             for run in range(n_runs)]
    tasks += [("deconvolution", 0, k, run, init) for init in ("0", "OMP", "ELS") for k in (5, 10, 20)
              for run in range(n_runs)]
    results = Parallel(n_jobs=n_jobs)(delayed(recorded_run)(*task, max_iter) for task in tasks)
    if save:
        with open(save, "wb") as file:
            pickle.dump(results, file)
    print(f"halting rules replayed on {len(results)} runs recorded for {max_iter} iterations "
          f"({n_runs} per cell; phase transition: 5 rhos per delta): recovery (phase transition: exact "
          f"recovery, higher is better; deconvolution: support distance, lower is better) of the budget +- its "
          f"standard error, then for each rule the difference to the budget (* beyond 2 SE) and mean iterations")
    rules = HALTING_RULES
    print(f"  {'study':18s} {'init':5s} {'cell':6s} {'budget':>14s} " + " ".join(f"{_rule_name(r):>12s}" for r in rules))
    for kind in ("phase transition", "deconvolution"):
        for init in ("0", "OMP", "ELS"):
            cells = sorted({c for k_, c, i_, _ in results if k_ == kind and i_ == init})
            for cell in cells + ["all"]:
                rows = [o for k_, c, i_, o in results if k_ == kind and i_ == init and (cell == "all" or c == cell)]
                budget = np.array([row[("budget", None)][1] for row in rows], dtype=float)
                se = budget.std(ddof=1) / np.sqrt(len(budget)) if len(budget) > 1 else 0.0
                line = f"  {kind:18s} SEA_{init:<4s}{str(cell):>6s} {budget.mean():6.3f}+-{se:.3f} ({np.mean([row[('budget', None)][0] for row in rows]):.0f})"
                for rule in rules:
                    diff = np.mean([row[rule][1] for row in rows]) - budget.mean()
                    flag = "*" if abs(diff) > 2 * se else " "
                    line += f" {diff:+6.3f}{flag}({np.mean([row[rule][0] for row in rows]):3.0f})"
                print(line)


def few_targets_study(repeats, seed, shapes=((64, 256, 8), (250, 1000, 25)), counts=(5, 10, 20, 40, 100)):
    """SEA's part (from OMP's coefficients) with the targets one after the other and as array operations."""
    print(f"SEA part on several targets: one after the other (the default up to {sea_solver.FEW_TARGETS} targets) "
          f"against all together as array operations (the default above); CPU times, median of {repeats} "
          "interleaved; ratio below 1: one after the other is faster")
    thresholds = {"one after the other": np.inf, "arrays": 0}
    for m, n, k in shapes:
        for n_targets in counts:
            X, Y, _ = make_sparse_recovery(m, n, k, n_targets=n_targets, noise=0.01, coef_distribution="uniform",
                                           random_state=seed)
            start = OrthogonalMatchingPursuit(n_nonzero_coefs=k).fit(X, Y).coef_
            times, supports = {path: [] for path in thresholds}, {}
            default = sea_solver.FEW_TARGETS
            try:
                for _ in range(repeats):
                    for path, threshold in thresholds.items():
                        sea_solver.FEW_TARGETS = threshold
                        begin = time.process_time()
                        supports[path] = SEARegressor(k, init=start).fit(X, Y).coef_ != 0
                        times[path].append(time.process_time() - begin)
            finally:
                sea_solver.FEW_TARGETS = default
            each, arrays = np.median(times["one after the other"]), np.median(times["arrays"])
            print(f"  {m} x {n}, k = {k}, {n_targets:3d} targets: one after the other {each:.3f} s, arrays "
                  f"{arrays:.3f} s, ratio {each / arrays:.2f}, same supports {np.array_equal(*supports.values())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=[c for c in CASES if c != "7500x30000"], choices=list(CASES))
    parser.add_argument("--big", action="store_true", help="add the 7500 x 30000 case")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: library default)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--budget-runs", type=int, default=0, help="runs of the max_iter study (0: skip)")
    parser.add_argument("--halting-runs", type=int, default=0, help="runs per cell of the halting study (0: skip)")
    parser.add_argument("--halting-save", default=None, help="pickle the replayed outcomes of the halting study there")
    parser.add_argument("--few-targets", action="store_true", help="5 to 100 targets one after the other against as arrays")
    args = parser.parse_args()
    cases = args.cases + (["7500x30000"] if args.big else [])
    with threadpool_limits(limits=args.threads or None):
        print(f"BLAS threads: {args.threads or 'library default'}")
        times = {name: compare_case(name, args.repeats, args.seed) for name in cases}
        if {"1000 targets", "10000 targets"} <= set(times):
            growth = times["10000 targets"]["HTP"] / times["1000 targets"]["HTP"]
            print(f"HTP time from 1000 to 10000 targets: x{growth:.1f} (linear: x10)")
        check_identical_supports()
        if args.few_targets:
            few_targets_study(args.repeats, args.seed)
    if args.budget_runs:
        budget_study(args.budget_runs, args.n_jobs)
    if args.halting_runs:
        halting_study(args.halting_runs, args.n_jobs, save=args.halting_save)


if __name__ == "__main__":
    main()
