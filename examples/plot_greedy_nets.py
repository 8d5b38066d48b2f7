"""
==========================================================================
OMP-Net and IHT-Net learn a hidden support structure (the paper's Fig. 3).
==========================================================================

Signals of 256 unknowns whose 10 nonzeros lie inside a hidden set of 20
indices shared by all signals, measured by a subsampled orthonormal DCT with
noise 1e-3/sqrt(m) per measurement. OMP-Net and IHT-Net (step 0.5, 30 layers)
learn their structure-aware weights from training signals and their codes
(supervised loss), by a continuation (train at temperature 0.1, continue with
``warm_start`` at 0.01 and 0.001; IHT-Net also grows from 3 to 10 to 30
layers); then, on held-out test signals:

1. box plots of the relative error ``||w_hat - w*|| / ||w*||`` of OMP vs
   OMP-Net and IHT vs IHT-Net (lower is better; one point per test signal);
2. the learned weights, with the hidden set marked: they peak on it.

Defaults (256 training and 256 test signals, short training) run in about a
minute on an idle 2-core machine; ``--full`` is the paper's setting (1024
training and 512 test signals, longer training; see also
``benchmarks/bench_greedy_nets.py``, which also chooses m)::

    python examples/plot_greedy_nets.py
    python examples/plot_greedy_nets.py --full
"""

import argparse
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import orthogonal_mp  # noqa: E402

from skstexplore import IHTNet, OMPNet  # noqa: E402
from skstexplore.datasets import make_structured_sparse_signals  # noqa: E402
from skstexplore.solvers.iht import iht  # noqa: E402

K, N_FEATURES, N_HIDDEN = 10, 256, 20


def relative_errors(codes, coef):
    return np.linalg.norm(codes - coef, axis=1) / np.linalg.norm(coef, axis=1)


def fit_with_continuation(net, schedule, X, Y, coef):
    """Stages (temperature, iterations[, layers]), each warm-started from the previous weights."""
    for stage, (temperature, max_iter, *layers) in enumerate(schedule):
        net.set_params(temperature=temperature, max_iter=max_iter, warm_start=stage > 0,
                       **({"n_layers": layers[0]} if layers else {}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit(X, Y, coef=coef)
    return net


def experiment(name, m, args):
    X, Y, coef, Y_test, coef_test, hidden = make_structured_sparse_signals(
        m, N_FEATURES, K, n_hidden=N_HIDDEN, n_signals=(args.n_train, args.n_test), noise=1e-3 / np.sqrt(m),
        random_state=args.seed)
    if name == "OMP":
        net = OMPNet(K, fit_intercept=False)
        baseline = orthogonal_mp(X, Y_test, n_nonzero_coefs=K).T
    else:
        net = IHTNet(K, n_layers=30, step_size=0.5, fit_intercept=False)
        baseline = iht(X, Y_test, K, step_size=0.5, max_iter=30).coef
    fit_with_continuation(net, args.schedules[name], X, Y, coef)
    errors = {name: relative_errors(baseline, coef_test),
              f"{name}-Net": relative_errors(net.encode(Y_test), coef_test)}
    for label, values in errors.items():
        print(f"m={m} {label}: median test relative error {np.median(values):.3g} over {len(values)} signals")
    top = np.argsort(-net.weights_)[:N_HIDDEN]
    print(f"m={m} {name}-Net: {np.isin(top, hidden).sum()} of the {N_HIDDEN} largest weights in the hidden set")
    return errors, net.weights_, hidden


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the paper's sizes, longer training")
    parser.add_argument("--n-train", type=int, default=256)
    parser.add_argument("--n-test", type=int, default=256)
    parser.add_argument("--m-omp", type=int, default=24, help="measurements for OMP / OMP-Net")
    parser.add_argument("--m-iht", type=int, default=44, help="measurements for IHT / IHT-Net")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="greedy_nets.png")
    args = parser.parse_args()
    # IHT-Net also grows from 3 to 10 to 30 layers (its weights are shared by all layers)
    args.schedules = {"OMP": [(0.1, 15), (0.01, 5), (0.001, 3)], "IHT": [(0.1, 10, 3), (0.01, 5, 10), (0.001, 3, 30)]}
    if args.full:
        args.n_train, args.n_test = 1024, 512
        args.schedules = {"OMP": [(0.1, 40), (0.01, 10), (0.001, 5)],
                          "IHT": [(0.1, 15, 3), (0.01, 10, 10), (0.001, 5, 30)]}
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), gridspec_kw={"width_ratios": [1, 2]})
    for row, (name, m) in enumerate((("OMP", args.m_omp), ("IHT", args.m_iht))):
        errors, weights, hidden = experiment(name, m, args)
        ax = axes[row, 0]
        ax.boxplot(list(errors.values()), tick_labels=list(errors), showfliers=True)
        ax.set(yscale="log", ylabel="test relative error (lower is better)",
               title=f"{name} vs {name}-Net, m = {m} ({args.n_test} test signals)")
        ax = axes[row, 1]
        ax.stem(np.arange(N_FEATURES), weights, markerfmt=" ", basefmt=" ", label="learned weight")
        ax.plot(hidden, np.full(len(hidden), 1.05), "rv", ms=5, label="hidden set")
        ax.set(xlabel="index", ylabel="weight (largest = 1)",
               title=f"{name}-Net weights after training on {args.n_train} signals")
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
