r"""Lipschitz constants of least-squares gradients.

The gradient of :math:`\frac12\|y - Xw\|^2` is Lipschitz with constant
:math:`L = \|X\|_2^2 = \lambda_{\max}(X^\top X)`. For small matrices the
exact value comes from LAPACK; for larger ones from Lanczos iterations
(ARPACK through :func:`scipy.sparse.linalg.eigsh`) on the smaller of
:math:`X^\top X` and :math:`X X^\top`, which converges to machine precision in
a few dozen matrix-vector products.
"""

import numpy as np
from scipy.linalg import eigh
from scipy.sparse.linalg import LinearOperator, eigsh

# Below this size a dense eigensolver is cheaper than Lanczos iterations.
_DENSE_MAX_DIM = 300


def spectral_norm_sq(X=None, *, gram=None):
    r"""Largest eigenvalue of :math:`X^\top X`, i.e. :math:`\|X\|_2^2`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), optional
    gram : ndarray of shape (n_features, n_features), optional
        ``X.T @ X``; used instead of ``X`` when given.

    Returns
    -------
    L : float

    Examples
    --------
    >>> import numpy as np
    >>> float(spectral_norm_sq(np.diag([3.0, 1.0])))
    9.0
    """
    if gram is not None:
        return _largest_eigenvalue(gram)
    n_samples, n_features = X.shape
    if min(n_samples, n_features) <= _DENSE_MAX_DIM:
        small = X.T @ X if n_features <= n_samples else X @ X.T
        return _largest_eigenvalue(small)
    X64 = X.astype(np.float64, copy=False)
    if n_features <= n_samples:
        op = LinearOperator((n_features, n_features), matvec=lambda v: X64.T @ (X64 @ v), dtype=np.float64)
    else:
        op = LinearOperator((n_samples, n_samples), matvec=lambda v: X64 @ (X64.T @ v), dtype=np.float64)
    v0 = np.ones(op.shape[0]) / np.sqrt(op.shape[0])
    return float(eigsh(op, k=1, which="LA", v0=v0, return_eigenvectors=False, tol=1e-10)[0])


def _largest_eigenvalue(S):
    n = S.shape[0]
    if n == 0:
        return 0.0
    if n <= _DENSE_MAX_DIM:
        return float(eigh(S.astype(np.float64, copy=False), eigvals_only=True, subset_by_index=[n - 1, n - 1])[0])
    v0 = np.ones(n) / np.sqrt(n)
    return float(eigsh(S.astype(np.float64, copy=False), k=1, which="LA", v0=v0,
                       return_eigenvectors=False, tol=1e-10)[0])


def power_iteration(matvec, v0, *, max_iter=100, rtol=1e-6):
    r"""Largest eigenvalue of a symmetric PSD operator by power iteration.

    Warm-startable: pass the eigenvector of a nearby operator as ``v0`` (e.g.
    the restricted Gram matrix of the previous support) and it converges in a
    few products.

    Returns
    -------
    eigenvalue : float
        Rayleigh quotient at the last iterate; a lower bound of the largest
        eigenvalue that is within ``rtol`` of it at convergence.
    v : ndarray
        Unit-norm eigenvector estimate.
    """
    v = v0 / np.linalg.norm(v0)
    value = 0.0
    for _ in range(max_iter):
        w = matvec(v)
        new_value = float(v @ w)
        norm = np.linalg.norm(w)
        if norm == 0:
            return 0.0, v
        v = w / norm
        if abs(new_value - value) <= rtol * new_value:
            return new_value, v
        value = new_value
    return value, v


def restricted_power_iteration(matmat, V0, masks, *, max_iter=30, rtol=1e-3):
    r"""Largest eigenvalue of many restricted operators, batched.

    Row ``t`` estimates :math:`\lambda_{\max}(A_{S_t S_t})` for a symmetric PSD
    ``A`` and the support :math:`S_t` = ``masks[t]``, by power iteration on
    :math:`P_{S_t} A P_{S_t}` for all rows at once (one product ``matmat`` per
    iteration). Warm-startable: rows of ``V0`` are eigenvector estimates of
    nearby supports; a row that vanishes on its support restarts from the
    indicator of the support.

    Parameters
    ----------
    matmat : callable
        ``matmat(V)`` returns ``V @ A`` for rows ``V`` of shape (n_rows, n).
    V0 : ndarray of shape (n_rows, n)
    masks : ndarray of bool of shape (n_rows, n)
    max_iter : int
    rtol : float
        Stop when every estimate changed by at most ``rtol`` (relative).

    Returns
    -------
    values : ndarray of shape (n_rows,)
        :math:`\|A_{SS} v\|` at the last unit iterate :math:`v`: a lower bound of
        the largest eigenvalue (it is at least the Rayleigh quotient
        :math:`v^\top A_{SS} v` and at most :math:`\lambda_{\max}` for PSD
        :math:`A_{SS}`), exact when ``|S| = 1``.
    V : ndarray of shape (n_rows, n)
        Unit eigenvector estimates, zero outside each support.
    """
    V = np.where(masks, V0, 0)
    norms = np.linalg.norm(V, axis=1)
    dead = norms == 0
    V[dead] = masks[dead]
    norms[dead] = np.linalg.norm(V[dead], axis=1)
    V /= np.where(norms > 0, norms, 1)[:, None]
    values = np.zeros(V.shape[0])
    for _ in range(max_iter):
        U = np.where(masks, matmat(V), 0)
        new_values = np.linalg.norm(U, axis=1)
        V = U / np.where(new_values > 0, new_values, 1)[:, None]
        if np.all(np.abs(new_values - values) <= rtol * new_values):
            return new_values, V
        values = new_values
    return values, V
