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

The duality gap (``skstexplore._core.lasso.lasso_dual_gap``, equal to
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
        ``skstexplore._core.lasso.lasso_dual_gap``) is ``<= tol``. With
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
    * estimates are cached per support (a ``SupportCache`` keyed by the
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
        gaps[active] = lasso_dual_gap(X, Y_active, W, alpha, R=Y_active - X @ W.T,
                                      XtR=n_samples * state.neg_grad().T, positive=positive)
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


def _einsum_row_dots(A, B):
    return np.einsum("ij,ij->i", A, B)


# Dot products of corresponding rows (np.vecdot, much faster, from numpy 2).
_row_dots = getattr(np, "vecdot", _einsum_row_dots)


def _scaled_data(X, Y, gram):
    r"""Least-squares data of :math:`X/\sqrt{n}`, :math:`Y/\sqrt{n}`.

    Its correlation :math:`X^\top y/n - (G/n) w` is then exactly
    :math:`-\nabla f(w)`, with no division per iteration.
    """
    n_samples = X.shape[0]
    scale = X.dtype.type(1.0 / np.sqrt(n_samples))
    gram = None if gram is None else gram / X.dtype.type(n_samples)
    return LeastSquaresData(X * scale, Y * scale, gram)


class _ISTA:
    """ISTA on the active targets: iterate ``W``, ``WG`` = :math:`W G / n`, ``b`` = :math:`(X^\\top Y)^\\top / n`."""

    # Arrays with one row per active target, restricted by ``keep``.
    _row_arrays = ("rows", "b", "W", "WG")

    def __init__(self, data, W, L, alpha, positive):
        self.data, self.L, self.alpha, self.positive = data, L, alpha, positive
        self.rows = np.arange(W.shape[0])
        self.b = data.Xty
        self.W = W
        self.WG = data.gram_times(W)
        self._step = W.dtype.type(1.0 / L)

    @property
    def step_used(self):
        """Step taken by each active row at the last iteration."""
        return np.full(self.W.shape[0], 1.0 / self.L)

    def neg_grad(self):
        r""":math:`-\nabla f = X^\top(y - Xw)/n` of the active rows."""
        return self.b - self.WG

    def step(self):
        self.W = self._ista_step(self.W, self.neg_grad())
        self.WG = self.data.gram_times(self.W)

    def _ista_step(self, W, neg_grad):
        return proximal_gradient_step(W, neg_grad, self._step, self.alpha, self.positive)

    def keep(self, rows):
        """Restrict the state to the rows selected by the boolean mask ``rows``."""
        for name in self._row_arrays:
            setattr(self, name, getattr(self, name)[rows])

    def extras(self, n_targets):
        return {}


class _FISTA(_ISTA):
    """FISTA: also the extrapolated point ``Z``, its ``ZG`` and the momentum ``t``."""

    _row_arrays = _ISTA._row_arrays + ("Z", "ZG")

    def __init__(self, data, W, L, alpha, positive):
        super().__init__(data, W, L, alpha, positive)
        self.Z, self.ZG, self.t = W, self.WG, 1.0

    def step(self):
        W_new = self._ista_step(self.Z, self.b - self.ZG)
        WG_new = self.data.gram_times(W_new)
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * self.t**2)) / 2.0
        beta = W_new.dtype.type((self.t - 1.0) / t_new)
        self.Z = W_new + beta * (W_new - self.W)
        self.ZG = WG_new + beta * (WG_new - self.WG)
        self.W, self.WG, self.t = W_new, WG_new, t_new


class _MaskCache(SupportCache):
    """:class:`SupportCache` keyed by supports packed with ``np.packbits`` (one row of bytes)."""

    @staticmethod
    def key(support):
        return support.tobytes()


