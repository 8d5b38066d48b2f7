"""The main job, ``python -m skstexplore``: ranking, legend, CLI validation, progress."""

import io
import subprocess
import sys

import pytest
from sklearn.linear_model import Lasso, OrthogonalMatchingPursuit

import skstexplore.__main__ as cli
from skstexplore import OracleISTALasso, __version__
from skstexplore.__main__ import main
from skstexplore._core.base import KSparseRegressor
from skstexplore._core.discovery import all_estimators
from skstexplore.compare import (
    COLUMNS,
    LASSO_BUDGET,
    ProblemSpec,
    default_estimators,
    format_legend,
    format_table,
    plot_summaries,
    rank,
    run_comparison,
    select_estimators,
)

SMALL = ["--n-runs", "2", "--n-features", "30", "--n-samples", "20", "-k", "2"]


def test_main_prints_a_ranked_table_and_its_legend_per_problem(capsys):
    assert main(SMALL) == 0
    out, err = capsys.readouterr()
    assert "Gaussian deconvolution (n=30, width=3, k=2), 2 runs per problem, noise=0" in out
    assert "Gaussian compressed sensing (m=20, n=30, k=2), 2 runs per problem, noise=0" in out
    for name in default_estimators(2):
        assert name in out
    assert out.count("Ranked by exact, then F1, then rel. error") == 2
    assert "run 2/2" in err


def test_every_package_estimator_joins_the_table():
    names = default_estimators(3, inits=("omp",))
    for _, cls in all_estimators():
        # wrappers and model selection (SparsityCV, SparseEncoder, OracleISTALassoCV) are not algorithms;
        # OMPNet, IHTNet learn from many signals sharing a structure, and one problem has neither
        if "estimator" in cls().get_params(deep=False) or cls.__name__.endswith(("CV", "Net")):
            continue
        short = cls.__name__.removesuffix("Regressor")
        assert short in names
        if issubclass(cls, KSparseRegressor) and "init" in cls().get_params():
            assert f"{short}_OMP" in names


def test_lasso_solvers_share_the_iteration_budget_and_tolerance():
    estimators = default_estimators(3)
    for name in ("sklearn Lasso", "OracleISTALasso"):
        params = estimators[name].get_params()
        assert {key: params[key] for key in LASSO_BUDGET} == LASSO_BUDGET
    assert isinstance(estimators["sklearn Lasso"], Lasso)
    assert isinstance(estimators["OracleISTALasso"], OracleISTALasso)


