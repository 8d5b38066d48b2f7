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
from .._core.lipschitz import restricted_power_iteration, spectral_norm_sq
from .._core.lstsq import LeastSquaresData, SupportCache
from .._core.thresholding import nonnegative_soft_threshold, soft_threshold


def proximal_gradient_step(W, neg_grad, step, alpha, positive=False):
    r"""The ISTA step shared by every solver of this module.

    .. math:: w^+ = \mathrm{ST}\big(w + s\,(-\nabla f(w)),\ \alpha s\big)

    (with ``positive=True`` the proximal operator also projects on
    :math:`w \ge 0`).

    Parameters
    ----------
    W : ndarray of shape (n_targets, n_features)
        Point where the step is taken.
    neg_grad : ndarray of shape (n_targets, n_features)
        :math:`-\nabla f(w) = X^\top (y - Xw) / n` at ``W``.
    step : float or ndarray of shape (n_targets, 1)
        Step size(s) ``s``.
    alpha : float
    positive : bool

    Returns
    -------
    W_new : ndarray of shape (n_targets, n_features)
    """
    prox = nonnegative_soft_threshold if positive else soft_threshold
    return prox(W + step * neg_grad, alpha * step)


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
    array([[0.8, 0.95]])
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
    array([[0.8, 0.95]])
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

    * estimates are cached per support (:class:`SupportCache`, shared by all
      targets, since they share ``X``): a support visited again, or reached by
      another target, costs a dictionary look-up;
    * a new support gets a *warm-started, batched power iteration* on the
      restricted Gram matrix (:func:`restricted_power_iteration`): all targets
      whose support changed are iterated together, one product with
      :math:`G` per power step, starting from the eigenvector of their
      previous support restricted to the new one; supports change by a few
      atoms, so a handful of steps reach the relative accuracy ``1e-3``. A
      dense eigensolver would cost :math:`O(|S|^3)` per support and target
      with a Python loop over targets; power steps are BLAS-3 over the batch,
      and exact for :math:`|S| = 1`.

    **Soundness.** Power iteration returns a *lower* bound
    :math:`\hat L_S \le L_S`, and a step :math:`1/\hat L_S` larger than
    :math:`1/L_S` is not covered by the majorisation argument. Instead of an
    arbitrary safety factor, the exact condition the argument needs is
    checked along the step actually taken, :math:`d = \tilde w - w^k`:

    .. math:: d^\top \tfrac{1}{n} X^\top X\, d \le \hat L_S \|d\|^2,

    which makes :math:`F(\tilde w) \le F(w^k) + \langle \nabla f(w^k), d\rangle
    + \frac{\hat L_S}{2}\|d\|^2 + \alpha\|\tilde w\|_1 - \alpha\|w^k\|_1 \le F(w^k)`
    (:math:`\tilde w` minimises that upper model). The test is free: it uses
    :math:`G\tilde w`, which the next iteration needs anyway. A candidate that
    fails it is replaced by the ISTA step, and :math:`\hat L_S` is raised to
    the curvature :math:`d^\top G d / (n\|d\|^2)` just observed (still a lower
    bound of :math:`L_S`, now a tighter one). Hence :math:`F` decreases at
    every iteration, every accepted step is a valid majorisation-minimisation
    step, and :math:`\hat L_S \le L` always.

    Parameters and returns are those of :func:`ista`; ``step`` given to the
    callback is :math:`1/\hat L_S` for accepted oracle steps and :math:`1/L`
    otherwise. ``extras`` also holds ``n_oracle_steps`` (n_targets,),
    accepted :math:`1/\hat L_S` steps on a non-empty support, and
    ``n_supports`` (distinct supports whose :math:`L_S` was computed).

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
    array([[0.8, 0.95]])
    """
    return _solve(_OISTA, X, Y, alpha, coef_init, gram, lipschitz, max_iter, tol, positive,
                  check_every, callback)


def _solve(method, X, Y, alpha, coef_init, gram, lipschitz, max_iter, tol, positive, check_every,
           callback):
    """Common driver: duality-gap checks, shrinking batch of active targets, callback."""
    n_targets, n_features = Y.shape[1], X.shape[1]
    data = LeastSquaresData(X, Y, gram)
    L = lipschitz_constant(X, gram) if lipschitz is None else lipschitz
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
        W = state.W
        R = Y[:, active] - X @ W.T
        gaps[active] = lasso_dual_gap(X, Y[:, active], W, alpha, R=R, XtR=state.correlation().T,
                                      positive=positive)
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
    extras.update(state.extras())
    return SolverResult(coef=W_all, n_iter=n_iter, converged=converged, extras=extras)


class _ISTA:
    """State of ISTA on the active targets: iterate ``W`` and ``WG = W @ G``."""

    def __init__(self, data, W, L, alpha, positive):
        self.data, self.L, self.alpha, self.positive = data, L, alpha, positive
        self.n_samples = data.X.shape[0]
        self.rows = np.arange(W.shape[0])  # targets of the active rows
        self.W = W
        self.WG = data.gram_times(W)
        self.step_used = np.full(W.shape[0], 1.0 / L)
        self._step = W.dtype.type(1.0 / L)

    def correlation(self):
        r""":math:`X^\top(y - Xw)` of the active rows (unscaled)."""
        return self.data.Xty[self.rows] - self.WG

    def neg_grad(self):
        return self.correlation() / self.n_samples

    def step(self):
        self.W = proximal_gradient_step(self.W, self.neg_grad(), self._step, self.alpha, self.positive)
        self.WG = self.data.gram_times(self.W)

    def keep(self, rows):
        """Restrict the state to the active rows selected by the boolean ``rows``."""
        for name in self._row_arrays:
            setattr(self, name, getattr(self, name)[rows])

    _row_arrays = ("rows", "W", "WG", "step_used")

    def extras(self):
        return {}


class _FISTA(_ISTA):
    """FISTA state: also the extrapolated point ``Z``, its ``ZG`` and ``t``."""

    _row_arrays = _ISTA._row_arrays + ("Z", "ZG")

    def __init__(self, data, W, L, alpha, positive):
        super().__init__(data, W, L, alpha, positive)
        self.Z, self.ZG, self.t = W, self.WG, 1.0

    def step(self):
        neg_grad_z = (self.data.Xty[self.rows] - self.ZG) / self.n_samples
        W_new = proximal_gradient_step(self.Z, neg_grad_z, self._step, self.alpha, self.positive)
        WG_new = self.data.gram_times(W_new)
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * self.t**2)) / 2.0
        beta = W_new.dtype.type((self.t - 1.0) / t_new)
        self.Z = W_new + beta * (W_new - self.W)
        self.ZG = WG_new + beta * (WG_new - self.WG)
        self.W, self.WG, self.t = W_new, WG_new, t_new


class _OISTA(_ISTA):
    """Oracle ISTA state: supports, :math:`\\hat L_S` and eigenvector estimates per row."""

    _row_arrays = _ISTA._row_arrays + ("S", "L_S", "V", "n_oracle")

    # Power iteration settings for L_S (warm-started, relative accuracy).
    _POWER_RTOL = 1e-3
    _POWER_MAX_ITER = 30

    def __init__(self, data, W, L, alpha, positive):
        super().__init__(data, W, L, alpha, positive)
        self.cache = SupportCache()
        self.n_oracle_all = np.zeros(W.shape[0], dtype=int)
        self.n_oracle = np.zeros(W.shape[0], dtype=int)
        self.S = W != 0
        self.L_S = np.full(W.shape[0], L)
        self.V = np.zeros_like(W, dtype=np.float64)
        self._update_restricted_lipschitz(np.arange(W.shape[0]))

    def step(self):
        W, WG, L, dtype = self.W, self.WG, self.L, self.W.dtype
        neg_grad = self.neg_grad()
        has_support = self.S.any(axis=1)
        oracle_step = np.where(has_support, 1.0 / self.L_S, 1.0 / L).astype(dtype)[:, None]
        W_new = proximal_gradient_step(W, neg_grad, oracle_step, self.alpha, self.positive)
        inside = has_support & ~np.any((W_new != 0) & ~self.S, axis=1)
        outside = np.flatnonzero(~inside)
        if outside.size:
            W_new[outside] = self._ista_step(W[outside], neg_grad[outside])
        WG_new = self.data.gram_times(W_new)
        accepted = inside & self._curvature_ok(W_new - W, WG_new - WG, inside)
        redo = np.flatnonzero(inside & ~accepted)
        if redo.size:
            W_new[redo] = self._ista_step(W[redo], neg_grad[redo])
            WG_new[redo] = self.data.gram_times(W_new[redo])
        self.n_oracle += accepted
        self.step_used = np.where(accepted, oracle_step[:, 0], 1.0 / L)
        self.W, self.WG = W_new, WG_new
        S_new = W_new != 0
        changed = np.flatnonzero(np.any(S_new != self.S, axis=1))
        self.S = S_new
        if changed.size:
            self._update_restricted_lipschitz(changed)

    def _ista_step(self, W, neg_grad):
        return proximal_gradient_step(W, neg_grad, self._step, self.alpha, self.positive)

    def _curvature_ok(self, D, DG, inside):
        r"""Majorisation test :math:`d^\top G d / n \le \hat L_S \|d\|^2`; raises :math:`\hat L_S` where it fails."""
        dGd = np.einsum("ij,ij->i", D, DG) / self.n_samples
        dd = np.einsum("ij,ij->i", D, D)
        ok = dGd <= self.L_S * dd
        failed = np.flatnonzero(inside & ~ok)
        for r in failed:
            self.L_S[r] = min(max(self.L_S[r], dGd[r] / dd[r]), self.L)
            idx = np.flatnonzero(self.S[r])
            self.cache.put(idx, (self.L_S[r], self.V[r, idx]))
        return ok

    def _update_restricted_lipschitz(self, rows):
        """:math:`\\hat L_S` of the new supports of ``rows``: cache, else batched power iteration."""
        missing = []
        for r in rows:
            idx = np.flatnonzero(self.S[r])
            if idx.size == 0:
                self.L_S[r] = self.L
                continue
            hit = self.cache.get(idx)
            if hit is None:
                missing.append(r)
                continue
            self.L_S[r] = hit[0]
            self.V[r] = 0
            self.V[r, idx] = hit[1]
        if not missing:
            return
        missing = np.asarray(missing)
        masks = self.S[missing]
        values, V = restricted_power_iteration(
            lambda U: self.data.gram_times(U.astype(self.W.dtype, copy=False)) / self.n_samples,
            self.V[missing], masks, max_iter=self._POWER_MAX_ITER, rtol=self._POWER_RTOL)
        values = np.minimum(values, self.L)
        self.L_S[missing] = values
        self.V[missing] = V
        for r, value, v, mask in zip(missing, values, V, masks):
            idx = np.flatnonzero(mask)
            self.cache.put(idx, (value, v[idx]))

    def keep(self, rows):
        self.n_oracle_all[self.rows] = self.n_oracle
        super().keep(rows)

    def extras(self):
        self.n_oracle_all[self.rows] = self.n_oracle
        return {"n_oracle_steps": self.n_oracle_all, "n_supports": self.cache.misses}
