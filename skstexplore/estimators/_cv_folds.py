r"""The training folds of :class:`~skstexplore.OracleISTALassoCV` as Lasso problems, their Gram matrices from
the data's blocks (:mod:`~skstexplore._core.scatter`) where the folds' paths run on a full Gram matrix.

A fold whose :class:`~skstexplore.estimators._lasso_problem.LassoProblem` would compute its full Gram matrix
(dense ``X``; one target with working sets along the path, or targets sharing it, or ``precompute=True``) and
whose training set is a union of the blocks of samples that the folds share (``KFold``, ``StratifiedKFold``,
``GroupKFold``, ``TimeSeriesSplit``: at most ``n_folds + 1`` blocks, no repeated sample) gets a
:class:`GramFoldProblem`: its centred, weighted Gram matrix, :math:`X^\top y` and offsets come from the
blocks' scatters, computed once per cross-validation (one Gram matrix of the whole data instead of one per
fold), and no centred copy of its ``X`` is made unless a solve needs the residual (a point the Gram path
leaves unconverged, or several targets), when the fold's ``LassoProblem`` is built and given that Gram
matrix. The fold keeps the conventions of a ``LassoProblem`` built from ``X[train]``: its own
:class:`~skstexplore._core.units.DataUnits` (the same exponents: the peak of ``X[train]`` is the largest of
its blocks'), weights normalised on the fold, the gap tolerance from its own :math:`\|y\|^2`, and the columns
that are constant on the fold (exactly, over its rows of positive weight) set to zero, as
:func:`~skstexplore._core.units.zero_centring_noise` does. Any other fold gets today's ``LassoProblem``:
sparse ``X`` (its centring is already by offsets, and its Gram path does not apply), other cross-validations,
and the rare folds where the blocks cannot vouch for the result: a column nearly constant on the fold (only
the entry-by-entry test of ``zero_centring_noise`` decides those) or one whose left-out blocks hold most of its
spread (:func:`~skstexplore._core.scatter.union_scatter`'s loss above ``_MAX_LOSS``).
"""

from functools import partial

import numpy as np
import scipy.sparse as sp

from .._core.preprocess import normalized_sample_weight
from .._core.scatter import block_scatter, union_scatter
from .._core.units import DataUnits, _exponent, _ldexp, centring_noise_bound
from ._lasso_problem import LassoProblem, gram_wanted

# A union of blocks whose subtraction may cost more than this factor over a direct computation's rounding (see
# skstexplore._core.scatter) is computed directly; blocks alike give about n / n_train.
_MAX_LOSS = 16.0
# The blocks' scatters (n_blocks + 1 matrices of (n_features + n_targets)**2 entries) are kept in memory only up to
# this size (a fold computed directly holds one Gram matrix and a copy of its X).
_SCATTER_BYTES = 2**29


def fold_problems(X, Y, sample_weight, folds, fit_intercept, precompute, working_set, problem):
    """One callable per fold of ``folds`` making its training set's ``LassoProblem`` (path=True).

    ``problem`` is the whole data's ``LassoProblem`` (its offsets are the blocks' common reference).
    """
    for train, _ in folds:
        if sample_weight is not None and not sample_weight[train].sum() > 0:
            raise ValueError("A training fold has only zero sample weights.")
    direct = [partial(_data_problem, X, Y, sample_weight, train, fit_intercept, precompute) for train, _ in folds]
    n_features, n_targets, itemsize = X.shape[1], Y.shape[1], X.dtype.itemsize
    wanted = [gram_wanted(precompute, train.size, n_features, n_targets, itemsize, working_set, False, True)
              for train, _ in folds]
    if sp.issparse(X) or not any(wanted):
        return direct
    blocks = _shared_blocks(folds, X.shape[0])
    if blocks is None or (blocks[1].shape[0] + 1) * (n_features + n_targets) ** 2 * itemsize > _SCATTER_BYTES:
        return direct
    moments = _BlockMoments(X, Y, sample_weight, *blocks, fit_intercept, problem)
    return [partial(_either, partial(moments.fold_problem, k, train, make), make) if wanted[k] else make
            for k, ((train, _), make) in enumerate(zip(folds, direct))]


def _either(first, otherwise):
    return first() or otherwise()


def _data_problem(X, Y, sample_weight, train, fit_intercept, precompute):
    """The ``LassoProblem`` of the training rows ``train``, from their centred copy."""
    weight = None if sample_weight is None else sample_weight[train]
    return LassoProblem(X[train], Y[train], fit_intercept, weight, precompute, path=True)


