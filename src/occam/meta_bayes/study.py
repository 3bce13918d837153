"""meta-bayes: meta-trained memory agents against exact Bayes-optimal agents.

Ortega et al. (2019) argue that memory-based meta-learning minimises a Monte-Carlo estimate of
the Bayes-optimality objective, so a meta-trained recurrent network should *behave* like the
Bayes-optimal agent of its task distribution. Mikulik et al. (2020) test this and go further:
the two agents also share *structure*, each state machine approximately simulating the other.

``run`` follows the papers' method in order:

1. meta-train FC -> LSTM -> FC predictors by log loss on each task distribution; compare with
   the closed-form posterior predictive (KL per step, excess log loss);
2. the coin example: one network class under three Beta priors learns three update rules;
3. bandits: the exact dynamic programme, reference policies, and an actor-critic agent;
4. state-machine simulation between agent and Bayes states, with the untrained network and
   training checkpoints as controls;
5. beyond the paper: linear probes that decode the posterior from the agent's memory;
6. the fixed point: distil onto Bayes, keep meta-training, watch the KL.
"""

from __future__ import annotations

import copy
import time
import zlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from scipy import stats

from occam.claims import Claim, ClaimSpec
from occam.meta_bayes import bayes, compare, figures
from occam.meta_bayes.agents import MemoryAgent
from occam.meta_bayes.tasks import PredictionTask, parse_task
from occam.meta_bayes.train import (
    ActorCritic,
    Schedule,
    n_bandit_inputs,
    train_bandit,
    train_predictor,
)
from occam.study import RunContext, Study, StudyResult

ALL_TASKS = (
    "beta_1_1",
    "beta_10_10",
    "beta_0.2_0.2",
    "dirichlet_1_1_1",
    "gamma_1_1",
    "normalgamma_0_1_1_1",
)


@dataclass(frozen=True)
class MetaBayesConfig:
    """The knobs of the two papers; the defaults are the ``full`` (paper-scale) profile."""

    # Task distributions (names parsed by occam.meta_bayes.tasks.parse_task) and episodes.
    tasks: tuple[str, ...] = ALL_TASKS
    length: int = 20  # T, observations per episode (The Batch: 20 steps)
    # The memory agent: FC -> LSTM/GRU -> FC.
    hidden: int = 32
    cell: Literal["lstm", "gru"] = "lstm"
    # Prediction: log loss, BPTT over the whole episode, Adam with cosine decay, grad clipping.
    pred_steps: int = 4000  # 4000 x 128 x 20 = 1.0e7 observations per task (the paper's ~1e7)
    pred_batch: int = 128
    pred_lr: float = 2e-3
    lr_final_frac: float = 0.03
    grad_clip: float = 1.0
    eval_points: int = 12  # evaluations and checkpoints per run, log-spaced, incl. 0 and last
    eval_episodes: int = 4000
    # Bandits: K-armed Bernoulli with iid Beta arms; actor-critic, gamma = 1.
    bandit_arms: tuple[int, ...] = (2, 3)  # the first entry (2) is the one the claims judge
    bandit_prior: tuple[float, float] = (1.0, 1.0)
    bandit_horizon: int = 20
    bandit_updates: int = 2000  # 2000 x 256 x 20 = 1.0e7 environment steps
    bandit_batch: int = 256
    bandit_lr: float = 3e-3
    entropy_start: float = 0.05  # entropy bonus, annealed linearly to 0 ...
    entropy_zero_frac: float = 0.7  # ... at this fraction of training
    value_coef: float = 0.5
    expected_rewards: bool = True  # returns built from theta[a_t]: unbiased, lower variance
    time_input: bool = True  # the agent also sees t / T besides its last action and reward
    bandit_eval_episodes: int = 20000
    bandit_curve_episodes: int = 2000
    gittins_gamma: float = 0.95
    dp_horizons: tuple[int, ...] = (10, 20, 50, 100)
    # Structure: state-machine simulation ("bandit" = the first bandit) and linear probes.
    sim_tasks: tuple[str, ...] = (
        "beta_1_1",
        "beta_10_10",
        "beta_0.2_0.2",
        "dirichlet_1_1_1",
        "bandit",
    )
    sim_checkpoints: int = 5  # checkpoints analysed, always including untrained and final
    sim_episodes: int = 1000
    map_hidden: int = 64
    map_steps: int = 1500
    map_lr: float = 3e-3
    # The coin example: the two priors of Ortega et al.'s figure.
    coin_concentrated: str = "beta_10_10"
    coin_dispersed: str = "beta_0.2_0.2"
    # The fixed point: distil onto Bayes, then ordinary meta-training ("" skips it).
    fixed_point_task: str = "beta_1_1"
    distil_steps: int = 1000
    fixed_point_steps: int = 2000
    fixed_point_lr: float = 3e-4
    save_checkpoints: bool = True


