r"""Proximal gradient solvers of the Lasso: ISTA, FISTA and Oracle ISTA.

All three minimise scikit-learn's Lasso objective for every target at once,

.. math::

    F(w) = \underbrace{\frac{1}{2n}\|y - Xw\|_2^2}_{f(w)} + \alpha\|w\|_1,
    \qquad \nabla f(w) = -\frac{1}{n} X^\top (y - Xw),

with :math:`n` = ``n_samples``. They share one step kernel,
:func:`proximal_gradient_step`, :math:`w^+ = \mathrm{ST}(w - s\nabla f(w),
\alpha s)`, and differ only in the point and the step ``s``:

* ISTA: at :math:`w`, :math:`s = 1/L` with :math:`L = \|X\|_2^2 / n`;
* FISTA (Beck & Teboulle 2009): at the extrapolated point
  :math:`z = w^k + \frac{t_{k-1} - 1}{t_k}(w^k - w^{k-1})`, :math:`s = 1/L`;
* Oracle ISTA (Ablin et al. 2019): at :math:`w`, :math:`s = 1/L_S` with
  :math:`L_S = \|X_S\|_2^2 / n` on the current support :math:`S`, accepted
  when the new support stays inside :math:`S`, else the ISTA step.

Targets are the columns of ``Y``; they are iterated together (one matrix
product with :math:`X^\top X`, or two with :math:`X`, per iteration for all of
them), each with its own support and its own :math:`L_S`, and a target leaves
the batch as soon as its duality gap is below its tolerance.

The duality gap (:func:`skstexplore._core.lasso.lasso_dual_gap`, equal to
``dual_gap_`` of :class:`sklearn.linear_model.Lasso`) costs one product with
``X``; it is checked every ``check_every`` iterations (default 10, a <= 10 %
overhead), at the last iteration, and before the first one (a warm start that
is already optimal takes 0 iterations). The gradient costs nothing extra: it
is :math:`(X^\top y - G w)/n` with :math:`Gw` computed once per iterate.
"""

import numpy as np

from .._core.base import SolverResult
from .._core.lasso import lasso_dual_gap
from .._core.lipschitz import spectral_norm_sq
from ._oracle import _OISTA
from ._proximal import _FISTA, _ISTA, _scaled_data, proximal_gradient_step  # noqa: F401


def lipschitz_constant(X, gram=None):
    r""":math:`L = \|X\|_2^2 / n`, Lipschitz constant of :math:`\nabla f` (1 for ``X = 0``).

    Any positive value is valid for ``X = 0`` (then :math:`\nabla f = 0`).
    """
    L = spectral_norm_sq(X, gram=gram) / X.shape[0]
    return L if L > 0 else 1.0


def ista(X, Y, alpha, *, coef_init=None, gram=None, lipschitz=None, max_iter=1000, tol=0.0,
         positive=False, check_every=10, callback=None):
    r"""ISTA for the Lasso, all targets batched.

    .. math:: w^{k+1} = \mathrm{ST}\big(w^k - \tfrac{1}{L}\nabla f(w^k),\ \tfrac{\alpha}{L}\big)

    Converges at rate :math:`O(1/k)` in objective, linearly once the support
    is identified (rate :math:`1 - \mu_{S^*}/L`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    alpha : float
        Regularisation, as in :class:`sklearn.linear_model.Lasso`.
    coef_init : ndarray of shape (n_targets, n_features), optional
        Starting point (zeros by default).
    gram : ndarray of shape (n_features, n_features), optional
        ``X.T @ X``; products go through it when given, through ``X`` otherwise.
    lipschitz : float, optional
        :math:`L = \|X\|_2^2 / n` when already known.
    max_iter : int
        Iterations per target.
    tol : float or ndarray of shape (n_targets,)
        A target stops when its duality gap (objective scaling, as
        :func:`skstexplore._core.lasso.lasso_dual_gap`) is ``<= tol``. With
        ``tol=0`` a target only stops at an exact solution or at ``max_iter``.
    positive : bool
        Constrain the coefficients to be non-negative.
    check_every : int
        Duality gap checked every ``check_every`` iterations.
    callback : callable, optional
        Called after every iteration as ``callback(coef, step)`` with the
        current coefficients of all targets, shape (n_targets, n_features)
        (targets that already stopped keep their final value), and the step
        each took, shape (n_targets,). Do not modify them.

    Returns
    -------
    result : SolverResult
        ``coef``, ``n_iter`` and ``converged`` per target; ``extras`` holds
        ``dual_gap`` (n_targets,) and ``lipschitz`` (L).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> Y = np.array([[1.0], [2.0]])
    >>> res = ista(X, Y, alpha=0.1, max_iter=500, tol=1e-12)
    >>> np.round(res.coef, 4)
    array([[0.8 , 0.95]])
    """
    return _solve(_ISTA, X, Y, alpha, coef_init, gram, lipschitz, max_iter, tol, positive,
                  check_every, callback)


