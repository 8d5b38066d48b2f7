r"""Units of the data: what a fit must not depend on.

The k-sparse problem :math:`\min \|y - Xw\|^2,\ \|w\|_0 \le k` is equivariant:
the fit of :math:`(aX, by)` is :math:`(b/a)\,w`. Floating point is not: with
``X`` around :math:`10^{155}` the Gram matrix overflows, with float32 ``X``
around :math:`10^{19}` already, and with ``y`` around :math:`10^{-160}` the
residuals are subnormal. :class:`DataUnits` therefore brings ``X`` and ``Y``
to unit scale (largest magnitude in :math:`[1/2, 1)`) before any solver runs,
and maps parameters and results between the user's units and these internal
ones. The factors are powers of two (multiplied by, or applied with
:func:`numpy.ldexp` where the factor itself is not a normal number), so the
rescaling is exact: fits of ``X`` and ``2**j * X`` are the same bit for bit
(up to the factor), and within rounding for any other factor.

:func:`zero_centring_noise` removes the other unit-dependent artefact:
centring a constant column leaves rounding noise of relative size
:math:`\varepsilon`, which any scale-aware rank decision would take for a
genuine (tiny) column.
"""

import numpy as np


def _exponent(magnitude):
    """``e`` with ``magnitude * 2**-e`` in ``[1/2, 1)``; 0 for zero or non-finite magnitudes."""
    if not (np.isfinite(magnitude) and magnitude > 0):
        return 0
    return int(np.frexp(magnitude)[1])


def column_peaks(X):
    """``max_i |X_ij|`` for each column, without a temporary of the size of ``X``."""
    return np.maximum(X.max(axis=0, initial=0.0), -X.min(axis=0, initial=0.0))


def _max_abs(A):
    if hasattr(A, "max_abs"):  # a centred sparse design
        return A.max_abs()
    A = np.asarray(A)
    return float(max(A.max(initial=0.0), -A.min(initial=0.0)))


def _ldexp(A, exponent, out=None):
    """``A * 2**exponent`` in ``A``'s dtype, for arrays and centred sparse designs (into ``out`` if given).

    Multiplying by the power of two itself is exact and several times faster
    than :func:`numpy.ldexp`; the latter is kept for the factors that are not
    normal numbers of the dtype (beyond about ``2**±126`` in float32).
    """
    if hasattr(A, "ldexp"):
        return A.ldexp(exponent)
    A = np.asarray(A)
    dtype = A.dtype if A.dtype.kind == "f" else np.dtype(np.float64)
    factor = np.ldexp(dtype.type(1), exponent)
    if np.isfinite(factor) and factor >= np.finfo(dtype).tiny:
        return np.multiply(A, factor, out=out, dtype=dtype)
    return np.ldexp(A, exponent, out=out).astype(dtype, copy=False)


