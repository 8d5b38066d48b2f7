r"""OMP-Net and IHT-Net: Soft-OMP and Soft-IHT unrolled, with trainable structure-aware weights.

Both networks map a signal :math:`y` to a code :math:`\hat w(y; \omega)`:
OMP-Net is Soft-OMP (:mod:`skstexplore.solvers.soft_omp`, one layer per
selected atom, :math:`k` layers), IHT-Net is ``n_layers`` iterations of
Soft-IHT (:mod:`skstexplore.solvers.soft_iht`) from zero with a fixed step.
The only trainable parameter is the weight vector :math:`\omega \in
\mathbb{R}^n` inside the selection scores :math:`|\omega \odot u|`, shared by
every layer and initialised to ones, so the untrained network *is* Soft-OMP
or Soft-IHT. Training minimises, over :math:`N` training signals sharing the
design,

.. math::

    \mathcal{L}(\omega) = \frac1N \sum_{j=1}^N \|\hat w(y_j; \omega) - w^*_j\|_2^2
    \quad \text{(supervised, known codes } w^*_j\text{)}, \qquad
    \mathcal{L}(\omega) = \frac1N \sum_{j=1}^N \tfrac12 \|y_j - X \hat w(y_j; \omega)\|_2^2
    \quad \text{(data fit)},

with the hand-derived gradients of :func:`~skstexplore.solvers.soft_omp.soft_omp_backward`
and :func:`~skstexplore.solvers.soft_iht.soft_iht_backward`, by the L-BFGS of
``minimize_lbfgs`` (full batch, deterministic,
never accepting a non-finite or larger loss). The scores depend on
:math:`|\omega_j|` only and are invariant to the scale of :math:`\omega`, so
the loss is too: the trained weights are reported as :math:`|\omega| /
\max|\omega|`.
"""

import numpy as np

from .._core.optimize import minimize_lbfgs
from .soft_iht import soft_iht_backward, soft_iht_forward
from .soft_omp import soft_omp_backward, soft_omp_forward

NETWORKS = ("omp", "iht")


def network_forward(kind, data, weights, config, *, return_trace=False):
    """Codes of the signals of ``data`` (a ``LeastSquaresData``).

    Parameters
    ----------
    kind : {"omp", "iht"}
    data : LeastSquaresData
    weights : ndarray of shape (n_features,)
    config : dict
        ``n_nonzero_coefs``, ``temperature``, and for ``"iht"`` ``step_size``
        and ``n_layers``.
    return_trace : bool

    Returns
    -------
    coef : ndarray of shape (n_signals, n_features)
    trace : only with ``return_trace``
    """
    k, tau = config["n_nonzero_coefs"], config["temperature"]
    if kind == "omp":
        return soft_omp_forward(data, k, tau, weights, return_trace=return_trace)
    return soft_iht_forward(data, config["step_size"], config["n_layers"], k, tau, weights,
                            return_trace=return_trace)


def loss_and_gradient(kind, data, weights, config, coef_true=None):
    r"""Training loss of the network and its gradient with respect to ``weights``.

    Parameters
    ----------
    kind : {"omp", "iht"}
    data : LeastSquaresData
        Training signals as targets.
    weights : ndarray of shape (n_features,)
    config : dict
        As in :func:`network_forward`.
    coef_true : ndarray of shape (n_signals, n_features) or None
        Known codes (supervised loss); None gives the data-fit loss.

    Returns
    -------
    loss : float
    grad : ndarray of shape (n_features,)
    """
    coef, trace = network_forward(kind, data, weights, config, return_trace=True)
    n_signals = data.n_targets
    if coef_true is not None:
        diff = coef - coef_true
        loss = np.einsum("ij,ij->", diff, diff) / n_signals
        grad_coef = 2.0 * diff / n_signals
    else:
        C = data.correlation(coef)  # X^T (y - X w)
        loss = 0.5 * np.sum(data.y_sq - np.einsum("ij,ij->i", coef, data.Xty + C)) / n_signals
        grad_coef = -C / n_signals
    k, tau = config["n_nonzero_coefs"], config["temperature"]
    if kind == "omp":
        grad = soft_omp_backward(data, trace, grad_coef, tau, weights)
    else:
        grad = soft_iht_backward(data, trace, grad_coef, config["step_size"], k, tau, weights)
    return float(loss), grad


def normalise_weights(weights):
    """``|weights| / max |weights|``: the same network (scores use ``|weights|`` up to scale)."""
    weights = np.abs(weights)
    top = weights.max()
    return weights / top if top > 0 else weights


def train_greedy_network(kind, data, weights, config, coef_true=None, *, max_iter=100, tol=1e-4, verbose=0):
    """Train the weights of OMP-Net (``kind="omp"``) or IHT-Net (``"iht"``) on the signals of ``data``.

    Parameters
    ----------
    kind : {"omp", "iht"}
    data : LeastSquaresData
    weights : ndarray of shape (n_features,)
        Starting weights (ones, or the previous fit's for a warm start).
    config : dict
        As in :func:`network_forward`.
    coef_true : ndarray of shape (n_signals, n_features) or None
    max_iter, tol : int, float
        Budget and halting rule of ``minimize_lbfgs``.
    verbose : int

    Returns
    -------
    weights : ndarray of shape (n_features,)
        Normalised: ``|weights| / max |weights|``.
    loss_curve : ndarray
        Loss at the start, then after every iteration.
    n_iter : int
        L-BFGS iterations (at least 1).
    converged : bool
    """

    def fun(vector):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return loss_and_gradient(kind, data, vector, config, coef_true)

    def report(iteration, loss, step):
        if verbose:
            print(f"[{kind.upper()}-Net] iteration {iteration}: loss {loss:.10g} (step {step:.3g})")

    # the loss is nearly piecewise constant at small temperatures: resolve the weights (order 1) to 1e-8,
    # not to machine precision, so that a line search without descent stops after ~25 halvings
    vector, losses, converged = minimize_lbfgs(fun, np.asarray(weights, dtype=np.float64), max_iter=max_iter,
                                               tol=tol, min_step=1e-8, callback=report)
    # an iteration that finds a zero gradient at the start still counts (it is where training ends)
    return normalise_weights(vector), np.asarray(losses), max(len(losses) - 1, 1), converged
