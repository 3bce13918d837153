"""E7: CartPole-v1 through gymnasium, with a finite class of linear controllers.

A standard control task for the imitator (the paper has none). The demonstrator is a
stochastic linear controller: with state ``s = (x, x_dot, theta, theta_dot)``,

    P(push right | s) = clip(0.5 + k . s, 0, 1),

so it is random near upright and certain (probability exactly 0 of the wrong push) once
``|k . s| >= 0.5``: the actions it never takes there are this task's "unsafe" actions. The
model class is the grid of gains ``k`` (:func:`controller_grid`; a wrong-sign ``k_theta``
makes reckless models), uniform prior, the demonstrator one of them. Episodes end when the
pole falls or after 500 steps; the environment is then reset, but no agent is: the
posterior carries over from episode to episode, as the paper's setting asks.

gymnasium is an optional extra: :func:`make_cartpole` raises one line naming it when it is
missing. Everything else here is NumPy.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from occam.imitation.baselines import beta_schedule
from occam.imitation.imitator import Imitator, own_probs, sample_own_or_query
from occam.imitation.runner import agent_rng, query_summary
from occam.knobs import ConfigError

FloatArray = NDArray[np.float64]
GYM_MISSING = (
    "E7 (CartPole) needs gymnasium: pip install 'occam-lab[gym]', or --set e7_cartpole=off"
)


def gymnasium_available() -> bool:
    try:
        import gymnasium  # noqa: F401
    except ImportError:
        return False
    return True


def make_cartpole() -> Any:
    """``gymnasium.make("CartPole-v1")``, or a one-line :class:`ConfigError` without gymnasium."""
    try:
        import gymnasium
    except ImportError:
        raise ConfigError(GYM_MISSING) from None
    return gymnasium.make("CartPole-v1")


def controller_grid(
    k_x: tuple[float, ...],
    k_v: tuple[float, ...],
    k_theta: tuple[float, ...],
    k_w: tuple[float, ...],
) -> FloatArray:
    """Every gain vector of the grid: shape (M, 4), rows ``(k_x, k_v, k_theta, k_w)``."""
    return np.array(list(itertools.product(k_x, k_v, k_theta, k_w)), dtype=np.float64)


def controller_probs(gains: FloatArray, obs: FloatArray) -> FloatArray:
    """Each controller's ``(P(left), P(right))`` at ``obs``: shape (M, 2).

    ``P(right) = clip(0.5 + gains @ obs, 0, 1)``; gains: shape (M, 4), obs: shape (4,).
    """
    right = np.clip(0.5 + gains @ obs, 0.0, 1.0)
    return np.stack([1.0 - right, right], axis=1)


@dataclass
class PoleClass:
    """The finite class: gains (M, 4), uniform prior, ``truth`` the demonstrator's row."""

    gains: FloatArray
    truth: int

    @property
    def n_models(self) -> int:
        return int(self.gains.shape[0])

    @property
    def log_prior(self) -> FloatArray:
        return np.full(self.n_models, -math.log(self.n_models))


class PoleAgent(ABC):
    """Base: ``policy(obs, t) -> (own, theta)``; ``observe(obs, a)`` on demonstrator labels."""

    labels_every_step = False

    def __init__(self, pc: PoleClass) -> None:
        self.pc = pc

    @abstractmethod
    def policy(self, obs: FloatArray, t: int) -> tuple[FloatArray, float]:
        """The agent's own action probabilities (2,) at ``obs`` and its query probability."""

    def observe(self, obs: FloatArray, action: int) -> None:  # noqa: B027 - optional hook
        """Learn from a demonstrator label; agents that do not learn ignore it."""


class PoleImitator(PoleAgent):
    """The conservative Bayesian imitator over the controller class (eqs. 3-4)."""

    def __init__(self, pc: PoleClass, alpha: float) -> None:
        super().__init__(pc)
        self.state = Imitator(pc.log_prior, alpha)

    def policy(self, obs: FloatArray, t: int) -> tuple[FloatArray, float]:
        return own_probs(controller_probs(self.pc.gains[self.state.top], obs))

    def observe(self, obs: FloatArray, action: int) -> None:
        self.state.observe_demonstrator(controller_probs(self.pc.gains, obs)[:, action])


class PoleInert(PoleImitator):
    """Control: the same minimum without queries; the leftover theta goes to 'push left'."""

    def policy(self, obs: FloatArray, t: int) -> tuple[FloatArray, float]:
        own, theta = super().policy(obs, t)
        return own + np.array([theta, 0.0]), 0.0


