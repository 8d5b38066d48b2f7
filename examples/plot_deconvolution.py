"""Gaussian spike deconvolution (SEA paper, Figures 1 and 2).
==========================================================

Figure 1 (``*_example.png``): a k = 20 spike train (nonzeros in +-[1, 2]), its
observation blurred by a Gaussian kernel of width 3 (mutual coherence 0.97),
and, one panel per algorithm on a shared y axis (clipped at 1.5 times the
largest true spike), the spikes it recovers (grey: true spikes x*, coloured:
estimate); algorithms returning exactly the same estimate share a panel. Figure 2: the average support distance
``(k - |S* n supp(w)|) / k`` against k, lower is better, with standard errors;
series that are identical are drawn once and named together
("OMP = HTP_OMP").

With the defaults (20 runs per k, k in {5, 10, 15, 20}, the 12 algorithms of
the paper) it runs in about a minute on 2 cores; the paper's setting is
``--n-runs 200``. ``--max-iter`` sets the iteration budget of SEA, IHT and
HTP, ``--no-halting`` makes SEA spend its whole budget.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from skstexplore.datasets import make_gaussian_deconvolution  # noqa: E402
from skstexplore.experiments import (  # noqa: E402
    ALGORITHM_STYLES,
    ALGORITHMS,
    deconvolution_support_distance,
    fit_algorithms,
    identical_series,
)
from skstexplore.metrics import support_distance  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--width", type=float, default=3.0)
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 10, 15, 20])
    parser.add_argument("--n-runs", type=int, default=20, help="spike trains per k")
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=ALGORITHMS, metavar="NAME")
    parser.add_argument("--example-k", type=int, default=20, help="k of the example signal (Figure 1)")
    parser.add_argument("--max-iter", type=int, default=None, help="iteration budget of SEA, IHT, HTP")
    parser.add_argument("--no-halting", action="store_true", help="SEA runs its whole budget")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--output", default="deconvolution.png", help="Figure 2 path; Figure 1 gets _example")
    return parser.parse_args()


def options(args):
    return {"max_iter": args.max_iter, "halting": not args.no_halting}


def example_figure(args, path):
    X, y, coef = make_gaussian_deconvolution(args.n_features, args.example_k, width=args.width,
                                             random_state=args.random_state)
    estimates = fit_algorithms(args.algorithms, args.example_k, X, y, **options(args))
    groups = identical_series(args.algorithms, estimates)
    fig, axes = plt.subplots(len(groups) + 1, 1, figsize=(8, 1.3 * (len(groups) + 1)), sharex=True, sharey=True)
    pad = (len(y) - args.n_features) // 2
    truth = np.flatnonzero(coef)
    axes[0].plot(np.arange(-pad, args.n_features + pad), y, color="gray", label="observation y")
    axes[0].stem(truth, coef[truth], linefmt="C7-", markerfmt="C7o", basefmt=" ", label="true spikes x*")
    axes[0].legend(fontsize=7, loc="upper right", ncol=2)
    print(f"example signal, k = {args.example_k}: support distance per algorithm (lower is better)")
    for ax, group in zip(axes[1:], groups):
        w = estimates[args.algorithms.index(group[0])]
        style = ALGORITHM_STYLES[group[0]]
        found = np.flatnonzero(w)
        ax.stem(truth, coef[truth], linefmt="C7-", markerfmt="C7o", basefmt=" ")
        markers = ax.stem(found, w[found], basefmt=" ")
        plt.setp(markers.markerline, color=style["color"], marker=style["marker"])
        plt.setp(markers.stemlines, color=style["color"])
        distance = support_distance(coef, w)
        ax.set_title(f"{' = '.join(group)}: support distance {distance:.2f}", fontsize=8, loc="left")
        for name in group:
            print(f"  {name:<9} {distance:.3f}")
    # a shared scale for comparing the panels; estimates far off it (HTP from zero on this coherent
    # dictionary returns coefficients in the thousands) are clipped, their spikes still visible
    limit = 1.5 * np.max(np.abs(coef))
    axes[0].set_ylim(-limit, limit)
    fig.legend(handles=[Line2D([], [], color="C7", marker="o", label="true spikes x*"),
                        Line2D([], [], color="k", marker="x", linestyle="-", label="estimate (colour per algorithm)")],
               loc="lower center", ncol=2, fontsize=7)
    fig.suptitle(f"Gaussian deconvolution, width {args.width:g}, k = {args.example_k}, one signal", fontsize=10)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    print(f"figure saved to {path}")


def distance_figure(args, path):
    mean, std_error = deconvolution_support_distance(
        args.ks, n_features=args.n_features, width=args.width, n_runs=args.n_runs,
        algorithms=args.algorithms, n_jobs=args.n_jobs, random_state=args.random_state, **options(args),
    )
    print(f"mean support distance over {args.n_runs} runs (+- standard error; lower is better)")
    print("  k         " + " ".join(f"{k:>13d}" for k in args.ks))
    for name, m, s in zip(args.algorithms, mean, std_error):
        print(f"  {name:<9} " + " ".join(f"{a:6.3f}+-{b:5.3f}" for a, b in zip(m, s)))
    fig, ax = plt.subplots(figsize=(7, 5))
    for group in identical_series(args.algorithms, list(mean)):
        a = args.algorithms.index(group[0])
        ax.errorbar(args.ks, mean[a], yerr=std_error[a], markersize=5, capsize=2, label=" = ".join(group),
                    **ALGORITHM_STYLES[group[0]])
    ax.set_xlabel("k (number of spikes)")
    ax.set_ylabel("average support distance (lower is better)")
    ax.set_title(f"Gaussian deconvolution, width {args.width:g}, n = {args.n_features}, "
                 f"{args.n_runs} runs per k", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure saved to {path}")


def main():
    args = parse_args()
    stem, dot, ext = args.output.rpartition(".")
    example_figure(args, f"{stem}_example.{ext}" if dot else f"{args.output}_example")
    distance_figure(args, args.output)


if __name__ == "__main__":
    main()
