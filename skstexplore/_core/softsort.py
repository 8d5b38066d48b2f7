r"""SoftSort, a continuous relaxation of the argsort permutation, and its vector-Jacobian product.

For scores :math:`s \in \mathbb{R}^n` and a temperature :math:`\tau > 0`,
SoftSort with the absolute-value distance (Prillo & Eisenschlos 2020) is the
matrix whose row :math:`i` is

.. math:: P_{ij} = \frac{\exp(-|a_i - s_j| / \tau)}{\sum_l \exp(-|a_i - s_l| / \tau)},
   \qquad a = \mathrm{sort\_desc}(s),

a soft one-hot vector on the index of the :math:`i`-th largest score. As
:math:`\tau \to 0` it becomes the permutation matrix of the descending
argsort. Only the first ``n_rows`` rows are formed, in
:math:`O(n + n_{\mathrm{rows}} \log n_{\mathrm{rows}})` for the partial sort
and :math:`O(n_{\mathrm{rows}}\, n)` for the rows.

Numerics: :math:`a_i` is one of the scores, so the largest exponent of each
row is exactly :math:`0` (no shift is needed, nothing overflows, the
denominator is at least 1), and for tiny temperatures every other entry
underflows to zero: the rows are exactly one-hot. Tied scores share a row
equally (the definition is symmetric in them); where the permutation itself
is needed (the derivative of :math:`a_i`), ties go to the lowest index.
"""

import numpy as np

from .thresholding import largest_k_mask, mask_to_indices
from .validation import check_float, check_positive_int


