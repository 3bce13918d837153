"""The imitator's rules on exact small cases: top set, own probabilities, theta, posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest

from occam.imitation import LazyImitator, imitator_step, posterior_update, top_set, ville_bound
from occam.imitation.baselines import TabularAgent
from occam.imitation.imitator import Imitator, own_probs, safe_alpha, sample_own_or_query
from occam.imitation.models import bandit_class
from occam.imitation.runner import TabularImitator, run_tabular


def naive_step(log_weights, probs, alpha):
    """The definition, one model at a time: order by (weight desc, index asc); model k is kept
    iff w_k >= alpha * (sum of the weights up to and including k in that order)."""
    w = [math.exp(lw - max(log_weights)) for lw in log_weights]
    order = sorted(range(len(w)), key=lambda j: (-log_weights[j], j))
    top, running = [], 0.0
    for j in order:
        running += w[j]
        if w[j] >= alpha * running:
            top.append(j)
        else:
            break
    own = [min(probs[j][a] for j in top) for a in range(len(probs[0]))]
    return np.array(own), 1.0 - sum(own), np.array(top)


def test_hand_made_top_set_and_theta():
    # w = (0.4, 0.4, 0.2); S = 0.4, 0.8, 1.0 in the order 0, 1, 2.
    lw = np.log([0.4, 0.4, 0.2])
    probs = np.array([[0.5, 0.5, 0.0], [0.2, 0.7, 0.1], [0.0, 0.0, 1.0]])
    own, theta, top = imitator_step(lw, probs, 0.3)
    assert top.tolist() == [0, 1]  # 0.2 < 0.3 * 1.0
    np.testing.assert_allclose(own, [0.2, 0.5, 0.0])
    assert theta == pytest.approx(1.0 - 0.7)
    assert imitator_step(lw, probs, 0.6)[2].tolist() == [0]  # 0.4 < 0.6 * 0.8
    assert imitator_step(lw, probs, 0.15)[2].tolist() == [0, 1, 2]
    # a single model: theta is exactly 0 and the imitator plays that model
    own1, theta1, top1 = imitator_step(lw, probs, 0.9)
    assert top1.tolist() == [0] and theta1 == 0.0
    np.testing.assert_array_equal(own1, probs[0])


def test_ties_are_broken_by_index():
    # Uniform over 4: model k is kept iff 1/4 >= alpha * k/4, i.e. k <= 1/alpha.
    lw = np.zeros(4)
    probs = np.full((4, 2), 0.5)
    assert imitator_step(lw, probs, 0.25)[2].tolist() == [0, 1, 2, 3]
    assert imitator_step(lw, probs, 0.26)[2].tolist() == [0, 1, 2]
    assert imitator_step(lw, probs, 0.51)[2].tolist() == [0]
    # the heaviest model is always in the set, even at alpha = 1
    lw2 = np.array([-3.0, -1.0, -1.0, -2.0])
    assert imitator_step(lw2, np.full((4, 2), 0.5), 1.0)[2].tolist() == [1]


def test_uniform_prior_prefix_and_size_bound():
    rng = np.random.default_rng(0)
    n = 200
    probs = rng.dirichlet(np.ones(5), size=n)
    for alpha in (0.3, 0.1, 0.01, 1e-3):
        top = imitator_step(np.zeros(n), probs, alpha)[2]
        assert top.tolist() == list(range(min(n, int(1 / alpha + 1e-9))))
    for _ in range(50):
        lw = rng.normal(0, 3, n)
        alpha = float(10 ** rng.uniform(-3, 0))
        assert len(top_set(lw, alpha)) <= 1 / alpha + 1e-9


def test_alpha_edge_cases_and_validation():
    probs = np.array([[0.5, 0.5], [0.9, 0.1]])
    with pytest.raises(ValueError, match="alpha"):
        imitator_step([0.0, 0.0], probs, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        imitator_step([0.0, 0.0], probs, 1.5)
    with pytest.raises(ValueError, match="model_probs"):
        imitator_step([0.0, 0.0, 0.0], probs, 0.1)
    with pytest.raises(ValueError, match="log_weights"):
        imitator_step([float("nan"), 0.0], probs, 0.1)
    with pytest.raises(ValueError, match="log_weights"):
        imitator_step([-math.inf, -math.inf], probs, 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        imitator_step([0.0, 0.0], [[0.5, 0.5], [1.1, -0.1]], 0.1)
    # lists are accepted; -inf weights (ruled-out models) are never in the top set
    own, theta, top = imitator_step([-math.inf, 0.0], probs.tolist(), 1e-9)
    assert top.tolist() == [1] and theta == 0.0


def test_log_space_robustness():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(5), size=50)
    lw = rng.normal(0, 2, 50)
    ref = imitator_step(lw, probs, 0.01)
    for shift in (-1e4, -1e6, 1e4):
        own, theta, top = imitator_step(lw + shift, probs, 0.01)
        np.testing.assert_array_equal(top, ref[2])
        np.testing.assert_array_equal(own, ref[0])
    # weights like -1e4 apart: exp underflows, the rule still works in log space
    lw_far = np.array([-1e4, 0.0, -1e4 + 1.0, -5.0])
    assert imitator_step(lw_far, probs[:4], 1e-3)[2].tolist() == [1, 3]


def test_vectorised_matches_naive_loop():
    rng = np.random.default_rng(2)
    for case in range(300):
        m, a = int(rng.integers(1, 40)), int(rng.integers(2, 6))
        probs = rng.dirichlet(np.ones(a), size=m)
        probs[rng.random((m, a)) < 0.2] = 0.0  # exact zeros, as hazard actions have
        probs /= np.maximum(probs.sum(1, keepdims=True), 1e-12)
        lw = np.round(rng.normal(0, 2, m), 0 if case % 2 else 6)  # many ties on odd cases
        lw[rng.random(m) < 0.1] = -math.inf
        if not np.isfinite(lw).any():
            lw[0] = 0.0
        alpha = float(10 ** rng.uniform(-4, 0))
        own, theta, top = imitator_step(lw, probs, alpha)
        own_n, theta_n, top_n = naive_step(lw.tolist(), probs.tolist(), alpha)
        np.testing.assert_array_equal(top, top_n)
        np.testing.assert_allclose(own, own_n, atol=1e-15)
        assert theta == pytest.approx(max(theta_n, 0.0), abs=1e-12)
        # own probabilities never exceed any top-set model's
        assert (own[None, :] <= probs[top] + 0.0).all()
        assert theta == pytest.approx(max(0.0, 1.0 - own.sum()), abs=1e-12)


def test_truth_in_top_set_means_no_over_probability():
    rng = np.random.default_rng(3)
    for _ in range(200):
        probs = rng.dirichlet(np.ones(4), size=30)
        lw = rng.normal(0, 1, 30)
        own, _, top = imitator_step(lw, probs, 0.05)
        for j in top:  # whichever model is the truth, if it is on top: own <= pi_d exactly
            assert (own <= probs[j]).all()


def test_sample_own_or_query_splits_the_unit_interval():
    own = [0.2, 0.0, 0.3]  # theta = 0.5
    assert sample_own_or_query(own, 0.1) == 0
    assert sample_own_or_query(own, 0.2) == 2  # 0.2 is past action 0; action 1 has no mass
    assert sample_own_or_query(own, 0.49) == 2
    assert sample_own_or_query(own, 0.5) == 3  # the query slice
    assert own_probs(np.array([[0.2, 0.8], [0.3, 0.7]]))[1] == pytest.approx(0.1)


def test_posterior_update_in_log_space():
    lw = np.log([0.5, 0.3, 0.2])
    new = posterior_update(lw, np.array([0.5, 0.0, 0.1]))
    assert new[1] == -math.inf
    np.testing.assert_allclose(new[[0, 2]], np.log([0.25, 0.02]))
    assert safe_alpha(0.1, 0.01) == pytest.approx(1e-3)
    assert ville_bound(1e-3, 0.01) == pytest.approx(0.1)


class _Spy(TabularAgent):
    """Wraps the imitator and records every demonstrator action it is shown."""

    def __init__(self, inner: TabularImitator) -> None:
        self.inner = inner
        self.seen: list[tuple[int, int]] = []

    def cache_version(self):
        return self.inner.cache_version()

    def policy(self, key, t):
        return self.inner.policy(key, t)

    def observe(self, key, action):
        self.seen.append((key, action))
        self.inner.observe(key, action)

    def truth_in_top(self):
        return self.inner.truth_in_top()


def test_posterior_updates_only_on_demonstrator_actions():
    env, tc = bandit_class(np.random.default_rng(4), n_twins=9, n_random=10)
    spy = _Spy(TabularImitator(tc, 1e-3))
    tr = run_tabular(env, tc, spy, 3000, seed=5)
    assert len(spy.seen) == int(tr.queried.sum()) == int(tr.demo_acted.sum()) > 0
    expected = tc.log_prior + sum(tc.log_probs[:, k, a] for k, a in spy.seen)
    np.testing.assert_allclose(spy.inner.state.log_weights, expected)
    assert tr.unsafe.sum() == 0 and (tr.over & tr.truth_in_top).sum() == 0


def test_retention_frequency_within_ville_bound():
    """P(truth ever leaves the top set) <= alpha / w(pi_d), for any query schedule; here the
    demonstrator is observed at every step. 4000 runs of 200 steps, vectorised over runs."""
    rng = np.random.default_rng(6)
    p = np.array([0.5, 0.56, 0.62, 0.44, 0.7])  # P(action 0) under each model; truth = 0
    m, runs, steps, alpha = p.size, 4000, 200, 0.08  # w(pi_d) = 1/5: bound = 0.4
    actions0 = rng.random((runs, steps)) < p[0]
    lik = np.where(actions0[..., None], p, 1.0 - p)  # (runs, steps, m)
    lw = np.cumsum(np.log(lik), axis=1) - math.log(m)
    lw = np.concatenate([np.full((runs, 1, m), -math.log(m)), lw], axis=1)
    w = np.exp(lw - lw.max(axis=2, keepdims=True))
    idx = np.arange(m)
    # weight of models ahead of the truth (index 0) in the order, plus the truth itself
    ahead = (lw > lw[..., :1]) | ((lw == lw[..., :1]) & (idx <= 0))
    s = (w * ahead).sum(axis=2)
    left = (w[..., 0] < alpha * s).any(axis=1)
    # cross-check the vectorised test against top_set on a few runs
    for r in range(20):
        for t in (0, 50, 199):
            assert (0 in top_set(lw[r, t], alpha)) == bool(w[r, t, 0] >= alpha * s[r, t])
    freq, bound = left.mean(), ville_bound(alpha, 1 / m)
    assert 0 < freq <= bound
    # with alpha 1e-4 (bound 5e-4) the demonstrator does not drop out in these runs
    assert not (w[..., 0] < 1e-4 * s).any()


def test_lazy_class_matches_a_long_truncation():
    """A countable class w_i = 2^-(i+1): the lazy imitator enumerates only what can matter."""
    rng = np.random.default_rng(7)
    p_of = [0.5 + 0.45 * math.sin(3.7 * i) for i in range(400)]

    def probs(i, key):
        return np.array([p_of[i], 1 - p_of[i]])

    alpha = 0.01
    lazy = LazyImitator(lambda i: -(i + 1) * math.log(2.0), lambda n: 2.0**-n, probs, alpha)
    full_lw = np.array([-(i + 1) * math.log(2.0) for i in range(400)])
    truth = 5
    for _ in range(60):
        own, theta, top = lazy.step(0)
        own_f, theta_f, top_f = imitator_step(
            full_lw, np.stack([probs(i, 0) for i in range(400)]), alpha
        )
        np.testing.assert_array_equal(top, top_f)
        assert theta == pytest.approx(theta_f)
        a = int(rng.random() >= p_of[truth])
        lazy.observe_demonstrator(0, a)
        full_lw = full_lw + np.log([probs(i, 0)[a] for i in range(400)])
    assert lazy.n_models < 400


def test_imitator_state_caches_top_set():
    imi = Imitator(np.zeros(10), 0.2)
    assert imi.top.tolist() == [0, 1, 2, 3, 4]
    imi.observe_demonstrator(np.array([0.1] * 5 + [0.9] * 5))
    assert imi.contains(5) and not imi.contains(0) and imi.n_queries == 1
