"""Synthetic sparse-recovery problems with a known answer."""

import numpy as np
from sklearn.utils import check_random_state

from ._core.validation import check_float, check_option, check_positive_int

COEF_DISTRIBUTIONS = ("gaussian", "uniform", "rademacher")


def _draw_sparse_coef(rng, n_targets, n_features, n_nonzero_coefs, distribution):
    """k-sparse coefficients ``(n_targets, n_features)``, a uniform random support per target."""
    coef = np.zeros((n_targets, n_features))
    for t in range(n_targets):
        support = rng.choice(n_features, n_nonzero_coefs, replace=False)
        if distribution == "gaussian":
            values = rng.standard_normal(n_nonzero_coefs)
        elif distribution == "uniform":
            values = rng.choice([-1.0, 1.0], n_nonzero_coefs) * rng.uniform(1.0, 2.0, n_nonzero_coefs)
        else:
            values = rng.choice([-1.0, 1.0], n_nonzero_coefs)
        coef[t, support] = values
    return coef


def _observe(rng, X, coef, noise):
    Y = X @ coef.T
    if noise > 0:
        Y = Y + noise * rng.standard_normal(Y.shape)
    return Y


def _check_sizes(n_features, n_nonzero_coefs, n_targets, noise):
    check_positive_int(n_features, "n_features")
    check_positive_int(n_nonzero_coefs, "n_nonzero_coefs", max_val=n_features)
    check_positive_int(n_targets, "n_targets")
    check_float(noise, "noise", min_val=0.0)


def _shape_output(X, Y, coef, n_targets):
    if n_targets == 1:
        return X, Y[:, 0], coef[0]
    return X, Y, coef


def make_sparse_recovery(
    n_samples,
    n_features,
    n_nonzero_coefs,
    *,
    n_targets=1,
    noise=0.0,
    coef_distribution="gaussian",
    normalize=True,
    random_state=None,
):
    r"""Compressed-sensing problem :math:`y = X w^* + e` with a Gaussian design.

    ``X`` has i.i.d. :math:`\mathcal{N}(0, 1)` entries (columns rescaled to
    unit norm when ``normalize``); each target has its own uniformly drawn
    support of size ``n_nonzero_coefs``; :math:`e` is Gaussian with standard
    deviation ``noise``.

    Parameters
    ----------
    n_samples, n_features, n_nonzero_coefs : int
        m, n and k.
    n_targets : int, default=1
    noise : float, default=0.0
    coef_distribution : {"gaussian", "uniform", "rademacher"}, default="gaussian"
        Nonzeros drawn from N(0, 1), from U([-2, -1] U [1, 2]), or from {-1, 1}.
    normalize : bool, default=True
    random_state : int, RandomState instance or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    coef : ndarray of shape (n_features,) or (n_targets, n_features)

    Examples
    --------
    >>> from skstexplore.datasets import make_sparse_recovery
    >>> X, y, coef = make_sparse_recovery(20, 50, 3, random_state=0)
    >>> X.shape, y.shape, int((coef != 0).sum())
    ((20, 50), (20,), 3)
    """
    check_positive_int(n_samples, "n_samples")
    _check_sizes(n_features, n_nonzero_coefs, n_targets, noise)
    check_option(coef_distribution, "coef_distribution", COEF_DISTRIBUTIONS)
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    if normalize:
        X /= np.linalg.norm(X, axis=0)
    coef = _draw_sparse_coef(rng, n_targets, n_features, n_nonzero_coefs, coef_distribution)
    return _shape_output(X, _observe(rng, X, coef, noise), coef, n_targets)


def gaussian_convolution_matrix(n_features, width):
    r"""Gaussian convolution dictionary ("full" convolution) with unit-norm columns.

    Column :math:`j` is the Gaussian :math:`\exp(-(i - j)^2 / (2 \sigma^2))`,
    :math:`\sigma` = ``width``, sampled on a grid that extends ``ceil(4
    sigma)`` samples beyond both ends of the signal, so that no column is
    truncated: every pair of neighbouring columns has the same correlation,
    close to :math:`\exp(-1/(4\sigma^2))` (the mutual coherence, 0.973 for
    :math:`\sigma = 3`).

    Returns
    -------
    X : ndarray of shape (n_features + 2 * ceil(4 * width), n_features)
    """
    pad = int(np.ceil(4 * width))
    grid = np.arange(-pad, n_features + pad)
    X = np.exp(-((grid[:, None] - np.arange(n_features)[None, :]) ** 2) / (2.0 * width**2))
    return X / np.linalg.norm(X, axis=0)


