"""What SEA remembers and decides about supports: hashes, a bounded store, restricted solves, halting.

Every target explores on its own but all targets share one store, so its
memory is fixed whatever the number of targets. Supports are hashed with fixed
random 64-bit weights per feature and per target (two different pairs
(target, support) collide with probability :math:`2^{-64}`); the store and
the visited set are keyed by these hashes, so that looking up the supports of
many targets is one array operation plus one dictionary access per target.
"""

from itertools import repeat

import numpy as np
from scipy.linalg import get_lapack_funcs

from .._core.lstsq import _RANK_RTOL_FACTOR, solve_gram_systems
from ._sea_topk import flat_index

# Memory allowed to the stored per-support results, all targets together.
DEFAULT_STORE_BYTES = 256 * 2**20


class SupportHasher:
    """64-bit key of each (target, support) pair: a sum of random weights, wrapping."""

    def __init__(self, n_features, n_targets):
        rng = np.random.default_rng(0)
        self._feature = rng.integers(1, 2**63, n_features, dtype=np.uint64)
        self._target = rng.integers(1, 2**63, n_targets, dtype=np.uint64)

    def keys(self, idx, targets):
        """Keys of the supports ``idx[i]`` (rows of sorted indices) of ``targets[i]``."""
        return self._feature[idx].sum(axis=1, dtype=np.uint64) ^ self._target[targets]


def gap_drift(step, idx):
    r"""Bound on how fast the gap :math:`\min_S |\Xi| - \max_{S^c} |\Xi|` can shrink per iteration.

    While the support :math:`S` stays, :math:`\Xi` moves by ``step`` every
    iteration: the smallest entry on :math:`S` decreases by at most
    :math:`\max_S |s|` (zero up to rounding: the gradient vanishes on the
    support of a least-squares solution of full rank) and the largest one off
    :math:`S` increases by at most :math:`\max |s|`. Zero only for a zero step
    (a stationary target). Rows of ``step`` (n, n_features), of ``idx`` (n, k).
    """
    magnitude = np.abs(step)
    flat, n = magnitude.reshape(-1), step.shape[1]
    # argmax then take: twice as fast as a row-wise max
    return flat.take(flat_index(magnitude.argmax(axis=1), n)) + flat.take(flat_index(idx, n)).max(axis=1)


def safe_iterations(gap, drift, largest, eps):
    r"""Iterations the support provably stays (a positive ``gap`` shrinking by at most ``drift`` each).

    :math:`\lfloor (\mathrm{gap} - 16 \epsilon\, \max |\Xi|) / \mathrm{drift} \rfloor`:
    the slack covers the rounding of :math:`\Xi` brought up to date in one
    step (see the solvers), ``eps`` that of the data; at most :math:`2^{30}`.
    Arrays, or floats (then an int).
    """
    n_safe = np.minimum(np.maximum(gap - 16 * eps * largest, 0) / np.maximum(drift, np.finfo(float).tiny), 2**30)
    return n_safe.astype(np.intp) if np.ndim(n_safe) else int(n_safe)