def top_scores(S, n_rows):
    """The ``n_rows`` largest scores of each row of ``S``, in descending order, and their indices.

    Ties go to the lowest index (both in which entries are kept and in their
    order). Costs :math:`O(n + r \\log r)` per row.

    Returns
    -------
    values, indices : ndarray of shape (batch, n_rows)
    """
    if n_rows == 1:
        idx = np.argmax(S, axis=1)[:, None]  # the first maximum: lowest index
        return np.take_along_axis(S, idx, axis=1), idx
    idx = mask_to_indices(largest_k_mask(S, n_rows, by_magnitude=False))
    values = np.take_along_axis(S, idx, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(values, order, axis=1), np.take_along_axis(idx, order, axis=1)


def softsort_rows(S, temperature, n_rows):
    r"""First ``n_rows`` rows of SoftSort for each row of ``S`` (no validation).

    Parameters
    ----------
    S : ndarray of shape (batch, n)
        Finite scores.
    temperature : float
        :math:`\tau > 0`.
    n_rows : int
        ``1 <= n_rows <= n``.

    Returns
    -------
    P : ndarray of shape (batch, n_rows, n)
    top : ndarray of shape (batch, n_rows)
        The sorted scores :math:`a_i`.
    indices : ndarray of int of shape (batch, n_rows)
        Where they come from (ties to the lowest index).
    """
    top, indices = top_scores(S, n_rows)
    with np.errstate(over="ignore"):
        # D / tau may overflow to inf for absurdly small tau: exp(-inf) = 0 is the right limit
        P = np.exp(-np.abs(top[:, :, None] - S[:, None, :]) / temperature)
    P /= P.sum(axis=2, keepdims=True)
    return P, top, indices


def softsort_vjp(S, G, temperature, P=None):
    r"""Vector-Jacobian product of :func:`softsort_rows`: the gradient with respect to ``S``.

    With :math:`A_{ij} = -|a_i - s_j|/\tau`, the softmax gives
    :math:`\bar A_{ij} = P_{ij}(G_{ij} - \sum_l G_{il} P_{il})`; then
    :math:`\partial A_{ij}/\partial s_j = \mathrm{sign}(a_i - s_j)/\tau` and,
    as :math:`a_i = s_{\pi(i)}` with :math:`\pi` locally constant,
    :math:`\partial A_{ij}/\partial s_{\pi(i)} = -\mathrm{sign}(a_i - s_j)/\tau`.
    So with :math:`H_{ij} = \bar A_{ij}\,\mathrm{sign}(a_i - s_j)/\tau`,

    .. math:: \bar s_j = \sum_i H_{ij} - \sum_{i:\, \pi(i) = j} \sum_l H_{il}.

    The entry :math:`j = \pi(i)` has :math:`A_{ij} = 0` identically and gets
    :math:`\mathrm{sign}(0) = 0`. Exact wherever no two scores are tied.

    Parameters
    ----------
    S : ndarray of shape (batch, n)
    G : ndarray of shape (batch, n_rows, n)
        Gradient of the loss with respect to ``P``.
    temperature : float
    P : ndarray of shape (batch, n_rows, n), optional
        :func:`softsort_rows` of ``S`` when already at hand (recomputed otherwise).

    Returns
    -------
    grad : ndarray of shape (batch, n)
    """
    n_rows = G.shape[1]
    top, indices = top_scores(S, n_rows)
    if P is None:
        P = softsort_rows(S, temperature, n_rows)[0]
    A_bar = P * (G - np.einsum("bij,bij->bi", G, P)[:, :, None])
    H = A_bar * np.sign(top[:, :, None] - S[:, None, :]) / temperature
    grad = H.sum(axis=1)
    rows = np.arange(S.shape[0])[:, None]
    grad[rows, indices] -= H.sum(axis=2)  # indices are distinct within a row
    return grad



def _topk_mask_parts(S, temperature, k):
    r"""Pieces of the soft top-k mask: every non-top entry factors as :math:`e_j f_i`."""
    top, indices = top_scores(S, k)
    rows = np.arange(S.shape[0])[:, None]
    with np.errstate(over="ignore"):
        E_top = np.exp(-np.abs(top[:, :, None] - top[:, None, :]) / temperature)  # (batch, k, k)
        e = np.exp(np.minimum(S - top[:, -1:], 0) / temperature)  # exp((s_j - a_k)/tau) <= 1
        f = np.exp((top[:, -1:] - top) / temperature)  # exp((a_k - a_i)/tau) <= 1
    e[rows, indices] = 0.0
    Z = E_top.sum(axis=2) + f * e.sum(axis=1, keepdims=True)
    return top, indices, rows, E_top / Z[:, :, None], e, f / Z


def soft_topk_mask(S, temperature, k):
    r"""Soft support mask :math:`\mathbf{1}^\top P_{1:k}`: the sum of the first ``k`` SoftSort rows.

    Equal to ``softsort_rows(S, temperature, k)[0].sum(axis=1)`` in
    :math:`O(n + k^2)` per row instead of :math:`O(k n)`: for an entry
    :math:`j` outside the :math:`k` largest, :math:`s_j \le a_k \le a_i`,
    so :math:`e^{-|a_i - s_j|/\tau} = e^{(s_j - a_k)/\tau} e^{(a_k - a_i)/\tau}`,
    two factors at most 1 (nothing overflows); only the :math:`k \times k`
    block between the largest scores is formed.

    Parameters
    ----------
    S : ndarray of shape (batch, n)
    temperature : float
    k : int

    Returns
    -------
    mask : ndarray of shape (batch, n)
        Values in :math:`[0, k]`; in the limit :math:`\tau \to 0` the
        indicator of the ``k`` largest scores.
    """
    _, indices, rows, P_top, e, fz = _topk_mask_parts(S, temperature, k)
    mask = e * fz.sum(axis=1, keepdims=True)
    mask[rows, indices] = P_top.sum(axis=1)
    return mask


def soft_topk_mask_vjp(S, grad_mask, temperature, k):
    r"""Gradient of :func:`soft_topk_mask` with respect to ``S``, in :math:`O(n + k^2)` per row.

    :func:`softsort_vjp` with every row of the output gradient equal to
    ``grad_mask``, using the factorisation of :func:`soft_topk_mask`: with
    :math:`c_i = \sum_j P_{ij} \bar m_j`, :math:`F = \sum_i f_i / Z_i`, an entry
    :math:`j` outside the top gets :math:`\bar s_j = e_j (\bar m_j F - \sum_i
    (f_i/Z_i) c_i)/\tau` and contributes :math:`(f_i/Z_i)(\sum_j e_j \bar m_j -
    c_i \sum_j e_j)/\tau` to the row sums that go to :math:`s_{\pi(i)}`.
    """
    top, indices, rows, P_top, e, fz = _topk_mask_parts(S, temperature, k)
    g_top = np.take_along_axis(grad_mask, indices, axis=1)
    e_g = np.einsum("bj,bj->b", e, grad_mask)[:, None]
    c = np.einsum("bil,bl->bi", P_top, g_top) + fz * e_g
    H_top = P_top * (g_top[:, None, :] - c[:, :, None]) * np.sign(top[:, :, None] - top[:, None, :]) / temperature
    grad = e * (grad_mask * fz.sum(axis=1, keepdims=True) - np.einsum("bi,bi->b", fz, c)[:, None]) / temperature
    grad[rows, indices] += H_top.sum(axis=1)
    row_sums = H_top.sum(axis=2) + fz * (e_g - c * e.sum(axis=1, keepdims=True)) / temperature
    grad[rows, indices] -= row_sums
    return grad

def check_temperature(temperature):
    """A finite float > 0 (the SoftSort temperature)."""
    value = check_float(temperature, "temperature")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"temperature must be a finite float > 0; got temperature={temperature!r}.")
    return value


