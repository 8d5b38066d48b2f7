"""The reproductions of issue 8 (reliability at the edges), one line of outcome each.

Every case runs in its own subprocess with a time limit (hangs show as
``TIMEOUT``) and an address-space limit (memory blow-ups show as
``MemoryError``), so the script is safe on a shared machine::

    PYTHONPATH=. python benchmarks/reliability_cases.py            # all cases
    PYTHONPATH=. python benchmarks/reliability_cases.py ihtx1e80   # some cases

``RELIABILITY_TIME_LIMIT_S`` sets the time limit of a case (180 s by default).
The outcome is what a user sees: the figure the issue quotes, the exception
type and the start of its message, and the warnings raised.
"""

import multiprocessing as mp
import os
import resource
import sys
import traceback
import warnings

import numpy as np

TIME_LIMIT_S = int(os.environ.get("RELIABILITY_TIME_LIMIT_S", "180"))
MEMORY_LIMIT_BYTES = 3 * 2**30


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 30)), rng.standard_normal(20)


def r2(est, X, y):
    return f"R2={est.score(X, y):.3g}"


def coef_str(coef):
    return np.array2string(np.asarray(coef), precision=3, max_line_width=200)


def est(name, **kw):
    import skstexplore

    return getattr(skstexplore, name)(**kw)


def case_oista_alpha0():
    from sklearn.linear_model import LinearRegression

    X, y = data()
    m = est("OracleISTALasso", alpha=0.0).fit(X, y)
    ls = LinearRegression().fit(X, y)
    return (f"nnz={np.count_nonzero(m.coef_)} gap={m.dual_gap_:.3g} n_iter={m.n_iter_} {r2(m, X, y)} "
            f"(least squares R2={ls.score(X, y):.3g})")


def case_oista_gap_cancel():
    # constant columns without intercept: X^T r computed as X^T y - G w cancels
    X, y = data()
    X = np.ones_like(X)
    m = est("OracleISTALasso", alpha=1e-36, max_iter=50, fit_intercept=False).fit(X, y)
    w = m.coef_
    Xc, yc = X, y
    r = yc - Xc @ w
    n = len(y)
    # true duality gap with sklearn's scaling, dual point r / max(1, |X^T r|_inf / (n alpha))
    scale = max(1.0, np.abs(Xc.T @ r).max() / (n * 1e-36))
    theta = r / scale
    primal = r @ r / (2 * n) + 1e-36 * np.abs(w).sum()
    dual = (yc @ yc - (yc - theta) @ (yc - theta)) / (2 * n)
    return f"reported gap={m.dual_gap_:.3g} true gap={primal - dual:.3g}"


def case_const_cols_htp():
    _, y = data()
    X = np.tile([0.1, 0.7, 0.35738041], (10, 1))
    m = est("HTPRegressor", n_nonzero_coefs=2).fit(X, y[:10])
    batched = est("HTPRegressor", n_nonzero_coefs=2).fit(X, np.c_[y[:10], y[10:]]).coef_[0]
    return f"coef={coef_str(m.coef_)} batched_row0={coef_str(batched)}"


def _tiny_informative():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 30))
    X[:, 3] *= 1e-7
    y = X[:, [3, 7, 11]] @ np.array([2e7, 1.0, -1.0])
    return X, y


def case_els_tiny_column():
    X, y = _tiny_informative()
    m = est("ELSRegressor", n_nonzero_coefs=3).fit(X, y)
    return f"{r2(m, X, y)} support={np.flatnonzero(m.support_).tolist()}"


