"""The online loop: one agent, one environment, never reset, and what gets measured.

At every step t the agent splits probability between its own actions (``own``, shape (A,))
and the demonstrator (``theta``). One uniform draw decides: an own action, or a query, in
which case the demonstrator acts and the agent observes its action. DAgger-type agents are
also given a demonstrator label at every step. Per step we record (see :class:`Trace`):

* ``theta`` -- the query probability; ``queried`` -- the demonstrator was consulted;
* ``unsafe`` -- the agent itself took an action with ``pi_d(a | h) = 0``;
* ``over`` -- some own-action probability exceeded the demonstrator's, ``own(a) > pi_d(a)``;
* ``truth_in_top`` -- the demonstrator's model was in the imitator's top set;
* ``reward``, ``goal``, ``hazard`` -- what the environment reported; ``keys`` -- the
  observation (E1/E2) for heat maps.

Randomness: the environment is reset once with ``seed``; the loop's uniforms come from
:func:`agent_rng` ``(seed)``, a stream independent of the environment's (seeding both with the
bare ``seed`` would hand them the same numbers: in E1 the context and the demonstrator's
action at a step would be drawn from one uniform). Given the seed every number is
reproducible.

Every loop takes either a fast core from :mod:`occam.imitation.envs` or its ``gymnasium.Env``
from :mod:`occam.imitation.gym` (also through ``gymnasium.make`` and its wrappers): it acts
only through ``reset``/``step`` and reads the task's geometry from :func:`core_of`. Given the
seed both give the same trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from occam.imitation.baselines import NavAgent, NavDemonstrator, TabularAgent
from occam.imitation.envs import ContextualBandit, HazardNav2D, core_of
from occam.imitation.imitator import (
    THETA_EPS,
    Imitator,
    own_probs,
    sample_own_or_query,
    top_set,
)
from occam.imitation.models import MLPEnsemble, TabularClass, nav_demonstrator, nav_features

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass
class Trace:
    """Per-step record of one run (all arrays have shape (T,))."""

    theta: FloatArray
    queried: BoolArray
    demo_acted: BoolArray
    unsafe: BoolArray
    over: BoolArray
    truth_in_top: BoolArray
    hazard: BoolArray
    goal: BoolArray
    reward: FloatArray
    keys: NDArray[np.int64]

    @classmethod
    def empty(cls, horizon: int) -> Trace:
        z = np.zeros(horizon, dtype=bool)
        return cls(
            theta=np.zeros(horizon),
            queried=z.copy(),
            demo_acted=z.copy(),
            unsafe=z.copy(),
            over=z.copy(),
            truth_in_top=np.ones(horizon, dtype=bool),
            hazard=z.copy(),
            goal=z.copy(),
            reward=np.zeros(horizon),
            keys=np.zeros(horizon, dtype=np.int64),
        )


def agent_rng(seed: int) -> np.random.Generator:
    """The agent's and demonstrator's random stream for a run whose environment is reset with
    ``seed``: a ``SeedSequence`` over ``(seed, 1)``, independent of ``default_rng(seed)``."""
    return np.random.default_rng([seed, 1])


def _sample(probs: FloatArray, u: float) -> int:
    """Inverse-CDF sample from ``probs`` (shape (A,)) with uniform ``u``; never a 0-prob action."""
    a = sample_own_or_query(probs / probs.sum(), u)
    if a == probs.size or probs[a] <= 0.0:  # rounding at the top end
        a = int(np.flatnonzero(probs > 0)[-1])
    return a


# ---------------------------------------------------------------------------------------
# The imitator as an agent
# ---------------------------------------------------------------------------------------


class TabularImitator(TabularAgent):
    """The conservative Bayesian imitator over a :class:`TabularClass` (E1, E2)."""

    def __init__(self, tc: TabularClass, alpha: float) -> None:
        self.tc = tc
        self.state = Imitator(tc.log_prior, alpha)
        self._in_top = self.state.contains(tc.truth)

    def cache_version(self) -> int | None:
        return self.state.n_queries

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        return own_probs(self.tc.probs[self.state.top, key])

    def policy_table(self) -> tuple[FloatArray, FloatArray]:
        """:meth:`policy` at every key at once: ``own`` (K, A) and ``theta`` (K,)."""
        own = self.tc.probs[self.state.top].min(axis=0)
        theta = 1.0 - own.sum(axis=1)
        return own, np.where(theta > THETA_EPS, theta, 0.0)

    def observe(self, key: int, action: int) -> None:
        self.state.observe_demonstrator(self.tc.probs[:, key, action])
        self._in_top = self.state.contains(self.tc.truth)

    def truth_in_top(self) -> bool:
        return self._in_top


class PredictiveImitator(TabularImitator):
    """Control: the imitator's query probability, but own actions from the posterior predictive.

    ``own = (1 - theta) * sum_m w_m p_m(. | key)``: the same posterior, the same top set and
    (at the same history) the same theta as :class:`TabularImitator`; only the conservative
    minimum of eq. 3 is replaced by the Bayes mixture. Any action some model in the class
    allows gets positive probability, so the event bound has no reason to hold.
    """

    def _weights(self) -> FloatArray:
        w = np.exp(self.state.log_weights - self.state.log_weights.max())
        return w / w.sum()

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        _, theta = super().policy(key, t)
        return (1.0 - theta) * (self._weights() @ self.tc.probs[:, key]), theta

    def policy_table(self) -> tuple[FloatArray, FloatArray]:
        _, theta = super().policy_table()
        w = self._weights()  # key by key, exactly as policy() sums: the traces stay identical
        pred = np.stack([w @ self.tc.probs[:, key] for key in range(self.tc.probs.shape[1])])
        return (1.0 - theta)[:, None] * pred, theta


class FrozenImitator(TabularImitator):
    """Control: the imitator whose posterior is never updated (it asks but does not learn)."""

    def observe(self, key: int, action: int) -> None:
        return None


class InertImitator(TabularImitator):
    """Control: the conservative minimum without queries; the leftover theta goes to ``stay``.

    Safe for the same reason as the imitator (it never gives an action more probability than
    every top-set model does) but it never asks, so it never learns and mostly stands still.
    """

    def __init__(self, tc: TabularClass, alpha: float, stay: int) -> None:
        super().__init__(tc, alpha)
        self.stay = stay

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        own, theta = super().policy(key, t)
        own = own.copy()
        own[self.stay] += theta
        return own, 0.0

    def policy_table(self) -> tuple[FloatArray, FloatArray]:
        own, theta = super().policy_table()
        own = own.copy()
        own[:, self.stay] += theta
        return own, np.zeros_like(theta)


class EnsembleImitator(NavAgent):
    """E3: the imitator with an MLP ensemble as approximate posterior.

    Member weights are prequential: each queried label is scored by every member *before*
    the member trains on it, ``log w_k += log p_k(a | s)`` -- the ensemble analogue of Bayes'
    rule (training-set likelihood would be overfit). The top set follows the alpha rule on
    these weights; ``own(a) = min_{k in top} p_k(a | s)``, set to 0 below ``floor`` (softmax
    outputs are never exactly 0, so without a floor tiny hazard probabilities leak);
    ``theta = 1 - sum(own)``. With ``prequential=False`` the weights stay equal, and with
    any ``alpha <= 1/K`` every member is always in the top set (the plain ensemble minimum).
    """

    def __init__(
        self,
        ens: MLPEnsemble,
        refit_every: int,
        fit_steps: int,
        alpha: float,
        floor: float,
        prequential: bool = True,
    ) -> None:
        super().__init__(ens, refit_every, fit_steps)
        self.alpha, self.floor, self.prequential = alpha, floor, prequential
        self.log_weights = np.zeros(ens.n_members)
        self.top = top_set(self.log_weights, alpha)

    def policy(self, x: FloatArray, t: int) -> tuple[FloatArray, float]:
        own, _ = own_probs(self.ens.probs(x)[self.top])
        own = np.where(own < self.floor, 0.0, own)
        return own, max(0.0, 1.0 - float(own.sum()))

    def observe(self, x: FloatArray, action: int) -> None:
        if self.prequential:  # score the label before training on it
            p = self.ens.probs(x)[:, action]
            self.log_weights = self.log_weights + np.log(np.maximum(p, 1e-300))
            self.top = top_set(self.log_weights, self.alpha)
        super().observe(x, action)


class InertEnsembleImitator(EnsembleImitator):
    """Control (E3): the ensemble imitator's floored minimum without queries; leftover -> stay."""

    def __init__(self, ens: MLPEnsemble, alpha: float, floor: float, stay: int) -> None:
        super().__init__(ens, 1, 1, alpha, floor, prequential=False)
        self.stay = stay

    def policy(self, x: FloatArray, t: int) -> tuple[FloatArray, float]:
        own, theta = super().policy(x, t)
        own = own.copy()
        own[self.stay] += theta
        return own, 0.0


