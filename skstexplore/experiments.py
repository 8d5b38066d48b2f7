r"""The SEA paper's two experiments, for every k-sparse algorithm of the package.

* :func:`phase_transition`: exact support recovery on Gaussian problems over a
  grid of :math:`\delta = m/n` and :math:`\rho = k/m`, and the empirical
  95 % curve of each algorithm (:func:`transition_curve`).
* :func:`deconvolution_support_distance`: average support distance on
  Gaussian spike deconvolution, against k.

Algorithms are named as in the paper: ``"SEA_0"`` (SEA from zero),
``"SEA_OMP"`` (SEA warm-started by OMP), ``"HTP_ELS"``, ..., ``"OMP"``,
``"OMPR"``, ``"ELS"``, ``"IHT"``, ``"HTP"`` (see :func:`make_algorithm`).
Runs are independent problems drawn from seeds derived from ``random_state``,
so results do not depend on ``n_jobs``.
"""

import json
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import OrthogonalMatchingPursuit

from .datasets import make_gaussian_deconvolution, make_sparse_recovery
from .estimators.els import ELSRegressor
from .estimators.htp import HTPRegressor
from .estimators.iht import IHTRegressor
from .estimators.ompr import OMPRRegressor
from .estimators.sea import SEARegressor
from .metrics import support_distance, support_recovery

_ITERATIVE = {"SEA": SEARegressor, "IHT": IHTRegressor, "HTP": HTPRegressor}
_INITS = {"0": "zeros", "OMP": "omp", "ELS": "els"}

#: Every algorithm of the SEA paper's figures.
ALGORITHMS = (
    "SEA_0", "SEA_OMP", "SEA_ELS",
    "IHT", "IHT_OMP", "IHT_ELS",
    "HTP", "HTP_OMP", "HTP_ELS",
    "OMP", "OMPR", "ELS",
)  # fmt: skip

#: Plot style of each algorithm: a colour and a marker of its own, the line style of its family
#: (SEA solid, HTP dash-dot, IHT dashed, OMP/OMPR/ELS dotted), so that no two series look alike.
ALGORITHM_STYLES = {
    name: {"color": color, "marker": marker, "linestyle": {"SEA": "-", "HTP": "-.", "IHT": "--"}.get(name[:3], ":")}
    for name, color, marker in zip(
        ALGORITHMS,
        ("#1f77b4", "#17becf", "#0b3d91", "#d62728", "#ff9896", "#8c564b",
         "#2ca02c", "#98df8a", "#bcbd22", "#ff7f0e", "#9467bd", "#000000"),
        ("o", "s", "D", "v", "^", "<", ">", "P", "X", "*", "h", "p"),
    )
}


def identical_series(names, values):
    """Groups of the ``names`` whose ``values`` (one array per name) are exactly equal, in order.

    Examples
    --------
    >>> identical_series(["OMP", "HTP_OMP", "SEA_0"], [np.ones(2), np.ones(2), np.zeros(2)])
    [['OMP', 'HTP_OMP'], ['SEA_0']]
    """
    groups = []
    for name, value in zip(names, values):
        for group in groups:
            if np.array_equal(group[1], value):
                group[0].append(name)
                break
        else:
            groups.append(([name], np.asarray(value)))
    return [group[0] for group in groups]


#: A quick subset: SEA from zero and from OMP, and the algorithms they start from or compete with.
QUICK_ALGORITHMS = ("SEA_0", "SEA_OMP", "OMP", "HTP", "HTP_OMP", "IHT", "ELS")

# Residual (relative to ||y||^2) at which a noiseless problem counts as solved:
# the iterative algorithms stop there instead of spending their whole budget.
_RELATIVE_TOL = 1e-12


