"""The experiments of the study: pure functions of a config and named random streams.

Each function meta-trains or evaluates agents and returns numbers (and, for the structural
analysis, in-memory snapshots of the agents); none writes a file or draws a figure. The
order follows the papers' method: meta-train predictors (Mikulik et al. 2020, sec. 4), the
coin example (Ortega et al. 2019, sec. 3), bandits against the exact dynamic programme, the
state-machine simulation (Mikulik et al. 2020, sec. 3), linear probes, and the fixed point
(Mikulik et al. 2020, sec. 5).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import stats

from occam.meta_bayes import bayes, compare
from occam.meta_bayes.agents import MemoryAgent
from occam.meta_bayes.config import MetaBayesConfig
from occam.meta_bayes.tasks import PredictionTask, concentrated, parse_task
from occam.meta_bayes.train import (
    ActorCritic,
    Schedule,
    bandit_rollout,
    n_bandit_inputs,
    q_rollout,
    train_bandit,
    train_predictor,
    train_q_agent,
    train_thompson,
)

Progress = Callable[[Iterable[int], str, int], Iterator[int]]


@dataclass(frozen=True)
class Streams:
    """The named random streams of one replicate: ``seed(label)`` and ``rng(label)``."""

    seed_of: Callable[[str], int]

    def seed(self, label: str) -> int:
        return self.seed_of(label)

    def rng(self, label: str) -> np.random.Generator:
        return np.random.default_rng(self.seed_of(label))


def _no_progress(it: Iterable[int], description: str, total: int) -> Iterator[int]:
    return iter(it)


def eval_steps(total: int, points: int) -> list[int]:
    """``points`` log-spaced steps in [0, total], always including 0 and ``total``."""
    if total <= 0:
        return [0]
    inner = np.geomspace(max(1.0, total / 64), total, max(points - 1, 1))
    return sorted({0, total, *(int(round(v)) for v in inner)})


def pick(steps: list[int], n: int) -> list[int]:
    """``n`` of the steps, spread evenly over the list; the first and last are always kept."""
    if n >= len(steps):
        return steps
    idx = np.unique(np.round(np.linspace(0, len(steps) - 1, max(n, 2))).astype(int))
    return [steps[i] for i in idx]


class Snapshots:
    """Agent parameters at steps of training, kept in memory (step 0 = the untrained agent)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.states: dict[int, dict[str, torch.Tensor]] = {}

    def add(self, step: int, agent: MemoryAgent) -> None:
        self.states[step] = copy.deepcopy(agent.state_dict())

    def agent(self, step: int, like: MemoryAgent) -> MemoryAgent:
        agent = copy.deepcopy(like)
        agent.load_state_dict(self.states[step])
        return agent


def new_agent(
    config: MetaBayesConfig, seed: int, n_in: int, n_out: int, value: bool = False
) -> MemoryAgent:
    with torch.random.fork_rng(devices=[]):  # seeded initialisation, global RNG untouched
        torch.manual_seed(seed)
        return MemoryAgent(n_in, n_out, config.hidden, config.cell, value_head=value)


def schedule(config: MetaBayesConfig, steps: int, batch: int, lr: float) -> Schedule:
    return Schedule(steps, batch, lr, config.lr_final_frac, config.grad_clip)


# ---- 1. prediction ---------------------------------------------------------------------------


@dataclass
class PredictionRun:
    task: PredictionTask
    agent: MemoryAgent
    snapshots: Snapshots
    curve: list[dict[str, float]]
    final: compare.PredictionBehaviour


