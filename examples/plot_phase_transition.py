"""Phase transition of exact support recovery (SEA paper, Figure 3).
=================================================================

Gaussian problems y = X w* (X and the nonzeros of w* i.i.d. N(0, 1), no
noise) over a grid of delta = m/n and rho = k/m; for each algorithm the curve
below which problems are solved in more than 95 % of the runs. The defaults
take about a minute on 2 cores; the paper's setting is, e.g.::

    python examples/plot_phase_transition.py --n-features 100 --n-runs 1000 --all \
        --deltas 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 \
        --rhos 0.025 0.05 0.075 0.1 0.125 0.15 0.175 0.2 0.225 0.25 0.275 0.3 0.325 0.35 --n-jobs -1

Results are saved as JSON (``--results``) and plotted (``--output``); the
success rates are printed.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skstexplore.experiments import ALGORITHMS, QUICK_ALGORITHMS, PhaseTransitionResult, phase_transition  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--deltas", type=float, nargs="+", default=[0.2, 0.4, 0.6, 0.8, 1.0])
    parser.add_argument("--rhos", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
    parser.add_argument("--n-runs", type=int, default=10)
    parser.add_argument("--algorithms", nargs="+", default=list(QUICK_ALGORITHMS))
    parser.add_argument("--all", action="store_true", help=f"all the paper's algorithms: {' '.join(ALGORITHMS)}")
    parser.add_argument("--normalize", action="store_true", help="unit-norm columns")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--results", default="phase_transition.json", help="JSON file written")
    parser.add_argument("--from-results", help="plot a saved JSON file instead of running")
    parser.add_argument("--output", default="phase_transition.png", help="figure written")
    return parser.parse_args()


def print_table(result):
    print(f"success rates over {result.n_runs} runs, n = {result.settings['n_features']}")
    for i, delta in enumerate(result.deltas):
        print(f"delta = {delta:g}")
        print("  rho       " + " ".join(f"{rho:>6g}" for rho in result.rhos))
        for a, name in enumerate(result.algorithms):
            print(f"  {name:<9} " + " ".join(f"{rate:6.3f}" for rate in result.success[a, i]))
    print("95 % curves (largest rho solved, per delta):")
    for name, curve in result.curves().items():
        print(f"  {name:<9} " + " ".join(f"{rho:6.3f}" for rho in curve))


def plot(result, path):
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, curve in result.curves().items():
        style = "-" if name.startswith("SEA") else "--" if "_" in name else ":"
        ax.plot(result.deltas, curve, style, marker="o", markersize=3, label=name)
    ax.set_xlabel(r"$\delta = m / n$")
    ax.set_ylabel(r"$\rho = k / m$")
    ax.set_title(f"Exact support recovery > 95 % ({result.n_runs} runs per cell)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure saved to {path}")


def main():
    args = parse_args()
    if args.from_results:
        result = PhaseTransitionResult.from_json(args.from_results)
    else:
        result = phase_transition(
            args.n_features, args.deltas, args.rhos, n_runs=args.n_runs,
            algorithms=ALGORITHMS if args.all else args.algorithms, normalize=args.normalize,
            n_jobs=args.n_jobs, random_state=args.random_state,
        )
        result.to_json(args.results)
        print(f"results saved to {args.results} (wall time {result.settings['wall_time_s']:.1f} s)")
    print_table(result)
    plot(result, args.output)


if __name__ == "__main__":
    main()