def make_gaussian_deconvolution(
    n_features, n_nonzero_coefs, *, width=3.0, n_targets=1, noise=0.0, random_state=None
):
    r"""Spike deconvolution: a spike train blurred by a Gaussian kernel.

    The setting of the SEA paper's deconvolution experiment: ``X`` is the
    Gaussian convolution matrix of :func:`gaussian_convolution_matrix`
    (mutual coherence about 0.97 for ``width=3``), nonzeros drawn from
    :math:`U([-2, -1] \cup [1, 2])` on a uniform random support.

    Parameters
    ----------
    n_features : int
        Length of the spike train.
    n_nonzero_coefs : int
    width : float, default=3.0
        Standard deviation of the Gaussian kernel, in samples.
    n_targets : int, default=1
    noise : float, default=0.0
    random_state : int, RandomState instance or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        ``n_samples = n_features + 2 * ceil(4 * width)``.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    coef : ndarray of shape (n_features,) or (n_targets, n_features)

    References
    ----------
    .. [1] M. Mohamed, F. Malgouyres, V. Emiya, C. Chaux, "Straight-Through
       Meets Sparse Recovery: the Support Exploration Algorithm", ICML 2024.

    Examples
    --------
    >>> from skstexplore.datasets import make_gaussian_deconvolution
    >>> X, y, coef = make_gaussian_deconvolution(100, 5, random_state=0)
    >>> G = X.T @ X
    >>> round(float((G - np.eye(100)).max()), 2)
    0.97
    """
    _check_sizes(n_features, n_nonzero_coefs, n_targets, noise)
    check_float(width, "width", min_val=0.0, include_min=False)
    rng = check_random_state(random_state)
    X = gaussian_convolution_matrix(n_features, width)
    coef = _draw_sparse_coef(rng, n_targets, n_features, n_nonzero_coefs, "uniform")
    return _shape_output(X, _observe(rng, X, coef, noise), coef, n_targets)


def make_lasso_signals(n_samples, n_features, n_signals, *, random_state=None):
    r"""Unit-norm Gaussian dictionary and signals normalised to :math:`\alpha_{\max} = 1`.

    The setting of the learned-ISTA experiments (Ablin et al. 2019): atoms
    drawn from :math:`\mathcal{N}(0, I)` and normalised, signals with
    :math:`\mathcal{N}(0, 1)` entries rescaled so that
    :math:`\|X^\top y\|_\infty / n = 1`, so that ``alpha`` is directly a
    fraction of each signal's :math:`\alpha_{\max}`.

    Parameters
    ----------
    n_samples, n_features : int
    n_signals : int or sequence of int
        Number of signals; a sequence gives one set per entry (e.g. training
        and test signals), drawn in that order from the same generator.
    random_state : int, numpy.random.Generator or None
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_signals), or one such array per entry of ``n_signals``

    Examples
    --------
    >>> from skstexplore.datasets import make_lasso_signals
    >>> X, Y_train, Y_test = make_lasso_signals(64, 256, (10, 5), random_state=0)
    >>> Y_test.shape, np.round(np.abs(X.T @ Y_test).max(axis=0) / 64, 12)
    ((64, 5), array([1., 1., 1., 1., 1.]))
    """
    check_positive_int(n_samples, "n_samples")
    check_positive_int(n_features, "n_features")
    sizes = (n_signals,) if np.ndim(n_signals) == 0 else tuple(n_signals)
    for size in sizes:
        check_positive_int(size, "n_signals")
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    X /= np.linalg.norm(X, axis=0)
    sets = []
    for size in sizes:
        Y = rng.standard_normal((n_samples, size))
        sets.append(Y / (np.abs(X.T @ Y).max(axis=0) / n_samples))
    return (X, *sets)


DESIGNS = ("dct", "gaussian")


def subsampled_dct_matrix(n_samples, n_features, *, random_state=None):
    r"""Rows of the orthonormal DCT-II matrix drawn uniformly without replacement, scaled by :math:`\sqrt{n/m}`.

    The real counterpart of a subsampled Fourier matrix: the rows are
    orthogonal with squared norm :math:`n/m` (so :math:`\|X\|_2^2 = n/m`)
    and every column has squared norm 1 on average.

    Parameters
    ----------
    n_samples, n_features : int
        m (rows kept, ``<= n_features``) and n.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    """
    from scipy.fft import dct

    check_positive_int(n_features, "n_features")
    check_positive_int(n_samples, "n_samples", max_val=n_features)
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(n_features, n_samples, replace=False))
    return np.sqrt(n_features / n_samples) * dct(np.eye(n_features), norm="ortho", axis=0)[rows]