SMOKE = MetaBayesConfig(
    pred_steps=16,
    pred_batch=32,
    eval_points=3,
    eval_episodes=200,
    bandit_arms=(2,),
    bandit_updates=8,
    bandit_batch=32,
    bandit_eval_episodes=400,
    bandit_curve_episodes=100,
    dp_horizons=(10, 20),
    sim_tasks=("beta_1_1", "bandit"),
    sim_checkpoints=2,
    sim_episodes=60,
    map_steps=30,
    distil_steps=8,
    fixed_point_steps=8,
)

QUICK = MetaBayesConfig(
    tasks=("beta_1_1", "beta_10_10", "beta_0.2_0.2", "dirichlet_1_1_1"),
    pred_steps=700,
    pred_lr=3e-3,
    eval_points=8,
    eval_episodes=3000,
    bandit_arms=(2,),
    bandit_updates=1200,
    bandit_batch=128,
    bandit_eval_episodes=10000,
    bandit_curve_episodes=1000,
    sim_tasks=("beta_1_1", "bandit"),
    sim_checkpoints=3,
    sim_episodes=400,
    map_steps=600,
    distil_steps=250,
    fixed_point_steps=250,
)

PROFILES = {"smoke": SMOKE, "quick": QUICK, "full": MetaBayesConfig()}

# ---- claims, fixed before the run --------------------------------------------------------

KL_THRESHOLD = 1e-3  # nats per step

