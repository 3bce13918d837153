"""Meta-training: log loss with BPTT for predictors, actor-critic for bandit agents.

Both loops draw a fresh batch of tasks from the prior at every update (the Monte-Carlo
estimate of the Bayes-optimality objective, Ortega et al. 2019 sec. 3) and never reset the
memory inside an episode. ``on_step(step, agent)`` is called before the first update, at
each step in ``report_steps`` and after the last: it is where the study evaluates and saves
checkpoints. Learning rates follow a cosine from ``lr`` down to ``lr * lr_final_frac``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from occam.meta_bayes.agents import (
    MemoryAgent,
    RNNState,
    flatten_state,
    log_prob,
    predictive_params,
)
from occam.meta_bayes.bayes import sample_bandit_tasks
from occam.meta_bayes.tasks import PredictionTask

OnStep = Callable[[int, MemoryAgent], None]


@dataclass(frozen=True)
class Schedule:
    """Optimiser settings of one training run (Adam, grad-norm clipping, cosine decay)."""

    steps: int
    batch: int
    lr: float
    lr_final_frac: float = 0.05
    clip: float = 1.0

    def lr_at(self, step: int) -> float:
        frac = step / max(self.steps, 1)
        return self.lr * (
            self.lr_final_frac + (1 - self.lr_final_frac) * 0.5 * (1 + math.cos(math.pi * frac))
        )


def _optimise(
    agent: MemoryAgent,
    schedule: Schedule,
    loss_at: Callable[[int], torch.Tensor],
    on_step: OnStep | None,
    report_steps: Iterable[int],
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
) -> None:
    """The shared loop: Adam on ``loss_at(step)``, clipping, cosine lr, reporting hooks."""
    opt = torch.optim.Adam(agent.parameters(), lr=schedule.lr)
    report = set(report_steps) | {0, schedule.steps}
    if on_step is not None:
        on_step(0, agent)
    steps: Iterable[int] = range(schedule.steps)
    if progress is not None:
        steps = progress(steps)
    for step in steps:
        for group in opt.param_groups:
            group["lr"] = schedule.lr_at(step)
        loss = loss_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(agent.parameters(), schedule.clip)
        opt.step()
        if on_step is not None and step + 1 in report:
            on_step(step + 1, agent)


# ---- prediction -----------------------------------------------------------------------


def train_predictor(
    agent: MemoryAgent,
    task: PredictionTask,
    schedule: Schedule,
    length: int,
    rng: np.random.Generator,
    on_step: OnStep | None = None,
    report_steps: Iterable[int] = (),
    distil: bool = False,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
    distil_onto: PredictionTask | None = None,
    target_of: Callable[[np.ndarray], np.ndarray] | None = None,
) -> None:
    """Meta-train a predictor by log loss on fresh episodes (or distil it onto Bayes).

    Log loss: mean over batch and steps of -log q(x_t | x_<t), back-propagated through all
    ``length`` steps. ``distil=True`` instead minimises the per-step cross-entropy to the
    Bayes predictive, -sum_k P_Bayes(k | x_<t) log q(k | x_<t) (discrete tasks only): the
    supervised initialisation of the fixed-point experiment. ``distil_onto`` names another
    task of the same family whose Bayes predictive is the target instead (episodes are still
    drawn from ``task``): the non-Bayes start of the fixed-point control. ``target_of`` maps
    the episodes x (B, T) to the discrete outcomes the log loss scores (default: x itself);
    the network still sees x (the coarse-loss agent of the minimal-statistic experiment).
    """
    if distil and not task.discrete:
        raise ValueError("distillation onto the Bayes predictive is implemented for discrete tasks")

    def loss_at(step: int) -> torch.Tensor:
        x = task.sample(schedule.batch, length, rng)
        out, _, _ = agent(torch.from_numpy(task.network_inputs(x)))
        params = predictive_params(task.family, out)
        if distil:
            target = torch.from_numpy((distil_onto or task).bayes_predictive(x)).float()
            return -(target * params).sum(-1).mean()
        if target_of is not None:
            x = target_of(x)
        xt = torch.from_numpy(x) if task.discrete else torch.from_numpy(x).float()
        return -log_prob(task.family, params, xt).mean()

    _optimise(agent, schedule, loss_at, on_step, report_steps, progress)


# ---- bandits --------------------------------------------------------------------------


@dataclass
class BanditRollout:
    """One batch of bandit episodes played by a memory agent. All tensors are (B, T[, ...])."""

    actions: torch.Tensor  # (B, T) int64
    rewards: torch.Tensor  # (B, T) float, 0/1
    log_probs: torch.Tensor  # (B, T, K) the policy at each step
    values: torch.Tensor  # (B, T) predicted mean reward per remaining step
    states: torch.Tensor | None  # (B, T, S) memory before each action, when recorded


def bandit_inputs(
    prev_action: torch.Tensor,
    prev_reward: torch.Tensor,
    t: int,
    horizon: int,
    arms: int,
    time_input: bool,
) -> torch.Tensor:
    """Input at step t: one-hot previous action (zeros at t = 0), previous reward, t / T."""
    B = prev_reward.shape[0]
    onehot = torch.zeros(B, arms)
    if t > 0:
        onehot = F.one_hot(prev_action, arms).float()
    cols = [onehot, prev_reward[:, None]]
    if time_input:
        cols.append(torch.full((B, 1), t / horizon))
    return torch.cat(cols, dim=1)


def n_bandit_inputs(arms: int, time_input: bool) -> int:
    return arms + 1 + int(time_input)


def bandit_rollout(
    agent: MemoryAgent,
    theta: np.ndarray,
    u: np.ndarray,
    gumbel: np.ndarray | None = None,
    forced_actions: np.ndarray | None = None,
    time_input: bool = True,
    record_states: bool = False,
) -> BanditRollout:
    """Play episodes (theta (B, K), reward uniforms u (B, T, K)) with the agent.

    Actions are sampled by Gumbel-max with the given noise (B, T, K), taken greedily when
    ``gumbel`` is None, or teacher-forced from ``forced_actions`` (B, T) (used to drive the
    agent along the Bayes-optimal agent's histories for the state-machine simulation).
    Gradients flow when called outside ``torch.no_grad``.
    """
    B, T, K = u.shape
    theta_t = torch.from_numpy(theta).float()
    u_t = torch.from_numpy(u).float()
    rows = torch.arange(B)
    prev_a = torch.zeros(B, dtype=torch.long)
    prev_r = torch.zeros(B)
    state: RNNState | None = None
    acts, rews, logps, vals, states = [], [], [], [], []
    for t in range(T):
        inp = bandit_inputs(prev_a, prev_r, t, T, K, time_input)
        out, value, state = agent.step(inp, state)
        logp = F.log_softmax(out, dim=-1)
        if forced_actions is not None:
            a = torch.from_numpy(forced_actions[:, t]).long()
        elif gumbel is not None:
            a = torch.argmax(logp.detach() + torch.from_numpy(gumbel[:, t]).float(), dim=-1)
        else:
            a = torch.argmax(logp.detach(), dim=-1)
        r = (u_t[rows, t, a] < theta_t[rows, a]).float()
        acts.append(a)
        rews.append(r)
        logps.append(logp)
        assert value is not None
        vals.append(value)
        if record_states:
            states.append(flatten_state(state).detach())
        prev_a, prev_r = a, r
    return BanditRollout(
        actions=torch.stack(acts, 1),
        rewards=torch.stack(rews, 1),
        log_probs=torch.stack(logps, 1),
        values=torch.stack(vals, 1),
        states=torch.stack(states, 1) if record_states else None,
    )


@dataclass(frozen=True)
class ActorCritic:
    """Actor-critic settings: REINFORCE with a learned baseline, gamma = 1 over the episode.

    The critic predicts the mean reward per remaining step (returns-to-go / steps left), which
    keeps its loss on the scale of the policy loss under gradient clipping; advantages are
    normalised per batch. The entropy bonus falls linearly from ``entropy_start`` to zero at
    ``entropy_zero_frac`` of training. ``expected_rewards``: use theta[a_t] (the reward's mean
    given the task) in place of the sampled 0/1 reward in the returns, an unbiased
    lower-variance estimate of the same objective (the agent still sees the sampled rewards).
    """

    entropy_start: float = 0.05
    entropy_zero_frac: float = 0.7
    value_coef: float = 0.5
    expected_rewards: bool = True

    def entropy_coef(self, step: int, steps: int) -> float:
        return self.entropy_start * max(0.0, 1.0 - step / max(1.0, self.entropy_zero_frac * steps))


def train_bandit(
    agent: MemoryAgent,
    alphas: np.ndarray,
    betas: np.ndarray,
    horizon: int,
    schedule: Schedule,
    ac: ActorCritic,
    rng: np.random.Generator,
    time_input: bool = True,
    on_step: OnStep | None = None,
    report_steps: Iterable[int] = (),
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
) -> None:
    """Meta-train a bandit agent by actor-critic on fresh tasks drawn from the Beta priors."""
    K = len(alphas)
    remaining = torch.arange(horizon, 0, -1, dtype=torch.float32)  # T - t

    def loss_at(step: int) -> torch.Tensor:
        theta, u = sample_bandit_tasks(alphas, betas, schedule.batch, horizon, rng)
        gumbel = rng.gumbel(size=(schedule.batch, horizon, K))
        ro = bandit_rollout(agent, theta, u, gumbel=gumbel, time_input=time_input)
        if ac.expected_rewards:
            rew = torch.from_numpy(np.take_along_axis(theta, ro.actions.numpy(), axis=1)).float()
        else:
            rew = ro.rewards
        returns = rew.flip(1).cumsum(1).flip(1)  # (B, T) rewards-to-go, gamma = 1
        adv = returns - ro.values.detach() * remaining
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        logp_a = ro.log_probs.gather(-1, ro.actions[..., None])[..., 0]
        entropy = -(ro.log_probs.exp() * ro.log_probs).sum(-1)
        policy_loss = -(logp_a * adv).mean()
        value_loss = ((ro.values - returns / remaining) ** 2).mean()
        return (
            policy_loss
            + ac.value_coef * value_loss
            - ac.entropy_coef(step, schedule.steps) * entropy.mean()
        )

    _optimise(agent, schedule, loss_at, on_step, report_steps, progress)


# ---- Ortega et al.'s other two templates ----------------------------------------------


def train_thompson(
    agent: MemoryAgent,
    alphas: np.ndarray,
    betas: np.ndarray,
    horizon: int,
    schedule: Schedule,
    rng: np.random.Generator,
    time_input: bool = True,
    on_step: OnStep | None = None,
    report_steps: Iterable[int] = (),
) -> None:
    """Meta-learn a Thompson-sampling agent (Ortega et al. 2019, sec. 4, the posterior-sampling
    template): a memory model of the optimal arm a* = argmax_i theta_i given the history.

    The agent plays by sampling an arm from its own output (Gumbel-max) and is trained by the
    log loss -log pi(a* | h_t) at every step, a* known to the trainer from the sampled task.
    The minimiser is P(a* = a | h_t), whatever the behaviour that produced h_t: acting by
    sampling from it is exact Thompson sampling.
    """
    K = len(alphas)

    def loss_at(step: int) -> torch.Tensor:
        theta, u = sample_bandit_tasks(alphas, betas, schedule.batch, horizon, rng)
        gumbel = rng.gumbel(size=(schedule.batch, horizon, K))
        ro = bandit_rollout(agent, theta, u, gumbel=gumbel, time_input=time_input)
        best = torch.from_numpy(theta.argmax(1))[:, None, None].expand(-1, horizon, 1)
        return -ro.log_probs.gather(-1, best).mean()

    _optimise(agent, schedule, loss_at, on_step, report_steps)


def q_rollout(
    agent: MemoryAgent,
    theta: np.ndarray,
    u: np.ndarray,
    explore: np.ndarray | None,
    time_input: bool = True,
) -> BanditRollout:
    """Play with the agent's head read as value estimates: greedy, except where ``explore``
    (B, T) int64 names an arm (>= 0) to pull instead (epsilon-greedy). ``log_probs`` holds
    the head's outputs, q~_t(a) = Q_t(a) / (T - t), the value per remaining pull."""
    B, T, K = u.shape
    theta_t, u_t = torch.from_numpy(theta).float(), torch.from_numpy(u).float()
    rows = torch.arange(B)
    prev_a, prev_r = torch.zeros(B, dtype=torch.long), torch.zeros(B)
    state: RNNState | None = None
    acts, rews, qs = [], [], []
    for t in range(T):
        q, _, state = agent.step(bandit_inputs(prev_a, prev_r, t, T, K, time_input), state)
        a = q.detach().argmax(-1)
        if explore is not None:
            forced = torch.from_numpy(explore[:, t])
            a = torch.where(forced >= 0, forced, a)
        r = (u_t[rows, t, a] < theta_t[rows, a]).float()
        acts.append(a)
        rews.append(r)
        qs.append(q)
        prev_a, prev_r = a, r
    actions, rewards = torch.stack(acts, 1), torch.stack(rews, 1)
    return BanditRollout(actions, rewards, torch.stack(qs, 1), torch.zeros_like(rewards), None)


def train_q_agent(
    agent: MemoryAgent,
    alphas: np.ndarray,
    betas: np.ndarray,
    horizon: int,
    schedule: Schedule,
    epsilon: float,
    rng: np.random.Generator,
    time_input: bool = True,
    on_step: OnStep | None = None,
    report_steps: Iterable[int] = (),
) -> None:
    """Meta-learn a value-based decision-maker (Ortega et al. 2019, sec. 4, the Bayes-optimal
    template with Q-learning on the memory state): the head estimates Q(m_t, .) and is
    regressed, through time, onto the undiscounted one-step target

        y_t = r_t + max_a Q(m_{t+1}, a)   (y_{T-1} = r_{T-1}),

    with the sampled 0/1 rewards and the target held fixed (no gradient). Its fixed point on
    the belief MDP is the Bayes-optimal Q_t(b, a) of :func:`occam.meta_bayes.bayes.solve_bandit`.
    The head outputs Q_t / (T - t) (value per remaining pull, in [0, 1]), so that the loss
    has one scale at every step under gradient clipping; the argmax is unchanged.
    Behaviour: epsilon-greedy, epsilon falling linearly to 0 at the end of training.
    """
    K = len(alphas)
    remaining = torch.arange(horizon, 0, -1, dtype=torch.float32)  # T - t

    def loss_at(step: int) -> torch.Tensor:
        theta, u = sample_bandit_tasks(alphas, betas, schedule.batch, horizon, rng)
        eps = epsilon * (1.0 - step / max(schedule.steps, 1))
        arm = rng.integers(0, K, size=(schedule.batch, horizon))
        explore = np.where(rng.random((schedule.batch, horizon)) < eps, arm, -1)
        ro = q_rollout(agent, theta, u, explore, time_input)
        q = ro.log_probs * remaining[:, None]  # (B, T, K) Q-values
        q_taken = q.gather(-1, ro.actions[..., None])[..., 0]
        nxt = torch.cat([q[:, 1:].detach().max(-1).values, torch.zeros(q.shape[0], 1)], dim=1)
        return (((q_taken - (ro.rewards + nxt)) / remaining) ** 2).mean()

    _optimise(agent, schedule, loss_at, on_step, report_steps)
