r"""An exact active-set solver for the Lasso on a Gram matrix (feature-sign search).

Minimises, for each row :math:`w` of ``W`` (one per target),

.. math:: q(w) = \tfrac12 w^\top G w - c^\top w + \lambda \|w\|_1

(:math:`G = X^\top X`, :math:`c = X^\top y`, :math:`\lambda = n\alpha`: the
Lasso objective times :math:`n`, up to a constant). The solution is the
solution of a linear system once its support :math:`A` and signs
:math:`\theta` are known, :math:`G_{AA} w_A = c_A - \lambda\theta_A`. Each
step guesses them and corrects the guess (Lee, Battle, Raina, Ng 2007,
"feature-sign search"; the same moves as homotopy/LARS-Lasso, Osborne et al.
2000, Efron et al. 2004, but without following the path):

1. add to the support the ``k`` features that violate the optimality
   conditions most (:math:`|g_j| > \lambda`, :math:`g = Gw - c`), with the
   sign :math:`-\mathrm{sign}(g_j)` that decreases :math:`q`;
2. solve :math:`G_{AA} z = c_A - \lambda\theta_A` (Cholesky; minimum norm
   where :math:`G_{AA}` is singular);
3. minimise :math:`q` exactly on the segment :math:`[w, z]` (a convex
   piecewise quadratic: its kinks are where coordinates cross zero); features
   that stop at zero leave the support.

When the step reaches :math:`z` with the guessed signs, :math:`w` minimises
:math:`q` over its support, and ``k`` doubles; a shorter step halves ``k``, and
the next step first re-solves on the new support (``k = 0``). From a point
optimal on its support, adding the single most violating feature always
decreases :math:`q` (its coordinate of :math:`z - w` has the guessed sign), so
:math:`q` decreases at every accepted step and the method ends, exactly, after
a number of steps close to the number of support changes: few, large
BLAS/LAPACK calls instead of many cheap iterations. A target stops when no
feature outside its support violates :math:`|g_j| \le \lambda` by more than a
relative ``rtol`` and :math:`g_A = -\lambda\,\mathrm{sign}(w_A)` holds on it
(to ``rtol`` and rounding): the test is made on the point, never inferred from
the steps.

For one target (:func:`_one_target`) the Cholesky factor is updated column by
column (:class:`SupportFactor`, :math:`O(|A|^2)` per change of support instead
of :math:`O(|A|^3)`) and can be kept across calls. Its steps go further: a
warm start (the solution for another penalty) is first re-solved on its own
support (along a path, the exact affine move of the solution until the
support changes), and then all the features that violate the conditions there
are added at once; coordinates of :math:`z` with the wrong sign leave the
guess and the rest is solved again before any line search (accepted when it
decreases :math:`q`, which costs no product), so a point of a path typically
costs three or four solves whatever the number of features that enter. A
feature whose column is
linearly dependent on the support's is exchanged with a support feature along
the null space, which keeps the support within the rank (homotopy's step).
Many targets are batched (:mod:`._batched_active_set`, in blocks of targets
whose temporaries fit in ``BLOCK_BYTES``): each has its own support, kept
compactly, and its own step; the systems of one step are solved together in
groups of similar sizes (padded by identity rows); where :math:`z` breaks
its guessed signs, a second solve without the coordinates that broke them is
taken when it keeps its signs and lowers :math:`q` (a full step instead of a
line search and a re-solve); a target whose support becomes rank deficient
finishes alone. All arithmetic is in float64.
"""

import numpy as np
from scipy.linalg.blas import dsymv

from .._core.memory import row_blocks
from ._batched_active_set import STEP_TEMPORARIES, State, batched_steps
from ._batched_active_set import dense_guess as _guess
from ._batched_active_set import dense_step as _step
from ._line_search import line_search_one
from ._support_factor import SupportFactor

__all__ = ["SupportFactor", "active_set_lasso"]

# Relative violation of |g_j| <= lambda below which a feature is not added.
DEFAULT_RTOL = 1e-9
# Rounds of removing the coordinates of wrong sign from a one-target step's guess before the line search.
_DROP_ROUNDS = 3