def meta_train_predictor(
    config: MetaBayesConfig,
    streams: Streams,
    task: PredictionTask,
    progress: Progress = _no_progress,
) -> PredictionRun:
    """Log-loss meta-training on one task, evaluated and snapshotted at log-spaced steps."""
    eval_x = task.sample(config.eval_episodes, config.length, streams.rng("eval/" + task.name))
    agent = new_agent(config, streams.seed("init/" + task.name), task.n_inputs, task.n_outputs)
    snaps = Snapshots(task.name)
    curve: list[dict[str, float]] = []

    def on_step(step: int, ag: MemoryAgent) -> None:
        b = compare.prediction_behaviour(ag, task, eval_x)
        curve.append({"step": step, "kl": b.kl, "excess_log_loss": b.excess_log_loss})
        snaps.add(step, ag)

    train_predictor(
        agent,
        task,
        schedule(config, config.pred_steps, config.pred_batch, config.pred_lr),
        config.length,
        streams.rng("train/" + task.name),
        on_step=on_step,
        report_steps=eval_steps(config.pred_steps, config.eval_points),
        progress=lambda it: progress(it, f"meta-train {task.name}", config.pred_steps),
    )
    final = compare.prediction_behaviour(agent, task, eval_x)
    return PredictionRun(task, agent, snaps, curve, final)


def prediction_metrics(r: PredictionRun) -> dict[str, Any]:
    return {
        "kl": r.final.kl,
        "kl_per_step": r.final.kl_per_step,
        "log_loss": r.final.log_loss,
        "bayes_log_loss": r.final.bayes_log_loss,
        "curve": r.curve,
    }


# ---- 2. the coin example -----------------------------------------------------------------------

COIN_HISTORIES: dict[str, list[int]] = {
    "all heads": [1] * 10,
    "all tails": [0] * 10,
    "alternating": [1, 0] * 5,
    "H H T": [1, 1, 0] * 3 + [1],
}


def coin_curves(run: PredictionRun) -> dict[str, dict[str, list[float]]]:
    """P(next = heads | history prefix), agent and Bayes, along the fixed histories."""
    a, b = run.task.prior
    out: dict[str, dict[str, list[float]]] = {}
    for name, hist in COIN_HISTORIES.items():
        logq = compare.agent_predictive(run.agent, run.task, np.array([hist]))[0]
        bayes_p = [bayes.beta_bernoulli_predictive(a, b, hist[:t]) for t in range(len(hist))]
        out[name] = {"agent": np.exp(logq[:, 1]).tolist(), "bayes": bayes_p}
    return out


# ---- 3. bandits ------------------------------------------------------------------------------


def expected_max_beta(a: float, b: float, arms: int = 2, n: int = 20001) -> float:
    """E[max_i p_i] for iid Beta(a, b) arms (the oracle's reward per pull):
    int_0^1 (1 - F(p)^arms) dp by the midpoint rule."""
    p = (np.arange(n) + 0.5) / n
    return float(np.mean(1.0 - stats.beta.cdf(p, a, b) ** arms))


def bandit_dp_table(config: MetaBayesConfig) -> list[dict[str, Any]]:
    """V* of the two-armed bandit by the exact programme at each horizon, with the oracle."""
    a0, b0 = config.bandit_prior
    rows = []
    for horizon in config.dp_horizons:
        sol = bayes.solve_bandit([a0, a0], [b0, b0], horizon)
        oracle = horizon * expected_max_beta(a0, b0)
        rows.append(
            {
                "arms": 2,
                "horizon": horizon,
                "beliefs": sol.n_states,
                "v_star": sol.value,
                "oracle": oracle,
                "bayes_regret": oracle - sol.value,
            }
        )
    return rows


@dataclass
class BanditRun:
    arms: int
    solution: bayes.BanditSolution
    agent: MemoryAgent
    snapshots: Snapshots
    curve: list[dict[str, float]]
    sampled: compare.BanditBehaviour
    greedy: compare.BanditBehaviour
    baselines: dict[str, float]  # Monte-Carlo returns on the same evaluation tasks
    controls: dict[str, compare.PolicyMatch]  # greedy and Thompson play against pi_Bayes


