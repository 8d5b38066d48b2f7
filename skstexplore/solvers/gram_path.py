r"""The Lasso path of one target on a precomputed Gram matrix: :func:`gram_lasso_path`.

For each penalty of a decreasing sequence, minimises

.. math:: F(w) = \frac{1}{2n}\|y - Xw\|_2^2 + \alpha\|w\|_1

from the previous solution, with :math:`G = X^\top X` and :math:`c = X^\top y`
computed once for the whole path (as scikit-learn's ``lasso_path`` does when
``n_features <= n_samples``). Each point is the exact active-set method of
:mod:`~skstexplore.solvers.active_set` on :math:`q(w) = \tfrac12 w^\top G w -
c^\top w + n\alpha\|w\|_1` (:math:`= n F(w)` up to a constant), started from
the previous point and the Cholesky factor of its support: the solution
moves affinely with :math:`\alpha` until a feature enters or leaves. The
previous point is first moved along that line to the new penalty
(:func:`~skstexplore.solvers.active_set.affine_move`, one solve and one
product, both kept while the support holds: on a fine grid most points cost
neither), then the features that violate the conditions there enter at
once, so a point costs a few solves, a few products with :math:`G` and the
growth of the factor by the entering features.

The duality gap of each point comes from the Gram matrix alone, as in
scikit-learn's coordinate descent on the Gram matrix: with the gradient
:math:`g = Gw - c = -X^\top r`,

.. math::

    \|r\|^2 = \|y\|^2 - c^\top w + w^\top g, \qquad
    \mathrm{gap} = \frac{(1 - 1/s)^2}{2n}\|r\|^2 + \alpha\|w\|_1 + \frac{w^\top g}{n s},

:math:`s = \max(1, \|g\|_\infty / (n\alpha))` (the terms of
:func:`~skstexplore._core.lasso.lasso_dual_gap`; :math:`\|r\|^2` here cancels,
with an error of about :math:`\epsilon\|y\|^2`, which is far below any
tolerance :math:`\mathrm{tol}\,\|y\|^2/n` with ``tol`` above about
``1e-13``). A point stops as soon as its gap is within the tolerance, as
coordinate descent does (after the move, or after any step: at ``tol = 1e-4``
it skips about a tenth of the steps of the exact solutions); with a
tolerance within that rounding, only at the exact solution. A point whose
gap is above its tolerance is reported as not converged, so that a caller
can finish it with the residual.
"""

import numpy as np

from .active_set import DEFAULT_RTOL, _data_scale, _fresh_factor, _one_target, affine_move, symmetric_product

# The computed gap's error, in units of eps ||y||^2 / n_samples (its residual term cancels; module docstring)
_GAP_ROUNDING = 1000

__all__ = ["gram_lasso_path"]


