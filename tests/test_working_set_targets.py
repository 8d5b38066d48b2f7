"""Many targets in one working-set Lasso fit: each target keeps its own working set (solved alone when large,
batched but restricted to its own features when small), so that a joint fit equals the fits of the targets
one by one and never computes Gram entries between features that only different targets use."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import Lasso

from skstexplore import OracleISTALasso
from skstexplore._core.preprocess import prepare_data
from skstexplore.solvers import working_set
from skstexplore.solvers.ista import oista
from skstexplore.solvers.working_set import DesignCache, working_set_lasso


def disjoint_problem(seed=0, n_block=60, p_block=250, n_nonzero=40):
    """A block-diagonal design with unit columns: target 0 lives on the first block of rows and features,
    target 1 on the second. Each target's residual is exactly zero on the other's rows: the other block's
    features never correlate with it, so they score worst of all its features (equal norms) and never enter
    its working set."""
    rng = np.random.default_rng(seed)
    X = np.zeros((2 * n_block, 2 * p_block))
    X[:n_block, :p_block] = rng.standard_normal((n_block, p_block))
    X[n_block:, p_block:] = rng.standard_normal((n_block, p_block))
    X /= np.linalg.norm(X, axis=0)
    Y = np.zeros((2 * n_block, 2))
    for t, rows in enumerate((slice(0, n_block), slice(n_block, None))):
        features = t * p_block + rng.choice(p_block, n_nonzero, replace=False)
        Y[rows, t] = X[rows][:, features] @ rng.standard_normal(n_nonzero) + 0.5 * rng.standard_normal(n_block)
    alpha = 0.01 * np.abs(X.T @ Y).max() / len(X)
    return X, Y, alpha, p_block


def cross_entries(design, p_block):
    """Whether the design cache holds Gram entries within each block, and any between the two blocks."""
    entered = design._features[: design._n_entered]
    first = entered < p_block
    known = design._known[: design._n_entered, : design._n_entered]
    within = known[np.ix_(first, first)].any() and known[np.ix_(~first, ~first)].any()
    return within, known[np.ix_(first, ~first)].any()


@pytest.mark.parametrize("unfinished", [False, True])
def test_disjoint_targets_equal_their_own_fits_and_never_see_each_others_features(monkeypatch, unfinished):
    """Large disjoint supports: the joint fit equals each target's own fit to 1e-10 (and sklearn's to 1e-6),
    both ways of solving (batched on a union, alone) run, no solve offers a target a feature of the other
    block and no Gram entry between the blocks is computed. ``unfinished``: the first batched solve gives
    up, so the proximal solver finishes each target on its own features."""
    X, Y, alpha, p_block = disjoint_problem()
    tol = 1e-14 * (Y**2).sum(axis=0) / len(X)
    offered = []
    solve = working_set.active_set_lasso

    def spy(G, XtY, penalty, W, **kwargs):
        labels, allowed = kwargs["labels"], kwargs["allowed"]
        usable = [labels] * W.shape[0] if allowed is None else [labels[row] for row in allowed]
        offered.extend((allowed is None, features) for features in usable)
        if unfinished and allowed is not None and sum(not by_itself for by_itself, _ in offered) == W.shape[0]:
            return np.array(W, dtype=np.float64), np.zeros(W.shape[0], dtype=bool), np.ones(W.shape[0], dtype=int)
        return solve(G, XtY, penalty, W, **kwargs)

    monkeypatch.setattr(working_set, "active_set_lasso", spy)
    design = DesignCache(X, all_pairs=False)
    joint = working_set_lasso(oista, X, Y, alpha, design=design, tol=tol, max_iter=100000)
    alone = [working_set_lasso(oista, X, Y[:, [t]], alpha, tol=tol[t], max_iter=100000) for t in range(2)]
    assert joint.converged.all()
    assert (joint.extras["n_oracle_steps"] > 0).all() == unfinished  # Oracle ISTA ran where the solve gave up
    for t in range(2):
        assert np.count_nonzero(joint.coef[t]) > 40
        assert np.max(np.abs(joint.coef[t] - alone[t].coef[0])) <= 1e-10
        ref = Lasso(alpha=alpha, tol=1e-12, max_iter=200000, fit_intercept=False).fit(X, Y[:, t]).coef_
        assert np.max(np.abs(joint.coef[t] - ref)) <= 1e-6
    assert {by_itself for by_itself, _ in offered} == {True, False}
    # every solve's features of one target lie in one block: never both (the union of the old design did)
    assert all(len(set(features // p_block)) == 1 for _, features in offered)
    assert cross_entries(design, p_block) == (True, False)


def test_a_target_solved_alone_computes_only_its_own_gram_entries():
    """From warm starts with large supports every working set is solved alone: the design cache holds no
    Gram entry between a feature of one block and one of the other."""
    X, Y, alpha, p_block = disjoint_problem(seed=1)
    tol = 1e-14 * (Y**2).sum(axis=0) / len(X)
    exact = working_set_lasso(oista, X, Y, alpha, tol=tol, max_iter=100000).coef
    design = DesignCache(X, all_pairs=False)
    res = working_set_lasso(oista, X, Y, alpha, design=design, coef_init=0.9 * exact, tol=tol, max_iter=100000)
    assert np.max(np.abs(res.coef - exact)) <= 1e-10
    assert cross_entries(design, p_block) == (True, False)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_targets_with_large_different_supports_match_sklearn(layout, dtype, fit_intercept, positive):
    """Three targets with large, mostly different supports on a wide design (working sets solved alone and
    batched) equal sklearn's Lasso(tol=1e-12): 1e-6 in float64, 1e-4 (relative) in float32."""
    rng = np.random.default_rng(5)
    X = sp.random(120, 500, density=0.1, random_state=5, format="csr", data_rvs=rng.standard_normal)
    coef = np.zeros((500, 3))
    for t in range(3):
        coef[rng.choice(500, 50, replace=False), t] = 2 * rng.standard_normal(50)
    Y = X @ coef + 0.1 * rng.standard_normal((120, 3)) + 1.0
    Xd = X.toarray()
    Xc = Xd - Xd.mean(axis=0) if fit_intercept else Xd
    corr = Xc.T @ (Y - Y.mean(axis=0) if fit_intercept else Y) / len(Y)
    alpha = 0.02 * (corr.max() if positive else np.abs(corr).max())
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=200000, fit_intercept=fit_intercept, positive=positive).fit(Xd, Y)
    est = OracleISTALasso(alpha=alpha, tol=1e-12 if dtype == np.float64 else 1e-5, max_iter=100000,
                          fit_intercept=fit_intercept, positive=positive)
    est.fit((Xd if layout == "dense" else X).astype(dtype), Y.astype(dtype))
    assert np.all(np.count_nonzero(ref.coef_, axis=1) > 30)
    atol = 1e-6 if dtype == np.float64 else 1e-4 * np.abs(ref.coef_).max()
    assert np.max(np.abs(est.coef_ - ref.coef_)) <= atol
    assert_allclose(est.intercept_, ref.intercept_, atol=10 * atol)
    if positive:
        assert est.coef_.min() >= 0


