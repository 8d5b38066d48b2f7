"""The estimators, one module per algorithm; import them from :mod:`skstexplore`."""