def active_set_lasso(gram, XtY, penalty, W, *, positive=False, max_steps=None, rtol=DEFAULT_RTOL, polished=False,
                     factor=None, labels=None, allowed=None):
    r"""Exact minimisers of :math:`\tfrac12 w^\top G w - c^\top w + \lambda\|w\|_1`, one per row.

    Parameters
    ----------
    gram : ndarray of shape (m, m)
        :math:`G`, symmetric positive semi-definite.
    XtY : ndarray of shape (n_targets, m)
        :math:`c` of each target.
    penalty : float
        :math:`\lambda > 0`.
    W : ndarray of shape (n_targets, m)
        Starting points (e.g. the previous point of a path).
    positive : bool
        Constrain :math:`w \ge 0`.
    max_steps : int, optional
        Steps per target; default ``50 + 4 m``.
    rtol : float
        Features with :math:`|g_j| \le \lambda (1 + \mathrm{rtol})` are not added.
    polished : bool or ndarray of bool of shape (n_targets,)
        Rows of ``W`` known to minimise :math:`q` over their own support (the
        first step then adds features instead of re-solving).
    factor : SupportFactor, optional
        For one target: the Cholesky factor of the starting support, kept from
        a previous call on the same design (a path, the next outer
        iteration), updated in place; reused when its support is the start's.
    labels : ndarray of int of shape (m,), optional
        The features (of the design) that the rows of ``gram`` stand for, so
        that ``factor`` carries across calls on different blocks.
    allowed : ndarray of bool of shape (n_targets, m), optional
        The features each target may use (its problem is restricted to them;
        ``W`` must be zero elsewhere); all if None. Given, the targets go
        through the batched steps, even one.

    Returns
    -------
    W : ndarray of shape (n_targets, m), float64
    converged : ndarray of bool of shape (n_targets,)
        The target's support is optimal and no feature violates the conditions.
    n_steps : ndarray of int of shape (n_targets,)

    Examples
    --------
    >>> import numpy as np
    >>> G = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> W, converged, n_steps = active_set_lasso(G, np.array([[3.0, 0.0]]), 1.0, np.zeros((1, 2)))
    >>> W, converged
    (array([[1., 0.]]), array([ True]))
    """
    G = np.asarray(gram, dtype=np.float64)
    C = np.asarray(XtY, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    n_targets, m = W.shape
    max_steps = 50 + 4 * m if max_steps is None else max_steps
    if n_targets == 1 and allowed is None:
        factor = SupportFactor() if factor is None else factor
        labels = np.arange(m) if labels is None else labels
        factor.attach(G, labels, W[0])
        w, converged, n_steps = _one_target(G, C[0], penalty, W[0], positive, max_steps, rtol, bool(np.all(polished)),
                                            factor)
        return w[None], np.array([converged]), np.array([n_steps])
    G = np.ascontiguousarray(G)  # the batched solves gather from it flat
    state = State(n_targets)
    state.polished[:] = polished
    state.polished[~(W != 0).any(axis=1)] = True  # zero is optimal on an empty support
    slack = _rounding_slack(G, C, penalty, rtol)
    # the targets are independent: they go through the batched steps in blocks, which bounds the
    # temporaries of the steps (a few (rows, m) arrays) by BLOCK_BYTES
    for block in row_blocks(n_targets, STEP_TEMPORARIES * m * W.itemsize):
        batched_steps(G, C, penalty, W, block, state, positive, max_steps, rtol, slack,
                      None if allowed is None else allowed[block])
    # the batched steps cannot cross a rank-deficient support (minimum-norm solves): the targets they left
    # get the one-target method, whose exchange steps can
    for row in np.flatnonzero(state.stalled & (state.n_steps < max_steps)):
        on = slice(None) if allowed is None else np.flatnonzero(allowed[row])
        G_on = G if allowed is None else G[np.ix_(on, on)]
        W[row, on], state.converged[row], n_steps = _one_target(
            G_on, C[row, on], penalty, W[row, on], positive, max_steps - state.n_steps[row], rtol, False,
            _fresh_factor(G_on, W[row, on]))
        state.n_steps[row] += n_steps
    return W, state.converged, state.n_steps


def _fresh_factor(G, w):
    factor = SupportFactor()
    factor.attach(G, np.arange(G.shape[0]), w)
    return factor


def _one_target(G, c, penalty, w, positive, max_steps, rtol, polished, factor, gradient=None, scale=None,
                resolved=False, good_enough=None):
    r""":func:`active_set_lasso` for one target, with the Cholesky factor updated by columns.

    Adding ``k`` features to a factor of size ``K`` costs :math:`O(K^2 k)`,
    removing one :math:`O(K^2)` (Givens rotations), instead of
    :math:`O(K^3)` for a new factorisation: along a path, where supports reach
    hundreds of features, this is most of the cost. Where an addition makes
    the block singular, that step is the batched one (minimum norm).

    A start that is not optimal on its own support (a warm start from another
    penalty) is first re-solved on that support: along a path this is the
    exact move of the solution while no feature enters or leaves, and the
    features that violate the conditions there are the ones about to enter:
    the next step adds them all. Later additions take the ``k`` worst
    violators (``k`` doubling while the guesses hold; ``factor.k_add``
    carries it to the next call).

    ``gradient``, if given, is :math:`G w - c` at the start (it saves a
    product) and holds that of the returned point on return; ``scale``,
    :func:`_data_scale` of ``G`` and ``c`` when already known. ``resolved``:
    the start is a warm start already re-solved on its support at this
    penalty (:func:`affine_move`), so the first step adds all the violators.
    ``good_enough(w, grad)``, if given, is asked before each step whether the
    point already meets the caller's tolerance (a duality gap along a path):
    it is then returned as converged, optimal or not.
    """
    k_add, n_steps = factor.k_add, 0
    threshold = penalty * (1.0 + rtol)
    slack = _rounding_slack(G, c, penalty, rtol, scale)
    warm = resolved or not (polished or not w.any())  # a start that is not optimal on its support (zero is)
    polished = resolved or not warm
    grad = symmetric_product(G, w) - c if gradient is None else gradient
    while True:
        support = w.nonzero()[0]
        violation = -grad if positive else np.abs(grad)
        violation[support] = -np.inf
        violation -= threshold
        n_violators = int(np.count_nonzero(violation > 0))
        if not n_violators and _support_optimal(grad[support], w[support], penalty, slack, w):
            factor.k_add = k_add
            return w, True, n_steps
        if n_steps >= max_steps:
            return w, False, n_steps
        if good_enough is not None and good_enough(w, grad):
            factor.k_add = k_add
            return w, True, n_steps
        # after re-solving a warm start on its support, the violators are the features about to enter: all
        k = (n_violators if warm else min(k_add, n_violators)) if polished else 0
        warm = warm and not polished
        new = _top_violators(violation, k, n_violators)
        n_steps += 1
        if factor.order is None:
            factor.reset(support)
        if factor.order is None:  # a singular support (a start from elsewhere): one minimum-norm step
            member, theta = _guess(w[None], grad[None], (w != 0)[None], violation[None], np.array([k]), positive)
            t, w_new, consistent, _ = _step(G, c[None], w[None], grad[None], member, theta, penalty, positive)
            t, consistent, w[:] = t[0], consistent[0], w_new[0]
            factor.reset(np.flatnonzero(w))
        elif not new.size or (extension := factor.extension(new)) is not None:
            t, consistent = _factored_step(factor, extension if new.size else None, c, w, grad, penalty, positive)
        elif new.size == 1 and polished:  # (the exchange decreases q from a point optimal on its support)
            t, consistent = _exchange_step(factor, grad, w, new[0], positive), False
        else:  # several new features make the block singular, or the start is not optimal: try fewer
            t, consistent = 0.0, False
        full, moved = t == 1.0 and consistent, t > 0
        if moved:
            grad = np.subtract(symmetric_product(G, w, w.nonzero()[0]), c,
                               out=grad if gradient is not None else None)
        if not moved and k == 1 and polished:
            return w, False, n_steps  # the best single addition cannot decrease q: rounding
        polished = full if moved else (polished or k == 0)
        if k and (moved or k > 1):  # a re-solve on the support (k = 0) keeps the pace of additions
            k_add = max(k_add, 2 * k) if full else max(k // 2, 1)


def symmetric_product(G, w, support=None):
    r""":math:`G w` for symmetric ``G``, ``w`` zero outside ``support`` (if given).

    A small support reads only its rows (:math:`G w = G_{S:}^\top w_S`);
    otherwise BLAS ``symv`` (one triangle: 1/3 faster than ``gemv``) on
    float64.
    """
    if support is not None and 8 * support.size < G.shape[0]:
        return w[support] @ G[support]
    if G.dtype == np.float64 and w.dtype == np.float64 and G.flags.c_contiguous and G.size:
        return dsymv(1.0, G.T, w)  # G.T: the same memory in Fortran order, and the same matrix
    return G @ w


def affine_move(G, c, factor, w, grad, penalty, decrease, direction=None):
    r"""Re-solve ``w``, optimal on its support at ``penalty + decrease``, at ``penalty``, if its signs hold.

    On a fixed support :math:`A` with signs :math:`\theta` the solution
    :math:`z_A = G_{AA}^{-1}(c_A - \lambda\theta_A)` moves by :math:`\delta v`,
    :math:`v = G_{AA}^{-1}\theta_A`, when :math:`\lambda` decreases by
    :math:`\delta`, and its gradient by :math:`\delta\, G_{:A} v`. The first
    move on a support solves for :math:`z` (the forward substitution is kept
    for the step that extends the support next) and takes the gradient's
    change from one product with :math:`z - w`; the direction is kept, so
    that while the support holds (a fine grid of penalties) a point costs no
    solve and no product. Moves ``w`` and ``grad`` in place when all the
    signs hold and returns the direction (to pass back at the next penalty),
    or None (nothing moved) when a coordinate would cross zero or the factor
    is not the support's.
    """
    order = factor.order
    if order is None or not order.size or np.count_nonzero(w) != order.size:
        return None
    w_A = w[order]
    theta = np.sign(w_A)
    if not theta.all():
        return None
    kept = direction is not None and direction[0] is order and np.array_equal(direction[1], theta)
    moved = w_A + decrease * direction[2][order] if kept else factor.solve(c[order] - penalty * theta)
    if not (theta * moved > 0).all():
        return None
    if not kept:
        step = np.zeros(w.size)
        step[order] = moved - w_A
        change = symmetric_product(G, step, order)
        direction = (order, theta, step / decrease, change / decrease)
    else:
        change = decrease * direction[3]
    w[order] = moved
    grad += change
    return direction


def _rounding_slack(G, c, penalty, rtol, scale=None):
    r"""Tolerance on :math:`|g_j + \lambda\,\mathrm{sign}(w_j)|` on the support: ``rtol`` and rounding.

    ``scale`` is :func:`_data_scale` when already known (a path).
    """
    scale = _data_scale(G, c) if scale is None else scale
    return rtol * penalty, 1000 * np.finfo(np.float64).eps * max(scale, penalty)


def _data_scale(G, c):
    """The largest entry of ``G`` and ``c`` in magnitude, without a pass over all of ``G`` or an ``|c|`` temporary."""
    # |G_ij| <= max_i G_ii (Cauchy-Schwarz)
    return max(float(np.max(np.diagonal(G), initial=0.0)), float(np.max(c, initial=0.0)),
               -float(np.min(c, initial=0.0)))


def _support_optimal(grad_S, w_S, penalty, slack, w):
    r"""Whether :math:`g_S = -\lambda\,\mathrm{sign}(w_S)` to the tolerance (``w`` is optimal on its support)."""
    relative, absolute = slack
    bound = relative + absolute * max(1.0, float(np.abs(w).sum()))
    return bool((np.abs(grad_S + penalty * np.sign(w_S)) <= bound).all())


def _exchange_step(factor, grad, w, j, positive):
    r"""Add ``j``, linearly dependent on the support :math:`A`, by exchanging it with a support feature.

    With :math:`x_j = X_A u`, moving :math:`w_j = s\theta_j`,
    :math:`w_A \leftarrow w_A - s\theta_j u` leaves the fit unchanged and
    changes :math:`q` by :math:`\lambda s (1 - \theta_j \theta_A^\top u) < 0`
    (``j`` violates the conditions at a point optimal on :math:`A`); the
    move stops where a support coefficient reaches zero, which leaves. This
    is homotopy's step at a rank-deficient support. Returns the step (1, or 0
    when nothing blocks: rounding).
    """
    order = factor.order
    theta = 1.0 if positive else -np.sign(grad[j])
    u = factor.solve(factor.G[order, j])
    shrink = w[order] * theta * u  # coefficients that move towards zero
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(shrink > 0, w[order] / (theta * u), np.inf)
    position = int(np.argmin(s))
    if not np.isfinite(s[position]):
        return 0.0
    step = s[position]
    w[order] -= step * theta * u
    w[order[position]] = 0.0
    w[j] = step * theta
    factor.remove(np.array([position]))
    if not factor.add(np.array([j])):
        factor.reset(np.flatnonzero(w))
    return 1.0


def _top_violators(violation, k, n_violators):
    """The ``k`` features of largest positive violation (of the ``n_violators``), most violating first (ties in
    increasing order)."""
    if k <= 0:
        return np.empty(0, dtype=int)
    if k >= n_violators:  # all of them (after a path's move to a new penalty)
        top = (violation > 0).nonzero()[0]
    else:
        top = np.sort(np.argpartition(-violation, k - 1)[:k])
    return top[np.argsort(-violation[top], kind="stable")]


def _factored_step(factor, extension, c, w, grad, penalty, positive):
    r"""One step on the guessed support: the support ``factor.order``, then the new ``extension.new`` (if any).

    :math:`z` solves the system of the guessed signs :math:`\theta`. New
    features whose coordinate of :math:`z` has the wrong sign leave the guess
    (a few rounds; only the small Schur complement of the extension is
    refactored): the start, zero on them, lies in the closed orthant of the signs on the
    smaller guess, so a consistent solution there decreases :math:`q`. Where
    coordinates of the support disagree too, they leave as well and the rest
    is solved again: a consistent solution :math:`z'` on the smaller guess
    :math:`S` is accepted if it decreases :math:`q`, whose value there needs
    no product, :math:`q(z') = -\tfrac12 z_S'^\top (c_S - \lambda\theta_S)`;
    this removes several coordinates in one step, as homotopy would over the
    same change of support. Otherwise the exact line search on
    :math:`[w, z]` (feature-sign search), and the factor follows the new
    support.
    """
    start = factor.order
    n_old = start.size
    if extension is None:  # a re-solve on the support
        theta = np.sign(w[start])
        rhs = c[start] - penalty * theta
        z = factor.solve(rhs)
        wrong = _wrong_signs(theta, z, positive)
    else:
        new = extension.new
        theta = np.concatenate([np.sign(w[start]), np.ones(new.size) if positive else -np.sign(grad[new])])
        rhs = c[np.concatenate([start, new])] - penalty * theta
        z = extension.solve(rhs)
        wrong = _wrong_signs(theta, z, positive)
        for _ in range(_DROP_ROUNDS):  # wrong coordinates of the support are left to the removals below
            wrong_new = wrong[wrong >= n_old]
            if not wrong_new.size or wrong_new.size >= extension.new.size or not extension.drop(wrong_new - n_old):
                break
            keep = np.ones(theta.size, dtype=bool)
            keep[wrong_new] = False
            theta, rhs = theta[keep], rhs[keep]
            z = extension.solve(rhs)
            wrong = _wrong_signs(theta, z, positive)
        extension.append()
    guess = factor.order
    if not wrong.size:
        w[guess] = z
        return 1.0, True
    guess_theta, guess_z = theta, z
    q_start = 0.5 * float(w[start] @ (grad[start] - c[start])) + penalty * float(np.abs(w[start]).sum())
    for _ in range(_DROP_ROUNDS):
        keep = np.ones(theta.size, dtype=bool)
        keep[wrong] = False
        factor.remove(wrong)
        theta, rhs = theta[keep], rhs[keep]
        z = factor.solve(rhs)
        wrong = _wrong_signs(theta, z, positive)
        if not wrong.size:
            break
    changed = factor.order.size != n_old or not np.array_equal(factor.order, start)
    if not wrong.size and changed and -0.5 * float(z @ rhs) < q_start:
        w[guess] = 0.0
        w[factor.order] = z
        return 1.0, True
    w_A = w[guess]
    t, at_zero = line_search_one(grad[guess], guess_theta, w_A, guess_z - w_A, penalty, positive)
    values = w_A + t * (guess_z - w_A)
    values[at_zero] = 0.0
    w[guess] = values
    _follow_support(factor, guess[values != 0], w)
    return t, False


def _wrong_signs(theta, z, positive):
    """Positions where ``z`` has the opposite of the guessed sign (or, with ``positive``, is negative)."""
    return (z < 0).nonzero()[0] if positive else (theta * z < 0).nonzero()[0]


def _follow_support(factor, support, w):
    """Make the factor that of ``support`` (positions in the block): append what is missing, drop the rest."""
    missing = support[~np.isin(support, factor.order)]
    if not factor.add(missing):
        factor.reset(support)
        return
    factor.remove(np.flatnonzero(w[factor.order] == 0))