def fista(X, Y, alpha, *, coef_init=None, gram=None, lipschitz=None, max_iter=1000, tol=0.0,
          positive=False, check_every=10, callback=None):
    r"""FISTA (Beck & Teboulle 2009) for the Lasso, all targets batched.

    .. math::

        w^{k+1} &= \mathrm{ST}\big(z^k - \tfrac{1}{L}\nabla f(z^k),\ \tfrac{\alpha}{L}\big),
        \qquad t_{k+1} = \frac{1 + \sqrt{1 + 4t_k^2}}{2},\\
        z^{k+1} &= w^{k+1} + \frac{t_k - 1}{t_{k+1}}\,(w^{k+1} - w^k),

    from :math:`z^0 = w^0`, :math:`t_0 = 1`. Objective rate :math:`O(1/k^2)`;
    not monotone. Since :math:`Gz` is affine in the iterates it is updated
    from :math:`Gw^{k+1}` and :math:`Gw^k` (one product per iteration).

    Parameters and returns are those of :func:`ista`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> Y = np.array([[1.0], [2.0]])
    >>> np.round(fista(X, Y, alpha=0.1, max_iter=500, tol=1e-12).coef, 4)
    array([[0.8 , 0.95]])
    """
    return _solve(_FISTA, X, Y, alpha, coef_init, gram, lipschitz, max_iter, tol, positive,
                  check_every, callback)


def oista(X, Y, alpha, *, coef_init=None, gram=None, lipschitz=None, max_iter=1000, tol=0.0,
          positive=False, check_every=10, callback=None):
    r"""Oracle ISTA (Ablin, Moreau, Massias & Gramfort 2019), all targets batched.

    With :math:`S = \mathrm{supp}(w^k)` and :math:`L_S = \|X_S\|_2^2/n`, the
    candidate

    .. math:: \tilde w = \mathrm{ST}\big(w^k - \tfrac{1}{L_S}\nabla f(w^k),\ \tfrac{\alpha}{L_S}\big)

    is accepted when :math:`\mathrm{supp}(\tilde w) \subseteq S`; otherwise
    the ISTA step :math:`1/L` is taken. On vectors supported in :math:`S`,
    :math:`f` is majorised by its linearisation plus
    :math:`\frac{L_S}{2}\|\cdot\|^2`, so an accepted step decreases :math:`F`
    like an ISTA step, with a step :math:`L/L_S` times larger (several times
    for sparse solutions, see the user guide). Once the support is frozen the
    rate is linear, :math:`1 - \mu_{S^*}/L_{S^*}` instead of
    :math:`1 - \mu_{S^*}/L`.

    **How** :math:`L_S` **is computed, and paid for.** The reference code
    takes :math:`L_S` from an eigendecomposition and leaves its cost out of the
    timings. Here it is part of every run:

    * a support is estimated once it has been kept for one iteration (early
      on supports change at almost every iteration, and estimates of supports
      left at once would be wasted); meanwhile a row keeps the estimate of its
      previous support;
    * estimates are cached per support (a :class:`SupportCache` keyed by the
      packed support mask, shared by all targets since they share ``X``): a
      support visited again, or reached by another target, costs a look-up;
    * supports of at most 16 atoms get the exact value,
      the largest eigenvalue of :math:`G_{SS}/n`, from one batched LAPACK
      call on the stacked blocks (grouped by size, zero-padded): at these
      sizes :math:`O(|S|^3)` is cheaper than the power steps it replaces;
    * larger supports get a *warm-started power iteration* on :math:`G_{SS}/n`,
      started from the vector of the previous support restricted to the new
      one (supports change by a few atoms, so it starts close), and run
      *incrementally*: one power step per iteration, stacked under the
      coefficients in the iteration's matrix product (one BLAS-3 call), until
      the estimate moves by less than ``1e-3`` (relative) or after 50 steps.

    ``extras["n_supports"]`` counts the supports estimated,
    ``extras["n_power_steps"]`` the extra product rows the power steps cost.

    **Soundness.** Power iteration returns a *lower* bound
    :math:`\hat L_S \le L_S` (so does, up to rounding, an exact eigensolver,
    and a stale estimate of the previous support may be anything below
    :math:`L`), and a step :math:`1/\hat L_S` larger than
    :math:`1/L_S` is not covered by the majorisation argument. Instead of an
    arbitrary safety factor, the exact condition the argument needs is
    checked along the step actually taken, :math:`d = \tilde w - w^k`:

    .. math:: d^\top \tfrac{1}{n} X^\top X\, d \le \hat L_S \|d\|^2,

    which makes :math:`F(\tilde w) \le F(w^k) + \langle \nabla f(w^k), d\rangle
    + \frac{\hat L_S}{2}\|d\|^2 + \alpha\|\tilde w\|_1 - \alpha\|w^k\|_1 \le F(w^k)`
    (:math:`\tilde w` minimises that upper model). The test costs two dot
    products per row: it uses :math:`G\tilde w`, which the next iteration
    needs anyway. A candidate that
    fails it is replaced by the ISTA step, and :math:`\hat L_S` is raised to
    the curvature :math:`d^\top G d / (n\|d\|^2)` just observed (still a lower
    bound of :math:`L_S`, now a tighter one). Hence :math:`F` decreases at
    every iteration, every accepted step is a valid majorisation-minimisation
    step, and :math:`\hat L_S \le L` always.

    Parameters and returns are those of :func:`ista`; ``step`` given to the
    callback is :math:`1/\hat L_S` for accepted oracle steps and :math:`1/L`
    otherwise. ``extras`` also holds ``n_oracle_steps`` (n_targets,), the
    accepted steps larger than :math:`1/L`, ``n_power_steps`` and
    ``n_supports``.

    References
    ----------
    Ablin, Moreau, Massias, Gramfort. "Learning step sizes for unfolded sparse
    coding", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> Y = np.array([[1.0], [2.0]])
    >>> np.round(oista(X, Y, alpha=0.1, max_iter=500, tol=1e-12).coef, 4)
    array([[0.8 , 0.95]])
    """
    return _solve(_OISTA, X, Y, alpha, coef_init, gram, lipschitz, max_iter, tol, positive,
                  check_every, callback)