PRED_KL_BERNOULLI = ClaimSpec(
    id="mb.pred_kl_bernoulli",
    statement="A meta-trained LSTM predictor on Beta(1,1) coins reaches "
    "KL(Bayes || agent) <= 1e-3 nats per step.",
    source="Mikulik et al. 2020, sec. 4 (prediction tasks)",
    comparator="<=",
    threshold=KL_THRESHOLD,
    paper_value="behaves indistinguishably from Bayes (no number confirmed)",
    unit="nats/step",
)
PRED_KL_CATEGORICAL = ClaimSpec(
    id="mb.pred_kl_categorical",
    statement="A meta-trained LSTM predictor on Dirichlet(1,1,1) categorical sources reaches "
    "KL(Bayes || agent) <= 1e-3 nats per step.",
    source="Mikulik et al. 2020, sec. 4 (prediction tasks)",
    comparator="<=",
    threshold=KL_THRESHOLD,
    paper_value="behaves indistinguishably from Bayes (no number confirmed)",
    unit="nats/step",
)
BANDIT_RETURN = ClaimSpec(
    id="mb.bandit_return",
    statement="The meta-trained two-armed bandit agent (Beta(1,1) arms, T = 20, sampled actions) "
    "earns at least 98% of the Bayes-optimal return V*.",
    source="Mikulik et al. 2020, sec. 4 (bandit tasks)",
    comparator=">=",
    threshold=0.98,
    paper_value="close to Bayes-optimal; V* = 12.431 by the exact programme",
    unit="fraction of V*",
)
BANDIT_VS_THOMPSON = ClaimSpec(
    id="mb.bandit_vs_thompson",
    statement="The meta-trained bandit agent earns more than Thompson sampling on the same tasks.",
    source="Ortega et al. 2019, sec. 4; Mikulik et al. 2020, sec. 4",
    comparator=">",
    threshold=0.0,
    paper_value="Thompson sampling 11.94 vs V* 12.43 (T = 20)",
    unit="return difference per episode",
)
SIM_ASYMMETRY = ClaimSpec(
    id="mb.sim_asymmetry",
    statement="For the trained Beta(1,1) predictor, agent -> Bayes state dissimilarity is lower "
    "than Bayes -> agent.",
    source="Mikulik et al. 2020, sec. 3-4 (state-machine simulation)",
    comparator="<",
    threshold=1.0,
    paper_value="reverse direction somewhat harder (unconfirmed)",
    unit="ratio D_s(A->B) / D_s(B->A)",
)
SIM_OUTPUT_VS_UNTRAINED = ClaimSpec(
    id="mb.sim_output_vs_untrained",
    statement="For the Beta(1,1) predictor, the trained output dissimilarity is at most a tenth "
    "of the untrained network's, in both directions.",
    source="Mikulik et al. 2020, sec. 4 (control: the untrained network)",
    comparator="<=",
    threshold=0.1,
    paper_value="trained far below untrained",
    unit="max over directions of D_o(trained) / D_o(untrained)",
)
COIN_CONCENTRATED = ClaimSpec(
    id="mb.coin_concentrated",
    statement="An agent meta-trained under Beta(10,10) (mass near 0.5) moves a little after one "
    "head: P(heads | H) in [0.51, 0.56].",
    source="Ortega et al. 2019, the coin-flip example",
    comparator="between",
    threshold=(0.51, 0.56),
    paper_value="Bayes 11/21 = 0.524",
    unit="probability",
)
COIN_DISPERSED = ClaimSpec(
    id="mb.coin_dispersed",
    statement="An agent meta-trained under Beta(0.2,0.2) (mass near 0 and 1) moves strongly after "
    "one head: P(heads | H) in [0.80, 0.95].",
    source="Ortega et al. 2019, the coin-flip example",
    comparator="between",
    threshold=(0.80, 0.95),
    paper_value="Bayes 1.2/1.4 = 0.857",
    unit="probability",
)
FIXED_POINT = ClaimSpec(
    id="mb.fixed_point",
    statement="A predictor distilled onto the Bayes predictive stays there under further "
    "meta-training: its KL never exceeds 1e-3 nats per step.",
    source="Mikulik et al. 2020, sec. 5 (Bayes-optimal agents are fixed points)",
    comparator="<=",
    threshold=KL_THRESHOLD,
    paper_value="no drift (no number confirmed)",
    unit="max KL during continued meta-training, nats/step",
)

CLAIMS = (
    PRED_KL_BERNOULLI,
    PRED_KL_CATEGORICAL,
    BANDIT_RETURN,
    BANDIT_VS_THOMPSON,
    SIM_ASYMMETRY,
    SIM_OUTPUT_VS_UNTRAINED,
    COIN_CONCENTRATED,
    COIN_DISPERSED,
    FIXED_POINT,
)


# ---- seeds, evaluation points, checkpoints -----------------------------------------------


def _seed(ctx: RunContext, label: str) -> int:
    """A stable seed per stage (crc32 of a label: Python's hash() is salted per process)."""
    return (ctx.seed * 1_000_003 + zlib.crc32(label.encode())) % (2**31)


def _rng(ctx: RunContext, label: str) -> np.random.Generator:
    return np.random.default_rng(_seed(ctx, label))


def _eval_steps(total: int, points: int) -> list[int]:
    """``points`` log-spaced steps in [0, total], always including 0 and ``total``."""
    if total <= 0:
        return [0]
    inner = np.geomspace(max(1.0, total / 64), total, max(points - 1, 1))
    return sorted({0, total, *(int(round(v)) for v in inner)})


def _pick(steps: list[int], n: int) -> list[int]:
    """``n`` of the steps, spread evenly over the list; the first and last are always kept."""
    if n >= len(steps):
        return steps
    idx = np.unique(np.round(np.linspace(0, len(steps) - 1, max(n, 2))).astype(int))
    return [steps[i] for i in idx]


