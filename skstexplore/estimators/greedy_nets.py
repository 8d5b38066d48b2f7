"""OMP-Net and IHT-Net: Soft-OMP and Soft-IHT unrolled, with structure-aware weights learned from signals."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from .._core.base import SparseLinearRegressor, warn_if_not_converged
from .._core.lipschitz import spectral_norm_sq
from .._core.lstsq import LeastSquaresData
from .._core.softsort import check_temperature
from .._core.unrolled import UnrolledNetworkMixin
from .._core.validation import (
    check_bool,
    check_float,
    check_positive_int,
    check_step_size,
    resolve_n_nonzero_coefs,
)
from ..solvers.greedy_nets import network_forward, train_greedy_network

_REFERENCES = """
    .. [1] S. Mohammad-Taheri, M. J. Colbrook, S. Brugiapaglia, "Deep greedy
       unfolding: sorting out argsorting in greedy sparse recovery
       algorithms", 2025.
    .. [2] S. Prillo, J. Eisenschlos, "SoftSort: a continuous relaxation for
       the argsort operator", ICML 2020."""


class _GreedyNetwork(UnrolledNetworkMixin, SparseLinearRegressor):
    """Training, encoding and attributes shared by OMP-Net and IHT-Net."""

    _kind = None

    def _check_params(self):
        check_temperature(self.temperature)
        check_positive_int(self.max_iter, "max_iter")
        check_float(self.tol, "tol", min_val=0.0)
        check_bool(self.fit_intercept, "fit_intercept")
        check_bool(self.warm_start, "warm_start")
        if not isinstance(self.verbose, (bool, np.bool_)):
            check_positive_int(self.verbose, "verbose", min_val=0)
        check_random_state(self.random_state)

    def _config(self, design, k):
        """Network hyperparameters for :mod:`skstexplore.solvers.greedy_nets` (override to add)."""
        return {"n_nonzero_coefs": k, "temperature": float(self.temperature)}

    def fit(self, X, y, coef=None):
        """Train the weights on the signals ``y`` (columns) and encode them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The design shared by every signal.
        y : array-like of shape (n_samples,) or (n_samples, n_signals)
            Training signals.
        coef : array-like of shape (n_signals, n_features) or None, default=None
            Their known codes (``(n_features,)`` for a 1-D ``y``): the loss is
            then the mean :math:`\\|\\hat w - w^*\\|^2`; None trains on the mean
            data fit :math:`\\|y - X\\hat w\\|^2 / 2`.

        Returns
        -------
        self : object
        """
        self._check_params()
        X, design, Yc, X_offset, y_offset, y_is_1d = self._training_data(X, y)
        n_features = design.shape[1]
        coef_true = self._check_codes(coef, Yc.shape[1], n_features, y_is_1d)
        k = resolve_n_nonzero_coefs(self.n_nonzero_coefs, n_features)
        config = self._config(design, k)
        data = self._least_squares(design, Yc)
        weights, curve, n_iter, converged = train_greedy_network(
            self._kind, data, self._start_weights(n_features), config, coef_true,
            max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
        )
        self.dictionary_, self.weights_, self._config_ = design, weights, config
        self.n_nonzero_coefs_ = k
        self.train_loss_curve_ = curve
        self.n_iter_ = n_iter
        codes = network_forward(self._kind, data, weights, config)
        self._set_linear_attributes(codes.astype(X.dtype), X_offset, y_offset, y_is_1d)
        warn_if_not_converged(self, [converged])
        return self

    @staticmethod
    def _least_squares(design, Y):
        # the codes are dense: G costs n^2 per product against 2 m n through X
        gram = design.T @ design if design.shape[1] <= 2 * design.shape[0] else None
        return LeastSquaresData(design, Y, gram)

    @staticmethod
    def _check_codes(coef, n_signals, n_features, y_is_1d):
        if coef is None:
            return None
        coef = check_array(coef, ensure_2d=False, dtype=np.float64, input_name="coef")
        expected = (n_features,) if y_is_1d else (n_signals, n_features)
        if coef.shape != expected:
            raise ValueError(
                f"coef has shape {coef.shape} but y has {n_signals} signal(s) and X {n_features} features; "
                f"expected {expected} (one code per column of y)."
            )
        return coef.reshape(n_signals, n_features)

    def _start_weights(self, n_features):
        """The previous fit's weights with ``warm_start`` (same number of features), else ones."""
        if self.warm_start and hasattr(self, "weights_") and self.weights_.shape == (n_features,):
            return self.weights_.copy()
        return np.ones(n_features)

    def encode(self, Y):
        """Codes of new signals by the trained network.

        Parameters
        ----------
        Y : array-like of shape (n_samples,) or (n_samples, n_signals)
            Signals sharing the design ``X`` of :meth:`fit`; with
            ``fit_intercept`` each is centred by its own mean.

        Returns
        -------
        codes : ndarray of shape (n_features,) or (n_signals, n_features)
            Float32 for float32 ``Y``, float64 otherwise.
        """
        Y2, dtype, one_d = self._signals_to_encode(Y)
        data = self._least_squares(self.dictionary_, Y2)
        codes = network_forward(self._kind, data, self.weights_, self._config_).astype(dtype)
        return codes[0] if one_d else codes