def _solve(method, X, Y, alpha, coef_init, gram, lipschitz, max_iter, tol, positive, check_every,
           callback):
    """Common driver: duality-gap checks, shrinking batch of active targets, callback."""
    n_samples, n_features = X.shape
    n_targets = Y.shape[1]
    L = lipschitz_constant(X, gram) if lipschitz is None else lipschitz
    data = _scaled_data(X, Y, gram)
    if coef_init is None:
        W_all = np.zeros((n_targets, n_features), dtype=X.dtype)
    else:
        W_all = np.array(coef_init, dtype=X.dtype)
    tols = np.broadcast_to(np.asarray(tol, dtype=np.float64), (n_targets,))
    n_iter = np.zeros(n_targets, dtype=int)
    converged = np.zeros(n_targets, dtype=bool)
    gaps = np.full(n_targets, np.inf)
    steps_all = np.full(n_targets, 1.0 / L)

    active = np.arange(n_targets)
    state = method(data, W_all.copy(), L, alpha, positive)

    def check_gaps(k):
        nonlocal active
        W, Y_active = state.W, Y[:, active]
        R = Y_active - X @ W.T
        # X^T r from the residual: X^T y - G w (the gradient) cancels near the solution
        gaps[active] = lasso_dual_gap(X, Y_active, W, alpha, R=R, XtR=X.T @ R, positive=positive)
        done = gaps[active] <= tols[active]
        W_all[active] = W
        n_iter[active] = k
        converged[active[done]] = True
        if done.any():
            active = active[~done]
            state.keep(~done)

    check_gaps(0)
    for k in range(1, max_iter + 1):
        if active.size == 0:
            break
        state.step()
        if callback is not None:
            W_all[active] = state.W
            steps_all[active] = state.step_used
            callback(W_all, steps_all)
        if k % check_every == 0 or k == max_iter:
            check_gaps(k)
    extras = {"dual_gap": gaps, "lipschitz": L}
    extras.update(state.extras(n_targets))
    return SolverResult(coef=W_all, n_iter=n_iter, converged=converged, extras=extras)
