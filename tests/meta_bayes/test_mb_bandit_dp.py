"""The exact bandit programme against a memoised recursion, known values and reference policies."""

from __future__ import annotations

import numpy as np
import pytest

from occam.meta_bayes import bandit_bayes_value, solve_bandit
from occam.meta_bayes.bayes import (
    bandit_value_memoised,
    bayes_policy,
    evaluate_count_policy,
    gittins_index,
    greedy_policy,
    sample_bandit_tasks,
    thompson_policy,
)


@pytest.mark.parametrize("horizon", [0, 1, 2, 3, 5, 8])
@pytest.mark.parametrize(
    ("alphas", "betas"),
    [([1, 1], [1, 1]), ([2.0, 0.5], [1.0, 0.5]), ([0.3, 4.0], [0.3, 5.0])],
)
def test_two_arms_match_memoised_recursion(
    alphas: list[float], betas: list[float], horizon: int
) -> None:
    assert bandit_bayes_value(alphas, betas, horizon) == pytest.approx(
        bandit_value_memoised(alphas, betas, horizon), abs=1e-10
    )


@pytest.mark.parametrize(
    ("alphas", "betas", "horizon"),
    [([1, 1, 1], [1, 1, 1], 6), ([2, 1, 0.5], [1, 3, 0.5], 5), ([1, 2, 1, 1], [1, 1, 2, 1], 3)],
)
def test_k_arms_match_memoised_recursion(
    alphas: list[float], betas: list[float], horizon: int
) -> None:
    assert bandit_bayes_value(alphas, betas, horizon) == pytest.approx(
        bandit_value_memoised(alphas, betas, horizon), abs=1e-10
    )


def test_known_values_two_uniform_arms() -> None:
    assert bandit_bayes_value([1, 1], [1, 1], 10) == pytest.approx(6.0218, abs=1e-4)
    assert bandit_bayes_value([1, 1], [1, 1], 20) == pytest.approx(12.4313, abs=1e-4)
    assert bandit_bayes_value([1, 1], [1, 1], 50) == pytest.approx(31.9967, abs=1e-4)


def test_horizon_100_two_arms_runs() -> None:
    sol = solve_bandit([1, 1], [1, 1], 100)
    assert sol.value == pytest.approx(64.9184, abs=1e-4)
    assert sol.n_states == 4_598_126  # C(T + 4, 4) beliefs


def test_horizon_one_is_the_best_prior_mean_and_one_arm_is_horizon_times_mean() -> None:
    assert bandit_bayes_value([2, 1, 1], [1, 3, 1], 1) == pytest.approx(2 / 3)
    assert bandit_bayes_value([3.0], [2.0], 7) == pytest.approx(7 * 0.6)
    assert bandit_bayes_value([1, 1], [1, 1], 0) == 0.0


def test_value_is_between_best_prior_arm_and_oracle() -> None:
    T = 15
    v = bandit_bayes_value([1, 1], [1, 1], T)
    assert T * 0.5 < v < T * 2 / 3


def test_q_table_symmetric_tie_at_the_start_and_lookup() -> None:
    sol = solve_bandit([1, 1], [1, 1], 6, keep_q=True)
    q0 = sol.q_values(np.zeros((1, 2), int), np.zeros((1, 2), int))
    assert q0[0, 0] == pytest.approx(q0[0, 1], abs=1e-12)
    assert q0.max() == pytest.approx(sol.value)
    # after a success on arm 0 the Bayes agent stays with it
    best = sol.greedy_set(np.array([[1, 0]]), np.array([[0, 0]]))
    assert best.tolist() == [[True, False]]


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="equal length"):
        bandit_bayes_value([1, 1], [1], 3)
    with pytest.raises(ValueError, match="> 0"):
        bandit_bayes_value([1, 0], [1, 1], 3)
    with pytest.raises(ValueError, match="horizon"):
        bandit_bayes_value([1, 1], [1, 1], -1)


def test_reference_policies_by_monte_carlo() -> None:
    """Thompson and greedy earn less than V*; the tabulated Bayes policy earns V*."""
    a = np.ones(2)
    T = 20
    sol = solve_bandit(a, a, T, keep_q=True)
    theta, u = sample_bandit_tasks(a, a, 40000, T, np.random.default_rng(0))
    ret = {
        name: evaluate_count_policy(pol, theta, u, np.random.default_rng(1))
        for name, pol in [
            ("bayes", bayes_policy(sol)),
            ("thompson", thompson_policy(a, a)),
            ("greedy", greedy_policy(a, a)),
        ]
    }
    se = ret["bayes"].std() / np.sqrt(len(theta))
    assert abs(ret["bayes"].mean() - sol.value) < 4 * se
    assert ret["thompson"].mean() < sol.value - 0.3  # about 11.94
    diff = ret["bayes"] - ret["greedy"]  # common random numbers: a paired comparison
    assert ret["greedy"].mean() < sol.value
    assert diff.mean() > 0
    assert ret["greedy"].mean() > ret["thompson"].mean()


def test_gittins_index_matches_published_table() -> None:
    """Gittins (1979) tables, discount 0.9: nu(1, 1) = 0.7029."""
    nu = gittins_index(np.array([1.0, 5.0]), np.array([1.0, 5.0]), 0.9)
    assert nu[0] == pytest.approx(0.7029, abs=2e-4)
    assert 0.5 < nu[1] < nu[0]  # more data, less exploration bonus
