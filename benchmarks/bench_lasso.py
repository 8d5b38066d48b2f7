"""OracleISTALasso, lasso_path and OracleISTALassoCV against sklearn, skglm and celer.

Every contender fits the same data in the same process; repeats are
interleaved (one run of each contender per round) and medians reported. Each
cell gives the median wall time, the time divided by ours (> 1: ours is
faster) and the relative objective gap ``(F - F_best) / F_best`` to the best
objective any contender reached on that case (for a path: the worst over its
alphas; for CV: of the final fit), so that a fast but inaccurate result shows.
All fit an intercept. ``tol`` is passed as is: sklearn, celer and ours stop on
the duality gap relative to ``||y||^2 / n``; skglm's ``tol`` bounds the
optimality violation (another scale), hence the accuracy column.

Cases (the table of issue 10, plus a sparse design):

* ``500x5000 a=0.1``  one target, alpha = 0.1 alpha_max;
* ``500x5000 a=0.01`` one target, alpha = 0.01 alpha_max;
* ``2000x1000 a=0.1`` one target;
* ``1000 targets``    1000 targets sharing a 64 x 256 design, alpha = 0.1 x median alpha_max
  (skglm and celer fit one target at a time);
* ``path 20``         20 alphas from alpha_max down to 1e-3 alpha_max on 2000 x 1000
  (sklearn ``lasso_path``, skglm and celer warm-started loops);
* ``CV``              5-fold ``LassoCV`` (100 alphas) on 1000 x 500, one target;
* ``sparse``          CSC 2000 x 10000 with 0.5 % nonzeros, alpha = 0.1 alpha_max.

Run: ``python benchmarks/bench_lasso.py --threads 1`` (sets the BLAS thread
variables before numpy loads); ``--busy`` keeps one core busy with a spinning
process during the measurements (killed at the end); ``--no-blas-limit``
disables the one-thread limit ours puts around small products.
"""

import argparse
import os
import subprocess
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-4, 1e-8])
    parser.add_argument("--cases", nargs="+", default=None, help="subset of case names (prefixes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-blas-limit", action="store_true",
                        help="never limit BLAS threads around small products (to measure what the limit brings)")
    return parser.parse_args()


ARGS = parse_args()
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = str(ARGS.threads)

import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Lasso, LassoCV  # noqa: E402
from sklearn.linear_model import lasso_path as sklearn_lasso_path  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

from skstexplore import OracleISTALasso, OracleISTALassoCV, lasso_path  # noqa: E402
from skstexplore.estimators import _lasso_problem  # noqa: E402

if ARGS.no_blas_limit:
    _lasso_problem._SMALL_PRODUCT = 0

PEERS = {}
for _module in ("skglm", "celer"):
    try:
        PEERS[_module] = __import__(_module)
    except ImportError:
        print(f"{_module} is not installed: its column is skipped (pip install skstexplore[bench])")

MAX_ITER = 100000


def gaussian(rng, n_samples, n_features, n_nonzero, n_targets=1, noise=0.5):
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros((n_features, n_targets))
    for t in range(n_targets):
        coef[rng.choice(n_features, n_nonzero, replace=False), t] = rng.standard_normal(n_nonzero)
    Y = X @ coef + noise * rng.standard_normal((n_samples, n_targets))
    return X, (Y[:, 0] if n_targets == 1 else Y)


def sparse_design(rng, n_samples, n_features, density, n_nonzero):
    X = sp.random(n_samples, n_features, density=density, format="csc", random_state=rng.integers(2**31),
                  data_rvs=rng.standard_normal)
    coef = np.zeros(n_features)
    coef[rng.choice(n_features, n_nonzero, replace=False)] = rng.standard_normal(n_nonzero)
    return X, X @ coef + 0.1 * rng.standard_normal(n_samples)


def centred(X, Y):
    Xd = X.toarray() if sp.issparse(X) else X
    return Xd - Xd.mean(axis=0), Y - Y.mean(axis=0)


def alpha_max(X, Y):
    Xc, Yc = centred(X, Y)
    return np.abs(Xc.T @ Yc.reshape(len(Yc), -1)).max(axis=0) / X.shape[0]


def objective(X, Y, coef, alpha):
    """sklearn's Lasso objective with the optimal intercept, per target (coef: (n_targets, n_features))."""
    Xc, Yc = centred(X, Y)
    R = Yc.reshape(len(Yc), -1) - Xc @ np.atleast_2d(coef).T
    return np.sum(R**2, axis=0) / (2 * X.shape[0]) + alpha * np.abs(np.atleast_2d(coef)).sum(axis=1)


# --- contenders: each returns coefficients (n_targets, n_features) or a path (n_alphas, ...)


def single_contenders(alpha, tol, multi):
    def ours(X, Y):
        return OracleISTALasso(alpha=alpha, tol=tol, max_iter=MAX_ITER).fit(X, Y).coef_

    def sklearn(X, Y):
        return Lasso(alpha=alpha, tol=tol, max_iter=MAX_ITER).fit(X, Y).coef_

    contenders = {"ours": ours, "sklearn": sklearn}
    for name, module in PEERS.items():
        def peer(X, Y, module=module):
            model = module.Lasso(alpha=alpha, tol=tol)
            if Y.ndim == 1:
                return model.fit(X, Y).coef_
            return np.array([model.fit(X, y).coef_ for y in Y.T])  # one target at a time
        contenders[name + (" (loop)" if multi else "")] = peer
    return contenders


