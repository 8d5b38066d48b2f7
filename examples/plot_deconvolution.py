"""Gaussian spike deconvolution (SEA paper, Figures 1 and 2).
==========================================================

Figure 1: a k = 20 spike train (nonzeros in +-[1, 2]), its observation blurred
by a Gaussian kernel of width 3 (mutual coherence 0.97), and the spikes each
algorithm recovers. Figure 2: the average support distance
``(k - |S* n supp(w)|) / k`` against k over many runs. The defaults run in about
a minute; the paper's setting is ``--n-runs 200``.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from skstexplore.datasets import make_gaussian_deconvolution  # noqa: E402
from skstexplore.experiments import ALGORITHMS, fit_algorithm, deconvolution_support_distance  # noqa: E402
from skstexplore.metrics import support_distance  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--width", type=float, default=3.0)
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 10, 15, 20])
    parser.add_argument("--n-runs", type=int, default=10)
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS))
    parser.add_argument("--example-k", type=int, default=20, help="k of the example signal (Figure 1)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--output", default="deconvolution.png", help="Figure 2 path; Figure 1 gets _example")
    return parser.parse_args()


def example_figure(args, path):
    X, y, coef = make_gaussian_deconvolution(args.n_features, args.example_k, width=args.width,
                                             random_state=args.random_state)
    n = len(args.algorithms)
    fig, axes = plt.subplots(n + 1, 1, figsize=(8, 1.4 * (n + 1)), sharex=True)
    pad = (len(y) - args.n_features) // 2
    axes[0].plot(np.arange(-pad, args.n_features + pad), y, color="gray", label="observation y")
    axes[0].stem(np.flatnonzero(coef), coef[coef != 0], basefmt=" ", label="x*")
    axes[0].legend(fontsize=7, loc="upper right")
    print(f"example signal, k = {args.example_k}: support distance per algorithm")
    for ax, name in zip(axes[1:], args.algorithms):
        w = fit_algorithm(name, args.example_k, X, y)
        distance = support_distance(coef, w)
        ax.stem(np.flatnonzero(coef), coef[coef != 0], linefmt="C7-", markerfmt="C7o", basefmt=" ")
        ax.stem(np.flatnonzero(w), w[w != 0], linefmt="C3-", markerfmt="C3x", basefmt=" ")
        ax.set_ylabel(name, fontsize=8)
        ax.set_title(f"support distance {distance:.2f}", fontsize=7, loc="right")
        print(f"  {name:<9} {distance:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"figure saved to {path}")


def distance_figure(args, path):
    mean, std_error = deconvolution_support_distance(
        args.ks, n_features=args.n_features, width=args.width, n_runs=args.n_runs,
        algorithms=args.algorithms, n_jobs=args.n_jobs, random_state=args.random_state,
    )
    print(f"mean support distance over {args.n_runs} runs (+- standard error)")
    print("  k         " + " ".join(f"{k:>13d}" for k in args.ks))
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, m, s in zip(args.algorithms, mean, std_error):
        print(f"  {name:<9} " + " ".join(f"{a:6.3f}+-{b:5.3f}" for a, b in zip(m, s)))
        style = "-" if name.startswith("SEA") else "--" if "_" in name else ":"
        ax.errorbar(args.ks, m, yerr=s, fmt=style, marker="o", markersize=3, capsize=2, label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("average support distance")
    ax.set_title(f"Gaussian deconvolution, width {args.width:g}, {args.n_runs} runs")
    ax.legend(fontsize=8, ncol=2)
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
