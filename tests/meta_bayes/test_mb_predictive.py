"""Closed-form posterior predictives against Monte Carlo over the prior, and the task plumbing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from occam.meta_bayes import beta_bernoulli_predictive
from occam.meta_bayes.bayes import (
    counts_before,
    dirichlet_categorical_predictive,
    gamma_exponential_predictive,
    lomax_logpdf,
    lomax_ppf,
    normal_gamma_predictive,
    student_t_logpdf,
)
from occam.meta_bayes.tasks import parse_task

RNG = np.random.default_rng(1234)


@pytest.mark.parametrize(
    ("a", "b", "n", "expected"),
    [
        (10, 10, 1, 11 / 21),  # concentrated near 0.5: moves a little (0.524)
        (1, 1, 1, 2 / 3),  # Laplace's rule of succession
        (0.2, 0.2, 1, 1.2 / 1.4),  # mass near 0 and 1: moves strongly (0.857)
        (10, 10, 5, 15 / 25),
        (1, 1, 5, 6 / 7),
        (0.2, 0.2, 5, 5.2 / 5.4),
        (3, 1, 0, 0.75),
    ],
)
def test_coin_numbers_after_n_heads(a: float, b: float, n: int, expected: float) -> None:
    assert beta_bernoulli_predictive(a, b, [1] * n) == pytest.approx(expected, abs=1e-12)


def test_beta_bernoulli_matches_monte_carlo_over_the_prior() -> None:
    """P(1 | h) = E[p^(s+1) (1-p)^f] / E[p^s (1-p)^f] with p drawn from the prior."""
    history = [1, 0, 1, 1, 0, 1]
    s, f = sum(history), len(history) - sum(history)
    for a, b in [(1.0, 1.0), (10.0, 10.0), (0.7, 2.0)]:
        p = RNG.beta(a, b, size=2_000_000)
        w = p**s * (1 - p) ** f
        mc = float((w * p).sum() / w.sum())
        assert beta_bernoulli_predictive(a, b, history) == pytest.approx(mc, abs=3e-3)


def test_beta_bernoulli_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="alpha"):
        beta_bernoulli_predictive(0.0, 1.0, [1])
    with pytest.raises(ValueError, match="0 and 1"):
        beta_bernoulli_predictive(1.0, 1.0, [1, 2])


def test_dirichlet_categorical_matches_monte_carlo() -> None:
    alpha = np.array([0.5, 1.0, 2.0])
    counts = np.array([3.0, 0.0, 1.0])
    pi = RNG.dirichlet(alpha, size=1_000_000)
    w = np.prod(pi**counts, axis=1)
    mc = (w[:, None] * pi).sum(0) / w.sum()
    closed = dirichlet_categorical_predictive(alpha, counts)
    np.testing.assert_allclose(closed, mc, atol=4e-3)
    np.testing.assert_allclose(closed, (alpha + counts) / (alpha.sum() + counts.sum()))


def test_counts_before_is_aligned_with_the_prediction_step() -> None:
    x = np.array([[1, 0, 1, 1]])
    c = counts_before(x, 2)
    np.testing.assert_array_equal(c[0], [[0, 0], [0, 1], [1, 1], [1, 2]])


def test_lomax_predictive_matches_prior_importance_weighting() -> None:
    """Gamma(a, rate b) prior on an exponential rate: Lomax predictive vs weighted prior samples."""
    a, b = 1.0, 1.0
    data = np.array([0.3, 1.7, 0.9])
    lam = RNG.gamma(a, 1.0 / b, size=2_000_000)
    w = lam ** len(data) * np.exp(-lam * data.sum())
    xs = np.array([0.05, 0.5, 2.0, 6.0])
    mc = (w[:, None] * lam[:, None] * np.exp(-lam[:, None] * xs)).sum(0) / w.sum()
    shape, scale = gamma_exponential_predictive(a, b, len(data), data.sum())
    np.testing.assert_allclose(np.exp(lomax_logpdf(xs, shape, scale)), mc, rtol=1e-2)
    # the quantile function inverts the CDF 1 - (1 + x/scale)^-shape
    u = np.array([0.1, 0.5, 0.99])
    x = lomax_ppf(u, shape, scale)
    np.testing.assert_allclose(1 - (1 + x / scale) ** -shape, u, rtol=1e-12)


def test_student_t_predictive_matches_prior_importance_weighting() -> None:
    """Normal-Gamma prior: Student-t predictive vs likelihood-weighted draws of (mu, tau)."""
    prior = (0.5, 2.0, 2.0, 1.5)
    mu0, k0, a0, b0 = prior
    data = np.array([0.2, 1.1, -0.4, 0.8])
    tau = RNG.gamma(a0, 1.0 / b0, size=2_000_000)
    mu = mu0 + RNG.standard_normal(tau.size) / np.sqrt(k0 * tau)
    loglik = stats.norm.logpdf(data[None, :], mu[:, None], 1 / np.sqrt(tau[:, None])).sum(1)
    w = np.exp(loglik - loglik.max())
    xs = np.array([-1.0, 0.3, 1.5])
    dens = stats.norm.pdf(xs[None, :], mu[:, None], 1 / np.sqrt(tau[:, None]))
    mc = (w[:, None] * dens).sum(0) / w.sum()
    df, loc, scale = normal_gamma_predictive(prior, len(data), data.sum(), (data**2).sum())
    np.testing.assert_allclose(np.exp(student_t_logpdf(xs, df, loc, scale)), mc, rtol=2e-2)
    np.testing.assert_allclose(
        student_t_logpdf(xs, df, loc, scale), stats.t.logpdf(xs, df, loc, scale)
    )


def test_prior_predictive_at_the_first_step() -> None:
    """Before any data the predictive is the prior predictive (n = 0 rows)."""
    task = parse_task("normalgamma_0_1_1_1")
    pred = task.bayes_predictive(np.zeros((1, 3)))
    np.testing.assert_allclose(pred[0, 0], [2.0, 0.0, np.sqrt(2.0)])
    task = parse_task("gamma_2_3")
    np.testing.assert_allclose(task.bayes_predictive(np.ones((1, 2)))[0], [[2.0, 3.0], [3.0, 4.0]])


@pytest.mark.parametrize("name", ["beta_1_1", "beta_0.2_0.2", "dirichlet_1_2_3"])
def test_sampled_marginals_match_the_prior_mean(name: str) -> None:
    task = parse_task(name)
    x = task.sample(20000, 5, np.random.default_rng(0))
    freq = np.bincount(x.reshape(-1), minlength=task.n_outcomes) / x.size
    np.testing.assert_allclose(freq, task.dirichlet / task.dirichlet.sum(), atol=0.01)


def test_network_inputs_start_token_and_alignment() -> None:
    task = parse_task("dirichlet_1_1_1")
    x = np.array([[2, 0, 1]])
    inp = task.network_inputs(x)
    np.testing.assert_array_equal(inp[0], [[0, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0]])


def test_parse_task_validates_names() -> None:
    assert parse_task("beta_0.2_0.2").prior == (0.2, 0.2)
    assert parse_task("normalgamma_-1_1_1_1").family == "gaussian"
    for bad in ("poisson_1", "beta_1", "beta_1_x", "gamma_0_1", "dirichlet_1"):
        with pytest.raises(ValueError):
            parse_task(bad)
