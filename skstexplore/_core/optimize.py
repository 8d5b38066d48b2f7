r"""Full-batch training of unfolded networks: L-BFGS with a guarded line search.

Shared by the learned-ISTA networks and the differentiable greedy networks
(OMP-Net, IHT-Net): deterministic (no randomness), monitored (the loss after
every iteration) and never accepting a non-finite or larger loss.
"""

from collections import deque

import numpy as np


def _two_loop_direction(g, memory):
    """L-BFGS direction :math:`-H g` from the stored curvature pairs (two-loop recursion)."""
    q = g.copy()
    coefs = []
    for s, y, rho in reversed(memory):
        c = rho * (s @ q)
        q -= c * y
        coefs.append(c)
    s, y, _ = memory[-1]
    q *= (s @ y) / (y @ y)
    for (s, y, rho), c in zip(memory, reversed(coefs)):
        q += (c - rho * (y @ q)) * s
    return -q


def minimize_lbfgs(fun, x0, *, max_iter, tol, n_pairs=10, first_step=0.1, window=5, min_step=1e-14, callback=None):
    r"""L-BFGS with a backtracking line search that never accepts a non-finite loss.

    Each iteration tries the L-BFGS direction with unit step (the first one
    ``-g`` scaled so that its largest entry moves by ``first_step``) and halves
    the step until the Armijo condition :math:`f(x + s d) \le f(x) + 10^{-4} s
    g^\top d` holds with finite values; a non-descent direction resets the
    memory. Training halts when the last ``window`` iterations decreased the
    loss by at most ``tol`` times the decrease achieved since the start,
    :math:`f_{k-w} - f_k \le \mathrm{tol}\,(f_0 - f_k)`, or after
    ``max_iter`` iterations. The rule is relative to the progress made, not to
    :math:`f`, whose unknown minimum (the mean Lasso optimum for the unfolded
    losses) can dwarf what is left to gain.

    Parameters
    ----------
    fun : callable
        ``x -> (f, grad)``.
    x0 : ndarray
        Starting point, with a finite loss.
    max_iter : int
    tol : float
    window : int
        Iterations over which the decrease is measured for ``tol``.
    min_step : float, default=1e-14
        Resolution of the parameters: when the line search has shrunk the
        move below ``min_step * max(max|x|, 1)`` without a decrease, ``x`` is
        returned as optimal to that resolution (converged).
    callback : callable, optional
        Called as ``callback(iteration, f, step)`` after each accepted step.

    Returns
    -------
    x : ndarray
        The last accepted point (finite loss, never above ``f(x0)``).
    losses : list of float
        ``f(x0)`` then the loss after each iteration.
    converged : bool
        Whether the ``tol`` rule or a vanishing gradient stopped it.

    Raises
    ------
    FloatingPointError
        When the loss or gradient at ``x0`` is not finite.
    """
    x = x0
    f, g = fun(x)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise FloatingPointError(f"the training loss at the starting parameters is not finite ({f}).")
    losses = [f]
    memory = deque(maxlen=n_pairs)
    for iteration in range(1, max_iter + 1):
        if not np.any(g):
            return x, losses, True
        if memory:
            with np.errstate(all="ignore"):  # a non-finite direction resets the memory below
                d = _two_loop_direction(g, memory)
            slope = g @ d
            if not slope < 0:
                memory.clear()
        if not memory:
            d = -(g / np.abs(g).max()) * first_step  # no overflow for a subnormal gradient
            slope = g @ d
        step = 1.0
        while True:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if np.isfinite(f_new) and np.all(np.isfinite(g_new)) and f_new <= f + 1e-4 * step * slope:
                break
            step *= 0.5
            if step * np.abs(d).max() <= min_step * max(np.abs(x).max(), 1.0):
                # No step above the resolution decreases the loss: x is optimal to that resolution.
                return x, losses, True
        s, y = x_new - x, g_new - g
        curvature = s @ y
        # a curvature pair is kept only if 1 / (s.y) is representable (not for subnormal s.y)
        if curvature > max(1e-12 * np.sqrt((s @ s) * (y @ y)), np.finfo(float).tiny):
            memory.append((s, y, 1.0 / curvature))
        x, f, g = x_new, f_new, g_new
        losses.append(f)
        if callback is not None:
            callback(iteration, f, step)
        if iteration >= window and losses[-1 - window] - f <= tol * (losses[0] - f):
            return x, losses, True
    return x, losses, False
