"""skstexplore: scikit-learn estimators for sparse recovery.

k-sparse least squares (IHT, HTP, OMPR, ELS and the Support Exploration
Algorithm) and Lasso solvers (Oracle ISTA, learned ISTA), all drop-in
scikit-learn regressors.
"""

from . import datasets, metrics
from .estimators.els import ELSRegressor
from .estimators.encoder import SparseEncoder
from .estimators.htp import HTPRegressor
from .estimators.iht import IHTRegressor
from .estimators.lista import LearnedISTA
from .estimators.oista import OracleISTALasso
from .estimators.oista_cv import OracleISTALassoCV, lasso_path
from .estimators.ompr import OMPRRegressor
from .estimators.sea import SEARegressor
from .estimators.sparsity_cv import SparsityCV
from .sparsity import sparsity_path

__version__ = "0.1.0"

__all__ = [
    "ELSRegressor",
    "HTPRegressor",
    "IHTRegressor",
    "LearnedISTA",
    "OMPRRegressor",
    "OracleISTALasso",
    "OracleISTALassoCV",
    "SEARegressor",
    "SparseEncoder",
    "SparsityCV",
    "datasets",
    "lasso_path",
    "metrics",
    "sparsity_path",
    "__version__",
]