# ---------------------------------------------------------------------------------------
# Loops
# ---------------------------------------------------------------------------------------


def demonstrations(env: Any, tc: TabularClass, n: int, seed: int) -> list[tuple[int, int]]:
    """``n`` (key, action) pairs from the demonstrator acting alone in a fresh copy of env."""
    rng = agent_rng(seed)
    pd = tc.probs[tc.truth]
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(n):
        a = _sample(pd[obs], float(rng.random()))
        out.append((int(obs), a))
        obs, *_ = env.step(a)
    return out


def run_tabular(env: Any, tc: TabularClass, agent: TabularAgent, horizon: int, seed: int) -> Trace:
    """Run ``agent`` for ``horizon`` steps in ``env`` (E1/E2); ``tc``'s truth demonstrates."""
    rng = agent_rng(seed)
    u = rng.random((horizon, 3))
    pd_all = tc.probs[tc.truth]
    n_actions = pd_all.shape[1]
    tr = Trace.empty(horizon)
    obs, _ = env.reset(seed=seed)
    cache: dict[int, tuple[list[float], float, bool]] = {}
    version: int | None = -1
    for t in range(horizon):
        key = int(obs)
        v = agent.cache_version()
        if v is None or v != version:
            cache.clear()
            version = v
        entry = cache.get(key)
        if entry is None:
            own, theta = agent.policy(key, t)
            entry = (own.tolist(), theta, bool((own > pd_all[key]).any()))
            if v is not None:
                cache[key] = entry
        own_list, theta, over = entry
        tr.truth_in_top[t] = agent.truth_in_top()  # at the time of the decision
        pd = pd_all[key]
        a = sample_own_or_query(own_list, float(u[t, 0]))
        if a == n_actions:  # query: the demonstrator acts, and the agent sees its action
            a = _sample(pd, float(u[t, 1]))
            tr.demo_acted[t] = tr.queried[t] = True
            agent.observe(key, a)
        else:
            tr.unsafe[t] = pd[a] == 0.0
            if agent.labels_every_step:
                tr.queried[t] = True
                agent.observe(key, _sample(pd, float(u[t, 2])))
        tr.theta[t] = theta
        tr.over[t] = over
        tr.keys[t] = key
        obs, reward, _, _, info = env.step(a)
        tr.reward[t] = reward
        tr.hazard[t] = info["hazard"]
        tr.goal[t] = info.get("goal", False)
    return tr


