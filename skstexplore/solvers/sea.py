r"""Support Exploration Algorithm (SEA), Mohamed, Malgouyres, Emiya & Chaux (ICML 2024).

SEA minimises :math:`F(H(\Xi))` where :math:`H(\Xi)` is the least-squares
solution on the support :math:`\mathrm{largest}_k(\Xi)`, with the
straight-through estimator of the gradient: a dense *exploration vector*
:math:`\Xi` accumulates the gradients of :math:`F` taken at the sparse iterates,

.. math::

    S^t = \mathrm{largest}_k(\Xi^t), \qquad
    w^t = \operatorname*{argmin}_{\mathrm{supp}(w) \subseteq S^t} \|y - X w\|_2^2, \qquad
    \Xi^{t+1} = \Xi^t - \eta\, X^\top (X w^t - y),

and returns the iterate :math:`w^{t_{best}}` with the smallest residual,
:math:`t_{best} = \operatorname{argmin}_t \|y - X w^t\|_2^2` (a later iterate
replaces the best one only when its squared residual is lower by more than the
rounding floor :math:`16 k \epsilon \|y\|^2`: ties, such as two exact fits, go
to the earlier iterate whatever the path and the units).

Cost. Everything an iteration needs depends only on the support :math:`S^t`:
the coefficients :math:`w^t`, the residual and the gradient
:math:`G_{:,S} w_S - X^\top y` (:math:`O(n k)` from the columns of the Gram
matrix :math:`G = X^\top X`, precomputed or computed on demand for the
indices that enter supports). SEA revisits the same supports over and over,
so their results are kept in one bounded store for all targets. While a
support is unchanged :math:`\Xi` moves by the same step every iteration, so
it is brought up to date only when the support is checked, and the check is
skipped while :math:`\min_{S} |\Xi| - \max_{S^c} |\Xi|` provably cannot
close. A new support is factored afresh (one LAPACK Cholesky of
:math:`G_{SS}`, in the order of the sorted support), so that its solution
does not depend on the supports visited before it. Consecutive supports
differ by 15 to 35 indices of k = 120 from a zero start (m = 400, n = 800),
by about 2 after an OMP start (k = 50 to 100): there the factorisation
(:math:`k^3/3`) stays below the gradient (:math:`nk`, n >= 10 k), and the
one-target path gathers only the rows of :math:`G` of the indices that
entered.

One target goes through a lean path (``_sea_one``: iterations as events,
scalar bookkeeping), up to ``FEW_TARGETS`` (20) targets through it one after
the other, more through array operations over all targets (``_sea_many``);
all visit the same supports.

Halting: by default a target stops once the last :func:`default_patience`
support changes brought no new best residual, or once its best residual is
at the rounding level of an exact fit (see the user guide).
"""

import numpy as np

from .._core.base import SolverResult
from .._core.gram_columns import DEFAULT_COLUMN_BYTES, GramColumns
from .._core.lipschitz import spectral_norm_sq
from .._core.lstsq import LeastSquaresData, column_sq_norms
from ._sea_many import ManyTargetExplorer
from ._sea_one import explore_each
from ._sea_store import DEFAULT_STORE_BYTES, Halting, SupportStore

# Default iteration budget (see SEARegressor's docstring for the justification).
DEFAULT_MAX_ITER = 1000

# Up to this many targets explore one after the other, more together as array operations (as fast from about 20
# targets on, faster from about 40: the measurements are in the docstring of _sea_one)
FEW_TARGETS = 20


def default_patience(n_nonzero_coefs):
    r"""Support changes without a new best residual after which the default rule halts SEA.

    500 whatever k: designed from measurements (user guide, "Halting"): the
    smallest patience tried (50 to 500 changes, 5 k to 40 k changes, 100 to
    500 iterations) that kept exact recovery and support distance within two
    standard errors of the 1000-iteration budget in every cell of the
    phase-transition and deconvolution studies at 200 runs per cell (300
    changes, enough at 50 runs per cell, lost 0.030 of support distance on
    deconvolution from OMP there); patiences proportional to k did no better.
    """
    return 500


def default_step_size(X, gram=None, warm=True):
    r"""Default :math:`\eta`: :math:`1 / L`, :math:`L = \|X\|_2^2` (1 for an all-zero design).

    From :math:`\Xi^0 = 0` (``warm=False``) the supports visited do not depend
    on :math:`\eta`, so :math:`L` is not computed and
    :math:`\eta = 1 / \max_j \|X_j\|^2` is used. From a warm start
    :math:`\eta` only sets how fast the gradients override :math:`\Xi^0`, and
    :math:`L` is computed to 1 % (Lanczos iterations stop at a relative
    accuracy of 0.01: 21 products with :math:`X` and :math:`X^\top` instead
    of about 100 at 2000 x 10000).
    """
    if warm:
        L = spectral_norm_sq(X, gram=gram, rtol=1e-2)
    else:
        L = float(np.max(np.diag(gram) if gram is not None else column_sq_norms(X), initial=0.0))
    return 1.0 / L if L > 0 else 1.0