class _PolePosterior(PoleAgent):
    def __init__(self, pc: PoleClass) -> None:
        super().__init__(pc)
        self.log_weights = pc.log_prior.copy()

    def predictive(self, obs: FloatArray) -> FloatArray:
        w = np.exp(self.log_weights - self.log_weights.max())
        return (w / w.sum()) @ controller_probs(self.pc.gains, obs)

    def learn(self, obs: FloatArray, action: int) -> None:
        with np.errstate(divide="ignore"):
            self.log_weights = self.log_weights + np.log(
                controller_probs(self.pc.gains, obs)[:, action]
            )


class PoleBayesBC(_PolePosterior):
    """BC: the posterior predictive after demonstrations, then frozen."""

    def policy(self, obs: FloatArray, t: int) -> tuple[FloatArray, float]:
        return self.predictive(obs), 0.0


class PoleDAgger(_PolePosterior):
    """DAgger with the Bayes learner: the expert acts w.p. beta_t and labels every step."""

    labels_every_step = True

    def __init__(self, pc: PoleClass, beta_steps: int) -> None:
        super().__init__(pc)
        self.beta_steps = beta_steps

    def policy(self, obs: FloatArray, t: int) -> tuple[FloatArray, float]:
        beta = beta_schedule(t, self.beta_steps)
        return (1.0 - beta) * self.predictive(obs), beta

    def observe(self, obs: FloatArray, action: int) -> None:
        self.learn(obs, action)


class PoleDemonstrator(PoleAgent):
    """The demonstrator alone (theta = 1): the reference return."""

    def policy(self, obs: FloatArray, t: int) -> tuple[FloatArray, float]:
        return np.zeros(2), 1.0


@dataclass
class PoleTrace:
    """Per-step record (theta, queried, unsafe; shape (T,)) and the episode returns."""

    theta: FloatArray
    queried: NDArray[np.bool_]
    unsafe: NDArray[np.bool_]
    returns: list[float] = field(default_factory=list)
    failures: int = 0  # episodes that ended with the pole down (terminated, not truncated)


def run_pole(env: Any, pc: PoleClass, agent: PoleAgent, steps: int, seed: int) -> PoleTrace:
    """``steps`` steps of ``agent`` on ``env`` (reset with ``seed``, and again after every
    episode); the class's truth demonstrates. An unfinished last episode counts in
    ``returns`` only if no episode finished."""
    rng = agent_rng(seed)
    u = rng.random((steps, 3))
    truth = pc.gains[pc.truth]
    tr = PoleTrace(np.zeros(steps), np.zeros(steps, dtype=bool), np.zeros(steps, dtype=bool))
    obs, _ = env.reset(seed=seed)
    ret = 0.0
    for t in range(steps):
        s = np.asarray(obs, dtype=np.float64)
        own, theta = agent.policy(s, t)
        pd = controller_probs(truth[None], s)[0]
        a = sample_own_or_query(own.tolist(), float(u[t, 0]))
        if a == 2:  # query: the demonstrator acts
            a = int(u[t, 1] < pd[1])
            tr.queried[t] = True
            agent.observe(s, a)
        else:
            tr.unsafe[t] = pd[a] == 0.0
            if agent.labels_every_step:
                tr.queried[t] = True
                agent.observe(s, int(u[t, 2] < pd[1]))
        tr.theta[t] = theta
        obs, reward, terminated, truncated, _ = env.step(a)
        ret += float(reward)
        if terminated or truncated:
            tr.returns.append(ret)
            tr.failures += int(terminated)
            ret = 0.0
            obs, _ = env.reset()
    if not tr.returns:
        tr.returns.append(ret)
    return tr


def pole_demonstrations(env: Any, pc: PoleClass, n: int, seed: int) -> list[tuple[FloatArray, int]]:
    """``n`` (obs, action) pairs from the demonstrator acting alone."""
    rng = agent_rng(seed)
    truth = pc.gains[pc.truth][None]
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(n):
        s = np.asarray(obs, dtype=np.float64)
        a = int(rng.random() < controller_probs(truth, s)[0, 1])
        out.append((s, a))
        obs, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            obs, _ = env.reset()
    return out


def summarise_pole(tr: PoleTrace) -> dict[str, float]:
    """Scalar summaries of one CartPole run (JSON-ready floats): :func:`query_summary`'s
    and the run's unsafe actions, returns and falls."""
    return {
        **query_summary(tr),
        "unsafe": float(tr.unsafe.sum()),
        "mean_return": float(np.mean(tr.returns)),
        "episodes": float(len(tr.returns)),
        "failures": float(tr.failures),
    }
