"""Learned ISTA against ISTA and FISTA on held-out signals (Ablin et al. 2019 setting).

Gaussian dictionary with unit-norm atoms (256 atoms x 64 samples), signals with
i.i.d. N(0, 1) entries rescaled so that each has alpha_max = 1, alpha given as a
fraction of it. Every network is trained on the training signals and evaluated
on separate test signals with the metric of the paper: the mean over test
signals of F(z) - F*, F* from FISTA run to a duality gap of 1e-10 (checked
against scikit-learn's Lasso on a few signals).

For each alpha, prints at depth T (default 10): the test F - F* of ISTA, FISTA
and each trained network, its ratio to ISTA's at the same depth, how many ISTA
and FISTA iterations reach the same test F - F*, the training wall time, and
the inference time of the network against ISTA run long enough to match it
(median of repeats; both coded in NumPy, one thread unless told otherwise).

Run: ``python benchmarks/bench_lista.py`` (the full setting, several minutes
per parametrization on one core); ``--n-train 500 --n-test 500`` for a quick run.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from skstexplore import LearnedISTA
from skstexplore._core.lasso import lasso_objective
from skstexplore.datasets import make_lasso_signals
from skstexplore.solvers.ista import fista, ista, lipschitz_constant
from skstexplore.solvers.lista import PARAMETRIZATIONS, TRAINABLE, initial_parameters, loss_and_gradient, network_forward
from timing import median_time

NAMES = {"step": "SLISTA", "alista": "ALISTA", "coupled": "LISTA-CP", "lista": "LISTA"}


def optimal_objective(X, Y, alpha):
    """F* per signal: FISTA to a duality gap of 1e-10, cross-checked with sklearn's Lasso."""
    result = fista(X, Y, alpha, max_iter=100_000, tol=1e-10)
    F_star = lasso_objective(X, Y, result.coef, alpha)
    check = slice(0, 3)
    lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, Y[:, check])
    gap = np.abs(lasso_objective(X, Y[:, check], lasso.coef_, alpha) - F_star[check]).max()
    return F_star, gap, bool(result.converged.all())


def iterative_curve(solver, X, Y, alpha, F_star, n_iter):
    """Mean F - F* after each of ``n_iter`` iterations of ISTA or FISTA."""
    curve = []
    solver(X, Y, alpha, max_iter=n_iter, tol=0.0,
           callback=lambda coef, step: curve.append(np.mean(lasso_objective(X, Y, coef, alpha) - F_star)))
    return np.array(curve)


def iterations_to_match(curve, value):
    """First depth (1-based) whose F - F* is <= value, or None if the curve never gets there."""
    hits = np.flatnonzero(curve <= value)
    return int(hits[0]) + 1 if hits.size else None



def check_gradients_and_ista(seed):
    """Measured accuracy of the backward pass (central differences) and of the untrained network (= ISTA)."""
    rng = np.random.default_rng(seed)
    X, Y = make_lasso_signals(8, 15, 12, random_state=seed)
    alpha, T = 0.2, 4
    for parametrization in PARAMETRIZATIONS:
        keys = TRAINABLE[parametrization]
        params = initial_parameters(X, alpha, T, parametrization)
        for key in keys:  # a generic point away from the ISTA initialisation
            params[key] = params[key] * (1 + 0.2 * rng.standard_normal(params[key].shape))
        _, grads = loss_and_gradient(X, Y, params, alpha, parametrization)
        errors, scale = [], max(np.abs(grads[key]).max() for key in keys)
        for key in keys:
            for index in np.ndindex(params[key].shape):
                fd = []
                for sign in (1, -1):
                    trial = {**params, key: params[key].copy()}
                    trial[key][index] += sign * 1e-6
                    fd.append(loss_and_gradient(X, Y, trial, alpha, parametrization)[0])
                errors.append(abs((fd[0] - fd[1]) / 2e-6 - grads[key][index]))
        untrained = initial_parameters(X, alpha, 7, parametrization)
        if parametrization == "alista":
            untrained["weights"] = X  # ALISTA with W = X is ISTA
        codes = network_forward(X, Y, untrained, alpha, parametrization)
        reference = ista(X, Y, alpha, max_iter=7, tol=0.0).coef
        print(f"{parametrization:>8}: {len(errors):4d} parameters, max |grad - central FD| / max |grad| = "
              f"{max(errors) / scale:.1e}; untrained 7 layers vs 7 ISTA iterations: max relative difference "
              f"{np.abs(codes - reference).max() / np.abs(reference).max():.1e}")


