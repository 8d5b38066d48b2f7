r"""Learned ISTA: unfolded ISTA networks trained on the Lasso objective.

A network of :math:`T` layers maps a signal :math:`y` to a code :math:`z_T`
by :math:`z_0 = 0`, :math:`z_{t+1} = \mathrm{ST}(u_t, \theta_t)` where the
pre-activation :math:`u_t` depends on the parametrization (with
:math:`n` = ``n_samples`` and the gradient scaling of scikit-learn's Lasso):

* ``step`` (SLISTA): :math:`u = z - a_t X^\top(Xz - y)/n`,
  :math:`\theta_t = \alpha a_t`; initialised with :math:`a_t = 1/L`;
* ``alista``: :math:`u = z - a_t W^\top(Xz - y)/n`, :math:`\theta_t` free;
  :math:`a_t = 1/L`, :math:`\theta_t = \alpha/L`;
* ``coupled`` (LISTA-CP): :math:`u = z - W_t^\top(Xz - y)`, :math:`\theta_t`
  per atom; :math:`W_t = X/(nL)`, :math:`\theta_t = \alpha/L`;
* ``lista``: :math:`u = W^z_t z + W^y_t y`, :math:`\theta_t` per atom;
  :math:`W^z_t = I - X^\top X/(nL)`, :math:`W^y_t = X^\top/(nL)`,
  :math:`\theta_t = \alpha/L`,

with :math:`L = \|X\|_2^2 / n` the Lipschitz constant of the gradient of
:math:`\frac{1}{2n}\|y - Xz\|^2`, so that every untrained network is exactly
:math:`T` iterations of ISTA (for ``alista`` when :math:`W = X`). ``alista``
uses the fixed analytic matrix of :func:`alista_weights`.

Training minimises the mean Lasso objective of the output over the training
signals (unsupervised, Ablin et al. 2019),

.. math:: \mathcal{L}(\Theta) = \frac{1}{N} \sum_{j=1}^N
          \frac{1}{2n}\|y_j - X z_T(y_j; \Theta)\|_2^2 + \alpha \|z_T(y_j; \Theta)\|_1,

with hand-derived vector-Jacobian products through every layer and L-BFGS
with a backtracking (Armijo) line search that rejects any step giving a
non-finite or larger loss. Signals are processed as a batch: ``Y`` of shape
(n_samples, n_signals), codes of shape (n_signals, n_features).

References
----------
.. [1] P. Ablin, T. Moreau, M. Massias, A. Gramfort, "Learning step sizes for
   unfolded sparse coding", NeurIPS 2019.
.. [2] K. Gregor, Y. LeCun, "Learning fast approximations of sparse coding",
   ICML 2010.
.. [3] X. Chen, J. Liu, Z. Wang, W. Yin, "Theoretical linear convergence of
   unfolded ISTA and its practical weights and thresholds", NeurIPS 2018.
.. [4] J. Liu, X. Chen, Z. Wang, W. Yin, "ALISTA: Analytic weights are as good
   as learned weights in LISTA", ICLR 2019.
"""

from collections import deque

import numpy as np
from scipy.linalg import lstsq

from .._core.base import SolverResult
from .._core.lasso import lasso_objective
from .._core.thresholding import soft_threshold
from .ista import lipschitz_constant

PARAMETRIZATIONS = ("step", "alista", "coupled", "lista")

# Learned parameters of each parametrization, every array stacked over layers.
TRAINABLE = {
    "step": ("steps",),
    "alista": ("steps", "thresholds"),
    "coupled": ("weights", "thresholds"),
    "lista": ("weights", "input_weights", "thresholds"),
}


