"""
=====================================================
Learned ISTA: suboptimality against depth, and steps
=====================================================

Reproduces the two figures of Ablin et al. (NeurIPS 2019) on a Gaussian
dictionary (256 atoms x 64 samples, unit-norm atoms), signals with N(0, 1)
entries rescaled so that each has alpha_max = 1:

1. top row: mean test ``F(z) - F*`` (lower is better) against the depth
   (number of layers / iterations) for ISTA and FISTA (lines: one run of
   each, read at every iteration) and for networks trained at each depth
   (markers only: each marker is a separate network of that many layers,
   trained on ``--n-train`` signals): SLISTA ("step"), ALISTA, LISTA-CP
   ("coupled") and LISTA, for alpha = 0.1 and 0.8 x alpha_max;
2. bottom row: the steps learned by the deepest SLISTA network (in units of
   ISTA's 1/L) against the distribution of L / L_S over the supports S of
   the test codes entering each layer (L_S = ||X_S||^2 / n; boxes: quartiles
   and median, whiskers: 1.5 IQR).

What the figure shows with the defaults (100 training and 100 test signals,
depths 2 and 10, short training): at alpha = 0.8 alpha_max, where the codes
are very sparse, the learned steps (about 6 to 7 x 1/L) sit inside the
L / L_S boxes, i.e. SLISTA learns the support-adapted steps 1/L_S that
Oracle ISTA computes, and SLISTA-10 is orders of magnitude below FISTA-10.
At alpha = 0.1 alpha_max this does **not** hold: the supports are larger
(L / L_S between 1.1 and 2), yet the learned steps grow with the depth to
about 6 x 1/L, far above 1/L_S; the network learns over-relaxed steps
rather than 1/L_S. LISTA-CP and LISTA reach nearly the same values at
alpha = 0.8 (their markers overlap).

Small defaults (16 networks, 100 signals) took about a minute on an idle
2-core machine when first measured, and 13 minutes in a docs build on our
shared 2-core machine loaded by other jobs (load average about 17);
``--full`` is the paper's setting (2000 signals each, every depth from 1 to
20, longer training)::

    python examples/plot_learned_ista.py                # about a minute
    python examples/plot_learned_ista.py --full         # much longer
"""

import argparse
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Lasso  # noqa: E402

from skstexplore import LearnedISTA  # noqa: E402
from skstexplore._core.lasso import lasso_objective  # noqa: E402
from skstexplore._core.lipschitz import spectral_norm_sq  # noqa: E402
from skstexplore.datasets import make_lasso_signals  # noqa: E402
from skstexplore.solvers.ista import fista, ista  # noqa: E402

LABELS = {"step": "SLISTA", "alista": "ALISTA", "coupled": "LISTA-CP", "lista": "LISTA"}
STYLES = {"step": ("C0", "o"), "alista": ("C1", "s"), "coupled": ("C2", "^"), "lista": ("C3", "D")}


def solver_curve(solver, X, Y, alpha, F_star, n_iter):
    curve = []
    solver(X, Y, alpha, max_iter=n_iter, tol=0.0,
           callback=lambda coef, step: curve.append(np.mean(lasso_objective(X, Y, coef, alpha) - F_star)))
    return np.array(curve)


def train(X, Y, alpha, depth, parametrization, args):
    layerwise = parametrization in ("coupled", "lista")
    model = LearnedISTA(alpha=alpha, n_layers=depth, parametrization=parametrization, fit_intercept=False,
                        max_iter=args.max_iter_per_layer if layerwise else args.max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, Y)


