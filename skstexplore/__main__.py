"""``python -m skstexplore``: compare every sparse-recovery estimator of the
package with scikit-learn's OMP and Lasso on a Gaussian deconvolution and a
Gaussian compressed-sensing problem. The tables go to stdout, progress to
stderr (a live line on a terminal, one line per run otherwise)."""

import argparse
import os
import sys
import time

from . import __version__
from ._core.init import INIT_ALGORITHMS
from .compare import (
    PROBLEMS,
    ProblemSpec,
    format_legend,
    format_table,
    plot_summaries,
    run_comparison,
    select_estimators,
)


def _int_at_least(minimum):
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}; got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in "invalid integer value"
    return parse


def _float_in(low, *, strict):
    def parse(text):
        value = float(text)
        if not (value > low if strict else value >= low) or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {low:g} and finite; got {text}")
        return value

    parse.__name__ = "number"
    return parse


def _n_jobs(text):
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 workers is not allowed: use a positive count, or -1 for all cores")
    return value


_n_jobs.__name__ = "integer"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skstexplore",
        description=(
            "Compare skstexplore's estimators with scikit-learn's OrthogonalMatchingPursuit and Lasso "
            "on sparse-recovery problems with a known answer. Rows are ranked by exact support "
            "recovery, then support F1, then relative error; a legend under each table explains the columns."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--problem", choices=PROBLEMS + ("both",), default="both",
                        help="problem family (default: %(default)s)")
    parser.add_argument("--n-features", metavar="N", type=_int_at_least(1), default=100, help="signal length n (default: %(default)s)")
    parser.add_argument("--n-samples", metavar="M", type=_int_at_least(1), default=50,
                        help="measurements m of the Gaussian problem (default: %(default)s)")
    parser.add_argument("--n-nonzero-coefs", "-k", metavar="K", type=_int_at_least(1), default=8, help="sparsity k (default: %(default)s)")
    parser.add_argument("--width", metavar="W", type=_float_in(0, strict=True), default=3.0,
                        help="Gaussian blur width of the deconvolution problem (default: %(default)s)")
    parser.add_argument("--noise", metavar="SIGMA", type=_float_in(0, strict=False), default=0.0,
                        help="standard deviation of the noise (default: %(default)s)")
    parser.add_argument("--n-runs", metavar="R", type=_int_at_least(1), default=10,
                        help="random problems per family (default: %(default)s)")
    parser.add_argument("--alpha-ratio", metavar="RATIO", type=_float_in(0, strict=True), default=0.01,
                        help="alpha / alpha_max of the Lasso-type estimators (default: %(default)s)")
    parser.add_argument("--inits", nargs="*", choices=INIT_ALGORITHMS, default=["omp"], metavar="INIT",
                        help=f"warm starts added for each k-sparse estimator, among {', '.join(INIT_ALGORITHMS)}; "
                        "none with an empty list (default: omp)")
    parser.add_argument("--estimators", nargs="+", default=None, metavar="NAME",
                        help="estimators to compare, e.g. 'sklearn OMP' SEA HTP_ELS; a k-sparse name brings "
                        "its --inits variants (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the problems (default: %(default)s)")
    parser.add_argument("--n-jobs", metavar="N_JOBS", type=_n_jobs, default=None,
                        help="joblib workers over the runs; -1 for all cores (default: one)")
    parser.add_argument("--plot", metavar="FILE", default=None,
                        help="save a figure of recovery and time, e.g. cmp.png (needs matplotlib)")
    return parser


def _check_args(parser, args):
    """Cross-argument checks, all before any computing."""
    if args.n_nonzero_coefs > args.n_features:
        parser.error(f"--n-nonzero-coefs={args.n_nonzero_coefs} cannot exceed --n-features={args.n_features}")
    if args.problem != "deconvolution" and args.n_nonzero_coefs > args.n_samples:
        parser.error(f"--n-nonzero-coefs={args.n_nonzero_coefs} cannot exceed --n-samples={args.n_samples}")
    if args.plot is not None:
        _check_plot_path(parser, args.plot)


def _check_plot_path(parser, path):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        parser.error("--plot needs matplotlib: pip install 'skstexplore[examples]'")
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    formats = Figure().canvas.get_supported_filetypes()
    if extension not in formats:
        parser.error(f"--plot {path}: the file name must end with one of {', '.join('.' + f for f in sorted(formats))}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        parser.error(f"--plot {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        parser.error(f"--plot {path}: not writable")


def _specs(args):
    kinds = PROBLEMS if args.problem == "both" else (args.problem,)
    return [
        ProblemSpec(kind, args.n_features, args.n_nonzero_coefs, n_samples=args.n_samples, width=args.width,
                    noise=args.noise)
        for kind in kinds
    ]


def _progress_printer(stream, start):
    """Live ``\\r`` line on a terminal, one plain line per run in a log."""
    live = stream.isatty()

    def progress(done, total):
        line = f"  run {done}/{total}  ({time.perf_counter() - start:.1f} s)"
        if live:
            print(f"\r{line}", end="\n" if done == total else "", file=stream, flush=True)
        else:
            print(line, file=stream, flush=True)

    return progress


def _settings(args):
    return f"{args.n_runs} runs per problem, noise={args.noise:g}, alpha={args.alpha_ratio:g} alpha_max, seed={args.seed}"


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    try:
        estimators = select_estimators(args.estimators, args.n_nonzero_coefs, inits=args.inits)
    except ValueError as error:
        parser.error(str(error))
    summaries = {}
    for spec in _specs(args):
        title = spec.describe()
        print(f"{title}: {len(estimators)} estimators x {args.n_runs} runs", file=sys.stderr, flush=True)
        summary = run_comparison(
            spec, estimators, n_runs=args.n_runs, alpha_ratio=args.alpha_ratio, random_state=args.seed,
            n_jobs=args.n_jobs, progress=_progress_printer(sys.stderr, time.perf_counter()),
        )
        summaries[title] = summary
        print(f"\n{title}, {_settings(args)}")
        print(format_table(summary))
        print(format_legend(args.n_nonzero_coefs, args.n_runs), flush=True)
    if args.plot is not None:
        plot_summaries(summaries, args.plot, subtitle=_settings(args))
        print(f"figure saved to {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
