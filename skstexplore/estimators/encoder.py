"""SparseEncoder: any estimator of the package as a sparse-coding transformer."""

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, clone
from sklearn.utils.validation import check_array, check_is_fitted, has_fit_parameter, validate_data

from .sea import SEARegressor


class SparseEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Sparse codes of signals on a dictionary, by any estimator of the package.

    In the convention of :class:`sklearn.decomposition.SparseCoder`: the rows
    of ``X`` are signals :math:`x_i \in \mathbb{R}^{n_{dims}}`, the rows of
    ``dictionary`` are atoms :math:`d_j`, and :meth:`transform` returns one
    code :math:`z_i` per signal, the wrapped estimator's solution of

    .. math:: x_i \approx D^\top z_i,

    i.e. the estimator fitted on the design ``dictionary.T`` with the signals
    as its targets (all signals at once, as multi-target regression), without
    intercept. For the k-sparse estimators :math:`z_i` minimises
    :math:`\|x_i - D^\top z\|_2^2` subject to :math:`\|z\|_0 \le k`; for the
    Lasso solvers the Lasso objective at their ``alpha``.

    Learned solvers (estimators with an ``encode`` method, such as
    :class:`~skstexplore.LearnedISTA`) are trained in :meth:`fit` on the
    signals ``X``, with ``y`` as the known codes for those whose ``fit``
    takes ``coef`` (supervised training), and :meth:`transform` applies the
    trained network. So ``GridSearchCV`` and ``cross_val_score`` split the
    signals, and the encoder is a ``Pipeline`` step (codes, then a
    classifier). For the other estimators :meth:`fit` only validates.

    Parameters
    ----------
    estimator : estimator, default=None
        Any estimator of the package (cloned, with ``fit_intercept=False``).
        None means ``SEARegressor(init="omp")``.
    dictionary : array-like of shape (n_components, n_dims), default=None
        Atoms as rows. None means the identity (``n_components = n_dims``):
        a sparse approximation of each signal itself.

    Attributes
    ----------
    estimator_ : estimator
        The clone used: trained on the signals for a learned solver, unfitted
        otherwise (each :meth:`transform` fits a clone of it).
    components_ : ndarray of shape (n_components, n_dims)
        The dictionary used.
    n_components_ : int
    n_features_in_ : int
        ``n_dims``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has feature names that are all strings.

    See Also
    --------
    sklearn.decomposition.SparseCoder : the same convention with OMP, LARS,
        coordinate descent or thresholding.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import SEARegressor, SparseEncoder
    >>> rng = np.random.default_rng(0)
    >>> dictionary = rng.standard_normal((30, 20))
    >>> codes_true = np.zeros((4, 30))
    >>> codes_true[:, [3, 11]] = [1.0, -2.0]
    >>> signals = codes_true @ dictionary
    >>> encoder = SparseEncoder(SEARegressor(2, init="omp"), dictionary=dictionary)
    >>> codes = encoder.fit_transform(signals)
    >>> codes.shape
    (4, 30)
    >>> bool(np.allclose(codes, codes_true))
    True
    """

    def __init__(self, estimator=None, *, dictionary=None):
        self.estimator = estimator
        self.dictionary = dictionary

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        return self.n_components_

    def _check_dictionary(self, n_dims, dtype):
        if self.dictionary is None:
            return np.eye(n_dims, dtype=dtype)
        D = check_array(self.dictionary, dtype=[np.float64, np.float32], input_name="dictionary")
        if D.shape[1] != n_dims:
            raise ValueError(
                f"dictionary has shape {D.shape} but X has {n_dims} features; the dictionary must be "
                f"(n_components, n_dims) = (..., {n_dims}), atoms as rows."
            )
        return D

    def _make_estimator(self):
        if self.estimator is not None and not (hasattr(self.estimator, "fit") and hasattr(self.estimator, "get_params")):
            raise TypeError(f"estimator must be an estimator of the package with fit; got {self.estimator!r}.")
        estimator = clone(SEARegressor(init="omp") if self.estimator is None else self.estimator)
        if "fit_intercept" in estimator.get_params(deep=False):
            estimator.set_params(fit_intercept=False)
        return estimator

    def fit(self, X, y=None):
        """Validate, and train a learned solver on the signals ``X``.

        Parameters
        ----------
        X : array-like of shape (n_signals, n_dims)
            Training signals, one per row.
        y : array-like of shape (n_signals, n_components), default=None
            Known codes of the signals, used by learned solvers whose ``fit``
            takes ``coef`` (supervised training); ignored otherwise.

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        D = self._check_dictionary(X.shape[1], X.dtype)
        estimator = self._make_estimator()
        if _is_learned(estimator):
            fit_params = {}
            if y is not None and has_fit_parameter(estimator, "coef"):
                fit_params["coef"] = self._check_codes(y, X.shape[0], D.shape[0])
            estimator.fit(D.T.astype(X.dtype), X.T, **fit_params)
        self.estimator_ = estimator
        self.components_ = D
        self.n_components_ = D.shape[0]
        return self

    @staticmethod
    def _check_codes(y, n_signals, n_components):
        codes = check_array(y, dtype=[np.float64, np.float32], input_name="y")
        if codes.shape != (n_signals, n_components):
            raise ValueError(
                f"y (the known codes) has shape {codes.shape}; expected (n_signals, n_components) = "
                f"({n_signals}, {n_components})."
            )
        return codes

    def transform(self, X):
        """Sparse codes of the signals ``X``.

        Parameters
        ----------
        X : array-like of shape (n_signals, n_dims)

        Returns
        -------
        codes : ndarray of shape (n_signals, n_components)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        design = self.components_.T.astype(X.dtype)
        if _is_learned(self.estimator_):
            codes = self.estimator_.encode(X.T)
        else:
            codes = clone(self.estimator_).fit(design, X.T).coef_
        return np.asarray(codes, dtype=X.dtype).reshape(X.shape[0], self.n_components_)


def _is_learned(estimator):
    """Learned solvers code new signals with a trained network (``encode``)."""
    return hasattr(estimator, "encode")