class Checkpoints:
    """Agent snapshots during training, kept in memory and written to out/checkpoints/*.pt."""

    def __init__(self, ctx: RunContext, label: str, save: bool) -> None:
        self.states: dict[int, dict[str, torch.Tensor]] = {}
        self.dir = ctx.out / "checkpoints"
        self.label = label
        self.save = save

    def add(self, step: int, agent: MemoryAgent) -> None:
        self.states[step] = copy.deepcopy(agent.state_dict())
        if self.save:
            self.dir.mkdir(parents=True, exist_ok=True)
            torch.save(self.states[step], self.dir / f"{self.label}_step{step:06d}.pt")

    def agent(self, step: int, like: MemoryAgent) -> MemoryAgent:
        agent = copy.deepcopy(like)
        agent.load_state_dict(self.states[step])
        return agent


def _new_agent(
    config: MetaBayesConfig, ctx: RunContext, label: str, n_in: int, n_out: int, value: bool = False
) -> MemoryAgent:
    torch.manual_seed(_seed(ctx, "init/" + label))
    return MemoryAgent(n_in, n_out, config.hidden, config.cell, value_head=value)


def _schedule(config: MetaBayesConfig, steps: int, batch: int, lr: float) -> Schedule:
    return Schedule(steps, batch, lr, config.lr_final_frac, config.grad_clip)


# ---- 1. prediction ---------------------------------------------------------------------------


@dataclass
class PredictionRun:
    task: PredictionTask
    agent: MemoryAgent
    checkpoints: Checkpoints
    curve: list[dict[str, float]]
    final: compare.PredictionBehaviour


def meta_train_predictor(
    config: MetaBayesConfig, ctx: RunContext, task: PredictionTask
) -> PredictionRun:
    """Log-loss meta-training on one task, evaluated and checkpointed at log-spaced steps."""
    eval_x = task.sample(config.eval_episodes, config.length, _rng(ctx, "eval/" + task.name))
    agent = _new_agent(config, ctx, task.name, task.n_inputs, task.n_outputs)
    ckpt = Checkpoints(ctx, task.name, config.save_checkpoints)
    curve: list[dict[str, float]] = []

    def on_step(step: int, ag: MemoryAgent) -> None:
        b = compare.prediction_behaviour(ag, task, eval_x)
        curve.append({"step": step, "kl": b.kl, "excess_log_loss": b.excess_log_loss})
        ckpt.add(step, ag)

    train_predictor(
        agent,
        task,
        _schedule(config, config.pred_steps, config.pred_batch, config.pred_lr),
        config.length,
        _rng(ctx, "train/" + task.name),
        on_step=on_step,
        report_steps=_eval_steps(config.pred_steps, config.eval_points),
        progress=lambda it: ctx.progress(it, f"meta-train {task.name}", total=config.pred_steps),
    )
    final = compare.prediction_behaviour(agent, task, eval_x)
    return PredictionRun(task, agent, ckpt, curve, final)


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


@dataclass
class BanditRun:
    arms: int
    solution: bayes.BanditSolution
    agent: MemoryAgent
    checkpoints: Checkpoints
    curve: list[dict[str, float]]
    sampled: compare.BanditBehaviour
    greedy: compare.BanditBehaviour
    baselines: dict[str, float]  # Monte-Carlo returns on the same evaluation tasks


