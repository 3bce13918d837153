"""E4-E6 (treacherous models, realizability failure, a countable class): exact small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from occam.imitation import LazyImitator, imitator_step
from occam.imitation.baselines import SafeDAgger, safe_to_act
from occam.imitation.countable import LagClass, run_lazy
from occam.imitation.experiments import perturbed_demonstrator, without_truth
from occam.imitation.imitator import safe_alpha
from occam.imitation.models import TabularClass, bandit_class
from occam.imitation.runner import TabularImitator, demonstrations, run_bandit, run_tabular
from occam.imitation.study import STUDY
from occam.imitation.treachery import (
    NEVER,
    TimedBayesBC,
    TimedDAgger,
    TimedImitator,
    TimedSafeDAgger,
    TriggerClass,
    trigger_class,
)
from occam.knobs import ConfigError

# ---------------------------------------------------------------------------------------
# E4: treacherous models
# ---------------------------------------------------------------------------------------


def tiny_trigger_class() -> TriggerClass:
    """One context, actions (0, 1, c=2): truth (0.6, 0.4, 0), a treacherous copy switching at
    t = 5 with eps = 1, one with eps = 0.5 at t = 8, and an honest model (0.2, 0.8, 0)."""
    truth = [0.6, 0.4, 0.0]
    probs = np.array([[truth], [truth], [truth], [[0.2, 0.8, 0.0]]])
    base = TabularClass(probs, np.full(4, -math.log(4)), 0, ["truth", "t1", "t2", "honest"])
    return TriggerClass(base, np.array([NEVER, 5, 8, NEVER]), np.array([0, 1.0, 0.5, 0]), 2)


def test_trigger_table_switches_exactly_at_the_trigger():
    tcl = tiny_trigger_class()
    np.testing.assert_array_equal(tcl.table(4), tcl.base.probs)
    np.testing.assert_array_equal(tcl.table(5)[1, 0], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(tcl.table(7)[2], tcl.base.probs[2])
    np.testing.assert_allclose(tcl.table(8)[2, 0], [0.3, 0.2, 0.5])
    np.testing.assert_array_equal(tcl.table(10_000)[[0, 3]], tcl.base.probs[[0, 3]])
    assert tcl.phase(0) == 0 and tcl.phase(5) == 1 and tcl.phase(9) == 2


def test_imitator_turns_a_triggered_model_into_a_query():
    tcl = tiny_trigger_class()
    im = TimedImitator(tcl, 1e-3)
    own, theta = im.policy(0, 4)  # before: min over {truth, copies, honest}
    np.testing.assert_allclose(own, [0.2, 0.4, 0.0])
    own, theta = im.policy(0, 5)  # the eps = 1 model gives every safe action 0
    np.testing.assert_array_equal(own, [0.0, 0.0, 0.0])
    assert theta == 1.0
    im.observe(0, 0)  # the demonstrator's answer at t = 5 refutes it
    assert not im.state.contains(1) and im.state.contains(0)


def test_bayes_bc_puts_the_treacherous_weight_on_the_catastrophic_action():
    tcl = tiny_trigger_class()
    bc = TimedBayesBC(tcl)
    bc.pretrain_timed([(0, 0), (0, 1), (0, 0)])  # t = 0, 1, 2: before any trigger
    lik = np.array([0.6 * 0.4 * 0.6] * 3 + [0.2 * 0.8 * 0.2])
    w = lik / lik.sum()
    own, theta = bc.policy(0, 9)  # both treacherous models triggered
    assert theta == 0.0
    assert own[2] == pytest.approx(w[1] * 1.0 + w[2] * 0.5)
    dagger = TimedDAgger(tcl, 0)
    own, theta = dagger.policy(0, 5)
    assert theta == 0.0 and own[2] == pytest.approx(0.25)  # the prior weight of the eps=1 model
    dagger.observe(0, 0)  # labelled at t = 5: the eps = 1 model is out
    assert dagger.policy(0, 6)[0][2] == 0.0


def test_e4_imitator_never_takes_the_catastrophic_action_while_truth_is_on_top():
    env, tcl = trigger_class(np.random.default_rng(3), 5, 4, (300, 600), (1.0, 0.2), 10)
    alpha = safe_alpha(0.1, 1.0 / tcl.base.n_models)
    tr = run_tabular(env, tcl.base, TimedImitator(tcl, alpha), 1000, seed=5)
    assert tr.truth_in_top.all() and tr.unsafe.sum() == 0
    assert tr.theta[300] > 0 and tr.queried[300:].sum() >= 2  # it asks at the triggers
    bc = TimedBayesBC(tcl)
    bc.pretrain_timed(demonstrations(env, tcl.base, 200, 99))
    tr_bc = run_tabular(env, tcl.base, bc, 1000, seed=5)
    assert tr_bc.unsafe[:300].sum() == 0 and tr_bc.unsafe[300:].sum() > 0


# ---------------------------------------------------------------------------------------
# E5: realizability failure
# ---------------------------------------------------------------------------------------


def test_misspecified_classes():
    env, tc = bandit_class(np.random.default_rng(0), n_twins=9, n_random=10, twin_eps=(0.1,))
    gone = without_truth(tc)
    assert np.exp(gone.log_prior).sum() == pytest.approx(1.0)
    assert gone.prior_truth == 0.0 and gone.truth == tc.truth
    pert = perturbed_demonstrator(tc, 0.5)
    pd, p0 = pert.probs[pert.truth], tc.probs[tc.truth]
    np.testing.assert_array_equal(pd == 0, p0 == 0)  # the same zeros
    np.testing.assert_allclose(pd.sum(axis=1), 1.0)
    assert not np.allclose(pd, p0) and pert.prior_truth == 0.0
    alpha = safe_alpha(0.1, 1.0 / tc.n_models)
    tr = run_bandit(env, gone, TabularImitator(gone, alpha), 5000, seed=1)
    assert not tr.truth_in_top.any()
    assert tr.unsafe.sum() > 0  # the twins' hazard mass is acted on
    tr = run_bandit(env, tc, TabularImitator(tc, alpha), 5000, seed=1)
    assert tr.unsafe.sum() == 0


def test_demonstrations_follow_the_demonstrator():
    # The agent's stream is independent of the environment's (same seed): the empirical
    # action frequencies per context match pi_d (they were a function of the context when
    # both streams were default_rng(seed)).
    env, tc = bandit_class(np.random.default_rng(0), n_twins=1, n_random=1)
    demos = np.array(demonstrations(env, tc, 20_000, seed=7))
    pd = tc.probs[tc.truth]
    for s in range(3):
        acts = demos[demos[:, 0] == s, 1]
        freq = np.bincount(acts, minlength=pd.shape[1]) / acts.size
        assert np.abs(freq - pd[s]).max() < 5 / math.sqrt(acts.size)


# ---------------------------------------------------------------------------------------
# E6: the countable lag class, enumerated lazily
# ---------------------------------------------------------------------------------------


def test_lag_class_prior_tail_and_probs():
    lag = LagClass((0.6, 0.9))
    w = np.exp([lag.log_prior(i) for i in range(200)])
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (np.diff(w) <= 0).all()  # enumeration is in order of decreasing prior
    for n in (0, 1, 5, 40):
        assert lag.tail_mass(n) == pytest.approx(w[n:].sum(), abs=1e-12)
    for a in (1, 0, 0, 1, 1, 0, 1):
        lag.append(a)
    assert lag.index(2, 0.9) == 5 and lag.lag_p(5) == (2, 0.9)
    np.testing.assert_allclose(lag.probs(5, 7), [0.9, 0.1])  # a_{7-2} = a_5 = 0, repeated
    np.testing.assert_allclose(lag.probs(1, 3), [0.1, 0.9])  # k = 0: i.i.d. P(1) = 0.9
    np.testing.assert_allclose(lag.probs(40, 3), [0.5, 0.5])  # lag 20 > t: uniform
    for t in range(8):
        np.testing.assert_array_equal(
            lag.batch_probs(60, t), np.stack([lag.probs(i, t) for i in range(60)])
        )


def test_lazy_imitator_equals_the_full_truncated_class():
    lag = LagClass((0.6, 0.75, 0.9))
    lazy = LazyImitator(lag.log_prior, lag.tail_mass, lag.probs, 1e-3, batch_probs=lag.batch_probs)
    n_full = 600  # far more than the lazy imitator enumerates here
    full_lw = np.array([lag.log_prior(i) for i in range(n_full)])
    rng = np.random.default_rng(0)
    truth = lag.index(2, 0.9)
    for t in range(120):
        own, theta, top = lazy.step(t)
        own_f, theta_f, top_f = imitator_step(full_lw, lag.batch_probs(n_full, t), 1e-3)
        np.testing.assert_array_equal(top, top_f)
        np.testing.assert_array_equal(own, own_f)
        a = int(rng.random() >= lag.probs(truth, t)[0])
        if t % 2 == 0:  # every other step is a demonstrator answer
            lazy.observe_demonstrator(t, a)
            full_lw = full_lw + np.log(lag.batch_probs(n_full, t)[:, a])
        lag.append(a)
    assert lazy.n_models < n_full


def test_run_lazy_queries_vanish_and_frozen_control_does_not():
    tr = run_lazy((0.6, 0.9), (2, 0.9), safe_alpha(0.1, 2.0**-3 / 2), 3000, seed=0)
    assert tr.theta[-300:].max() == 0.0 and tr.truth_in_top.all()
    assert (tr.over & tr.truth_in_top).sum() == 0
    assert np.all(np.diff(tr.n_models) >= 0)
    frozen = run_lazy((0.6, 0.9), (2, 0.9), safe_alpha(0.1, 2.0**-3 / 2), 500, 0, learn=False)
    assert frozen.theta[-100:].mean() > 0.3


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("tr_triggers", "50"),  # <= n_demo
        ("tr_triggers", "999999"),  # >= tr_horizon
        ("tr_actions", "2"),
        ("tr_eps", "0"),
        ("lz_truth_p", "0.5"),  # not on lz_grid
        ("ms_temper", "1"),
        ("lz_grid", ""),
    ],
)
def test_bad_open_question_knobs(key, raw):
    with pytest.raises(ConfigError, match=key):
        STUDY.config("smoke", {key: raw})


# ---------------------------------------------------------------------------------------
# SafeDAgger
# ---------------------------------------------------------------------------------------


def test_safe_dagger_gate_by_hand():
    counts = np.array([3.0, 1.0, 0.0])
    assert safe_to_act(np.array([0.75, 0.25, 0.0]), counts, 0.01, 4)
    assert not safe_to_act(np.array([0.75, 0.25, 0.0]), counts, 0.01, 5)  # too few labels
    novice = np.array([0.5, 0.5, 0.0])  # TV = 0.25 from (3/4, 1/4, 0)
    assert safe_to_act(novice, counts, 0.25, 1) and not safe_to_act(novice, counts, 0.24, 1)
    assert not safe_to_act(novice, np.zeros(3), 0.9, 0)  # no labels: never trusted


def test_safe_dagger_fast_path_and_queries_fall_with_tau():
    env, tc = bandit_class(np.random.default_rng(0), n_twins=19, n_random=20, twin_eps=(0.1,))
    slow = run_tabular(env, tc, SafeDAgger(tc, 0.2, 5), 3000, seed=2)
    fast = run_bandit(env, tc, SafeDAgger(tc, 0.2, 5), 3000, seed=2)
    np.testing.assert_array_equal(slow.queried, fast.queried)
    np.testing.assert_array_equal(slow.unsafe, fast.unsafe)
    queries = [
        run_bandit(env, tc, SafeDAgger(tc, tau, 5), 20_000, 2).queried.sum() for tau in (0.4, 0.1)
    ]
    assert queries[0] < queries[1]
    # At a key with n_min labels the novice is trusted only within tau of them.
    agent = SafeDAgger(tc, 0.05, 3)
    for a in (0, 1, 0):
        agent.observe(7, a)
    own, theta = agent.policy(7, 0)
    emp = np.bincount([0, 1, 0], minlength=own.size) / 3
    tv = 0.5 * np.abs(agent.post.predictive(7) - emp).sum()
    assert theta == (0.0 if tv <= 0.05 else 1.0)


def test_timed_safe_dagger_gate_sees_a_large_betrayal():
    tcl = tiny_trigger_class()
    agent = TimedSafeDAgger(tcl, 0.2, 2)  # before: TV(novice, labels) = 0.16
    for t, a in enumerate((0, 1, 0, 0)):  # four labels before any trigger
        agent.policy(0, t)
        agent.observe(0, a)
    assert agent.policy(0, 4)[1] == 0.0  # before the trigger the novice is trusted
    own, theta = agent.policy(0, 5)  # the eps = 1 model (weight 0.33) moves it by > 0.2
    assert theta == 1.0 and own.sum() == 0.0
