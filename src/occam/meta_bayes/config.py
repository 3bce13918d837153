"""meta-bayes configuration: the papers' knobs, the three profiles and the claims.

The defaults of :class:`MetaBayesConfig` are the ``full`` (paper-scale) profile. The claims are
fixed here, before any run; :func:`occam.meta_bayes.study.judge` is the one place that turns
measurements into verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from occam.claims import ClaimSpec
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
sim_task = Check("'bandit' or a discrete task name", lambda v: v == "bandit" or _task_ok(v, True))
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
        True, "returns built from theta[a_t] (unbiased, lower variance) instead of 0/1 rewards"
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
        ("beta_1_1", "beta_10_10", "beta_0.2_0.2", "dirichlet_1_1_1", "bandit"),
        "tasks analysed by state-machine simulation ('bandit' = the first bandit)",
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