def run_alpha(args, X, Y_train, Y_test, alpha_ratio):
    alpha = alpha_ratio  # signals have alpha_max = 1
    T = args.depth
    F_star, lasso_check, converged = optimal_objective(X, Y_test, alpha)
    ista_curve = iterative_curve(ista, X, Y_test, alpha, F_star, args.max_ista)
    fista_curve = iterative_curve(fista, X, Y_test, alpha, F_star, args.max_ista)
    L = lipschitz_constant(X)
    print(f"\nalpha = {alpha_ratio} x alpha_max   (F* check: FISTA converged={converged}, "
          f"max |F*_FISTA - F*_sklearn| = {lasso_check:.1e} on 3 signals; mean F* = {F_star.mean():.6g})")
    header = (f"{'method':>10} {'test F-F*':>11} {'/ ISTA-' + str(T):>9} {'ISTA its':>8} {'FISTA its':>9} "
              f"{'train s':>8} {'encode s':>9} {'ISTA-match s':>12} {'speedup':>7}")
    print(header)
    print("-" * len(header))

    def row(name, value, train_time="", encode_time=None):
        n_ista = iterations_to_match(ista_curve, value)
        n_fista = iterations_to_match(fista_curve, value)
        timing = ""
        if encode_time is not None and n_ista is not None:
            ista_time = median_time(lambda: ista(X, Y_test, alpha, max_iter=n_ista, tol=0.0, lipschitz=L),
                                    args.repeats)
            timing = f"{encode_time:9.3f} {ista_time:12.3f} {ista_time / encode_time:6.1f}x"
        fmt = lambda n: f">{args.max_ista}" if n is None else str(n)
        print(f"{name:>10} {value:11.4e} {value / ista_curve[T - 1]:9.3g} {fmt(n_ista):>8} {fmt(n_fista):>9} "
              f"{train_time:>8} {timing}")

    row(f"ISTA-{T}", ista_curve[T - 1])
    row(f"FISTA-{T}", fista_curve[T - 1])
    for parametrization in args.parametrizations:
        layerwise = parametrization in ("coupled", "lista")
        max_iter = args.max_iter_per_layer if layerwise else args.max_iter
        model = LearnedISTA(alpha=alpha, n_layers=T, parametrization=parametrization, max_iter=max_iter,
                            tol=args.tol, fit_intercept=False)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, Y_train)
        train_time = time.perf_counter() - start
        codes = model.encode(Y_test)
        value = float(np.mean(lasso_objective(X, Y_test, codes, alpha) - F_star))
        encode_time = median_time(lambda: model.encode(Y_test), args.repeats)
        row(f"{NAMES[parametrization]}-{T}", value, f"{train_time:8.1f}", encode_time)
        print(f"{'':>10} ({model.n_iter_} L-BFGS iterations, train loss {model.train_loss_curve_[0]:.6g} -> "
              f"{model.train_loss_curve_[-1]:.6g})")
        if parametrization == "step":
            print(f"{'':>10} learned steps x L: {np.array2string(model.steps_ * L, precision=2)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-features", type=int, default=256)
    parser.add_argument("--n-samples", type=int, default=64)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.1, 0.8], help="fractions of alpha_max")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--parametrizations", nargs="+", default=list(NAMES), choices=list(NAMES))
    parser.add_argument("--max-iter", type=int, default=300, help="L-BFGS iterations for step and alista")
    parser.add_argument("--max-iter-per-layer", type=int, default=50,
                        help="L-BFGS iterations per stage of the layer-wise training of coupled and lista")
    parser.add_argument("--tol", type=float, default=1e-6,
                        help="LearnedISTA tol (its default, 1e-4, stops earlier)")
    parser.add_argument("--max-ista", type=int, default=1000, help="longest ISTA/FISTA run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check-gradients", action="store_true",
                        help="only measure the gradients against finite differences and the untrained network "
                             "against ISTA (seconds)")
    args = parser.parse_args()
    if args.check_gradients:
        check_gradients_and_ista(args.seed)
        return
    X, Y_train, Y_test = make_lasso_signals(
        args.n_samples, args.n_features, (args.n_train, args.n_test), random_state=args.seed
    )
    print(f"dictionary {args.n_samples} x {args.n_features}, {args.n_train} training and {args.n_test} test "
          f"signals, depth {args.depth}, L-BFGS max_iter={args.max_iter} (step, alista), "
          f"{args.max_iter_per_layer} per layer (coupled, lista), tol={args.tol}")
    for alpha_ratio in args.alphas:
        run_alpha(args, X, Y_train, Y_test, alpha_ratio)


if __name__ == "__main__":
    main()