def alista_weights(X):
    r"""ALISTA's analytic weight matrix :math:`W` (Liu et al. 2019).

    Column :math:`w_j` minimises the interference :math:`\sum_{i \ne j}
    (w_j^\top x_i)^2 = \|X^\top w_j\|^2 - (w_j^\top x_j)^2` subject to
    :math:`w_j^\top x_j = \|x_j\|^2` (ALISTA's constraint
    :math:`\mathrm{diag}(W^\top X) = 1`, rescaled so that :math:`W = X` would
    give ISTA). The Lagrange conditions :math:`X X^\top w_j \propto x_j` give
    the closed form

    .. math:: w_j = \frac{\|x_j\|^2}{x_j^\top (X X^\top)^+ x_j} (X X^\top)^+ x_j,

    computed with one least-squares solve (minimum norm, deterministic when
    :math:`X X^\top` is singular). A zero column gets a zero weight.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    W : ndarray of shape (n_samples, n_features)
    """
    P = lstsq(X @ X.T, X)[0]
    leverage = np.einsum("ij,ij->j", X, P)
    col_sq = np.einsum("ij,ij->j", X, X)
    scale = np.divide(col_sq, leverage, out=np.zeros_like(col_sq), where=leverage > 0)
    return (P * scale).astype(X.dtype, copy=False)


def initial_parameters(X, alpha, n_layers, parametrization, lipschitz=None):
    """Parameters of a network that computes ``n_layers`` ISTA iterations.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    alpha : float
    n_layers : int
    parametrization : {"step", "alista", "coupled", "lista"}
    lipschitz : float, optional
        :func:`skstexplore.solvers.ista.lipschitz_constant` of ``X`` when already known.

    Returns
    -------
    params : dict of ndarray
        ``steps`` (T,), ``thresholds`` (T,) or (T, n_features), ``weights``
        (n_samples, n_features) for ``alista`` (fixed), (T, n_samples,
        n_features) for ``coupled``, (T, n_features, n_features) for
        ``lista``, and ``input_weights`` (T, n_features, n_samples) for
        ``lista``.
    """
    n_samples, n_features = X.shape
    L = lipschitz_constant(X) if lipschitz is None else lipschitz
    T, dtype = n_layers, X.dtype
    if parametrization == "step":
        return {"steps": np.full(T, 1.0 / L, dtype=dtype)}
    if parametrization == "alista":
        return {
            "steps": np.full(T, 1.0 / L, dtype=dtype),
            "thresholds": np.full(T, alpha / L, dtype=dtype),
            "weights": alista_weights(X),
        }
    thresholds = np.full((T, n_features), alpha / L, dtype=dtype)
    if parametrization == "coupled":
        return {"weights": np.repeat(X[None] / (n_samples * L), T, axis=0), "thresholds": thresholds}
    weights = np.eye(n_features, dtype=dtype) - X.T @ X / (n_samples * L)
    return {
        "weights": np.repeat(weights[None], T, axis=0),
        "input_weights": np.repeat(X.T[None] / (n_samples * L), T, axis=0),
        "thresholds": thresholds,
    }


def n_layers_of(params):
    """Depth of the network described by ``params``."""
    return len(params["steps"] if "steps" in params else params["thresholds"])


# Layers, with signals as rows: Z (n_signals, n_features), Yt = Y.T. Each
# forward returns (U, threshold, saved) and each backward takes the gradient
# gU of the loss with respect to U and g_threshold, and returns the gradient
# with respect to Z (None when not needed) and the layer's parameter gradients.


def _step_forward(t, Z, Yt, X, params, alpha):
    a = params["steps"][t]
    G = (Z @ X.T - Yt) @ X / X.shape[0]
    return Z - a * G, alpha * a, G


def _step_backward(t, gU, g_thr, G, X, params, alpha, Z, Yt, need_gZ):
    a = params["steps"][t]
    grads = {"steps": -np.vdot(gU, G) + alpha * g_thr}
    gZ = gU - a * ((gU @ X.T) @ X) / X.shape[0] if need_gZ else None
    return gZ, grads


def _alista_forward(t, Z, Yt, X, params, alpha):
    a = params["steps"][t]
    G = (Z @ X.T - Yt) @ params["weights"] / X.shape[0]
    return Z - a * G, params["thresholds"][t], G


def _alista_backward(t, gU, g_thr, G, X, params, alpha, Z, Yt, need_gZ):
    a = params["steps"][t]
    grads = {"steps": -np.vdot(gU, G), "thresholds": g_thr}
    gZ = gU - a * ((gU @ params["weights"].T) @ X) / X.shape[0] if need_gZ else None
    return gZ, grads