def make_structured_sparse_signals(
    n_samples,
    n_features,
    n_nonzero_coefs,
    *,
    n_hidden=20,
    n_signals=1,
    design="dct",
    noise=0.0,
    random_state=None,
):
    r"""Signals whose supports lie inside a hidden set of indices shared by all of them.

    The structured-sparsity model of the OMP-Net / IHT-Net experiments
    (Mohammad-Taheri, Colbrook & Brugiapaglia 2025): a hidden set :math:`H`
    of ``n_hidden`` indices is drawn once; each code :math:`w^*_j` has
    ``n_nonzero_coefs`` nonzeros on a uniform random subset of :math:`H`,
    with :math:`\mathcal{N}(0, 1)` values; each signal is :math:`y_j = X w^*_j
    + e_j` with :math:`e_j` Gaussian of standard deviation ``noise`` per
    entry (the paper's :math:`10^{-3}/\sqrt{m}` gives :math:`\|e_j\| \approx
    10^{-3}`). Algorithms that do not know :math:`H` face a
    ``n_nonzero_coefs``-sparse problem in ``n_features`` unknowns; those that
    learn it face one in ``n_hidden`` unknowns.

    Parameters
    ----------
    n_samples, n_features, n_nonzero_coefs : int
        m, n and k (``k <= n_hidden <= n``).
    n_hidden : int, default=20
        Size of the hidden set.
    n_signals : int or sequence of int, default=1
        Number of signals; a sequence gives one set per entry (e.g. training
        and test signals), all sharing ``X`` and the hidden set.
    design : {"dct", "gaussian"}, default="dct"
        ``"dct"``: :func:`subsampled_dct_matrix`; ``"gaussian"``: i.i.d.
        :math:`\mathcal{N}(0, 1/m)` entries.
    noise : float, default=0.0
    random_state : int, numpy.random.Generator or None
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_signals)
        Signals as columns (the layout of ``LearnedISTA``, ``OMPNet.fit``...).
    coef : ndarray of shape (n_signals, n_features)
        Their codes. With a sequence ``n_signals``, ``Y`` and ``coef`` are
        repeated for each set, in order: ``X, Y_1, coef_1, Y_2, coef_2, ..., hidden``.
    hidden : ndarray of int of shape (n_hidden,)
        The hidden set, sorted.

    Examples
    --------
    >>> from skstexplore.datasets import make_structured_sparse_signals
    >>> X, Y, coef, hidden = make_structured_sparse_signals(36, 256, 10, n_signals=5, random_state=0)
    >>> X.shape, Y.shape, coef.shape, hidden.shape
    ((36, 256), (36, 5), (5, 256), (20,))
    >>> bool(np.all(np.isin(np.nonzero(coef)[1], hidden)))
    True
    """
    check_positive_int(n_features, "n_features")
    check_positive_int(n_hidden, "n_hidden", max_val=n_features)
    check_positive_int(n_nonzero_coefs, "n_nonzero_coefs", max_val=n_hidden)
    check_positive_int(n_samples, "n_samples", max_val=n_features if design == "dct" else None)
    check_option(design, "design", DESIGNS)
    check_float(noise, "noise", min_val=0.0)
    sizes = (n_signals,) if np.ndim(n_signals) == 0 else tuple(n_signals)
    for size in sizes:
        check_positive_int(size, "n_signals")
    rng = np.random.default_rng(random_state)
    if design == "dct":
        X = subsampled_dct_matrix(n_samples, n_features, random_state=rng)
    else:
        X = rng.standard_normal((n_samples, n_features)) / np.sqrt(n_samples)
    hidden = np.sort(rng.choice(n_features, n_hidden, replace=False))
    sets = []
    for size in sizes:
        coef = np.zeros((size, n_features))
        for j in range(size):
            coef[j, rng.choice(hidden, n_nonzero_coefs, replace=False)] = rng.standard_normal(n_nonzero_coefs)
        sets += [_observe(rng, X, coef, noise), coef]
    return (X, *sets, hidden)
