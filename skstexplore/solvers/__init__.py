"""Pure solver functions on plain arrays (no validation, no scikit-learn objects).

Conventions: ``X`` of shape (n_samples, n_features), ``Y`` of shape
(n_samples, n_targets) (each column an independent problem sharing ``X``),
coefficients of shape (n_targets, n_features). Each solver returns a
:class:`skstexplore._core.base.SolverResult`.
"""