def _coupled_forward(t, Z, Yt, X, params, alpha):
    R = Z @ X.T - Yt
    return Z - R @ params["weights"][t], params["thresholds"][t], R


def _coupled_backward(t, gU, g_thr, R, X, params, alpha, Z, Yt, need_gZ):
    grads = {"weights": -(R.T @ gU), "thresholds": g_thr}
    gZ = gU - (gU @ params["weights"][t].T) @ X if need_gZ else None
    return gZ, grads


def _lista_forward(t, Z, Yt, X, params, alpha):
    U = Z @ params["weights"][t].T + Yt @ params["input_weights"][t].T
    return U, params["thresholds"][t], None


def _lista_backward(t, gU, g_thr, saved, X, params, alpha, Z, Yt, need_gZ):
    grads = {"weights": gU.T @ Z, "input_weights": gU.T @ Yt, "thresholds": g_thr}
    gZ = gU @ params["weights"][t] if need_gZ else None
    return gZ, grads


_LAYERS = {
    "step": (_step_forward, _step_backward),
    "alista": (_alista_forward, _alista_backward),
    "coupled": (_coupled_forward, _coupled_backward),
    "lista": (_lista_forward, _lista_backward),
}


def network_forward(X, Y, params, alpha, parametrization, n_layers=None, *, return_trace=False):
    r"""Codes of the signals ``Y`` computed by the first ``n_layers`` layers.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_signals)
    params : dict
        As returned by :func:`initial_parameters`.
    alpha : float
    parametrization : {"step", "alista", "coupled", "lista"}
    n_layers : int, optional
        Apply only the first layers (all by default).
    return_trace : bool
        Also return what the backward pass needs: the inputs, pre-activations,
        thresholds (before clipping) and saved products of every layer.

    Notes
    -----
    Soft thresholding is the proximal operator of :math:`\theta\|\cdot\|_1`
    only for :math:`\theta \ge 0`; thresholds are clipped at zero,
    :math:`\mathrm{ST}(u, \max(\theta_t, 0))`, so that an unconstrained
    optimiser can push a threshold below zero without changing what a layer
    means (the gradient of a negative threshold is then zero).

    Returns
    -------
    Z : ndarray of shape (n_signals, n_features)
    trace : list of (Z_in, U, threshold, saved), only with ``return_trace``
    """
    forward = _LAYERS[parametrization][0]
    n_layers = n_layers_of(params) if n_layers is None else n_layers
    Yt = np.ascontiguousarray(Y.T)
    Z = np.zeros((Yt.shape[0], X.shape[1]), dtype=np.result_type(X, Y))
    trace = []
    for t in range(n_layers):
        U, threshold, saved = forward(t, Z, Yt, X, params, alpha)
        if return_trace:
            trace.append((Z, U, threshold, saved))
        Z = soft_threshold(U, np.maximum(threshold, 0))
    return (Z, trace) if return_trace else Z


def _threshold_gradient(gU, U, threshold):
    r""":math:`\partial \mathcal{L} / \partial \theta` from :math:`\partial_\theta \mathrm{ST}(u, \theta) = -\mathrm{sign}(u)` on the support.

    Zero where the threshold is clipped (:math:`\theta < 0`); at
    :math:`\theta = 0` the right derivative, so that a zero threshold can grow.
    """
    g = -(gU * np.sign(U))
    g = g.sum() if np.ndim(threshold) == 0 else g.sum(axis=0)
    return g * (threshold >= 0)


