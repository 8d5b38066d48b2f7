r"""Working sets, gap-safe screening and exact restricted solves for the Lasso.

The Lasso solution lives on a few features; iterating on all of them wastes
almost every product. :func:`working_set_lasso` runs one of the proximal
solvers of :mod:`skstexplore.solvers.ista` on a small *working set* of
features and grows it from the optimality conditions, in the manner of
celer (Massias et al. 2018) and skglm (Bertrand et al. 2022). With
:math:`F(w) = \frac{1}{2n}\|y - Xw\|^2 + \alpha\|w\|_1`, residual
:math:`r = y - Xw`, correlations :math:`c = X^\top r / n` and the dual scaling
:math:`s = \max(1, \|c\|_\infty / \alpha)`, each outer iteration

1. computes :math:`c` on **all** features (the only full product of the
   iteration) and the duality gap; a target whose gap is below its
   tolerance stops;
2. **screens**: with :math:`\rho_j = |c_j| / (\alpha s)` and the gap-safe
   radius :math:`R = \sqrt{2\,\mathrm{gap}/n} / \alpha` (Ndiaye et al. 2017),
   a feature with :math:`\rho_j + \|x_j\| R < 1` is zero at every solution
   and never enters;
3. **chooses** the working set: the current support and the features
   closest to violating the optimality conditions, by
   :math:`(1 - \rho_j) / \|x_j\|` (the distance of the dual point to the
   feature's constraint), :math:`\max(p_0, 2|S|)` of them (and never fewer
   than at the previous outer iteration): the violating features come
   first, so each outer iteration adds some;
4. runs the **inner solver** on the working set :math:`U` only, with the Gram
   block :math:`G_{UU}` and :math:`L_U = \lambda_{\max}(G_{UU})/n`, until its
   restricted gap is below :math:`0.3` times the outer gap or for about the
   cost of one outer iteration (:math:`np/|U|^2` iterations, at least 50);
5. **finishes exactly** the targets whose support and signs did not change
   during the inner solve (or whose inner solve converged): with that support
   :math:`S` and signs :math:`\sigma`, the restricted optimality system
   :math:`G_{SS} w_S = X_S^\top y - n\alpha\sigma` is solved (batched over
   targets, grouped by support size); if the solution has the signs
   :math:`\sigma` it minimises :math:`F` over vectors supported in :math:`S`
   (so it is at least as good as the inner iterate) and replaces it. The
   next outer gap, on all features, confirms it or grows the set. A warm
   start (``coef_init``, e.g. the previous point of a path) is first
   finished exactly on its own support and signs: along a path these often
   do not change, and the fit then costs one solve and two products.

Targets are batched: they share one working set per outer iteration (the
union of each target's own choice), each keeps its own coefficients, support,
gap and stopping. Everything that depends on ``X`` alone (column norms, Gram
entries among the features that ever entered, with their dense columns) lives
in a :class:`DesignCache` that a path or a cross-validation fold reuses across
its fits.

References
----------
M. Massias, A. Gramfort, J. Salmon. "Celer: a fast solver for the Lasso with
dual extrapolation", ICML 2018. Q. Bertrand, Q. Klopfenstein, P.-A. Bannier,
G. Gidel, M. Massias. "Beyond L1: faster and better sparse models with skglm",
NeurIPS 2022. E. Ndiaye, O. Fercoq, A. Gramfort, J. Salmon. "Gap safe
screening rules for sparsity enforcing penalties", JMLR 2017.
"""

import numpy as np

from .._core.base import SolverResult
from .._core.lasso import lasso_dual_gap
from .._core.preprocess import CenteredSparseDesign
from scipy.linalg import cho_solve
from scipy.sparse.linalg import LinearOperator, eigsh

from .._core.lipschitz import spectral_norm_sq

# Inner solves stop at this fraction of the outer duality gap (celer's choice).
_INNER_GAP_FRACTION = 0.3
# Blocks up to this size get L_U from a dense eigensolver; larger ones from
# Lanczos to this relative accuracy (a step 1/L_U needs an upper bound of the
# curvature, not its digits).
_DENSE_EIGEN_MAX = 300
_LANCZOS_RTOL = 1e-4
# Fewest inner iterations between two outer iterations.
_MIN_INNER_ITER = 50
# Smallest working set.
_MIN_WORKING_SET = 10


