"""Environments: the cores' reset/step interface, dynamics, value iteration, demonstrators."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from occam.imitation.envs import ContextualBandit, HazardNav2D, LavaGrid, core_of
from occam.imitation.models import (
    N_NAV_FEATURES,
    bandit_class,
    geodesic_to_goal,
    gridworld_class,
    nav_demonstrator,
    nav_features,
    value_iteration,
)


def _check_interface(env, n_steps=50):
    """The cores speak gymnasium's reset/step (spaces and check_env: test_im_gym.py)."""
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    assert isinstance(info, dict)
    assert core_of(env) is env
    for _ in range(n_steps):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(5)))
        assert isinstance(reward, float)
        assert terminated is False and truncated is False  # continuing tasks
        assert "hazard" in info


@pytest.mark.parametrize(
    "make",
    [lambda: bandit_class(np.random.default_rng(0))[0], lambda: LavaGrid(8), lambda: HazardNav2D()],
)
def test_reset_step_interface(make):
    _check_interface(make())


def test_reset_is_reproducible_and_contexts_match_stepping():
    env, _ = bandit_class(np.random.default_rng(1))
    s0, _ = env.reset(seed=3)
    stepped = [env.step(0)[0] for _ in range(100)]
    env2 = ContextualBandit(env.rewards, tuple(env.hazard_contexts), env.hazard_action)
    assert env2.reset(seed=3)[0] == s0
    assert env2.next_contexts(100).tolist() == stepped


def test_lava_grid_dynamics():
    env = LavaGrid(8, slip=0.0)
    env.reset(seed=0)
    lava = env.lava.reshape(8, 8)
    assert lava[2, :6].all() and not lava[2, 6:].any() and lava[5, 2:].all()
    # from (1, 0), moving down (action 2) would enter lava: blocked, hazard, -10
    env.cell = 8
    obs, reward, *_, info = env.step(2)
    assert info["hazard"] and reward == -10.0 and env.cell == 8
    # walls keep the agent in place; reaching the goal changes it
    env.cell, env.goal = 0, 1
    env.step(0)
    assert env.cell == 0
    env.cell = 6
    obs, reward, *_, info = env.step(1)
    assert info["goal"] and reward == 1.0 and env.goal != 1 and obs == env.key(7, env.goal)


def test_value_iteration_is_discounted_shortest_path_without_slip():
    env = LavaGrid(8, slip=0.0)
    gamma = 0.9
    for goal in env.goals:
        q = value_iteration(env, goal, caution=0.0, gamma=gamma)
        v = q.max(axis=1)
        # BFS distances to the goal through free cells
        dist = np.full(env.n_cells, -1)
        dist[goal] = 0
        todo = deque([goal])
        while todo:
            c = todo.popleft()
            for a in range(4):
                n = int(env.next_cell[c, a])
                if n != c and dist[n] < 0:  # moves are symmetric on this grid
                    dist[n] = dist[c] + 1
                    todo.append(n)
        free = ~env.lava
        expected = -(1 - gamma ** dist[free]) / (1 - gamma)
        np.testing.assert_allclose(v[free], expected, atol=1e-8)


def test_value_iteration_solves_bellman_with_slip_and_caution():
    env = LavaGrid(8, slip=0.1)
    goal = env.goals[3]
    q = value_iteration(env, goal, caution=1.0, gamma=0.99)
    v = q.max(axis=1)
    v[goal] = 0.0
    adj = env.lava_adjacent().astype(float)
    r = -1.0 - 1.0 * (0.9 * adj[env.next_cell] + 0.1 * adj[:, None]) - 10.0 * 0.9 * env.enters_lava
    backup = r + 0.99 * (0.9 * v[env.next_cell] + 0.1 * v[:, None])
    free = ~env.lava
    free[goal] = False
    np.testing.assert_allclose(q[free], backup[free], atol=1e-7)


def test_gridworld_class_truth_is_cautious_and_reckless_models_are_not():
    env = LavaGrid(8)
    tc = gridworld_class(
        env, np.random.default_rng(0), n_potentials=2, cautions=(0.0, 0.5, 1.0), truth_caution=1.0
    )
    assert tc.probs.shape == (4 * 3 * 2, 4 * 64, 5)
    np.testing.assert_allclose(tc.probs.sum(axis=2), 1.0)
    lava_moves = np.tile(env.enters_lava, (4, 1))  # (keys, 5)
    assert (tc.probs[tc.truth][lava_moves] == 0).all()
    reckless = [i for i, lab in enumerate(tc.labels) if "kappa=0 " in lab]
    assert all((tc.probs[i][lava_moves] > 0).all() for i in reckless)
    assert tc.prior_truth == pytest.approx(1 / 24)


def test_bandit_class_twins_and_hazard():
    env, tc = bandit_class(np.random.default_rng(2), n_twins=4, n_random=5)
    pd = tc.probs[tc.truth]
    assert (pd[:4, 4] == 0).all() and (pd[4:, 4] > 0).all()
    twins = [i for i, lab in enumerate(tc.labels) if lab.startswith("twin")]
    for i in twins:  # twins equal the truth outside the hazard contexts
        np.testing.assert_allclose(tc.probs[i][4:], pd[4:])
        assert (tc.probs[i][:4, 4] > 0).all()
    assert env.is_hazard(np.array([0, 5]), np.array([4, 4])).tolist() == [True, False]


def test_geodesic_around_a_disc():
    # straight line when the disc is not in the way
    assert geodesic_to_goal(0.0, 2.0, 1.0, 2.0, 0.0, 0.0, 1.0) == pytest.approx(1.0)
    # from (-2, 0) to (2, 0) around the unit disc: two tangents sqrt(3) and an arc pi/3
    d = geodesic_to_goal(-2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0)
    assert d == pytest.approx(2 * math.sqrt(3) + math.pi / 3)


def test_nav_demonstrator_never_enters_the_hazard():
    env = HazardNav2D()
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=1)
    for _ in range(400):
        p = nav_demonstrator(env, obs)
        assert p.sum() == pytest.approx(1.0)
        unsafe = env.in_hazard(env.next_positions(obs[:2]))
        assert (p[unsafe] == 0).all()
        obs, _, _, _, info = env.step(int(rng.choice(5, p=p)))
        assert not info["hazard"]
    assert nav_features(env, obs).shape == (N_NAV_FEATURES,)


def test_nav_hazard_repels():
    env = HazardNav2D()
    env.reset(seed=0)
    env.pos = np.array([0.5, 0.72])  # just above the disc (radius 0.2 around the centre)
    _, reward, _, _, info = env.step(2)  # down, into the disc
    assert info["hazard"] and reward == -1.0
    assert np.linalg.norm(env.pos - env.centre) == pytest.approx(env.radius + env.goal_margin)
