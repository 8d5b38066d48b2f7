r"""Centring and sample weights, for dense and ``scipy.sparse`` designs.

scikit-learn's linear models reduce a weighted problem with intercept to an
unweighted one without intercept. With sample weights :math:`s_i \ge 0`
rescaled to sum to ``n_samples`` (as :class:`sklearn.linear_model.Lasso` does),
weighted means :math:`\bar x = \sum_i s_i x_i / \sum_i s_i` and
:math:`\bar y`, and :math:`D = \operatorname{diag}(\sqrt{s})`,

.. math::

    \sum_i s_i (y_i - b - x_i^\top w)^2 \text{ minimised over } b
    = \|D(y - \bar y) - D(X - \mathbf{1}\bar x^\top) w\|_2^2,

with intercept :math:`b = \bar y - \bar x^\top w`. Zero weights are thus
equivalent to dropped rows. A dense ``X`` is centred and scaled in a copy; a
sparse ``X`` is never densified: :class:`CenteredSparseDesign` applies
:math:`D(X - \mathbf{1}\bar x^\top)` through the offsets, as scikit-learn does.
"""

import functools
import glob
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite

from .memory import row_blocks
from .units import DataUnits, _ldexp, centring_noise_bound, column_peaks

# A dense X is read in blocks of rows (of columns when it is Fortran-ordered) of this size, each worked on while
# it is in cache: every pass over X not made costs about as much as a small fit's iterations.
_PASS_BYTES = 2**21

# Without a size of the last-level cache from the system, a dense X below this is worked on whole.
_DEFAULT_WHOLE_BYTES = 2**23


class CenteredSparseDesign:
    r"""The operator :math:`X_c = D X - (D\mathbf{1}) \bar x^\top` for a sparse ``X``.

    Supports the products the solvers need, ``X_c @ V``, ``X_c.T @ R``,
    ``W @ X_c`` and ``W @ X_c.T``, plus dense column blocks, the dense Gram
    matrix and the squared column norms, each without densifying ``X``.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
        Rows already scaled by :math:`\sqrt{s}`.
    offset : ndarray of shape (n_features,)
        The (weighted) column means :math:`\bar x`; zeros without intercept.
    sqrt_weight : ndarray of shape (n_samples,)
        :math:`\sqrt{s}` (ones without sample weights).
    """

    # Let ``ndarray @ design`` defer to ``__rmatmul__`` instead of making an object array.
    __array_ufunc__ = None

    def __init__(self, X, offset, sqrt_weight):
        self.X = X
        self.offset = offset
        self.sqrt_weight = sqrt_weight
        self.shape = X.shape
        self.dtype = X.dtype
        self.ndim = 2

    def dot(self, V):
        r""":math:`X_c V` for ``V`` of shape (n_features,) or (n_features, q)."""
        XV = np.asarray(self.X @ V)
        return XV - np.multiply.outer(self.sqrt_weight, self.offset @ V)

    def rdot(self, R):
        r""":math:`X_c^\top R` for ``R`` of shape (n_samples,) or (n_samples, q)."""
        XtR = np.asarray(self.X.T @ R)
        return XtR - np.multiply.outer(self.offset, self.sqrt_weight @ R)

    def __matmul__(self, V):
        return self.dot(V)

    def __rmatmul__(self, W):
        return self.rdot(np.asarray(W).T).T

    @property
    def T(self):
        return _Transposed(self)

    def max_abs(self):
        """An upper bound of the largest magnitude of :math:`X_c` (within a factor 2)."""
        data = self.X.data  # max(max, -min): no |data| temporary
        data_max = max(float(np.max(data, initial=0.0)), -float(np.min(data, initial=0.0)))
        return data_max + float(np.max(np.abs(self.offset), initial=0.0) * np.max(self.sqrt_weight, initial=0.0))

    def ldexp(self, exponent):
        r"""The design times :math:`2^{\text{exponent}}` (exact): a new :class:`CenteredSparseDesign`."""
        return CenteredSparseDesign(_sparse_ldexp(self.X, exponent),
                                    _ldexp(self.offset, exponent), self.sqrt_weight)

    def columns(self, idx):
        """Dense centred columns ``idx`` (integer array of any shape, or slice): shape (n_samples, *idx.shape)."""
        idx = np.arange(self.shape[1])[idx] if isinstance(idx, slice) else np.asarray(idx)
        block = self.X[:, idx.ravel()].toarray().reshape(self.shape[0], *idx.shape)
        return block - np.multiply.outer(self.sqrt_weight, self.offset[idx])

    def __getitem__(self, key):
        """``X_c[:, idx]``, dense, so that column gathers written for arrays work unchanged."""
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        if not (isinstance(rows, slice) and rows == slice(None)):
            raise TypeError("a CenteredSparseDesign is indexed by columns only: X[:, idx].")
        return self.columns(cols)

    def gram(self):
        r"""Dense :math:`X_c^\top X_c = X^\top D^2 X - (\sum_i s_i) \bar x \bar x^\top`."""
        G = (self.X.T @ self.X).toarray()
        G -= (self.sqrt_weight @ self.sqrt_weight) * np.multiply.outer(self.offset, self.offset)
        return G

    def col_sq_norms(self):
        r"""Squared column norms :math:`\|X_c e_j\|^2`."""
        sq = sparse_column_sums(self.X, self.X.data * self.X.data)
        return sq - (self.sqrt_weight @ self.sqrt_weight) * self.offset**2