class DesignCache:
    r"""What depends on the design alone, computed once and reused.

    Column norms at construction; dense columns and Gram entries
    :math:`G_{EE}` among the features :math:`E` that have entered some working
    set, grown on demand (a new block costs :math:`n |E_{new}| (|E| + |E_{new}|)`).
    A precomputed full Gram matrix, when given, is sliced instead.

    Parameters
    ----------
    X : ndarray or CenteredSparseDesign of shape (n_samples, n_features)
    gram : ndarray of shape (n_features, n_features), optional
    col_norms : ndarray of shape (n_features,), optional
        Column norms when already known.
    """

    def __init__(self, X, gram=None, col_norms=None):
        self.X = X
        self.gram = gram
        self.is_sparse = isinstance(X, CenteredSparseDesign)
        if col_norms is not None:
            col_sq = col_norms**2
        elif gram is not None:
            col_sq = np.diagonal(gram)
        elif self.is_sparse:
            col_sq = X.col_sq_norms()
        else:
            col_sq = np.einsum("ij,ij->j", X, X)
        self.col_norms = np.sqrt(np.maximum(col_sq, 0)).astype(np.float64)
        self._position = np.full(X.shape[1], -1)
        self._n_entered = 0
        self._full_value = None
        # entered columns stored as rows (gathering rows is contiguous)
        self._rows = np.empty((0, X.shape[0]), dtype=X.dtype)
        self._lipschitz_vector = np.zeros(X.shape[1])
        self._gram = np.empty((0, 0), dtype=X.dtype)

    def columns(self, idx):
        """Dense columns ``idx``, shape (n_samples, len(idx))."""
        self._enter(idx)
        return self._rows[self._take(self._position[idx])].T

    def gram_block(self, idx):
        """:math:`G_{UU}` for the features ``idx``."""
        if self.gram is not None:
            return self.gram[np.ix_(idx, idx)]
        self._enter(idx)
        position = self._take(self._position[idx])
        if isinstance(position, slice):
            return self._gram[position, position]
        return self._gram[np.ix_(position, position)]

    def _full_lipschitz(self):
        r"""An upper bound of :math:`\lambda_{\max}(X^\top X)`, by Lanczos on ``X`` once per design."""
        if self._full_value is None:
            X = self.X
            operator = LinearOperator((X.shape[1], X.shape[1]), dtype=np.float64,
                                      matvec=lambda v: X.T @ (X @ v.astype(X.dtype)))
            value = eigsh(operator, k=1, which="LA", tol=_LANCZOS_RTOL, return_eigenvectors=False)[0]
            self._full_value = float(value) * (1 + 10 * _LANCZOS_RTOL)
        return self._full_value

    def in_cache_order(self, idx):
        """``idx`` reordered as stored (a set that is a prefix of the cache is then sliced, not gathered)."""
        self._enter(idx)
        return idx[np.argsort(self._position[idx], kind="stable")]

    def _take(self, position):
        """Row positions as a slice when they are ``0, 1, ..., k - 1``."""
        if position.size and position[0] == 0 and position[-1] == position.size - 1 and np.all(np.diff(position) == 1):
            return slice(0, position.size)
        return position

    def _enter(self, idx):
        new = idx[self._position[idx] < 0]
        if not new.size:
            return
        X_new = self.X.columns(new) if self.is_sparse else self.X[:, new]
        m, total = self._n_entered, self._n_entered + new.size
        if total > self._rows.shape[0]:
            self._grow(max(total, 2 * self._rows.shape[0]))
        self._rows[m:total] = X_new.T
        cross = self._rows[:total] @ X_new
        self._gram[:total, m:total] = cross
        self._gram[m:total, :m] = cross[:m].T
        self._position[new] = np.arange(m, total)
        self._n_entered = total

    def _grow(self, capacity):
        """Room for ``capacity`` entered features (amortised: capacities double)."""
        m = self._n_entered
        rows = np.empty((capacity, self.X.shape[0]), dtype=self.X.dtype)
        rows[:m] = self._rows[:m]
        gram = np.empty((capacity, capacity), dtype=self.X.dtype)
        gram[:m, :m] = self._gram[:m, :m]
        self._rows, self._gram = rows, gram

    def lipschitz(self, idx, gram_block):
        r""":math:`\lambda_{\max}(G_{UU}) / n` for the features ``idx`` (1 if zero).

        Exact (LAPACK) for small blocks; for larger ones Lanczos to relative
        accuracy ``1e-4``, started from the top eigenvector of the previous
        block restricted to ``idx`` (working sets grow by a few features, so
        it starts close), and raised by ``1e-3`` (relative) to an upper bound;
        a set of at least half the features gets the bound
        :math:`\lambda_{\max}(X^\top X)/n`, computed once per design.
        """
        n_samples, n_features = self.X.shape
        if idx.size <= _DENSE_EIGEN_MAX:
            value = spectral_norm_sq(gram=gram_block)
        elif 2 * idx.size >= n_features:
            value = self._full_lipschitz()  # an upper bound, computed once per design
        else:
            v0 = self._lipschitz_vector[idx] + 1e-3 / np.sqrt(idx.size)
            values, vectors = eigsh(gram_block.astype(np.float64, copy=False), k=1, which="LA", v0=v0,
                                    tol=_LANCZOS_RTOL)
            # Ritz value within _LANCZOS_RTOL (relative) below: inflated to an upper bound
            value = float(values[0]) * (1 + 10 * _LANCZOS_RTOL)
            self._lipschitz_vector[:] = 0
            self._lipschitz_vector[idx] = np.abs(vectors[:, 0])
        value /= n_samples
        return value if value > 0 else 1.0


