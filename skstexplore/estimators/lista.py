"""Learned ISTA: an unfolded ISTA network trained to solve the Lasso fast."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._core.base import SparseLinearRegressor, per_target, warn_if_not_converged
from .._core.memory import check_memory
from .._core.units import DataUnits
from .._core.unrolled import UnrolledNetworkMixin
from .._core.validation import check_bool, check_float, check_option, check_positive_int, check_random_state_param
from ..solvers.ista import lipschitz_constant
from ..solvers.lista import (
    PARAMETRIZATIONS,
    alista_weights,
    learned_ista,
    n_layers_of,
    network_forward,
    training_memory_bytes,
)


class LearnedISTA(UnrolledNetworkMixin, SparseLinearRegressor):
    r"""Unfolded ISTA network whose layers are learned to solve the Lasso in few steps.

    A network of ``n_layers`` layers, each an ISTA-like step, maps a signal
    :math:`y` to a code :math:`z_T(y)`. Its layer parameters are trained on
    signals that share the design ``X`` (the columns of a 2-D ``y``) to
    minimise the mean Lasso objective of its output, in scikit-learn's scaling

    .. math:: F_y(z) = \frac{1}{2 n_{\mathrm{samples}}} \|y - X z\|_2^2 + \alpha \|z\|_1,

    so that ``T`` layers do what many ISTA iterations do for new signals of
    the same kind (:meth:`encode`). Layers, with :math:`n` = ``n_samples``,
    :math:`L = \|X\|_2^2/n` and :math:`\mathrm{ST}` soft thresholding:

    * ``"step"`` (SLISTA, Ablin et al. 2019): :math:`z \leftarrow
      \mathrm{ST}(z - a_t X^\top(Xz - y)/n, \alpha a_t)`, one step per layer;
    * ``"alista"`` (Liu et al. 2019): :math:`z \leftarrow \mathrm{ST}(z - a_t
      W^\top(Xz - y)/n, \theta_t)` with ALISTA's fixed analytic :math:`W`
      (:func:`skstexplore.solvers.lista.alista_weights`), a step and a threshold
      per layer;
    * ``"coupled"`` (LISTA-CP, Chen et al. 2018): :math:`z \leftarrow
      \mathrm{ST}(z - W_t^\top(Xz - y), \theta_t)`, a matrix and per-atom
      thresholds per layer;
    * ``"lista"`` (Gregor & LeCun 2010): :math:`z \leftarrow \mathrm{ST}(W^z_t z
      + W^y_t y, \theta_t)`.

    Untrained, every network (``alista`` with :math:`W = X`) computes
    ``n_layers`` ISTA iterations from zero. Training (NumPy, hand-derived
    gradients) is L-BFGS with a backtracking line search that never accepts a
    non-finite or larger loss (thresholds are clipped at zero, where soft
    thresholding stops being a proximal operator; steps are unconstrained);
    the matrix parametrizations are trained layer by layer (stage k trains
    the first k layers). Training draws no random numbers: it is
    deterministic, whatever ``random_state``.

    Parameters
    ----------
    alpha : float, default=1.0
        Lasso regularisation (scikit-learn's scaling; ``lambda = alpha *
        n_samples`` in the papers' scaling).
    n_layers : int, default=10
        Depth T of the network.
    parametrization : {"step", "alista", "coupled", "lista"}, default="step"
    max_iter : int, default=100
        L-BFGS iterations (per stage of the layer-by-layer schedule).
    tol : float, default=1e-4
        Training stops when the last 5 iterations decreased the loss by at
        most ``tol`` times the decrease since the start of training (of the
        stage).
    fit_intercept : bool, default=True
        Centre ``X`` (columns) and each signal (its mean) before coding, as
        :class:`sklearn.linear_model.Lasso` does for each target. The layers
        then apply the training design centred with the training column
        means; :meth:`encode` uses that same design and centres each new
        signal by its own mean, so that ``encode`` of a training signal is its
        row of ``coef_``.
    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility; the full-batch training from
        the ISTA initialisation is deterministic and uses no randomness.
    warm_start : bool, default=False
        Continue training from the previous fit's parameters (same
        parametrization, depth and data shape; otherwise start from ISTA).
    verbose : int or bool, default=0
        Print the training loss at every iteration.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        The trained network's codes of the training signals.
    intercept_ : float or ndarray of shape (n_targets,)
    steps_ : ndarray of shape (n_layers,)
        Learned steps :math:`a_t` (``"step"`` and ``"alista"``), in the scale of
        ISTA's step :math:`1/L`.
    thresholds_ : ndarray of shape (n_layers,) or (n_layers, n_features)
        Thresholds :math:`\theta_t` (``alpha * steps_`` for ``"step"``).
    weights_ : ndarray
        ``"alista"``: the analytic :math:`W` (n_samples, n_features);
        ``"coupled"``: :math:`W_t` (n_layers, n_samples, n_features);
        ``"lista"``: :math:`W^z_t` (n_layers, n_features, n_features).
    input_weights_ : ndarray of shape (n_layers, n_features, n_samples)
        :math:`W^y_t` (``"lista"`` only).
    dictionary_ : ndarray of shape (n_samples, n_features)
        The (centred) design the layers apply.
    lipschitz_ : float
        :math:`L = \|X\|_2^2 / n` of ``dictionary_``.
    train_loss_curve_ : ndarray
        Mean Lasso objective over the training signals at the start of
        training, then after every L-BFGS iteration (stages concatenated for
        the layer-by-layer schedule, each the loss of its k-layer network).
    n_iter_ : int
        L-BFGS iterations over all stages.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has feature names.

    See Also
    --------
    OracleISTALasso : ISTA, FISTA and Oracle ISTA solvers of the same objective.
    sklearn.linear_model.Lasso : Coordinate descent for the same objective.

    Notes
    -----
    Memory: the trainable parameters number :math:`T` (``"step"``),
    :math:`2T` (``"alista"``), :math:`T(mn + n)` (``"coupled"``) and
    :math:`T(n^2 + nm + n)` (``"lista"``), for :math:`T` = ``n_layers``,
    :math:`m` samples and :math:`n` features; L-BFGS keeps about 30 vectors of
    that size, and the backward pass :math:`3(T + 2)` arrays of shape
    ``(n_signals, n_features)``. ``fit`` computes this need
    (``skstexplore.solvers.lista.training_memory_bytes``) before
    allocating anything and raises ``MemoryError`` with the figure when it
    exceeds the machine's memory (e.g. ``"lista"`` with 20000 features needs
    about 900 GiB for 10 layers). Nothing grows with ``max_iter``.

    References
    ----------
    .. [1] P. Ablin, T. Moreau, M. Massias, A. Gramfort, "Learning step sizes
       for unfolded sparse coding", NeurIPS 2019.
    .. [2] K. Gregor, Y. LeCun, "Learning fast approximations of sparse
       coding", ICML 2010.
    .. [3] X. Chen, J. Liu, Z. Wang, W. Yin, "Theoretical linear convergence of
       unfolded ISTA and its practical weights and thresholds", NeurIPS 2018.
    .. [4] J. Liu, X. Chen, Z. Wang, W. Yin, "ALISTA: Analytic weights are as
       good as learned weights in LISTA", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skstexplore import LearnedISTA
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20, 50))
    >>> Y_train, Y_test = rng.standard_normal((20, 200)), rng.standard_normal((20, 5))
    >>> model = LearnedISTA(alpha=0.1, n_layers=5).fit(X, Y_train)
    >>> bool(model.train_loss_curve_[-1] < model.train_loss_curve_[0])
    True
    >>> model.encode(Y_test).shape
    (5, 50)
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        n_layers=10,
        parametrization="step",
        max_iter=100,
        tol=1e-4,
        fit_intercept=True,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.alpha = alpha
        self.n_layers = n_layers
        self.parametrization = parametrization
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _check_params(self):
        alpha = check_float(self.alpha, "alpha", min_val=0.0)
        if not np.isfinite(alpha):
            raise ValueError(f"alpha must be finite; got alpha={self.alpha!r}.")
        check_positive_int(self.n_layers, "n_layers")
        check_option(self.parametrization, "parametrization", PARAMETRIZATIONS)
        check_positive_int(self.max_iter, "max_iter")
        check_float(self.tol, "tol", min_val=0.0)
        check_bool(self.fit_intercept, "fit_intercept")
        check_bool(self.warm_start, "warm_start")
        if not isinstance(self.verbose, (bool, np.bool_)):
            check_positive_int(self.verbose, "verbose", min_val=0)
        check_random_state_param(self.random_state)
        return alpha

    def fit(self, X, y):
        """Train the network on the signals ``y`` (columns) and encode them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The design (dictionary) shared by every signal.
        y : array-like of shape (n_samples,) or (n_samples, n_signals)
            Training signals.

        Returns
        -------
        self : object
        """
        alpha = self._check_params()
        X, design, Yc, X_offset, y_offset, y_is_1d = self._training_data(X, y)
        self._check_memory(X.shape, Yc.shape[1])
        # train in unit scale: with X = 2**ex Xi and y = 2**ey Yi, Lasso(X, y, alpha) is
        # 2**(ey - ex) Lasso(Xi, Yi, 2**-(ex + ey) alpha), exactly (powers of two)
        units = DataUnits(design, Yc)
        result = learned_ista(
            units.scale_X(design),
            units.scale_Y(Yc),
            float(np.ldexp(alpha, -(units.ex + units.ey))),
            n_layers=self.n_layers,
            parametrization=self.parametrization,
            params=_params_in_units(self._warm_start_params(design), self.parametrization, units, to_user=False),
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
        )
        self.dictionary_ = design
        self.lipschitz_ = lipschitz_constant(design)
        params = _params_in_units(result.extras["params"], self.parametrization, units, to_user=True)
        self._set_network_attributes(params, alpha)
        self.train_loss_curve_ = units.residual_sq_to_user(result.extras["loss_curve"])
        result.coef = units.coef_to_user(result.coef)
        self.n_iter_ = per_target(result.n_iter, True)
        self._set_linear_attributes(result.coef.astype(X.dtype), X_offset, y_offset, y_is_1d)
        warn_if_not_converged(self, result.converged[:1])
        return self

    def _check_memory(self, shape, n_signals):
        needed = training_memory_bytes(*shape, n_signals, self.n_layers, self.parametrization)
        check_memory(
            needed,
            f"{type(self).__name__}(parametrization={self.parametrization!r}, n_layers={self.n_layers}) "
            f"on {shape[1]} features and {n_signals} signals",
            'use parametrization="step" or "alista" (a few parameters per layer), fewer layers or features.',
        )

    def _warm_start_params(self, design):
        """The previous fit's parameters when ``warm_start`` can continue from them, else None."""
        if not (self.warm_start and hasattr(self, "_params")):
            return None
        params = self._params
        same_network = (
            self._fitted_parametrization == self.parametrization
            and n_layers_of(params) == self.n_layers
            and self.dictionary_.shape == design.shape
        )
        if not same_network:
            return None
        params = {key: value.copy() for key, value in params.items()}
        if self.parametrization == "alista":
            params["weights"] = alista_weights(design)
        return params

    def _set_network_attributes(self, params, alpha):
        self._params, self._fitted_alpha = params, alpha
        self._fitted_parametrization = self.parametrization
        for name in ("steps", "thresholds", "weights", "input_weights"):
            if hasattr(self, name + "_"):
                delattr(self, name + "_")
        for name, value in params.items():
            setattr(self, name + "_", value)
        if self.parametrization == "step":
            self.thresholds_ = alpha * params["steps"]

    def encode(self, Y, n_layers=None):
        """Codes of new signals by the trained network.

        Parameters
        ----------
        Y : array-like of shape (n_samples,) or (n_samples, n_signals)
            Signals sharing the design ``X`` of :meth:`fit`; with
            ``fit_intercept`` each is centred by its own mean.
        n_layers : int, optional
            Apply only the first ``n_layers`` trained layers (all by default),
            e.g. to follow the codes layer by layer.

        Returns
        -------
        codes : ndarray of shape (n_features,) or (n_signals, n_features)
            Float32 for float32 ``Y``, float64 otherwise.
        """
        check_is_fitted(self)
        depth = len(self.thresholds_)
        n_layers = depth if n_layers is None else check_positive_int(n_layers, "n_layers", max_val=depth)
        Y2, dtype, one_d = self._signals_to_encode(Y)
        codes = network_forward(self.dictionary_, Y2, self._params, self._fitted_alpha,
                                self._fitted_parametrization, n_layers)
        codes = codes.astype(dtype)
        return codes[0] if one_d else codes


# Exponents (times ex, ey) of the factor from internal to user units of each parameter:
# a layer maps codes (units 2**(ey - ex)) from signals (2**ey) through the design (2**ex).
_PARAM_UNITS = {
    "steps": (-2, 0),
    "thresholds": (-1, 1),
    "input_weights": (-1, 0),
    ("weights", "alista"): (1, 0),
    ("weights", "coupled"): (-1, 0),
    ("weights", "lista"): (0, 0),
}


def _params_in_units(params, parametrization, units, *, to_user):
    """Copy of ``params`` converted between internal and user units (see :class:`DataUnits`)."""
    if params is None:
        return None
    sign = 1 if to_user else -1
    converted = {}
    for key, value in params.items():
        ax, ay = _PARAM_UNITS.get(key, _PARAM_UNITS.get((key, parametrization)))
        converted[key] = np.ldexp(value, sign * (ax * units.ex + ay * units.ey))
    return converted
