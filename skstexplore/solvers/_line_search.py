r"""Exact minimisation of the Lasso objective along a segment (the active-set method's line search).

Along :math:`w + t d`, :math:`t \in [0, 1]`, the objective
:math:`q(w) = \tfrac12 w^\top G w - c^\top w + \lambda\|w\|_1` is a convex
piecewise quadratic whose kinks are where coordinates cross zero; its
minimiser is where the increasing piecewise-linear derivative first reaches 0.
"""

import numpy as np


def line_search(grad, sign, w, d, penalty, positive):
    r"""Minimiser ``t`` in :math:`[0, 1]` of :math:`\phi(t) = q(w + t d)` per row, and the coordinates it zeroes.

    :math:`\phi'(t) = a + b t + \lambda \sum_j d_j \,\mathrm{sign}(w_j + t d_j)`
    with :math:`a = d^\top g` (:math:`g = G w - c`) and :math:`b = d^\top G d`,
    where :math:`G d = G z - G w = -\lambda\theta - g` on the guessed support
    (no product with :math:`G`): increasing, with jumps of
    :math:`2\lambda|d_j|` at the kinks :math:`t_j = -w_j / d_j`. The minimiser
    is the first :math:`t` where it reaches 0. With ``positive`` no
    coordinate may cross zero: the segment ends at the first kink.
    """
    a = np.einsum("ri,ri->r", d, grad)
    b = np.maximum(-np.einsum("ri,ri->r", d, penalty * sign + grad), 0.0)
    nonzero = w != 0
    s0 = np.where(nonzero, np.sign(w) * d, np.abs(d)).sum(axis=1)
    slope0 = a + penalty * s0
    with np.errstate(divide="ignore", invalid="ignore"):
        kink = np.where(nonzero & (w * d < 0), -w / d, np.inf)
        if positive:
            kink = np.where(~nonzero & (d < 0), 0.0, kink)
        root = np.where(b > 0, -slope0 / b, np.where(slope0 < 0, np.inf, 0.0))
    if positive:
        first = kink.min(axis=1, initial=np.inf)
        t = np.clip(root, 0.0, np.minimum(first, 1.0))
    else:
        t = _first_root(kink, np.abs(d), slope0, b, penalty)
    t = np.where(b > 0, t, np.where(slope0 < 0, 1.0, 0.0)) if not positive else t
    at_zero = (kink == t[:, None]) & nonzero
    return t, at_zero


def _first_root(kink, abs_d, slope0, b, penalty):
    """Where the increasing piecewise-linear :math:`\\phi'` first reaches 0 in :math:`[0, 1]` (1 if never)."""
    order = np.argsort(kink, axis=1)
    lo_kinks = np.take_along_axis(kink, order, axis=1)
    jumps = 2 * penalty * np.take_along_axis(abs_d, order, axis=1)
    level = slope0[:, None] + np.concatenate([np.zeros((kink.shape[0], 1)), np.cumsum(jumps, axis=1)], axis=1)
    lo = np.concatenate([np.zeros((kink.shape[0], 1)), lo_kinks], axis=1)
    hi = np.concatenate([lo_kinks, np.full((kink.shape[0], 1), np.inf)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.where(level < 0, -level / b[:, None], 0.0)
    candidate = np.where((root <= hi) & (lo <= 1.0), np.maximum(lo, root), np.inf)
    return np.minimum(candidate.min(axis=1), 1.0)


def line_search_one(grad, sign, w, d, penalty, positive):
    """:func:`line_search` for one target, looking only at the kinks inside the segment (usually few)."""
    a = float(d @ grad)
    b = max(-float(d @ (penalty * sign + grad)), 0.0)
    nonzero = w != 0
    slope = a + penalty * float(np.where(nonzero, np.sign(w) * d, np.abs(d)).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        kink = np.where(nonzero & (w * d < 0), -w / d, np.inf)
        if positive:
            kink = np.where(~nonzero & (d < 0), 0.0, kink)
    inside = np.flatnonzero(kink <= 1.0)
    inside = inside[np.argsort(kink[inside], kind="stable")]
    if positive:
        end = kink[inside[0]] if inside.size else 1.0
        t = min(max(-slope / b, 0.0), end) if b > 0 else (end if slope < 0 else 0.0)
    else:
        t, low = 1.0, 0.0
        for position in inside:  # phi' increases by 2 lambda |d_j| at each kink
            if slope >= 0 or (b > 0 and -slope / b <= kink[position]):
                t = low if slope >= 0 else max(low, -slope / b)
                break
            slope += 2 * penalty * abs(d[position])
            low = kink[position]
        else:
            t = low if slope >= 0 else (max(low, min(-slope / b, 1.0)) if b > 0 else 1.0)
    return t, (kink == t) & nonzero
