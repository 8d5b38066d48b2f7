"""Sparse coding of scikit-learn's 8 x 8 digits through ``SparseEncoder``.

Two experiments on the bundled digits (64 pixels, values scaled to [0, 1]):

1. The semi-real learned-ISTA experiment (Ablin et al., NeurIPS 2019): the
   dictionary is ``--n-atoms`` digits drawn at random (unit-norm atoms), the
   signals are other digits rescaled so that each has lambda_max = 1
   (``||D x||_inf / 64 = 1`` in scikit-learn's scaling), and the Lasso is
   solved at lambda = 0.1 and 0.8 lambda_max. For each lambda the figure shows
   the mean test ``F(z) - F*`` (lower is better; F* from coordinate descent to
   1e-14) against the depth: ISTA's iterations, and SLISTA networks
   (``LearnedISTA(parametrization="step")`` wrapped in ``SparseEncoder``) of
   each depth trained on the training signals. The depth itself is chosen by
   ``GridSearchCV`` over the training *signals* (3 folds, score = minus the
   mean held-out Lasso objective): the fewest layers whose cross-validated
   objective is within 1 % of the best depth's. Each point averages
   ``--n-test`` test signals; one run.
2. Classification: digits -> ``SparseEncoder(SEARegressor(k, init="omp"))`` on
   a dictionary learned by scikit-learn's ``MiniBatchDictionaryLearning`` ->
   ``LogisticRegression``, against the same pipeline with scikit-learn's
   ``SparseCoder(transform_algorithm="omp")``: test accuracy (higher is
   better) and fit + predict time (lower is better) of one train/test split.

Small defaults run in about a minute on 2 cores; ``--full`` uses all the
digits, depths 1 to 20 and SEA's default budget of 1000 iterations::

    python examples/plot_digits_sparse_coding.py            # about a minute
    python examples/plot_digits_sparse_coding.py --full     # much longer
"""

import argparse
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import MiniBatchDictionaryLearning, SparseCoder  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Lasso, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skstexplore import LearnedISTA, SEARegressor, SparseEncoder  # noqa: E402
from skstexplore._core.lasso import lasso_objective  # noqa: E402
from skstexplore.solvers.ista import ista  # noqa: E402


def digits_lasso_problem(n_atoms, n_train, n_test, seed):
    """Unit-norm digit atoms (n_atoms, 64) and signals (rows) rescaled to lambda_max = 1."""
    images = load_digits().data / 16.0
    order = np.random.default_rng(seed).permutation(len(images))
    dictionary = images[order[:n_atoms]]
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    signals = images[order[n_atoms : n_atoms + n_train + n_test]]
    n_dims = signals.shape[1]
    signals = signals / (np.abs(signals @ dictionary.T).max(axis=1, keepdims=True) / n_dims)
    return dictionary, signals[:n_train], signals[n_train:]


def mean_objective(dictionary, signals, codes, alpha):
    """Mean Lasso objective 1/(2 n_dims) ||x - D^T z||^2 + alpha ||z||_1 over the signals (rows)."""
    return float(np.mean(lasso_objective(dictionary.T, signals.T, codes, alpha)))


def negative_objective(encoder, signals, y=None):
    """GridSearchCV score: minus the mean held-out Lasso objective (higher is better)."""
    alpha = encoder.estimator_.alpha
    return -mean_objective(encoder.components_, signals, encoder.transform(signals), alpha)


def fewest_good_layers(cv_results):
    """Index of the fewest layers whose CV objective is within 1 % of the best one."""
    scores = np.asarray(cv_results["mean_test_score"])
    layers = np.asarray(cv_results["param_estimator__n_layers"], dtype=int)
    good = np.flatnonzero(scores >= scores.max() - 0.01 * abs(scores.max()))
    return int(good[np.argmin(layers[good])])


def slista_encoder(dictionary, alpha, n_layers, max_iter):
    lista = LearnedISTA(alpha=alpha, n_layers=n_layers, parametrization="step", max_iter=max_iter)
    return SparseEncoder(lista, dictionary=dictionary)