@pytest.mark.parametrize("all_pairs", [False, True])
@pytest.mark.parametrize("layout", ["dense", "csc"])
def test_gram_blocks_of_overlapping_sets_fill_only_what_they_need(layout, all_pairs):
    """Blocks of sets that overlap without nesting are exact; without ``all_pairs`` the entries computed are
    exactly those of the blocks asked for (a cover of the unknown pairs), not all the pairs of the features
    that entered."""
    rng = np.random.default_rng(2)
    X = sp.random(40, 90, density=0.3, random_state=2, format="csc", data_rvs=rng.standard_normal)
    design_X = X.toarray() if layout == "dense" else prepare_data(X, np.ones((40, 1)), False).X
    design, dense = DesignCache(design_X, all_pairs=all_pairs), X.toarray()
    sets = [np.arange(0, 30), np.arange(60, 90), np.arange(20, 70, 2), np.array([1, 65, 88, 5]), np.arange(90)]
    asked = np.zeros((90, 90), dtype=bool)
    for U in sets[:-1]:
        U = design.in_cache_order(U)
        assert_allclose(design.gram_block(U), dense[:, U].T @ dense[:, U], atol=1e-12)
        asked[np.ix_(U, U)] = True
        if all_pairs:
            continue
        known = np.zeros((90, 90), dtype=bool)
        position = design._position
        entered = np.flatnonzero(position >= 0)
        known[np.ix_(entered, entered)] = design._known[np.ix_(position[entered], position[entered])]
        assert_array_equal(known, asked)  # e.g. features 0-29 and 60-89 never paired, but for 1, 5 with 65, 88
    assert_allclose(design.gram_block(sets[-1]), dense.T @ dense, atol=1e-12)


@pytest.mark.parametrize("positive", [False, True])
def test_active_set_restricted_to_each_targets_features(positive):
    """``allowed``: each row minimises q over its own features only (zero elsewhere), with the value of the
    one-target method on its sub-block, also where a duplicated column makes supports rank deficient."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 60))
    X[:, 1] = X[:, 0]  # a duplicated column: minimum-norm solves, then the one-target method's exchanges
    Y = X[:, :12] @ rng.standard_normal((12, 6)) + 0.1 * rng.standard_normal((30, 6))
    G, C, penalty = X.T @ X, (X.T @ Y).T, 0.05 * np.abs(X.T @ Y).max()
    allowed = rng.random((6, 60)) < 0.5
    allowed[:, :2] = True

    def q(w, on):
        return 0.5 * w @ G[np.ix_(on, on)] @ w - C[t, on] @ w + penalty * np.abs(w).sum()

    W, converged, _ = working_set.active_set_lasso(G, C, penalty, np.zeros((6, 60)), positive=positive,
                                                   allowed=allowed)
    assert converged.all() and not W[~allowed].any()
    for t in range(6):
        on = np.flatnonzero(allowed[t])
        alone, _, _ = working_set.active_set_lasso(G[np.ix_(on, on)], C[[t]][:, on], penalty, np.zeros((1, on.size)),
                                                   positive=positive)
        assert q(W[t, on], on) <= q(alone[0], on) + 1e-10 * abs(q(alone[0], on))
        assert np.count_nonzero(W[t]) > 3
