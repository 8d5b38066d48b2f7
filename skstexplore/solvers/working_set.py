r"""Working sets, gap-safe screening and an exact active-set inner solver for the Lasso.

The Lasso solution lives on a few features; iterating on all of them wastes
almost every product. :func:`working_set_lasso` solves the problem restricted
to a small *working set* of features and grows it from the optimality
conditions, in the manner of celer (Massias et al. 2018) and skglm (Bertrand
et al. 2022). With :math:`F(w) = \frac{1}{2n}\|y - Xw\|^2 + \alpha\|w\|_1`,
residual :math:`r = y - Xw`, correlations :math:`c = X^\top r / n` and the
dual scaling :math:`s = \max(1, \|c\|_\infty / \alpha)`, each outer iteration

1. computes :math:`c` on **all** features (the only full product of the
   iteration) and the duality gap; a target whose gap is below its
   tolerance stops: every returned solution is certified by the gap on all
   features;
2. **screens**: with :math:`\rho_j = |c_j| / (\alpha s)` and the gap-safe
   radius :math:`R = \sqrt{2\,\mathrm{gap}/n} / \alpha` (Ndiaye et al. 2017),
   a feature with :math:`\rho_j + \|x_j\| R < 1` is zero at every solution
   and never enters;
3. **chooses** the working set: the current support :math:`S` and the
   unscreened features closest to violating the optimality conditions, by
   :math:`1 - \rho_j` (the largest correlations, which enter first along the
   regularisation path; celer's :math:`(1 - \rho_j) / \|x_j\|`, the
   distance of the dual point to the feature's constraint, favours short
   columns and costs a sparse design outer iterations), as many as there are violators
   (:math:`|c_j| > \alpha`, :math:`j \notin S`), at least :math:`p_0 = 20`
   and at most :math:`\max(p_0, |S|)` (celer's doubling while many
   features violate; near the end, when a few do, the working set stays
   small: its Gram block costs :math:`n |U|^2`). The most violating feature
   (:math:`\rho_j = 1`) always enters and the restricted solve is exact, so :math:`F`
   decreases strictly from one outer iteration to the next and no working
   set's solution repeats; a target stops after two outer iterations in a
   row that did not lower :math:`F` beyond its rounding (the same
   coefficients, or an exact solve on the support that gained less than
   64 epsilons: float32 at a tolerance below its precision, where
   consecutive exact solves differ in their last bits), not converged;
4. **solves the restricted problem exactly** on the working set :math:`U`
   with the Gram block :math:`G_{UU}`, by the active-set method of
   :func:`~skstexplore.solvers.active_set.active_set_lasso` (a few Cholesky
   solves, about one per change of support, instead of hundreds of proximal
   iterations on an ill-conditioned block). A target for which it stalls (a
   support beyond the rank of :math:`G_{UU}`, rounding) gets the chosen
   proximal solver (OISTA, ISTA or FISTA) on the block instead, with
   :math:`L_U = \lambda_{\max}(G_{UU})/n`, until its restricted gap is
   below :math:`0.3` times the outer gap or for about the cost of one outer
   iteration, followed by an exact restricted solve when its support and
   signs settled.

A warm start (``coef_init``, e.g. the previous point of a path) is simply
the active-set method's starting point: along a path the support changes by
a few features between alphas and the fit costs a few solves.

Each target has its own working set (chosen as above from its own
correlations and gap), support, gap and stopping. A target whose working set
is large (more than two features per target of the fit, clipped to
:math:`[20, 100]`) is solved alone on it by the one-target active-set method,
which updates its own Cholesky factor feature by feature across outer
iterations; the others are solved together by the batched active-set method
on the union of their working sets, each restricted to its own (the Gram
entries are computed within each working set only), or offered the whole
union where it is small (:math:`\min(|U|, n) \le 100`) and shared
(each of its features in two working sets on average), which saves outer
iterations. A target thus never pays for another's working set: a joint fit
does the work of the fits one by one, less what they share (the products
:math:`X^\top R`, one per outer iteration for all targets, the preprocessing,
the Gram entries common to several working sets), and batches the small
solves. Everything that depends on ``X`` alone (column norms, the dense
columns of the features that ever entered and the Gram entries among them
that some working set needed) lives in a :class:`DesignCache` that a path or
a cross-validation fold reuses across its fits.

References
----------
M. Massias, A. Gramfort, J. Salmon. "Celer: a fast solver for the Lasso with
dual extrapolation", ICML 2018. Q. Bertrand, Q. Klopfenstein, P.-A. Bannier,
G. Gidel, M. Massias. "Beyond L1: faster and better sparse models with skglm",
NeurIPS 2022. E. Ndiaye, O. Fercoq, A. Gramfort, J. Salmon. "Gap safe
screening rules for sparsity enforcing penalties", JMLR 2017. H. Lee,
A. Battle, R. Raina, A. Ng. "Efficient sparse coding algorithms", NIPS 2007.
"""