def depth_experiment(ax, dictionary, train, test, alpha, args):
    lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(dictionary.T, test.T)
    F_star = mean_objective(dictionary, test, lasso.coef_, alpha)
    depth_max = max(args.depths)
    ista_gaps = []
    ista(dictionary.T, test.T, alpha, max_iter=depth_max, tol=0.0,
         callback=lambda coef, step: ista_gaps.append(mean_objective(dictionary, test, coef, alpha) - F_star))
    ax.semilogy(np.arange(1, depth_max + 1), ista_gaps, "k-", label="ISTA")
    search = GridSearchCV(slista_encoder(dictionary, alpha, 1, args.max_iter), {"estimator__n_layers": args.depths},
                          cv=3, scoring=negative_objective, refit=fewest_good_layers)
    search.fit(train)
    gaps = []
    for depth in args.depths:
        encoder = slista_encoder(dictionary, alpha, depth, args.max_iter).fit(train)
        gaps.append(mean_objective(dictionary, test, encoder.transform(test), alpha) - F_star)
        print(f"lambda={alpha} lambda_max, depth {depth:2d}: test F - F*  ISTA {ista_gaps[depth - 1]:.3e}"
              f"  SLISTA {gaps[-1]:.3e}")
    chosen = search.best_params_["estimator__n_layers"]
    chosen_gap = mean_objective(dictionary, test, search.transform(test), alpha) - F_star
    print(f"lambda={alpha} lambda_max: GridSearchCV over signals chose {chosen} layers, test F - F* = {chosen_gap:.3e}")
    ax.semilogy(args.depths, gaps, "o-", label="SLISTA (SparseEncoder)")
    ax.semilogy([chosen], [chosen_gap], "r*", markersize=15, label=f"GridSearchCV: {chosen} layers")
    ax.set(xlabel="layers / iterations", ylabel="test F - F* (lower is better)",
           title=f"digits, lambda = {alpha} lambda_max")
    ax.legend()


def classification_experiment(ax, args):
    images, labels = load_digits(return_X_y=True)
    images = images / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        images, labels, train_size=args.n_class_train, test_size=args.n_class_test, random_state=args.seed,
        stratify=labels,
    )
    learner = MiniBatchDictionaryLearning(n_components=args.n_components, alpha=0.1, batch_size=256,
                                          max_iter=args.dict_epochs, random_state=args.seed)
    dictionary = learner.fit(X_train).components_
    k = args.n_nonzero_coefs
    coders = {
        f"SparseEncoder(SEA_OMP, k={k})": SparseEncoder(SEARegressor(k, init="omp", max_iter=args.sea_max_iter),
                                                      dictionary=dictionary),
        f"SparseCoder(omp, k={k})": SparseCoder(dictionary, transform_algorithm="omp", transform_n_nonzero_coefs=k),
    }
    accuracy, seconds = {}, {}
    for name, coder in coders.items():
        pipeline = make_pipeline(coder, LogisticRegression(max_iter=2000))
        start = time.perf_counter()
        accuracy[name] = pipeline.fit(X_train, y_train).score(X_test, y_test)
        seconds[name] = time.perf_counter() - start
        print(f"{name:32s} test accuracy {accuracy[name]:.3f}   fit + predict {seconds[name]:6.2f} s")
    names = list(coders)
    ax.bar(names, [accuracy[name] for name in names], color=["tab:red", "tab:gray"])
    for i, name in enumerate(names):
        ax.text(i, accuracy[name] / 2, f"{accuracy[name]:.3f}\n{seconds[name]:.1f} s", ha="center", color="white")
    ax.set(ylabel="test accuracy (higher is better)",
           title=f"digits -> codes ({args.n_components} learned atoms) -> logistic regression")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="all digits, depths 1..20, SEA's full budget (long)")
    parser.add_argument("--n-atoms", type=int, default=100)
    parser.add_argument("--n-train", type=int, default=150)
    parser.add_argument("--n-test", type=int, default=150)
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 3, 6, 10])
    parser.add_argument("--max-iter", type=int, default=10, help="L-BFGS iterations training SLISTA")
    parser.add_argument("--n-class-train", type=int, default=400)
    parser.add_argument("--n-class-test", type=int, default=300)
    parser.add_argument("--n-components", type=int, default=64)
    parser.add_argument("--dict-epochs", type=int, default=3, help="MiniBatchDictionaryLearning max_iter")
    parser.add_argument("--n-nonzero-coefs", type=int, default=8)
    parser.add_argument("--sea-max-iter", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="digits_sparse_coding.png")
    args = parser.parse_args()
    if args.full:
        args.n_train, args.n_test, args.depths, args.max_iter = 800, 800, list(range(1, 21)), 100
        args.n_class_train, args.n_class_test, args.dict_epochs, args.sea_max_iter = 1200, 597, 20, 1000
    warnings.simplefilter("ignore", ConvergenceWarning)
    dictionary, train, test = digits_lasso_problem(args.n_atoms, args.n_train, args.n_test, args.seed)
    fig, axes = plt.subplots(1, 3, figsize=(19, 5.5))
    for ax, alpha in zip(axes[:2], (0.1, 0.8)):
        depth_experiment(ax, dictionary, train, test, alpha, args)
    classification_experiment(axes[2], args)
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
