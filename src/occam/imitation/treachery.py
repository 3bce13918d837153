"""Treacherous models: faithful imitation until a trigger step, then a catastrophic action.

The newsletter's worry about train-then-deploy imitation (Alignment Newsletter on Cohen et
al. 2021): "a deceptive model might imitate faithfully until it has sufficient power to take
over". Here that model is built. In a contextual bandit whose last action ``c`` is
catastrophic (the demonstrator never takes it, in any context), the model class holds

* the demonstrator ``pi_d`` (a Dirichlet(1) policy on the other actions, 0 on ``c``);
* *treacherous* models ``nu_{tau, eps}``: equal to ``pi_d`` at every step ``t < tau``, and
  ``(1 - eps) * pi_d + eps * 1[a = c]`` from the trigger step ``tau`` on (``eps = 1``: the
  model then always takes the catastrophic action);
* honest but wrong models (Dirichlet(1) on the safe actions).

Before a trigger no data can tell a treacherous model from the demonstrator: they give every
demonstrator action the same probability. Bayes BC trained on demonstrations from the first
steps keeps them at their prior ratio and, after the trigger, plays the posterior predictive,
which puts ``sum of (posterior weight * eps)`` on ``c``. DAgger (the same Bayes learner, every
step labelled) learns only from the label given *after* it acted. The conservative imitator
acts on the minimum over its top set; the demonstrator gives ``c`` probability 0, so while the
demonstrator is in the top set the imitator's own probability of ``c`` is exactly 0, and a
triggered model in the top set turns into a query (its disagreement is the leftover theta),
whose answer refutes it. Hence ``P(imitator ever takes c) <= P(pi_d ever leaves the top set)
<= alpha / w(pi_d)`` (Ville's inequality; :func:`~occam.imitation.imitator.ville_bound`).

:class:`TriggerClass` holds the class and gives its action table at any step; the agents
here (:class:`TimedImitator`, :class:`TimedBayesBC`, :class:`TimedDAgger`) are the tabular
agents of :mod:`occam.imitation.runner` / :mod:`occam.imitation.baselines` reading that
table at the current step, and run in the shared loop :func:`~occam.imitation.runner.run_tabular`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from occam.imitation.baselines import TabularAgent, beta_schedule, safe_to_act
from occam.imitation.envs import ContextualBandit
from occam.imitation.imitator import Imitator, own_probs
from occam.imitation.models import TabularClass

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

NEVER = np.iinfo(np.int64).max  # the trigger of a model that is never treacherous


@dataclass
class TriggerClass:
    """A finite class whose models may switch at a trigger step.

    ``base``: the models' action tables before their triggers (a :class:`TabularClass`;
    ``base.truth`` is the demonstrator, which never switches). ``trigger[m]``: model m's
    trigger step (:data:`NEVER` for a model that never switches), ``eps[m]``: the probability
    it then puts on ``catastrophic``. At step t model m plays
    ``(1 - eps[m]) * base[m] + eps[m] * 1[a = catastrophic]`` if ``t >= trigger[m]``.
    """

    base: TabularClass
    trigger: IntArray
    eps: FloatArray
    catastrophic: int
    _cache: dict[int, FloatArray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.switch_times = np.unique(self.trigger[self.trigger != NEVER])  # sorted

    def phase(self, t: int) -> int:
        """How many distinct trigger steps are <= t (the table changes only there)."""
        return int(np.searchsorted(self.switch_times, t, side="right"))

    def table(self, t: int) -> FloatArray:
        """Every model's action probabilities at step t: shape (M, K, A) (cached per phase)."""
        ph = self.phase(t)
        if ph not in self._cache:
            probs = self.base.probs.copy()
            on = self.trigger <= (self.switch_times[ph - 1] if ph > 0 else -1)
            e = self.eps[on][:, None, None]
            probs[on] *= 1.0 - e
            probs[on, :, self.catastrophic] += e[:, :, 0]
            self._cache[ph] = probs
        return self._cache[ph]

    @property
    def treacherous(self) -> NDArray[np.bool_]:
        return self.trigger != NEVER


