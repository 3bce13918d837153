"""E1-E3 as gymnasium environments: check_env, make, and the loops through reset/step."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import warnings

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from occam.imitation.baselines import CountsBC, DAgger, EnsembleDAgger, NavBC  # noqa: E402
from occam.imitation.envs import HazardNav2D, LavaGrid, core_of  # noqa: E402
from occam.imitation.gym import (  # noqa: E402
    ENV_IDS,
    ContextualBanditEnv,
    HazardNav2DEnv,
    LavaGridEnv,
    register_envs,
)
from occam.imitation.models import (  # noqa: E402
    N_NAV_FEATURES,
    MLPEnsemble,
    bandit_class,
    gridworld_class,
)
from occam.imitation.runner import (  # noqa: E402
    EnsembleImitator,
    TabularImitator,
    demonstrations,
    nav_demonstrations,
    run_bandit,
    run_nav,
    run_tabular,
)

KW = {"beta": 3.0, "caution": 2.0}


def _same(a, b):
    for f in dataclasses.fields(a):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), f.name)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes_without_warnings(env_id):
    env = gymnasium.make(env_id)
    assert isinstance(env.unwrapped, gymnasium.Env)
    assert isinstance(env.action_space, gymnasium.spaces.Discrete) and env.action_space.n == 5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert not caught, [str(w.message) for w in caught]


def test_spaces_are_gymnasium_spaces():
    e1, e2, e3 = ContextualBanditEnv(), LavaGridEnv(size=8), HazardNav2DEnv()
    assert e1.observation_space == gymnasium.spaces.Discrete(e1.core.n_contexts)
    assert e2.observation_space == gymnasium.spaces.Discrete(4 * 64)
    assert e3.observation_space == gymnasium.spaces.Box(0.0, 1.0, (4,), np.float64)
    for env in (e1, e2, e3):
        obs, _ = env.reset(seed=0)
        assert obs in env.observation_space
        for _ in range(200):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert obs in env.observation_space and isinstance(reward, float)
            assert terminated is False and truncated is False and "hazard" in info
    with pytest.raises(ValueError):
        e2.step(5)


def test_make_with_kwargs_and_register_is_idempotent():
    register_envs()
    register_envs()
    env = gymnasium.make("occam/LavaGrid-v0", size=6, slip=0.0)
    assert core_of(env).size == 6 and core_of(env).slip == 0.0
    assert env.observation_space.n == 4 * 36
    core = HazardNav2D(radius=0.1)
    assert core_of(gymnasium.make("occam/HazardNav2D-v0", core=core)) is core


def test_reset_seed_matches_the_core():
    """reset(seed=s) on a wrapper gives the core's stream; reset() continues it."""
    for wrapped, bare in ((LavaGridEnv(), LavaGrid()), (HazardNav2DEnv(), HazardNav2D())):
        rng = np.random.default_rng(4)
        actions = rng.integers(5, size=300).tolist()
        obs_w, _ = wrapped.reset(seed=9)
        obs_b, _ = bare.reset(seed=9)
        np.testing.assert_array_equal(obs_w, obs_b)
        for a in actions:
            sw, sb = wrapped.step(a), bare.step(a)
            np.testing.assert_array_equal(sw[0], sb[0])
            assert sw[1:] == sb[1:]


def test_imitator_and_baselines_through_reset_step_match_the_direct_path():
    # E1: the step-by-step loop through gymnasium.make (with its checker wrappers) equals the
    # study's fast block path on the bare core, for the imitator and a baseline.
    core, tc = bandit_class(np.random.default_rng(0), n_twins=19, n_random=20, twin_eps=(0.1,))
    env = gymnasium.make("occam/ContextualBandit-v0", core=core)
    for make in (lambda: TabularImitator(tc, 1e-3), lambda: EnsembleDAgger(tc, 5, 0.03)):
        _same(run_tabular(env, tc, make(), 3000, seed=11), run_bandit(core, tc, make(), 3000, 11))
    # E2: imitator, DAgger and BC (demonstrations gathered through the gymnasium env too)
    grid = LavaGrid(8)
    tc2 = gridworld_class(
        grid, np.random.default_rng(1), n_potentials=2, cautions=(0.0, 1.0), truth_caution=1.0
    )
    genv = gymnasium.make("occam/LavaGrid-v0")
    assert demonstrations(genv, tc2, 100, 5) == demonstrations(LavaGrid(8), tc2, 100, 5)
    bc_g, bc_d = CountsBC(tc2), CountsBC(tc2)
    bc_g.pretrain(demonstrations(genv, tc2, 100, 5))
    bc_d.pretrain(demonstrations(LavaGrid(8), tc2, 100, 5))
    pairs = [
        (TabularImitator(tc2, 0.1 / tc2.n_models), TabularImitator(tc2, 0.1 / tc2.n_models)),
        (DAgger(tc2, 200, "bayes"), DAgger(tc2, 200, "bayes")),
        (bc_g, bc_d),
    ]
    for through_gym, direct in pairs:
        _same(run_tabular(genv, tc2, through_gym, 1500, 6), run_tabular(grid, tc2, direct, 1500, 6))
    # E3: the ensemble imitator and BC on the 2-D navigation
    nenv = gymnasium.make("occam/HazardNav2D-v0")

    def imitator():
        return EnsembleImitator(
            MLPEnsemble(3, N_NAV_FEATURES, 5, hidden=16, seed=1), 20, 5, 1e-6, 0.02
        )

    _same(run_nav(nenv, imitator(), 120, 0, KW), run_nav(HazardNav2D(), imitator(), 120, 0, KW))
    demos_g = nav_demonstrations(nenv, 30, 3, KW)
    demos_d = nav_demonstrations(HazardNav2D(), 30, 3, KW)
    for (xg, ag), (xd, ad) in zip(demos_g, demos_d, strict=True):
        np.testing.assert_array_equal(xg, xd)
        assert ag == ad
    bc = NavBC(MLPEnsemble(3, N_NAV_FEATURES, 5, hidden=16, seed=1), 20, 5)
    assert run_nav(nenv, bc, 40, 0, KW).queried.sum() == 0


def test_gymnasium_stays_optional():
    """occam.imitation and the study import without gymnasium (make reproduce lacks it)."""
    code = (
        "import sys; sys.modules['gymnasium'] = None\n"
        "import occam.imitation, occam.imitation.study, occam.imitation.runner\n"
        "try:\n    import occam.imitation.gym\nexcept ImportError:\n    print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
