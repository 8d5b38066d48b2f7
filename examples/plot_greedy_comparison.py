"""
==============================================================
Recovery rate of the hard-thresholding family against sparsity
==============================================================

Noiseless compressed sensing, :math:`y = X w^*` with a Gaussian design of
unit-norm columns and :math:`k` Gaussian nonzeros: for growing :math:`k`, the
fraction of problems whose support IHT, HTP, OMPR, ELS and scikit-learn's OMP
recover exactly (higher is better). Each point is the rate over
``--designs x --targets`` problems (4 x 10 = 40 with the defaults, so a step
of 0.025 is one problem); each design is shared by ``--targets`` signals,
which our estimators solve in one vectorised fit.

With the defaults (m=50, n=100), all five recover every problem up to
k = 7 (their curves coincide there); beyond, ELS stays highest, then OMPR
and HTP, while IHT and OMP fall first. With 40 problems per point the
curves are jagged by a few problems; ``--designs 20`` smooths them.
``--n-samples 100 --n-features 200 --designs 20`` reproduces the setting of
the benchmark.
"""

import argparse
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import OrthogonalMatchingPursuit  # noqa: E402

from skstexplore import ELSRegressor, HTPRegressor, IHTRegressor, OMPRRegressor  # noqa: E402
from skstexplore.datasets import make_sparse_recovery  # noqa: E402

ESTIMATORS = {
    "IHT": IHTRegressor,
    "HTP": HTPRegressor,
    "OMPR": OMPRRegressor,
    "ELS": ELSRegressor,
    "OMP (scikit-learn)": OrthogonalMatchingPursuit,
}


def recovery_curve(n_samples, n_features, sparsities, n_designs, n_targets):
    """Exact-support recovery rate of every estimator for each sparsity."""
    rates = {name: [] for name in ESTIMATORS}
    for k in sparsities:
        hits = dict.fromkeys(ESTIMATORS, 0)
        for seed in range(n_designs):
            X, Y, coef = make_sparse_recovery(n_samples, n_features, k, n_targets=n_targets, random_state=seed)
            for name, cls in ESTIMATORS.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = cls(n_nonzero_coefs=k, fit_intercept=False).fit(X, Y)
                hits[name] += np.sum(np.all((est.coef_.reshape(coef.shape) != 0) == (coef != 0), axis=-1))
        for name in ESTIMATORS:
            rates[name].append(hits[name] / (n_designs * n_targets))
    return rates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=50)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--designs", type=int, default=4, help="random designs per sparsity")
    parser.add_argument("--targets", type=int, default=10, help="signals per design")
    parser.add_argument("--output", default="greedy_comparison.png")
    args = parser.parse_args(argv)
    sparsities = np.unique(np.linspace(1, 0.5 * args.n_samples, 12).astype(int))
    rates = recovery_curve(args.n_samples, args.n_features, sparsities, args.designs, args.targets)

    fig, ax = plt.subplots(figsize=(6.5, 4.3))
    for (name, values), marker, color in zip(rates.items(), "os^dx", ("C0", "C1", "C2", "C3", "C4")):
        ax.plot(sparsities, values, marker=marker, color=color, label=name)
    ax.set_xlabel("number of nonzeros k")
    ax.set_ylabel("exact support recovery rate (higher is better)")
    n_problems = args.designs * args.targets
    ax.set_title(f"Noiseless Gaussian design, m={args.n_samples}, n={args.n_features}\n"
                 f"{n_problems} problems per point ({args.designs} designs x {args.targets} signals)", fontsize=10)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"k: {sparsities.tolist()}")
    for name, values in rates.items():
        print(f"{name:20s} " + " ".join(f"{v:.2f}" for v in values))
    print(f"figure saved to {args.output}")


if __name__ == "__main__":
    main()