class OMPNet(_GreedyNetwork):
    r"""OMP-Net: Soft-OMP unrolled (one layer per selected atom) with trained structure-aware weights.

    Layer :math:`t = 1, \dots, k` of the network selects a soft atom
    :math:`p_t`, the first SoftSort row of the normalised scores
    :math:`|\omega \odot X^\top r_{t-1}|`, and re-fits
    :math:`w_t = P_t^\top \arg\min_z \|X P_t^\top z - y\|` (see
    :class:`SoftOMPRegressor`). The weight vector :math:`\omega`, shared by
    every layer and initialised to ones (the untrained network is
    Soft-OMP), is trained on signals sharing the design ``X`` (the columns of
    a 2-D ``y``), with the supervised loss of the paper when their codes are
    known,

    .. math:: \mathcal{L}(\omega) = \frac1N \sum_{j=1}^N \|\hat w(y_j; \omega) - w^*_j\|_2^2,

    or the mean data fit :math:`\frac1N\sum_j \frac12\|y_j - X\hat w(y_j;
    \omega)\|^2` otherwise. When the supports of the signals share a
    structure (all inside a hidden set of indices), the learned weights peak
    on it and OMP-Net recovers signals that OMP cannot. Gradients are
    hand-derived (through SoftSort and each layer's restricted least squares)
    and training is full-batch L-BFGS with a line search that never accepts a
    non-finite or larger loss: deterministic, whatever ``random_state``.

    Read more in the :doc:`user guide </user_guide/soft_greedy>`.

    Parameters
    ----------
    n_nonzero_coefs : int or None, default=None
        Number of layers (atoms) :math:`k`; None gives ``max(int(0.1 * n_features), 1)``.
    temperature : float, default=1e-3
        SoftSort temperature, relative to the best score of each layer.
    max_iter : int, default=100
        L-BFGS iterations.
    tol : float, default=1e-4
        Training stops when the last 5 iterations decreased the loss by at most
        ``tol`` times the decrease since the start.
    fit_intercept : bool, default=True
        Centre ``X`` (columns) and each signal; :meth:`encode` uses the same
        centred design and centres each new signal by its own mean.
    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility; training uses no randomness.
    warm_start : bool, default=False
        Continue training from the previous fit's weights (same number of features).
    verbose : int or bool, default=0
        Print the training loss at every iteration.

    Attributes
    ----------
    weights_ : ndarray of shape (n_features,)
        Trained weights, normalised to a largest value of 1 (the network
        depends on them up to scale and sign).
    train_loss_curve_ : ndarray
        Training loss at the start, then after each L-BFGS iteration.
    coef_ : ndarray of shape (n_features,) or (n_signals, n_features)
        The trained network's codes of the training signals.
    intercept_ : float or ndarray of shape (n_signals,)
    n_iter_ : int
        L-BFGS iterations (at least 1, the one that evaluates the first gradient).
    n_nonzero_coefs_ : int
    dictionary_ : ndarray of shape (n_samples, n_features)
        The (centred) design the network applies.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has feature names.

    See Also
    --------
    SoftOMPRegressor : the untrained network, with given weights.
    IHTNet : the same idea on Soft-IHT.

    References
    ----------""" + _REFERENCES + r"""

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import OMPNet
    >>> from skstexplore.datasets import make_structured_sparse_signals
    >>> X, Y, coef, Y_test, coef_test, hidden = make_structured_sparse_signals(
    ...     16, 64, 3, n_hidden=6, n_signals=(100, 20), random_state=0)
    >>> net = OMPNet(3, temperature=1e-2, max_iter=30, fit_intercept=False).fit(X, Y, coef=coef)
    >>> bool(net.train_loss_curve_[-1] < net.train_loss_curve_[0])
    True
    >>> net.encode(Y_test).shape
    (20, 64)
    """

    _kind = "omp"

    def __init__(self, n_nonzero_coefs=None, *, temperature=1e-3, max_iter=100, tol=1e-4, fit_intercept=True,
                 random_state=None, warm_start=False, verbose=0):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.temperature = temperature
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose


class IHTNet(_GreedyNetwork):
    r"""IHT-Net: ``n_layers`` Soft-IHT iterations unrolled, with trained structure-aware weights.

    Layer :math:`t` computes :math:`u = w + \eta X^\top (y - X w)` and
    :math:`w \leftarrow (\mathbf{1}^\top Q) \odot u`, with :math:`Q` the
    first :math:`k` SoftSort rows of the normalised scores :math:`|\omega
    \odot u|` (see :class:`SoftIHTRegressor`), from :math:`w = 0`. The
    weight vector :math:`\omega`, shared by every layer and initialised to
    ones (the untrained network is ``n_layers`` Soft-IHT iterations), is
    trained on signals sharing the design ``X`` (the columns of a 2-D ``y``)
    with the supervised loss of the paper when their codes are known,

    .. math:: \mathcal{L}(\omega) = \frac1N \sum_{j=1}^N \|\hat w(y_j; \omega) - w^*_j\|_2^2,

    or the mean data fit :math:`\frac1N\sum_j \frac12\|y_j - X\hat w(y_j;
    \omega)\|^2` otherwise. Gradients are hand-derived and training is
    full-batch L-BFGS with a guarded line search (deterministic; never a
    non-finite or larger loss).

    Read more in the :doc:`user guide </user_guide/soft_greedy>`.

    Parameters
    ----------
    n_nonzero_coefs : int or None, default=None
        :math:`k`; None gives ``max(int(0.1 * n_features), 1)``.
    n_layers : int, default=30
        Number of Soft-IHT iterations (the paper's 30).
    step_size : "auto" or float, default="auto"
        Fixed step :math:`\eta`; ``"auto"`` is :math:`1/\|X\|_2^2` (the paper
        uses 0.5 with unit-norm columns).
    temperature : float, default=1e-3
        SoftSort temperature, relative to the best score of each layer.
    max_iter : int, default=100
        L-BFGS iterations.
    tol : float, default=1e-4
        Relative-progress halting rule of the training (as :class:`OMPNet`).
    fit_intercept : bool, default=True
    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility; training uses no randomness.
    warm_start : bool, default=False
        Continue training from the previous fit's weights.
    verbose : int or bool, default=0

    Attributes
    ----------
    weights_ : ndarray of shape (n_features,)
        Trained weights, normalised to a largest value of 1.
    step_size_ : float
        The step used.
    train_loss_curve_ : ndarray
    coef_ : ndarray of shape (n_features,) or (n_signals, n_features)
        The trained network's codes of the training signals.
    intercept_ : float or ndarray of shape (n_signals,)
    n_iter_ : int
        L-BFGS iterations (at least 1, the one that evaluates the first gradient).
    n_nonzero_coefs_ : int
    dictionary_ : ndarray of shape (n_samples, n_features)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has feature names.

    See Also
    --------
    SoftIHTRegressor : the untrained network, with given weights.
    OMPNet : the same idea on Soft-OMP.

    References
    ----------""" + _REFERENCES + r"""

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import IHTNet
    >>> from skstexplore.datasets import make_structured_sparse_signals
    >>> X, Y, coef, hidden = make_structured_sparse_signals(24, 64, 3, n_hidden=6, n_signals=100, random_state=0)
    >>> net = IHTNet(3, n_layers=10, temperature=1e-2, max_iter=20, fit_intercept=False).fit(X, Y, coef=coef)
    >>> bool(net.train_loss_curve_[-1] < net.train_loss_curve_[0])
    True
    """

    _kind = "iht"

    def __init__(self, n_nonzero_coefs=None, *, n_layers=30, step_size="auto", temperature=1e-3, max_iter=100,
                 tol=1e-4, fit_intercept=True, random_state=None, warm_start=False, verbose=0):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.n_layers = n_layers
        self.step_size = step_size
        self.temperature = temperature
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _check_params(self):
        super()._check_params()
        check_positive_int(self.n_layers, "n_layers")
        check_step_size(self.step_size)

    def _config(self, design, k):
        step = check_step_size(self.step_size)
        if step is None:
            L = spectral_norm_sq(design)
            step = 1.0 / L if L > 0 else 1.0
        self.step_size_ = step
        return {**super()._config(design, k), "step_size": step, "n_layers": self.n_layers}