def sea(
    X,
    Y,
    n_nonzero_coefs,
    *,
    exploration_init=None,
    step_size=None,
    max_iter=DEFAULT_MAX_ITER,
    tol=None,
    n_iter_no_change="auto",
    gram=None,
    record_supports=False,
    store_bytes=DEFAULT_STORE_BYTES,
    column_bytes=DEFAULT_COLUMN_BYTES,
):
    r"""Support Exploration Algorithm on every column of ``Y``.

    .. math::

        S^t = \mathrm{largest}_k(\Xi^t), \quad
        w^t = LS(S^t), \quad
        \Xi^{t+1} = \Xi^t - \eta X^\top (X w^t - y)

    Each target explores on its own. Up to ``FEW_TARGETS`` (20) targets
    explore one after the other, each iteration a few scalar operations;
    more targets run their iterations together as array operations (support
    checks, top-k re-selection, best-iterate bookkeeping, store look-ups),
    and the targets that meet new supports in the same iteration share one
    batched restricted solve when they are many.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    n_nonzero_coefs : int
        k, ``1 <= k <= n_features``.
    exploration_init : ndarray of shape (n_targets, n_features) or None
        :math:`\Xi^0`: zero when None, otherwise the coefficients of a warm
        start (another algorithm's solution) or a previous exploration vector.
    step_size : float or None
        :math:`\eta`; None means :func:`default_step_size`.
    max_iter : int
        Iteration budget.
    tol : float, ndarray of shape (n_targets,) or None
        A target stops as soon as its squared residual is ``<= tol``.
    n_iter_no_change : int, "auto" or None
        A target stops when its best squared residual has not decreased for
        that many iterations; ``"auto"``: :func:`default_patience` support
        changes without a decrease of more than a relative
        :math:`\sqrt{\epsilon}` (rounding does not keep SEA going), or a best
        squared residual at the rounding level of an exact fit,
        :math:`\le 16 k \epsilon \|y\|^2`; None: run to ``max_iter``.
    gram : ndarray of shape (n_features, n_features) or None
        ``X.T @ X``; when None, the columns of it that supports need are
        computed on demand and cached (``GramColumns``).
    record_supports : bool
        Also return every support visited, in order (``extras["supports"]``,
        shape (n_targets, n_iter.max(), k), rows past ``n_iter`` unused).
    store_bytes, column_bytes : int
        Memory budgets of the per-support store and of the Gram columns.

    Returns
    -------
    result : SolverResult
        ``coef`` = :math:`w^{t_{best}}`; ``support`` = :math:`S^{t_{best}}`;
        ``n_iter`` = iterations run per target; ``converged`` is False only for
        targets given a ``tol`` they did not reach and not halted by
        ``n_iter_no_change``. ``extras``: ``exploration`` (:math:`\Xi` after
        the last iteration), ``loss_curve`` (list of one array per target,
        :math:`\|y - X w^t\|^2` for each iteration), ``best_iter``
        (:math:`t_{best}` per target), ``n_supports_explored`` (distinct
        supports visited per target), ``step_size`` (:math:`\eta`).

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(30, 60, 5, random_state=0)
    >>> result = sea(X, y[:, None], 5, max_iter=200)
    >>> bool(np.array_equal(result.coef[0] != 0, coef != 0))
    True
    """
    data = LeastSquaresData(X, Y, gram)
    if step_size is None:
        step_size = default_step_size(X, gram, warm=exploration_init is not None and np.any(exploration_init))
    eta = X.dtype.type(step_size)
    columns = GramColumns(X, gram, column_bytes)
    if isinstance(n_iter_no_change, str):
        halting = Halting(default_patience(n_nonzero_coefs), np.sqrt(np.finfo(data.dtype).eps), count_changes=True,
                          exact_fit=True)
    else:
        halting = None if n_iter_no_change is None else Halting(n_iter_no_change, 0.0, count_changes=False)
    if data.n_targets <= max(FEW_TARGETS, 1):
        outputs = explore_each(data, columns, store_bytes, n_nonzero_coefs, eta, exploration_init, max_iter, tol,
                               halting, record_supports)
    else:
        store = SupportStore(data.n_features, n_nonzero_coefs, data.dtype, store_bytes)
        explorer = ManyTargetExplorer(data, columns, store, n_nonzero_coefs, eta, exploration_init)
        explorer.run(max_iter, tol, halting, record_supports)
        outputs = explorer.outputs()
    return _result(data, outputs, tol, max_iter, float(eta))


def _result(data, out, tol, max_iter, eta):
    n_iter = out["n_iter"]
    converged = out["reached_tol"] | out["stationary"] | np.array(tol is None)
    if tol is not None:
        # stopping for lack of progress is a halting rule too, not a failure
        converged |= n_iter < max_iter
    coef = data.scatter(out["best_idx"], out["best_vals"])
    support = np.zeros(coef.shape, dtype=bool)
    np.put_along_axis(support, out["best_idx"], True, axis=1)
    extras = {
        "exploration": out["exploration"],
        "loss_curve": out["loss_curves"],
        "best_iter": out["best_iter"],
        "n_supports_explored": out["n_explored"],
        "step_size": eta,
    }
    if "supports" in out:
        extras["supports"] = out["supports"]
    return SolverResult(coef=coef, n_iter=n_iter, converged=converged, support=support, extras=extras)