def meta_train_bandit(
    config: MetaBayesConfig,
    streams: Streams,
    arms: int,
    progress: Progress = _no_progress,
    horizon: int | None = None,
    updates: int | None = None,
) -> BanditRun:
    """The exact programme, reference policies and an actor-critic memory agent (K arms).

    ``horizon`` and ``updates`` default to the config's bandit; others (the harder bandit)
    get their own seeds."""
    T = config.bandit_horizon if horizon is None else horizon
    n_updates = config.bandit_updates if updates is None else updates
    label = f"bandit{arms}" if horizon is None else f"bandit{arms}_T{T}"
    alphas = np.full(arms, config.bandit_prior[0])
    betas = np.full(arms, config.bandit_prior[1])
    solution = bayes.solve_bandit(alphas, betas, T, keep_q=True)
    eval_rng = streams.rng("eval/" + label)
    theta, u = bayes.sample_bandit_tasks(alphas, betas, config.bandit_eval_episodes, T, eval_rng)
    gumbel = eval_rng.gumbel(size=u.shape)  # the agent's action noise, shared by all snapshots
    n = min(config.bandit_curve_episodes, config.bandit_eval_episodes)

    agent = new_agent(
        config, streams.seed("init/" + label), n_bandit_inputs(arms, config.time_input), arms, True
    )
    snaps = Snapshots(label)
    curve: list[dict[str, float]] = []

    def on_step(step: int, ag: MemoryAgent) -> None:
        b = compare.bandit_behaviour(ag, solution, theta[:n], u[:n], gumbel[:n], config.time_input)
        curve.append(
            {
                "step": step,
                "return": b.mean_return,
                "policy_kl": b.policy_kl,
                "agreement": b.agreement,
            }
        )
        snaps.add(step, ag)

    train_bandit(
        agent,
        alphas,
        betas,
        T,
        schedule(config, n_updates, config.bandit_batch, config.bandit_lr),
        ActorCritic(
            config.entropy_start,
            config.entropy_zero_frac,
            config.value_coef,
            config.expected_rewards,
        ),
        streams.rng("train/" + label),
        time_input=config.time_input,
        on_step=on_step,
        report_steps=eval_steps(n_updates, config.eval_points),
        progress=lambda it: progress(it, f"meta-train {label}", n_updates),
    )
    sampled = compare.bandit_behaviour(agent, solution, theta, u, gumbel, config.time_input)
    greedy = compare.bandit_behaviour(agent, solution, theta, u, None, config.time_input)

    policies: dict[str, bayes.CountPolicy] = {
        "Bayes-optimal (DP policy)": bayes.bayes_policy(solution),
        "greedy (posterior mean)": bayes.greedy_policy(alphas, betas),
    }
    if horizon is None:  # the harder bandit gets only the references its analysis reads
        policies[f"Gittins (gamma={config.gittins_gamma:g})"] = bayes.gittins_policy(
            alphas, betas, T, config.gittins_gamma
        )
    policies["Thompson sampling"] = bayes.thompson_policy(alphas, betas)
    if horizon is None:
        policies["uniform random"] = bayes.random_policy(arms)
    baselines = {
        name: float(
            bayes.evaluate_count_policy(policy, theta, u, streams.rng("policy/" + name)).mean()
        )
        for name, policy in policies.items()
    }
    controls = {
        "greedy": compare.count_policy_match(
            policies["greedy (posterior mean)"], solution, theta, u, streams.rng("match/greedy")
        )
    }
    if arms == 2:  # Thompson's action probabilities are tabulated for two arms
        controls["thompson"] = compare.count_policy_match(
            policies["Thompson sampling"],
            solution,
            theta,
            u,
            streams.rng("match/thompson"),
            probs=compare.thompson_probs_two_arms(alphas, betas, T),
        )
    return BanditRun(arms, solution, agent, snaps, curve, sampled, greedy, baselines, controls)


def bandit_metrics(r: BanditRun) -> dict[str, Any]:
    """JSON-able summary. ``fraction_of_v_star`` is a paired estimate: 1 - (R_DP - R_agent) / V*,
    with both returns on the same tasks and reward draws (common random numbers), so the
    sampling noise of the tasks cancels."""
    dp = r.baselines["Bayes-optimal (DP policy)"]
    return {
        "horizon": r.solution.horizon,
        "v_star": r.solution.value,
        "fraction_of_v_star": 1.0 - (dp - r.sampled.mean_return) / r.solution.value,
        "vs_thompson": r.sampled.mean_return - r.baselines["Thompson sampling"],
        "agent_sampled": vars(r.sampled),
        "agent_greedy": vars(r.greedy),
        "baselines": r.baselines,
        "controls": {k: vars(v) for k, v in r.controls.items()},
        "curve": r.curve,
    }


