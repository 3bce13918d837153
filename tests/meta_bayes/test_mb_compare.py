"""Agents, behavioural metrics, state-machine simulation and probes on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from occam.meta_bayes import compare
from occam.meta_bayes.agents import MemoryAgent
from occam.meta_bayes.tasks import parse_task


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_step_equals_sequence_forward(cell: str) -> None:
    torch.manual_seed(0)
    agent = MemoryAgent(4, 3, hidden=8, cell=cell, value_head=True)  # type: ignore[arg-type]
    x = torch.randn(5, 6, 4)
    out, value, _ = agent(x)
    state = None
    for t in range(6):
        o, v, state = agent.step(x[:, t], state)
        torch.testing.assert_close(o, out[:, t], atol=1e-5, rtol=1e-5)
        assert value is not None and v is not None
        torch.testing.assert_close(v, value[:, t], atol=1e-5, rtol=1e-5)
    mem = agent.memory_states(x)
    assert mem.shape == (5, 6, agent.state_size)
    torch.testing.assert_close(agent.head_from_state(mem), out, atol=1e-5, rtol=1e-5)


def test_kl_is_zero_for_the_bayes_predictive_itself() -> None:
    for name in ("dirichlet_1_1_1", "gamma_1_1", "normalgamma_0_1_1_1"):
        task = parse_task(name)
        x = task.sample(50, 6, np.random.default_rng(0))
        pb = task.bayes_predictive(x)
        agent_pred = np.log(pb) if task.discrete else pb
        assert np.abs(compare.kl_bayes_agent(task, pb, agent_pred)).max() < 1e-6


@pytest.mark.parametrize("name", ["gamma_1_1", "normalgamma_0_1_1_1"])
def test_quadrature_kl_matches_monte_carlo(name: str) -> None:
    task = parse_task(name)
    rng = np.random.default_rng(3)
    x = task.sample(1, 4, rng)
    pb = task.bayes_predictive(x)[0, 3]  # one predictive distribution
    q = pb * np.array([1.3, 0.8] if task.family == "exponential" else [0.7, 1.0, 1.2])
    if task.family == "gaussian":
        q[1] = pb[1] + 0.3
    kl_quad = compare.kl_bayes_agent(task, pb[None, None], q[None, None])[0, 0]
    if task.family == "exponential":
        shape, scale = pb
        draws = stats.lomax.rvs(shape, scale=scale, size=2_000_000, random_state=rng)
    else:
        draws = stats.t.rvs(pb[0], pb[1], pb[2], size=2_000_000, random_state=rng)
    kl_mc = np.mean(task.log_prob(pb, draws) - task.log_prob(q, draws))
    assert kl_quad == pytest.approx(kl_mc, rel=0.03)


def test_counts_along_bandit_histories() -> None:
    actions = np.array([[0, 1, 0, 0]])
    rewards = np.array([[1.0, 0.0, 0.0, 1.0]])
    s, f = compare.counts_along(actions, rewards, 2)
    np.testing.assert_array_equal(s[0], [[0, 0], [1, 0], [1, 0], [1, 0]])
    np.testing.assert_array_equal(f[0], [[0, 0], [0, 0], [0, 1], [1, 1]])


def test_state_machine_simulation_detects_asymmetry() -> None:
    """A is a redundant encoding: B = g(A) exactly, but A carries noise dimensions B lacks.

    Then A -> B is learnable (low D_s) while B -> A is not (high D_s): the asymmetry.
    """
    rng = np.random.default_rng(0)
    n = 4000
    b = rng.integers(0, 10, size=(n, 2)).astype(float)  # "counts"
    noise = rng.standard_normal((n, 6))
    a = np.hstack([np.tanh(b / 5.0), b[:, :1] * b[:, 1:] / 50.0, noise])  # 9-dim "memory"
    spec = compare.MapSpec(hidden=64, steps=800, batch=256, lr=3e-3)
    _, ds_ab = compare.fit_map(a, b, 3200, spec, seed=0)
    _, ds_ba = compare.fit_map(b, a, 3200, spec, seed=1)
    assert ds_ab < 0.05
    assert ds_ba > 0.4  # the 6 noise dims are ~2/3 of A's variance and cannot be predicted
    assert ds_ab < ds_ba


def test_linear_probe_r2() -> None:
    rng = np.random.default_rng(0)
    states = rng.standard_normal((2000, 5))
    targets = np.stack([states @ np.arange(5.0) + 1.0, rng.standard_normal(2000)], axis=1)
    r2 = compare.linear_probe_r2(states, targets, 1500, ridge=1e-6)
    assert r2[0] == pytest.approx(1.0, abs=1e-6)
    assert abs(r2[1]) < 0.05


def test_prediction_simulation_and_probes_run_on_a_small_agent() -> None:
    task = parse_task("beta_1_1")
    torch.manual_seed(0)
    agent = MemoryAgent(task.n_inputs, task.n_outputs, hidden=8)
    x = task.sample(40, 6, np.random.default_rng(0))
    sim = compare.simulate_prediction(agent, task, x, compare.MapSpec(steps=20), seed=0)
    assert all(np.isfinite(v) and v >= 0 for v in sim.as_dict().values())
    probes = compare.probe_prediction(agent, task, x)
    assert set(probes) == {"heads", "tails", "posterior mean", "posterior variance"}


def test_thompson_probs_match_the_exact_sum() -> None:
    # P(theta_0 > theta_1) for integer Beta parameters in closed form (Evan Miller's sum):
    # sum_{i < a0} B(a1 + i, b1 + b0) / ((b0 + i) B(1 + i, b0) B(a1, b1))
    from scipy.special import betaln

    def exact(a0: int, b0: int, a1: int, b1: int) -> float:
        i = np.arange(a0)
        logs = betaln(a1 + i, b1 + b0) - np.log(b0 + i) - betaln(1 + i, b0) - betaln(a1, b1)
        return float(np.exp(logs).sum())

    probs = compare.thompson_probs_two_arms(np.ones(2), np.ones(2), horizon=6)
    s = np.array([[0, 0], [3, 1], [1, 4], [5, 0], [2, 2]])
    f = np.array([[0, 0], [1, 2], [0, 1], [0, 5], [3, 1]])
    p = probs(s, f)
    want = [exact(1 + s0, 1 + f0, 1 + s1, 1 + f1) for (s0, s1), (f0, f1) in zip(s, f, strict=True)]
    np.testing.assert_allclose(p[:, 0], want, atol=1e-5)
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert p[0, 0] == pytest.approx(0.5) and p[3, 0] > 0.99  # 5 heads against 5 tails