def softsort(scores, temperature=1.0, n_rows=None):
    r"""SoftSort: a soft permutation matrix that sorts the scores in descending order.

    Row :math:`i` of the result is the soft one-hot vector

    .. math:: P_{ij} = \mathrm{softmax}_j\!\left(-\frac{|\mathrm{sort\_desc}(s)_i - s_j|}{\tau}\right),

    which tends to the indicator of the index of the :math:`i`-th largest
    score as :math:`\tau \to 0` (Prillo & Eisenschlos 2020, absolute-value
    distance). This is the raw definition: SoftSort is not invariant to the
    scale of the scores (multiplying them by :math:`c` is dividing
    :math:`\tau` by :math:`c`); normalise them first if the temperature
    should be relative (the soft greedy solvers divide by the largest score).
    Rows sum to 1; tied scores share a row equally; tiny temperatures give
    exact one-hot rows (no overflow, no NaN).

    Parameters
    ----------
    scores : array-like of shape (n,) or (batch, n)
        Finite real scores; a 2-D input is a batch of independent score vectors.
    temperature : float, default=1.0
        :math:`\tau > 0`.
    n_rows : int or None, default=None
        Number of rows to form (the ``n_rows`` largest scores), in
        :math:`O(n_{\mathrm{rows}}\, n)`; None means ``n`` (the whole matrix).

    Returns
    -------
    P : ndarray of shape (n_rows, n) or (batch, n_rows, n)
        Float32 for float32 scores, float64 otherwise.

    References
    ----------
    .. [1] S. Prillo, J. Eisenschlos, "SoftSort: a continuous relaxation for
       the argsort operator", ICML 2020.
    .. [2] S. Mohammad-Taheri, M. J. Colbrook, S. Brugiapaglia, "Deep greedy
       unfolding: sorting out argsorting in greedy sparse recovery
       algorithms", 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import softsort
    >>> np.round(softsort([2.0, 5.0, 4.0], temperature=1.0, n_rows=1), 3)
    array([[0.035, 0.705, 0.259]])
    >>> softsort([2.0, 5.0, 4.0], temperature=1e-3)
    array([[0., 1., 0.],
           [0., 0., 1.],
           [1., 0., 0.]])
    """
    S = np.asarray(scores)
    if S.dtype.kind not in "biuf":
        raise TypeError(f"scores must be an array of real numbers; got dtype {S.dtype}.")
    if S.ndim not in (1, 2) or S.shape[-1] == 0:
        raise ValueError(f"scores must be a non-empty 1-D (n,) or 2-D (batch, n) array; got shape {S.shape}.")
    S = S.astype(np.float32 if S.dtype == np.float32 else np.float64)
    if not np.all(np.isfinite(S)):
        raise ValueError("scores contains NaN or infinity.")
    temperature = check_temperature(temperature)
    n = S.shape[-1]
    n_rows = n if n_rows is None else check_positive_int(n_rows, "n_rows", max_val=n)
    P = softsort_rows(S.reshape(-1, n), temperature, n_rows)[0]
    return P[0] if S.ndim == 1 else P


def check_weights(weights, n_features):
    """Structure-aware weights of the selection scores: None, or ``(n_features,)`` finite and non-negative."""
    if weights is None:
        return None
    arr = np.asarray(weights)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"weights must be an array of real numbers; got dtype {arr.dtype}.")
    if arr.shape != (n_features,):
        raise ValueError(f"weights has shape {arr.shape}; expected (n_features,) = ({n_features},).")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("weights contains NaN or infinity.")
    if arr.min() < 0:
        raise ValueError(f"weights must be non-negative; got a minimum of {float(arr.min())!r}.")
    return arr