def path_contenders(alphas, tol):
    def ours(X, y):
        Xc, yc = centred(X, y)
        return lasso_path(Xc, yc, alphas=alphas, tol=tol, max_iter=MAX_ITER)[1].T

    def sklearn(X, y):
        Xc, yc = centred(X, y)
        return sklearn_lasso_path(Xc, yc, alphas=alphas, tol=tol, max_iter=MAX_ITER)[1].T

    contenders = {"ours": ours, "sklearn": sklearn}
    for name, module in PEERS.items():
        def peer(X, y, module=module):
            model = module.Lasso(alpha=alphas[0], tol=tol, warm_start=True)
            return np.array([model.set_params(alpha=a).fit(X, y).coef_.copy() for a in alphas])
        contenders[name] = peer
    return contenders


def cv_contenders(tol):
    cv = KFold(5)

    def ours(X, y):
        model = OracleISTALassoCV(cv=cv, tol=tol, max_iter=MAX_ITER).fit(X, y)
        return model.alpha_, model.coef_

    def sklearn(X, y):
        model = LassoCV(cv=cv, tol=tol, max_iter=MAX_ITER).fit(X, y)
        return model.alpha_, model.coef_

    return {"ours": ours, "sklearn": sklearn}


def time_interleaved(contenders, X, Y, repeats):
    """Median time of each contender over interleaved rounds, and its last output."""
    times = {name: [] for name in contenders}
    outputs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, fit in contenders.items():  # warm-up: imports, caches
            outputs[name] = fit(X, Y)
        for _ in range(repeats):
            for name, fit in contenders.items():
                start = time.perf_counter()
                outputs[name] = fit(X, Y)
                times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}, outputs


def report(case, tol, times, gaps):
    ours = times["ours"]
    cells = "  ".join(f"{name}: {1e3 * t:8.1f} ms ({t / ours:5.2f}x, gap {gaps[name]:.1e})"
                      for name, t in times.items())
    print(f"{case:<18} tol={tol:.0e}  {cells}", flush=True)


def bench_single(case, X, Y, fraction, tol, multi=False):
    alpha = float(fraction * (np.median(alpha_max(X, Y)) if multi else alpha_max(X, Y)[0]))
    times, coefs = time_interleaved(single_contenders(alpha, tol, multi), X, Y, ARGS.repeats)
    F = {name: objective(X, Y, coef, alpha) for name, coef in coefs.items()}
    best = np.min(list(F.values()), axis=0)
    report(case, tol, times, {name: float(np.max((f - best) / best)) for name, f in F.items()})


def bench_path(case, X, y, tol):
    top = alpha_max(X, y)[0]
    alphas = np.geomspace(top, top * 1e-3, 20)
    times, paths = time_interleaved(path_contenders(alphas, tol), X, y, ARGS.repeats)
    F = {name: np.array([objective(X, y, c, a)[0] for c, a in zip(path, alphas)]) for name, path in paths.items()}
    best = np.min(list(F.values()), axis=0)
    report(case, tol, times, {name: float(np.max((f - best) / best)) for name, f in F.items()})


def bench_cv(case, X, y, tol):
    times, fits = time_interleaved(cv_contenders(tol), X, y, max(1, ARGS.repeats // 2))
    alphas = {name: alpha for name, (alpha, _) in fits.items()}
    F = {name: objective(X, y, coef, alphas["sklearn"])[0] for name, (_, coef) in fits.items()}
    best = min(F.values())
    report(case, tol, times, {name: (f - best) / best for name, f in F.items()})
    print(f"{'':<18} alpha_: ours {alphas['ours']:.6g}, sklearn {alphas['sklearn']:.6g}")


def main():
    rng = np.random.default_rng(ARGS.seed)
    data = {
        "500x5000": gaussian(rng, 500, 5000, 20),
        "2000x1000": gaussian(rng, 2000, 1000, 20),
        "1000 targets": gaussian(rng, 64, 256, 10, n_targets=1000, noise=0.1),
        "CV": gaussian(rng, 1000, 500, 20, noise=1.0),
        "sparse": sparse_design(rng, 2000, 10000, 0.005, 20),
    }
    cases = [
        ("500x5000 a=0.1", lambda tol: bench_single("500x5000 a=0.1", *data["500x5000"], 0.1, tol)),
        ("500x5000 a=0.01", lambda tol: bench_single("500x5000 a=0.01", *data["500x5000"], 0.01, tol)),
        ("2000x1000 a=0.1", lambda tol: bench_single("2000x1000 a=0.1", *data["2000x1000"], 0.1, tol)),
        ("1000 targets", lambda tol: bench_single("1000 targets", *data["1000 targets"], 0.1, tol, multi=True)),
        ("path 20", lambda tol: bench_path("path 20 (2000x1000)", *data["2000x1000"], tol)),
        ("CV", lambda tol: bench_cv("CV (1000x500)", *data["CV"], tol)),
        ("sparse", lambda tol: bench_single("sparse a=0.1", *data["sparse"], 0.1, tol)),
    ]
    busy = None
    if ARGS.busy:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        print(f"BLAS threads: {ARGS.threads}; busy core: {ARGS.busy}; BLAS limit around small products: "
              f"{not ARGS.no_blas_limit}; repeats: {ARGS.repeats} (interleaved, median)")
        for name, run in cases:
            if ARGS.cases and not any(name.startswith(prefix) for prefix in ARGS.cases):
                continue
            for tol in ARGS.tols:
                run(tol)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