def sparse_column_sums(X, values):
    r"""Column sums of the sparse ``X`` with its stored entries replaced by ``values``: for CSR/CSC one
    sparse product :math:`X^\top \mathbf{1}` sharing ``X``'s index arrays (scipy's reductions, ``bincount`` and
    ``reduceat`` cost up to twice as much on one pass)."""
    if X.format not in ("csr", "csc"):
        X = X.copy()
        X.data = values
        return np.asarray(X.sum(axis=0)).ravel()
    # X^T built directly on X's index arrays (the CSR of a CSC X, and the converse): one sparse object, not two
    transposed = (sp.csr_matrix if X.format == "csc" else sp.csc_matrix)(
        (values, X.indices, X.indptr), shape=X.shape[::-1], copy=False)
    return np.asarray(transposed @ np.ones(X.shape[0], dtype=values.dtype))


def _sparse_ldexp(X, exponent):
    """The sparse ``X`` times ``2**exponent`` (exact). A canonical CSR/CSC ``X`` (sorted, no duplicates: scipy
    never reorders it in place) gives a new matrix sharing its index arrays, flagged canonical (the flag is
    computed once and kept by the user's matrix, not by each new one); any other is copied."""
    if X.format in ("csr", "csc") and X.has_canonical_format:
        scaled = type(X)((_ldexp(X.data, exponent), X.indices, X.indptr), shape=X.shape, copy=False)
        scaled.has_canonical_format = True
        return scaled
    X = X.copy()
    X.data = _ldexp(X.data, exponent)
    return X


class _Transposed:
    """``X_c.T`` of a :class:`CenteredSparseDesign`, for ``X_c.T @ R`` and ``W @ X_c.T``."""

    __array_ufunc__ = None

    def __init__(self, design):
        self.design = design
        self.shape = design.shape[::-1]

    def __matmul__(self, R):
        return self.design.rdot(R)

    def __rmatmul__(self, W):
        return self.design.dot(np.asarray(W).T).T

    @property
    def T(self):
        return self.design


@dataclass
class PreparedData:
    """Centred, weighted data of one fit; see :func:`prepare_data`.

    Attributes
    ----------
    X : ndarray or CenteredSparseDesign of shape (n_samples, n_features)
        :math:`D(X - \\mathbf{1}\\bar x^\\top)`.
    Y : ndarray of shape (n_samples, n_targets)
        :math:`D(Y - \\mathbf{1}\\bar y^\\top)`.
    X_offset : ndarray of shape (n_features,)
    y_offset : ndarray of shape (n_targets,)
    sqrt_weight : ndarray of shape (n_samples,) or None
        None when no sample weights were given.
    """

    X: object
    Y: np.ndarray
    X_offset: np.ndarray
    y_offset: np.ndarray
    sqrt_weight: np.ndarray = None

    @property
    def is_sparse(self):
        return isinstance(self.X, CenteredSparseDesign)


def normalized_sample_weight(sample_weight, n_samples):
    """Weights rescaled to sum to ``n_samples`` (scikit-learn's Lasso convention)."""
    total = sample_weight.sum()
    if not total > 0:
        raise ValueError("sample_weight must have a positive sum; got all zeros.")
    return sample_weight * (n_samples / total)