import numpy as np
from scipy.sparse import csr_matrix

from .._core.base import SolverResult
from .._core.lasso import lasso_dual_gap, lasso_objective
from ._design_cache import DesignCache
from .active_set import active_set_lasso
from ._restricted import exact_restricted_solve
from ._working_sets import working_sets

__all__ = ["DesignCache", "exact_restricted_solve", "working_set_lasso"]

# Inner solves stop at this fraction of the outer duality gap (celer's choice).
_INNER_GAP_FRACTION = 0.3
# Fewest inner iterations between two outer iterations.
_MIN_INNER_ITER = 50
# Outer iterations in a row without a gain (see working_set_lasso) after which a target stops.
_MAX_STALLED = 2
# A decrease of the objective below this many epsilons (relative) is rounding: the objective of float32
# coefficients re-solved exactly moves by up to about 9 epsilons from one outer iteration to the next
_ROUNDING_GAIN = 64
# Working sets larger than _SHARED_PER_TARGET times the number of targets, clipped to [_SHARED_MIN, _SHARED_MAX],
# are solved alone (see _groups).
_SHARED_PER_TARGET = 2
_SHARED_MIN = 20
_SHARED_MAX = 100
# Fewest working sets a feature of a union is in, on average, for the union to be offered to all its targets.
_OVERLAP = 2
_ONE = np.zeros(1, dtype=np.intp)  # the only target of a one-target fit
# Features the active-set method adds in its first step from zero (doubling while its sign guesses hold, halving
# when they fail): the first working set's support has several features, one at a time costs a step each.
_FIRST_ADDITIONS = 4


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
        ``n_iter`` counts inner iterations (active-set steps, and
        proximal iterations where the fallback ran); ``extras`` holds ``dual_gap``,
        ``n_oracle_steps`` (Oracle ISTA's accepted steps, zeros otherwise),
        ``n_outer`` (outer iterations) and ``n_exact`` (exact restricted solutions),
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
    design = DesignCache(X, all_pairs=n_targets == 1) if design is None else design
    W = np.zeros((n_targets, n_features), dtype=Y.dtype) if coef_init is None else np.array(coef_init, dtype=Y.dtype)
    # the targets solved alone get their Cholesky factors (kept by the design across fits) on first use
    factors = _Factors(design, W.any(axis=1))
    tols = np.broadcast_to(np.asarray(tol, dtype=np.float64), (n_targets,))
    counts = {name: np.zeros(n_targets, dtype=int) for name in ("n_iter", "n_oracle_steps", "n_outer", "n_exact")}
    # whether a target's coefficients minimise F over their own support (known after an exact solve)
    counts["polished"] = np.zeros(n_targets, dtype=bool)
    converged = np.zeros(n_targets, dtype=bool)
    gaps = np.full(n_targets, np.inf)
    # outer iterations in a row that gained nothing: the same coefficients (the next iterations would repeat them:
    # the working set and the solve depend on W alone), or an exact solve on the support that lowered the
    # objective by no more than its rounding (in float32 consecutive exact solves differ in their last bits
    # only); a target whose gap rounding keeps above its tolerance stops there instead of at max_iter
    stalled = np.zeros(n_targets, dtype=int)
    objective = np.full(n_targets, np.inf)
    rounding = _ROUNDING_GAIN * np.finfo(Y.dtype).eps
    active = np.arange(n_targets)
    while active.size:
        Y_active, W_active = Y[:, active], W[active]
        R = Y_active - design.fitted(W_active)
        F = lasso_objective(X, Y_active, W_active, alpha, R=R)
        no_gain = (F == objective[active]) | (counts["polished"][active] & (F >= (1 - rounding) * objective[active]))
        stalled[active] = np.where(no_gain, stalled[active] + 1, 0)
        objective[active] = F
        XtR = design.correlations(R)
        gap = lasso_dual_gap(X, Y_active, W_active, alpha, R=R, XtR=XtR, positive=positive)
        gaps[active] = gap
        done = gap <= tols[active]
        converged[active[done]] = True
        going = ~done & (counts["n_iter"][active] < max_iter) & (stalled[active] < _MAX_STALLED)
        if not going.any():
            break
        if not going.all():
            active, W_active, XtR, gap = active[going], W_active[going], XtR[:, going], gap[going]
        counts["n_outer"][active] += 1
        settings = (alpha, max_iter, counts, positive, factors)
        if design.gram is None:
            order, size = working_sets(design, W_active != 0, XtR, gap, alpha, n_samples, positive)
            for targets, U, allowed in _groups(order, size, design):
                _solve_on_working_set(inner, design, Y, W, active[targets], U, allowed, XtR[np.ix_(U, targets)],
                                      gap[targets], *settings)
        else:  # the full Gram matrix is known: the active-set method needs no working set
            _solve_on_working_set(inner, design, Y, W, active, None, None, XtR, gap, *settings)
        del XtR
    extras = {"dual_gap": gaps}
    extras.update({name: counts[name] for name in ("n_oracle_steps", "n_outer", "n_exact")})
    return SolverResult(coef=W, n_iter=counts["n_iter"], converged=converged, extras=extras)


def _groups(order, size, design):
    r"""The targets (rows of ``order``) solved together, the features of their solve (in cache order) and
    which of them each target may use (None: all).

    Each target's working set is ``order[t, :size[t]]``. A target whose
    working set is large (``_alone_above``) is solved alone: the one-target
    active-set method updates its Cholesky factor feature by feature, and no
    other target's features enter its Gram block. The others are solved
    together, batched, on the union of their working sets, each restricted to
    its own, unless the union is both shared (each of its features in at
    least ``_OVERLAP`` working sets on average) and small
    (:math:`\min(|U|, n) \le` ``_SHARED_MAX``, which bounds every support
    in the batched solves): then each target may use the whole union, which
    its Gram block costs anyway, and needs fewer outer iterations.
    """
    if size.size == 1:
        return [(_ONE, design.in_cache_order(np.sort(order[0, :size[0]])), None)]
    groups = []
    alone = size > _alone_above(size.size)
    shared = np.flatnonzero(~alone)
    if shared.size == 1:
        alone[shared] = True
    elif shared.size:
        chosen = np.arange(order.shape[1]) < size[shared, None]
        members = order[shared][chosen]
        U = design.in_cache_order(np.unique(members))
        allowed = None
        if min(U.size, design.X.shape[0]) > _SHARED_MAX or members.size < _OVERLAP * U.size:
            where = np.empty(design.X.shape[1], dtype=np.intp)
            where[U] = np.arange(U.size)
            allowed = np.zeros((shared.size, U.size), dtype=bool)
            allowed[np.nonzero(chosen)[0], where[members]] = True
        groups.append((shared, U, allowed))
    return groups + [(np.array([t]), design.in_cache_order(np.sort(order[t, :size[t]])), None)
                     for t in np.flatnonzero(alone)]


def _alone_above(n_targets):
    """The size above which a working set is solved alone: the batched steps (a new factorisation of each
    support per step) beat one-target steps (factor updates, but numpy calls per target) on small supports
    shared by many targets."""
    return np.clip(_SHARED_PER_TARGET * n_targets, _SHARED_MIN, _SHARED_MAX)


def _solve_on_working_set(inner, design, Y, W, active, U, allowed, XtR_U, gap, alpha, max_iter, counts, positive,
                          factors):
    r"""Exact solve on the features ``U`` (in cache order; all if None) for the ``active`` targets (in place in
    ``W``), each restricted to its features ``allowed`` (all if None).

    ``XtR_U`` is :math:`X_U^\top R` at the current ``W``: the restricted
    problem's :math:`X_U^\top Y = X_U^\top R + G_{UU} W_U^\top` needs no product
    with :math:`X`. The active-set method first (a target solved alone keeps
    its Cholesky factor in ``factors``); the targets it cannot finish get the
    proximal ``inner`` solver (:func:`_proximal_fallback`).
    """
    full = U is None
    if full:
        U, G_U = np.arange(design.X.shape[1]), design.gram
    else:  # restricted targets need only the entries within their own features
        G_U = design.gram_block(U, allowed)
    rows = np.ix_(active, U)
    W_U = W[rows]
    budget = max_iter - counts["n_iter"][active]
    XtY_U = _times_gram(W_U, G_U)
    XtY_U += XtR_U.T
    if allowed is not None:
        XtY_U[~allowed] = 0.0  # not used, and built from entries of G_U not computed
    W_U, converged, n_steps = active_set_lasso(G_U, XtY_U, design.X.shape[0] * alpha, W_U, positive=positive,
                                               max_steps=int(min(budget.max(), 50 + 4 * U.size)),
                                               polished=counts["polished"][active],
                                               factor=factors[active[0]] if active.size == 1 else None,
                                               labels=U, allowed=allowed)
    W[rows] = W_U
    # an outer iteration counts at least one iteration, so max_iter bounds the outer loop
    counts["n_iter"][active] += np.maximum(n_steps, 1)
    counts["n_exact"][active[converged]] += 1
    counts["polished"][active] = converged
    stuck = ~converged & (counts["n_iter"][active] < max_iter)
    if allowed is None:
        if stuck.any():
            X_U = design.X if full else design.columns(U)
            _proximal_fallback(inner, design, Y[:, active[stuck]], W, active[stuck], U, X_U, G_U, alpha,
                               gap[stuck], max_iter, counts, positive)
        return
    for i in np.flatnonzero(stuck):  # each on its own features
        own = U[allowed[i]]
        _proximal_fallback(inner, design, Y[:, active[[i]]], W, active[[i]], own, design.columns(own),
                           design.gram_block(own), alpha, gap[[i]], max_iter, counts, positive)


class _Factors:
    """The targets' :class:`~skstexplore.solvers.active_set.SupportFactor`, by target, from the design (which
    keeps them across fits), their pace of additions set on first use in a fit: a warm start's additions
    start one at a time, a cold start's ``_FIRST_ADDITIONS`` at a time."""

    def __init__(self, design, warm):
        self.design, self.warm, self.used = design, warm, {}

    def __getitem__(self, target):
        if target not in self.used:
            self.used[target] = self.design.support_factor_of(target)
            self.used[target].k_add = 1 if self.warm[target] else _FIRST_ADDITIONS
        return self.used[target]


def _times_gram(W, G):
    """``W @ G`` (float64), through the nonzeros of ``W`` (CSR) when there are several rows and few nonzeros."""
    if W.shape[0] > 1 and 4 * np.count_nonzero(W) < W.size:
        return np.asarray(csr_matrix(W) @ G, dtype=np.float64)
    return np.asarray(W @ G, dtype=np.float64)


def _proximal_fallback(inner, design, Y, W, active, U, X_U, G_U, alpha, gap, max_iter, counts, positive):
    """The proximal ``inner`` solver on ``U``, then the exact finish where support and signs settled.

    The inner solver gets a budget of iterations worth about one outer
    iteration (:math:`n p / |U|^2` iterations, at least 50): an outer
    iteration (a product with all of ``X`` and exact solves) costs about as
    much and may end the fit.
    """
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
    counts["polished"][rows[accepted]] = True
