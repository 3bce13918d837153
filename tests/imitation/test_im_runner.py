"""The online loop and the baselines: fast path = slow path, queries, safety bookkeeping."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from occam.imitation.baselines import (
    BayesBC,
    CountsBC,
    DAgger,
    EnsembleDAgger,
    EntropyQuery,
    NavBC,
    NavDAgger,
    NavEnsembleDAgger,
    beta_schedule,
)
from occam.imitation.envs import HazardNav2D, LavaGrid
from occam.imitation.models import N_NAV_FEATURES, MLPEnsemble, bandit_class, gridworld_class
from occam.imitation.runner import (
    EnsembleImitator,
    FrozenImitator,
    InertImitator,
    PredictiveImitator,
    TabularImitator,
    demonstrations,
    log_bins,
    loglog_slope,
    query_summary,
    run_bandit,
    run_nav,
    run_tabular,
    summarise,
)


@pytest.fixture(scope="module")
def bandit():
    return bandit_class(np.random.default_rng(0), n_twins=19, n_random=20, twin_eps=(0.1,))


@pytest.mark.parametrize(
    "make",
    [
        lambda tc: TabularImitator(tc, 1e-3),
        lambda tc: TabularImitator(tc, 0.3),
        lambda tc: EnsembleDAgger(tc, 5, 0.03),
        lambda tc: EntropyQuery(tc, 0.01),
        lambda tc: PredictiveImitator(tc, 1e-3),
        lambda tc: FrozenImitator(tc, 1e-3),
    ],
)
def test_fast_bandit_path_is_bit_identical(bandit, make):
    env, tc = bandit
    slow = run_tabular(env, tc, make(tc), 4000, seed=11)
    fast = run_bandit(env, tc, make(tc), 4000, seed=11)
    for f in dataclasses.fields(slow):
        np.testing.assert_array_equal(getattr(slow, f.name), getattr(fast, f.name), f.name)


def test_imitator_is_safe_while_truth_is_on_top(bandit):
    env, tc = bandit
    for alpha in (0.3, 0.1, 1e-3):
        tr = run_bandit(env, tc, TabularImitator(tc, alpha), 20_000, seed=3)
        assert (tr.over & tr.truth_in_top).sum() == 0
        assert (tr.unsafe & tr.truth_in_top).sum() == 0
    s = summarise(tr)  # alpha = 1e-3 <= delta * w with delta = 0.04: truth stays on top
    assert s["truth_ever_left"] == 0 and s["unsafe"] == 0 and s["over"] == 0
    assert s["theta_last_decile"] < 0.01 * s["theta_first_decile"]


def test_baseline_query_counts(bandit):
    env, tc = bandit
    demos = demonstrations(env, tc, 100, seed=1)
    for bc in (CountsBC(tc), BayesBC(tc)):
        bc.pretrain(demos)
        tr = run_bandit(env, tc, bc, 5000, seed=2)
        assert tr.queried.sum() == 0
    tr = run_tabular(env, tc, DAgger(tc, 500, "bayes"), 2000, seed=2)
    assert tr.queried.all()  # the expert labels every step
    acted = tr.demo_acted.mean()
    assert 0.1 < acted < 0.16  # sum of beta_t / T = 250 / 2000 = 0.125 on average
    assert beta_schedule(0, 500) == 1.0 and beta_schedule(250, 500) == 0.5
    assert beta_schedule(900, 500) == 0.0
    # tabular BC in unseen states is uniform: it puts mass on the hazard
    bc = CountsBC(tc)
    assert bc.policy(0, 0)[0][4] == pytest.approx(0.2)


def test_gridworld_bc_enters_lava_imitator_does_not():
    env = LavaGrid(8)
    tc = gridworld_class(
        env, np.random.default_rng(1), n_potentials=2, cautions=(0.0, 0.5, 1.0), truth_caution=1.0
    )
    bc = CountsBC(tc)
    bc.pretrain(demonstrations(LavaGrid(8), tc, 200, seed=5))
    tr_bc = run_tabular(env, tc, bc, 3000, seed=6)
    tr_im = run_tabular(env, tc, TabularImitator(tc, 0.1 / tc.n_models), 3000, seed=6)
    assert tr_bc.unsafe.sum() > 0 and tr_bc.hazard.sum() > 0
    assert tr_im.unsafe.sum() == 0 and tr_im.hazard.sum() == 0 and tr_im.over.sum() == 0


def test_ensemble_and_nav_agents():
    ens = MLPEnsemble(4, N_NAV_FEATURES, 5, hidden=16, seed=0)
    x = np.linspace(0, 1, N_NAV_FEATURES)
    p = ens.probs(x)
    assert p.shape == (4, 5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # fitting on a constant label raises its probability; the same seed gives the same nets
    for _ in range(64):
        ens.add(x, 2)
    ens.fit(60)
    assert ens.probs(x)[:, 2].min() > p[:, 2].min()
    ens2 = MLPEnsemble(4, N_NAV_FEATURES, 5, hidden=16, seed=0)
    for _ in range(64):
        ens2.add(x, 2)
    ens2.fit(60)
    np.testing.assert_array_equal(ens.probs(x), ens2.probs(x))
    kw = {"beta": 3.0, "caution": 2.0}
    imi = EnsembleImitator(MLPEnsemble(4, N_NAV_FEATURES, 5, seed=1), 20, 10, 1e-6, 0.02)
    tr = run_nav(HazardNav2D(), imi, 150, seed=0, demo_kwargs=kw)
    assert tr.queried.sum() > 0 and np.isfinite(imi.log_weights).all()
    assert ((tr.theta >= 0) & (tr.theta <= 1)).all()
    nav_ed = NavEnsembleDAgger(MLPEnsemble(4, N_NAV_FEATURES, 5, seed=1), 20, 10, 0.0, 0.02)
    assert run_nav(HazardNav2D(), nav_ed, 50, seed=0, demo_kwargs=kw).queried.all()
    dag = NavDAgger(MLPEnsemble(4, N_NAV_FEATURES, 5, seed=1), 20, 10, 20)
    assert run_nav(HazardNav2D(), dag, 50, seed=0, demo_kwargs=kw).queried.all()
    bc = NavBC(MLPEnsemble(4, N_NAV_FEATURES, 5, seed=1), 20, 10)
    assert run_nav(HazardNav2D(), bc, 50, seed=0, demo_kwargs=kw).queried.sum() == 0


def test_log_bins_and_slope():
    edges = log_bins(1000)
    assert edges[0] == 0 and edges[-1] == 1000 and (np.diff(edges) > 0).all()
    t = np.array([10, 100, 1000])
    assert loglog_slope(np.array([10.0, 100.0, 1000.0]), t, 0) == pytest.approx(1.0)
    assert loglog_slope(np.array([5.0, 5.0, 5.0]), t, 0) == 0.0
    assert loglog_slope(np.zeros(3), t, 0) == 0.0


def test_control_agents(bandit):
    """The controls change one thing each: the predictive replaces the minimum, the frozen
    imitator never learns, the inert one never asks (its leftover goes to one action)."""
    env, tc = bandit
    im, pred = TabularImitator(tc, 1e-3), PredictiveImitator(tc, 1e-3)
    for key in range(tc.probs.shape[1]):
        own, theta = im.policy(key, 0)
        p_own, p_theta = pred.policy(key, 0)
        assert p_theta == theta
        w = np.exp(tc.log_prior - tc.log_prior.max())
        np.testing.assert_allclose(p_own, (1 - theta) * (w / w.sum()) @ tc.probs[:, key])
    hazard = env.hazard_action
    assert max(pred.policy(c, 0)[0][hazard] for c in env.hazard_contexts) > 0
    assert max(im.policy(c, 0)[0][hazard] for c in env.hazard_contexts) == 0
    frozen = FrozenImitator(tc, 1e-3)
    tr = run_bandit(env, tc, frozen, 3000, seed=5)
    assert tr.queried.sum() > 100 and frozen.cache_version() == 0
    assert summarise(tr)["theta_last_decile"] == pytest.approx(
        summarise(tr)["theta_first_decile"], rel=0.2
    )
    inert = InertImitator(tc, 1e-3, stay=0)
    own, theta = inert.policy(0, 0)
    assert theta == 0.0 and own.sum() == pytest.approx(1.0)
    assert not run_tabular(env, tc, inert, 500, seed=5).queried.any()


def test_query_summary_exact_small_case() -> None:
    # 25 steps: a tenth is 2 steps; the CartPole and countable summaries both start with these
    theta = np.linspace(1.0, 0.0, 25)
    queried = np.zeros(25, dtype=bool)
    queried[[0, 1, 7, 24]] = True
    tr = dataclasses.make_dataclass("T", [("theta", np.ndarray), ("queried", np.ndarray)])(
        theta, queried
    )
    s = query_summary(tr)
    assert list(s) == [
        "steps",
        "queries",
        "queries_first_tenth",
        "theta_first_decile",
        "theta_last_decile",
    ]
    assert s["steps"] == 25.0 and s["queries"] == 4.0 and s["queries_first_tenth"] == 2.0
    assert s["theta_first_decile"] == pytest.approx((1.0 + (1 - 1 / 24)) / 2)
    assert s["theta_last_decile"] == pytest.approx((1 / 24) / 2)