def meta_train_bandit(config: MetaBayesConfig, ctx: RunContext, arms: int) -> BanditRun:
    """The exact programme, reference policies and an actor-critic memory agent (K arms)."""
    label, T = f"bandit{arms}", config.bandit_horizon
    alphas = np.full(arms, config.bandit_prior[0])
    betas = np.full(arms, config.bandit_prior[1])
    solution = bayes.solve_bandit(alphas, betas, T, keep_q=True)
    eval_rng = _rng(ctx, "eval/" + label)
    theta, u = bayes.sample_bandit_tasks(alphas, betas, config.bandit_eval_episodes, T, eval_rng)
    gumbel = eval_rng.gumbel(size=u.shape)  # the agent's action noise, shared by all checkpoints
    n = min(config.bandit_curve_episodes, config.bandit_eval_episodes)

    agent = _new_agent(
        config, ctx, label, n_bandit_inputs(arms, config.time_input), arms, value=True
    )
    ckpt = Checkpoints(ctx, label, config.save_checkpoints)
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
        ckpt.add(step, ag)

    train_bandit(
        agent,
        alphas,
        betas,
        T,
        _schedule(config, config.bandit_updates, config.bandit_batch, config.bandit_lr),
        ActorCritic(
            config.entropy_start,
            config.entropy_zero_frac,
            config.value_coef,
            config.expected_rewards,
        ),
        _rng(ctx, "train/" + label),
        time_input=config.time_input,
        on_step=on_step,
        report_steps=_eval_steps(config.bandit_updates, config.eval_points),
        progress=lambda it: ctx.progress(it, f"meta-train {label}", total=config.bandit_updates),
    )
    sampled = compare.bandit_behaviour(agent, solution, theta, u, gumbel, config.time_input)
    greedy = compare.bandit_behaviour(agent, solution, theta, u, None, config.time_input)

    policies: dict[str, bayes.CountPolicy] = {
        "Bayes-optimal (DP policy)": bayes.bayes_policy(solution),
        "greedy (posterior mean)": bayes.greedy_policy(alphas, betas),
        f"Gittins (gamma={config.gittins_gamma:g})": bayes.gittins_policy(
            alphas, betas, T, config.gittins_gamma
        ),
        "Thompson sampling": bayes.thompson_policy(alphas, betas),
        "uniform random": bayes.random_policy(arms),
    }
    baselines = {
        name: float(
            bayes.evaluate_count_policy(policy, theta, u, _rng(ctx, "policy/" + name)).mean()
        )
        for name, policy in policies.items()
    }
    return BanditRun(arms, solution, agent, ckpt, curve, sampled, greedy, baselines)


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
        "curve": r.curve,
    }


# ---- 4. structure: state-machine simulation over checkpoints ---------------------------------


def simulation_over_checkpoints(
    config: MetaBayesConfig, ctx: RunContext, label: str, run: PredictionRun | BanditRun
) -> list[dict[str, Any]]:
    """Dissimilarities in both directions at a few checkpoints (step 0 = the untrained control)."""
    spec = compare.MapSpec(hidden=config.map_hidden, steps=config.map_steps, lr=config.map_lr)
    seed, data_rng = _seed(ctx, "sim/" + label), _rng(ctx, "simdata/" + label)
    rows: list[dict[str, Any]] = []
    if isinstance(run, PredictionRun):
        x = run.task.sample(config.sim_episodes, config.length, data_rng)
    else:
        alphas, betas = (np.full(run.arms, v) for v in config.bandit_prior)
        theta, u = bayes.sample_bandit_tasks(
            alphas, betas, config.sim_episodes, config.bandit_horizon, data_rng
        )
    for step in _pick(sorted(run.checkpoints.states), config.sim_checkpoints):
        agent = run.checkpoints.agent(step, run.agent)
        if isinstance(run, PredictionRun):
            sim = compare.simulate_prediction(agent, run.task, x, spec, seed)
        else:
            sim = compare.simulate_bandit(
                agent, run.solution, theta, u, spec, seed, config.time_input
            )
        rows.append({"task": label, "step": step, **sim.as_dict()})
    return rows


# ---- 6. the fixed point --------------------------------------------------------------------------


def fixed_point(
    config: MetaBayesConfig, ctx: RunContext, task: PredictionTask
) -> list[dict[str, Any]]:
    """Distil a fresh agent onto the Bayes predictive, then continue ordinary meta-training."""
    eval_x = task.sample(config.eval_episodes, config.length, _rng(ctx, "eval/" + task.name))
    agent = _new_agent(config, ctx, "fixed/" + task.name, task.n_inputs, task.n_outputs)
    curve: list[dict[str, Any]] = []

    def recorder(phase: str, offset: int) -> Any:
        def on_step(step: int, ag: MemoryAgent) -> None:
            kl = compare.prediction_behaviour(ag, task, eval_x).kl
            curve.append({"phase": phase, "step": offset + step, "kl": kl})

        return on_step

    d, c = config.distil_steps, config.fixed_point_steps
    train_predictor(
        agent,
        task,
        _schedule(config, d, config.pred_batch, config.pred_lr),
        config.length,
        _rng(ctx, "distil/" + task.name),
        on_step=recorder("distil", 0),
        report_steps=_eval_steps(d, config.eval_points),
        distil=True,
    )
    train_predictor(
        agent,
        task,
        Schedule(c, config.pred_batch, config.fixed_point_lr, 1.0, config.grad_clip),  # constant lr
        config.length,
        _rng(ctx, "continue/" + task.name),
        on_step=recorder("meta-train", d),
        report_steps=np.linspace(0, c, config.eval_points).round().astype(int).tolist(),
    )
    return curve