def prepare_data(X, Y, fit_intercept, sample_weight=None):
    r"""Centre (weighted) and scale rows by :math:`\sqrt{s}`, dense or sparse.

    Parameters
    ----------
    X : ndarray or CSR/CSC matrix of shape (n_samples, n_features)
        Validated, floating point.
    Y : ndarray of shape (n_samples, n_targets)
    fit_intercept : bool
    sample_weight : ndarray of shape (n_samples,) or None
        Validated, non-negative; rescaled here to sum to ``n_samples``.

    Returns
    -------
    PreparedData
        A dense ``X`` is returned as a centred, scaled copy; a sparse one as a
        :class:`CenteredSparseDesign` that never densifies it.
    """
    n_samples, n_features = X.shape
    weight = None if sample_weight is None else normalized_sample_weight(sample_weight, n_samples).astype(X.dtype)
    X_offset, y_offset = _offsets(X, Y, fit_intercept, weight)
    sqrt_weight = None if weight is None else np.sqrt(weight)
    Yc = Y - y_offset
    if sqrt_weight is not None:
        Yc *= sqrt_weight[:, None]
    if sp.issparse(X):
        scale = np.ones(n_samples, dtype=X.dtype) if sqrt_weight is None else sqrt_weight
        Xs = X if sqrt_weight is None else sp.diags(sqrt_weight) @ X
        design = CenteredSparseDesign(Xs.asformat(X.format), X_offset, scale)
        return PreparedData(design, Yc, X_offset, y_offset, sqrt_weight)
    Xc = X - X_offset
    if sqrt_weight is not None:
        Xc *= sqrt_weight[:, None]
    return PreparedData(Xc, Yc, X_offset, y_offset, sqrt_weight)


@dataclass
class ScaledData:
    """A fit's data in the internal units of :class:`~skstexplore._core.units.DataUnits`; see
    :func:`prepare_scaled`.

    Attributes
    ----------
    data : PreparedData
        ``data.X`` and ``data.Y`` in internal units, the offsets in the user's.
    units : DataUnits
    col_sq_norms : ndarray of shape (n_features,) or None
        Squared column norms of a dense ``data.X``, in its dtype (None for a sparse one).
    """

    data: PreparedData
    units: DataUnits
    col_sq_norms: np.ndarray


def prepare_scaled(X, Y, fit_intercept, sample_weight=None, estimator_name=None, column_norms=True):
    """A fit's data in internal units: :func:`prepare_dense_scaled` for a dense ``X``; for a sparse one
    :func:`prepare_data` (never densified) and the :class:`~skstexplore._core.units.DataUnits` of the result
    (``col_sq_norms`` None: a sparse design computes them itself). Either ``X`` may still hold NaN or infinity:
    they are refused here, from the peak of ``X`` that the units need anyway, with scikit-learn's message."""
    if not sp.issparse(X):
        return prepare_dense_scaled(X, Y, fit_intercept, sample_weight, estimator_name, column_norms)
    data = prepare_data(X, Y, fit_intercept, sample_weight)
    x_peak = data.X.max_abs()  # NaN or infinity when X has any (the offsets and weights carry them)
    if not np.isfinite(x_peak):
        assert_all_finite(X, input_name="X", estimator_name=estimator_name)
    units = DataUnits(None, data.Y, x_peak=x_peak)
    data.X, data.Y = units.scale_X(data.X), units.scale_Y(data.Y)
    return ScaledData(data, units, None)


