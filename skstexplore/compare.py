"""Side-by-side comparison of every estimator of the package with scikit-learn's
:class:`~sklearn.linear_model.OrthogonalMatchingPursuit` and
:class:`~sklearn.linear_model.Lasso` on problems with a known sparse answer.

This is the main job, ``python -m skstexplore``. Estimators are discovered
automatically, so a new one joins the table without touching this module:

* k-sparse estimators (subclasses of the k-sparse base) get
  ``n_nonzero_coefs = k``, once from zero and, when they take an ``init``,
  once per warm start of ``inits`` (the paper's ``SEA_OMP``, ``HTP_OMP``...
  naming); Soft-OMP and Soft-IHT run with their default temperature;
* Lasso-type estimators (those with an ``alpha`` parameter) get
  ``alpha = alpha_ratio * alpha_max`` of each problem, like sklearn's Lasso.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, OrthogonalMatchingPursuit
from sklearn.utils import check_random_state

from ._core.base import KSparseRegressor
from ._core.discovery import all_estimators
from ._core.init import INIT_ALGORITHMS
from ._core.lasso import alpha_max
from .datasets import make_gaussian_deconvolution, make_sparse_recovery
from .metrics import support_distance, support_f1, support_recovery

PROBLEMS = ("deconvolution", "gaussian")


@dataclass(frozen=True)
class ProblemSpec:
    """One family of test problems.

    ``kind`` is ``"deconvolution"`` (Gaussian blur of width ``width``, nonzeros
    in +-[1, 2]) or ``"gaussian"`` (compressed sensing with an
    ``n_samples x n_features`` Gaussian design, nonzeros N(0, 1)).
    """

    kind: str
    n_features: int
    n_nonzero_coefs: int
    n_samples: int = None
    width: float = 3.0
    noise: float = 0.0

    def draw(self, seed):
        if self.kind == "deconvolution":
            return make_gaussian_deconvolution(
                self.n_features, self.n_nonzero_coefs, width=self.width, noise=self.noise, random_state=seed
            )
        return make_sparse_recovery(
            self.n_samples, self.n_features, self.n_nonzero_coefs, noise=self.noise, random_state=seed
        )

    def describe(self):
        if self.kind == "deconvolution":
            return f"Gaussian deconvolution (n={self.n_features}, width={self.width:g}, k={self.n_nonzero_coefs})"
        return f"Gaussian compressed sensing (m={self.n_samples}, n={self.n_features}, k={self.n_nonzero_coefs})"


LASSO_BUDGET = {"max_iter": 10_000, "tol": 1e-4}
"""Iteration budget and tolerance of every Lasso solver in the comparison.

