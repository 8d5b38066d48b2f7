r"""The top-k of SEA's exploration vectors when a support check finds the gap closed.

A support :math:`S` is still :math:`\mathrm{largest}_k(|\Xi|)` while
:math:`\min_S |\Xi| > \max_{S^c} |\Xi|`; when this gap closes, only the
entries :math:`\ge \min_S |\Xi|` can enter the new top-k: usually one entry
off :math:`S` (swapped in), sometimes a few (a selection among them). Both give
exactly :func:`~skstexplore._core.thresholding.largest_k`, ties to the lowest
indices.
"""

import numpy as np


def flat_index(idx, n_columns):
    """Positions, in the ravel of a C-ordered array of ``n_columns`` columns, of the entries ``idx`` of its rows
    (one row of ``idx`` per row of the array, or one index per row): a row-wise gather or scatter as one ``take``
    or ``put``, cheaper than ``take_along_axis``."""
    offsets = np.arange(len(idx)) * n_columns
    return idx + (offsets[:, None] if idx.ndim == 2 else offsets)


def top_k_above(A, lo, k):
    r"""Sorted indices of the ``k`` largest entries of each row of ``A`` (ties to the lowest indices).

    Exactly :func:`~skstexplore._core.thresholding.largest_k` of ``A``, chosen
    among the entries :math:`\ge` ``lo`` only, where each row holds at least
    ``k`` of them (any other entry has ``k`` larger ones): SEA's old support
    gives them, with ``lo`` its smallest magnitude. The candidates of each row
    are packed, by increasing index, into a row of a small matrix padded with
    -1 (below every entry of ``A``, which is non-negative), whose stable sort
    by decreasing value puts the ``k`` largest first, equal values by index.
    """
    n_rows, n = A.shape
    position = np.flatnonzero(A >= lo[:, None])
    row = position // n
    starts = np.searchsorted(row, np.arange(n_rows + 1))
    column = np.arange(len(position)) - starts[row]
    packed = np.full((n_rows, int(np.diff(starts).max())), -1, dtype=A.dtype)
    packed[row, column] = A.reshape(-1).take(position)
    index = np.zeros(packed.shape, dtype=np.intp)
    index[row, column] = position - row * n
    order = np.argsort(-packed, axis=1, kind="stable")[:, :k]
    chosen = np.zeros(packed.shape, dtype=bool)
    chosen.reshape(-1)[flat_index(order, packed.shape[1])] = True
    return index[chosen].reshape(n_rows, k)  # by increasing index in each row, as packed


def off_support_largest(A, idx):
    r"""Entries of ``A`` on the supports ``idx``, and the two largest entries off them with the index of the largest.

    ``A`` (non-negative) is overwritten: -1 on the supports and at the largest
    entry off them. Row-wise argmax then take: numpy's row-wise max costs
    twice as much.
    """
    n = A.shape[1]
    flat = flat_index(idx, n)  # positions of the supports in A.ravel()
    A_flat = A.reshape(-1)
    on_support = A_flat.take(flat)
    A_flat.put(flat, -1)
    first = A.argmax(axis=1)
    first_flat = flat_index(first, n)
    hi = A_flat.take(first_flat)
    A_flat.put(first_flat, -1)
    second = A_flat.take(flat_index(A.argmax(axis=1), n))
    return on_support, hi, first, second


def swap_in(on_support, idx, lo, hi, first):
    r"""Top-k of each old support :math:`S` and the index ``first`` off it, the largest entry ``hi`` off it.

    For rows with no other entry off :math:`S` at least ``lo`` =
    :math:`\min_S`, it is :func:`~skstexplore._core.thresholding.largest_k`
    of the row: that of these k + 1 candidates, which drops the last of them
    by decreasing value, equal values by increasing index: ``first`` when
    ``hi`` is below ``lo`` (the support stays), otherwise the highest index
    among the smallest entries of :math:`S`, unless ``hi`` equals ``lo`` and
    ``first`` is higher. Sorted indices, one row per support.
    """
    n_rows, k = idx.shape
    rows = np.arange(n_rows)
    last = k - 1 - np.argmax(on_support[:, ::-1] == lo[:, None], axis=1)
    enters = (hi > lo) | ((hi == lo) & (first < idx[rows, last]))
    out = idx.copy()
    out[rows, last] = np.where(enters, first, idx[rows, last])
    return np.sort(out, axis=1)