def working_set_lasso(inner, X, Y, alpha, *, design=None, coef_init=None, max_iter=1000, tol=0.0,
                      positive=False):
    r"""The Lasso by ``inner`` on growing working sets, finished by exact restricted solves.

    Minimises :math:`\frac{1}{2n}\|y - Xw\|^2 + \alpha\|w\|_1` for every column of
    ``Y`` (see the module docstring for the algorithm).

    Parameters
    ----------
    inner : callable
        :func:`~skstexplore.solvers.ista.oista`, :func:`~skstexplore.solvers.ista.ista`
        or :func:`~skstexplore.solvers.ista.fista`.
    X : ndarray or CenteredSparseDesign of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    alpha : float > 0
    design : DesignCache, optional
        Cache of ``X`` shared with other fits on the same design.
    coef_init : ndarray of shape (n_targets, n_features), optional
    max_iter : int
        Budget of inner iterations per target.
    tol : float or ndarray of shape (n_targets,)
        A target stops when its duality gap (on all features) is ``<= tol``.
    positive : bool

    Returns
    -------
    result : SolverResult
        ``n_iter`` counts inner iterations; ``extras`` holds ``dual_gap``,
        ``n_oracle_steps`` (Oracle ISTA's accepted steps, zeros otherwise),
        ``n_outer`` (outer iterations) and ``n_exact`` (accepted exact solves),
        per target.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore.solvers.ista import oista
    >>> X = np.array([[1.0, 0.0, 0.5], [0.0, 2.0, 0.5]])
    >>> Y = np.array([[1.0], [2.0]])
    >>> res = working_set_lasso(oista, X, Y, alpha=0.1, tol=1e-12)
    >>> np.round(res.coef, 4), res.extras["n_exact"]
    (array([[0.8 , 0.95, 0.  ]]), array([1]))
    """
    n_samples, n_features = X.shape
    n_targets = Y.shape[1]
    design = DesignCache(X) if design is None else design
    W = np.zeros((n_targets, n_features), dtype=Y.dtype) if coef_init is None else np.array(coef_init, dtype=Y.dtype)
    tols = np.broadcast_to(np.asarray(tol, dtype=np.float64), (n_targets,))
    counts = {name: np.zeros(n_targets, dtype=int) for name in ("n_iter", "n_oracle_steps", "n_outer", "n_exact")}
    converged = np.zeros(n_targets, dtype=bool)
    gaps = np.full(n_targets, np.inf)
    ws_size = np.zeros(n_targets, dtype=int)
    if coef_init is not None:
        _finish_exactly(design, Y, W, np.arange(n_targets), alpha, counts, positive)
    active = np.arange(n_targets)
    while active.size:
        Y_active = Y[:, active]
        R = Y_active - _fitted(design, W[active])
        XtR = X.T @ R
        gap = lasso_dual_gap(X, Y_active, W[active], alpha, R=R, XtR=XtR, positive=positive)
        gaps[active] = gap
        done = gap <= tols[active]
        converged[active[done]] = True
        going = ~done & (counts["n_iter"][active] < max_iter)
        active, XtR, gap = active[going], XtR[:, going], gap[going]
        if not active.size:
            break
        counts["n_outer"][active] += 1
        U, ws_size[active] = _working_set(design, W[active], XtR, gap, alpha, n_samples, ws_size[active], positive)
        _solve_on_working_set(inner, design, Y[:, active], W, active, U, alpha, gap, max_iter, counts, positive)
    extras = {"dual_gap": gaps}
    extras.update({name: counts[name] for name in ("n_oracle_steps", "n_outer", "n_exact")})
    return SolverResult(coef=W, n_iter=counts["n_iter"], converged=converged, extras=extras)


