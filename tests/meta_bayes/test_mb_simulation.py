"""The Bayes state machine of every task, condition (i) and the simulation's controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from occam.meta_bayes import compare
from occam.meta_bayes import experiments as ex
from occam.meta_bayes.agents import MemoryAgent
from occam.meta_bayes.tasks import parse_task

TASKS = ("beta_1_1", "dirichlet_1_2_3", "gamma_2_0.5", "normalgamma_0_1_1_1", "normalgamma_1_3_2_4")


@pytest.mark.parametrize("name", TASKS)
def test_bayes_state_machine_is_consistent(name: str) -> None:
    """tau_B(state_t, x_t) = state_{t+1} and the output map gives the closed-form predictive."""
    task = parse_task(name)
    x = task.sample(64, 9, np.random.default_rng(1))
    state = task.bayes_state(x)
    np.testing.assert_allclose(task.state_transition(state[:, :-1], x[:, :-1]), state[:, 1:])
    np.testing.assert_allclose(task.output_of_state(state), task.bayes_predictive(x), rtol=1e-10)


def test_normal_gamma_state_by_hand() -> None:
    """(n, mu_n, log b_n) after x = (1, 3) under NormalGamma(0, 1, 1, 1) (Murphy 2007, eq. 86-89):
    kappa = 3, mu = 4/3, b = 1 + 0.5 * 2 + 1 * 2 * (2 - 0)^2 / (2 * 3) = 10/3."""
    task = parse_task("normalgamma_0_1_1_1")
    state = task.bayes_state(np.array([[1.0, 3.0, 0.0]]))[0, 2]
    np.testing.assert_allclose(state, [2.0, 4.0 / 3.0, np.log(10.0 / 3.0)])


def test_commutation_error_of_exact_and_constant_maps() -> None:
    task = parse_task("dirichlet_1_1_1")
    x = task.sample(50, 10, np.random.default_rng(0))
    truth = task.bayes_state(x)
    assert compare.commutation_error(task, truth, truth, x, per_dim=False) == pytest.approx(0.0)
    # a constant map never moves, so it misses every update: error = sum ||e_x||^2 / same = 1
    const = np.broadcast_to(truth.mean((0, 1)), truth.shape)
    assert compare.commutation_error(task, const, truth, x, per_dim=False) == pytest.approx(1.0)


def test_shuffle_pairing_keeps_steps_and_permutes_episodes() -> None:
    E, T = 30, 5
    rows = np.stack(np.meshgrid(np.arange(E), np.arange(T), indexing="ij"), -1).reshape(E * T, 2)
    shuffled = compare.shuffle_pairing(rows.astype(float), E, np.random.default_rng(0))
    np.testing.assert_array_equal(shuffled[:, 1], rows[:, 1])  # every row keeps its step
    per = shuffled.reshape(E, T, 2)[..., 0]
    assert all(sorted(per[:, t]) == list(range(E)) for t in range(T))  # a permutation per step
    assert (per[:, 0] != np.arange(E)).mean() > 0.8


def test_dissimilarity_per_dimension() -> None:
    target = np.array([[0.0, 0.0], [2.0, 20.0]])  # variances 2 and 200 around the means
    pred = target + np.array([[1.0, 0.0], [1.0, 0.0]])  # error 2 in dim 0 only
    assert compare.dissimilarity(pred, target) == pytest.approx(2.0 / 202.0)
    assert compare.dissimilarity(pred, target, per_dim=True) == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["gamma_1_1", "normalgamma_0_1_1_1"])
def test_continuous_simulation_and_its_controls(name: str) -> None:
    task = parse_task(name)
    torch.manual_seed(0)
    agent = MemoryAgent(task.n_inputs, task.n_outputs, hidden=16)
    x = task.sample(200, 10, np.random.default_rng(0))
    spec = compare.MapSpec(steps=300)
    sim = compare.simulate_prediction(agent, task, x, spec, seed=0, controls=True)
    values = sim.as_dict()
    assert set(values) >= {"ds_shuffled", "commutation", "commutation_shuffled"}
    assert all(np.isfinite(v) and v >= 0 for v in values.values())
    # the memory is driven by the observations: the real pairing explains more of the Bayes
    # state than the step number alone, and its increments follow the updates better
    assert sim.ds_agent_to_bayes < sim.ds_shuffled  # type: ignore[operator]
    assert sim.commutation < sim.commutation_shuffled  # type: ignore[operator]


def test_coarse_target_predictive_is_the_sum_over_outcomes() -> None:
    """Scoring only [x = 0] of a Dirichlet(a) source is a Beta(a_0, sum of the rest) coin."""
    source = parse_task("dirichlet_0.5_1_2")
    coin = parse_task("beta_0.5_3")
    x = source.sample(20, 8, np.random.default_rng(0))
    p_coin = coin.bayes_predictive(ex.coarse_target(x))[..., 1]
    np.testing.assert_allclose(p_coin, source.bayes_predictive(x)[..., 0])
