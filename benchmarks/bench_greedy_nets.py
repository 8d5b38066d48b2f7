"""OMP-Net and IHT-Net against OMP and IHT on the structured-sparsity model (the paper's Fig. 3 setting).

Signals of 256 unknowns with 10 nonzeros inside a hidden set of 20 indices
shared by all signals, measured by a subsampled orthonormal DCT (rows scaled
by sqrt(n/m)), noise N(0, (1e-3/sqrt(m))^2) per measurement; 1024 training and
512 held-out test signals (``skstexplore.datasets.make_structured_sparse_signals``).

1. Cost of training: median time of one forward pass and of one gradient
   evaluation (forward with trace + hand-derived backward) of each network on
   the 1024 training signals, and their ratio (target <= 3).
2. The number of measurements m: plain OMP (scikit-learn's ``orthogonal_mp``)
   and OMP restricted to the hidden set on the training signals for each
   candidate m; the smallest m where OMP fails (median relative error >= 0.3)
   and restricted OMP succeeds (<= 1e-2) is used for OMP-Net. For IHT-Net, IHT
   with step 0.5 and 30 iterations (the paper's setting), the smallest m where
   it only partly works (median relative error between 0.01 and 0.3).
3. Each network trained with the supervised loss (mean ||w_hat - w*||^2) by a
   continuation (``warm_start``: train at the first temperature, continue at
   the next ones; the last one is the network's; IHT-Net also grows from 3 to
   10 to 30 layers, the weights being shared by all layers), then the median
   test relative error ||w_hat - w*|| / ||w*|| of the network against OMP / IHT
   (targets: 1/10 of OMP's, 1/5 of IHT's), how many of the 20 largest learned
   weights lie in the hidden set (target >= 15), the training wall time and the
   encoding time of the test signals against OMP's / IHT's.

Timings are medians of interleaved repeats on whatever machine runs this (ours
was a shared, loaded 2-core box: compare the ratios, not the absolute times).

Run: ``python benchmarks/bench_greedy_nets.py`` (about 10-20 minutes of CPU);
``--n-train 256 --n-test 256`` for a quick look.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import orthogonal_mp

from skstexplore import IHTNet, OMPNet
from skstexplore._core.lstsq import LeastSquaresData
from skstexplore.datasets import make_structured_sparse_signals
from skstexplore.solvers.greedy_nets import loss_and_gradient, network_forward
from skstexplore.solvers.iht import iht
from timing import median_time

N_FEATURES, N_NONZERO, N_HIDDEN = 256, 10, 20


def relative_errors(codes, coef):
    return np.linalg.norm(codes - coef, axis=1) / np.linalg.norm(coef, axis=1)


def restricted(solver, X, Y, hidden):
    """Codes of ``solver`` run on the hidden columns only, scattered back."""
    codes = np.zeros((Y.shape[1], X.shape[1]))
    codes[:, hidden] = solver(X[:, hidden], Y)
    return codes


def omp(X, Y):
    return orthogonal_mp(X, Y, n_nonzero_coefs=N_NONZERO).T


def iht_fixed(step, n_iter):
    return lambda X, Y: iht(X, Y, N_NONZERO, step_size=step, max_iter=n_iter).coef


def draw(m, args):
    return make_structured_sparse_signals(m, N_FEATURES, N_NONZERO, n_hidden=N_HIDDEN,
                                          n_signals=(args.n_train, args.n_test), noise=1e-3 / np.sqrt(m),
                                          random_state=args.seed)


def choose_m(name, candidates, solver, accept, args):
    """Scan ``candidates`` on the training signals; return the first m that ``accept``s (plain, restricted)."""
    print(f"\n{name}: median training relative error against m")
    print(f"{'m':>4} {'plain':>10} {'hidden set':>11}")
    for m in candidates:
        X, Y, coef, _, _, hidden = draw(m, args)
        plain = np.median(relative_errors(solver(X, Y), coef))
        oracle = np.median(relative_errors(restricted(solver, X, Y, hidden), coef))
        print(f"{m:4d} {plain:10.3g} {oracle:11.3g}")
        if accept(plain, oracle):
            print(f"-> m = {m}")
            return m
    raise SystemExit(f"no candidate m fits for {name}; widen the candidates")


def cost_ratio(kind, net_config, X, Y, coef, repeats):
    """Median times of a forward pass and of a gradient evaluation (interleaved), and their ratio."""
    data = LeastSquaresData(X, Y, X.T @ X if X.shape[1] <= 2 * X.shape[0] else None)
    weights = 1.0 + 0.1 * np.random.default_rng(0).random(X.shape[1])
    forward, gradient = [], []
    for _ in range(repeats):
        forward.append(median_time(lambda: network_forward(kind, data, weights, net_config), 1))
        gradient.append(median_time(lambda: loss_and_gradient(kind, data, weights, net_config, coef), 1))
    return float(np.median(forward)), float(np.median(gradient))


def train(net, schedule, X, Y, coef):
    """Continuation: each (temperature, iterations[, layers]) stage warm-starts from the previous one's weights."""
    start = time.perf_counter()
    for stage, (temperature, max_iter, *layers) in enumerate(schedule):
        net.set_params(temperature=temperature, max_iter=max_iter, warm_start=stage > 0, **(
            {"n_layers": layers[0]} if layers else {}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit(X, Y, coef=coef)
        depth = f", {layers[0]} layers" if layers else ""
        print(f"   temperature {temperature:g}{depth}: {net.n_iter_} L-BFGS iterations, training loss "
              f"{net.train_loss_curve_[0]:.4g} -> {net.train_loss_curve_[-1]:.4g}", flush=True)
    return time.perf_counter() - start


def evaluate(name, net, schedule, baseline, m, args, repeats):
    X, Y, coef, Y_test, coef_test, hidden = draw(m, args)
    print(f"\n{name} at m = {m}: training on {args.n_train} signals, schedule {schedule}")
    kind = "omp" if isinstance(net, OMPNet) else "iht"
    config = {"n_nonzero_coefs": N_NONZERO, "temperature": schedule[-1][0]}
    if kind == "iht":
        config.update(step_size=net.step_size, n_layers=net.n_layers)
    forward_time, gradient_time = cost_ratio(kind, config, X, Y, coef, repeats)
    train_time = train(net, schedule, X, Y, coef)
    codes = net.encode(Y_test)
    base_codes = baseline(X, Y_test)
    net_error = np.median(relative_errors(codes, coef_test))
    base_error = np.median(relative_errors(base_codes, coef_test))
    oracle_error = np.median(relative_errors(restricted(baseline, X, Y_test, hidden), coef_test))
    top = np.argsort(-net.weights_)[:N_HIDDEN]
    in_hidden = int(np.isin(top, hidden).sum())
    net_time, base_time = [], []
    for _ in range(repeats):
        net_time.append(median_time(lambda: net.encode(Y_test), 1))
        base_time.append(median_time(lambda: baseline(X, Y_test), 1))
    base_name = "OMP" if kind == "omp" else "IHT"
    print(f"   one forward pass {forward_time:.3f} s, one gradient evaluation {gradient_time:.3f} s: "
          f"ratio {gradient_time / forward_time:.2f} (target <= 3)")
    print(f"   median test relative error: {base_name} {base_error:.3g}, {name} {net_error:.3g} "
          f"(ratio {net_error / base_error:.3g}), {base_name} on the hidden set {oracle_error:.3g}")
    print(f"   20 largest learned weights: {in_hidden} in the hidden set (target >= 15)")
    print(f"   training wall time {train_time:.1f} s; encoding {args.n_test} test signals "
          f"{np.median(net_time):.3f} s against {base_name}'s {np.median(base_time):.3f} s")
    return {"ratio": gradient_time / forward_time, "error_ratio": net_error / base_error, "in_hidden": in_hidden,
            "train_time": train_time, "net_error": net_error, "base_error": base_error}


def parse_schedule(text):
    """``"tau:iterations[:layers],..."`` -> list of stages."""
    stages = []
    for stage in text.split(","):
        tau, n_iter, *layers = stage.split(":")
        stages.append((float(tau), int(n_iter), *map(int, layers)))
    return stages


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, default=1024)
    parser.add_argument("--n-test", type=int, default=512)
    parser.add_argument("--omp-m", type=int, nargs="+", default=[20, 24, 28, 32],
                        help="candidate m for OMP-Net (the first that fits is used)")
    parser.add_argument("--iht-m", type=int, nargs="+", default=[36, 40, 44, 48, 56, 64],
                        help="candidate m for IHT-Net")
    parser.add_argument("--omp-schedule", type=parse_schedule, default=parse_schedule("0.1:40,0.01:10,0.001:5"),
                        help="temperature:iterations stages of OMP-Net's training")
    parser.add_argument("--iht-schedule", type=parse_schedule, default=parse_schedule("0.1:15:3,0.01:10:10,0.001:5:30"),
                        help="temperature:iterations:layers stages of IHT-Net's training (the last stage must "
                             "have --n-layers layers)")
    parser.add_argument("--step", type=float, default=0.5, help="IHT / IHT-Net step")
    parser.add_argument("--n-layers", type=int, default=30, help="IHT iterations / IHT-Net layers")
    parser.add_argument("--networks", nargs="+", default=["omp", "iht"], choices=["omp", "iht"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"structured sparsity: n = {N_FEATURES}, k = {N_NONZERO} inside a hidden set of {N_HIDDEN}, subsampled "
          f"DCT, noise 1e-3/sqrt(m); {args.n_train} training and {args.n_test} test signals, seed {args.seed}")
    results = {}
    if "omp" in args.networks:
        m = choose_m("OMP", args.omp_m, omp, lambda plain, oracle: plain >= 0.3 and oracle <= 1e-2, args)
        net = OMPNet(N_NONZERO, fit_intercept=False)
        results["OMP-Net"] = evaluate("OMP-Net", net, args.omp_schedule, omp, m, args, args.repeats)
    if "iht" in args.networks:
        baseline = iht_fixed(args.step, args.n_layers)
        m = choose_m(f"IHT (step {args.step}, {args.n_layers} iterations)", args.iht_m, baseline,
                     lambda plain, oracle: 0.01 <= plain <= 0.3, args)
        net = IHTNet(N_NONZERO, n_layers=args.n_layers, step_size=args.step, fit_intercept=False)
        results["IHT-Net"] = evaluate("IHT-Net", net, args.iht_schedule, baseline, m, args, args.repeats)
    print("\nsummary (targets: gradient/forward <= 3; OMP-Net error <= 1/10 of OMP's, IHT-Net <= 1/5 of IHT's; "
          ">= 15 of the 20 largest weights in the hidden set)")
    for name, r in results.items():
        print(f"{name}: gradient/forward {r['ratio']:.2f}, test median {r['net_error']:.3g} vs {r['base_error']:.3g} "
              f"(ratio {r['error_ratio']:.3g}), {r['in_hidden']}/20 in the hidden set, "
              f"training {r['train_time']:.0f} s")


if __name__ == "__main__":
    main()