scikit-learn's :class:`~sklearn.linear_model.Lasso` and the package's Lasso
solvers (those with ``max_iter`` and ``tol``; not the unrolled networks, whose
``max_iter`` counts training iterations) stop on the same duality-gap
criterion, so the same numbers make a fair comparison.
"""

LARGE_ERROR = 1.0
"""Mean relative error above which a row that reports convergence is flagged:
its estimates are further from the truth than the zero vector."""


def _short_name(cls):
    return cls.__name__.removesuffix("Regressor")


def _is_lasso_solver(params):
    return "max_iter" in params and "tol" in params and "n_layers" not in params


def default_estimators(n_nonzero_coefs, inits=("omp",)):
    """The estimators compared by the main job, keyed by display name.

    Lasso-type estimators are returned with ``alpha=None``: the runner sets it
    per problem from ``alpha_ratio``. scikit-learn's Lasso and the package's
    Lasso solvers share :data:`LASSO_BUDGET`.

    Parameters
    ----------
    n_nonzero_coefs : int
    inits : sequence of str
        Warm starts added for every k-sparse estimator (``"omp"`` gives
        ``SEA_OMP``, ``HTP_OMP``, ...).

    Returns
    -------
    estimators : dict of str to estimator
    """
    estimators = {
        "sklearn OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=n_nonzero_coefs, fit_intercept=False),
        "sklearn Lasso": Lasso(alpha=None, fit_intercept=False, **LASSO_BUDGET),
    }
    for _, cls in all_estimators():
        if issubclass(cls, KSparseRegressor):
            base = cls(n_nonzero_coefs=n_nonzero_coefs, fit_intercept=False)
            estimators[_short_name(cls)] = base
            for init in inits if "init" in base.get_params() else ():
                estimators[f"{_short_name(cls)}_{init.upper()}"] = clone(base).set_params(init=init)
        elif "alpha" in cls().get_params():
            estimator = cls(alpha=None, fit_intercept=False)
            if _is_lasso_solver(estimator.get_params()):
                estimator.set_params(**LASSO_BUDGET)
            estimators[_short_name(cls)] = estimator
        elif "alphas" in cls().get_params():  # chooses alpha itself (cross-validation), on a short grid
            estimators[_short_name(cls)] = cls(fit_intercept=False, n_alphas=20, cv=3)
    return estimators


def select_estimators(names, n_nonzero_coefs, inits=("omp",)):
    """The estimators named in ``names``, with the ``inits`` variants of each k-sparse one.

    A name is either one of :func:`default_estimators` without a warm start
    (``"SEA"``, ``"sklearn Lasso"``...), which brings along its variants for
    ``inits`` (``"SEA_OMP"``...), or a variant itself (``"SEA_ELS"``), kept
    alone, for any warm start (``"omp"``, ``"ompr"``, ``"els"``, ``"iht"``, ``"htp"``).

    Parameters
    ----------
    names : sequence of str or None
        None selects every estimator.
    n_nonzero_coefs : int
    inits : sequence of str

    Returns
    -------
    estimators : dict of str to estimator

    Raises
    ------
    ValueError
        For an unknown name, listing the valid ones.
    """
    everything = default_estimators(n_nonzero_coefs, inits=INIT_ALGORITHMS)
    wanted = default_estimators(n_nonzero_coefs, inits=inits)
    if names is None:
        return wanted
    unknown = [name for name in names if name not in everything]
    if unknown:
        raise ValueError(f"unknown estimators {unknown}; valid names: {sorted(everything)}")
    selected = {}
    for name in names:
        selected[name] = everything[name]
        if isinstance(everything[name], KSparseRegressor) and everything[name].init is None:
            selected.update({f"{name}_{init.upper()}": wanted[f"{name}_{init.upper()}"] for init in inits})
    return selected


def _fit_one(estimator, X, y, coef, alpha_ratio):
    estimator = clone(estimator)
    if "alpha" in estimator.get_params() and estimator.get_params()["alpha"] is None:
        estimator.set_params(alpha=alpha_ratio * alpha_max(X, y[:, None])[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        elapsed = time.perf_counter() - start
    pred = estimator.coef_
    found, true = pred != 0, coef != 0
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    relative_error = float(np.linalg.norm(pred - coef) / np.linalg.norm(coef))
    return {
        "exact_recovery": support_recovery(coef, pred),
        "f1": support_f1(coef, pred),
        "precision": float((found & true).sum() / max(found.sum(), 1)),
        "support_distance": support_distance(coef, pred),
        "relative_error": relative_error,
        "n_nonzero": int(found.sum()),
        "fit_time": elapsed,
        "converged": converged,
    }


def _run_one(spec, seed, estimators, alpha_ratio):
    X, y, coef = spec.draw(seed)
    return {name: _fit_one(est, X, y, coef, alpha_ratio) for name, est in estimators.items()}


def run_comparison(
    spec,
    estimators,
    *,
    n_runs=10,
    alpha_ratio=0.01,
    random_state=0,
    n_jobs=None,
    progress=None,
):
    r"""Fit every estimator on ``n_runs`` random problems and average the metrics.

    Runs are independent and dispatched with :class:`joblib.Parallel`
    (``n_jobs``; any joblib backend set with :class:`joblib.parallel_config`
    is used, a Dask cluster's included).

    Parameters
    ----------
    spec : ProblemSpec
    estimators : dict of str to estimator
    n_runs : int, default=10
    alpha_ratio : float, default=0.01
        ``alpha`` of the Lasso-type estimators as a fraction of each problem's
        ``alpha_max``.
    random_state : int, RandomState instance or None
        Seeds the problems; run ``i`` uses the ``i``-th drawn seed.
    n_jobs : int or None
    progress : callable or None
        Called as ``progress(n_done, n_runs)`` after each run.

    Returns
    -------
    summary : dict of str to dict
        For each estimator, the means over runs of: ``exact_recovery`` (1 when
        the support is exactly the true one), ``f1``
        (:func:`~skstexplore.metrics.support_f1`), ``precision`` (fraction of
        the nonzeros on the true support), ``support_distance``
        (:func:`~skstexplore.metrics.support_distance`), ``relative_error``
        (:math:`\|w - w^*\|_2 / \|w^*\|_2`), ``n_nonzero``, ``converged``
        (fraction of fits without
        :class:`~sklearn.exceptions.ConvergenceWarning`; the warnings are
        recorded, not printed); and ``fit_time``, the median fit time in
        seconds.

    Examples
    --------
    >>> from sklearn.linear_model import OrthogonalMatchingPursuit
    >>> spec = ProblemSpec("gaussian", n_features=40, n_nonzero_coefs=3, n_samples=30)
    >>> omp = {"OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=3, fit_intercept=False)}
    >>> summary = run_comparison(spec, omp, n_runs=4)
    >>> summary["OMP"]["exact_recovery"], summary["OMP"]["f1"]
    (1.0, 1.0)
    """
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_runs)
    jobs = (delayed(_run_one)(spec, int(seed), estimators, alpha_ratio) for seed in seeds)
    runs = []
    for result in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
        runs.append(result)
        if progress is not None:
            progress(len(runs), n_runs)
    return {name: _summarise([run[name] for run in runs]) for name in estimators}


def _summarise(rows):
    summary = {key: float(np.mean([row[key] for row in rows])) for key in rows[0] if key != "fit_time"}
    summary["fit_time"] = float(np.median([row["fit_time"] for row in rows]))
    return summary


# (key, column title, format, better): the table's columns, in order
COLUMNS = (
    ("exact_recovery", "exact", "{:.2f}", "higher"),
    ("f1", "F1", "{:.3f}", "higher"),
    ("precision", "precision", "{:.2f}", "higher"),
    ("support_distance", "missed", "{:.3f}", "lower"),
    ("relative_error", "rel. error", "{:.2e}", "lower"),
    ("n_nonzero", "nnz", "{:.1f}", "k"),
    ("fit_time", "time (ms)", "{:.2f}", "lower"),
    ("converged", "converged", "{:.0%}", ""),
)


def _displayed(summary, key):
    """The value as printed, so that rows tied on screen are tied in the ranking."""
    fmt = next(fmt for column, _, fmt, _ in COLUMNS if column == key)
    return float(fmt.format(summary[key]).rstrip("%"))


def rank(summary):
    """Names of ``summary`` best first.

    Ranked by exact-recovery rate, then support F1 (which counts misses and
    false positives), then relative error, each as printed (3 significant
    digits), ties broken by the name: never by the timings, so the order is
    reproducible.
    """
    return sorted(
        summary,
        key=lambda name: (
            -_displayed(summary[name], "exact_recovery"),
            -_displayed(summary[name], "f1"),
            _displayed(summary[name], "relative_error"),
            name,
        ),
    )


def converged_but_far(values):
    """Whether a summary row reports convergence on most fits yet errs by more than :data:`LARGE_ERROR`."""
    return values["converged"] >= 0.5 and values["relative_error"] > LARGE_ERROR


def _converged_cell(values):
    return f"{values['converged']:.0%}" + (" !" if converged_but_far(values) else "  ")


def format_table(summary):
    """Plain-text table of a :func:`~skstexplore.compare.run_comparison` summary, ranked by :func:`~skstexplore.compare.rank`."""
    names = rank(summary)
    width = max(len("estimator"), *(len(name) for name in names))
    header = f"{'rank':>4}  {'estimator':<{width}}  " + "  ".join(f"{title:>11}" for _, title, _, _ in COLUMNS)
    lines = [header, "-" * len(header)]
    for position, name in enumerate(names, start=1):
        values = dict(summary[name], fit_time=summary[name]["fit_time"] * 1e3)
        cells = [fmt.format(values[key]) for key, _, fmt, _ in COLUMNS[:-1]] + [_converged_cell(values)]
        lines.append(f"{position:>4}  {name:<{width}}  " + "  ".join(f"{cell:>11}" for cell in cells))
    return "\n".join(lines)


def format_legend(n_nonzero_coefs, n_runs):
    """What every column of :func:`~skstexplore.compare.format_table` measures and which direction is better."""
    return "\n".join(
        [
            f"Means over {n_runs} random problems (time: median). Ranked by exact, then F1, then rel. error"
            " (as printed), ties by name.",
            "  exact       fraction of problems whose support is exactly the true one (higher is better)",
            "  F1          support F1 = 2|S & S*| / (|S| + |S*|): counts misses and false positives (higher is better)",
            "  precision   fraction of the selected atoms that are true ones (higher is better)",
            "  missed      fraction of the true atoms not selected, the SEA paper's support distance"
            " (lower is better; blind to false positives)",
            "  rel. error  ||w - w*|| / ||w*|| (lower is better; 1 is the error of the zero vector)",
            f"  nnz         number of nonzeros selected (the truth has k = {n_nonzero_coefs})",
            "  time (ms)   fit time of one problem (lower is better)",
            "  converged   fraction of fits without ConvergenceWarning (a statement about the solver, not the answer);",
            f"              ! = converged on most fits, yet mean rel. error > {LARGE_ERROR:g}: the solver stopped"
            " on a wrong support",
        ]
    )


def plot_summaries(summaries, path, *, subtitle=""):
    """Exact recovery, support F1 and fit time per estimator, one row per problem.

    Parameters
    ----------
    summaries : dict of str to dict
        Problem title to :func:`~skstexplore.compare.run_comparison` summary.
    path : str or path-like
        Where the figure is saved (any format matplotlib writes).
    subtitle : str
        The settings shared by every problem (runs, noise, ...), added to the title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("exact_recovery", "exact support recovery (higher is better)", 1.0, "tab:green"),
        ("f1", "support F1 (higher is better)", 1.0, "tab:blue"),
        ("fit_time", "median fit time, ms (lower is better)", 1e3, "tab:gray"),
    )
    n_rows = len(summaries)
    n_names = max(len(summary) for summary in summaries.values())
    fig, axes = plt.subplots(n_rows, 3, figsize=(14, 0.9 + 0.25 * n_names * n_rows + 0.6 * n_rows), squeeze=False)
    for row, (title, summary) in enumerate(summaries.items()):
        names = rank(summary)
        positions = np.arange(len(names))
        for col, (key, label, scale, color) in enumerate(panels):
            ax = axes[row, col]
            values = [summary[name][key] * scale for name in names]
            ax.barh(positions, values, color=color)
            ax.set_yticks(positions, names if col == 0 else [], fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel(label, fontsize=9)
            if key == "fit_time":
                ax.set_xscale("log")
            else:
                ax.set_xlim(0, 1.12)
                for y, value in zip(positions, values):
                    ax.text(value + 0.01, y, f"{value:.2f}", va="center", fontsize=7)
            ax.grid(axis="x", alpha=0.3)
        axes[row, 1].set_title(f"{title} (ranked as in the table)", fontsize=10)
    fig.suptitle(f"python -m skstexplore: {subtitle}" if subtitle else "python -m skstexplore", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
