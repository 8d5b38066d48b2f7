"""Peak memory of every estimator at 20000 features and at 5000 targets.

Two settings, each fit in a fresh subprocess (so peaks do not mix):

* ``wide``: X of 200 x 20000, one target, the default ``n_nonzero_coefs``
  (k = 2000 for the k-sparse estimators);
* ``targets``: X of 200 x 1000 shared by 5000 targets (k = 100).

The peak is the largest amount of memory allocated by numpy and Python during
``fit`` (``tracemalloc``, which numpy reports to; the input arrays, made
before, are not counted) and, beside it, the growth of the process's maximum
resident set (``ru_maxrss``, which also sees BLAS/LAPACK workspaces). Each is
compared to the budget the estimator documents in its docstring ("Memory"
paragraph), evaluated by :func:`budget` below. Every process runs under an
address-space limit (``--limit-gb``, default 3), so an estimator that would
exceed the machine fails with ``MemoryError`` instead of taking it down.

Iteration budgets are cut (``max_iter``, ``n_layers`` small) because the peak
is reached in the first iterations and no estimator keeps anything
proportional to ``max_iter``; the run then takes a few minutes on 2 cores.

Run ``PYTHONPATH=. python benchmarks/bench_memory.py`` (``--only NAME`` for
some estimators, ``--setting wide|targets``).
"""

import argparse
import multiprocessing as mp
import resource
import time
import tracemalloc
import warnings

import numpy as np

MIB = 2**20
SETTINGS = {"wide": (200, 20000, 1), "targets": (200, 1000, 5000)}

# Constructor arguments: short iteration budgets, the memory-relevant defaults untouched.
PARAMS = {
    "IHTRegressor": {"max_iter": 5},
    "HTPRegressor": {"max_iter": 5},
    "OMPRRegressor": {"max_iter": 5},
    "ELSRegressor": {"max_iter": 1},
    "SEARegressor": {"max_iter": 20},
    "OracleISTALasso": {"alpha": 0.1, "max_iter": 20},
    "LearnedISTA": {"alpha": 0.1, "n_layers": 5, "max_iter": 2},
}


def budget(name, n_samples, n_features, n_targets, itemsize=8, k=None):
    """Bytes the estimator's docstring allows for ``fit`` (its "Memory" paragraph); default ``k``."""
    from skstexplore._core.memory import BLOCK_BYTES

    m, n, T = n_samples, n_features, n_targets
    k = max(int(0.1 * n), 1) if k is None else k
    data = 4 * m * (n + T) * itemsize
    per_target = T * n * itemsize
    gram = n * n * itemsize if n * n * itemsize <= 2**30 else 0
    if name == "IHTRegressor":
        return data + gram + 4 * per_target + 2 * BLOCK_BYTES
    if name == "OMPRRegressor":
        # one target's restricted solve and growth basis even when larger than a block
        return data + gram + 4 * per_target + 2 * BLOCK_BYTES + (6 * k * k + m * min(k, m)) * itemsize
    if name == "HTPRegressor":
        # the results (coefficients, support, their concatenation); a dozen (targets, n_features)
        # arrays of one block of targets (each within BLOCK_BYTES / 8); restricted solves within
        # 2 blocks, or one k x k system (the block, its factor, a solve's copy); (n_samples, k)
        # columns per target of the block
        rows = min(T, max(1, BLOCK_BYTES // 8 // (n * itemsize)))
        return (data + gram + 3 * per_target + 12 * rows * n * itemsize + 2 * BLOCK_BYTES
                + 3 * k * k * itemsize + rows * m * k * itemsize)
    if name == "ELSRegressor":
        rows = min(T, max(1, BLOCK_BYTES // (k * n * itemsize)))
        return data + gram + 4 * per_target + 8 * BLOCK_BYTES + 4 * rows * k * k * itemsize
    if name == "SEARegressor":
        # per-support store; without the Gram matrix, 256 MiB of its columns, or none when one
        # support's k columns exceed them: supports solved through X, per target of a block X_S
        # (twice), G_SS, its scaled copy and the eigenvectors of a min-norm solve (and a copy);
        # the k x k blocks of the column path gathered by blocks of targets
        store = column_budget = 256 * MIB
        if gram or k * n * itemsize <= column_budget:
            columns = 0 if gram else column_budget
        else:
            rows = min(T, max(1, BLOCK_BYTES // ((2 * m * k + k * k) * itemsize)))
            columns = rows * (2 * m * k + 4 * k * k) * itemsize
        return data + gram + 16 * per_target + store + columns + 2 * BLOCK_BYTES
    if name == "OracleISTALasso":
        return data + gram + 12 * per_target
    if name == "LearnedISTA":
        from skstexplore.solvers.lista import training_memory_bytes

        return data + training_memory_bytes(m, n, T, PARAMS[name]["n_layers"], "step")
    raise KeyError(name)


def problem(setting, seed=0):
    n_samples, n_features, n_targets = SETTINGS[setting]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    Y = rng.standard_normal((n_samples, n_targets))
    return X, Y[:, 0] if n_targets == 1 else Y


def _measure(name, setting, limit, queue):
    import skstexplore

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    X, y = problem(setting)
    est = getattr(skstexplore, name)(**PARAMS[name])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        outcome = "ok"
    except MemoryError as exc:
        outcome = f"MemoryError: {str(exc)[:90]}"
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    queue.put((peak, rss_growth, elapsed, outcome))


def measure(name, setting, limit):
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(name, setting, limit, queue))
    proc.start()
    proc.join()
    if queue.empty():
        return None, None, None, f"process died (exit code {proc.exitcode})"
    return queue.get()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=list(PARAMS),
                        help="estimators (a prefix suffices: IHT, ELS...)")
    parser.add_argument("--setting", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--limit-gb", type=float, default=3.0)
    args = parser.parse_args()
    limit = int(args.limit_gb * 2**30)
    names = [name for name in PARAMS if any(name.startswith(prefix) for prefix in args.only)]
    print(f"{'setting':8s} {'estimator':16s} {'peak MiB':>9s} {'maxrss+ MiB':>11s} {'budget MiB':>10s} "
          f"{'within':>6s} {'time s':>7s}  outcome")
    for setting in args.setting:
        n_samples, n_features, n_targets = SETTINGS[setting]
        for name in names:
            peak, rss, elapsed, outcome = measure(name, setting, limit)
            allowed = budget(name, n_samples, n_features, n_targets)
            if peak is None:
                print(f"{setting:8s} {name:16s} {'-':>9s} {'-':>11s} {allowed / MIB:10.0f} {'no':>6s} {'-':>7s}  {outcome}")
                continue
            within = "yes" if outcome == "ok" and peak <= allowed else "no"
            print(f"{setting:8s} {name:16s} {peak / MIB:9.0f} {rss / MIB:11.0f} {allowed / MIB:10.0f} "
                  f"{within:>6s} {elapsed:7.1f}  {outcome}", flush=True)


if __name__ == "__main__":
    main()