# ---- the study ----------------------------------------------------------------------------------


def run(config: MetaBayesConfig, ctx: RunContext) -> StudyResult:
    torch.set_num_threads(1)
    tasks = [parse_task(name) for name in config.tasks]
    metrics: dict[str, Any] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        timings[stage] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    # 1. Meta-train one predictor per task; compare with the closed-form Bayes predictive.
    pred: dict[str, PredictionRun] = {}
    for task in tasks:
        pred[task.name] = meta_train_predictor(config, ctx, task)
        lap(f"predict/{task.name}")
    metrics["prediction"] = {
        name: {
            "kl": r.final.kl,
            "kl_per_step": r.final.kl_per_step,
            "log_loss": r.final.log_loss,
            "bayes_log_loss": r.final.bayes_log_loss,
            "curve": r.curve,
        }
        for name, r in pred.items()
    }
    tables["prediction"] = [
        {
            "task": name,
            "KL(Bayes||agent) nats/step": r.final.kl,
            "KL untrained": r.curve[0]["kl"],
            "agent log loss": r.final.log_loss,
            "Bayes log loss": r.final.bayes_log_loss,
            "excess log loss": r.final.excess_log_loss,
            "observations seen": config.pred_steps * config.pred_batch * config.length,
        }
        for name, r in pred.items()
    ]
    if pred:
        ctx.save_figure(
            figures.kl_learning_curves(metrics["prediction"], KL_THRESHOLD), "kl_learning_curves"
        )

    # 2. The coin example: one network class, three priors, three update rules.
    coins = {name: coin_curves(r) for name, r in pred.items() if r.task.family == "bernoulli"}
    if coins:
        metrics["coin"] = coins
        tables["coin"] = [
            {
                "prior": name,
                "heads so far": n,
                "agent": c["all heads"]["agent"][n],
                "Bayes": c["all heads"]["bayes"][n],
            }
            for name, c in coins.items()
            for n in range(6)
        ]
        ctx.save_figure(figures.coin_example(coins), "coin_example")
    lap("coin")

    # 3. Bandits: exact values by dynamic programming, then meta-trained agents.
    a0, b0 = config.bandit_prior
    tables["bandit_dp"] = []
    for horizon in config.dp_horizons:
        sol = bayes.solve_bandit([a0, a0], [b0, b0], horizon)
        oracle = horizon * expected_max_beta(a0, b0)
        tables["bandit_dp"].append(
            {
                "arms": 2,
                "horizon": horizon,
                "beliefs": sol.n_states,
                "V*": sol.value,
                "oracle": oracle,
                "Bayes regret": oracle - sol.value,
            }
        )
    metrics["bandit_dp"] = tables["bandit_dp"]
    lap("bandit/dp")
    bandits: dict[int, BanditRun] = {}
    for arms in config.bandit_arms:
        bandits[arms] = meta_train_bandit(config, ctx, arms)
        lap(f"bandit/{arms}-armed")
    metrics["bandit"] = {str(arms): bandit_metrics(r) for arms, r in bandits.items()}
    tables["bandit"] = []
    for arms, r in bandits.items():
        tables["bandit"].append(
            {"arms": arms, "policy": "V* (exact DP)", "return": r.solution.value}
        )
        for label, b in (
            ("agent, sampled actions", r.sampled),
            ("agent, greedy actions", r.greedy),
        ):
            tables["bandit"].append(
                {
                    "arms": arms,
                    "policy": label,
                    "return": b.mean_return,
                    "se": b.return_se,
                    "regret": b.regret,
                    "policy KL": b.policy_kl,
                    "agreement": b.agreement,
                }
            )
        tables["bandit"] += [
            {"arms": arms, "policy": k + " (MC)", "return": v} for k, v in r.baselines.items()
        ]
    if bandits:
        ctx.save_figure(figures.bandit_returns(metrics["bandit"]), "bandit_returns")

    # 4. Structure: state-machine simulation over checkpoints (step 0 = the untrained network).
    sim_runs: dict[str, PredictionRun | BanditRun] = {}
    for name in config.sim_tasks:
        if name == "bandit" and bandits:
            sim_runs[f"bandit{config.bandit_arms[0]}"] = bandits[config.bandit_arms[0]]
        elif name in pred and pred[name].task.discrete:
            sim_runs[name] = pred[name]
    sim_rows: list[dict[str, Any]] = []
    for label, sim_run in sim_runs.items():
        sim_rows += simulation_over_checkpoints(config, ctx, label, sim_run)
        lap(f"simulation/{label}")
    metrics["simulation"] = tables["simulation"] = sim_rows
    if sim_rows:
        ctx.save_figure(figures.dissimilarity(sim_rows), "dissimilarity")

    # 5. Beyond the paper: linear probes decode the posterior's statistics from memory.
    probe_rows: list[dict[str, Any]] = []
    for name, p in pred.items():
        if name in sim_runs:
            x = p.task.sample(config.sim_episodes, config.length, _rng(ctx, "probe/" + name))
            untrained = compare.probe_prediction(p.checkpoints.agent(0, p.agent), p.task, x)
            trained = compare.probe_prediction(p.agent, p.task, x)
            probe_rows += [
                {"task": name, "target": k, "r2_trained": trained[k], "r2_untrained": untrained[k]}
                for k in trained
            ]
    metrics["probes"] = tables["probes"] = probe_rows
    if probe_rows:
        ctx.save_figure(figures.probes(probe_rows), "probes")
    lap("probes")

    # 6. The fixed point.
    fp_curve: list[dict[str, Any]] = []
    if config.fixed_point_task:
        fp_curve = fixed_point(config, ctx, parse_task(config.fixed_point_task))
        metrics["fixed_point"] = tables["fixed_point"] = fp_curve
        ctx.save_figure(
            figures.fixed_point(fp_curve, config.distil_steps, KL_THRESHOLD), "fixed_point"
        )
    lap("fixed_point")

    return StudyResult(
        metrics=metrics,
        claims=judge(config, metrics),
        tables=tables,
        reading=reading(metrics),
        timings=timings,
    )