def _shared_blocks(folds, n_samples):
    """Block of each sample and whether each block trains each fold, shape (n_blocks, n_folds); None unless
    every training set is a union of at most ``n_folds + 1`` blocks without repeated samples."""
    labels, trains = np.zeros(n_samples, dtype=np.intp), np.ones((1, 0), dtype=bool)
    for train, test in folds:
        roles = np.zeros(n_samples, dtype=np.intp)  # 1 train, 2 test, 3 both (the block is then no use)
        roles[train] = 1
        roles[test] |= 2
        if np.bincount(train, minlength=n_samples).max(initial=0) > 1:
            return None
        # the blocks so far split by this fold's role
        kinds, labels = np.unique(4 * labels + roles, return_inverse=True)
        if kinds.size > len(folds) + 1:
            return None
        trains = np.column_stack([trains[kinds // 4], kinds % 2 == 1])
    return labels, trains


class _BlockMoments:
    """The blocks' weights, means and scatters of :math:`Z = [X, Y]` shifted by the whole data's offsets and
    scaled by powers of two, and the extremes of their columns (for the folds' units and constant columns)."""

    def __init__(self, X, Y, sample_weight, labels, trains, fit_intercept, problem):
        n_samples, n_features = X.shape
        self.X, self.Y, self.sample_weight, self.fit_intercept = X, Y, sample_weight, fit_intercept
        self.trains = trains
        dtype = X.dtype
        # raw weights normalised on the whole data: a fold's are these times n_train / (their sum on the fold)
        weight = None if sample_weight is None else normalized_sample_weight(sample_weight, n_samples).astype(dtype)
        reference = np.concatenate([problem.X_offset, problem.y_offset]).astype(dtype) if fit_intercept else None
        self.reference = reference
        self.ex = problem.units.ex
        shifted_Y = Y if reference is None else Y - reference[n_features:]
        self.ey = _exponent(float(np.max(np.abs(shifted_Y), initial=0.0)))
        scale = np.concatenate([np.full(n_features, np.ldexp(dtype.type(1), -self.ex), dtype=dtype),
                                np.full(Y.shape[1], np.ldexp(dtype.type(1), -self.ey), dtype=dtype)])
        n_blocks = trains.shape[0]
        self.weights, self.means, self.scatters = np.empty(n_blocks), [], []
        self.peaks, self.min_weight = np.empty(n_blocks), np.empty(n_blocks)
        self.col_peaks, self.highs, self.lows = [], [], []
        for b in range(n_blocks):
            rows = np.flatnonzero(labels == b)
            Z = np.empty((rows.size, n_features + Y.shape[1]), dtype=dtype)
            np.take(X, rows, axis=0, out=Z[:, :n_features])
            Z[:, n_features:] = Y[rows]
            self._extremes(Z[:, :n_features], None if weight is None else weight[rows])
            if reference is not None:
                Z -= reference
            Z *= scale
            sqrt_weight = None if weight is None else np.sqrt(weight[rows])
            self.weights[b], mean, scatter = block_scatter(Z, sqrt_weight)
            self.means.append(mean)
            self.scatters.append(scatter)
        self.means = np.array(self.means)
        self.total = self.scatters[0].copy()
        for scatter in self.scatters[1:]:
            self.total += scatter

    def _extremes(self, X_block, weight):
        """The block's ``max |X|``, its columns' peaks, their extremes over the rows of positive weight and
        the least positive weight (1 without weights)."""
        b = len(self.highs)
        highs, lows = X_block.max(axis=0, initial=-np.inf), X_block.min(axis=0, initial=np.inf)
        self.col_peaks.append(np.maximum(highs, -lows))
        self.peaks[b] = float(self.col_peaks[b].max(initial=0.0))
        if weight is not None and not np.all(weight > 0):
            positive = X_block[weight > 0]
            highs, lows = positive.max(axis=0, initial=-np.inf), positive.min(axis=0, initial=np.inf)
        self.highs.append(highs)
        self.lows.append(lows)
        self.min_weight[b] = 1.0 if weight is None else float(np.min(weight[weight > 0], initial=np.inf))

    def fold_problem(self, k, train, make_problem):
        """The :class:`GramFoldProblem` of fold ``k`` (training rows ``train``), or None where the blocks cannot
        vouch for it (see the module docstring)."""
        n_features = self.X.shape[1]
        members = self.trains[:, k]
        scatter, mean, loss = union_scatter(self.weights, self.means, self.scatters, self.total, members,
                                            centre=self.fit_intercept)
        constant = np.zeros(n_features, dtype=bool)
        if self.fit_intercept:
            constant, nearly = self._constant_columns(members, train.size)
            if nearly.any():
                return None
        if np.any(loss[np.flatnonzero(~constant)] > _MAX_LOSS) or np.any(loss[n_features:] > _MAX_LOSS):
            return None
        weight = None if self.sample_weight is None else normalized_sample_weight(
            self.sample_weight[train], train.size).astype(self.X.dtype)
        y_offset, Y = self._centred_targets(train, weight)
        units = DataUnits(None, Y, x_peak=float(self.peaks[members].max()))
        Y = units.scale_Y(Y)
        # the fold's weights are the blocks' times n_train / S_train; the blocks' units are 2**-ex, 2**-ey
        factor = train.size / self.weights[members].sum()
        gram = _scaled(scatter[:n_features, :n_features], factor, 2 * (self.ex - units.ex))
        Xty = _scaled(scatter[:n_features, n_features:], factor, self.ex - units.ex + self.ey - units.ey)
        gram[constant] = 0
        gram[:, constant] = 0
        Xty[constant] = 0
        X_offset = np.zeros(n_features, dtype=self.X.dtype)
        if self.fit_intercept:
            X_offset = (self.reference[:n_features] + np.ldexp(mean[:n_features], self.ex)).astype(self.X.dtype)
        return GramFoldProblem(gram, Xty, np.einsum("ij,ij->j", Y, Y).astype(np.float64), units, X_offset,
                               y_offset, train.size, make_problem)

    def _constant_columns(self, members, n_train):
        """The columns constant on the fold's rows of positive weight, and those only nearly so (the candidates
        of :func:`~skstexplore._core.units.zero_centring_noise`'s test: a centred entry within the noise
        bound at each row of positive weight)."""
        inside = np.flatnonzero(members)
        spread = np.max([self.highs[b] for b in inside], axis=0) - np.min([self.lows[b] for b in inside], axis=0)
        peaks = np.max([self.col_peaks[b] for b in inside], axis=0)
        weight_share = n_train / self.weights[members].sum()
        least_sqrt_weight = np.sqrt(self.min_weight[members].min() * weight_share)
        eps = np.finfo(self.X.dtype).eps
        bound = centring_noise_bound(n_train, self.X.dtype, peaks) * 2 * (1 + 8 * eps) / least_sqrt_weight
        constant = spread == 0
        return constant, ~constant & (spread <= bound)

    def _centred_targets(self, train, weight):
        """The fold's ``y`` offsets and centred, weighted targets, as ``prepare_dense_scaled`` makes them."""
        Y = self.Y[train]
        if not self.fit_intercept:
            y_offset = np.zeros(Y.shape[1], dtype=Y.dtype)
        elif weight is None:
            y_offset = Y.mean(axis=0)
        else:
            y_offset = (weight @ Y) / weight.sum()
        Yc = Y - y_offset
        if weight is not None:
            Yc *= np.sqrt(weight)[:, None]
        return y_offset, Yc


def _scaled(block, factor, exponent):
    """``block * factor * 2**exponent`` in ``block``'s dtype (a new array)."""
    scaled = block * block.dtype.type(factor) if factor != 1 else block.copy()
    return _ldexp(scaled, exponent, out=scaled) if exponent else scaled


class GramFoldProblem(LassoProblem):
    """A training fold's :class:`~skstexplore.estimators._lasso_problem.LassoProblem` from its Gram matrix,
    :math:`X^\\top Y` and :math:`\\|y\\|^2` (internal units); the fold's data problem is built by
    ``make_problem`` only when a solve needs the residual, and given the Gram matrix."""

    def __init__(self, gram, Xty, y_sq, units, X_offset, y_offset, n_samples, make_problem):
        self.gram, self._Xty, self.y_sq, self.units = gram, Xty, y_sq, units
        self.X_offset, self.y_offset = X_offset, y_offset
        self.n_samples, self.n_features = n_samples, gram.shape[0]
        self.n_targets, self.dtype = Xty.shape[1], gram.dtype
        self.is_sparse, self.path = False, True
        self._make_problem, self._problem = make_problem, None

    def correlations(self):
        return self._Xty

    def _path_gram(self, working_set):
        return self.gram if working_set and self.n_targets == 1 else None

    def data_problem(self):
        """The fold's ``LassoProblem`` from its centred copy, with this Gram matrix (built once)."""
        if self._problem is None:
            self._problem = self._make_problem()
            self._problem.adopt_gram(self.gram, self.units)
        return self._problem

    def design(self, working_set, n_targets):
        return self.data_problem().design(working_set, n_targets)

    def solve(self, alpha, **settings):
        return self.data_problem().solve(alpha, **settings)