def _fitted(design, W):
    r""":math:`X W^\top` through the columns of the joint support only."""
    support = np.flatnonzero((W != 0).any(axis=0))
    return design.columns(support) @ W[:, support].T


def _working_set(design, W, XtR, gap, alpha, n_samples, previous_size, positive):
    """Union of the targets' working sets (sorted feature indices) and each target's new size."""
    corr = XtR.T / n_samples if not positive else np.maximum(XtR.T, 0) / n_samples
    abs_corr = np.abs(corr).astype(np.float64)
    scale = np.maximum(1.0, abs_corr.max(axis=1) / alpha)
    rho = abs_corr / (alpha * scale[:, None])
    norms = design.col_norms
    radius = np.sqrt(2 * gap / n_samples) / alpha
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (1.0 - rho) / norms
    score[:, norms == 0] = np.inf
    score[rho + norms * radius[:, None] < 1.0] = np.inf  # gap-safe screening
    support = W != 0
    score[support] = -1.0
    n_candidates = np.isfinite(score).sum(axis=1)
    # never shrinks; room for as many new features as the support has
    size = np.maximum(np.maximum(2 * support.sum(axis=1), _MIN_WORKING_SET), previous_size)
    size = np.minimum(size, n_candidates)
    k = max(int(size.max()), 1)
    order = np.argsort(score, axis=1, kind="stable")[:, :k]
    chosen = np.arange(k) < size[:, None]
    return np.unique(order[chosen]), size