def loss_and_gradient(X, Y, params, alpha, parametrization, n_layers=None):
    r"""Mean Lasso objective of the network's codes and its gradient.

    The backward pass applies the chain rule layer by layer: through soft
    thresholding, :math:`\partial z_{t+1} / \partial u_t = \mathbb{1}[|u_t| >
    \theta_t]` and :math:`\partial z_{t+1} / \partial \theta_t =
    -\mathrm{sign}(u_t) \mathbb{1}[|u_t| > \theta_t]` (thresholds clipped at
    zero, see :func:`network_forward`); then through each
    layer's affine map (its transposed matrices). The loss is differentiable
    wherever no :math:`|u_t|` equals its threshold.

    Returns
    -------
    loss : float
    grads : dict of ndarray
        Gradients of the trainable parameters (:data:`TRAINABLE`), the first
        ``n_layers`` layers only.
    """
    n_layers = n_layers_of(params) if n_layers is None else n_layers
    backward = _LAYERS[parametrization][1]
    Z, trace = network_forward(X, Y, params, alpha, parametrization, n_layers, return_trace=True)
    n_samples, n_signals = Y.shape
    R = Y - X @ Z.T
    loss = lasso_objective(X, Y, Z, alpha, R=R).mean()
    gZ = (alpha * np.sign(Z) - (R.T @ X) / n_samples) / n_signals
    Yt = np.ascontiguousarray(Y.T)
    grads = {key: np.zeros_like(params[key][:n_layers]) for key in TRAINABLE[parametrization]}
    for t in reversed(range(n_layers)):
        Z_in, U, threshold, saved = trace[t]
        gU = gZ * (np.abs(U) > np.maximum(threshold, 0))
        g_thr = _threshold_gradient(gU, U, threshold)
        gZ, layer_grads = backward(t, gU, g_thr, saved, X, params, alpha, Z_in, Yt, t > 0)
        for key, value in layer_grads.items():
            grads[key][t] = value
    return float(loss), grads


def parameter_scales(X, parametrization, lipschitz=None):
    """Factors that bring every trainable parameter to order one at the ISTA initialisation.

    The optimiser works on ``params[key] * scale[key]``: steps and thresholds
    in units of ``1/L`` and weight matrices relative to ``X/(nL)`` so that
    L-BFGS sees comparable curvatures across parameter groups.
    """
    L = lipschitz_constant(X) if lipschitz is None else lipschitz
    n_samples = X.shape[0]
    scales = {"steps": L, "thresholds": L, "input_weights": n_samples * L}
    scales["weights"] = n_samples * L if parametrization == "coupled" else 1.0
    return {key: scales[key] for key in TRAINABLE[parametrization]}


def _pack(params, keys, n_layers, scales):
    return np.concatenate([(params[key][:n_layers] * scales[key]).ravel() for key in keys])


def _unpack(vector, params, keys, n_layers, scales):
    """Copy of ``params`` whose first ``n_layers`` layers of ``keys`` come from ``vector``."""
    new = dict(params)
    start = 0
    for key in keys:
        block = params[key][:n_layers]
        stop = start + block.size
        new[key] = params[key].copy()
        new[key][:n_layers] = vector[start:stop].reshape(block.shape) / scales[key]
        start = stop
    return new


def _two_loop_direction(g, memory):
    """L-BFGS direction :math:`-H g` from the stored curvature pairs (two-loop recursion)."""
    q = g.copy()
    coefs = []
    for s, y, rho in reversed(memory):
        c = rho * (s @ q)
        q -= c * y
        coefs.append(c)
    s, y, _ = memory[-1]
    q *= (s @ y) / (y @ y)
    for (s, y, rho), c in zip(memory, reversed(coefs)):
        q += (c - rho * (y @ q)) * s
    return -q