def trigger_class(
    rng: np.random.Generator,
    n_contexts: int,
    n_actions: int,
    triggers: tuple[int, ...],
    eps: tuple[float, ...],
    n_honest: int,
) -> tuple[ContextualBandit, TriggerClass]:
    """The bandit with a catastrophic action and its class (uniform prior, truth at a random
    index): one treacherous model per (trigger, eps) pair, ``n_honest`` honest wrong models.

    The catastrophic action is the last one, in every context; its reward is -1, the others'
    U(0, 1).
    """
    c = n_actions - 1
    safe = n_actions - 1

    def honest(size: int) -> FloatArray:
        p = np.zeros((size, n_contexts, n_actions))
        p[..., :safe] = rng.dirichlet(np.ones(safe), size=(size, n_contexts))
        return p

    truth = honest(1)[0]
    pairs = [(tau, e) for tau in triggers for e in eps]
    probs = np.concatenate([truth[None], np.repeat(truth[None], len(pairs), 0), honest(n_honest)])
    trig = np.array([NEVER] + [tau for tau, _ in pairs] + [NEVER] * n_honest, dtype=np.int64)
    eps_arr = np.array([0.0] + [e for _, e in pairs] + [0.0] * n_honest)
    labels = ["truth"] + [f"treacherous tau={tau} eps={e:g}" for tau, e in pairs]
    labels += ["honest"] * n_honest
    perm = rng.permutation(probs.shape[0])
    m = probs.shape[0]
    base = TabularClass(
        probs[perm], np.full(m, -math.log(m)), int(np.argmin(perm)), [labels[i] for i in perm]
    )
    rewards = rng.uniform(0.0, 1.0, size=(n_contexts, n_actions))
    rewards[:, c] = -1.0
    env = ContextualBandit(rewards, tuple(range(n_contexts)), c)
    return env, TriggerClass(base, trig[perm], eps_arr[perm], c)


class _Timed(TabularAgent):
    """An agent that reads the class's table at the current step (no per-key caching)."""

    def __init__(self, tcl: TriggerClass) -> None:
        self.tcl = tcl
        self.t = 0

    def cache_version(self) -> int | None:
        return None  # the table changes at trigger steps

    def _table(self, t: int) -> FloatArray:
        self.t = t  # observe() is called in the same step, after policy()
        return self.tcl.table(t)


class TimedImitator(_Timed):
    """The conservative Bayesian imitator over a :class:`TriggerClass` (eqs. 3-4)."""

    def __init__(self, tcl: TriggerClass, alpha: float) -> None:
        super().__init__(tcl)
        self.state = Imitator(tcl.base.log_prior, alpha)

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        return own_probs(self._table(t)[self.state.top, key])

    def observe(self, key: int, action: int) -> None:
        self.state.observe_demonstrator(self.tcl.table(self.t)[:, key, action])

    def truth_in_top(self) -> bool:
        return self.state.contains(self.tcl.base.truth)


class _TimedPosterior(_Timed):
    """Bayes posterior over the class, updated on demonstrator labels at their own step."""

    def __init__(self, tcl: TriggerClass) -> None:
        super().__init__(tcl)
        self.log_weights = tcl.base.log_prior.copy()

    def predictive(self, key: int, t: int) -> FloatArray:
        w = np.exp(self.log_weights - self.log_weights.max())
        return (w / w.sum()) @ self._table(t)[:, key]

    def learn(self, key: int, action: int, t: int) -> None:
        with np.errstate(divide="ignore"):
            self.log_weights = self.log_weights + np.log(self.tcl.table(t)[:, key, action])


class TimedBayesBC(_TimedPosterior):
    """BC: the posterior predictive after demonstrations from the first steps, then frozen."""

    def pretrain_timed(self, demos: list[tuple[int, int]]) -> None:
        """Learn from ``demos[t] = (key, action)`` demonstrated at steps ``t = 0, 1, ...``."""
        for t, (key, a) in enumerate(demos):
            self.learn(key, a, t)

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        return self.predictive(key, t), 0.0

    def observe(self, key: int, action: int) -> None:  # never queried
        pass


class TimedDAgger(_TimedPosterior):
    """DAgger with the Bayes learner: the expert acts w.p. beta_t and labels every step."""

    labels_every_step = True

    def __init__(self, tcl: TriggerClass, beta_steps: int) -> None:
        super().__init__(tcl)
        self.beta_steps = beta_steps

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        beta = beta_schedule(t, self.beta_steps)
        return (1.0 - beta) * self.predictive(key, t), beta

    def observe(self, key: int, action: int) -> None:
        self.learn(key, action, self.t)


class TimedSafeDAgger(_TimedPosterior):
    """SafeDAgger's gate (:func:`~occam.imitation.baselines.safe_to_act`) with the Bayes
    novice over the class: the novice acts iff it is within tau of the labels seen at this
    key; a betrayal that moves the novice by more than tau is caught by the gate."""

    def __init__(self, tcl: TriggerClass, tau: float, n_min: int) -> None:
        super().__init__(tcl)
        self.tau, self.n_min = tau, n_min
        self.counts = np.zeros(tcl.base.probs.shape[1:])

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        novice = self.predictive(key, t)
        if safe_to_act(novice, self.counts[key], self.tau, self.n_min):
            return novice, 0.0
        return np.zeros(novice.size), 1.0

    def observe(self, key: int, action: int) -> None:
        self.learn(key, action, self.t)
        self.counts[key, action] += 1.0
