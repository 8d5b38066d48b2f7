r"""Columns of the Gram matrix :math:`G = X^\top X`, computed on demand and cached.

A solver that only ever touches the columns :math:`G_{:,j}` of the indices
that enter its supports needs neither the full :math:`n \times n` Gram matrix
nor a full :math:`m \times n` product per support: with the columns of a
support :math:`S` at hand, the gradient of the least-squares solution
:math:`w_S` is :math:`G_{:,S} w_S - X^\top y` (:math:`O(nk)`) and the
restricted block :math:`G_{SS}` is gathered from them. Missing columns are
computed together, as one product :math:`X^\top X_J` (BLAS-3), and kept in a
least-recently-used store whose size is fixed by a memory budget.
"""

import numpy as np

# Memory allowed to the stored columns.
DEFAULT_COLUMN_BYTES = 256 * 2**20

# Rows of a batched product ``sum_j v_j G_j`` handled at once (bounds its temporary).
_CHUNK_BYTES = 2**20


class GramColumns:
    r"""Columns of :math:`X^\top X` for the indices a solver asks for.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    gram : ndarray of shape (n_features, n_features) or None
        ``X.T @ X`` when precomputed: its rows are used and nothing is stored.
    max_bytes : int
        Memory of the store; at least one column is always kept.

    Attributes
    ----------
    capacity : int
        Number of columns the store holds.
    n_computed : int
        Columns computed so far (a column evicted and needed again counts twice).
    """

    def __init__(self, X, gram=None, max_bytes=DEFAULT_COLUMN_BYTES):
        self.X, self.gram = X, gram
        n_features = X.shape[1]
        self.n_computed = 0
        if gram is not None:
            self.capacity = n_features
            self._rows, self._slot = gram, np.arange(n_features)
            return
        self.capacity = int(max(1, min(n_features, max_bytes // (n_features * X.dtype.itemsize))))
        # G is symmetric: column j is stored as row ``_slot[j]`` (C order, contiguous)
        self._rows = np.empty((min(self.capacity, 64), n_features), dtype=X.dtype)
        self._slot = np.full(n_features, -1, dtype=np.intp)
        self._owner = np.full(self.capacity, -1, dtype=np.intp)
        self._last_use = np.zeros(self.capacity, dtype=np.int64)
        self._n_used = 0
        self._clock = 0

    def holds(self, n_columns):
        """Whether the columns of ``n_columns`` indices fit together (always, with a precomputed Gram matrix).

        When they do not, a solver goes through ``X`` instead (restricted
        blocks :math:`X_S^\top X_S` and one product with ``X`` per support).
        """
        return self.gram is not None or n_columns <= self.capacity

    def fetch(self, idx):
        """Make the columns of every index in ``idx`` available; False if they do not fit.

        Parameters
        ----------
        idx : ndarray of int
            Indices needed together (any shape).
        """
        if self.gram is not None:
            return True
        needed = np.unique(idx)
        if len(needed) > self.capacity:
            return False
        self._clock += 1
        missing = needed[self._slot[needed] < 0]
        if len(missing):
            slots = self._free_slots(len(missing), protect=needed)
            self._ensure_rows(slots.max() + 1)
            self._rows[slots] = self.X[:, missing].T @ self.X  # rows out of the product: no transposed copy
            self._slot[missing] = slots
            self._owner[slots] = missing
            self.n_computed += len(missing)
        self._last_use[self._slot[needed]] = self._clock
        return True

    def support_rows(self, support, out=None, likely=None):
        r"""Rows :math:`G_{S,:}` of one support, shape (k, n_features), computed if missing.

        Written into ``out`` when given (a gather into a preallocated buffer
        costs a third of a fresh copy at k x n = 50 x 1000). ``likely``, a
        function giving the indices that the next supports are likely to
        need, is called when rows are missing: theirs come in the same
        product (one pass over ``X`` whether it computes one column or a
        dozen, where a pass is what a column costs on a large design).
        """
        if self.gram is not None:
            return self.gram.take(support, axis=0, out=out, mode="clip")
        slots = self._slot.take(support)
        if slots.min() < 0:
            wanted = support if likely is None else np.concatenate([support, likely()])
            if not (self.fetch(wanted) or self.fetch(support)):
                # more columns than the store holds: computed, not stored
                return np.matmul(self.X[:, support].T, self.X, out=out)
            slots = self._slot.take(support)
        else:
            self._clock += 1
            self._last_use[slots] = self._clock
        return self._rows.take(slots, axis=0, out=out, mode="clip")

    def _free_slots(self, count, protect):
        """``count`` slots: unused ones first, then the least recently used not in ``protect``."""
        fresh = np.arange(self._n_used, min(self._n_used + count, self.capacity))
        self._n_used += len(fresh)
        if len(fresh) == count:
            return fresh
        last_use = self._last_use.copy()
        present = self._slot[protect]
        last_use[present[present >= 0]] = np.iinfo(np.int64).max
        last_use[fresh] = np.iinfo(np.int64).max
        victims = np.argpartition(last_use, count - len(fresh) - 1)[: count - len(fresh)]
        self._slot[self._owner[victims]] = -1
        return np.concatenate([fresh, victims])

    def _ensure_rows(self, n_rows):
        if n_rows > len(self._rows):
            grown = np.empty((min(self.capacity, max(n_rows, 2 * len(self._rows))), self._rows.shape[1]),
                             dtype=self._rows.dtype)
            grown[: len(self._rows)] = self._rows
            self._rows = grown

    def block(self, idx):
        """Stacked restricted blocks :math:`G_{S_t S_t}`, shape (len(idx), k, k), after :meth:`fetch`."""
        if len(idx) == 1:  # two takes are several times faster than one broadcast fancy index
            return self._rows.take(self._slot[idx[0]], axis=0).take(idx[0], axis=1)[None]
        return self._rows[self._slot[idx][:, :, None], idx[:, None, :]]

    def times(self, idx, values):
        r""":math:`G_{:,S_t} v_t` for each row, shape (len(idx), n_features), after :meth:`fetch`."""
        rows, k = idx.shape
        if rows == 1:
            return (values[0] @ self._rows.take(self._slot[idx[0]], axis=0))[None]
        n_features = self._rows.shape[1]
        out = np.empty((rows, n_features), dtype=np.result_type(values, self._rows))
        chunk = max(1, _CHUNK_BYTES // max(1, k * n_features * self._rows.itemsize))
        slots = self._slot[idx]
        for start in range(0, rows, chunk):
            part = slice(start, start + chunk)
            out[part] = (values[part, None, :] @ self._rows[slots[part]])[:, 0, :]
        return out
