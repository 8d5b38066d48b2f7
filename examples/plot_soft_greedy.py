"""
=========================================================================================
Soft-OMP and Soft-IHT against OMP and IHT as the temperature varies (the paper's Fig. 2).
=========================================================================================

For each temperature tau (relative to the best selection score, see the user
guide), the relative difference ``||w_soft - w_hard|| / ||w_hard||`` between
the iterate of the soft algorithm and that of the hard one after the same
number of iterations: Soft-OMP against scikit-learn's ``orthogonal_mp`` after
t steps, Soft-IHT against IHT with the same fixed step (1/||X||^2) after t
iterations. Lower is better: the soft algorithms reproduce the hard ones as
tau -> 0 and depart from them once tau reaches the gaps between the best
scores; later iterations depart more (a soft selection early on propagates).

Problems: Gaussian design with unit-norm columns, k-sparse Gaussian codes,
Gaussian noise of the given standard deviation per measurement (columns of the
figure). Each point is the median over ``n_runs`` designs x ``n_signals``
signals (printed with the figure).

    python examples/plot_soft_greedy.py            # seconds to a minute
    python examples/plot_soft_greedy.py --full     # larger problems, more runs
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import orthogonal_mp  # noqa: E402

from skstexplore.datasets import make_sparse_recovery  # noqa: E402
from skstexplore.solvers.iht import iht  # noqa: E402
from skstexplore.solvers.soft_iht import soft_iht  # noqa: E402
from skstexplore.solvers.soft_omp import soft_omp  # noqa: E402


def relative_difference(soft, hard):
    norms = np.maximum(np.linalg.norm(hard, axis=1), np.finfo(float).tiny)
    return np.linalg.norm(soft - hard, axis=1) / norms


def differences(args, noise, temperatures):
    """Relative differences per (algorithm, iteration count, temperature): arrays over runs x signals."""
    out = {(name, t): [[] for _ in temperatures] for name, counts in
           (("OMP", args.omp_steps), ("IHT", args.iht_iterations)) for t in counts}
    for run in range(args.n_runs):
        X, Y, _ = make_sparse_recovery(args.n_samples, args.n_features, args.n_nonzero_coefs,
                                       n_targets=args.n_signals, noise=noise, random_state=args.seed + run)
        step = 1.0 / np.linalg.norm(X, 2) ** 2
        for t in args.omp_steps:
            hard = orthogonal_mp(X, Y, n_nonzero_coefs=t).T
            for i, tau in enumerate(temperatures):
                out["OMP", t][i].extend(relative_difference(soft_omp(X, Y, t, temperature=tau).coef, hard))
        for t in args.iht_iterations:
            hard = iht(X, Y, args.n_nonzero_coefs, step_size=step, max_iter=t).coef
            for i, tau in enumerate(temperatures):
                soft = soft_iht(X, Y, args.n_nonzero_coefs, temperature=tau, step_size=step, max_iter=t).coef
                out["IHT", t][i].extend(relative_difference(soft, hard))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="larger problems and more runs")
    parser.add_argument("--n-samples", type=int, default=64)
    parser.add_argument("--n-features", type=int, default=128)
    parser.add_argument("--n-nonzero-coefs", type=int, default=8)
    parser.add_argument("--n-signals", type=int, default=20, help="signals per design")
    parser.add_argument("--n-runs", type=int, default=3, help="designs per noise level")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01, 0.1])
    parser.add_argument("--omp-steps", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--iht-iterations", type=int, nargs="+", default=[5, 15, 30])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="soft_greedy.png")
    args = parser.parse_args()
    if args.full:
        args.n_samples, args.n_features, args.n_nonzero_coefs = 128, 256, 16
        args.n_runs, args.n_signals = 10, 50
        args.omp_steps, args.iht_iterations = [4, 8, 16], [10, 30, 100]
    temperatures = np.logspace(-7, 0, 15)
    fig, axes = plt.subplots(2, len(args.noise), figsize=(4.5 * len(args.noise), 8), squeeze=False, sharey=True)
    for column, noise in enumerate(args.noise):
        out = differences(args, noise, temperatures)
        for row, name in enumerate(("OMP", "IHT")):
            ax = axes[row, column]
            for (algorithm, t), values in out.items():
                if algorithm != name:
                    continue
                medians = [np.median(v) for v in values]
                label = f"{t} {'steps' if name == 'OMP' else 'iterations'}"
                ax.loglog(temperatures, np.maximum(medians, 1e-17), "o-", ms=3, label=label)
                print(f"noise {noise:g}, Soft-{name} vs {name}, {label}: median relative difference at tau = "
                      + ", ".join(f"{tau:.0e}: {m:.1e}" for tau, m in zip(temperatures[::2], medians[::2])))
            ax.set(xlabel="temperature (relative to the best score)",
                   title=f"Soft-{name} vs {name}, noise {noise:g}")
            if column == 0:
                ax.set_ylabel("median relative difference (lower = closer)")
            ax.legend(fontsize=8)
    n_points = args.n_runs * args.n_signals
    fig.suptitle(f"m={args.n_samples}, n={args.n_features}, k={args.n_nonzero_coefs}; "
                 f"each point: median over {n_points} signals ({args.n_runs} designs)")
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
