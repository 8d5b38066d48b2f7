"""Resolution of the ``init`` parameter of the k-sparse estimators.

Forms accepted (see the API contract):

* ``None`` or ``"zeros"``: start from zero;
* ``"omp"``: scikit-learn's :func:`~sklearn.linear_model.orthogonal_mp_gram` /
  :func:`~sklearn.linear_model.orthogonal_mp`;
* ``"ompr"``, ``"els"``, ``"iht"``, ``"htp"``: run that solver of
  :mod:`skstexplore.solvers` with its default settings first (SEA_OMP style);
* an array ``(n_features,)`` or ``(n_targets, n_features)``;
* a scikit-learn regressor, cloned and fitted on the same (centred) data; its
  ``coef_`` is used.
"""

import importlib
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import orthogonal_mp, orthogonal_mp_gram

from .units import IDENTITY
from .validation import check_coef_array

INIT_ALGORITHMS = ("omp", "ompr", "els", "iht", "htp")
INIT_STRINGS = ("zeros",) + INIT_ALGORITHMS


def run_omp(X, Y, n_nonzero_coefs, gram=None):
    """k-sparse OMP solution of each column of ``Y``, shape (n_targets, n_features).

    A centred sparse design without Gram matrix goes through OMPR's growth
    phase, which is OMP (it adds the feature of largest :math:`|X_j^\top r|`
    and re-fits) and only needs products with ``X``.
    """
    if gram is None and not isinstance(X, np.ndarray):
        ompr = importlib.import_module("skstexplore.solvers.ompr").ompr  # the solvers import _core
        return ompr(X, Y, n_nonzero_coefs, max_iter=n_nonzero_coefs).coef
    # OMP stopping early on a rank-deficient X is expected here (the solver that
    # follows completes the support), not something to warn the user about
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Orthogonal matching pursuit ended prematurely", category=RuntimeWarning)
        if gram is not None:
            coef = orthogonal_mp_gram(gram, X.T @ Y, n_nonzero_coefs=n_nonzero_coefs)
        else:
            coef = orthogonal_mp(X, Y, n_nonzero_coefs=n_nonzero_coefs)
    return np.asarray(coef, dtype=X.dtype).reshape(X.shape[1], -1).T.copy()


def run_named_solver(name, X, Y, n_nonzero_coefs, gram=None):
    """Run the solver ``skstexplore.solvers.<name>.<name>`` with its defaults."""
    if name == "omp":
        return run_omp(X, Y, n_nonzero_coefs, gram=gram)
    solver = getattr(importlib.import_module(f"skstexplore.solvers.{name}"), name)
    return solver(X, Y, n_nonzero_coefs, gram=gram).coef


def resolve_init(init, X, Y, n_nonzero_coefs, *, gram=None, y_is_1d=False, units=IDENTITY):
    """Starting coefficients ``(n_targets, n_features)``, or None for zero.

    Parameters
    ----------
    init : None, str, array-like or regressor
    X : ndarray of shape (n_samples, n_features)
        Centred design.
    Y : ndarray of shape (n_samples, n_targets)
        Centred targets.
    n_nonzero_coefs : int
    gram : ndarray or None
        Precomputed ``X.T @ X``, reused by the initialising algorithm.
    y_is_1d : bool
        Whether the user's ``y`` was 1-D (an init estimator is fitted on the
        same shape).
    units : DataUnits
        How ``X`` and ``Y`` were rescaled: an init estimator is fitted on the
        data in the user's units and arrays are given in them; the result is
        in the internal units.
    """
    n_targets, n_features = Y.shape[1], X.shape[1]
    if init is None or (isinstance(init, str) and init == "zeros"):
        return None
    if isinstance(init, str):
        if init not in INIT_ALGORITHMS:
            raise ValueError(f"init must be one of {list(INIT_STRINGS)}, an array or a regressor; got {init!r}.")
        return run_named_solver(init, X, Y, n_nonzero_coefs, gram=gram)
    if hasattr(init, "fit"):
        if not isinstance(X, np.ndarray):
            raise TypeError(
                f"init={type(init).__name__}(...) (an estimator) cannot be used with a scipy.sparse X; "
                "fit it yourself and pass its coef_ as init, or use a string init such as 'omp'."
            )
        coef = _coef_from_estimator(init, units.user_X(X), units.user_Y(Y), n_targets, n_features, y_is_1d)
        return units.coef_to_internal(coef)
    if isinstance(init, (np.ndarray, list, tuple)):
        return units.coef_to_internal(check_coef_array(init, "init", n_targets, n_features, X.dtype))
    raise TypeError(
        f"init must be None, one of {list(INIT_STRINGS)}, an array or a regressor with fit; "
        f"got {init!r} of type {type(init).__name__}."
    )


def _coef_from_estimator(init, X, Y, n_targets, n_features, y_is_1d):
    if isinstance(init, type):
        raise TypeError(
            f"init must be a regressor instance, not the class {init.__name__}; pass {init.__name__}()."
        )
    try:
        estimator = clone(init).fit(X, Y[:, 0] if y_is_1d else Y)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        raise ValueError(f"init: the regressor {type(init).__name__} failed on the data: {exc}") from exc
    coef = getattr(estimator, "coef_", None)
    if coef is None:
        raise TypeError(
            f"init estimator {type(init).__name__} has no coef_ attribute after fitting; "
            "use a linear regressor such as OrthogonalMatchingPursuit or Lasso."
        )
    return check_coef_array(coef, f"coef_ of the init estimator {type(init).__name__}", n_targets, n_features, X.dtype)
