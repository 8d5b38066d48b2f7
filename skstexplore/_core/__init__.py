"""Shared numerical core: thresholding, restricted least squares, Lipschitz
constants, Lasso helpers, initialisation and the estimator base classes.

Everything here works on plain arrays with targets stacked as rows: a
coefficient array ``W`` has shape ``(n_targets, n_features)`` like ``coef_``,
and the data term ``X^T y`` is stored as ``Xty`` of the same shape.
"""