def make_algorithm(name, n_nonzero_coefs, *, tol=None, max_iter=None, halting=True):
    """The estimator behind a paper name such as ``"SEA_OMP"`` (no intercept).

    Parameters
    ----------
    name : str
        ``"OMP"``, ``"OMPR"``, ``"ELS"``, or ``"<A>"`` / ``"<A>_<I>"`` with
        ``<A>`` in {SEA, IHT, HTP} and ``<I>`` in {0, OMP, ELS} (the
        initialisation; ``"IHT"`` and ``"HTP"`` start from zero).
    n_nonzero_coefs : int
    tol : float or None
        Passed to the algorithms that have it.
    max_iter : int or None
        Iteration budget of SEA, IHT and HTP (None: their default).
    halting : bool
        SEA's default halting rule; False runs SEA to ``max_iter``.

    Returns
    -------
    estimator : regressor

    Examples
    --------
    >>> make_algorithm("SEA_OMP", 5)
    SEARegressor(fit_intercept=False, init='omp', n_nonzero_coefs=5)
    """
    common = {"n_nonzero_coefs": n_nonzero_coefs, "fit_intercept": False}
    if name == "OMP":
        return OrthogonalMatchingPursuit(**common)
    if name == "OMPR":
        return OMPRRegressor(tol=tol, **common)
    if name == "ELS":
        return ELSRegressor(tol=tol, **common)
    algorithm, _, init = name.partition("_")
    if algorithm not in _ITERATIVE or (init or "0") not in _INITS:
        raise ValueError(f"unknown algorithm {name!r}; expected one of {list(ALGORITHMS)}.")
    estimator = _ITERATIVE[algorithm](init=_INITS[init or "0"], tol=tol, **common)
    if max_iter is not None:
        estimator.set_params(max_iter=max_iter)
    if algorithm == "SEA" and not halting:
        estimator.set_params(n_iter_no_change=None)
    return estimator


def _check_algorithms(algorithms):
    for name in algorithms:
        make_algorithm(name, 1)
    return list(algorithms)


def fit_algorithm(name, k, X, y, *, init=None, **options):
    r"""Coefficients of algorithm ``name`` fitted on ``(X, y)``, without warnings.

    The iterative algorithms stop once the squared residual is below
    :math:`10^{-12} \|y\|^2` (a noiseless problem is then solved). ``init``
    (coefficients) replaces the start the name implies; ``options`` go to
    :func:`make_algorithm`.
    """
    estimator = make_algorithm(name, k, tol=_RELATIVE_TOL * float(y @ y), **options)
    if init is not None:
        estimator.set_params(init=init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y).coef_


def fit_algorithms(names, k, X, y, **options):
    """Coefficients of every algorithm of ``names`` on the same ``(X, y)``.

    The OMP and ELS solutions are computed once per problem and start every
    ``*_OMP`` / ``*_ELS`` algorithm (they are also the ``"OMP"`` and ``"ELS"``
    results): the same starts as separate fits, at a fraction of the cost.
    """
    starts = {}

    def start(start_name):
        if start_name not in starts:
            starts[start_name] = fit_algorithm(start_name, k, X, y, **options)
        return starts[start_name]

    results = []
    for name in names:
        init = name.partition("_")[2]
        if name in ("OMP", "ELS"):
            results.append(start(name))
        elif init in ("OMP", "ELS"):
            results.append(fit_algorithm(name, k, X, y, init=start(init), **options))
        else:
            results.append(fit_algorithm(name, k, X, y, **options))
    return results


def _seed(random_state, *indices):
    return np.random.SeedSequence([random_state, *indices]).generate_state(1)[0]