def prepare_dense_scaled(X, Y, fit_intercept, sample_weight=None, estimator_name=None, column_norms=True):
    r""":func:`prepare_data`, :func:`~skstexplore._core.units.zero_centring_noise` and the rescaling by the
    :class:`~skstexplore._core.units.DataUnits` of :math:`\max|X|`, of a dense ``X``, in two passes over it.

    The first pass reads ``X`` for :math:`\max|X|` and the column means, the second writes the centred, weighted,
    rescaled copy and its squared column norms, each block of rows worked on while it is in cache. The
    results are those of the separate steps bit for bit: the sums run through the rows in numpy's order, and a
    column is tested for rounding noise entry by entry exactly as by ``zero_centring_noise`` whenever its norm
    is below :math:`2\sqrt{m}` times the noise bound of the largest column (``zero_centring_noise`` itself
    skips a column whose squared norm overflows; here nothing overflows).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Floating point; checked here for NaN and infinity (from its extremes, free), with scikit-learn's message.
    Y : ndarray of shape (n_samples, n_targets)
    fit_intercept : bool
    sample_weight : ndarray of shape (n_samples,) or None
    estimator_name : str, optional
        Named in the message about a non-finite ``X``.
    column_norms : bool
        Compute the squared column norms (always with ``fit_intercept``, which needs them); without them
        ``col_sq_norms`` is None (a caller that will have the Gram matrix has them on its diagonal).

    Returns
    -------
    ScaledData
    """
    n_samples = X.shape[0]
    weight = None if sample_weight is None else normalized_sample_weight(sample_weight, n_samples).astype(X.dtype)
    by_columns = X.flags.f_contiguous  # (a single column too: numpy then sums it pairwise)
    V = X.T if by_columns else X  # the blocks are rows of V
    # X and its copy within the last-level cache: numpy's whole-array operations, fewer than the blocks' (measured
    # at 500 x 5000 with a 480 MiB cache: 5.4 ms whole against 8.3 ms by blocks of 2 MiB; the same bits either way)
    whole = V.nbytes <= _whole_pass_bytes()
    blocks = row_blocks(V.shape[0], V.shape[1] * V.itemsize, max(V.nbytes, 1) if whole else _PASS_BYTES)
    if fit_intercept and weight is None:
        with np.errstate(invalid="ignore"):  # only a non-finite X, refused below, makes NaN
            x_peak, sums = _peak_and_column_sums(V, blocks, by_columns)
        # numpy's mean: the sums divided by the count as an intp
        X_offset = np.true_divide(sums, np.intp(n_samples), out=sums, casting="unsafe")
        y_offset = Y.mean(axis=0)
    else:
        x_peak = _peak(V, blocks)
        X_offset, y_offset = _offsets(X, Y, fit_intercept, weight)
    sqrt_weight = None if weight is None else np.sqrt(weight)
    Yc = Y - y_offset
    if sqrt_weight is not None:
        Yc *= sqrt_weight[:, None]
    if not np.isfinite(x_peak):
        assert_all_finite(X, input_name="X", estimator_name=estimator_name)
    units = DataUnits(None, Yc, x_peak=x_peak)
    Xc = np.empty_like(X)
    col_sq = _centre_scale(V, Xc.T if by_columns else Xc, blocks, by_columns,
                           X_offset if fit_intercept else None, sqrt_weight, units.ex, column_norms or fit_intercept)
    if fit_intercept:
        _zero_noise_columns(Xc, col_sq, X, X_offset, sqrt_weight, x_peak, units.ex)
    data = PreparedData(Xc, units.scale_Y(Yc), X_offset, y_offset, sqrt_weight)
    return ScaledData(data, units, col_sq)


@functools.lru_cache(maxsize=1)
def _whole_pass_bytes():
    """A quarter of the last-level cache (room for ``X``, its copy and the rest), from Linux's sysfs; otherwise
    :data:`_DEFAULT_WHOLE_BYTES`."""
    sizes, units = [], {"K": 2**10, "M": 2**20, "G": 2**30}
    for entry in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            with open(entry) as file:
                text = file.read().strip()
        except OSError:
            continue
        if text[:-1].isdigit() and text[-1] in units:
            sizes.append(int(text[:-1]) * units[text[-1]])
    return max(sizes) // 4 if sizes else _DEFAULT_WHOLE_BYTES


def _peak(V, blocks):
    """``max |V|`` by blocks (NaN if ``V`` has a NaN)."""
    return _max_abs_of([(V[block].max(), V[block].min()) for block in blocks])


def _max_abs_of(extremes):
    """``max |.|`` from the (max, min) of each block, NaN propagated."""
    high, low = np.array(extremes, dtype=np.float64).T
    return float(np.max([high.max(), -low.min(), 0.0]))