class _OISTA(_ISTA):
    r"""Oracle ISTA: per row the support ``S`` and the estimate :math:`\hat L_S`.

    A new support waits one iteration (``fresh``), then gets a cached or an
    exact estimate, or else a power iteration (``settled`` False until it
    converges) with vector ``V``, one step per iteration fused with the
    iteration's product. ``oracle_step`` is :math:`1/\hat L_S` (``(n_rows,
    1)``, in the data type) and ``attempt`` says where it exceeds :math:`1/L`.
    """

    _row_arrays = _ISTA._row_arrays + (
        "S", "L_S", "oracle_step", "attempt", "accepted", "V", "settled", "fresh", "n_power", "n_oracle")

    # Power iteration on a support stops when the estimate moves by less than
    # _POWER_RTOL (relative) or after _POWER_MAX_STEPS steps.
    _POWER_RTOL = 1e-3
    _POWER_MAX_STEPS = 50
    # Supports up to this size get exact L_S from batched dense eigensolvers
    # (O(|S|^3) each, cheaper than the power steps they replace).
    _EXACT_MAX_SIZE = 16

    def __init__(self, data, W, L, alpha, positive):
        super().__init__(data, W, L, alpha, positive)
        n_rows = W.shape[0]
        self.cache = _MaskCache()
        self.L_S = np.full(n_rows, L)
        self.oracle_step = np.full((n_rows, 1), 1.0 / L, dtype=W.dtype)
        self.attempt = np.zeros(n_rows, dtype=bool)
        self.accepted = np.zeros(n_rows, dtype=bool)
        self.V = np.zeros_like(W)
        self.settled = np.ones(n_rows, dtype=bool)
        self.fresh = np.zeros(n_rows, dtype=bool)
        self.n_power = np.zeros(n_rows, dtype=int)
        self.n_oracle = np.zeros(n_rows, dtype=int)
        self.n_oracle_done = {}
        self.n_power_steps = 0
        self._busy = False  # some row is waiting for, or iterating on, an estimate
        self.S = W != 0
        self._enter_supports(np.arange(n_rows))
        self.fresh[:] = False  # a given starting support is worth estimating at once

    @property
    def step_used(self):
        return np.where(self.accepted, self.oracle_step[:, 0], 1.0 / self.L)

    def step(self):
        if self._busy:
            self._start_estimates()
        W, WG, S = self.W, self.WG, self.S
        neg_grad = self.b - WG
        W_new = proximal_gradient_step(W, neg_grad, self.oracle_step, self.alpha, self.positive)
        S_new = W_new != 0
        moved = (S_new != S).any()
        tested = self.attempt
        if moved:
            escaped = (S_new > S).any(axis=1)
            tested = tested & ~escaped
            fallback = self.attempt & escaped
            if fallback.any():
                self._replace_by_ista_step(np.flatnonzero(fallback), W_new, S_new, neg_grad)
        WG_new, VG = self._products(W_new)
        D = W_new - W
        # Majorisation test along the step taken: d^T (G/n) d <= L_S ||d||^2.
        dGd, dd = _row_dots(D, WG_new - WG), _row_dots(D, D)
        failed = tested & (dGd > self.L_S * dd)
        if failed.any():
            rows = np.flatnonzero(failed)
            self._raise_estimates(rows, dGd[rows] / dd[rows])
            self._replace_by_ista_step(rows, W_new, S_new, neg_grad)
            WG_new[rows] = self.data.gram_times(W_new[rows])
            moved = True
        self.accepted = tested ^ failed
        self.n_oracle += self.accepted
        if VG is not None:
            self._power_step(VG)
        self.W, self.WG, self.S = W_new, WG_new, S_new
        if self._busy:
            self.fresh[:] = False
            self._busy = not self.settled.all()
        if moved:
            changed = np.flatnonzero((S_new != S).any(axis=1))
            if changed.size:
                self._enter_supports(changed)

    def _replace_by_ista_step(self, rows, W_new, S_new, neg_grad):
        W_new[rows] = self._ista_step(self.W[rows], neg_grad[rows])
        S_new[rows] = W_new[rows] != 0

    def _products(self, W_new):
        r""":math:`W_{new} G/n`, and :math:`V G/n` for the unsettled rows, in one product."""
        if not self._busy:
            return self.data.gram_times(W_new), None
        iterating = ~(self.settled | self.fresh)
        if not iterating.any():
            return self.data.gram_times(W_new), None
        P = self.data.gram_times(np.concatenate([W_new, self.V[iterating]]))
        return P[: W_new.shape[0]], P[W_new.shape[0]:]

    def _set_estimates(self, rows, values):
        self.L_S[rows] = values
        self.oracle_step[rows, 0] = 1.0 / values
        self.attempt[rows] = values < self.L

    def _raise_estimates(self, rows, curvatures):
        r"""Failed majorisation test: :math:`\hat L_S` raised to the curvature observed along :math:`d`.

        :math:`d` is supported in ``S``, so its curvature is a lower bound of
        :math:`L_S`, larger than the current estimate.
        """
        self._set_estimates(rows, np.minimum(np.maximum(self.L_S[rows], curvatures), self.L))
        self._cache_estimates(rows[self.settled[rows]], self.S)

    def _power_step(self, VG):
        r"""One power step on :math:`G_{SS}/n` for the unsettled rows.

        :math:`\|G_{SS} v\|/n` for a unit :math:`v` is a lower bound of
        :math:`L_S` (at least the Rayleigh quotient, at most the largest
        eigenvalue), nondecreasing along the power iteration, and exact when
        :math:`|S| = 1`.
        """
        flux = np.flatnonzero(~(self.settled | self.fresh))
        self.n_power_steps += flux.size
        U = np.where(self.S[flux], VG, 0)
        values = np.sqrt(_row_dots(U, U)).astype(np.float64)
        self.V[flux] = U / np.where(values > 0, values, 1).astype(U.dtype)[:, None]
        previous = np.where(self.n_power[flux] > 0, self.L_S[flux], 0.0)
        self._set_estimates(flux, np.minimum(np.maximum(values, previous), self.L))
        self.n_power[flux] += 1
        settled = (np.abs(values - previous) <= self._POWER_RTOL * values) | (
            self.n_power[flux] >= self._POWER_MAX_STEPS)
        self.settled[flux[settled]] = True
        self._cache_estimates(flux[settled], self.S)

    def _cache_estimates(self, rows, S):
        for key, value in zip(np.packbits(S[rows], axis=1), self.L_S[rows]):
            self.cache.put(key, value)

    def _enter_supports(self, changed):
        """The ``changed`` rows moved to new supports: their estimation waits one iteration.

        Until then a row keeps the estimate of its previous support (the
        majorisation test covers it); the empty support gets plain ISTA steps.
        """
        empty = ~self.S[changed].any(axis=1)
        self._set_estimates(changed[empty], self.L)
        self.settled[changed[empty]] = True
        waiting = changed[~empty]
        self.settled[waiting] = False
        self.fresh[waiting] = True
        self.n_power[waiting] = 0
        self._busy = self._busy or waiting.size > 0

    def _start_estimates(self):
        """Supports kept for an iteration: cached, exact when small, else a warm power iteration."""
        rows = np.flatnonzero(~(self.settled | self.fresh) & (self.n_power == 0))
        if not rows.size:
            return
        masks = self.S[rows]
        cached = np.full(rows.size, np.nan)
        for i, key in enumerate(np.packbits(masks, axis=1)):
            value = self.cache.get(key)
            if value is not None:
                cached[i] = value
        found = ~np.isnan(cached)
        self._set_estimates(rows[found], cached[found])
        self.settled[rows[found]] = True
        misses, masks = rows[~found], masks[~found]
        small = np.count_nonzero(masks, axis=1) <= self._EXACT_MAX_SIZE
        if small.any():
            exact = misses[small]
            self._set_estimates(exact, np.minimum(self._exact_estimates(masks[small]), self.L))
            self.settled[exact] = True
            self._cache_estimates(exact, self.S)
            misses, masks = misses[~small], masks[~small]
        # Warm start: the vector of the previous support restricted to the new
        # one (the indicator of the new one if they do not overlap).
        V = np.where(masks, self.V[misses], 0)
        dead = ~(V != 0).any(axis=1)
        V[dead] = masks[dead]
        self.V[misses] = V / np.sqrt(_row_dots(V, V))[:, None]

    def _exact_estimates(self, masks):
        r""":math:`L_S` exactly, from the eigenvalues of the stacked blocks :math:`G_{SS}/n`.

        Supports are grouped by size rounded up to a multiple of 8 and padded
        with zero rows and columns (which adds zero eigenvalues only), so that
        each group is one batched LAPACK call on ``(n_rows, k, k)`` blocks.
        """
        sizes = np.count_nonzero(masks, axis=1)
        values = np.empty(masks.shape[0])
        buckets = np.minimum(-(-sizes // 8) * 8, masks.shape[1])
        for k in np.unique(buckets):
            rows = np.flatnonzero(buckets == k)
            # each row's support (sorted), padded with its first index, whose
            # copies are zeroed in the block
            order = np.argsort(~masks[rows], axis=1, kind="stable")[:, :k]
            valid = np.arange(k) < sizes[rows][:, None]
            idx = np.where(valid, order, order[:, :1])
            blocks = self.data.gram_blocks(idx, idx) * (valid[:, :, None] & valid[:, None, :])
            values[rows] = np.linalg.eigvalsh(blocks)[:, -1]
        return values

    def keep(self, rows):
        self._record_oracle_counts()
        super().keep(rows)

    def _record_oracle_counts(self):
        self.n_oracle_done.update(zip(self.rows.tolist(), self.n_oracle.tolist()))

    def extras(self, n_targets):
        self._record_oracle_counts()
        n_oracle = np.zeros(n_targets, dtype=int)
        n_oracle[list(self.n_oracle_done)] = list(self.n_oracle_done.values())
        return {"n_oracle_steps": n_oracle, "n_power_steps": self.n_power_steps,
                "n_supports": self.cache.misses}