def minimize_lbfgs(fun, x0, *, max_iter, tol, n_pairs=10, first_step=0.1, window=5, callback=None):
    r"""L-BFGS with a backtracking line search that never accepts a non-finite loss.

    Each iteration tries the L-BFGS direction with unit step (the first one
    ``-g`` scaled so that its largest entry moves by ``first_step``) and halves
    the step until the Armijo condition :math:`f(x + s d) \le f(x) + 10^{-4} s
    g^\top d` holds with finite values; a non-descent direction resets the
    memory. Training halts when the last ``window`` iterations decreased the
    loss by at most ``tol`` times the decrease achieved since the start,
    :math:`f_{k-w} - f_k \le \mathrm{tol}\,(f_0 - f_k)`, or after
    ``max_iter`` iterations. The rule is relative to the progress made, not to
    :math:`f`, whose unknown minimum (the mean Lasso optimum for the unfolded
    losses) can dwarf what is left to gain.

    Parameters
    ----------
    fun : callable
        ``x -> (f, grad)``.
    x0 : ndarray
        Starting point, with a finite loss.
    max_iter : int
    tol : float
    window : int
        Iterations over which the decrease is measured for ``tol``.
    callback : callable, optional
        Called as ``callback(iteration, f, step)`` after each accepted step.

    Returns
    -------
    x : ndarray
        The last accepted point (finite loss, never above ``f(x0)``).
    losses : list of float
        ``f(x0)`` then the loss after each iteration.
    converged : bool
        Whether the ``tol`` rule or a vanishing gradient stopped it.

    Raises
    ------
    FloatingPointError
        When the loss or gradient at ``x0`` is not finite.
    """
    x = x0
    f, g = fun(x)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise FloatingPointError(f"the training loss at the starting parameters is not finite ({f}).")
    losses = [f]
    memory = deque(maxlen=n_pairs)
    for iteration in range(1, max_iter + 1):
        g_max = np.abs(g).max(initial=0.0)
        if g_max == 0:
            return x, losses, True
        if memory:
            d = _two_loop_direction(g, memory)
            slope = g @ d
            # a non-descent or non-finite direction (curvature pairs lost to under/overflow) resets
            if not (slope < 0 and np.all(np.isfinite(d))):
                memory.clear()
        if not memory:
            # normalise before scaling: first_step / g_max overflows for a subnormal gradient
            d = -(g / g_max) * first_step
            slope = g @ d
        accepted = _backtrack(fun, x, f, d, slope)
        if accepted is None:
            # no representable step decreases the loss: x is optimal to precision
            return x, losses, True
        step, x_new, f_new, g_new = accepted
        s, y = x_new - x, g_new - g
        sy = s @ y
        if np.isfinite(sy) and sy > 1e-12 * np.sqrt((s @ s) * (y @ y)):
            memory.append((s, y, 1.0 / sy))
        x, f, g = x_new, f_new, g_new
        losses.append(f)
        if callback is not None:
            callback(iteration, f, step)
        if iteration >= window and losses[-1 - window] - f <= tol * (losses[0] - f):
            return x, losses, True
    return x, losses, False


# Halvings of the step before the line search gives up (2**-60 ~ 1e-18 of the first trial).
_MAX_HALVINGS = 60


def _backtrack(fun, x, f, d, slope):
    """Armijo backtracking from the unit step: ``(step, x_new, f_new, g_new)``, or None if none is accepted.

    Bounded: at most ``_MAX_HALVINGS`` halvings, and it stops as soon as the
    move is below the precision of ``x`` (the comparison is written so that a
    NaN also stops it).
    """
    x_size = max(np.abs(x).max(initial=0.0), 1.0)
    d_size = np.abs(d).max(initial=0.0)
    step = 1.0
    for _ in range(_MAX_HALVINGS):
        if not step * d_size > 1e-14 * x_size:
            return None
        x_new = x + step * d
        f_new, g_new = fun(x_new)
        if np.isfinite(f_new) and np.all(np.isfinite(g_new)) and f_new <= f + 1e-4 * step * slope:
            return step, x_new, f_new, g_new
        step *= 0.5
    return None


def training_memory_bytes(n_samples, n_features, n_signals, n_layers, parametrization, n_pairs=10):
    r"""Bytes needed to train a network (float64), for checking before any allocation.

    The trainable parameters number :math:`T` (``step``), :math:`2T`
    (``alista``), :math:`T(mn + n)` (``coupled``) and :math:`T(n^2 + nm + n)`
    (``lista``), with :math:`m` = ``n_samples``, :math:`n` = ``n_features``;
    L-BFGS keeps ``2 n_pairs`` vectors of that size and about ten more
    (iterate, gradient, direction, trial point, parameter copies). The forward
    pass stores three (n_signals, n_features) arrays per layer for the backward
    pass, and the fixed matrices (``X``, ALISTA's :math:`W`) add a few
    :math:`mn`.
    """
    T, m, n = n_layers, n_samples, n_features
    n_params = {"step": T, "alista": 2 * T, "coupled": T * (m * n + n), "lista": T * (n * n + n * m + n)}
    vectors = 2 * n_pairs + 10
    return 8 * (vectors * n_params[parametrization] + 3 * (T + 2) * n_signals * n + 4 * m * n)


