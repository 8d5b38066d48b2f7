"""skstexplore: scikit-learn estimators for sparse recovery.

k-sparse least squares (IHT, HTP, OMPR, ELS and the Support Exploration
Algorithm) and Lasso solvers (Oracle ISTA, learned ISTA), all drop-in
scikit-learn regressors.
"""

from . import datasets, metrics
from .estimators.lista import LearnedISTA

__version__ = "0.1.0"

__all__ = ["LearnedISTA", "datasets", "metrics", "__version__"]