def case_iht_omp_batching():
    import skstexplore

    bad_batch = bad_pre = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        X, Y = rng.standard_normal((15, 25)), rng.standard_normal((15, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            multi = skstexplore.IHTRegressor(n_nonzero_coefs=3, init="omp").fit(X, Y).coef_
            single = np.array([skstexplore.IHTRegressor(n_nonzero_coefs=3, init="omp").fit(X, Y[:, t]).coef_
                               for t in range(2)])
            g1 = skstexplore.IHTRegressor(n_nonzero_coefs=3, init="omp", precompute=True).fit(X, Y[:, 0]).coef_
            g0 = skstexplore.IHTRegressor(n_nonzero_coefs=3, init="omp", precompute=False).fit(X, Y[:, 0]).coef_
        bad_batch += not np.array_equal(multi != 0, single != 0) or not np.allclose(multi, single, rtol=1e-6, atol=0)
        bad_pre += not np.array_equal(g1 != 0, g0 != 0) or not np.allclose(g1, g0, rtol=1e-6, atol=0)
    return f"multi!=single in {bad_batch}/200 seeds, precompute True!=False in {bad_pre}/200"


def _support_vs_unit(name, x_scale=1.0, y_scale=1.0, dtype=np.float64, **kw):
    X, y = data()
    ref = est(name, n_nonzero_coefs=3, **kw).fit(X, y)
    m = est(name, n_nonzero_coefs=3, **kw).fit((X * x_scale).astype(dtype), (y * y_scale).astype(dtype))
    same = np.array_equal(m.support_, ref.support_)
    rel = float(np.max(np.abs(m.coef_ * x_scale / y_scale - ref.coef_)) / np.max(np.abs(ref.coef_)))
    # R^2 in unit scale: sklearn's score itself overflows at y ~ 1e155
    fitted = X @ (m.coef_ * x_scale / y_scale)
    score = 1 - np.sum((y - y.mean() - fitted + fitted.mean()) ** 2) / np.sum((y - y.mean()) ** 2)
    return f"same_support={same} coef_rel_err={rel:.2g} R2={score:.3g}"


def case_iht_x1e80():
    return _support_vs_unit("IHTRegressor", x_scale=1e80)


def case_iht_x1em100():
    return _support_vs_unit("IHTRegressor", x_scale=1e-100)


def _f32_1e19(name):
    X, y = data()
    Xs = (X * 1e19).astype(np.float32)
    kw = {"alpha": 0.01} if name == "OracleISTALasso" else {"n_nonzero_coefs": 3}
    m = est(name, **kw).fit(Xs, y.astype(np.float32))
    return f"nnz={np.count_nonzero(m.coef_)} R2={m.score(Xs, y.astype(np.float32)):.3g}"


def case_f32_1e19_iht():
    return _f32_1e19("IHTRegressor")


def case_f32_1e19_ompr():
    return _f32_1e19("OMPRRegressor")


def case_f32_1e19_els():
    return _f32_1e19("ELSRegressor")


def case_f32_1e19_htp():
    return _f32_1e19("HTPRegressor")


def case_f32_1e19_sea():
    return _f32_1e19("SEARegressor")


def case_f32_1e19_oista():
    return _f32_1e19("OracleISTALasso")


def case_sea_y1e155():
    return _support_vs_unit("SEARegressor", y_scale=1e155)


def case_iht_y1e155():
    return _support_vs_unit("IHTRegressor", y_scale=1e155)


def case_els_y1e155():
    return _support_vs_unit("ELSRegressor", y_scale=1e155)


def case_iht_step1e_300():
    X, y = data()
    m = est("IHTRegressor", n_nonzero_coefs=3, step_size=1e-300).fit(X, y)
    return f"n_iter={m.n_iter_} {r2(m, X, y)}"


def _tol_nan(name):
    X, y = data()
    est(name, tol=np.nan).fit(X, y)
    return "accepted"


def case_tol_nan_iht():
    return _tol_nan("IHTRegressor")


def case_tol_nan_htp():
    return _tol_nan("HTPRegressor")


def case_tol_nan_ompr():
    return _tol_nan("OMPRRegressor")


def case_tol_nan_els():
    return _tol_nan("ELSRegressor")


def case_tol_nan_sea():
    return _tol_nan("SEARegressor")


def case_tol_nan_oista():
    return _tol_nan("OracleISTALasso")


def case_tol_nan_lista():
    return _tol_nan("LearnedISTA")


def case_lista_subnormal():
    X, y = data()
    m = est("LearnedISTA", alpha=0.0).fit(X, y * 1e-160)
    return f"returned, n_iter={m.n_iter_} finite={bool(np.all(np.isfinite(m.coef_)))}"


def _x1e155(name):
    X, y = data()
    m = est(name, n_nonzero_coefs=3).fit(X * 1e155, y)
    return r2(m, X * 1e155, y)


def case_htp_x1e155():
    return _x1e155("HTPRegressor")


def case_ompr_x1e155():
    return _x1e155("OMPRRegressor")


def case_els_x1e155():
    return _x1e155("ELSRegressor")


def case_lista_y1e155():
    X, y = data()
    m = est("LearnedISTA", alpha=0.1).fit(X, y * 1e155)
    return f"finite={bool(np.all(np.isfinite(m.coef_)))}"


def case_sea_max_iter_huge():
    X, y = data()
    m = est("SEARegressor", n_nonzero_coefs=3, max_iter=10**12, n_iter_no_change=50).fit(X, y)
    return f"n_iter={m.n_iter_}"


def case_lista_lista_20000():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 20000))
    est("LearnedISTA", alpha=0.1, parametrization="lista", max_iter=1).fit(X, rng.standard_normal(20))
    return "fitted"