class DataUnits:
    r"""Exact power-of-two rescaling ``X -> 2**-ex X``, ``Y -> 2**-ey Y``.

    Internal coefficients are :math:`w_{int} = 2^{ex - ey} w`, internal
    squared residuals :math:`2^{-2 ey} \|r\|^2` and internal steps (in units of
    :math:`1/\|X\|^2`) :math:`2^{2 ex} \eta`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or None
        None leaves ``X`` in its units (only ``Y`` is rescaled).
    Y : ndarray of shape (n_samples, n_targets)
    x_peak : float, optional
        ``max |X|`` when already known (``X`` is then not read).
    """

    def __init__(self, X, Y, *, x_peak=None):
        if x_peak is None:
            x_peak = 0.0 if X is None else _max_abs(X)
        self.ex = _exponent(x_peak)
        self.ey = _exponent(_max_abs(Y))

    def scale_X(self, X, in_place=False):
        """``X`` in internal units; ``in_place`` overwrites a dense ``X`` (a copy the caller owns)."""
        if not self.ex:
            return X
        return _ldexp(X, -self.ex, out=X if in_place and isinstance(X, np.ndarray) else None)

    def scale_Y(self, Y):
        return _ldexp(Y, -self.ey) if self.ey else Y

    def user_X(self, X):
        return _ldexp(X, self.ex) if self.ex else X

    def user_Y(self, Y):
        return _ldexp(Y, self.ey) if self.ey else Y

    def scale_gram(self, gram):
        return None if gram is None else _ldexp(gram, -2 * self.ex)

    def coef_to_internal(self, coef):
        """User coefficients in internal units; ``ValueError`` if they leave the dtype's range."""
        if coef is None or self.ex == self.ey:
            return coef
        with np.errstate(over="ignore"):
            internal = np.ldexp(coef, self.ex - self.ey).astype(coef.dtype, copy=False)
        if not np.all(np.isfinite(internal)):
            raise ValueError(
                "the starting coefficients (init or warm start) overflow in the units of X and y: "
                f"entries up to {_max_abs(coef):.3g} for X and y of magnitudes 2**{self.ex} and 2**{self.ey}."
            )
        return internal

    def coef_to_user(self, coef):
        """Internal coefficients in the user's units (an overflow is a ``ValueError``, never silent)."""
        if self.ex == self.ey:
            return coef
        with np.errstate(over="ignore"):
            user = np.ldexp(coef, self.ey - self.ex).astype(coef.dtype, copy=False)
        if np.all(np.isfinite(coef)) and not np.all(np.isfinite(user)):
            raise ValueError(
                f"the fitted coefficients overflow {coef.dtype}: y is about 2**{self.ey - self.ex} times "
                f"larger than X; pass X and y as float64 or rescale them."
            )
        return user

    def residual_sq_to_internal(self, value):
        return None if value is None else float(np.ldexp(value, -2 * self.ey))

    def residual_sq_to_user(self, value):
        with np.errstate(over="ignore"):  # a squared residual beyond the dtype is honestly inf
            return np.ldexp(value, 2 * self.ey).astype(value.dtype, copy=False)

    def step_to_internal(self, step):
        return None if step is None else float(np.ldexp(step, 2 * self.ex))

    def step_to_user(self, step):
        with np.errstate(over="ignore", under="ignore"):  # a step beyond the dtype is honestly inf or 0
            return np.ldexp(step, -2 * self.ex)

    def solver_params_to_internal(self, params):
        """Copy of solver keyword arguments with the unit-bearing ones (``step_size``) converted."""
        params = dict(params)
        if params.get("step_size") is not None:
            params["step_size"] = self.step_to_internal(params["step_size"])
        return params

    # Solver extras that carry units, and how to bring them back to the user's.
    _EXTRAS = {"exploration": "coef_to_user", "loss_curve": "residual_sq_to_user", "step_size": "step_to_user"}

    def result_to_user(self, result):
        """A solver's :class:`~skstexplore._core.base.SolverResult` in the user's units (modified in place)."""
        result.coef = self.coef_to_user(result.coef)
        for key, method in self._EXTRAS.items():
            value = result.extras.get(key)
            if value is None:
                continue
            convert = getattr(self, method)
            if isinstance(value, list):
                result.extras[key] = [convert(np.asarray(v)) for v in value]
            else:
                result.extras[key] = convert(np.asarray(value))
        return result


class _IdentityUnits(DataUnits):
    def __init__(self):
        self.ex = self.ey = 0


IDENTITY = _IdentityUnits()


def centring_noise_bound(n_samples, dtype, peaks):
    """The rounding a centring of columns of magnitude ``peaks`` can leave: :math:`(m + 2)\\varepsilon \\max|x|`."""
    return (n_samples + 2) * np.finfo(dtype).eps * peaks


def zero_centring_noise(Xc, X, peaks=None):
    r"""Set to exactly zero the centred columns that are only rounding noise.

    Centring a column :math:`x` costs at most about :math:`(m + 2)\varepsilon
    \max|x|` of rounding (:math:`m` samples), so a centred column below that
    bound carries no information (a constant column, in exact arithmetic zero).
    ``Xc`` is modified in place and returned. The estimators run it fused
    into the two passes of
    :func:`~skstexplore._core.preprocess.prepare_dense_scaled`; this is the
    reference that fused form is tested against, bit for bit.

    Parameters
    ----------
    Xc : ndarray of shape (n_samples, n_features)
        Centred copy of ``X``.
    X : ndarray of shape (n_samples, n_features)
        The data before centring.
    peaks : ndarray of shape (n_features,), optional
        :func:`column_peaks` of ``X`` when already computed.
    """
    n_samples = X.shape[0]
    bound = centring_noise_bound(n_samples, Xc.dtype, column_peaks(X) if peaks is None else peaks)
    # a noise column has entries below its bound, so a norm below sqrt(m) times it: only those
    # candidates (and the columns whose squared norm overflows) are looked at entry by entry,
    # with no temporary of the size of X
    with np.errstate(over="ignore"):
        norms = np.sqrt(np.einsum("ij,ij->j", Xc, Xc))
    candidates = np.flatnonzero(~(norms > np.sqrt(n_samples) * bound))
    if candidates.size:
        noise = column_peaks(Xc[:, candidates]) <= bound[candidates]
        Xc[:, candidates[noise]] = 0
    return Xc