class SupportStore:
    """Least-recently-used store of the results of a support, for every target.

    Holds, per (target, support) key, the least-squares coefficients on the
    support (k values), the step :math:`\\eta \\nabla F` (n_features values),
    the squared residual and the largest entry of the step. Its arrays grow by
    doubling (in place where numpy can) up to ``capacity`` entries, chosen so
    that the arrays and a transient copy while growing stay within
    ``max_bytes``; when full, the
    least recently used entry is replaced. A support missing from the store is
    simply recomputed, so the store changes the time, never the result.

    Parameters
    ----------
    n_features, n_nonzero_coefs : int
    dtype : numpy dtype
    max_bytes : int
    """

    def __init__(self, n_features, n_nonzero_coefs, dtype, max_bytes=DEFAULT_STORE_BYTES):
        entry_bytes = (n_features + n_nonzero_coefs + 2) * np.dtype(dtype).itemsize + 16
        self.capacity = int(max(1, (2 * max_bytes) // (3 * entry_bytes)))
        size = min(self.capacity, 64)
        self.values = np.empty((size, n_nonzero_coefs), dtype=dtype)
        self.steps = np.empty((size, n_features), dtype=dtype)
        self.loss = np.empty(size, dtype=dtype)
        self.drift = np.empty(size, dtype=dtype)
        self._keys = np.zeros(size, dtype=np.uint64)
        self._last_use = np.zeros(size, dtype=np.int64)
        self._slot_of = {}
        self._clock = 0

    def lookup(self, keys):
        """Slot of each key in the store, -1 where absent; marks the hits as used."""
        keys = keys.tolist()
        slots = np.fromiter(map(self._slot_of.get, keys, repeat(-1, len(keys))), dtype=np.intp, count=len(keys))
        self._clock += 1
        self._last_use[slots[slots >= 0]] = self._clock
        return slots

    def insert(self, keys, values, steps, loss, drift, on_evict=None):
        """Store the results of new supports (the last ones if they do not all fit; the least recently used replaced).

        Returns the slots of the stored ones (the last ``len(slots)``);
        ``on_evict(slots)`` is called before entries are replaced.
        """
        count = min(len(keys), self.capacity)
        if count == 0:
            return np.zeros(0, dtype=np.intp)
        slots = self._slots_for(count, on_evict)
        kept = slice(len(keys) - count, None)
        self.values[slots], self.steps[slots] = values[kept], steps[kept]
        self.loss[slots], self.drift[slots] = loss[kept], drift[kept]
        self._keys[slots] = keys[kept]
        self._last_use[slots] = self._clock
        self._slot_of.update(zip(keys[kept].tolist(), slots.tolist()))
        return slots

    def _slots_for(self, count, on_evict):
        used = len(self._slot_of)
        if used + count > len(self.loss) and len(self.loss) < self.capacity:
            self._grow(min(self.capacity, max(used + count, 2 * len(self.loss))))
        fresh = np.arange(used, min(used + count, len(self.loss)))
        if len(fresh) == count:
            return fresh
        n_evict = count - len(fresh)
        candidates = self._last_use[:used]
        victims = np.argpartition(candidates, n_evict - 1)[:n_evict] if n_evict < used else np.arange(used)
        for key in self._keys[victims].tolist():
            del self._slot_of[key]
        if on_evict is not None:
            on_evict(victims)
        return np.concatenate([fresh, victims])

    def _grow(self, size):
        for name in ("values", "steps", "loss", "drift", "_keys", "_last_use"):
            try:
                # in place: realloc remaps a large block instead of copying it (and faulting its pages in again);
                # read through getattr, not a local name, which would be one reference more and make resize refuse
                getattr(self, name).resize((size,) + getattr(self, name).shape[1:])
            except ValueError:  # numpy refuses while something else refers to the array: a copy
                old = getattr(self, name)
                new = np.empty((size,) + old.shape[1:], dtype=old.dtype)  # entries past the used ones are never read
                new[: len(old)] = old
                setattr(self, name, new)


class RestrictedCholesky:
    r"""Cholesky factor :math:`L L^\top = G_{SS}` of one restricted Gram block, by LAPACK directly.

    For one small system this costs a few microseconds where the batched
    :func:`~skstexplore._core.lstsq.solve_gram_systems` pays its set-up. A
    factor whose smallest pivot falls below the cut-off of
    :func:`~skstexplore._core.lstsq.solve_gram_systems` is refused (None), so
    rank-deficient supports get the same minimum-norm solution either way.
    """

    def __init__(self, data):
        self.potrf, self.potrs = get_lapack_funcs(("potrf", "potrs"), dtype=data.dtype)
        self.rtol = _RANK_RTOL_FACTOR * np.finfo(data.dtype).eps
        self.tiny = float(np.finfo(data.dtype).tiny)  # (np.finfo costs microseconds: once, not per support)

    def _regular(self, L, block):
        scale = max(float(block.diagonal().max()), self.tiny)
        return float(L.diagonal().min()) ** 2 > self.rtol * len(block) * scale

    def factor_block(self, block):
        """The lower factor of ``block`` (its upper triangle left as is: never read), or None when (numerically) singular."""
        L, info = self.potrf(block, lower=1, clean=0)
        if info != 0 or not self._regular(L, block):
            return None
        return L

    def solve(self, L, rhs):
        return self.potrs(L, rhs, lower=1)[0]

    def solve_block(self, block, rhs):
        """Least squares from :math:`G_{SS}` = ``block``: by its factor, or :meth:`min_norm` when singular."""
        L = self.factor_block(block)
        return self.min_norm(block, rhs) if L is None else self.solve(L, rhs)

    @staticmethod
    def min_norm(block, rhs):
        """The shared deterministic minimum-norm solve of a rank-deficient block."""
        return solve_gram_systems(block[None], rhs[None])[0]


class Halting:
    """Stop a target after ``patience`` iterations (or support changes, ``count_changes``) without
    its best squared residual decreasing by more than the fraction ``relative``; with ``exact_fit``,
    also as soon as the best squared residual is at the rounding level of an exact fit (no later
    iterate can replace the best one then: the result is the budget's)."""

    def __init__(self, patience, relative, count_changes, exact_fit=False):
        self.patience, self.relative, self.count_changes, self.exact_fit = patience, relative, count_changes, exact_fit
