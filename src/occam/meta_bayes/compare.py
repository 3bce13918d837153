"""Comparing a meta-trained agent with the Bayes-optimal agent: in behaviour and in structure.

Behaviour (Mikulik et al. 2020, sec. 4): KL(Bayes || agent) per step and excess log loss for
predictors; return against V*, regret against the oracle, action agreement and policy KL on
non-tie beliefs for bandit agents.

Structure, by *state-machine simulation* (Mikulik et al. 2020, sec. 3): drive both agents
with the same inputs, record paired states, and fit an MLP map in each direction on 80% of
the episodes. On the held-out 20%:

    D_s(A -> B) = sum ||phi(s_A) - s_B||^2 / sum ||s_B - mean s_B||^2      (normalised MSE)
    D_o(A -> B) = mean divergence( out_A(s_A), out_B(phi(s_A)) )

with KL (nats) for predictors and action disagreement for bandits. Linear probes decode the
Bayes agent's beliefs (counts, posterior mean and variance) from the agent's memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from occam.meta_bayes import agents as agents_mod
from occam.meta_bayes.agents import MemoryAgent
from occam.meta_bayes.bayes import BanditSolution
from occam.meta_bayes.tasks import QUAD_W, PredictionTask
from occam.meta_bayes.train import bandit_rollout

# ---- behaviour: prediction ------------------------------------------------------------


def agent_predictive(agent: MemoryAgent, task: PredictionTask, x: np.ndarray) -> np.ndarray:
    """The agent's predictive for every step (float64 numpy): log-probabilities (B, T, K) for
    discrete tasks, distribution parameters (B, T, P) for continuous ones."""
    with torch.no_grad():
        out, _, _ = agent(torch.from_numpy(task.network_inputs(x)))
        return agents_mod.predictive_params(task.family, out).double().numpy()


def kl_bayes_agent(
    task: PredictionTask, bayes_pred: np.ndarray, agent_pred: np.ndarray
) -> np.ndarray:
    """KL(P_Bayes(.|x_<t) || Q_agent(.|x_<t)) in nats for every (episode, step): (B, T).

    Discrete: exact sum over outcomes (agent_pred holds log-probabilities). Continuous:
    Gauss-Legendre quadrature over the Bayes predictive's quantiles (see
    :meth:`PredictionTask.quadrature_points`).
    """
    if task.discrete:
        return (bayes_pred * (np.log(bayes_pred) - agent_pred)).sum(-1)
    pts = task.quadrature_points(bayes_pred)  # (B, T, N)
    log_p = task.log_prob(bayes_pred[..., None, :], pts)
    with torch.no_grad():
        q = torch.from_numpy(agent_pred[..., None, :])
        log_q = agents_mod.log_prob(task.family, q, torch.from_numpy(pts)).numpy()
    return ((log_p - log_q) * QUAD_W).sum(-1)


@dataclass
class PredictionBehaviour:
    """KL(Bayes || agent) per step (nats, averaged over episodes) and log losses (nats/step)."""

    kl_per_step: np.ndarray  # (T,)
    kl: float  # mean over steps
    log_loss: float
    bayes_log_loss: float

    @property
    def excess_log_loss(self) -> float:
        return self.log_loss - self.bayes_log_loss


def prediction_behaviour(
    agent: MemoryAgent, task: PredictionTask, x: np.ndarray
) -> PredictionBehaviour:
    """Behavioural comparison on fixed evaluation episodes x (B, T) drawn from the prior."""
    bayes_pred = task.bayes_predictive(x)
    agent_pred = agent_predictive(agent, task, x)
    kl = kl_bayes_agent(task, bayes_pred, agent_pred)
    if task.discrete:
        agent_lp = np.take_along_axis(agent_pred, x[..., None], axis=-1)[..., 0]
    else:
        with torch.no_grad():
            agent_lp = agents_mod.log_prob(
                task.family, torch.from_numpy(agent_pred), torch.from_numpy(x)
            ).numpy()
    return PredictionBehaviour(
        kl_per_step=kl.mean(0),
        kl=float(kl.mean()),
        log_loss=float(-agent_lp.mean()),
        bayes_log_loss=float(-task.log_prob(bayes_pred, x).mean()),
    )


# ---- behaviour: bandits ---------------------------------------------------------------


def counts_along(
    actions: np.ndarray, rewards: np.ndarray, arms: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-arm successes and failures before each step: two (B, T, K) int64 arrays."""
    onehot = np.eye(arms, dtype=np.int64)[actions]  # (B, T, K)
    win = onehot * rewards[..., None].astype(np.int64)
    s = np.cumsum(win, axis=1) - win
    f = np.cumsum(onehot - win, axis=1) - (onehot - win)
    return s, f


