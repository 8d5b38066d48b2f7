r"""Exact solves of the Lasso restricted to a support with known signs."""

import numpy as np
from scipy.linalg import cho_solve

from .._core.memory import row_blocks

# (k, k) arrays per row alive in a batched solve: the gathered block (and the flat index it is gathered by), its
# Cholesky factor, the solver's copy.
SOLVE_TEMPORARIES = 4
# Many systems reuse their Cholesky factors by substitutions vectorised across the systems (2k numpy calls), at
# least this many per unknown; fewer get LAPACK's solve, one call but a second factorisation.
_SUBSTITUTION_ROWS = 3


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
        of_size = np.flatnonzero(sizes == size)
        # in blocks of rows whose (size, size) blocks, factors and solver copies fit in BLOCK_BYTES
        for part in row_blocks(of_size.size, SOLVE_TEMPORARIES * size * size * gram.itemsize):
            rows = of_size[part]
            idx = np.nonzero(support[rows])[1].reshape(rows.size, size)
            w = np.take_along_axis(W[rows], idx, axis=1)
            sign = np.sign(w)
            Xty_S = np.take_along_axis(Xty[rows], idx, axis=1)
            G_S = gram[idx[:, :, None], idx[:, None, :]]
            z = solve_psd_systems(G_S, Xty_S - penalty * sign)
            ok = np.all(np.isfinite(z) & (sign * z >= 0), axis=1)
            if positive:
                ok &= np.all(z >= 0, axis=1)
            # a singular G_SS with a right-hand side outside its range has no solution: the minimum-norm
            # "solution" is then no minimiser, and accepting it would undo the inner solver's progress
            ok &= _no_worse(G_S, Xty_S, z, w, penalty)
            Z[rows[:, None], idx] = np.where(ok[:, None], z, w)
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


def solve_psd_systems(G, b, return_singular=False):
    r"""Solve the stacked positive semi-definite systems :math:`G_t z_t = b_t` in at most two batched calls.

    One batched Cholesky factorisation when every block is positive definite
    with pivots above :math:`100\,k\,\epsilon \max_i G_{ii}`; otherwise one
    batched eigendecomposition and the minimum-norm solution with that cut-off
    (duplicated or zero columns), for the whole group (no per-target loop).
    With ``return_singular``, also which blocks were singular (their solution
    is a minimum-norm least-squares one).
    """
    k = b.shape[1]
    scale = np.maximum(np.max(np.diagonal(G, axis1=1, axis2=2), axis=1), np.finfo(G.dtype).tiny)
    cutoff = 100 * k * np.finfo(G.dtype).eps * scale
    regular = np.zeros(G.shape[0], dtype=bool)
    try:
        factor = np.linalg.cholesky(G)
        pivots = np.min(np.diagonal(factor, axis1=1, axis2=2), axis=1) ** 2
        if np.all(pivots > cutoff):
            if G.shape[0] == 1:  # one system: reuse the factor (two triangular solves)
                z = cho_solve((factor[0], True), b[0], check_finite=False)[None]
            elif G.shape[0] >= _SUBSTITUTION_ROWS * k:
                z = _substitutions(factor, b)
            else:
                z = np.linalg.solve(G, b[..., None])[..., 0]
            return (z, regular) if return_singular else z
    except np.linalg.LinAlgError:
        pass
    eigval, eigvec = np.linalg.eigh(G)
    kept = eigval > cutoff[:, None]
    inverse = np.where(kept, 1.0 / np.where(eigval > 0, eigval, 1), 0)
    z = np.einsum("tij,tj->ti", eigvec, inverse * np.einsum("tji,tj->ti", eigvec, b))
    return (z, ~kept.all(axis=1)) if return_singular else z


def _substitutions(L, b):
    r"""Solve :math:`L L^\top z = b` for stacked lower triangular ``L``: forward then back substitution, one
    unknown at a time across all systems."""
    k = b.shape[1]
    y = np.empty_like(b)
    for i in range(k):
        y[:, i] = (b[:, i] - np.einsum("rj,rj->r", L[:, i, :i], y[:, :i])) / L[:, i, i]
    z = np.empty_like(b)
    for i in range(k - 1, -1, -1):
        z[:, i] = (y[:, i] - np.einsum("rj,rj->r", L[:, i + 1:, i], z[:, i + 1:])) / L[:, i, i]
    return z
