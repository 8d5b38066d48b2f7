"""Benchmark of Oracle ISTA against ISTA, FISTA and scikit-learn's Lasso.

Part 1 (Ablin et al. 2019, Gaussian dictionaries, 200 atoms x 100 samples,
alpha in {0.1, 0.4, 0.8} x alpha_max): for each of ``--repeats`` dictionaries,
``--n-signals`` signals sharing it (the sparse-coding setting: many signals,
one dictionary; ``--n-signals 1`` for isolated problems):

* iterations each solver needs to reach a relative suboptimality
  ``(F - F*) / F* <= 1e-8`` (median over signals and dictionaries), F* from a
  long FISTA run refined by the best value any solver reached;
* wall time to *certify* it: each solver runs with the duality-gap stopping
  rule of ``OracleISTALasso`` and tolerance ``1e-8 F*`` per signal (the gap
  bounds the suboptimality), every cost included (Lipschitz constants, L_S
  power iterations and cache, gap checks); median of ``--timing-repeats`` runs
  per dictionary, then median over dictionaries.

Part 2: ``OracleISTALasso`` against ``sklearn.linear_model.Lasso`` at the same
``tol`` on ``--n-targets`` targets sharing one Gaussian design (64 x 256):
wall time (median of ``--timing-repeats``), ratio, and the largest relative
objective difference between the two fits.

Run: ``python benchmarks/bench_oista.py`` (set ``OPENBLAS_NUM_THREADS`` to pin
BLAS threads; the figures in the report used 1).
"""

import argparse

import numpy as np
from sklearn.linear_model import Lasso

from skstexplore import OracleISTALasso
from skstexplore._core.lasso import alpha_max, lasso_objective
from skstexplore.solvers.ista import fista, ista, oista
from timing import median_time

SOLVERS = {"ISTA": ista, "FISTA": fista, "OISTA": oista}
FRACTIONS = (0.1, 0.4, 0.8)



def gaussian_problem(rng, n_samples, n_features, n_signals):
    """Dictionary with unit-norm atoms and Gaussian signals, as in the paper's experiments."""
    X = rng.standard_normal((n_samples, n_features))
    X /= np.linalg.norm(X, axis=0)
    Y = rng.standard_normal((n_samples, n_signals))
    return X, Y


def objective_curves(X, Y, alpha, solve, tol, max_iter):
    """Objective of every signal after each iteration, shape (n_iter, n_signals).

    The run stops on the duality gap (``tol`` per signal), after the
    suboptimality has gone below it; a stopped signal keeps its last value.
    """
    values = []
    solve(X, Y, alpha, max_iter=max_iter, tol=tol,
          callback=lambda W, step: values.append(lasso_objective(X, Y, W, alpha)))
    return np.array(values)


def first_below(values, F_star, rel_tol):
    reached = (values - F_star) / F_star <= rel_tol
    n_iter = reached.argmax(axis=0) + 1.0
    n_iter[~reached.any(axis=0)] = np.inf
    return n_iter


def bench_solvers(args, rng):
    print(f"Part 1: {args.repeats} Gaussian dictionaries {args.n_samples} x {args.n_features}, "
          f"{args.n_signals} signal(s) each; relative suboptimality {args.rel_tol:g}")
    print(f"{'alpha/alpha_max':>15} {'solver':>6} {'median iter':>12} {'iter / ISTA':>12} "
          f"{'time (ms)':>10} {'time / ISTA':>12}")
    for fraction in FRACTIONS:
        iters = {name: [] for name in SOLVERS}
        times = {name: [] for name in SOLVERS}
        for _ in range(args.repeats):
            X, Y = gaussian_problem(rng, args.n_samples, args.n_features, args.n_signals)
            alpha = fraction * np.median(alpha_max(X, Y))
            # F* certified by the duality gap to 1e-12 F(0), refined below by
            # the best value any solver reaches
            F_zero = np.sum(Y**2, axis=0) / (2 * args.n_samples)
            reference = oista(X, Y, alpha, gram=X.T @ X, max_iter=10**6, tol=1e-12 * F_zero)
            F_star = lasso_objective(X, Y, reference.coef, alpha)
            tol = args.rel_tol * F_star
            curves = {name: objective_curves(X, Y, alpha, solve, tol, args.max_iter)
                      for name, solve in SOLVERS.items()}
            F_star = np.minimum(F_star, np.min([c.min(axis=0) for c in curves.values()], axis=0))
            for name, solve in SOLVERS.items():
                iters[name].extend(first_below(curves[name], F_star, args.rel_tol))
                # what a user pays, data-dependent setup (Gram matrix, L) included
                times[name].append(median_time(
                    lambda: solve(X, Y, alpha, gram=X.T @ X, max_iter=args.max_iter, tol=tol),
                    args.timing_repeats))
        for name in SOLVERS:
            it, t = np.median(iters[name]), np.median(times[name])
            print(f"{fraction:>15} {name:>6} {it:>12.0f} {it / np.median(iters['ISTA']):>12.2f} "
                  f"{1e3 * t:>10.2f} {t / np.median(times['ISTA']):>12.2f}")


def bench_against_sklearn(args, rng):
    n_samples, n_features = 64, 256
    X = rng.standard_normal((n_samples, n_features))
    codes = rng.standard_normal((n_features, args.n_targets)) * (rng.random((n_features, args.n_targets)) < 0.05)
    Y = X @ codes + 0.1 * rng.standard_normal((n_samples, args.n_targets))
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    print(f"\nPart 2: {args.n_targets} targets sharing one {n_samples} x {n_features} Gaussian design, "
          f"tol={args.tol:g} (sklearn's criterion for both); OracleISTALasso(solver=...)")
    print(f"{'alpha/alpha_max':>15} {'solver':>6} {'sklearn (s)':>12} {'ours (s)':>9} {'ours/sklearn':>13} "
          f"{'max rel. F diff':>16}")
    for fraction in FRACTIONS:
        alpha = fraction * np.median(alpha_max(Xc, Yc))
        ref = Lasso(alpha=alpha, tol=args.tol, max_iter=100000)
        t_ref = median_time(lambda: ref.fit(X, Y), args.timing_repeats)
        F_ref = lasso_objective(Xc, Yc, ref.coef_, alpha)
        for solver in ("oista", "ista", "fista"):
            ours = OracleISTALasso(alpha=alpha, solver=solver, tol=args.tol, max_iter=100000)
            t_ours = median_time(lambda: ours.fit(X, Y), args.timing_repeats)
            F_ours = lasso_objective(Xc, Yc, ours.coef_, alpha)
            diff = np.max(np.abs(F_ours - F_ref) / F_ref)
            print(f"{fraction:>15} {solver:>6} {t_ref:>12.3f} {t_ours:>9.3f} {t_ours / t_ref:>13.2f} {diff:>16.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="dictionaries per alpha (part 1)")
    parser.add_argument("--n-signals", type=int, default=100, help="signals per dictionary (part 1)")
    parser.add_argument("--n-samples", type=int, default=100)
    parser.add_argument("--n-features", type=int, default=200)
    parser.add_argument("--rel-tol", type=float, default=1e-8)
    parser.add_argument("--max-iter", type=int, default=30000)
    parser.add_argument("--timing-repeats", type=int, default=3)
    parser.add_argument("--n-targets", type=int, default=1000, help="targets (part 2)")
    parser.add_argument("--tol", type=float, default=1e-4, help="tol of both estimators (part 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-sklearn", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    bench_solvers(args, rng)
    if not args.skip_sklearn:
        bench_against_sklearn(args, rng)


if __name__ == "__main__":
    main()
