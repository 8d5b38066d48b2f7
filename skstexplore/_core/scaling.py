"""Powers of two that bring the data to unit scale, so that no decision depends on its units.

Multiplying by a power of two is exact in floating point (away from overflow
and underflow), so a solver run on ``X / x_scale`` and ``Y / y_scale`` makes
exactly the decisions it makes on data of ordinary scale, and its results are
mapped back exactly. Without it, data around 1e-160 or 1e155 underflow or
overflow in the Gram matrix and the squared residuals.
"""

import numpy as np


def power_of_two_scale(max_abs, dtype=np.float64):
    r"""The power of two just below each ``max_abs``, or 1 where no rescaling is needed.

    Data whose largest magnitude lies within :math:`2^{\pm e}`, :math:`e` a
    quarter of the dtype's largest exponent (:math:`2^{\pm 256}` in float64,
    :math:`2^{\pm 32}` in float32), has squares and sums of squares far from
    overflow and underflow: it is left as is (no copy, bit-identical results).
    """
    max_abs = np.asarray(max_abs, dtype=np.float64)
    limit = np.finfo(dtype).maxexp // 4
    exponent = np.frexp(np.where(np.isfinite(max_abs) & (max_abs > 0), max_abs, 1.0))[1] - 1
    return np.ldexp(1.0, np.where(np.abs(exponent) <= limit, 0, exponent))


def unit_scales(X, Y):
    """``x_scale`` (a float) and ``y_scale`` (one per column of ``Y``): powers of two that bring
    data of extreme magnitude to entries in [1, 2), and 1 for data of ordinary magnitude.

    Examples
    --------
    >>> import numpy as np
    >>> x_scale, y_scale = unit_scales(np.array([[3e-160, -1e-161]]), np.array([[0.0, 5e155], [1.0, 0.0]]))
    >>> float(np.log2(x_scale)), np.log2(y_scale).tolist()
    (-530.0, [0.0, 516.0])
    """
    x_scale = power_of_two_scale(np.max(np.abs(X), initial=0.0), X.dtype)[()]
    y_scale = power_of_two_scale(np.max(np.abs(Y), axis=0, initial=0.0), X.dtype)
    return x_scale, y_scale
