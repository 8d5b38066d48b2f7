r"""State of Oracle ISTA (Ablin et al. 2019) for :func:`skstexplore.solvers.ista.oista`.

The per-support step sizes :math:`1/\hat L_S`: their cache, exact values for
small supports, warm-started power iterations for large ones, and the
majorisation test that makes any estimate safe (see the docstring of
:func:`~skstexplore.solvers.ista.oista`).
"""

import numpy as np

from .._core.lstsq import SupportCache
from ._proximal import _ISTA, proximal_gradient_step


def _einsum_row_dots(A, B):
    return np.einsum("ij,ij->i", A, B)


# Dot products of corresponding rows (np.vecdot, much faster, from numpy 2).
_row_dots = getattr(np, "vecdot", _einsum_row_dots)



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