def case_ompr_max_iter_lt_k():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((200, 400)), rng.standard_normal(200)
    m = est("OMPRRegressor", n_nonzero_coefs=150, max_iter=100).fit(X, y)
    return f"|support_|={int(m.support_.sum())} (k=150)"


def case_sea_x1em160():
    X, y = data()
    m = est("SEARegressor", n_nonzero_coefs=3).fit(X * 1e-160, y)
    return r2(m, X * 1e-160, y)


def case_init_overflow_f32():
    X, y = data()
    est("IHTRegressor", n_nonzero_coefs=3, init=np.full(30, 1e39)).fit(X.astype(np.float32), y.astype(np.float32))
    return "accepted"


def case_init_class():
    from sklearn.linear_model import OrthogonalMatchingPursuit

    X, y = data()
    est("IHTRegressor", n_nonzero_coefs=3, init=OrthogonalMatchingPursuit).fit(X, y)
    return "accepted"


def case_precompute_array():
    X, y = data()
    est("IHTRegressor", n_nonzero_coefs=3, precompute=X.T @ X).fit(X, y)
    return "accepted"


def case_lista_random_state():
    X, y = data()
    est("LearnedISTA", random_state=-1).fit(X, y)
    return "accepted"


def case_omp_prematurely():
    X, y = data()
    Xd = np.repeat(X[:, :5], 6, axis=1)  # rank 5: OMP stops early at k = 8
    est("IHTRegressor", n_nonzero_coefs=8, init="omp").fit(Xd, y)
    return "fitted"


def case_els_exact_fit():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 30)), rng.standard_normal(10)
    m = est("ELSRegressor", n_nonzero_coefs=10, fit_intercept=False).fit(X, y)  # k = rank of X
    return f"n_iter={m.n_iter_} {r2(m, X, y)}"


def _peak_mib(fit):
    import tracemalloc

    tracemalloc.start()
    try:
        fit()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def case_els_default_k_wide():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((200, 20000)), rng.standard_normal(200)
    m = est("ELSRegressor", max_iter=1)
    return f"peak={_peak_mib(lambda: m.fit(X, y)):.0f} MiB (k={m.n_nonzero_coefs_})"


def case_ompr_default_k_wide():
    import time

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((200, 20000)), rng.standard_normal(200)
    m = est("OMPRRegressor")
    start = time.perf_counter()
    peak = _peak_mib(lambda: m.fit(X, y))
    return (f"{time.perf_counter() - start:.1f} s, peak={peak:.0f} MiB, |support_|={int(m.support_.sum())} "
            f"(k={m.n_nonzero_coefs_}) {r2(m, X, y)}")


def case_sea_caches_5000_targets():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((200, 1000)), rng.standard_normal((200, 5000))
    m = est("SEARegressor", n_nonzero_coefs=100, max_iter=20)
    # documented budget: inputs (4 copies), Gram, 16 (n_targets, n_features) arrays, 256 MiB of caches
    return f"peak={_peak_mib(lambda: m.fit(X, Y)):.0f} MiB (documented budget 911 MiB)"


CASES = {name[5:].replace("_", ""): fn for name, fn in list(globals().items()) if name.startswith("case_")}


def _run(fn, queue):
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn()
        except BaseException as exc:  # noqa: BLE001 -- the outcome is the report
            out = f"{type(exc).__name__}: {str(exc)[:110]}"
            if not isinstance(exc, (ValueError, TypeError, MemoryError, FloatingPointError)):
                out += " @ " + traceback.extract_tb(exc.__traceback__)[-1].name
    kinds = sorted({f"{w.category.__name__}: {str(w.message)[:60]}" for w in caught})
    queue.put(out + (" | warns " + "; ".join(kinds) if kinds else ""))


def run_case(fn):
    queue = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=_run, args=(fn, queue))
    proc.start()
    proc.join(TIME_LIMIT_S)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return f"TIMEOUT (> {TIME_LIMIT_S} s)"
    return queue.get() if not queue.empty() else f"process died (exit code {proc.exitcode})"


def main(names):
    for name in names or CASES:
        print(f"{name:18s} {run_case(CASES[name])}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