def _run_parallel(tasks, n_jobs, verbose, label):
    """Results of ``tasks`` (delayed calls) in order, with a progress line on stderr."""
    results = [None] * len(tasks)
    start = time.perf_counter()
    jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_indexed)(i, task) for i, task in enumerate(tasks)
    )
    for done, (i, value) in enumerate(jobs, 1):
        results[i] = value
        if verbose and (done == len(tasks) or done % max(1, len(tasks) // 100) == 0):
            elapsed = time.perf_counter() - start
            eta = elapsed / done * (len(tasks) - done)
            print(f"\r{label}: {done}/{len(tasks)} runs, {elapsed:.0f} s, about {eta:.0f} s left",
                  end="", file=sys.stderr, flush=True)
    if verbose:
        print(file=sys.stderr)
    return results


def _indexed(i, task):
    function, args, kwargs = task
    return i, function(*args, **kwargs)


# -- phase transition ------------------------------------------------------------------


@dataclass
class PhaseTransitionResult:
    """Success rates of a phase-transition study.

    Attributes
    ----------
    algorithms : list of str
    deltas, rhos : ndarray
        The grid, :math:`\\delta = m/n` and :math:`\\rho = k/m`.
    success : ndarray of shape (n_algorithms, n_deltas, n_rhos)
        Fraction of runs whose support was recovered exactly.
    n_runs : int
    settings : dict
        ``n_features``, ``random_state``, wall time...
    """

    algorithms: list
    deltas: np.ndarray
    rhos: np.ndarray
    success: np.ndarray
    n_runs: int
    settings: dict = field(default_factory=dict)

    def curves(self, level=0.95):
        """``{algorithm: rho per delta}`` from :func:`transition_curve`."""
        return {a: transition_curve(self.success[i], self.rhos, level) for i, a in enumerate(self.algorithms)}

    def to_json(self, path):
        """Save everything, curves included, as JSON."""
        payload = {
            "algorithms": self.algorithms,
            "deltas": self.deltas.tolist(),
            "rhos": self.rhos.tolist(),
            "success": self.success.tolist(),
            "n_runs": self.n_runs,
            "settings": self.settings,
            "curves_95": {a: c.tolist() for a, c in self.curves().items()},
        }
        with open(path, "w") as f:
            json.dump(payload, f, indent=1)

    @classmethod
    def from_json(cls, path):
        with open(path) as f:
            p = json.load(f)
        return cls(p["algorithms"], np.array(p["deltas"]), np.array(p["rhos"]), np.array(p["success"]),
                   p["n_runs"], p["settings"])


def transition_curve(success, rhos, level=0.95):
    r"""Largest :math:`\rho` solved with a success rate above ``level``, per :math:`\delta`.

    For each row of ``success`` (one :math:`\delta`), the largest grid value
    :math:`\rho` such that every :math:`\rho' \le \rho` of the grid has a rate
    ``> level`` (the region below the curve is solved); 0 when the first
    one already fails.

    Parameters
    ----------
    success : ndarray of shape (n_deltas, n_rhos)
    rhos : ndarray of shape (n_rhos,), increasing
    level : float

    Returns
    -------
    curve : ndarray of shape (n_deltas,)

    Examples
    --------
    >>> transition_curve(np.array([[1.0, 0.97, 0.5, 0.99], [0.9, 1.0, 1.0, 1.0]]), np.array([0.1, 0.2, 0.3, 0.4]))
    array([0.2, 0. ])
    """
    solved = np.cumprod(np.asarray(success) > level, axis=1).astype(bool)
    n_solved = solved.sum(axis=1)
    return np.where(n_solved > 0, np.asarray(rhos)[np.maximum(n_solved - 1, 0)], 0.0)


def _options_label(options):
    """``", max_iter 10000, SEA without halting rule"`` or ``""`` for the defaults (figure titles)."""
    label = "" if options["max_iter"] is None else f", max_iter {options['max_iter']}"
    return label + ("" if options["halting"] else ", SEA without halting rule")


def _phase_transition_run(algorithms, n_samples, n_features, k, seed, normalize, options):
    X, y, coef = make_sparse_recovery(n_samples, n_features, k, normalize=normalize, random_state=seed)
    return [support_recovery(coef, w) for w in fit_algorithms(algorithms, k, X, y, **options)]


def phase_transition(
    n_features=50,
    deltas=(0.2, 0.4, 0.6, 0.8, 1.0),
    rhos=(0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
    *,
    n_runs=10,
    algorithms=QUICK_ALGORITHMS,
    normalize=False,
    n_jobs=None,
    random_state=0,
    verbose=True,
    max_iter=None,
    halting=True,
):
    r"""Empirical phase transition of exact support recovery.

    For each :math:`\delta = m/n` and :math:`\rho = k/m` of the grid
    (:math:`m = \mathrm{round}(\delta n)`, :math:`k = \max(1,
    \mathrm{round}(\rho m))`), ``n_runs`` noiseless problems :math:`y = X
    w^*` with :math:`X` and the nonzeros of :math:`w^*` i.i.d.
    :math:`\mathcal{N}(0, 1)` (the SEA paper's setting) are solved by every
    algorithm; a run succeeds when the support is recovered exactly. Every
    algorithm sees the same problems. Iterative algorithms stop once the
    residual is below :math:`10^{-12} \|y\|^2`.

    The defaults (n = 50, 40 cells, 10 runs, 7 algorithms) take about a
    minute on 2 cores; the paper's study is ``n_runs=1000`` with
    ``algorithms=ALGORITHMS`` on a finer grid.

    Parameters
    ----------
    n_features : int
    deltas, rhos : sequence of float
    n_runs : int
    algorithms : sequence of str
        Names understood by :func:`make_algorithm`.
    normalize : bool
        Unit-norm columns (the paper's theorem) instead of raw Gaussian ones.
    n_jobs : int or None
        joblib parallelism over runs.
    random_state : int
    verbose : bool
        Progress line on stderr.
    max_iter, halting :
        Iteration budget of SEA, IHT and HTP, and SEA's halting rule (see
        :func:`make_algorithm`).

    Returns
    -------
    result : PhaseTransitionResult
    """
    algorithms = _check_algorithms(algorithms)
    options = {"max_iter": max_iter, "halting": halting}
    deltas, rhos = np.asarray(deltas, dtype=float), np.asarray(rhos, dtype=float)
    tasks, cells = [], []
    for i, delta in enumerate(deltas):
        m = max(1, int(round(delta * n_features)))
        for j, rho in enumerate(rhos):
            k = min(max(1, int(round(rho * m))), n_features)
            for run in range(n_runs):
                seed = _seed(random_state, i, j, run)
                tasks.append((_phase_transition_run, (algorithms, m, n_features, k, seed, normalize, options), {}))
                cells.append((i, j))
    start = time.perf_counter()
    outcomes = _run_parallel(tasks, n_jobs, verbose, "phase transition")
    success = np.zeros((len(algorithms), len(deltas), len(rhos)))
    for (i, j), outcome in zip(cells, outcomes):
        success[:, i, j] += outcome
    settings = {"n_features": n_features, "random_state": random_state, "normalize": normalize,
                "n_jobs": n_jobs, "wall_time_s": time.perf_counter() - start, **options,
                "label": _options_label(options)}
    return PhaseTransitionResult(algorithms, deltas, rhos, success / n_runs, n_runs, settings)


# -- deconvolution ------------------------------------------------------------------------


def _deconvolution_run(algorithms, n_features, k, width, seed, options):
    X, y, coef = make_gaussian_deconvolution(n_features, k, width=width, random_state=seed)
    return [support_distance(coef, w) for w in fit_algorithms(algorithms, k, X, y, **options)]


def deconvolution_support_distance(
    n_nonzero_coefs=(5, 10, 15, 20),
    *,
    n_features=100,
    width=3.0,
    n_runs=20,
    algorithms=QUICK_ALGORITHMS,
    n_jobs=None,
    random_state=0,
    verbose=True,
    max_iter=None,
    halting=True,
):
    r"""Mean support distance on Gaussian spike deconvolution, against k.

    For each k, ``n_runs`` noiseless spike trains of
    :func:`~skstexplore.datasets.make_gaussian_deconvolution` (kernel
    ``width``, nonzeros in :math:`\pm[1, 2]`) are recovered by every
    algorithm; the metric is
    :math:`(k - |S^* \cap \mathrm{supp}(w)|) / k`
    (:func:`~skstexplore.metrics.support_distance`).

    ``max_iter`` and ``halting`` are passed to :func:`make_algorithm`.

    Returns
    -------
    distance : ndarray of shape (n_algorithms, len(n_nonzero_coefs))
        Mean over runs.
    std_error : ndarray of the same shape
        Standard error of the mean.
    """
    algorithms = _check_algorithms(algorithms)
    options = {"max_iter": max_iter, "halting": halting}
    ks = list(n_nonzero_coefs)
    tasks = [
        (_deconvolution_run, (algorithms, n_features, k, width, _seed(random_state, i, run), options), {})
        for i, k in enumerate(ks)
        for run in range(n_runs)
    ]
    outcomes = np.array(_run_parallel(tasks, n_jobs, verbose, "deconvolution")).reshape(len(ks), n_runs, -1)
    mean = outcomes.mean(axis=1).T
    std_error = outcomes.std(axis=1, ddof=1).T / np.sqrt(n_runs) if n_runs > 1 else np.zeros_like(mean)
    return mean, std_error