def train_network(X, Y, params, alpha, parametrization, *, max_iter, tol, layerwise, verbose=0):
    """Train the network's parameters on the signals ``Y`` (columns).

    With ``layerwise``, stage k = 1, ..., T trains the first k layers jointly
    (the later ones stay as they are), each stage with up to ``max_iter``
    iterations; otherwise all layers are trained at once.

    Returns
    -------
    params : dict
    loss_curve : ndarray
        Loss of the network being trained: at the start of training, then
        after each iteration (stages concatenated for ``layerwise``; the
        loss of a stage is that of its k-layer network).
    n_iter : int
        Iterations over all stages.
    converged : bool
        Whether the last stage stopped on ``tol`` before ``max_iter``.
    """
    keys = TRAINABLE[parametrization]
    scales = parameter_scales(X, parametrization)
    T = n_layers_of(params)
    curve, n_iter, converged = [], 0, True
    for depth in range(1, T + 1) if layerwise else [T]:

        def fun(vector, depth=depth):
            trial = _unpack(vector, params, keys, depth, scales)
            with np.errstate(over="ignore", invalid="ignore"):
                loss, grads = loss_and_gradient(X, Y, trial, alpha, parametrization, depth)
            return loss, np.concatenate([(grads[key] / scales[key]).ravel() for key in keys])

        def report(iteration, loss, step, depth=depth):
            if verbose:
                print(f"[LearnedISTA] layers {depth}/{T} iteration {iteration}: loss {loss:.10g} (step {step:.3g})")

        vector, losses, converged = minimize_lbfgs(fun, _pack(params, keys, depth, scales),
                                                   max_iter=max_iter, tol=tol, callback=report)
        params = _unpack(vector, params, keys, depth, scales)
        curve.extend(losses if not curve else losses[1:])
        n_iter += len(losses) - 1
    return params, np.asarray(curve), n_iter, converged


def learned_ista(X, Y, alpha, *, n_layers=10, parametrization="step", params=None, max_iter=100,
                 tol=1e-4, layerwise=None, verbose=0):
    r"""Train a learned-ISTA network on the signals ``Y`` and encode them.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_signals)
        Training signals, sharing the design ``X``.
    alpha : float
        Lasso regularisation, scikit-learn's scaling.
    n_layers : int
        Depth T (ignored when ``params`` is given).
    parametrization : {"step", "alista", "coupled", "lista"}
    params : dict, optional
        Starting parameters (warm start); the ISTA initialisation by default.
    max_iter, tol : int, float
        Budget and halting rule of :func:`minimize_lbfgs`, per stage.
    layerwise : bool, optional
        Layer-by-layer schedule; by default for the matrix parametrizations
        (``coupled``, ``lista``) started from the ISTA initialisation.
    verbose : int

    Returns
    -------
    result : SolverResult
        ``coef`` (n_signals, n_features) the trained network's codes,
        ``n_iter`` the optimiser iterations (same for every signal),
        ``converged``, and ``extras`` with ``params`` and ``loss_curve``.
    """
    if layerwise is None:
        layerwise = params is None and parametrization in ("coupled", "lista")
    if params is None:
        params = initial_parameters(X, alpha, n_layers, parametrization)
    params, curve, n_iter, converged = train_network(
        X, Y, params, alpha, parametrization, max_iter=max_iter, tol=tol, layerwise=layerwise, verbose=verbose
    )
    coef = network_forward(X, Y, params, alpha, parametrization)
    n_signals = Y.shape[1]
    return SolverResult(
        coef=coef,
        n_iter=np.full(n_signals, n_iter),
        converged=np.full(n_signals, converged),
        extras={"params": params, "loss_curve": curve},
    )