def test_run_comparison_is_reproducible_and_parallel():
    spec = ProblemSpec("gaussian", n_features=40, n_nonzero_coefs=3, n_samples=25, noise=0.01)
    est = {"OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=3, fit_intercept=False)}
    serial = run_comparison(spec, est, n_runs=4, random_state=3)
    parallel = run_comparison(spec, est, n_runs=4, random_state=3, n_jobs=2)
    for key in ("exact_recovery", "f1", "support_distance", "relative_error"):
        assert serial["OMP"][key] == parallel["OMP"][key]
    # OMP recovers these easy problems: all 3 of its atoms are true ones
    assert serial["OMP"]["exact_recovery"] == 1.0 and serial["OMP"]["precision"] == 1.0


def test_f1_and_precision_count_false_positives():
    # with noise, OMP keeps selecting atoms after the 3 true ones
    spec = ProblemSpec("gaussian", n_features=40, n_nonzero_coefs=3, n_samples=25, noise=0.01)
    too_many = {"OMP": OrthogonalMatchingPursuit(n_nonzero_coefs=6, fit_intercept=False)}
    summary = run_comparison(spec, too_many, n_runs=3)["OMP"]
    assert summary["support_distance"] == 0.0  # blind to the 3 false positives
    assert summary["precision"] == 0.5  # 3 true atoms among the 6 selected
    assert summary["f1"] == pytest.approx(2 * 3 / (3 + 6))
    assert summary["exact_recovery"] == 0.0


def _row(exact, f1, error, time=1e-3, converged=1.0):
    return {"exact_recovery": exact, "f1": f1, "precision": f1, "support_distance": 0.0, "relative_error": error,
            "n_nonzero": 3.0, "fit_time": time, "converged": converged}


def test_rank_is_exact_recovery_then_f1_then_error_then_name():
    summary = {
        "dense": _row(0.0, 0.2, 0.1),  # misses nothing but selects many atoms
        "b_exact": _row(1.0, 1.0, 1e-16, time=9.0),
        "a_exact": _row(1.0, 1.0, 1.0001e-16, time=0.1),  # prints as 1.00e-16: tied with b_exact
        "better_f1": _row(0.5, 0.9, 0.5),
        "lower_error": _row(0.5, 0.8, 0.01),
    }
    assert rank(summary) == ["a_exact", "b_exact", "better_f1", "lower_error", "dense"]
    # timings never decide
    summary["a_exact"]["fit_time"], summary["b_exact"]["fit_time"] = 9.0, 0.1
    assert rank(summary)[:2] == ["a_exact", "b_exact"]


def test_table_marks_converged_rows_with_a_large_error_and_legend_explains_every_column():
    table = format_table({"far": _row(0.0, 0.3, 6.57e2), "near": _row(1.0, 1.0, 1e-3), "stalled": _row(0, 0, 5.0, converged=0.0)})
    lines = {line.split()[1]: line for line in table.splitlines()[2:]}
    assert lines["far"].rstrip().endswith("100% !")
    assert lines["near"].rstrip().endswith("100%")
    assert lines["stalled"].rstrip().endswith("0%")  # not converged: nothing to flag
    legend = format_legend(8, 10)
    for _, title, _, better in COLUMNS:
        assert f"\n  {title}" in legend
        assert better in legend
    assert "k = 8" in legend and "10 random problems" in legend


def test_plot_shows_recovery_f1_and_time_with_directions_and_settings(tmp_path, monkeypatch):
    plt = pytest.importorskip("matplotlib.pyplot")
    seen = {}
    savefig = plt.Figure.savefig

    def spy(fig, *args, **kwargs):
        seen["labels"] = [ax.get_xlabel() for ax in fig.axes]
        seen["title"] = fig.get_suptitle()
        return savefig(fig, *args, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", spy)
    path = tmp_path / "cmp.png"
    plot_summaries({"problem": {"A": _row(1.0, 1.0, 0.0)}}, path, subtitle="3 runs per problem, noise=0.1")
    assert path.stat().st_size > 0
    assert seen["labels"] == [
        "exact support recovery (higher is better)",
        "support F1 (higher is better)",
        "median fit time, ms (lower is better)",
    ]
    assert "3 runs per problem, noise=0.1" in seen["title"]


def test_plot_option_saves_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "cmp.png"
    main(["--n-runs", "1", "--n-features", "20", "-k", "2", "--problem", "gaussian", "--n-samples", "15",
          "--estimators", "sklearn OMP", "--plot", str(path)])
    assert path.stat().st_size > 0


def test_estimators_keep_the_requested_warm_starts():
    selected = select_estimators(["SEA", "HTP_ELS", "sklearn OMP"], 3, inits=["els", "iht"])
    assert list(selected) == ["SEA", "SEA_ELS", "SEA_IHT", "HTP_ELS", "sklearn OMP"]
    assert selected["SEA_IHT"].init == "iht" and selected["HTP_ELS"].init == "els"
    assert list(select_estimators(["IHT"], 3, inits=[])) == ["IHT"]


@pytest.fixture
def no_computing(monkeypatch):
    """Fail the test if the CLI starts computing."""

    def refuse(*args, **kwargs):
        raise AssertionError("the CLI started computing before rejecting its arguments")

    monkeypatch.setattr(cli, "run_comparison", refuse)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--estimators"], "argument --estimators: expected at least one argument"),
        (["--estimators", "nope"], "unknown estimators ['nope']"),
        (["--inits", "bogus"], "argument --inits: invalid choice: 'bogus'"),
        (["--n-jobs", "0"], "argument --n-jobs: 0 workers is not allowed"),
        (["--n-jobs", "two"], "argument --n-jobs: invalid integer value: 'two'"),
        (["--plot", "/nonexistent/x.png"], "--plot /nonexistent/x.png: folder /nonexistent does not exist"),
        (["--plot", "figure.xyz"], "--plot figure.xyz: the file name must end with one of"),
        (["--n-runs", "0"], "argument --n-runs: must be >= 1; got 0"),
        (["-k", "200"], "--n-nonzero-coefs=200 cannot exceed --n-features=100"),
        (["-k", "60"], "--n-nonzero-coefs=60 cannot exceed --n-samples=50"),
        (["--problem", "fourier"], "argument --problem: invalid choice: 'fourier'"),
        (["--noise", "-1"], "argument --noise: must be >= 0 and finite; got -1"),
        (["--alpha-ratio", "0"], "argument --alpha-ratio: must be > 0 and finite; got 0"),
        (["--width", "nan"], "argument --width: must be > 0 and finite; got nan"),
    ],
)
def test_each_mistake_is_an_argparse_error_before_any_computing(argv, message, capsys, no_computing):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: skstexplore")
    assert message in err
    assert "Traceback" not in err


def test_plot_into_a_read_only_folder_is_refused(tmp_path, capsys, monkeypatch, no_computing):
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)  # as a non-root user on a read-only folder
    with pytest.raises(SystemExit):
        main(["--plot", str(tmp_path / "x.png")])
    assert f"--plot {tmp_path / 'x.png'}: not writable" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"skstexplore {__version__}"


def test_help_states_each_default_once():
    done = subprocess.run([sys.executable, "-m", "skstexplore", "--help"], capture_output=True, text=True, check=True)
    text = " ".join(done.stdout.split())  # argparse wraps lines
    assert "--n-jobs" in text and "--plot FILE" in text and "--version" in text
    assert "(default: None)" not in text
    assert text.count("(default: all)") == 1
    assert "(default: omp)" in text and "(default: 100)" in text


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_is_a_live_line_on_a_terminal():
    stream = _Stream(tty=True)
    progress = cli._progress_printer(stream, start=0.0)
    for done in (1, 2, 3):
        progress(done, 3)
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and text.endswith("\n")


def test_progress_is_plain_lines_in_a_log(tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "w") as stderr:
        subprocess.run([sys.executable, "-m", "skstexplore", *SMALL, "--problem", "gaussian", "--estimators", "IHT"],
                       stdout=subprocess.DEVNULL, stderr=stderr, check=True)
    lines = log.read_text().splitlines()
    assert "\r" not in log.read_text()
    assert [line.split("(")[0].strip() for line in lines[1:]] == ["run 1/2", "run 2/2"]