def bayes_greedy_sets(solution: BanditSolution, s: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Bayes-optimal action sets along histories: (B, T, K) bool, True where Q_t is maximal."""
    B, T, K = s.shape
    return np.stack([solution.greedy_set(s[:, t], f[:, t]) for t in range(T)], axis=1)


@dataclass
class BanditBehaviour:
    """Return of an agent on shared tasks, and how closely it follows pi_Bayes."""

    mean_return: float
    return_se: float
    regret: float  # E[T max_i theta_i] - return
    policy_kl: float  # mean -log pi_agent(a*) over visited non-tie beliefs (nats/step)
    agreement: float  # argmax pi_agent == a* on visited non-tie beliefs
    tie_fraction: float


def bandit_behaviour(
    agent: MemoryAgent,
    solution: BanditSolution,
    theta: np.ndarray,
    u: np.ndarray,
    gumbel: np.ndarray | None,
    time_input: bool,
) -> BanditBehaviour:
    """Play the agent on tasks (theta, u) (actions sampled with ``gumbel``; greedy if None)."""
    with torch.no_grad():
        ro = bandit_rollout(agent, theta, u, gumbel=gumbel, time_input=time_input)
    actions, rewards = ro.actions.numpy(), ro.rewards.numpy()
    s, f = counts_along(actions, rewards, solution.arms)
    best = bayes_greedy_sets(solution, s, f)
    clear = best.sum(-1) == 1
    a_star = best.argmax(-1)
    logp = ro.log_probs.double().numpy()
    logp_star = np.take_along_axis(logp, a_star[..., None], axis=-1)[..., 0]
    returns = rewards.sum(1)
    return BanditBehaviour(
        mean_return=float(returns.mean()),
        return_se=float(returns.std() / np.sqrt(len(returns))),
        regret=float(u.shape[1] * theta.max(1).mean() - returns.mean()),
        policy_kl=float(-logp_star[clear].mean()),
        agreement=float((logp.argmax(-1) == a_star)[clear].mean()),
        tie_fraction=float(1.0 - clear.mean()),
    )


# ---- structure: state-machine simulation ----------------------------------------------


@dataclass(frozen=True)
class MapSpec:
    """The MLP maps of the state-machine simulation (Kuo et al. use [64, 128, 64], Adam 1e-3)."""

    hidden: int = 64
    steps: int = 800
    batch: int = 256
    lr: float = 3e-3
    train_frac: float = 0.8


def fit_map(
    src: np.ndarray,
    tgt: np.ndarray,
    n_train: int,
    spec: MapSpec,
    seed: int,
    per_dim: bool = False,
) -> tuple[np.ndarray, float]:
    """Fit phi: src -> tgt (rows paired) by MSE on the first ``n_train`` rows.

    src: (N, d_src), tgt: (N, d_tgt). Inputs are standardised per dimension; targets are
    centred and scaled by one number (their total standard deviation), so the training loss is
    proportional to D_s. Returns phi(src) on the held-out rows (original units) and
    D_s = sum ||phi(s) - t||^2 / sum ||t - mean t||^2 on them.

    ``per_dim``: scale each target dimension to unit variance instead, and report D_s as the
    mean over dimensions of the unexplained fraction of each one's variance (for Bayes states
    whose coordinates differ in scale, e.g. (n, mu_n, log b_n), where n alone would dominate
    the total variance).
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(src).float()
    y = torch.from_numpy(tgt).float()
    mu_x, sd_x = x[:n_train].mean(0), x[:n_train].std(0) + 1e-6
    mu_y = y[:n_train].mean(0)
    if per_dim:
        sd_y: torch.Tensor | float = y[:n_train].std(0) + 1e-8
    else:
        sd_y = float(((y[:n_train] - mu_y) ** 2).sum(1).mean().sqrt()) + 1e-8
    xs, ys = (x - mu_x) / sd_x, (y - mu_y) / sd_y
    h = spec.hidden
    with torch.random.fork_rng(devices=[]):  # seeded initialisation, global RNG untouched
        torch.manual_seed(seed)
        mlp = nn.Sequential(
            nn.Linear(x.shape[1], h),
            nn.ReLU(),
            nn.Linear(h, h),
            nn.ReLU(),
            nn.Linear(h, y.shape[1]),
        )
    opt = torch.optim.Adam(mlp.parameters(), lr=spec.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, spec.steps, eta_min=spec.lr * 0.03)
    for _ in range(spec.steps):
        idx = torch.randint(0, n_train, (spec.batch,), generator=g)
        loss = ((mlp(xs[idx]) - ys[idx]) ** 2).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        pred = mlp(xs[n_train:]) * sd_y + mu_y
    pred_np = pred.double().numpy()
    return pred_np, dissimilarity(pred_np, tgt[n_train:], per_dim)