def gram_lasso_path(gram, Xty, y_sq, n_samples, alphas, *, coef_init=None, tol=0.0, positive=False, max_steps=None):
    r"""Exact Lasso solutions of one target along decreasing ``alphas``, each warm-started from the previous.

    Parameters
    ----------
    gram : ndarray of shape (n_features, n_features)
        :math:`G = X^\top X`.
    Xty : ndarray of shape (n_features,)
        :math:`c = X^\top y`.
    y_sq : float
        :math:`\|y\|^2`.
    n_samples : int
    alphas : ndarray of shape (n_alphas,)
        Decreasing, positive.
    coef_init : ndarray of shape (n_features,), optional
        Start of the first point (zeros by default).
    tol : float
        A point converges, and takes no further step, when its duality gap
        is ``<= tol`` (above the gap's rounding; otherwise at its exact
        solution).
    positive : bool
        Constrain the coefficients to be non-negative.
    max_steps : int, optional
        Active-set steps per point; default ``50 + 4 n_features``.

    Returns
    -------
    coefs : ndarray of shape (n_alphas, n_features), float64
    gaps : ndarray of shape (n_alphas,)
        Duality gaps, in the objective's scaling.
    n_steps : ndarray of int of shape (n_alphas,)
    converged : ndarray of bool of shape (n_alphas,)
        The active set stopped on the optimality conditions and the gap is
        within ``tol``.

    References
    ----------
    H. Lee, A. Battle, R. Raina, A. Ng. "Efficient sparse coding algorithms",
    NIPS 2007 (feature-sign search). M. R. Osborne, B. Presnell, B. A.
    Turlach. "A new approach to variable selection in least squares
    problems", IMA J. Numer. Anal. 2000 (homotopy: the solution is affine in
    :math:`\alpha` between changes of support). J. Friedman, T. Hastie,
    R. Tibshirani. "Regularization paths for generalized linear models via
    coordinate descent", J. Stat. Softw. 2010 (the path and its gap on the
    Gram matrix, as in scikit-learn's ``lasso_path``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> y = np.array([2.0, 1.0, 3.0])
    >>> coefs, gaps, n_steps, converged = gram_lasso_path(X.T @ X, X.T @ y, y @ y, 3, np.array([1.0, 0.1]),
    ...                                                   tol=1e-12)
    >>> coefs.round(4), converged
    (array([[1. , 0. ],
           [1.9, 0.9]]), array([ True,  True]))
    """
    G = np.asarray(gram, dtype=np.float64)
    c = np.asarray(Xty, dtype=np.float64)
    n_features = c.size
    max_steps = 50 + 4 * n_features if max_steps is None else max_steps
    w = np.zeros(n_features) if coef_init is None else np.array(coef_init, dtype=np.float64)
    grad = symmetric_product(G, w) - c
    factor = _fresh_factor(G, w)
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs, grads = np.empty((alphas.size, n_features)), np.empty((alphas.size, n_features))
    n_steps, optimal = np.zeros(alphas.size, dtype=int), np.zeros(alphas.size, dtype=bool)
    scale = _data_scale(G, c)
    # a point whose gap is within tol takes no further step, as coordinate descent stops there; a tol within the
    # rounding of the gap (module docstring) is met by the exact solution only
    trusted = tol > _GAP_ROUNDING * np.finfo(np.float64).eps * y_sq / n_samples
    direction, previous = None, None
    for i, alpha in enumerate(alphas):
        penalty = n_samples * alpha
        # from the previous point, optimal: its exact move on its support, while no sign changes
        moved = i > 0 and optimal[i - 1] and penalty < previous and (
            direction := affine_move(G, c, factor, w, grad, penalty, previous - penalty, direction)) is not None
        within_tol = _within(c, y_sq, n_samples, alpha, tol, positive) if trusted else None
        w, optimal[i], n_steps[i] = _one_target(G, c, penalty, w, positive, max_steps, DEFAULT_RTOL, False, factor,
                                                gradient=grad, scale=scale, resolved=moved, good_enough=within_tol)
        if n_steps[i] or not moved:  # (a point accepted within tol may be off its support's line: solved afresh)
            direction = None
        previous = penalty
        coefs[i], grads[i] = w, grad
    gaps = _gram_dual_gap(c, coefs, grads, y_sq, n_samples, alphas, positive)
    return coefs, gaps, n_steps, optimal & (gaps <= tol)


def _within(Xty, y_sq, n_samples, alpha, tol, positive):
    """Whether a point ``w`` with gradient ``grad`` has a duality gap ``<= tol`` at ``alpha`` (a test for
    :func:`~skstexplore.solvers.active_set._one_target`): the gap of :func:`_gram_dual_gap`, to the bit, from
    one-dimensional reductions (the check runs before every step: 19 us instead of 45 for 500 features)."""
    def within(w, grad):
        terms = (np.einsum("i,i->", w, grad), np.einsum("i,i->", w, Xty), grad.min(initial=0.0),
                 grad.max(initial=0.0), np.abs(w).sum())
        return _gap_from_terms(*terms, y_sq, n_samples, alpha, positive) <= tol
    return within


def _gram_dual_gap(Xty, W, grads, y_sq, n_samples, alphas, positive=False):
    r"""The duality gaps of the rows of ``W`` from :math:`c = X^\top y`, their gradients :math:`g = Gw - c`
    (rows of ``grads``) and :math:`\|y\|^2`, at the penalties ``alphas`` (one per row).

    The terms of :func:`~skstexplore._core.lasso.lasso_dual_gap`, with
    :math:`X^\top r = -g` and :math:`\|r\|^2 = \|y\|^2 - c^\top w + w^\top g`
    (see the module docstring for its rounding); all the points of a path at
    once.
    """
    # (einsum's rows are bitwise those of the one-point reductions of _within; a gemv's are not)
    terms = (np.einsum("ij,ij->i", W, grads), np.einsum("ij,j->i", W, Xty), grads.min(axis=1, initial=0.0),
             grads.max(axis=1, initial=0.0), np.abs(W).sum(axis=1))
    return _gap_from_terms(*terms, y_sq, n_samples, alphas, positive)


def _gap_from_terms(w_dot_g, w_dot_c, g_min, g_max, l1_norm, y_sq, n_samples, alphas, positive):
    r"""The gap of :func:`_gram_dual_gap` from :math:`w^\top g`, :math:`w^\top c`, :math:`\min(g, 0)`,
    :math:`\max(g, 0)` and :math:`\|w\|_1` (arrays of the points, or scalars of one)."""
    r_sq = np.maximum(y_sq - w_dot_c + w_dot_g, 0.0)
    corr = -g_min if positive else np.maximum(g_max, -g_min)  # no |g| temporary
    scale = np.maximum(1.0, corr / (n_samples * alphas))
    l1_terms = alphas * l1_norm + w_dot_g / (n_samples * scale)
    shrink = 1.0 - 1.0 / scale  # (squared by a product: a scalar's ** is pow(), an array's a product)
    return shrink * shrink * r_sq / (2 * n_samples) + np.maximum(l1_terms, 0.0)
