"""Mixin of the trained unfolded networks (learned ISTA, OMP-Net, IHT-Net).

They are fitted on many signals sharing one design (the columns of a 2-D
``y``) and then code new signals with ``encode``; this class holds what they
share: the training data path (validate, centre, float64) and the validation
and centring of the signals given to ``encode``.
"""

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from .base import center_data


class UnrolledNetworkMixin:
    """Networks trained on signals sharing a design; ``dictionary_`` is the (centred) design they apply.

    Mixed into a :class:`~skstexplore._core.base.SparseLinearRegressor` (it is
    not an estimator by itself, so estimator discovery skips it).
    """

    def _training_data(self, X, y):
        """Validated ``X``, the centred design and signals in float64, the offsets and whether ``y`` was 1-D.

        Training runs in float64 whatever the input dtype; the codes are cast
        back to the dtype of ``X``.
        """
        X, Y, y_is_1d = self._validate_fit_data(X, y)
        Xc, Yc, X_offset, y_offset = center_data(X, Y, self.fit_intercept)
        self._centre_signals = self.fit_intercept
        return X, Xc.astype(np.float64), Yc.astype(np.float64), X_offset, y_offset, y_is_1d

    def _signals_to_encode(self, Y):
        """Validated signals ``(n_samples, n_signals)`` in float64, centred as in ``fit``.

        Returns
        -------
        Y2 : ndarray of shape (n_samples, n_signals)
        dtype : numpy dtype
            Of the validated input (float32 stays float32 in the codes).
        one_d : bool
            Whether ``Y`` was a single 1-D signal.
        """
        check_is_fitted(self)
        Y = check_array(Y, ensure_2d=False, dtype=[np.float64, np.float32], input_name="Y")
        if Y.ndim > 2:
            raise ValueError(f"Y must be 1-D or 2-D (n_samples, n_signals); got an array of shape {Y.shape}.")
        n_samples = self.dictionary_.shape[0]
        if Y.shape[0] != n_samples:
            raise ValueError(
                f"Y has {Y.shape[0]} rows but {type(self).__name__} was fitted with X of "
                f"{n_samples} samples; Y must have shape (n_samples, n_signals) = ({n_samples}, ...)."
            )
        Y2 = Y.reshape(n_samples, -1)
        if self._centre_signals:
            Y2 = Y2 - Y2.mean(axis=0)
        return Y2.astype(np.float64), Y.dtype, Y.ndim == 1