def dissimilarity(pred: np.ndarray, target: np.ndarray, per_dim: bool = False) -> float:
    """Normalised squared error of ``pred`` against ``target`` (N, d): sum ||pred - target||^2
    / sum ||target - mean target||^2, or with ``per_dim`` the mean over dimensions of each
    dimension's ratio. 0 = exact, 1 = no better than the mean."""
    err = ((pred - target) ** 2).sum(0)
    var = ((target - target.mean(0)) ** 2).sum(0)
    if per_dim:
        return float(np.mean(err / np.maximum(var, 1e-12)))
    return float(err.sum() / max(var.sum(), 1e-12))


@dataclass
class Simulation:
    """Dissimilarities of the state-machine simulation in both directions.

    With controls: ``ds_shuffled`` is D_s(A -> B) of a map fitted on pairs whose episode
    pairing is shuffled within each step (the shuffled-pairing control); ``commutation`` is
    the error of condition (i), sum ||phi(s'_A) - tau_B(phi(s_A), x)||^2 relative to the
    size of the Bayes update (s'_A the agent's next state on input x, tau_B the Bayes
    transition; :func:`commutation_error`), and
    ``commutation_shuffled`` the same for the shuffled map.
    """

    ds_agent_to_bayes: float
    do_agent_to_bayes: float
    ds_bayes_to_agent: float
    do_bayes_to_agent: float
    ds_shuffled: float | None = None
    commutation: float | None = None
    commutation_shuffled: float | None = None

    def as_dict(self) -> dict[str, float]:
        out = {
            "ds_agent_to_bayes": self.ds_agent_to_bayes,
            "do_agent_to_bayes": self.do_agent_to_bayes,
            "ds_bayes_to_agent": self.ds_bayes_to_agent,
            "do_bayes_to_agent": self.do_bayes_to_agent,
        }
        for key in ("ds_shuffled", "commutation", "commutation_shuffled"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def shuffle_pairing(states: np.ndarray, episodes: int, rng: np.random.Generator) -> np.ndarray:
    """Rows (episodes * T, S) ordered by (episode, step), with the episodes permuted
    independently at each step: every row keeps its step (so n = t stays paired) but is
    paired with another episode's history."""
    per = states.reshape(episodes, -1, states.shape[-1]).copy()
    for t in range(per.shape[1]):
        per[:, t] = per[rng.permutation(episodes), t]
    return per.reshape(states.shape)


def commutation_error(
    task: PredictionTask, mapped: np.ndarray, truth: np.ndarray, x: np.ndarray, per_dim: bool
) -> float:
    """Condition (i) of a simulation (Mikulik et al. 2020, sec. 3): phi commutes with the
    transitions. mapped: phi(s_A) along episodes (E, T, S); truth: the Bayes states (E, T, S);
    x: the observations (E, T). For t < T - 1 compares phi(s_A at t + 1) with
    tau_B(phi(s_A at t), x_t) and normalises by the size of the true update:

        sum ||phi(s'_A) - tau_B(phi(s_A), x)||^2 / sum ||b' - b||^2

    (per coordinate, then averaged, with ``per_dim``). 0: the map's increments are the Bayes
    updates; 1: no better than standing still. Normalising by the state's variance instead
    would call any slowly varying map commuting, since one step moves the state little.
    """
    stepped = task.state_transition(mapped[:, :-1], x[:, :-1])
    S = truth.shape[-1]
    err = ((mapped[:, 1:] - stepped) ** 2).reshape(-1, S).sum(0)
    step = ((truth[:, 1:] - truth[:, :-1]) ** 2).reshape(-1, S).sum(0)
    if per_dim:
        return float(np.mean(err / np.maximum(step, 1e-12)))
    return float(err.sum() / max(step.sum(), 1e-12))


def _divergence_agent_bayes(
    task: PredictionTask, agent_params: np.ndarray, bayes_params: np.ndarray, source: str
) -> float:
    """Mean output divergence between agent and Bayes outputs at paired states (N, P).

    Discrete: KL(source || other), with ``source`` "agent" or "bayes" (agent params are
    log-probabilities). Continuous: KL(Bayes || agent) by quadrature in both directions, the
    behavioural KL's direction (its quantiles are those of the Bayes predictive).
    """
    if task.discrete:
        if source == "agent":
            return float(
                (np.exp(agent_params) * (agent_params - np.log(bayes_params))).sum(-1).mean()
            )
        return float((bayes_params * (np.log(bayes_params) - agent_params)).sum(-1).mean())
    return float(kl_bayes_agent(task, bayes_params, agent_params).mean())


def simulate_prediction(
    agent: MemoryAgent,
    task: PredictionTask,
    x: np.ndarray,
    spec: MapSpec,
    seed: int,
    controls: bool = False,
) -> Simulation:
    """State-machine simulation for a predictor on episodes x (B, T).

    Bayes state: :meth:`PredictionTask.bayes_state` before step t (counts; (n, log b_n);
    (n, mu_n, log b_n)). Agent state: (h, c) after the input of step t. D_o is KL in nats:
    KL(agent || Bayes at phi(s_A)) and KL(Bayes || agent at phi(s_B)) for discrete tasks,
    KL(Bayes || agent) in both directions for continuous ones (quadrature). For continuous
    tasks D_s(A -> B) is averaged over the state's coordinates (``fit_map(per_dim=True)``).
    ``controls`` adds the shuffled-pairing control and the commutation check (condition (i)).
    """
    B, T = x.shape
    s_agent = agent.memory_states(torch.from_numpy(task.network_inputs(x))).double().numpy()
    s_bayes = task.bayes_state(x)
    s_agent, s_bayes = s_agent.reshape(B * T, -1), s_bayes.reshape(B * T, -1)
    b_train = int(spec.train_frac * B)
    n_train = b_train * T  # split by episode
    per_dim = not task.discrete
    out_bayes = task.output_of_state(s_bayes[n_train:])
    with torch.no_grad():
        out_agent = (
            agents_mod.predictive_params(
                task.family, agent.head_from_state(torch.from_numpy(s_agent[n_train:]).float())
            )
            .double()
            .numpy()
        )

    mapped_bayes, ds_ab = fit_map(s_agent, s_bayes, n_train, spec, seed, per_dim)
    do_ab = _divergence_agent_bayes(task, out_agent, task.output_of_state(mapped_bayes), "agent")

    mapped_agent, ds_ba = fit_map(s_bayes, s_agent, n_train, spec, seed + 1)
    with torch.no_grad():
        agent_at_mapped = (
            agents_mod.predictive_params(
                task.family, agent.head_from_state(torch.from_numpy(mapped_agent).float())
            )
            .double()
            .numpy()
        )
    do_ba = _divergence_agent_bayes(task, agent_at_mapped, out_bayes, "bayes")
    sim = Simulation(ds_ab, do_ab, ds_ba, do_ba)
    if controls:
        S = s_bayes.shape[1]
        truth = s_bayes[n_train:].reshape(B - b_train, T, S)
        x_test = x[b_train:]
        sim.commutation = commutation_error(
            task, mapped_bayes.reshape(truth.shape), truth, x_test, per_dim
        )
        shuffled = s_bayes.copy()
        shuffled[:n_train] = shuffle_pairing(
            s_bayes[:n_train], b_train, np.random.default_rng(seed)
        )
        mapped_shuffled, sim.ds_shuffled = fit_map(
            s_agent, shuffled, n_train, spec, seed + 2, per_dim
        )
        sim.commutation_shuffled = commutation_error(
            task, mapped_shuffled.reshape(truth.shape), truth, x_test, per_dim
        )
    return sim


def bayes_trajectories(
    solution: BanditSolution, theta: np.ndarray, u: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Actions and rewards (B, T) of the Bayes-optimal agent on tasks (theta, u)."""
    E, T, K = u.shape
    s = np.zeros((E, K), dtype=np.int64)
    f = np.zeros((E, K), dtype=np.int64)
    rows = np.arange(E)
    actions = np.zeros((E, T), dtype=np.int64)
    rewards = np.zeros((E, T))
    for t in range(T):
        best = solution.greedy_set(s, f)
        a = np.argmax(np.where(best, rng.random(best.shape), -1.0), axis=1)
        r = u[rows, t, a] < theta[rows, a]
        s[rows, a] += r
        f[rows, a] += ~r
        actions[:, t], rewards[:, t] = a, r
    return actions, rewards


def _bayes_action_probs(solution: BanditSolution, counts: np.ndarray) -> np.ndarray:
    """pi_Bayes (uniform over tied arms) at count vectors (N, 2K) = (s_1, f_1, ..., s_K, f_K).

    Rows whose counts are not a belief with fewer than T pulls get NaN.
    """
    N, K = counts.shape[0], solution.arms
    probs = np.full((N, K), np.nan)
    level = counts.sum(1)
    for t in np.unique(level):
        if t < 0 or t >= solution.horizon:
            continue
        rows = np.flatnonzero(level == t)
        best = solution.greedy_set(counts[rows, 0::2], counts[rows, 1::2])
        probs[rows] = best / best.sum(1, keepdims=True)
    return probs


def simulate_bandit(
    agent: MemoryAgent,
    solution: BanditSolution,
    theta: np.ndarray,
    u: np.ndarray,
    spec: MapSpec,
    seed: int,
    time_input: bool,
) -> Simulation:
    """State-machine simulation for a bandit agent, teacher-forced on Bayes-optimal histories.

    Bayes state: (s_1, f_1, ..., s_K, f_K) before each action; agent state: its memory after the
    input of that step. D_o is action disagreement on beliefs where pi_Bayes has no tie:
    agent -> Bayes compares the agent's greedy action with pi_Bayes at the rounded mapped
    counts (counts that are not a valid belief count as a disagreement); Bayes -> agent
    compares the agent's policy head at the mapped memory with the Bayes action.
    """
    rng = np.random.default_rng(seed)
    actions, rewards = bayes_trajectories(solution, theta, u, rng)
    with torch.no_grad():
        ro = bandit_rollout(
            agent, theta, u, forced_actions=actions, time_input=time_input, record_states=True
        )
    assert ro.states is not None
    B, T, K = u.shape
    s, f = counts_along(actions, rewards, K)
    s_bayes = np.stack([s, f], axis=-1).reshape(B * T, 2 * K)  # (s_1, f_1, s_2, f_2, ...)
    s_agent = ro.states.double().numpy().reshape(B * T, -1)
    agent_action = ro.log_probs.numpy().reshape(B * T, K).argmax(-1)
    n_train = int(spec.train_frac * B) * T
    best = bayes_greedy_sets(solution, s, f).reshape(B * T, K)[n_train:]
    clear = best.sum(-1) == 1
    a_star = best.argmax(-1)

    mapped_bayes, ds_ab = fit_map(s_agent, s_bayes.astype(np.float64), n_train, spec, seed)
    counts = np.maximum(np.rint(mapped_bayes), 0).astype(np.int64)
    pi = _bayes_action_probs(solution, counts)
    agree = np.take_along_axis(np.nan_to_num(pi, nan=0.0), agent_action[n_train:, None], axis=1)[
        :, 0
    ]
    do_ab = float(1.0 - agree[clear].mean())

    mapped_agent, ds_ba = fit_map(s_bayes.astype(np.float64), s_agent, n_train, spec, seed + 1)
    with torch.no_grad():
        act_mapped = (
            agent.head_from_state(torch.from_numpy(mapped_agent).float()).argmax(-1).numpy()
        )
    do_ba = float((act_mapped != a_star)[clear].mean())
    return Simulation(ds_ab, do_ab, ds_ba, do_ba)


# ---- beyond the paper: linear probes for the posterior's sufficient statistics ---------


def linear_probe_r2(
    states: np.ndarray, targets: np.ndarray, n_train: int, ridge: float = 1e-3
) -> np.ndarray:
    """Held-out R^2 of ridge-regression probes from states (N, S) to each target column (N, M).

    Ridge on standardised states: w = (X'X + ridge n I)^-1 X'y. Returns (M,) R^2 values.
    """
    x = states[:n_train]
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xtr = np.hstack([(x - mu) / sd, np.ones((n_train, 1))])
    xte = np.hstack([(states[n_train:] - mu) / sd, np.ones((states.shape[0] - n_train, 1))])
    reg = ridge * n_train * np.eye(xtr.shape[1])
    reg[-1, -1] = 0.0
    w = np.linalg.solve(xtr.T @ xtr + reg, xtr.T @ targets[:n_train])
    resid = targets[n_train:] - xte @ w
    total = targets[n_train:] - targets[n_train:].mean(0)
    return 1.0 - (resid**2).sum(0) / np.maximum((total**2).sum(0), 1e-12)


def belief_targets_prediction(task: PredictionTask, x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Sufficient statistics and posterior moments of a discrete task along x: (B*T, M)."""
    counts = task.statistics(x)
    post = task.dirichlet + counts  # Dirichlet posterior parameters
    total = post.sum(-1, keepdims=True)
    mean = post / total
    var = mean * (1 - mean) / (total + 1)
    if task.family == "bernoulli":  # heads = outcome 1
        names = ["heads", "tails", "posterior mean", "posterior variance"]
        cols = [counts[..., 1], counts[..., 0], mean[..., 1], var[..., 1]]
    else:
        K = task.n_outcomes
        names = [f"count {k}" for k in range(K)] + [f"mean {k}" for k in range(K)]
        names += [f"variance {k}" for k in range(K)]
        cols = [counts[..., k] for k in range(K)] + [mean[..., k] for k in range(K)]
        cols += [var[..., k] for k in range(K)]
    return names, np.stack(cols, axis=-1).reshape(-1, len(names))


def probe_prediction(
    agent: MemoryAgent, task: PredictionTask, x: np.ndarray, train_frac: float = 0.8
) -> dict[str, float]:
    """Held-out R^2 of linear probes decoding the Bayes posterior from the agent's memory."""
    B, T = x.shape
    states = agent.memory_states(torch.from_numpy(task.network_inputs(x))).double().numpy()
    names, targets = belief_targets_prediction(task, x)
    r2 = linear_probe_r2(states.reshape(B * T, -1), targets, int(train_frac * B) * T)
    return dict(zip(names, (float(v) for v in r2), strict=True))


# ---- behaviour of the count-based reference policies (the bandit claims' controls) ----


def thompson_probs_two_arms(
    alphas: np.ndarray, betas: np.ndarray, horizon: int, grid: int = 2048
) -> Any:
    """Thompson sampling's action probabilities for two Beta-Bernoulli arms.

    P(pull arm 0 | b) = P(theta_0 > theta_1 | b) = int f_0(x) F_1(x) dx, by the midpoint rule
    on ``grid`` points, tabulated once for every pair of per-arm counts below ``horizon``.
    Returns ``probs(s, f) -> (N, 2)`` for counts s, f of shape (N, 2).
    """
    from scipy import stats

    x = (np.arange(grid) + 0.5) / grid
    sg, fg = np.meshgrid(np.arange(horizon + 1), np.arange(horizon + 1), indexing="ij")
    pdf = stats.beta.pdf(x, alphas[0] + sg[..., None], betas[0] + fg[..., None])  # (n, n, G)
    cdf = stats.beta.cdf(x, alphas[1] + sg[..., None], betas[1] + fg[..., None])
    n = horizon + 1  # table[a, b, c, d] = sum_g pdf[a, b, g] cdf[c, d, g]: one matrix product
    joint = pdf.reshape(n * n, grid) @ cdf.reshape(n * n, grid).T
    table = np.clip(joint.reshape(n, n, n, n) / grid, 1e-12, 1 - 1e-12)

    def probs(s: np.ndarray, f: np.ndarray) -> np.ndarray:
        p0 = table[s[:, 0], f[:, 0], s[:, 1], f[:, 1]]
        return np.stack([p0, 1.0 - p0], axis=1)

    return probs


@dataclass
class PolicyMatch:
    """How closely a count-based policy follows pi_Bayes on the non-tie beliefs it visits."""

    mean_return: float
    agreement: float  # its action == a*
    policy_kl: float  # mean -log pi(a*) (inf for a deterministic policy that ever disagrees)


def count_policy_match(
    policy: Any,
    solution: BanditSolution,
    theta: np.ndarray,
    u: np.ndarray,
    rng: np.random.Generator,
    probs: Any = None,
) -> PolicyMatch:
    """Play a count-based policy on tasks (theta, u) and compare it with pi_Bayes.

    ``probs(s, f) -> (N, K)`` gives the policy's action probabilities where it is stochastic
    (Thompson sampling); without it the policy is deterministic and its KL is -log of 0 or 1.
    """
    E, T, K = u.shape
    s = np.zeros((E, K), dtype=np.int64)
    f = np.zeros((E, K), dtype=np.int64)
    rows = np.arange(E)
    total = np.zeros(E)
    agree: list[np.ndarray] = []
    nll: list[np.ndarray] = []
    for t in range(T):
        best = solution.greedy_set(s, f)
        clear = best.sum(1) == 1
        a_star = best.argmax(1)
        act = policy(s, f, t, rng)
        agree.append((act == a_star)[clear])
        if probs is not None:
            p = probs(s, f)
            nll.append(-np.log(np.take_along_axis(p, a_star[:, None], axis=1)[:, 0])[clear])
        else:
            nll.append(np.where(act == a_star, 0.0, np.inf)[clear])
        r = u[rows, t, act] < theta[rows, act]
        s[rows, act] += r
        f[rows, act] += ~r
        total += r
    return PolicyMatch(
        float(total.mean()),
        float(np.concatenate(agree).mean()),
        float(np.concatenate(nll).mean()),
    )