def bandit_table(reps: list[Replicate]) -> list[dict[str, Any]]:
    """Returns and agreement with pi_Bayes of the agent and the reference policies."""
    rows: list[dict[str, Any]] = []
    for i, rep in enumerate(reps):
        for arms, r in rep.bandits.items():
            rows += _bandit_rows(i, arms, r)
    return rows


def _bandit_rows(i: int, arms: int, r: BanditRun) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    rows.append(
        {"replicate": i, "arms": arms, "policy": "V* (exact DP)", "return": r.solution.value}
    )
    for label, b in (
        ("agent, sampled actions", r.sampled),
        ("agent, greedy actions", r.greedy),
    ):
        rows.append(
            {
                "replicate": i,
                "arms": arms,
                "policy": label,
                "return": b.mean_return,
                "se": b.return_se,
                "regret": b.regret,
                "policy_kl": b.policy_kl,
                "agreement": b.agreement,
            }
        )
    for k, m in r.controls.items():
        rows.append(
            {
                "replicate": i,
                "arms": arms,
                "policy": f"{k} (control)",
                "return": m.mean_return,
                "policy_kl": m.policy_kl,
                "agreement": m.agreement,
            }
        )
    rows += [
        {"replicate": i, "arms": arms, "policy": k + " (MC)", "return": v}
        for k, v in r.baselines.items()
    ]
    return rows


# ---- 3b. Ortega et al.'s other templates: Thompson sampling and a value-based agent ----------


