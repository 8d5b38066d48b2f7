"""scikit-learn's estimator checks on every public estimator, found automatically."""

from pathlib import Path

import skstexplore
from sklearn.utils.estimator_checks import parametrize_with_checks

from skstexplore._core.discovery import all_estimators

ESTIMATORS = [cls() for _, cls in all_estimators()]


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
