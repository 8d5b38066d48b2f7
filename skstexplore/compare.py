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
from ._core.lasso import alpha_max
from .datasets import make_gaussian_deconvolution, make_sparse_recovery
from .metrics import support_distance, support_recovery

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


def _short_name(cls):
    return cls.__name__.removesuffix("Regressor")


def default_estimators(n_nonzero_coefs, inits=("omp",)):
    """The estimators compared by the main job, keyed by display name.

    Lasso-type estimators are returned with ``alpha=None``: the runner sets it
    per problem from ``alpha_ratio``.

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
        "sklearn Lasso": Lasso(alpha=None, fit_intercept=False, max_iter=10000),
    }
    for _, cls in all_estimators():
        if issubclass(cls, KSparseRegressor):
            base = cls(n_nonzero_coefs=n_nonzero_coefs, fit_intercept=False)
            estimators[_short_name(cls)] = base
            for init in inits if "init" in base.get_params() else ():
                estimators[f"{_short_name(cls)}_{init.upper()}"] = clone(base).set_params(init=init)
        elif "alpha" in cls().get_params():
            estimators[_short_name(cls)] = cls(alpha=None, fit_intercept=False)
        elif "alphas" in cls().get_params():  # chooses alpha itself (cross-validation), on a short grid
            estimators[_short_name(cls)] = cls(fit_intercept=False, n_alphas=20, cv=3)
    return estimators


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
    return {
        "support_distance": support_distance(coef, pred),
        "exact_recovery": support_recovery(coef, pred),
        "relative_error": float(np.linalg.norm(pred - coef) / np.linalg.norm(coef)),
        "n_nonzero": int(found.sum()),
        # fraction of the selected atoms that are true ones: support distance ignores false positives
        "precision": float((found & true).sum() / max(found.sum(), 1)),
        "fit_time": elapsed,
        "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
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
    """Fit every estimator on ``n_runs`` random problems and average the metrics.

    Runs are independent and dispatched with :class:`joblib.Parallel`
    (``n_jobs``; any joblib backend set with :func:`joblib.parallel_config`
    is used).

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
        For each estimator: mean support distance, exact-recovery rate, mean
        relative error, mean number of nonzeros, mean precision (fraction of
        the nonzeros on the true support), median fit time (s) and the
        fraction of fits without :class:`~sklearn.exceptions.ConvergenceWarning`
        (the warnings are recorded, not printed).

    Examples
    --------
    >>> from sklearn.linear_model import OrthogonalMatchingPursuit
    >>> spec = ProblemSpec("gaussian", n_features=40, n_nonzero_coefs=3, n_samples=30)
    >>> omp = {"OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=3, fit_intercept=False)}
    >>> summary = run_comparison(spec, omp, n_runs=4)
    >>> summary["OMP"]["exact_recovery"]
    1.0
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
    return {
        "support_distance": float(np.mean([r["support_distance"] for r in rows])),
        "exact_recovery": float(np.mean([r["exact_recovery"] for r in rows])),
        "relative_error": float(np.mean([r["relative_error"] for r in rows])),
        "n_nonzero": float(np.mean([r["n_nonzero"] for r in rows])),
        "precision": float(np.mean([r["precision"] for r in rows])),
        "fit_time": float(np.median([r["fit_time"] for r in rows])),
        "converged": float(np.mean([r["converged"] for r in rows])),
    }


COLUMNS = (
    ("support_distance", "support dist.", "{:.3f}"),
    ("exact_recovery", "exact recovery", "{:.2f}"),
    ("relative_error", "rel. error", "{:.2e}"),
    ("n_nonzero", "nnz", "{:.1f}"),
    ("precision", "precision", "{:.2f}"),
    ("fit_time", "fit time (ms)", "{:.2f}"),
    ("converged", "converged", "{:.0%}"),
)


def format_table(summary):
    """Plain-text table of a :func:`run_comparison` summary, best support distance first."""
    names = sorted(summary, key=lambda name: (summary[name]["support_distance"], summary[name]["fit_time"]))
    width = max(len("estimator"), *(len(name) for name in names))
    header = f"{'estimator':<{width}}  " + "  ".join(f"{title:>14}" for _, title, _ in COLUMNS)
    lines = [header, "-" * len(header)]
    for name in names:
        values = dict(summary[name], fit_time=summary[name]["fit_time"] * 1e3)
        cells = "  ".join(f"{fmt.format(values[key]):>14}" for key, _, fmt in COLUMNS)
        lines.append(f"{name:<{width}}  {cells}")
    return "\n".join(lines)


def plot_summaries(summaries, path):
    """Bar charts of support distance and fit time per estimator, one row per problem."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(summaries), 2, figsize=(12, 4 * len(summaries)), squeeze=False)
    for row, (title, summary) in enumerate(summaries.items()):
        names = sorted(summary, key=lambda name: summary[name]["support_distance"])
        positions = np.arange(len(names))
        for col, (key, label, scale) in enumerate(
            (("support_distance", "mean support distance", 1.0), ("fit_time", "median fit time (ms)", 1e3))
        ):
            ax = axes[row, col]
            ax.barh(positions, [summary[name][key] * scale for name in names], color="tab:blue")
            ax.set_yticks(positions, names, fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel(label)
            ax.set_title(title, fontsize=9)
            if key == "fit_time":
                ax.set_xscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