def judge(config: MetaBayesConfig, metrics: dict[str, Any]) -> list[Claim]:
    """Verdicts from the metrics, with the thresholds fixed in the ClaimSpecs above."""
    pred = metrics.get("prediction", {})
    claims = [
        PRED_KL_BERNOULLI.evaluate(pred.get("beta_1_1", {}).get("kl"), "held-out episodes"),
        PRED_KL_CATEGORICAL.evaluate(
            pred.get("dirichlet_1_1_1", {}).get("kl"), "held-out episodes"
        ),
    ]

    b = metrics.get("bandit", {}).get("2")
    if b is not None:
        base = b["baselines"]
        agent = b["agent_sampled"]
        detail = (
            f"agent {agent['mean_return']:.3f} +- {agent['return_se']:.3f}, "
            f"DP policy {base['Bayes-optimal (DP policy)']:.3f}, "
            f"Thompson {base['Thompson sampling']:.3f}, "
            f"greedy {base['greedy (posterior mean)']:.3f} (Monte Carlo, same tasks); "
            f"V* {b['v_star']:.4f}"
        )
        claims += [
            BANDIT_RETURN.evaluate(
                b["fraction_of_v_star"], detail + "; fraction = 1 - (DP - agent) / V*"
            ),
            BANDIT_VS_THOMPSON.evaluate(b["vs_thompson"], detail),
        ]
    else:
        claims += [
            BANDIT_RETURN.evaluate(None, "no 2-armed bandit run"),
            BANDIT_VS_THOMPSON.evaluate(None, "no 2-armed bandit run"),
        ]

    rows = [r for r in metrics.get("simulation", []) if r["task"] == "beta_1_1"]
    if len(rows) >= 2 and rows[0]["step"] == 0:
        untrained, trained = rows[0], rows[-1]
        ratio = trained["ds_agent_to_bayes"] / trained["ds_bayes_to_agent"]
        claims.append(
            SIM_ASYMMETRY.evaluate(
                ratio,
                f"D_s A->B {trained['ds_agent_to_bayes']:.4g}, "
                f"B->A {trained['ds_bayes_to_agent']:.4g} (step {trained['step']})",
            )
        )
        r_ab = trained["do_agent_to_bayes"] / untrained["do_agent_to_bayes"]
        r_ba = trained["do_bayes_to_agent"] / untrained["do_bayes_to_agent"]
        claims.append(
            SIM_OUTPUT_VS_UNTRAINED.evaluate(
                max(r_ab, r_ba),
                f"D_o A->B {trained['do_agent_to_bayes']:.3g} "
                f"vs untrained {untrained['do_agent_to_bayes']:.3g}; "
                f"B->A {trained['do_bayes_to_agent']:.3g} "
                f"vs untrained {untrained['do_bayes_to_agent']:.3g} (nats)",
            )
        )
    else:
        claims += [
            SIM_ASYMMETRY.evaluate(None, "beta_1_1 not simulated"),
            SIM_OUTPUT_VS_UNTRAINED.evaluate(None, "beta_1_1 not simulated"),
        ]

    coins = metrics.get("coin", {})
    for spec, name in (
        (COIN_CONCENTRATED, config.coin_concentrated),
        (COIN_DISPERSED, config.coin_dispersed),
    ):
        if name in coins:
            c = coins[name]["all heads"]
            detail = (
                f"{name}: agent {c['agent'][0]:.3f} -> {c['agent'][1]:.3f}, "
                f"Bayes {c['bayes'][0]:.3f} -> {c['bayes'][1]:.3f}"
            )
            claims.append(spec.evaluate(c["agent"][1], detail))
        else:
            claims.append(spec.evaluate(None, f"{name} not trained"))

    curve = metrics.get("fixed_point", [])
    cont = [r["kl"] for r in curve if r["phase"] == "meta-train"]
    if cont:
        after_distil = [r["kl"] for r in curve if r["phase"] == "distil"][-1]
        detail = (
            f"after distillation {after_distil:.3g}, "
            f"max during meta-training {max(cont):.3g}, at the end {cont[-1]:.3g}"
        )
        claims.append(FIXED_POINT.evaluate(max(cont), detail))
    else:
        claims.append(FIXED_POINT.evaluate(None, "not run"))
    return claims