def plot_depth_curves(ax, X, Y_train, Y_test, alpha, args):
    # F* from coordinate descent, an independent reference (and 15x faster here than FISTA to the same gap)
    lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, Y_test)
    F_star = lasso_objective(X, Y_test, lasso.coef_, alpha)
    depth_max = max(args.depths)
    steps = np.arange(1, depth_max + 1)
    ax.semilogy(steps, solver_curve(ista, X, Y_test, alpha, F_star, depth_max), "k-", label="ISTA")
    ax.semilogy(steps, solver_curve(fista, X, Y_test, alpha, F_star, depth_max), "--", color="0.5", label="FISTA")
    deepest_slista = None
    for parametrization in args.parametrizations:
        gaps = []
        for depth in args.depths:
            model = train(X, Y_train, alpha, depth, parametrization, args)
            if parametrization == "step" and depth == depth_max:
                deepest_slista = model
            gaps.append(np.mean(lasso_objective(X, Y_test, model.encode(Y_test), alpha) - F_star))
            print(f"alpha={alpha} {LABELS[parametrization]}-{depth}: test F - F* = {gaps[-1]:.3e}")
        color, marker = STYLES[parametrization]
        # markers only: networks of different depths are different networks, not one curve
        ax.semilogy(args.depths, gaps, linestyle="none", marker=marker, color=color, markersize=8,
                    markerfacecolor="none" if parametrization == "lista" else color, label=LABELS[parametrization])
    ax.set(xlabel="layers / iterations", ylabel="mean test F - F* (lower is better)",
           title=f"alpha = {alpha} alpha_max: {Y_test.shape[1]} test signals,\n"
                 f"one network per depth and method, trained on {args.n_train} signals")
    ax.legend(title="markers: trained networks", fontsize=8)
    return deepest_slista


def plot_steps_against_oracle(ax, X, model, Y_test, alpha):
    """Learned steps and the distribution of L / L_S over the supports entering each layer."""
    n_samples, depth, L = X.shape[0], model.n_layers, model.lipschitz_
    ratios = []
    for t in range(1, depth):
        # codes entering layer t + 1: the output of the first t layers (layer 1 starts from 0)
        codes = model.encode(Y_test, n_layers=t)
        supports = [np.flatnonzero(z) for z in codes if np.any(z)]
        ratios.append([L / (spectral_norm_sq(X[:, S]) / n_samples) for S in supports])
    boxes = ax.boxplot(ratios, positions=np.arange(2, depth + 1), widths=0.6, showfliers=False, manage_ticks=False,
                       patch_artist=True, boxprops=dict(facecolor="0.85"), medianprops=dict(color="k"))
    boxes["boxes"][0].set_label(f"L / L_S of the test codes entering the layer ({Y_test.shape[1]} signals)")
    ax.plot(np.arange(1, depth + 1), model.steps_ * L, "o-", color="C0", label="learned SLISTA step x L")
    ax.axhline(1.0, color="k", linestyle=":", label="ISTA step 1/L")
    ax.set(xlabel="layer", ylabel="step x L (higher: larger step)",
           title=f"SLISTA-{depth} steps vs 1/L_S (alpha = {alpha} alpha_max)")
    ax.set_xticks(np.arange(1, depth + 1))
    ax.legend()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the paper's setting (long)")
    parser.add_argument("--n-train", type=int, default=100)
    parser.add_argument("--n-test", type=int, default=100)
    parser.add_argument("--depths", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--parametrizations", nargs="+", default=list(LABELS), choices=list(LABELS))
    parser.add_argument("--max-iter", type=int, default=20, help="L-BFGS iterations for step and alista")
    parser.add_argument("--max-iter-per-layer", type=int, default=3, help="per stage, for coupled and lista")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="learned_ista.png")
    args = parser.parse_args()
    if args.full:
        args.n_train, args.n_test, args.depths = 2000, 2000, list(range(1, 21))
        args.max_iter, args.max_iter_per_layer = 300, 50
    X, Y_train, Y_test = make_lasso_signals(64, 256, (args.n_train, args.n_test), random_state=args.seed)
    fig, axes = plt.subplots(2, 2, figsize=(13, 10))
    for column, alpha in enumerate((0.1, 0.8)):
        slista = plot_depth_curves(axes[0, column], X, Y_train, Y_test, alpha, args)
        if slista is None:
            slista = train(X, Y_train, alpha, max(args.depths), "step", args)
        plot_steps_against_oracle(axes[1, column], X, slista, Y_test, alpha)
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
