r"""Weighted scatter matrices of unions of blocks of samples, from each block's once: the Gram matrices of
cross-validation folds.

The training sets of most cross-validations (``KFold``, ``StratifiedKFold``,
``GroupKFold``, ``TimeSeriesSplit``, ...) are unions of a few blocks of
samples. With weights :math:`s_i`, each block :math:`b` has its weight
:math:`S_b = \sum_{i \in b} s_i`, mean :math:`m_b` and centred scatter

.. math:: T_b = \sum_{i \in b} s_i (z_i - m_b)(z_i - m_b)^\top,

and the scatter of a union :math:`A` of blocks about its own mean
:math:`\mu_A = \sum_{b \in A} S_b m_b / S_A` (or about 0: no centring) follows
without reading the samples again (the parallel-axis theorem; Chan, Golub and
LeVeque's pairwise update):

.. math::

    \sum_{i \in A} s_i (z_i - \mu_A)(z_i - \mu_A)^\top
    = \sum_{b \in A} T_b + \sum_{b \in A} S_b (m_b - \mu_A)(m_b - \mu_A)^\top.

The blocks' scatters cost one Gram matrix of the whole data
(:math:`n q^2`), each union then :math:`q^2` per block, instead of
:math:`n_A q^2` from its own centred copy.

Rounding. Every term is positive semidefinite, so the two sums add without
cancellation, however far apart the blocks' means are (sorted data split
without shuffling): this is why the union is not obtained as the full data's
centred Gram minus the left-out block's and a rank-one mean correction, whose
correction :math:`S_A d d^\top` (:math:`d` the shift of the union's mean) is
as large as the between-block spread and cancels against it. The data are
first shifted by one common reference (the full data's mean) so that a large
common offset (``X + 1e6``) never enters a product: a block's mean is then
computed to :math:`O(\varepsilon)` times the data's spread, and its error
:math:`e_b` enters the scatter to first order only through
:math:`S_b e_b (m_b - \mu_A)^\top`, of the size of the rounding of a direct
computation. The within-block products carry the usual inner-product error
:math:`\gamma_{n_b} |z - m_b|^\top |z - m_b|`. A union of most blocks is
formed as :math:`\sum_{\text{all}} T_b - \sum_{b \notin A} T_b` (fewer
additions): that subtraction cancels only within-block scatter, with an
error :math:`\varepsilon (\sum_{\text{all}} T_b + \sum_{b \notin A} T_b)`;
:func:`union_scatter` returns this bound's diagonal relative to the result
(:math:`\approx n / n_A` for blocks alike), so that a caller can refuse a
union whose left-out blocks hold most of some column's spread.
"""

import numpy as np


def block_scatter(Z, sqrt_weight=None):
    r"""A block's weight :math:`S_b`, mean :math:`m_b` and centred scatter :math:`T_b`; ``Z`` is overwritten.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, q)
        The block's rows (a copy the caller owns), already shifted by the
        common reference; it is centred and weighted in place.
    sqrt_weight : ndarray of shape (n_rows,), optional
        :math:`\sqrt{s_i}` (ones if None).

    Returns
    -------
    weight : float
    mean : ndarray of shape (q,), float64
    scatter : ndarray of shape (q, q), ``Z``'s dtype
    """
    if sqrt_weight is None:
        weight, mean = float(Z.shape[0]), Z.mean(axis=0, dtype=np.float64)
    else:
        s = sqrt_weight.astype(np.float64) ** 2
        weight = float(s.sum())
        mean = (s @ Z) / weight if weight > 0 else np.zeros(Z.shape[1])
    Z -= mean.astype(Z.dtype)
    if sqrt_weight is not None:
        Z *= sqrt_weight[:, None]
    return weight, mean, Z.T @ Z


def union_scatter(weights, means, scatters, total, members, centre=True):
    r"""Scatter of the union of the blocks ``members`` about its mean (about 0 without ``centre``).

    Parameters
    ----------
    weights : ndarray of shape (n_blocks,)
    means : ndarray of shape (n_blocks, q)
        Means relative to the common reference (with ``centre=False`` the
        reference must be 0).
    scatters : sequence of n_blocks ndarrays of shape (q, q)
    total : ndarray of shape (q, q)
        :math:`\sum_b T_b` over all blocks.
    members : ndarray of bool of shape (n_blocks,)
    centre : bool, default=True

    Returns
    -------
    scatter : ndarray of shape (q, q)
    mean : ndarray of shape (q,)
        :math:`\mu_A` relative to the reference (zeros without ``centre``).
    loss : ndarray of shape (q,)
        The diagonal of the subtraction's error bound over the result (see
        the module docstring; 1 when the blocks were added), ``inf`` where
        the result's diagonal is not positive.
    """
    inside, outside = np.flatnonzero(members), np.flatnonzero(~members)
    if outside.size < inside.size:  # all blocks but a few: those subtracted, one pass each
        scatter = np.subtract(total, scatters[outside[0]]) if outside.size else total.copy()
        for b in outside[1:]:
            scatter -= scatters[b]
        bound = np.diagonal(total) + sum(np.diagonal(scatters[b]) for b in outside)
    else:
        scatter = np.add(scatters[inside[0]], scatters[inside[1]]) if inside.size > 1 else scatters[inside[0]].copy()
        for b in inside[2:]:
            scatter += scatters[b]
        bound = None
    w = weights[inside]
    mean = (w @ means[inside]) / w.sum() if centre else np.zeros(means.shape[1])
    shift = means[inside] - mean
    between = shift.T @ (w[:, None] * shift)
    # exactly symmetric, like the blocks' scatters (the product's two ways differ in the last bit): the
    # active-set method reads rows of a Gram matrix for its factor and one triangle for its gradient
    between += between.T
    between *= 0.5
    np.add(scatter, between, out=scatter, casting="unsafe")
    diagonal = np.diagonal(scatter).astype(np.float64)
    bound = diagonal if bound is None else bound.astype(np.float64) + np.diagonal(between)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(diagonal > 0, bound / diagonal, np.inf)
    return scatter, mean, loss