def reading(metrics: dict[str, Any]) -> str:
    """A short paragraph on what the figures show, with this run's numbers."""
    parts = []
    pred = metrics.get("prediction", {})
    if pred:
        kls = "; ".join(
            f"{n} {m['kl']:.1e} (untrained {m['curve'][0]['kl']:.1e})" for n, m in pred.items()
        )
        parts.append(
            "Meta-trained predictors approach the Bayes posterior predictive; "
            f"KL in nats per step: {kls}."
        )
    coins = metrics.get("coin", {})
    if coins:
        moves = ", ".join(
            f"{n} {c['all heads']['agent'][1]:.3f} (Bayes {c['all heads']['bayes'][1]:.3f})"
            for n, c in coins.items()
        )
        parts.append(
            "The coin figure shows one network class learning a different update rule for "
            f"each prior; after one head: {moves}."
        )
    for arms, b in metrics.get("bandit", {}).items():
        parts.append(
            f"The {arms}-armed bandit agent earns {b['agent_sampled']['mean_return']:.3f} "
            f"per episode against V* = {b['v_star']:.3f} and Thompson sampling's "
            f"{b['baselines']['Thompson sampling']:.3f}, and picks the Bayes-optimal arm on "
            f"{100 * b['agent_sampled']['agreement']:.0f}% of the non-tie beliefs it visits."
        )
    rows = metrics.get("simulation", [])
    if rows:
        parts.append(
            "In the state-machine simulation, output dissimilarity (not state dissimilarity) "
            "separates trained from untrained networks: random recurrent states already carry "
            "the counts, as the probes also show."
        )
    return " ".join(parts)


STUDY = Study(
    name="meta-bayes",
    title="Meta-trained memory agents implement Bayes-optimal agents",
    papers="Ortega et al. 2019; Mikulik et al. 2020",
    config_cls=MetaBayesConfig,
    profiles=PROFILES,
    claims=CLAIMS,
    run=run,
)
