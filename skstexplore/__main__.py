"""``python -m skstexplore``: compare every sparse-recovery estimator of the
package with scikit-learn's OMP and Lasso on a Gaussian deconvolution and a
Gaussian compressed-sensing problem. The table goes to stdout, progress to
stderr."""

import argparse
import sys
import time

from .compare import PROBLEMS, ProblemSpec, default_estimators, format_table, plot_summaries, run_comparison


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skstexplore",
        description=(
            "Compare skstexplore's estimators with scikit-learn's OrthogonalMatchingPursuit and Lasso "
            "on sparse-recovery problems with a known answer."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--problem", choices=PROBLEMS + ("both",), default="both", help="problem family")
    parser.add_argument("--n-features", type=int, default=100, help="signal length n")
    parser.add_argument("--n-samples", type=int, default=50, help="measurements m (Gaussian problem)")
    parser.add_argument("--n-nonzero-coefs", "-k", type=int, default=8, help="sparsity k")
    parser.add_argument("--width", type=float, default=3.0, help="Gaussian blur width (deconvolution)")
    parser.add_argument("--noise", type=float, default=0.0, help="standard deviation of the noise")
    parser.add_argument("--n-runs", type=int, default=10, help="random problems per family")
    parser.add_argument("--alpha-ratio", type=float, default=0.01, help="alpha / alpha_max of Lasso-type estimators")
    parser.add_argument("--inits", nargs="*", default=["omp"], help="warm starts added for k-sparse estimators")
    parser.add_argument("--estimators", nargs="*", default=None, help="names to keep (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the problems")
    parser.add_argument("--n-jobs", type=int, default=None, help="joblib workers over runs (-1: all cores)")
    parser.add_argument("--plot", metavar="FILE", default=None, help="save bar charts (needs matplotlib)")
    return parser


def _check_args(parser, args):
    for name in ("n_features", "n_samples", "n_nonzero_coefs", "n_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if args.n_nonzero_coefs > args.n_features:
        parser.error(f"--n-nonzero-coefs={args.n_nonzero_coefs} cannot exceed --n-features={args.n_features}")
    if args.noise < 0 or args.alpha_ratio <= 0 or args.width <= 0:
        parser.error("--noise must be >= 0, --alpha-ratio and --width > 0")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install 'skstexplore[examples]'")


def _specs(args):
    kinds = PROBLEMS if args.problem == "both" else (args.problem,)
    return [
        ProblemSpec(kind, args.n_features, args.n_nonzero_coefs, n_samples=args.n_samples, width=args.width,
                    noise=args.noise)
        for kind in kinds
    ]


def _select(estimators, names, parser):
    if names is None:
        return estimators
    unknown = sorted(set(names) - set(estimators))
    if unknown:
        parser.error(f"unknown estimators {unknown}; available: {sorted(estimators)}")
    return {name: estimators[name] for name in names}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    estimators = _select(default_estimators(args.n_nonzero_coefs, inits=args.inits), args.estimators, parser)
    summaries = {}
    for spec in _specs(args):
        title = spec.describe()
        print(f"{title}: {len(estimators)} estimators x {args.n_runs} runs", file=sys.stderr)
        start = time.perf_counter()

        def progress(done, total):
            print(f"\r  run {done}/{total}  ({time.perf_counter() - start:.1f} s)", end="", file=sys.stderr)

        summary = run_comparison(
            spec, estimators, n_runs=args.n_runs, alpha_ratio=args.alpha_ratio, random_state=args.seed,
            n_jobs=args.n_jobs, progress=progress,
        )
        print(file=sys.stderr)
        summaries[title] = summary
        print(f"\n{title}, {args.n_runs} runs, noise={args.noise:g}")
        print(format_table(summary))
    if args.plot is not None:
        plot_summaries(summaries, args.plot)
        print(f"figure saved to {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