def run_bandit(
    env: ContextualBandit | Any, tc: TabularClass, agent: TabularAgent, horizon: int, seed: int
) -> Trace:
    """E1's fast path: the same trace as :func:`run_tabular`, computed between queries in blocks.

    E1's contexts are i.i.d. and do not depend on actions, and an agent whose policy only
    changes when it observes the demonstrator (``cache_version`` not None, no per-step labels)
    plays a fixed table between two queries. So draw all contexts up front (from the
    environment's own stream), tabulate the policy over contexts, find the next step whose
    uniform lands in the query slice, fill the steps before it with vectorised own actions,
    and let the demonstrator act there. Same seeds, same trace, bit for bit.
    """
    if agent.labels_every_step or agent.cache_version() is None:
        return run_tabular(env, tc, agent, horizon, seed)
    core = core_of(env)
    rng = agent_rng(seed)
    u = rng.random((horizon, 3))
    pd = tc.probs[tc.truth]  # (S, A)
    n_contexts, n_actions = pd.shape
    tr = Trace.empty(horizon)
    s0, _ = env.reset(seed=seed)
    ctx = np.concatenate([[s0], core.next_contexts(horizon - 1)]).astype(np.int64)
    tr.keys[:] = ctx
    t = 0
    while t < horizon:
        if isinstance(agent, TabularImitator):
            own, theta = agent.policy_table()  # (S, A), (S,)
        else:
            table = [agent.policy(s, t) for s in range(n_contexts)]
            own = np.stack([o for o, _ in table])
            theta = np.array([th for _, th in table])
        cum = np.cumsum(own, axis=1)  # the same sequential sums as sample_own_or_query
        over = (own > pd).any(axis=1)
        in_top = agent.truth_in_top()
        # The next query: the first step whose uniform lands beyond the own-action mass.
        j, width = t, 512
        while j < horizon:
            hi = min(horizon, j + width)
            hits = np.flatnonzero(u[j:hi, 0] >= cum[ctx[j:hi], -1])
            if hits.size:
                j += int(hits[0])
                break
            j, width = hi, 2 * width
        s = ctx[t:j]
        a = (u[t:j, 0, None] >= cum[s]).sum(axis=1)
        tr.theta[t:j] = theta[s]
        tr.over[t:j] = over[s]
        tr.truth_in_top[t:j] = in_top
        tr.unsafe[t:j] = pd[s, a] == 0.0
        tr.reward[t:j] = core.rewards[s, a]
        tr.hazard[t:j] = core.is_hazard(s, a)
        if j >= horizon:
            break
        sq = int(ctx[j])
        aq = _sample(pd[sq], float(u[j, 1]))
        tr.theta[j], tr.over[j], tr.truth_in_top[j] = theta[sq], over[sq], in_top
        tr.demo_acted[j] = tr.queried[j] = True
        tr.reward[j] = core.rewards[sq, aq]
        tr.hazard[j] = bool(core.is_hazard(np.array([sq]), np.array([aq]))[0])
        agent.observe(sq, aq)
        t = j + 1
    return tr


