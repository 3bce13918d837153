"""meta-bayes configuration: the papers' knobs, the three profiles and the claims.

The defaults of :class:`MetaBayesConfig` are the ``full`` (paper-scale) profile. The claims are
fixed here, before any run; :func:`occam.meta_bayes.study.judge` is the one place that turns
measurements into verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from occam.claims import ClaimSpec, Control
from occam.knobs import (
    Check,
    Config,
    at_least,
    between,
    knob,
    non_empty,
    non_negative,
    open_unit,
    positive,
    unit_interval,
)
from occam.meta_bayes.tasks import parse_task

ALL_TASKS = (
    "beta_1_1",
    "beta_10_10",
    "beta_0.2_0.2",
    "dirichlet_1_1_1",
    "gamma_1_1",
    "normalgamma_0_1_1_1",
)


def _task_ok(name: str, discrete: bool = False) -> bool:
    try:
        task = parse_task(name)
    except ValueError:
        return False
    return task.discrete or not discrete


task_name = Check("a task name such as beta_1_1, dirichlet_1_1_1, gamma_1_1", _task_ok)
discrete_task = Check(
    "a discrete task name (beta_A_B or dirichlet_A1_..._AK)", lambda v: _task_ok(v, True)
)
coin_task = Check("a coin task name beta_A_B", lambda v: _task_ok(v) and v.startswith("beta_"))
sim_task = Check(
    "'bandit', 'hard_bandit' or a task name",
    lambda v: v in ("bandit", "hard_bandit") or _task_ok(v),
)


def _coarse_ok(name: str) -> bool:
    if name == "":
        return True
    try:
        task = parse_task(name)
    except ValueError:
        return False
    return task.family == "categorical" and task.n_outcomes >= 3


coarse_task_name = Check("'' (skip) or a Dirichlet task with >= 3 outcomes", _coarse_ok)
fixed_point_task_name = Check(
    "'' (skip) or a discrete task name", lambda v: v == "" or _task_ok(v, True)
)
positive_pair = Check("two numbers > 0", lambda v: len(v) == 2 and all(positive(x) for x in v))


@dataclass(frozen=True)
class MetaBayesConfig(Config):
    """The knobs of the two papers; the defaults are the ``full`` (paper-scale) profile."""

    # Task distributions and episodes.
    tasks: tuple[str, ...] = knob(
        ALL_TASKS, "prediction task distributions (prior_params)", check=non_empty(task_name)
    )
    length: int = knob(20, "T, observations per episode (20 in Mikulik et al.)", check=positive)
    # The memory agent: FC -> LSTM/GRU -> FC.
    hidden: int = knob(32, "width of the FC layer and the recurrent memory", check=positive)
    cell: Literal["lstm", "gru"] = knob("lstm", "the recurrent cell")
    # Prediction: log loss, BPTT over the whole episode, Adam with cosine decay, grad clipping.
    pred_steps: int = knob(
        4000,
        "meta-training updates per predictor (4000 x 128 x 20 = 1e7 observations)",
        check=positive,
    )
    pred_batch: int = knob(128, "episodes per predictor update", check=positive)
    pred_lr: float = knob(2e-3, "Adam learning rate of the predictors", check=positive)
    lr_final_frac: float = knob(
        0.03, "final learning rate as a fraction of the first (cosine decay)", check=unit_interval
    )
    grad_clip: float = knob(1.0, "gradient-norm clipping", check=positive)
    eval_points: int = knob(
        12, "evaluations and snapshots per run, log-spaced, incl. 0 and last", check=at_least(2)
    )
    eval_episodes: int = knob(4000, "held-out episodes for the KL", check=positive)
    # Bandits: K-armed Bernoulli with iid Beta arms; actor-critic, gamma = 1.
    bandit_arms: tuple[int, ...] = knob(
        (2, 3),
        "arm counts (the first, 2, is the one the claims judge)",
        check=non_empty(between(2, 3)),
    )
    bandit_prior: tuple[float, float] = knob(
        (1.0, 1.0), "Beta(a, b) prior of every arm", check=positive_pair
    )
    bandit_horizon: int = knob(20, "pulls per bandit episode", check=between(1, 100))
    bandit_updates: int = knob(
        2000, "actor-critic updates (2000 x 256 x 20 = 1e7 steps)", check=positive
    )
    bandit_batch: int = knob(256, "episodes per actor-critic update", check=at_least(2))
    bandit_lr: float = knob(3e-3, "Adam learning rate of the bandit agent", check=positive)
    entropy_start: float = knob(
        0.05, "entropy bonus at the start, annealed linearly to 0", check=non_negative
    )
    entropy_zero_frac: float = knob(
        0.7, "fraction of training at which the entropy bonus reaches 0", check=unit_interval
    )
    value_coef: float = knob(0.5, "weight of the critic's loss", check=non_negative)
    expected_rewards: bool = knob(
        False,
        "build returns from theta[a_t] (privileged: the true arm means) instead of the sampled "
        "0/1 rewards the agent sees",
    )
    time_input: bool = knob(True, "the bandit agent also sees t / T")
    bandit_eval_episodes: int = knob(20000, "bandit evaluation tasks", check=positive)
    bandit_curve_episodes: int = knob(2000, "bandit tasks per learning-curve point", check=positive)
    gittins_gamma: float = knob(0.95, "discount of the Gittins-index baseline", check=open_unit)
    dp_horizons: tuple[int, ...] = knob(
        (10, 20, 50, 100), "horizons of the exact-programme table", check=non_empty(between(1, 100))
    )
    # Structure: state-machine simulation ("bandit" = the first bandit) and linear probes.
    sim_tasks: tuple[str, ...] = knob(
        (
            "beta_1_1",
            "beta_10_10",
            "beta_0.2_0.2",
            "dirichlet_1_1_1",
            "gamma_1_1",
            "normalgamma_0_1_1_1",
            "bandit",
            "hard_bandit",
        ),
        "tasks analysed by state-machine simulation ('bandit' = the first bandit, "
        "'hard_bandit' = the harder bandit)",
        check=non_empty(sim_task),
    )
    sim_checkpoints: int = knob(
        5, "snapshots analysed, always including untrained and final", check=at_least(2)
    )
    sim_episodes: int = knob(
        1000, "episodes of paired states (80% fit the maps)", check=at_least(5)
    )
    map_hidden: int = knob(64, "width of the simulation maps (MLP 2 hidden layers)", check=positive)
    map_steps: int = knob(1500, "Adam steps per simulation map", check=positive)
    map_lr: float = knob(3e-3, "learning rate of the simulation maps", check=positive)
    # Beyond the papers: the newsletter's two open questions.
    hard_bandit_arms: int = knob(
        2, "arms of the harder bandit (3 arms: keep its horizon <= 20)", check=between(2, 3)
    )
    hard_bandit_horizon: int = knob(
        50, "pulls per episode of the harder bandit (0 skips it)", check=between(0, 100)
    )
    hard_bandit_updates: int = knob(
        2000, "actor-critic updates of the harder bandit", check=positive
    )
    template_updates: int = knob(
        2000,
        "updates of the Thompson-sampling and value-based (Q-learning) bandit agents (0 skips)",
        check=non_negative,
    )
    template_batch: int = knob(
        256, "episodes per update of the Thompson-sampling and Q-learning agents", check=at_least(2)
    )
    q_epsilon: float = knob(
        0.3,
        "epsilon-greedy exploration of the Q-learning agent at the start, annealed to 0",
        check=unit_interval,
    )
    coarse_task: str = knob(
        "dirichlet_1_1_1",
        "categorical source of the minimal-statistic experiment: the loss scores only "
        "whether x_t = 0 ('' skips it)",
        check=coarse_task_name,
    )
    # The coin example: the two priors of Ortega et al.'s figure.
    coin_concentrated: str = knob("beta_10_10", "prior with mass near 0.5", check=coin_task)
    coin_dispersed: str = knob("beta_0.2_0.2", "prior with mass near 0 and 1", check=coin_task)
    # The fixed point: distil onto Bayes, then ordinary meta-training.
    fixed_point_task: str = knob(
        "beta_1_1", "task of the fixed-point experiment ('' skips it)", check=fixed_point_task_name
    )
    distil_steps: int = knob(1000, "updates distilling onto the Bayes predictive", check=positive)
    fixed_point_steps: int = knob(2000, "log-loss updates after distillation", check=positive)
    fixed_point_lr: float = knob(3e-4, "constant learning rate after distillation", check=positive)
    save_checkpoints: bool = knob(True, "write agent snapshots to checkpoints/*.pt")
    # Replication: every claim is judged over independent replicates.
    replicates: int = knob(
        5, "independent replicates (seeds of meta-training and evaluation)", check=positive
    )
    mismatch_factor: float = knob(
        10.0,
        "prior of the mismatched-prior controls: the task's prior with this many times its "
        "concentration (Beta(1,1) -> Beta(10,10), as in Ortega et al.'s coin example)",
        check=at_least(2),
    )


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
    sim_tasks=("beta_1_1", "gamma_1_1", "normalgamma_0_1_1_1", "bandit", "hard_bandit"),
    sim_checkpoints=2,
    sim_episodes=60,
    map_steps=30,
    distil_steps=8,
    fixed_point_steps=8,
    hard_bandit_horizon=8,
    hard_bandit_updates=8,
    template_updates=8,
    template_batch=32,
    replicates=1,
)

QUICK = MetaBayesConfig(
    tasks=(
        "beta_1_1",
        "beta_10_10",
        "beta_0.2_0.2",
        "dirichlet_1_1_1",
        "gamma_1_1",
        "normalgamma_0_1_1_1",
    ),
    pred_steps=700,
    pred_lr=3e-3,
    eval_points=8,
    eval_episodes=3000,
    bandit_arms=(2,),
    bandit_updates=1200,
    bandit_batch=128,
    bandit_eval_episodes=10000,
    bandit_curve_episodes=1000,
    sim_tasks=("beta_1_1", "gamma_1_1", "normalgamma_0_1_1_1", "bandit", "hard_bandit"),
    sim_checkpoints=3,
    sim_episodes=400,
    map_steps=480,
    distil_steps=250,
    fixed_point_steps=250,
    hard_bandit_horizon=40,
    hard_bandit_updates=400,
    template_updates=200,
    template_batch=64,
    replicates=3,
)

PROFILES = {"smoke": SMOKE, "quick": QUICK, "full": MetaBayesConfig()}

# ---- claims, fixed before the run --------------------------------------------------------
#
# Every claim is judged over the replicates (independent seeds of meta-training and
# evaluation) with a 95% bootstrap interval, beside a negative control: the same
# measurement where the claim must not hold. Thresholds and their margins are fixed here.

REPLICATE = "seed of meta-training and evaluation (fresh networks, tasks and episodes)"
KL_THRESHOLD = 1e-3  # nats per step: "indistinguishable" from Bayes, ~1/100 of an untrained KL

MISMATCHED_PRIOR = (
    "the same measurement for a predictor that is Bayes-optimal in form but for the wrong "
    "prior: the task's prior with mismatch_factor (10) times its concentration, as Ortega et "
    "al.'s coin example contrasts Beta(1,1) with Beta(10,10). A KL test that this passes "
    "cannot tell the learned prior apart."
)

PRED_KL_BERNOULLI = ClaimSpec(
    id="mb.pred_kl_bernoulli",
    statement="A meta-trained LSTM predictor on Beta(1,1) coins reaches "
    "KL(Bayes || agent) <= 1e-3 nats per step.",
    source="Mikulik et al. 2020, sec. 4 (prediction tasks); Ortega et al. 2019, sec. 3",
    comparator="<=",
    threshold=KL_THRESHOLD,
    paper_value="behaves indistinguishably from Bayes (no number confirmed)",
    unit="nats/step",
    replicate=REPLICATE,
    control=Control(
        name="network meta-trained under Beta(10,10)",
        description="The same network class and budget meta-trained under the concentrated "
        "coin prior, scored against the Beta(1,1) Bayes predictive on Beta(1,1) episodes: "
        + MISMATCHED_PRIOR,
    ),
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
    replicate=REPLICATE,
    control=Control(
        name="Bayes predictor of Dirichlet(10,10,10)",
        description="The exact Dirichlet(10,10,10) posterior predictive on the same held-out "
        "Dirichlet(1,1,1) episodes: " + MISMATCHED_PRIOR,
    ),
)
AGREEMENT_THRESHOLD = 0.95
BANDIT_AGREEMENT = ClaimSpec(
    id="mb.bandit_agreement",
    statement="The meta-trained two-armed bandit agent (Beta(1,1) arms, T = 20) takes the "
    "Bayes-optimal action (exact programme) on at least 95% of the non-tie beliefs it visits.",
    source="Mikulik et al. 2020, sec. 4 (bandit tasks); Ortega et al. 2019, sec. 4",
    comparator=">=",
    threshold=AGREEMENT_THRESHOLD,
    paper_value="indistinguishable from the Bayes-optimal policy (no number confirmed)",
    unit="fraction of visited non-tie beliefs",
    replicate=REPLICATE,
    control=Control(
        name="greedy posterior-mean play",
        description="Pull the arm with the larger posterior mean, never exploring. It earns "
        "99.4% of V* (12.36 vs 12.43), so return cannot separate it from pi_Bayes, but it "
        "agrees with pi_Bayes on only 0.89 of its visited beliefs (20,000 tasks): the "
        "threshold asks the agent to close at least half of that gap.",
    ),
)
POLICY_KL_THRESHOLD = 0.12
BANDIT_POLICY_KL = ClaimSpec(
    id="mb.bandit_policy_kl",
    statement="The meta-trained bandit agent's policy is close to pi_Bayes: "
    "KL(pi_Bayes || pi_agent) = E[-log pi_agent(a*)] <= 0.12 nats per step on the non-tie "
    "beliefs it visits.",
    source="Mikulik et al. 2020, sec. 4 (bandit tasks)",
    comparator="<=",
    threshold=POLICY_KL_THRESHOLD,
    paper_value="indistinguishable from the Bayes-optimal policy (no number confirmed)",
    unit="nats/step",
    replicate=REPLICATE,
    control=Control(
        name="Thompson sampling",
        description="Posterior sampling, Ortega et al.'s other template: a sensible "
        "Bayesian policy that is not Bayes-optimal. Its exact action probabilities give "
        "0.248 nats/step (20,000 tasks); the threshold asks the agent to close at least "
        "half of the gap between Thompson sampling and pi_Bayes.",
    ),
)
UNTRAINED = Control(
    name="untrained network",
    description="The same analysis of the same network at initialisation (Mikulik et al.'s "
    "control): random recurrent states driven by the observations already carry the counts.",
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
    replicate=REPLICATE,
    control=UNTRAINED,
)
SIM_MEMORY_IS_STATISTIC = ClaimSpec(
    id="mb.sim_memory_is_statistic",
    statement="The trained Beta(1,1) predictor's memory is a state machine of the sufficient "
    "statistic: the Bayes counts predict its memory state with D_s(Bayes -> agent) <= 0.05 "
    "(95% of the memory's variance explained).",
    source="Ortega et al. 2019, sec. 3 (state machine of sufficient statistics); "
    "Mikulik et al. 2020, sec. 3",
    comparator="<=",
    threshold=0.05,
    paper_value="trained agents simulate the Bayes agent in both directions",
    unit="normalised held-out MSE",
    replicate=REPLICATE,
    control=Control(
        name="untrained network",
        description="The same map from counts to the memory of the network at "
        "initialisation: a random LSTM's state depends on the order of the observations, "
        "not only on their counts.",
    ),
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
    replicate=REPLICATE,
    control=Control(
        name="network meta-trained under Beta(10,10)",
        description="The same simulation against the Beta(1,1) Bayes agent for the network "
        "meta-trained under Beta(10,10): its memory encodes the counts as well, but its "
        "outputs follow the wrong prior, so output dissimilarity must stay high.",
    ),
)
SIM_BANDIT = ClaimSpec(
    id="mb.sim_bandit",
    statement="The trained bandit agent and the Bayes-optimal bandit agent simulate each "
    "other: action disagreement through the fitted state maps is at most 0.25 (half of "
    "chance for two arms) in both directions.",
    source="Mikulik et al. 2020, sec. 3-4 (state-machine simulation, bandits)",
    comparator="<=",
    threshold=0.25,
    paper_value="trained agents simulate the Bayes agent; untrained do not",
    unit="max over directions of action disagreement",
    replicate=REPLICATE,
    control=UNTRAINED,
)
# ---- the papers' missing pieces and the newsletter's open questions -----------------------

SHUFFLED_PAIRING = Control(
    name="shuffled pairing",
    description="The same map fitted on state pairs whose episodes are shuffled within each "
    "step (every memory state paired with another history's Bayes state at the same n), "
    "scored on correctly paired held-out states: what it explains is what the step number "
    "alone carries, so a real simulation must do better.",
)
SIM_DS_THRESHOLD = 0.05  # 95% of each coordinate's variance, as mb.sim_memory_is_statistic


def _sim_continuous(task_id: str, family: str, prior: str, coords: str) -> ClaimSpec:
    return ClaimSpec(
        id=task_id,
        statement=f"The trained {family} predictor ({prior} prior) simulates the Bayes state "
        f"machine although its behaviour is not Bayes-optimal: the map from its memory to the "
        f"Bayes state {coords} leaves at most 5% of each coordinate's variance unexplained "
        "(held-out D_s(agent -> Bayes) <= 0.05).",
        source="Mikulik et al. 2020, sec. 3 (simulation by regression) and sec. 4 "
        f"({family} observations)",
        comparator="<=",
        threshold=SIM_DS_THRESHOLD,
        paper_value="trained agents simulate the Bayes agent (no number confirmed)",
        unit="held-out D_s, mean over coordinates",
        replicate=REPLICATE,
        control=SHUFFLED_PAIRING,
    )


SIM_EXPONENTIAL = _sim_continuous("mb.sim_exponential", "exponential", "Gamma(1,1)", "(n, log b_n)")
SIM_GAUSSIAN = _sim_continuous(
    "mb.sim_gaussian", "Gaussian", "Normal-Gamma(0,1,1,1)", "(n, mu_n, log b_n)"
)
SIM_COMMUTES = ClaimSpec(
    id="mb.sim_commutes",
    statement="The learned agent -> Bayes map commutes with the transitions (condition (i) of "
    "a simulation): phi(next memory) equals the Bayes update of phi(memory) on the same "
    "observation to within half the update's root-mean-square size (commutation error "
    "<= 0.25), for the worst of the Beta(1,1), exponential and Gaussian predictors.",
    source="Mikulik et al. 2020, sec. 3 (simulation: condition (i), the map commutes with "
    "the transition functions)",
    comparator="<=",
    threshold=0.25,
    paper_value="required by the definition; not measured in the paper",
    unit="sum ||phi(s') - tau_B(phi(s), x)||^2 / sum ||b' - b||^2 (max over tasks)",
    replicate=REPLICATE,
    control=Control(
        name="shuffled pairing",
        description="The commutation error of the map fitted on episode-shuffled pairs (see "
        "the continuous simulation claims): it cannot follow the observations, so its "
        "increments miss the Bayes updates.",
    ),
)
SIM_HARD_BANDIT = ClaimSpec(
    id="mb.sim_hard_bandit",
    statement="On a harder bandit (two Beta(1,1) arms, a longer horizon: 40 pulls in quick, "
    "50 in full) where the agent stays further from pi_Bayes, the two agents still simulate "
    "each other: action disagreement through the fitted maps <= 0.25 in both directions.",
    source="Shah's open question on Mikulik et al. 2020 (Alignment Newsletter): tasks where "
    "agents may not reach optimal behaviour",
    comparator="<=",
    threshold=0.25,
    paper_value="not in the papers",
    unit="max over directions of action disagreement",
    replicate=REPLICATE,
    control=UNTRAINED,
)
COARSE_DROPS_UNNEEDED = ClaimSpec(
    id="mb.coarse_drops_unneeded",
    statement="An agent whose loss needs only part of the posterior does not keep the rest as "
    "well: meta-trained on Dirichlet(1,1,1) outcomes but scored only on whether x_t = 0 "
    "(Bayes "
    "needs c_0 alone), its memory leaves at least twice as much of the unneeded split "
    "c_1 - c_2 unexplained as the full categorical predictor's memory does.",
    source="Shah's comment on Mikulik et al. 2020 (Alignment Newsletter): the posterior is a "
    "minimal sufficient statistic, so an optimal agent's states must encode it",
    comparator=">=",
    threshold=2.0,
    paper_value="not in the papers",
    unit="D_s(memory -> c_1 - c_2): coarse-loss agent / full-loss agent",
    replicate=REPLICATE,
    control=Control(
        name="the needed statistic",
        description="The same ratio for the count c_0, which both losses need: both "
        "agents must encode it, so the ratio must stay below 2.",
    ),
)

THOMPSON_KL = ClaimSpec(
    id="mb.thompson_kl",
    statement="A memory agent meta-trained as the Thompson-sampling template (log loss on the "
    "optimal arm given the history, acting by sampling its own output) matches exact Thompson "
    "sampling on the two-armed Beta(1,1) bandit: KL(pi_TS || pi_agent) <= 1e-3 nats per step "
    "on the histories it visits.",
    source="Ortega et al. 2019, sec. 4 (the Thompson-sampling template)",
    comparator="<=",
    threshold=KL_THRESHOLD,
    paper_value="near-optimal (no number confirmed)",
    unit="nats/step",
    replicate=REPLICATE,
    control=Control(
        name="Thompson sampling for the wrong prior",
        description="Exact Thompson sampling under Beta(10,10) arms, scored against Beta(1,1) "
        "Thompson sampling on the same visited histories: " + MISMATCHED_PRIOR,
    ),
)
Q_AGREEMENT = ClaimSpec(
    id="mb.q_agreement",
    statement="A memory agent meta-trained as the value-based template (Q-learning on its "
    "memory state, sampled rewards, gamma = 1) plays greedily the Bayes-optimal action "
    "(exact programme) on at least 95% of the non-tie beliefs it visits (two Beta(1,1) arms, "
    "T = 20).",
    source="Ortega et al. 2019, sec. 4 (the Bayes-optimal decision-maker template, Q-learning)",
    comparator=">=",
    threshold=AGREEMENT_THRESHOLD,
    paper_value="near-optimal (no number confirmed)",
    unit="fraction of visited non-tie beliefs",
    replicate=REPLICATE,
    control=Control(
        name="greedy posterior-mean play",
        description="As for mb.bandit_agreement, on the Q-agent's evaluation tasks: close to "
        "V* in return, far from pi_Bayes in its choices.",
    ),
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
    replicate=REPLICATE,
    control=Control(
        name="network meta-trained under Beta(0.2,0.2)",
        description="The same probe of the same network class meta-trained under the "
        "dispersed prior: one architecture must learn a different rule per prior.",
    ),
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
    replicate=REPLICATE,
    control=Control(
        name="network meta-trained under Beta(10,10)",
        description="The same probe of the same network class meta-trained under the "
        "concentrated prior: one architecture must learn a different rule per prior.",
    ),
)
FIXED_POINT = ClaimSpec(
    id="mb.fixed_point",
    statement="A predictor distilled onto the Bayes predictive does not move under further "
    "meta-training: its drift KL(q_distilled || q_now) never exceeds 1e-3 nats per step.",
    source="Mikulik et al. 2020, sec. 5 (Bayes-optimal agents are fixed points)",
    comparator="<=",
    threshold=KL_THRESHOLD,
    paper_value="no drift (no number confirmed)",
    unit="max drift during continued meta-training, nats/step",
    replicate=REPLICATE,
    control=Control(
        name="distilled onto Beta(10,10)",
        description="The same network distilled onto the Bayes predictive of the mismatched "
        "prior (10 times the concentration) and meta-trained the same way on Beta(1,1) "
        "episodes: a non-Bayes start is not a fixed point and must move.",
    ),
)

CLAIMS = (
    PRED_KL_BERNOULLI,
    PRED_KL_CATEGORICAL,
    BANDIT_AGREEMENT,
    BANDIT_POLICY_KL,
    SIM_ASYMMETRY,
    SIM_MEMORY_IS_STATISTIC,
    SIM_OUTPUT_VS_UNTRAINED,
    SIM_BANDIT,
    COIN_CONCENTRATED,
    COIN_DISPERSED,
    FIXED_POINT,
    SIM_EXPONENTIAL,
    SIM_GAUSSIAN,
    SIM_COMMUTES,
    SIM_HARD_BANDIT,
    COARSE_DROPS_UNNEEDED,
    THOMPSON_KL,
    Q_AGREEMENT,
)
