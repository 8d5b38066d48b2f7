"""Discovery of the package's public estimators (for tests, docs and the CLI)."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

_BASE_MODULE = "skstexplore._core.base"


def all_estimators():
    """Every public estimator class defined in the package, sorted by name.

    Walks all modules of :mod:`skstexplore` (private ones included), so an
    estimator cannot be left out of the common checks by forgetting to list it.

    Returns
    -------
    estimators : list of (name, class)
    """
    import skstexplore

    found = {}
    for info in pkgutil.walk_packages(skstexplore.__path__, prefix="skstexplore."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and cls.__module__ == module.__name__
                and module.__name__ != _BASE_MODULE
                and not name.startswith("_")
            ):
                found[name] = cls
    return sorted(found.items())
