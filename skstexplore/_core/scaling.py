"""Powers of two that bring the data to unit scale, so that no decision depends on its units.

Multiplying by a power of two is exact in floating point (away from overflow
and underflow), so a solver run on ``X / x_scale`` and ``Y / y_scale`` makes
exactly the decisions it makes on data of ordinary scale, and its results are
mapped back exactly. Without it, data around 1e-160 or 1e155 underflow or
overflow in the Gram matrix and the squared residuals.
"""

import numpy as np


def power_of_two_scale(max_abs):
    """The power of two just below each ``max_abs`` (1 where it is 0 or not finite)."""
    max_abs = np.asarray(max_abs, dtype=np.float64)
    ok = np.isfinite(max_abs) & (max_abs > 0)
    exponent = np.frexp(np.where(ok, max_abs, 1.0))[1] - 1
    return np.ldexp(1.0, exponent)


def unit_scales(X, Y):
    """``x_scale`` (a float) and ``y_scale`` (one per column of ``Y``) so that entries are below 2.

    Examples
    --------
    >>> import numpy as np
    >>> x_scale, y_scale = unit_scales(np.array([[3.0, -0.5]]), np.array([[0.0, 5.0], [1.0, 0.0]]))
    >>> float(x_scale), y_scale.tolist()
    (2.0, [1.0, 4.0])
    """
    x_scale = power_of_two_scale(np.max(np.abs(X), initial=0.0))[()]
    y_scale = power_of_two_scale(np.max(np.abs(Y), axis=0, initial=0.0))
    return x_scale, y_scale