def _peak_and_column_sums(V, blocks, by_columns):
    """``max |V|`` and the column sums of ``X`` (rows of ``V = X.T`` when ``by_columns``), each in numpy's order."""
    if by_columns:  # each column of X is a contiguous row of V, summed whole (pairwise)
        return _peak(V, blocks), np.concatenate([V[block].sum(axis=1) for block in blocks])
    # numpy sums the rows of a C-ordered array one after the other: each block goes below the running sums
    first = V[blocks[0]]
    sums, extremes = first.sum(axis=0), [(first.max(), first.min())]
    stack = _stack(blocks, V)
    for block in blocks[1:]:
        part = stack[1:1 + block.stop - block.start]
        np.copyto(part, V[block])
        extremes.append((part.max(), part.min()))
        _add_below(stack, part.shape[0], sums)
    return _max_abs_of(extremes), sums


def _stack(blocks, V):
    """Room for the running sums and the rows of one block (None with one block)."""
    return np.empty((blocks[0].stop - blocks[0].start + 1, V.shape[1]), dtype=V.dtype) if len(blocks) > 1 else None


def _add_below(stack, n_rows, sums):
    """``sums`` += the sum of ``stack[1:1 + n_rows]``, its rows added one after the other to the running sums."""
    stack[0] = sums
    np.sum(stack[:1 + n_rows], axis=0, out=sums)


def _centre_scale(V, out, blocks, by_columns, offset, sqrt_weight, ex, norms=True):
    """``out`` = rows of ``V`` centred by ``offset`` (None: copied), weighted, times ``2**-ex``; returns the
    squared column norms of the result as ``np.einsum("ij,ij->j")`` sums them (None without ``norms``)."""
    stack = None if by_columns or not norms else _stack(blocks, V)
    sq = np.empty(V.shape[0], dtype=V.dtype) if by_columns and norms else None
    for i, block in enumerate(blocks):
        part = source = out[block]
        if offset is None:  # X - 0 is X, to the sign of its zeros
            source = V[block]
        else:
            np.subtract(V[block], offset[block, None] if by_columns else offset, out=part)
        if sqrt_weight is not None:
            source = np.multiply(source, sqrt_weight[None, :] if by_columns else sqrt_weight[block, None], out=part)
        if ex:
            _ldexp(source, -ex, out=part)
        elif source is not part:
            np.copyto(part, source)
        if not norms:
            continue
        if by_columns:
            sq[block] = np.einsum("ij,ij->i", part, part)
            continue
        if not i:
            sq = np.einsum("ij,ij->j", part, part)
            continue
        # einsum sums the squares of a C-ordered array row after row: each block goes below the running sums
        np.multiply(part, part, out=stack[1:1 + part.shape[0]])
        _add_below(stack, part.shape[0], sq)
    return sq


def _zero_noise_columns(Xc, col_sq, X, X_offset, sqrt_weight, x_peak, ex):
    """:func:`~skstexplore._core.units.zero_centring_noise` on the rescaled ``Xc``, its squared norms ``col_sq``
    updated: only the columns whose norm allows noise below the largest column's bound are tested entry by
    entry, on their centred values recomputed in the user's units."""
    n_samples = X.shape[0]
    largest = np.ldexp(float(centring_noise_bound(n_samples, X.dtype, X.dtype.type(x_peak))), -ex)
    candidates = np.flatnonzero(~(np.sqrt(col_sq) > 2 * np.sqrt(n_samples) * largest))
    if not candidates.size:
        return
    columns = X[:, candidates]
    bound = centring_noise_bound(n_samples, X.dtype, column_peaks(columns))
    centred = columns - X_offset[candidates]
    if sqrt_weight is not None:
        centred *= sqrt_weight[:, None]
    noise = candidates[column_peaks(centred) <= bound]
    Xc[:, noise] = 0
    col_sq[noise] = 0


def _offsets(X, Y, fit_intercept, weight):
    """(Weighted) column means of ``X`` and ``Y``; zeros without intercept."""
    if not fit_intercept:
        return np.zeros(X.shape[1], dtype=X.dtype), np.zeros(Y.shape[1], dtype=X.dtype)
    if weight is None:
        if sp.issparse(X):
            X_offset = sparse_column_sums(X, X.data) / X.shape[0]
        else:
            X_offset = np.asarray(X.mean(axis=0)).ravel()
        return X_offset.astype(X.dtype, copy=False), Y.mean(axis=0)
    total = weight.sum()
    X_offset = np.asarray(X.T @ weight).ravel() / total
    return X_offset.astype(X.dtype, copy=False), (weight @ Y) / total