def nav_demonstrations(
    env: HazardNav2D | Any, n: int, seed: int, demo_kwargs: dict[str, float]
) -> list[tuple[FloatArray, int]]:
    """``n`` (features, action) pairs from E3's demonstrator acting alone."""
    rng = agent_rng(seed)
    core = core_of(env)
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(n):
        a = _sample(nav_demonstrator(core, obs, **demo_kwargs), float(rng.random()))
        out.append((nav_features(core, obs), a))
        obs, *_ = env.step(a)
    return out


def run_nav(
    env: HazardNav2D | Any,
    agent: NavAgent | NavDemonstrator,
    horizon: int,
    seed: int,
    demo_kwargs: dict[str, float],
) -> Trace:
    """E3's loop: like :func:`run_tabular`, with the analytic demonstrator and features."""
    rng = agent_rng(seed)
    u = rng.random((horizon, 3))
    tr = Trace.empty(horizon)
    core = core_of(env)
    obs, _ = env.reset(seed=seed)
    for t in range(horizon):
        x = nav_features(core, obs)
        pd = nav_demonstrator(core, obs, **demo_kwargs)
        own, theta = agent.policy(x, t)
        a = sample_own_or_query(own.tolist(), float(u[t, 0]))
        if a == pd.size:
            a = _sample(pd, float(u[t, 1]))
            tr.demo_acted[t] = tr.queried[t] = True
            agent.observe(x, a)
        else:
            tr.unsafe[t] = pd[a] == 0.0
            if agent.labels_every_step:
                tr.queried[t] = True
                agent.observe(x, _sample(pd, float(u[t, 2])))
        tr.theta[t] = theta
        tr.over[t] = bool((own > pd).any())
        obs, reward, _, _, info = env.step(a)
        tr.reward[t] = reward
        tr.hazard[t] = info["hazard"]
        tr.goal[t] = info["goal"]
    return tr


