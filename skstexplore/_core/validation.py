"""Parameter checks shared by the estimators.

Every message names the parameter and the offending value, as the API contract
asks. Checks run in ``fit`` (never in ``__init__``), following scikit-learn.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight


def check_option(value, name, options):
    """Raise ``ValueError`` unless ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}; got {_short_repr(value)}.")
    return value


def _short_repr(value, max_len=60):
    """``repr(value)``, or only the type and shape of an array, cut at ``max_len`` characters."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= max_len else text[: max_len - 3] + "..."


def check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool; got {_short_repr(value)} of type {type(value).__name__}.")
    return bool(value)


def check_positive_int(value, name, *, min_val=1, max_val=None):
    """An integer ``>= min_val`` (and ``<= max_val`` when given); bools are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {_short_repr(value)} of type {type(value).__name__}.")
    if value < min_val:
        raise ValueError(f"{name} must be >= {min_val}; got {name}={value}.")
    if max_val is not None and value > max_val:
        raise ValueError(f"{name} must be <= {max_val}; got {name}={value}.")
    return int(value)


def check_float(value, name, *, min_val=None, include_min=True):
    """A real number (not bool, not NaN), optionally bounded below."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float; got {_short_repr(value)} of type {type(value).__name__}.")
    if np.isnan(value):
        raise ValueError(f"{name} must be a number; got {name}=nan.")
    if min_val is not None and (value < min_val or (not include_min and value == min_val)):
        relation = ">=" if include_min else ">"
        raise ValueError(f"{name} must be {relation} {min_val}; got {name}={value!r}.")
    return float(value)


def check_tol(tol, name="tol"):
    """``None`` or a float >= 0."""
    return None if tol is None else check_float(tol, name, min_val=0.0)


def check_step_size(step_size):
    """``"auto"`` or a float > 0; returns ``None`` for ``"auto"``."""
    if isinstance(step_size, str):
        check_option(step_size, "step_size", {"auto"})
        return None
    value = check_float(step_size, "step_size")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"step_size must be 'auto' or a finite float > 0; got step_size={step_size!r}.")
    return value


def check_precompute(precompute):
    if isinstance(precompute, str):
        return check_option(precompute, "precompute", {"auto"})
    return check_bool(precompute, "precompute")


def resolve_n_nonzero_coefs(n_nonzero_coefs, n_features):
    """k from the ``n_nonzero_coefs`` parameter; None gives ``max(int(0.1 n_features), 1)``."""
    if n_nonzero_coefs is None:
        return max(int(0.1 * n_features), 1)
    if isinstance(n_nonzero_coefs, (bool, np.bool_)) or not isinstance(n_nonzero_coefs, numbers.Integral):
        raise TypeError(
            f"n_nonzero_coefs must be an int or None; got {n_nonzero_coefs!r} "
            f"of type {type(n_nonzero_coefs).__name__}."
        )
    if n_nonzero_coefs < 1:
        raise ValueError(f"n_nonzero_coefs must be >= 1; got n_nonzero_coefs={n_nonzero_coefs}.")
    if n_nonzero_coefs > n_features:
        raise ValueError(
            f"n_nonzero_coefs={n_nonzero_coefs} cannot be larger than n_features={n_features}."
        )
    return int(n_nonzero_coefs)


def check_coef_array(coef, name, n_targets, n_features, dtype):
    """Coefficients given by the user, returned as ``(n_targets, n_features)``.

    Accepts ``(n_features,)`` (broadcast to every target) or
    ``(n_targets, n_features)``; anything else, or a non-finite value, raises
    ``ValueError``.
    """
    arr = np.asarray(coef)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers; got dtype {arr.dtype}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    with np.errstate(over="ignore"):
        arr = arr.astype(dtype)
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} has entries of magnitude up to {np.max(np.abs(np.asarray(coef, dtype=float))):.3g}, "
            f"beyond the largest {np.dtype(dtype).name} ({np.finfo(dtype).max:.3g}); pass X and y as float64."
        )
    if arr.shape == (n_features,):
        arr = np.broadcast_to(arr, (n_targets, n_features))
    elif arr.shape != (n_targets, n_features):
        expected = f"({n_features},)" if n_targets == 1 else f"({n_features},) or ({n_targets}, {n_features})"
        raise ValueError(f"{name} has shape {arr.shape}; expected {expected} (n_targets, n_features).")
    return np.array(arr)


def gram_pays(n_samples, n_features, n_products, itemsize):
    r"""Whether precomputing :math:`X^\top X` is cheaper than using ``X``.

    The Gram matrix costs :math:`n m^2` once and turns each of the
    ``n_products`` correlations :math:`X^\top(y - Xw)` with a k-sparse ``w``
    from :math:`O(n m)` into :math:`O(m k)`; it pays when
    ``n_features <= n_products`` and fits in 1 GiB.
    """
    return n_features * n_features * itemsize <= 2**30 and (n_features <= n_samples or n_features <= n_products)


def check_sample_weight(sample_weight, X):
    """``None`` or validated non-negative weights of shape (n_samples,) in ``X``'s dtype.

    A scalar is broadcast to every sample; all-zero weights are refused.
    """
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight must have a positive sum; got all zeros.")
    return sample_weight


def check_random_state_param(random_state, name="random_state"):
    """:func:`sklearn.utils.check_random_state`, with a message naming the parameter."""
    try:
        return check_random_state(random_state)
    except (ValueError, TypeError) as exc:
        raise type(exc)(
            f"{name} must be None, an int in [0, 2**32 - 1] or a numpy.random.RandomState; "
            f"got {name}={_short_repr(random_state)} ({exc})."
        ) from None