def _template_tasks(
    config: MetaBayesConfig, streams: Streams, label: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    alphas = np.full(2, config.bandit_prior[0])
    betas = np.full(2, config.bandit_prior[1])
    n = config.bandit_curve_episodes
    theta, u = bayes.sample_bandit_tasks(
        alphas, betas, n, config.bandit_horizon, streams.rng("eval/" + label)
    )
    return alphas, betas, theta, u


def thompson_template(config: MetaBayesConfig, streams: Streams) -> dict[str, float]:
    """Meta-learn the Thompson-sampling template on the two-armed bandit and compare it with
    exact Thompson sampling, its Bayes counterpart: KL(pi_TS || pi_agent) in nats per step on
    the histories the agent visits (its own sampled actions), with pi_TS(a | counts) =
    P(theta_a is largest | counts) by quadrature. The same KL for exact Thompson sampling
    under the mismatched prior (mismatch_factor times the concentration) is the control."""
    label = "thompson"
    alphas, betas, theta, u = _template_tasks(config, streams, label)
    T = config.bandit_horizon
    agent = new_agent(
        config, streams.seed("init/" + label), n_bandit_inputs(2, config.time_input), 2, True
    )
    untrained = copy.deepcopy(agent)
    train_thompson(
        agent,
        alphas,
        betas,
        T,
        schedule(config, config.template_updates, config.template_batch, config.bandit_lr),
        streams.rng("train/" + label),
        config.time_input,
    )
    exact = compare.thompson_probs_two_arms(alphas, betas, T)
    wrong = compare.thompson_probs_two_arms(
        alphas * config.mismatch_factor, betas * config.mismatch_factor, T
    )
    gumbel = streams.rng("act/" + label).gumbel(size=u.shape)
    out: dict[str, float] = {}
    for name, net in (("trained", agent), ("untrained", untrained)):
        with torch.no_grad():
            ro = bandit_rollout(net, theta, u, gumbel=gumbel, time_input=config.time_input)
        s, f = compare.counts_along(ro.actions.numpy(), ro.rewards.numpy(), 2)
        s, f = s.reshape(-1, 2), f.reshape(-1, 2)
        p = exact(s, f)
        logq = ro.log_probs.double().numpy().reshape(-1, 2)
        out[f"kl_{name}"] = float((p * (np.log(p) - logq)).sum(-1).mean())
        out[f"return_{name}"] = float(ro.rewards.sum(1).mean())
        if name == "trained":
            q = wrong(s, f)
            out["kl_mismatched_prior"] = float((p * (np.log(p) - np.log(q))).sum(-1).mean())
    ts = bayes.thompson_policy(alphas, betas)
    out["return_exact_thompson"] = float(
        bayes.evaluate_count_policy(ts, theta, u, streams.rng("policy/" + label)).mean()
    )
    return out


def value_template(
    config: MetaBayesConfig, streams: Streams, solution: bayes.BanditSolution
) -> dict[str, float]:
    """Meta-learn the value-based template (Q-learning on the memory state) on the two-armed
    bandit and compare it with the Bayes-optimal agent: greedy play's agreement with pi_Bayes
    on visited non-tie beliefs, the RMS error of its Q-values against the exact programme's
    Q_t(b, a) there, and its return against V*. Greedy posterior-mean play on the same tasks
    is the control (as for mb.bandit_agreement)."""
    label = "qlearning"
    alphas, betas, theta, u = _template_tasks(config, streams, label)
    T = config.bandit_horizon
    agent = new_agent(
        config, streams.seed("init/" + label), n_bandit_inputs(2, config.time_input), 2, True
    )
    train_q_agent(
        agent,
        alphas,
        betas,
        T,
        schedule(config, config.template_updates, config.template_batch, config.bandit_lr),
        config.q_epsilon,
        streams.rng("train/" + label),
        config.time_input,
    )
    with torch.no_grad():
        ro = q_rollout(agent, theta, u, None, config.time_input)
    actions, rewards = ro.actions.numpy(), ro.rewards.numpy()
    s, f = compare.counts_along(actions, rewards, 2)
    best = compare.bayes_greedy_sets(solution, s, f)
    clear = best.sum(-1) == 1
    q_agent = ro.log_probs.double().numpy() * np.arange(T, 0, -1)[None, :, None]
    q_bayes = np.stack([solution.q_values(s[:, t], f[:, t]) for t in range(T)], axis=1)
    greedy = compare.count_policy_match(
        bayes.greedy_policy(alphas, betas), solution, theta, u, streams.rng("match/" + label)
    )
    return {
        "agreement": float((q_agent.argmax(-1) == best.argmax(-1))[clear].mean()),
        "q_rmse": float(np.sqrt(((q_agent - q_bayes) ** 2).mean())),
        "return": float(rewards.sum(1).mean()),
        "v_star": solution.value,
        "greedy_agreement": greedy.agreement,
        "greedy_return": greedy.mean_return,
    }


# ---- 4. structure: state-machine simulation over snapshots -----------------------------------


def simulation_over_snapshots(
    config: MetaBayesConfig, streams: Streams, label: str, run: PredictionRun | BanditRun
) -> list[dict[str, Any]]:
    """Dissimilarities in both directions at a few snapshots (step 0 = the untrained control)."""
    spec = compare.MapSpec(hidden=config.map_hidden, steps=config.map_steps, lr=config.map_lr)
    seed, data_rng = streams.seed("sim/" + label), streams.rng("simdata/" + label)
    rows: list[dict[str, Any]] = []
    if isinstance(run, PredictionRun):
        x = run.task.sample(config.sim_episodes, config.length, data_rng)
    else:
        alphas, betas = (np.full(run.arms, v) for v in config.bandit_prior)
        theta, u = bayes.sample_bandit_tasks(
            alphas, betas, config.sim_episodes, run.solution.horizon, data_rng
        )
    steps = pick(sorted(run.snapshots.states), config.sim_checkpoints)
    behaviour = {
        c["step"]: c["kl" if isinstance(run, PredictionRun) else "policy_kl"] for c in run.curve
    }
    for step in steps:
        agent = run.snapshots.agent(step, run.agent)
        if isinstance(run, PredictionRun):
            # the controls of condition (i) and of the pairing, at the trained checkpoint
            sim = compare.simulate_prediction(
                agent, run.task, x, spec, seed, controls=step == steps[-1]
            )
        else:
            sim = compare.simulate_bandit(
                agent, run.solution, theta, u, spec, seed, config.time_input
            )
        rows.append({"task": label, "step": step, "kl": behaviour[step], **sim.as_dict()})
    return rows


def mismatched_simulation(
    config: MetaBayesConfig, streams: Streams, run: PredictionRun, other: PredictionRun
) -> dict[str, float]:
    """State-machine simulation of ``other``'s trained agent (meta-trained under another
    prior of the same family) against ``run``'s Bayes agent, on ``run``'s episodes and map
    seed (paired with :func:`simulation_over_snapshots`)."""
    spec = compare.MapSpec(hidden=config.map_hidden, steps=config.map_steps, lr=config.map_lr)
    label = run.task.name
    seed, data_rng = streams.seed("sim/" + label), streams.rng("simdata/" + label)
    x = run.task.sample(config.sim_episodes, config.length, data_rng)
    return compare.simulate_prediction(other.agent, run.task, x, spec, seed).as_dict()


# ---- 5. beyond the paper: linear probes -----------------------------------------------------


def probes(
    config: MetaBayesConfig, streams: Streams, name: str, run: PredictionRun
) -> list[dict[str, Any]]:
    """Held-out R^2 of linear probes for the posterior, trained and untrained memories."""
    x = run.task.sample(config.sim_episodes, config.length, streams.rng("probe/" + name))
    untrained = compare.probe_prediction(run.snapshots.agent(0, run.agent), run.task, x)
    trained = compare.probe_prediction(run.agent, run.task, x)
    return [
        {"task": name, "target": k, "r2_trained": trained[k], "r2_untrained": untrained[k]}
        for k in trained
    ]


# ---- 5b. beyond the paper: is the whole posterior encoded when the loss needs less? ---------


def coarse_target(x: np.ndarray) -> np.ndarray:
    """The coarse outcome the loss scores: 1 where x_t == 0, else 0 (int64, same shape)."""
    return (x == 0).astype(np.int64)


def coarse_statistic(
    config: MetaBayesConfig,
    streams: Streams,
    source: PredictionTask,
    full: PredictionRun,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """The minimal-sufficient-statistic question (Shah's comment on Mikulik et al. 2020).

    A categorical source with a Dirichlet(alpha) prior, K >= 3. The agent sees every outcome
    but its log loss scores only y_t = [x_t == 0], whose Bayes predictive
    (alpha_0 + c_0) / (sum alpha + n) needs the count c_0 alone (a Beta(alpha_0, sum_rest)
    coin): the split c_1 - c_2 of the other outcomes is part of the full posterior and of no
    use to the loss. MLP maps (as in the state-machine simulation) decode the needed
    statistic c_0 and the unneeded split c_1 - c_2 from the memory of this agent, of the
    same agent untrained, and of ``full``, the predictor meta-trained on the full categorical
    log loss (which needs both). Returns held-out D_s of each (0 = encoded exactly, 1 = not).
    """
    label = "coarse/" + source.name
    rest = float(np.sum(source.dirichlet[1:]))
    coin = parse_task(f"beta_{source.dirichlet[0]:g}_{rest:g}")  # y = 1 <-> x = 0
    agent = new_agent(config, streams.seed("init/" + label), source.n_inputs, 2)
    untrained = copy.deepcopy(agent)
    train_predictor(
        agent,
        source,
        schedule(config, config.pred_steps, config.pred_batch, config.pred_lr),
        config.length,
        streams.rng("train/" + label),
        progress=lambda it: progress(it, f"meta-train {label}", config.pred_steps),
        target_of=coarse_target,
    )
    eval_x = source.sample(config.eval_episodes, config.length, streams.rng("eval/" + label))
    p = coin.bayes_predictive(coarse_target(eval_x))
    logq = compare.agent_predictive(agent, source, eval_x)
    kl = float((p * (np.log(p) - logq)).sum(-1).mean())

    x = source.sample(config.sim_episodes, config.length, streams.rng("data/" + label))
    counts = source.statistics(x).reshape(-1, source.n_outcomes)
    # columns: the needed count c_0 and the unneeded split c_1 - c_2, fitted by one map with
    # each column scaled to unit variance and scored separately
    targets = np.stack([counts[:, 0], counts[:, 1] - counts[:, 2]], axis=1)
    spec = compare.MapSpec(hidden=config.map_hidden, steps=config.map_steps, lr=config.map_lr)
    n_train = int(spec.train_frac * config.sim_episodes) * config.length
    seed = streams.seed("map/" + label)
    out: dict[str, Any] = {"task": source.name, "coarse_kl": kl, "full_kl": full.final.kl}
    for name, net in (("coarse", agent), ("untrained", untrained), ("full", full.agent)):
        memory = net.memory_states(torch.from_numpy(source.network_inputs(x))).double().numpy()
        memory = memory.reshape(counts.shape[0], -1)
        pred, _ = compare.fit_map(memory, targets, n_train, spec, seed, per_dim=True)
        for k, what in enumerate(("needed", "unneeded")):
            col = slice(k, k + 1)
            out[f"ds_{what}_{name}"] = compare.dissimilarity(pred[:, col], targets[n_train:, col])
    return out


# ---- 6. the fixed point --------------------------------------------------------------------------


def fixed_point(
    config: MetaBayesConfig,
    streams: Streams,
    task: PredictionTask,
    start: PredictionTask | None = None,
) -> list[dict[str, Any]]:
    """Distil a fresh agent onto a Bayes predictive, then continue ordinary meta-training.

    The agent is distilled onto the Bayes predictive of ``start`` (default: ``task`` itself;
    another prior of the same family gives the non-Bayes start of the control), on episodes
    of ``task``, then meta-trained by log loss on ``task`` at a small constant learning rate.
    Each row holds the KL to ``task``'s Bayes predictive and, after distillation, the drift
    KL(q_distilled || q_now) in nats per step on held-out episodes: a fixed point of the
    meta-learning dynamics does not move.
    """
    eval_x = task.sample(config.eval_episodes, config.length, streams.rng("eval/" + task.name))
    label = "fixed/" + task.name + ("" if start is None else "/from/" + start.name)
    agent = new_agent(config, streams.seed("init/" + label), task.n_inputs, task.n_outputs)
    curve: list[dict[str, Any]] = []
    distilled: list[np.ndarray] = []

    def recorder(phase: str, offset: int) -> Any:
        def on_step(step: int, ag: MemoryAgent) -> None:
            kl = compare.prediction_behaviour(ag, task, eval_x).kl
            drift = float("nan")
            if phase == "meta-train":
                logq = compare.agent_predictive(ag, task, eval_x)
                if not distilled:
                    distilled.append(logq)
                drift = float((np.exp(distilled[0]) * (distilled[0] - logq)).sum(-1).mean())
            curve.append({"phase": phase, "step": offset + step, "kl": kl, "drift": drift})

        return on_step

    d, c = config.distil_steps, config.fixed_point_steps
    train_predictor(
        agent,
        task,
        schedule(config, d, config.pred_batch, config.pred_lr),
        config.length,
        streams.rng("distil/" + label),
        on_step=recorder("distil", 0),
        report_steps=eval_steps(d, config.eval_points),
        distil=True,
        distil_onto=start,
    )
    train_predictor(
        agent,
        task,
        Schedule(c, config.pred_batch, config.fixed_point_lr, 1.0, config.grad_clip),  # constant lr
        config.length,
        streams.rng("continue/" + label),
        on_step=recorder("meta-train", d),
        report_steps=np.linspace(0, c, config.eval_points).round().astype(int).tolist(),
    )
    return curve


# ---- one replicate: everything the claims need, from one set of seeds ----------------------


def mismatched_prior_kl(
    config: MetaBayesConfig,
    streams: Streams,
    run: PredictionRun,
    pred: dict[str, PredictionRun],
) -> tuple[float, str]:
    """KL(Bayes || predictor) on ``run``'s held-out episodes for a predictor of the wrong
    prior (``config.mismatch_factor`` times the concentration): the network meta-trained
    under that prior when the run has one, else that prior's exact Bayes predictive."""
    task = run.task
    other = concentrated(task, config.mismatch_factor)
    x = task.sample(config.eval_episodes, config.length, streams.rng("eval/" + task.name))
    if other.name in pred:
        return compare.prediction_behaviour(pred[other.name].agent, task, x).kl, "trained"
    p, q = task.bayes_predictive(x), other.bayes_predictive(x)
    return float((p * (np.log(p) - np.log(q))).sum(-1).mean()), "exact"


@dataclass
class Replicate:
    """The results of one replicate (one set of seeds) of the whole method."""

    pred: dict[str, PredictionRun] = field(default_factory=dict)
    mismatched_kl: dict[str, tuple[float, str]] = field(default_factory=dict)
    coins: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    bandits: dict[int, BanditRun] = field(default_factory=dict)
    sim_rows: list[dict[str, Any]] = field(default_factory=list)
    mismatched_sim: dict[str, float] | None = None
    probes: list[dict[str, Any]] = field(default_factory=list)
    fixed_point: list[dict[str, Any]] = field(default_factory=list)
    fixed_point_control: list[dict[str, Any]] = field(default_factory=list)
    hard_bandit: BanditRun | None = None
    coarse: dict[str, Any] | None = None
    thompson: dict[str, float] | None = None
    value_based: dict[str, float] | None = None


def simulations(
    config: MetaBayesConfig, streams: Streams, rep: Replicate
) -> tuple[list[dict[str, Any]], dict[str, float] | None]:
    """State-machine simulation of every task in ``config.sim_tasks`` over snapshots, and of
    the mismatched-prior network against the first Bernoulli task's Bayes agent."""
    rows: list[dict[str, Any]] = []
    mismatched = None
    for name in config.sim_tasks:
        if name == "bandit" and rep.bandits:
            arms = config.bandit_arms[0]
            rows += simulation_over_snapshots(config, streams, f"bandit{arms}", rep.bandits[arms])
        elif name == "hard_bandit" and rep.hard_bandit is not None:
            rows += simulation_over_snapshots(config, streams, name, rep.hard_bandit)
        elif name in rep.pred:
            run = rep.pred[name]
            rows += simulation_over_snapshots(config, streams, name, run)
            if run.task.family != "bernoulli":
                continue
            other = concentrated(run.task, config.mismatch_factor).name
            if mismatched is None and other in rep.pred:
                mismatched = mismatched_simulation(config, streams, run, rep.pred[other])
    return rows, mismatched


def replicate_metrics(rep: Replicate) -> dict[str, Any]:
    """JSON-able metrics of one replicate (the figures are drawn from these)."""
    return {
        "prediction": {name: prediction_metrics(r) for name, r in rep.pred.items()},
        "mismatched_prior_kl": {k: v[0] for k, v in rep.mismatched_kl.items()},
        "coin": rep.coins,
        "bandit": {str(arms): bandit_metrics(r) for arms, r in rep.bandits.items()},
        "simulation": rep.sim_rows,
        "mismatched_simulation": rep.mismatched_sim,
        "probes": rep.probes,
        "fixed_point": rep.fixed_point,
        "fixed_point_control": rep.fixed_point_control,
        "hard_bandit": bandit_metrics(rep.hard_bandit) if rep.hard_bandit else None,
        "coarse": rep.coarse,
        "thompson_template": rep.thompson,
        "value_template": rep.value_based,
    }


def prediction_table(reps: list[Replicate], config: MetaBayesConfig) -> list[dict[str, Any]]:
    return [
        {
            "replicate": i,
            "task": name,
            "kl_bayes_agent": r.final.kl,
            "kl_untrained": r.curve[0]["kl"],
            "kl_mismatched_prior": rep.mismatched_kl.get(name, (None, ""))[0],
            "agent_log_loss": r.final.log_loss,
            "bayes_log_loss": r.final.bayes_log_loss,
            "excess_log_loss": r.final.excess_log_loss,
            "observations_seen": config.pred_steps * config.pred_batch * config.length,
        }
        for i, rep in enumerate(reps)
        for name, r in rep.pred.items()
    ]


def coin_table(coins: dict[str, dict[str, dict[str, list[float]]]]) -> list[dict[str, Any]]:
    return [
        {
            "prior": name,
            "heads_so_far": n,
            "agent": c["all heads"]["agent"][n],
            "bayes": c["all heads"]["bayes"][n],
        }
        for name, c in coins.items()
        for n in range(6)
    ]
