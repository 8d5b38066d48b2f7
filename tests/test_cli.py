"""The main job, ``python -m skstexplore``."""

import subprocess
import sys

import pytest
from sklearn.linear_model import OrthogonalMatchingPursuit

from skstexplore.__main__ import main
from skstexplore._core.base import KSparseRegressor
from skstexplore._core.discovery import all_estimators
from skstexplore.compare import ProblemSpec, default_estimators, format_table, run_comparison


def test_main_prints_a_table_per_problem(capsys):
    assert main(["--n-runs", "2", "--n-features", "30", "--n-samples", "20", "-k", "2"]) == 0
    out, err = capsys.readouterr()
    assert "Gaussian deconvolution (n=30, width=3, k=2), 2 runs" in out
    assert "Gaussian compressed sensing (m=20, n=30, k=2), 2 runs" in out
    for name in default_estimators(2):
        assert name in out
    assert "run 2/2" in err


def test_every_package_estimator_joins_the_table():
    names = default_estimators(3, inits=("omp",))
    for _, cls in all_estimators():
        if "estimator" in cls().get_params(deep=False) or cls.__name__.endswith("CV"):
            continue  # wrappers and model selection (SparsityCV, SparseEncoder, OracleISTALassoCV), not algorithms
        short = cls.__name__.removesuffix("Regressor")
        assert short in names
        if issubclass(cls, KSparseRegressor):
            assert f"{short}_OMP" in names


def test_run_comparison_is_reproducible_and_parallel():
    spec = ProblemSpec("gaussian", n_features=40, n_nonzero_coefs=3, n_samples=25, noise=0.01)
    est = {"OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=3, fit_intercept=False)}
    serial = run_comparison(spec, est, n_runs=4, random_state=3)
    parallel = run_comparison(spec, est, n_runs=4, random_state=3, n_jobs=2)
    for key in ("support_distance", "exact_recovery", "relative_error"):
        assert serial["OMP"][key] == parallel["OMP"][key]
    assert "OMP" in format_table(serial)
    # OMP recovers these easy problems: all 3 of its atoms are true ones
    assert serial["OMP"]["exact_recovery"] == 1.0 and serial["OMP"]["precision"] == 1.0


def test_precision_counts_false_positives():
    # with noise, OMP keeps selecting atoms after the 3 true ones
    spec = ProblemSpec("gaussian", n_features=40, n_nonzero_coefs=3, n_samples=25, noise=0.01)
    too_many = {"OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=6, fit_intercept=False)}
    summary = run_comparison(spec, too_many, n_runs=3)["OMP"]
    assert summary["support_distance"] == 0.0
    assert summary["precision"] == 0.5  # 3 true atoms among the 6 selected


def test_plot_option_saves_a_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "cmp.png"
    main(["--n-runs", "1", "--n-features", "20", "-k", "2", "--problem", "gaussian", "--n-samples", "15",
          "--estimators", "sklearn OMP", "--plot", str(path)])
    assert path.stat().st_size > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-runs", "0"], "--n-runs must be >= 1; got 0"),
        (["-k", "200"], "--n-nonzero-coefs=200 cannot exceed --n-features=100"),
        (["--estimators", "nope"], "unknown estimators ['nope']"),
        (["--problem", "fourier"], "invalid choice: 'fourier'"),
    ],
)
def test_bad_arguments_are_reported(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_module_entry_point():
    done = subprocess.run([sys.executable, "-m", "skstexplore", "--help"], capture_output=True, text=True, check=True)
    assert "--n-jobs" in done.stdout and "--plot" in done.stdout