# ---------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------


def log_bins(horizon: int, n_bins: int = 24) -> NDArray[np.int64]:
    """Bin edges 0 = e_0 < e_1 < ... < e_n = horizon, log-spaced from 1 (for log-log plots)."""
    edges = np.unique(np.round(np.geomspace(1, horizon, n_bins)).astype(np.int64))
    return np.concatenate([[0], edges[edges > 0]]) if edges[0] != 0 else edges


def binned_mean(x: FloatArray, edges: NDArray[np.int64]) -> FloatArray:
    """Mean of x over each bin ``[edges[i], edges[i+1])``."""
    return np.array([x[lo:hi].mean() for lo, hi in zip(edges[:-1], edges[1:], strict=True)])


class QueryTrace(Protocol):
    """What :func:`query_summary` reads of a run: per-step query probability and queries."""

    @property
    def theta(self) -> FloatArray: ...

    @property
    def queried(self) -> NDArray[np.bool_]: ...


def query_summary(tr: QueryTrace) -> dict[str, float]:
    """The query summaries every run shares (JSON-ready floats): its length, queries in all
    and in the first tenth, and the mean query probability theta over the first and the last
    tenth of its steps (at least one step each)."""
    horizon = tr.theta.size
    dec = max(1, horizon // 10)
    return {
        "steps": float(horizon),
        "queries": float(tr.queried.sum()),
        "queries_first_tenth": float(tr.queried[:dec].sum()),
        "theta_first_decile": float(tr.theta[:dec].mean()),
        "theta_last_decile": float(tr.theta[-dec:].mean()),
    }


def summarise(tr: Trace, event_steps: int = 0) -> dict[str, float]:
    """Scalar summaries of one run (JSON-ready floats).

    ``unsafe_within_k``: whether the agent took an unsafe action in its first ``event_steps``
    steps (an indicator of the event E_k; averaged over runs it estimates P(E_k)).
    """
    horizon = tr.theta.size
    dec = max(1, horizon // 10)
    left = ~tr.truth_in_top
    return {
        "steps": float(horizon),
        "queries": float(tr.queried.sum()),
        "queries_first_tenth": float(tr.queried[: max(1, horizon // 10)].sum()),
        "unsafe_within_k": float(tr.unsafe[:event_steps].any()),
        "demo_acted": float(tr.demo_acted.sum()),
        "unsafe": float(tr.unsafe.sum()),
        "over": float(tr.over.sum()),
        "over_in_top": float((tr.over & tr.truth_in_top).sum()),
        "truth_ever_left": float(left.any()),
        "truth_left_after_start": float(left[1:].any() if horizon > 1 else 0.0),
        "theta_first_decile": float(tr.theta[:dec].mean()),
        "theta_last_decile": float(tr.theta[-dec:].mean()),
        "sum_theta_cubed": float((tr.theta**3).sum()),
        "sum_theta_cubed_half": float((tr.theta[: horizon // 2] ** 3).sum()),
        "hazard_per_1e4": float(tr.hazard.sum() * 1e4 / horizon),
        "goals_per_1e4": float(tr.goal.sum() * 1e4 / horizon),
        "reward_per_1e4": float(tr.reward.sum() * 1e4 / horizon),
    }


def loglog_slope(cum: FloatArray, t: NDArray[np.int64], lo: int) -> float:
    """Slope of ``log cum`` against ``log t`` from point ``lo`` to the last point.

    ``cum``: cumulative counts at the steps ``t`` (same shape). 0 if nothing happened at all
    (no growth), NaN if the count is 0 at ``lo`` but not at the end (slope undefined).
    """
    if cum[lo] <= 0:
        return 0.0 if cum[-1] <= 0 else math.nan
    return math.log(cum[-1] / cum[lo]) / math.log(t[-1] / t[lo])
