"""scikit-learn's estimator checks on every public estimator, found automatically."""

from pathlib import Path

import skstexplore
from sklearn.utils.estimator_checks import parametrize_with_checks

from skstexplore import SEARegressor
from skstexplore._core.discovery import all_estimators


def _instance(cls):
    """The default instance; meta-estimators wrap a 20-iteration SEA to keep the checks fast.

    Their default, ``SEARegressor(init="omp")``, runs 1000 iterations per fit
    and a cross-validation fits it once per k and per fold, dozens of times
    per check; the checks test the meta-estimator, not SEA's budget.
    """
    if "estimator" in cls().get_params(deep=False):
        return cls(estimator=SEARegressor(init="omp", max_iter=20))
    return cls()


ESTIMATORS = [_instance(cls) for _, cls in all_estimators()]


def test_every_estimator_is_exported():
    assert ESTIMATORS, "no estimator found"
    for name, cls in all_estimators():
        assert getattr(skstexplore, name, None) is cls, f"{name} is not importable from skstexplore"
        assert name in skstexplore.__all__


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_estimator_is_in_the_api_reference():
    api = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()
    for name, _ in all_estimators():
        assert f"\n   {name}\n" in api, f"{name} is missing from docs/api.rst"
