"""Phase transition of exact support recovery (SEA paper, Figure 3).
=================================================================

Gaussian problems y = X w* (X and the nonzeros of w* i.i.d. N(0, 1), no
noise) over a grid of delta = m/n and rho = k/m. For each algorithm the figure
draws its 95 % curve: the largest rho below which every cell of the grid is
solved (support recovered exactly) in more than 95 % of the runs; higher is
better. Series that coincide on the grid are drawn once and named together
("OMP = HTP_OMP"). The success rates are printed and saved as JSON.

With the defaults (n = 50, a 4 x 4 grid, 20 runs per cell, so "> 95 %" means
all 20 runs solved; the 12 algorithms of the paper) it runs in about a minute
on 2 cores. The paper's grid (n = 100, 10 x 10, delta 0.1 to 1) with 200
runs per cell and all algorithms is::

    python examples/plot_phase_transition.py --paper --n-runs 200 --n-jobs 2

(the user guide's 8 x 10 grid, delta 0.2 to 0.9, took 18 minutes of CPU at
200 runs per cell, about 10 minutes on 2 cores), and the paper's own run
count is ``--paper --n-runs 1000``. ``--max-iter``
sets the iteration budget of SEA, IHT and HTP, and ``--no-halting`` makes SEA
spend its whole budget (the poster's setting) instead of its default halting
rule.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skstexplore.experiments import (  # noqa: E402
    ALGORITHM_STYLES,
    ALGORITHMS,
    PhaseTransitionResult,
    identical_series,
    phase_transition,
)

PAPER_DELTAS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
PAPER_RHOS = [0.035, 0.07, 0.105, 0.14, 0.175, 0.21, 0.245, 0.28, 0.315, 0.35]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--deltas", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--rhos", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4])
    parser.add_argument("--paper", action="store_true",
                        help="n = 100 on the 10 x 10 grid delta 0.1..1, rho 0.035..0.35")
    parser.add_argument("--n-runs", type=int, default=20, help="problems per cell")
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=ALGORITHMS, metavar="NAME")
    parser.add_argument("--max-iter", type=int, default=None, help="iteration budget of SEA, IHT, HTP")
    parser.add_argument("--no-halting", action="store_true", help="SEA runs its whole budget")
    parser.add_argument("--normalize", action="store_true", help="unit-norm columns")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--results", default="phase_transition.json", help="JSON file written")
    parser.add_argument("--from-results", help="plot a saved JSON file instead of running")
    parser.add_argument("--output", default="phase_transition.png", help="figure written")
    args = parser.parse_args()
    if args.paper:
        args.n_features, args.deltas, args.rhos = 100, PAPER_DELTAS, PAPER_RHOS
    return args


def print_table(result):
    print(f"success rates over {result.n_runs} runs per cell, n = {result.settings['n_features']}")
    for i, delta in enumerate(result.deltas):
        print(f"delta = {delta:g}")
        print("  rho       " + " ".join(f"{rho:>6g}" for rho in result.rhos))
        for a, name in enumerate(result.algorithms):
            print(f"  {name:<9} " + " ".join(f"{rate:6.3f}" for rate in result.success[a, i]))
    print("95 % curves (largest rho solved, per delta; higher is better):")
    for name, curve in result.curves().items():
        print(f"  {name:<9} " + " ".join(f"{rho:6.3f}" for rho in curve))


def plot(result, path):
    curves = result.curves()
    fig, ax = plt.subplots(figsize=(7, 5))
    for group in identical_series(list(curves), list(curves.values())):
        style = ALGORITHM_STYLES[group[0]]
        ax.plot(result.deltas, curves[group[0]], markersize=5, label=" = ".join(group), **style)
    ax.set_xlabel(r"$\delta = m / n$")
    ax.set_ylabel(r"$\rho = k / m$ (higher is better)")
    runs = result.n_runs
    budget = result.settings.get("label", "")
    ax.set_title(f"Largest $\\rho$ with exact support recovery > 95 %\n"
                 f"n = {result.settings['n_features']}, {runs} runs per cell{budget}", fontsize=10)
    ax.set_ylim(0, max(result.rhos) * 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure saved to {path}")


def main():
    args = parse_args()
    if args.from_results:
        result = PhaseTransitionResult.from_json(args.from_results)
    else:
        result = phase_transition(
            args.n_features, args.deltas, args.rhos, n_runs=args.n_runs, algorithms=args.algorithms,
            normalize=args.normalize, n_jobs=args.n_jobs, random_state=args.random_state,
            max_iter=args.max_iter, halting=not args.no_halting,
        )
        result.to_json(args.results)
        print(f"results saved to {args.results} (wall time {result.settings['wall_time_s']:.1f} s)")
    print_table(result)
    plot(result, args.output)


if __name__ == "__main__":
    main()
