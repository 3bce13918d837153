"""Task distributions: a prior over a latent parameter theta, and episodes drawn given theta.

A prediction task is named ``family_p1_p2...`` (so that it survives ``--set tasks=a,b``):

* ``beta_A_B``            Bernoulli(p), p ~ Beta(A, B); outcomes 0/1 (1 = heads).
* ``dirichlet_A1_..._AK`` Categorical(pi), pi ~ Dirichlet(A1..AK); outcomes 0..K-1.
* ``gamma_A_B``           Exponential(lam), lam ~ Gamma(A, rate B); outcomes x >= 0.
* ``normalgamma_M_K_A_B`` Normal(mu, 1/tau), tau ~ Gamma(A, rate B), mu ~ N(M, 1/(K tau)).

Each task knows its Bayes-optimal predictor (:mod:`occam.meta_bayes.bayes`), its sufficient
statistic, and how an observation is fed to a network. Episodes are (B, T) arrays drawn with
a NumPy generator, so a seed fixes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from occam.meta_bayes import bayes

Family = Literal["bernoulli", "categorical", "exponential", "gaussian"]

_FAMILY_OF_PRIOR: dict[str, tuple[Family, int | None]] = {
    "beta": ("bernoulli", 2),
    "dirichlet": ("categorical", None),
    "gamma": ("exponential", 2),
    "normalgamma": ("gaussian", 4),
}

# Quantile-quadrature nodes for KL between continuous predictives (Gauss-Legendre on (0, 1)).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(96)
QUAD_U = 0.5 * (_GL_NODES + 1.0)
QUAD_W = 0.5 * _GL_WEIGHTS


@dataclass(frozen=True)
class PredictionTask:
    """A conjugate sequential-prediction task. ``prior`` holds the prior's hyper-parameters."""

    name: str
    family: Family
    prior: tuple[float, ...]

    @property
    def discrete(self) -> bool:
        return self.family in ("bernoulli", "categorical")

    @property
    def n_outcomes(self) -> int:
        """K for discrete tasks (2 for a coin), 0 for continuous ones."""
        return len(self.prior) if self.family == "categorical" else (2 if self.discrete else 0)

    @property
    def n_inputs(self) -> int:
        """Width of the network input: one-hot outcome (or features) plus a start flag."""
        return self.n_outcomes + 1 if self.discrete else 3

    @property
    def n_outputs(self) -> int:
        """Logits (discrete), Lomax (shape, scale) or Student-t (df, loc, scale) parameters."""
        return {"bernoulli": 2, "categorical": len(self.prior), "exponential": 2, "gaussian": 3}[
            self.family
        ]

    @cached_property
    def dirichlet(self) -> np.ndarray:
        """The discrete prior as Dirichlet parameters in outcome order (Beta(a, b) -> (b, a))."""
        if self.family == "bernoulli":
            a, b = self.prior
            return np.array([b, a])  # outcome 0 = tails (weight b), 1 = heads (weight a)
        return np.asarray(self.prior, dtype=np.float64)

    # ---- sampling -------------------------------------------------------------------

    def sample(self, batch: int, length: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``batch`` tasks from the prior and one episode of ``length`` from each.

        Returns x: (batch, length), int64 outcomes (discrete) or float64 observations.
        """
        if self.discrete:
            pi = rng.dirichlet(self.dirichlet, size=batch)  # (B, K); Beta = 2-outcome Dirichlet
            pi = np.nan_to_num(pi, nan=1.0 / len(self.dirichlet))  # tiny-alpha round-off
            u = rng.random((batch, length, 1))
            return (u > np.cumsum(pi, axis=1)[:, None, :-1]).sum(axis=-1).astype(np.int64)
        if self.family == "exponential":
            a, b = self.prior
            lam = rng.gamma(a, 1.0 / b, size=(batch, 1))
            return rng.exponential(1.0, size=(batch, length)) / lam
        mu0, k0, a0, b0 = self.prior
        tau = rng.gamma(a0, 1.0 / b0, size=(batch, 1))
        mu = mu0 + rng.standard_normal((batch, 1)) / np.sqrt(k0 * tau)
        return mu + rng.standard_normal((batch, length)) / np.sqrt(tau)

    # ---- the Bayes-optimal agent ------------------------------------------------------

    def statistics(self, x: np.ndarray) -> np.ndarray:
        """The Bayes agent's state before each step: sufficient statistics of x_<t.

        x: (B, T). Returns (B, T, S): outcome counts (discrete), (n, sum x) (exponential) or
        (n, sum x, sum x^2) (Gaussian).
        """
        if self.discrete:
            return bayes.counts_before(x, self.n_outcomes)
        B, T = x.shape
        n = np.broadcast_to(np.arange(T, dtype=np.float64), (B, T))
        cols = [n, _cum_before(x)]
        if self.family == "gaussian":
            cols.append(_cum_before(x**2))
        return np.stack(cols, axis=-1)

    def bayes_output(self, stats: np.ndarray) -> np.ndarray:
        """The Bayes agent's output map: predictive distribution from statistics (..., S).

        Discrete: probabilities (..., K). Exponential: Lomax (shape, scale). Gaussian:
        Student-t (df, loc, scale).
        """
        if self.discrete:
            return bayes.dirichlet_categorical_predictive(self.dirichlet, stats)
        if self.family == "exponential":
            a, b = self.prior
            shape, scale = bayes.gamma_exponential_predictive(a, b, stats[..., 0], stats[..., 1])
            return np.stack([shape, scale], axis=-1)
        df, loc, scale = bayes.normal_gamma_predictive(
            self.prior, stats[..., 0], stats[..., 1], stats[..., 2]
        )
        return np.stack([df, loc, scale], axis=-1)

    # ---- the Bayes agent as a state machine (Mikulik et al. 2020, sec. 3) ---------------
    #
    # The state-machine simulation regresses between memory states and the Bayes state, so the
    # Bayes state is written in coordinates of comparable scale: outcome counts (discrete),
    # (n, log b_n) for the exponential task and (n, mu_n, log b_n) for the Gaussian one. Each
    # is a bijection of the sufficient statistic of ``statistics`` (n known), so it is the same
    # state machine; the raw (n, sum x, sum x^2) would weight one heavy-tailed draw's x^2 above
    # everything else in a mean-squared error.

    def bayes_state(self, x: np.ndarray) -> np.ndarray:
        """The Bayes agent's state before each step, in simulation coordinates: (B, T, S).

        Discrete: counts (S = K). Exponential: (n, log b_n), b_n = b + sum x (S = 2).
        Gaussian: (n, mu_n, log b_n) of the Normal-Gamma posterior (S = 3).
        """
        return self.state_of_statistics(self.statistics(x))

    def state_of_statistics(self, stats: np.ndarray) -> np.ndarray:
        """Sufficient statistics (..., S) -> simulation coordinates (..., S)."""
        if self.discrete:
            return stats
        n = stats[..., 0]
        if self.family == "exponential":
            return np.stack([n, np.log(self.prior[1] + stats[..., 1])], axis=-1)
        mu0, k0, a0, b0 = self.prior
        _, loc, scale = bayes.normal_gamma_predictive(self.prior, n, stats[..., 1], stats[..., 2])
        kn, an = k0 + n, a0 + n / 2.0
        bn = scale**2 * an * kn / (kn + 1.0)  # invert scale = sqrt(b_n (k_n + 1) / (a_n k_n))
        return np.stack([n, loc, np.log(bn)], axis=-1)

    def output_of_state(self, state: np.ndarray) -> np.ndarray:
        """The Bayes output map on simulation coordinates (..., S): the predictive's
        parameters, as :meth:`bayes_output`. Off-lattice states are accepted: counts are
        clipped at 0 and n is rounded to an integer in [0, inf) (mapped states are not exact)."""
        if self.discrete:
            return self.bayes_output(np.maximum(state, 0.0))
        n = np.maximum(np.rint(state[..., 0]), 0.0)
        if self.family == "exponential":
            return np.stack([self.prior[0] + n, np.exp(state[..., 1])], axis=-1)
        mu0, k0, a0, b0 = self.prior
        kn, an = k0 + n, a0 + n / 2.0
        scale = np.sqrt(np.exp(state[..., 2]) * (kn + 1.0) / (an * kn))
        return np.stack([2.0 * an, state[..., 1], scale], axis=-1)

    def state_transition(self, state: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The Bayes agent's transition: the state after observing x. state (..., S), x (...).

        Discrete: counts + one-hot(x). Exponential: (n + 1, log(b_n + x)). Gaussian: the
        sequential Normal-Gamma update kappa' = kappa + 1, mu' = (kappa mu + x) / kappa',
        b' = b + kappa (x - mu)^2 / (2 kappa') (Murphy 2007, sec. 8).
        """
        if self.discrete:
            return state + np.eye(self.n_outcomes)[x]
        n = state[..., 0]
        if self.family == "exponential":
            return np.stack([n + 1.0, np.logaddexp(state[..., 1], np.log(x))], axis=-1)
        mu0, k0, a0, b0 = self.prior
        kn = k0 + np.maximum(n, 0.0)  # mapped states may stray below n = 0
        mu, bn = state[..., 1], np.exp(state[..., 2])
        mu_new = (kn * mu + x) / (kn + 1.0)
        b_new = bn + kn * (x - mu) ** 2 / (2.0 * (kn + 1.0))
        return np.stack([n + 1.0, mu_new, np.log(b_new)], axis=-1)

    def bayes_predictive(self, x: np.ndarray) -> np.ndarray:
        """Bayes predictive of x_t given x_<t for every step: (B, T, n_outputs)."""
        return self.bayes_output(self.statistics(x))

    def bayes_log_prob(self, x: np.ndarray) -> np.ndarray:
        """log P_Bayes(x_t | x_<t) for every step: (B, T)."""
        pred = self.bayes_predictive(x)
        return self.log_prob(pred, x)

    def log_prob(self, pred: np.ndarray, x: np.ndarray) -> np.ndarray:
        """log density of x under predictive parameters ``pred`` (..., n_outputs), elementwise."""
        if self.discrete:
            return np.log(np.take_along_axis(pred, x[..., None], axis=-1)[..., 0])
        if self.family == "exponential":
            return bayes.lomax_logpdf(x, pred[..., 0], pred[..., 1])
        return bayes.student_t_logpdf(x, pred[..., 0], pred[..., 1], pred[..., 2])

    def quadrature_points(self, pred: np.ndarray) -> np.ndarray:
        """Quantiles of the Bayes predictive at the Gauss-Legendre nodes: (..., n_nodes).

        KL(P || Q) = int_0^1 [log p(F^-1(u)) - log q(F^-1(u))] du, computed with weights
        ``QUAD_W`` (1-D quadrature over the predictive's quantiles, exact in the limit).
        """
        u = QUAD_U
        if self.family == "exponential":
            return bayes.lomax_ppf(u, pred[..., 0:1], pred[..., 1:2])
        # Student-t: the degrees of freedom 2 a_n = 2 a0 + n take one value per step, so the
        # standard quantiles are computed once per distinct df (scipy's t.ppf is slow).
        dfs, inverse = np.unique(pred[..., 0], return_inverse=True)
        z = bayes.student_t_ppf(u[None, :], dfs[:, None], np.zeros((1, 1)), np.ones((1, 1)))
        return pred[..., 1:2] + pred[..., 2:3] * z[inverse.reshape(pred.shape[:-1])]

    # ---- what the network sees --------------------------------------------------------

    def network_inputs(self, x: np.ndarray) -> np.ndarray:
        """Input at step t encodes x_{t-1}, with a start flag at t = 0: (B, T, n_inputs), float32.

        Discrete: one-hot of the previous outcome. Continuous: two squashed features of the
        previous observation (log1p and clipped value for exponential; asinh and clipped
        value for Gaussian) so that heavy-tailed draws do not saturate the first layer.
        """
        B, T = x.shape
        out = np.zeros((B, T, self.n_inputs), dtype=np.float32)
        out[:, 0, -1] = 1.0
        prev = x[:, :-1]
        if self.discrete:
            out[:, 1:, : self.n_outcomes] = np.eye(self.n_outcomes, dtype=np.float32)[prev]
        elif self.family == "exponential":
            out[:, 1:, 0] = np.log1p(prev)
            out[:, 1:, 1] = np.minimum(prev, 10.0) / 10.0
        else:
            out[:, 1:, 0] = np.arcsinh(prev)
            out[:, 1:, 1] = np.clip(prev, -10.0, 10.0) / 10.0
        return out


def _cum_before(v: np.ndarray) -> np.ndarray:
    c = np.cumsum(v, axis=1)
    return np.concatenate([np.zeros_like(c[:, :1]), c[:, :-1]], axis=1)


def parse_task(name: str) -> PredictionTask:
    """``"beta_0.2_0.2"`` -> PredictionTask("beta_0.2_0.2", "bernoulli", (0.2, 0.2))."""
    head, *rest = name.strip().split("_")
    if head not in _FAMILY_OF_PRIOR:
        raise ValueError(
            f"unknown task {name!r}: the prior must be one of {', '.join(_FAMILY_OF_PRIOR)}"
        )
    family, n_params = _FAMILY_OF_PRIOR[head]
    try:
        prior = tuple(float(v) for v in rest)
    except ValueError:
        raise ValueError(f"task {name!r}: prior parameters must be numbers") from None
    if n_params is not None and len(prior) != n_params:
        raise ValueError(f"task {name!r}: a {head} prior takes {n_params} parameters")
    if family == "categorical" and len(prior) < 2:
        raise ValueError(f"task {name!r}: a Dirichlet prior needs at least 2 parameters")
    if not all(np.isfinite(prior)):
        raise ValueError(f"task {name!r}: prior parameters must be finite")
    positive = prior if family != "gaussian" else prior[1:]
    if any(p <= 0 for p in positive):
        raise ValueError(f"task {name!r}: prior parameters must be > 0")
    return PredictionTask(name=name, family=family, prior=prior)


def concentrated(task: PredictionTask, factor: float) -> PredictionTask:
    """The same discrete task with ``factor`` times the prior's concentration (same mean):
    Beta(1,1) -> Beta(10,10) for factor 10. The mismatched prior of the study's controls."""
    if not task.discrete:
        raise ValueError(f"task {task.name!r}: a concentrated prior needs a discrete task")
    head = "beta" if task.family == "bernoulli" else "dirichlet"
    return parse_task("_".join([head, *(f"{factor * p:g}" for p in task.prior)]))