def _solve_on_working_set(inner, design, Y, W, active, U, alpha, gap, max_iter, counts, positive):
    """Inner solve on the features ``U`` for the ``active`` targets, then the exact finish (in place in ``W``).

    The inner solver gets a budget of iterations worth about one outer
    iteration (:math:`n p / |U|^2` iterations, at least 50): an outer
    iteration (a product with all of ``X`` and exact solves) costs about as
    much and may end the fit, so the inner solver is not left to grind on
    where an exact solve would finish. The exact solve is tried for the
    targets whose support and signs did not change over the inner solve, or
    whose inner solve converged.
    """
    U = design.in_cache_order(U)
    X_U, G_U = design.columns(U), design.gram_block(U)
    n_samples, n_features = design.X.shape
    chunk = max(_MIN_INNER_ITER, n_samples * n_features // max(U.size**2, 1))
    budget = int(min(chunk, (max_iter - counts["n_iter"][active]).max()))
    before = np.sign(W[np.ix_(active, U)])
    result = inner(X_U, Y, alpha, coef_init=W[np.ix_(active, U)], gram=G_U, lipschitz=design.lipschitz(U, G_U),
                   max_iter=budget, tol=_INNER_GAP_FRACTION * gap, positive=positive)
    counts["n_iter"][active] += result.n_iter
    counts["n_oracle_steps"][active] += result.extras.get("n_oracle_steps", 0)
    W[np.ix_(active, U)] = result.coef
    settled = result.converged | np.all(np.sign(result.coef) == before, axis=1)
    _finish_exactly(design, Y[:, settled], W, active[settled], alpha, counts, positive)


def _finish_exactly(design, Y, W, rows, alpha, counts, positive):
    """Exact restricted solve on the joint support of ``W[rows]`` (in place where accepted)."""
    S = np.flatnonzero((W[rows] != 0).any(axis=0))
    if not S.size:
        return
    X_S = design.columns(S)
    exact, accepted = exact_restricted_solve(design.gram_block(S), (X_S.T @ Y).T, W[np.ix_(rows, S)],
                                             X_S.shape[0] * alpha, positive, max_size=X_S.shape[0])
    W[np.ix_(rows[accepted], S)] = exact[accepted]
    counts["n_exact"][rows[accepted]] += 1


def exact_restricted_solve(gram, Xty, W, penalty, positive=False, max_size=None):
    r"""The Lasso solution on each row's support and signs, and whether it keeps them.

    With :math:`S = \mathrm{supp}(w)` and :math:`\sigma = \mathrm{sign}(w_S)`,
    solves :math:`G_{SS} z = (X^\top y)_S - n\alpha\,\sigma` (``penalty`` is
    :math:`n\alpha`); rows are grouped by support size, each group one batched
    solve (minimum-norm where :math:`G_{SS}` is singular). A solution with
    :math:`\sigma_j z_j \ge 0` satisfies the optimality conditions of
    :math:`F` restricted to vectors supported in :math:`S`, so it is the best
    such vector.

    Parameters
    ----------
    gram : ndarray of shape (n_features, n_features)
    Xty : ndarray of shape (n_targets, n_features)
    W : ndarray of shape (n_targets, n_features)
    penalty : float
    positive : bool
    max_size : int, optional
        Supports larger than this (``n_samples``) are not tried.

    Returns
    -------
    Z : ndarray of shape (n_targets, n_features)
        The restricted solutions (rows not accepted hold ``W``'s values).
    accepted : ndarray of bool of shape (n_targets,)
    """
    max_size = W.shape[1] if max_size is None else max_size
    Z = W.copy()
    accepted = np.zeros(W.shape[0], dtype=bool)
    support = W != 0
    sizes = support.sum(axis=1)
    # a Lasso solution has a support of at most rank(X) <= n_samples features
    # (Tibshirani 2013); larger supports are not tried
    sizes[sizes > max_size] = 0
    for size in np.unique(sizes[sizes > 0]):
        rows = np.flatnonzero(sizes == size)
        idx = np.nonzero(support[rows])[1].reshape(rows.size, size)
        sign = np.sign(np.take_along_axis(W[rows], idx, axis=1))
        rhs = np.take_along_axis(Xty[rows], idx, axis=1) - penalty * sign
        z = _solve_psd_systems(gram[idx[:, :, None], idx[:, None, :]], rhs)
        ok = np.all(np.isfinite(z) & (sign * z >= 0), axis=1)
        if positive:
            ok &= np.all(z >= 0, axis=1)
        G_S, Xty_S, w = gram[idx[:, :, None], idx[:, None, :]], np.take_along_axis(Xty[rows], idx, axis=1), \
            np.take_along_axis(W[rows], idx, axis=1)
        # a singular G_SS with a right-hand side outside its range has no solution: the minimum-norm
        # "solution" is then no minimiser, and accepting it would undo the inner solver's progress
        ok &= _no_worse(G_S, Xty_S, z, w, penalty)
        values = np.where(ok[:, None], z, w)
        Z[rows[:, None], idx] = values
        accepted[rows] = ok
    return Z, accepted


def _no_worse(G, Xty, z, w, penalty):
    r"""Whether :math:`q(z) \le q(w)` (up to rounding), :math:`q(v) = \tfrac12 v^\top G v - v^\top X^\top y
    + n\alpha\|v\|_1`: :math:`n F(v)` up to a constant, per row."""

    def terms(v):
        v = v.astype(np.float64)
        return 0.5 * np.einsum("ti,tij,tj->t", v, G, v), np.einsum("ti,ti->t", v, Xty), penalty * np.abs(v).sum(axis=1)

    (qz, lz, pz), (qw, lw, pw) = terms(z), terms(w)
    slack = 8 * z.shape[1] * np.finfo(G.dtype).eps * (np.abs(qz) + np.abs(lz) + pz + np.abs(qw) + np.abs(lw) + pw)
    with np.errstate(invalid="ignore", over="ignore"):
        return (qz - lz + pz) <= (qw - lw + pw) + slack


def _solve_psd_systems(G, b):
    r"""Solve the stacked positive semi-definite systems :math:`G_t z_t = b_t` in at most two batched calls.

    One batched Cholesky factorisation when every block is positive definite
    with pivots above :math:`100\,k\,\epsilon \max_i G_{ii}`; otherwise one
    batched eigendecomposition and the minimum-norm solution with that cut-off
    (duplicated or zero columns), for the whole group (no per-target loop).
    """
    k = b.shape[1]
    scale = np.maximum(np.max(np.diagonal(G, axis1=1, axis2=2), axis=1), np.finfo(G.dtype).tiny)
    cutoff = 100 * k * np.finfo(G.dtype).eps * scale
    try:
        factor = np.linalg.cholesky(G)
        pivots = np.min(np.diagonal(factor, axis1=1, axis2=2), axis=1) ** 2
        if np.all(pivots > cutoff):
            if G.shape[0] == 1:  # one system: reuse the factor (two triangular solves)
                return cho_solve((factor[0], True), b[0])[None]
            return np.linalg.solve(G, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        pass
    eigval, eigvec = np.linalg.eigh(G)
    inverse = np.where(eigval > cutoff[:, None], 1.0 / np.where(eigval > 0, eigval, 1), 0)
    return np.einsum("tij,tj->ti", eigvec, inverse * np.einsum("tji,tj->ti", eigvec, b))
