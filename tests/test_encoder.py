"""SparseEncoder: sklearn's SparseCoder convention for every estimator of the package."""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skstexplore import (
    ELSRegressor,
    HTPRegressor,
    IHTRegressor,
    LearnedISTA,
    OMPRRegressor,
    OracleISTALasso,
    SEARegressor,
    SparseEncoder,
)


def coding_problem(seed=0, n_signals=12, n_components=30, n_dims=20, k=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    dictionary = rng.standard_normal((n_components, n_dims))
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    codes = np.zeros((n_signals, n_components))
    for i in range(n_signals):
        codes[i, rng.choice(n_components, k, replace=False)] = rng.uniform(1, 2, k) * rng.choice([-1, 1], k)
    return dictionary.astype(dtype), (codes @ dictionary).astype(dtype), codes


ESTIMATORS = [
    SEARegressor(3, init="omp", max_iter=100),
    IHTRegressor(3),
    HTPRegressor(3),
    OMPRRegressor(3),
    ELSRegressor(3),
    OracleISTALasso(alpha=0.01),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_is_the_estimator_fitted_on_the_transposed_dictionary(estimator, dtype):
    dictionary, signals, _ = coding_problem(dtype=dtype)
    encoder = SparseEncoder(estimator, dictionary=dictionary).fit(signals)
    codes = encoder.transform(signals)
    reference = estimator.set_params(fit_intercept=False).fit(dictionary.T, signals.T).coef_
    assert codes.shape == (12, 30) and codes.dtype == dtype
    assert_allclose(codes, reference, rtol=0, atol=1e-10)
    # one signal at a time gives the same codes (signals are coded independently)
    assert_allclose(encoder.transform(signals[3:4]), codes[3:4], rtol=1e-5, atol=1e-6)


def test_noiseless_sparse_codes_are_recovered():
    dictionary, signals, codes = coding_problem(seed=1)
    assert_allclose(SparseEncoder(HTPRegressor(3), dictionary=dictionary).fit_transform(signals), codes, atol=1e-10)


def test_the_wrapped_estimator_is_cloned_without_intercept_and_left_untouched():
    dictionary, signals, _ = coding_problem()
    estimator = HTPRegressor(3)
    encoder = SparseEncoder(estimator, dictionary=dictionary).fit(signals)
    encoder.transform(signals)
    assert estimator.fit_intercept and not hasattr(estimator, "coef_")
    assert encoder.estimator_ is not estimator and encoder.estimator_.fit_intercept is False
    assert encoder.components_.shape == (30, 20) and encoder.n_components_ == 30


def test_no_dictionary_means_a_sparse_approximation_of_the_signal_itself():
    rng = np.random.default_rng(0)
    signals = rng.standard_normal((5, 10))
    codes = SparseEncoder(HTPRegressor(2)).fit_transform(signals)
    largest = np.argsort(-np.abs(signals), axis=1)[:, :2]
    expected = np.zeros_like(signals)
    np.put_along_axis(expected, largest, np.take_along_axis(signals, largest, axis=1), axis=1)
    assert_allclose(codes, expected, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_learned_solver_is_trained_on_the_signals_and_codes_new_ones():
    dictionary, signals, _ = coding_problem(seed=2, n_signals=40)
    train, test = signals[:30], signals[30:]
    lista = LearnedISTA(alpha=0.05, n_layers=4, max_iter=20)
    encoder = SparseEncoder(lista, dictionary=dictionary).fit(train)
    reference = LearnedISTA(alpha=0.05, n_layers=4, max_iter=20, fit_intercept=False).fit(dictionary.T, train.T)
    assert_allclose(encoder.estimator_.steps_, reference.steps_, atol=1e-12)
    assert_allclose(encoder.transform(test), reference.encode(test.T), atol=1e-12)
    assert_allclose(encoder.transform(train), reference.coef_, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_and_cross_validation_split_the_signals():
    dictionary, signals, _ = coding_problem(seed=3, n_signals=30)
    seen = []

    class Recording(LearnedISTA):
        def fit(self, X, y):
            seen.append(np.shape(y))
            return super().fit(X, y)

    encoder = SparseEncoder(Recording(alpha=0.05, max_iter=5), dictionary=dictionary)
    search = GridSearchCV(encoder, {"estimator__n_layers": [1, 3]}, cv=3, scoring=_negative_lasso_objective)
    search.fit(signals)
    assert search.best_params_ == {"estimator__n_layers": 3}
    # each fit trains on 20 of the 30 signals, with the 20 atoms' dimension as rows
    assert seen[:6] == [(20, 20)] * 6 and seen[-1] == (20, 30)
    assert cross_val_score(encoder, signals, cv=3, scoring=_negative_lasso_objective).shape == (3,)


def _negative_lasso_objective(encoder, signals, y=None):
    codes = encoder.transform(signals)
    residual = signals - codes @ encoder.components_
    alpha = encoder.estimator_.alpha
    n_dims = signals.shape[1]
    return -np.mean(0.5 / n_dims * np.sum(residual**2, axis=1) + alpha * np.abs(codes).sum(axis=1))


def test_pipeline_codes_then_classifier():
    dictionary, signals, codes = coding_problem(seed=4, n_signals=60)
    labels = (codes[:, :15].sum(axis=1) > codes[:, 15:].sum(axis=1)).astype(int)  # linear in the codes
    pipeline = make_pipeline(SparseEncoder(HTPRegressor(3), dictionary=dictionary), LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert pipeline.fit(signals, labels).score(signals, labels) > 0.9
    assert_array_equal(pipeline[0].get_feature_names_out()[:2], ["sparseencoder0", "sparseencoder1"])


class _Supervised(RegressorMixin, BaseEstimator):
    """A learned coder whose fit takes known codes, as OMPNet and IHTNet do: it memorises them."""

    def __init__(self, fit_intercept=True):
        self.fit_intercept = fit_intercept

    def fit(self, X, y, coef=None):
        self.coef_ = coef
        return self

    def encode(self, Y):
        return np.zeros((np.shape(Y)[1], len(self.coef_[0])))


def test_known_codes_go_to_supervised_learned_solvers():
    dictionary, signals, codes = coding_problem()
    encoder = SparseEncoder(_Supervised(), dictionary=dictionary).fit(signals, codes)
    assert_array_equal(encoder.estimator_.coef_, codes)
    with pytest.raises(ValueError, match=re.escape("y (the known codes) has shape (12, 29); expected (n_signals, n_components) = (12, 30)")):
        SparseEncoder(_Supervised(), dictionary=dictionary).fit(signals, codes[:, :29])


def test_bad_input_is_named_in_the_error():
    dictionary, signals, _ = coding_problem()
    message = "dictionary has shape (30, 19) but X has 20 features; the dictionary must be (n_components, n_dims)"
    with pytest.raises(ValueError, match=re.escape(message)):
        SparseEncoder(dictionary=dictionary[:, :19]).fit(signals)
    with pytest.raises(ValueError, match="Input dictionary contains NaN"):
        SparseEncoder(dictionary=np.full((3, 20), np.nan)).fit(signals)
    with pytest.raises(TypeError, match="estimator must be an estimator of the package with fit"):
        SparseEncoder(estimator="omp").fit(signals)
    encoder = SparseEncoder(HTPRegressor(3), dictionary=dictionary).fit(signals)
    with pytest.raises(ValueError, match="X has 19 features, but SparseEncoder is expecting 20 features"):
        encoder.transform(signals[:, :19])
