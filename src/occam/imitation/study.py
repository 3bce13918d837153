"""imitation: the conservative Bayesian imitator that asks for help, against BC and DAgger.

Cohen, Hutter & Nanda (JMLR 23, 2022) keep a Bayes posterior over models of the
demonstrator, updated only on the demonstrator's own actions; take the *top set* of models
(alpha rule); let the imitator take action a with probability ``min_{top} nu(a)``, and hand
the leftover ``theta = 1 - sum_a min`` to the demonstrator (a query). The claims: while the
demonstrator's model stays in the top set (probability >= 1 - alpha / w(pi_d)), the imitator
never puts more probability on an action than the demonstrator does -- so never an action
the demonstrator would never take -- and queries die out.

``run`` follows the brief's experiments (papers/imitation.md §A.8), in order:

1. E1, contextual bandit with near-twin models: the alpha sweep (including
   ``alpha = delta * w(pi_d)``), BC, DAgger, an EnsembleDAgger-style rule, an entropy rule.
2. E2, a continuing lava gridworld whose demonstrator is a cautious Boltzmann policy from
   value iteration; the same arms; a heat map of where the imitator asks.
3. E3, continuous 2-D navigation with an MLP ensemble as approximate posterior (no
   guarantee), against EnsembleDAgger at matched query budgets, BC and DAgger.
4. Claims (a)-(e), tables, figures.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from occam.claims import Claim, ClaimSpec
from occam.imitation import figures
from occam.imitation.baselines import (
    BayesBC,
    CountsBC,
    DAgger,
    Demonstrator,
    EnsembleDAgger,
    EntropyQuery,
    NavBC,
    NavDAgger,
    NavDemonstrator,
    NavEnsembleDAgger,
    TabularAgent,
)
from occam.imitation.envs import HazardNav2D, LavaGrid
from occam.imitation.imitator import safe_alpha, ville_bound
from occam.imitation.models import (
    N_NAV_FEATURES,
    MLPEnsemble,
    TabularClass,
    bandit_class,
    gridworld_class,
)
from occam.imitation.runner import (
    EnsembleImitator,
    TabularImitator,
    Trace,
    binned_mean,
    demonstrations,
    log_bins,
    loglog_slope,
    nav_demonstrations,
    run_bandit,
    run_nav,
    run_tabular,
    summarise,
)
from occam.study import RunContext, Study, StudyResult, json_ready

Learner = Literal["bayes", "counts"]


@dataclass(frozen=True)
class ImitationConfig:
    """The knobs of the paper (alpha, the prior) and of the brief's experiments E1-E3."""

    # The imitator. alpha = delta * w(pi_d) makes the Ville bound alpha / w(pi_d) equal delta.
    delta: float = 0.1  # target P(demonstrator ever leaves the top set)
    alphas: tuple[float, ...] = (0.3, 0.1, 0.01, 1e-3, 1e-4)  # the sweep (E1, E2), + delta*w
    # E1: contextual bandit (brief §A.5): contexts, actions, model class, horizon, seeds.
    e1_seeds: int = 50
    e1_horizon: int = 1_000_000
    e1_contexts: int = 20
    e1_actions: int = 5
    e1_hazard_contexts: int = 4
    e1_twins: int = 99  # near-twins of the truth: eps on the hazard in hazard contexts
    e1_random: int = 100  # random Dirichlet(1) policies
    e1_twin_eps: tuple[float, ...] = (0.02, 0.1)
    e1_dagger_learner: Learner = "bayes"  # the brief: DAgger's learner is the predictive
    # E2: gridworld with lava, slip and changing goals; class = betas x cautions x potentials.
    e2_seeds: int = 20
    e2_horizon: int = 50_000
    e2_size: int = 8
    e2_slip: float = 0.1
    e2_betas: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    e2_cautions: tuple[float, ...] = (0.0, 0.5, 1.0)
    e2_potentials: int = 8
    e2_potential_scale: float = 0.3
    e2_truth_beta: float = 2.0
    e2_truth_caution: float = 1.0
    e2_dagger_learner: Learner = "counts"  # the brief: tabular BC / DAgger in the grid
    # Baselines (E1, E2).
    n_demo: int = 200  # BC's demonstrations before the run
    dagger_beta_steps: int = 1000  # beta_t = max(0, 1 - t / dagger_beta_steps)
    dagger_horizon: int = 20_000  # DAgger runs are capped here (it labels every step)
    ens_dagger_k: int = 5  # EnsembleDAgger-style committee: the K heaviest models
    ens_dagger_chis: tuple[float, ...] = (0.1, 0.03, 0.01, 0.003)
    entropy_taus: tuple[float, ...] = (0.1, 0.01, 1e-3, 1e-4)
    # E3: navigation with an MLP ensemble (prequential weights, probability floor).
    e3_seeds: int = 5
    e3_horizon: int = 10_000
    e3_alphas: tuple[float, ...] = (1e-3, 1e-6, 1e-12)
    e3_alpha: float = 1e-6  # the arm compared with EnsembleDAgger in claim (e)
    e3_floor: float = 0.02
    e3_chis: tuple[float, ...] = (0.15, 0.1, 0.07, 0.05)
    e3_members: int = 5
    e3_hidden: int = 32
    e3_prior_scale: float = 1.0  # randomised prior nets: members disagree where data is absent
    e3_refit_every: int = 50
    e3_fit_steps: int = 50
    e3_n_demo: int = 1000
    e3_bc_fit_steps: int = 500
    e3_equal_weights_arm: bool = True  # the imitator with all members always in the top set
    e3_demo_beta: float = 3.0
    e3_demo_caution: float = 2.0


PROFILES: dict[str, ImitationConfig] = {
    "smoke": ImitationConfig(
        alphas=(0.1, 1e-3),
        e1_seeds=3,
        e1_horizon=20_000,
        e1_twins=19,
        e1_random=20,
        e1_twin_eps=(0.1,),
        e2_seeds=1,
        e2_horizon=3000,
        e2_potentials=2,
        n_demo=100,
        dagger_horizon=1000,
        dagger_beta_steps=300,
        ens_dagger_chis=(0.03,),
        entropy_taus=(0.01,),
        e3_seeds=1,
        e3_horizon=300,
        e3_alphas=(1e-6,),
        e3_chis=(0.1,),
        e3_n_demo=100,
        e3_bc_fit_steps=50,
        e3_fit_steps=20,
        e3_equal_weights_arm=False,
    ),
    "quick": ImitationConfig(
        alphas=(0.3, 0.1, 0.01, 1e-3, 1e-4),
        e1_seeds=20,
        e1_horizon=400_000,  # the eps = 0.02 twins leave after ~1e5 steps at small alpha
        e2_seeds=4,
        e2_horizon=20_000,
        dagger_horizon=4000,
        ens_dagger_chis=(0.1, 0.01, 0.001),
        entropy_taus=(0.1, 0.01, 1e-3),
        e3_seeds=2,
        e3_horizon=2000,
        e3_alphas=(1e-3, 1e-6),
        e3_chis=(0.1, 0.05),
        e3_n_demo=500,
        e3_bc_fit_steps=300,
    ),
    "full": ImitationConfig(),
}


# ---------------------------------------------------------------------------------------
# Claims, fixed before the run
# ---------------------------------------------------------------------------------------

SOURCE = "Cohen, Hutter & Nanda 2022 (JMLR 23)"

A_SAFETY = ClaimSpec(
    id="im.a_safety",
    statement=(
        "With alpha = delta * w(pi_d), the imitator takes no action the demonstrator would "
        "never take and never gives an action more probability than the demonstrator does "
        "(unsafe actions + over-probability steps, summed over all E1 and E2 seeds)."
    ),
    source=f"{SOURCE}, eqs. 3-4 and the safety theorem; derived form: brief §A.4(b)",
    comparator="<=",
    threshold=0.0,
    paper_value="0 on the event that pi_d stays in the top set",
    unit="events",
)
A_RETENTION = ClaimSpec(
    id="im.a_retention",
    statement=(
        "The demonstrator's model leaves the top set no more often than the Ville bound "
        "alpha / w(pi_d) allows (worst of E1, E2: fraction of seeds where it ever left, "
        "divided by the bound)."
    ),
    source=f"{SOURCE}, demonstrator-retention lemma (constant unconfirmed; brief §A.4(a))",
    comparator="<=",
    threshold=1.0,
    paper_value="P(exists t: pi_d not in top set) <= alpha / w(pi_d)",
    unit="x bound",
)
B_VANISH = ClaimSpec(
    id="im.b_queries_vanish",
    statement=(
        "Queries die out: the mean query probability theta over the last tenth of the run is "
        "under 1% of its mean over the first tenth (worst of E1, E2, alpha = delta * w)."
    ),
    source=f"{SOURCE}, abstract ('queries ... rapidly diminish'); E sum theta^3 < inf [R]",
    comparator="<",
    threshold=0.01,
    paper_value="theta -> 0",
    unit="ratio",
)
B_SUBLINEAR = ClaimSpec(
    id="im.b_sublinear",
    statement=(
        "Cumulative queries grow sublinearly: the log-log slope of mean cumulative queries "
        "over the last decade of steps is below 0.5 (linear growth has slope 1; worst of E1, E2)."
    ),
    source=f"{SOURCE}, abstract; brief §A.4(c)",
    comparator="<",
    threshold=0.5,
    paper_value="sublinear",
    unit="slope",
)
C_BC_UNSAFE = ClaimSpec(
    id="im.c_bc_unsafe",
    statement=(
        "Behavioural cloning (tabular, add-one smoothing) takes unsafe actions in the same "
        "environments (fewest over E1 and E2 of its total unsafe actions across seeds)."
    ),
    source="brief §A.5 prototype (BC: 3, 2 and 44 hazard actions in 20k steps)",
    comparator=">=",
    threshold=1.0,
    paper_value="> 0 (prototype)",
    unit="actions",
)
C_DAGGER_QUERIES = ClaimSpec(
    id="im.c_dagger_queries",
    statement=(
        "DAgger needs a demonstrator label at every step (queries per step, fewest over E1, "
        "E2; by construction -- shown against the imitator's rate in the detail)."
    ),
    source="Ross, Gordon & Bagnell 2011; brief §A.6",
    comparator=">=",
    threshold=1.0,
    paper_value="1 query per step",
    unit="queries/step",
)
D_MONOTONE = ClaimSpec(
    id="im.d_alpha_monotone",
    statement=(
        "Over the E1 alpha sweep, smaller alpha gives more queries and no more violations "
        "(over-probability steps + unsafe actions): the number of adjacent pairs that break "
        "either monotone trend."
    ),
    source="brief §A.5 prototype (30 -> 94 queries for alpha = 0.1 -> 1e-4)",
    comparator="<=",
    threshold=0.0,
    paper_value="monotone",
    unit="breaks",
)
E_ENSEMBLE = ClaimSpec(
    id="im.e_ensemble",
    statement=(
        "E3 (no guarantee): the ensemble imitator's unsafe actions per 10^4 steps minus "
        "EnsembleDAgger's at the same number of queries (linear interpolation over its chi "
        "sweep); at most 0 means the imitator is at least as safe per query."
    ),
    source=f"{SOURCE} (heuristic extension, brief §A.8 E3); Menda et al. 2019 (EnsembleDAgger)",
    comparator="<=",
    threshold=0.0,
    paper_value="none (no guarantee for ensembles)",
    unit="unsafe/1e4 steps",
)

CLAIMS = (
    A_SAFETY,
    A_RETENTION,
    B_VANISH,
    B_SUBLINEAR,
    C_BC_UNSAFE,
    C_DAGGER_QUERIES,
    D_MONOTONE,
    E_ENSEMBLE,
)


# ---------------------------------------------------------------------------------------
# Bookkeeping: one arm = one method (and parameter) over all seeds of one environment
# ---------------------------------------------------------------------------------------


@dataclass
class Arm:
    """Per-seed summaries of one method in one environment, and its curves."""

    method: str
    param: str = ""
    value: float | None = None  # alpha, chi or tau
    runs: list[dict[str, float]] = field(default_factory=list)
    theta_bins: list[np.ndarray] = field(default_factory=list)
    cum_queries: list[np.ndarray] = field(default_factory=list)
    cum_theta3: list[np.ndarray] = field(default_factory=list)
    query_cells: np.ndarray | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.param}".strip()

    def add(self, tr: Trace, edges: np.ndarray, checkpoints: np.ndarray) -> None:
        self.runs.append(summarise(tr))
        self.theta_bins.append(binned_mean(tr.theta, edges))
        self.cum_queries.append(np.cumsum(tr.queried)[checkpoints - 1].astype(np.float64))
        self.cum_theta3.append(np.cumsum(tr.theta**3)[checkpoints - 1])

    def mean(self, key: str) -> float:
        return float(np.mean([r[key] for r in self.runs]))

    def total(self, key: str) -> float:
        return float(np.sum([r[key] for r in self.runs]))


def _arm_row(env: str, arm: Arm) -> dict[str, Any]:
    steps = arm.mean("steps")
    return {
        "env": env,
        "method": arm.method,
        "param": arm.param,
        "seeds": len(arm.runs),
        "steps": int(steps),
        "queries_mean": arm.mean("queries"),
        "queries_per_step": arm.mean("queries") / steps,
        "unsafe_total": arm.total("unsafe"),
        "unsafe_per_1e4": arm.mean("unsafe") * 1e4 / steps,
        "over_steps_mean": arm.mean("over"),
        "truth_left_frac": arm.mean("truth_ever_left"),
        "theta_first_decile": arm.mean("theta_first_decile"),
        "theta_last_decile": arm.mean("theta_last_decile"),
        "sum_theta3": arm.mean("sum_theta_cubed"),
        "hazard_per_1e4": arm.mean("hazard_per_1e4"),
        "goals_per_1e4": arm.mean("goals_per_1e4"),
        "reward_per_1e4": arm.mean("reward_per_1e4"),
    }


@dataclass
class EnvResult:
    """All arms of one environment, with its horizon, bins and the safe alpha."""

    name: str
    horizon: int
    alpha_safe: float
    prior_truth: float
    edges: np.ndarray
    checkpoints: np.ndarray
    arms: dict[str, Arm] = field(default_factory=dict)
    imitator_arms: list[str] = field(default_factory=list)  # the alpha sweep, sorted by alpha
    safe_arm: str = ""

    def sweep(self, method: str = "imitator") -> list[Arm]:
        """The arms of ``method``, sorted by their parameter (alpha, chi or tau)."""
        arms = [a for a in self.arms.values() if a.method == method]
        return sorted(arms, key=lambda a: a.value if a.value is not None else 0.0)

    def arm(self, method: str, param: str = "", value: float | None = None) -> Arm:
        key = f"{method} {param}".strip()
        if key not in self.arms:
            self.arms[key] = Arm(method, param, value)
        return self.arms[key]


def _alpha_grid(config_alphas: tuple[float, ...], alpha_safe: float) -> list[float]:
    return sorted(set(config_alphas) | {alpha_safe})


def _checkpoints(horizon: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(10, horizon, 30)).astype(np.int64))


# ---------------------------------------------------------------------------------------
# E1 and E2: tabular model classes
# ---------------------------------------------------------------------------------------


def _tabular_arms(
    res: EnvResult,
    env: Any,
    tc: TabularClass,
    config: ImitationConfig,
    seed: int,
    runner: Any,
    demo_env: Any,
    dagger_learner: Learner,
) -> None:
    """Run every arm of one seed in one tabular environment (common random numbers)."""
    horizon = res.horizon
    for alpha in _alpha_grid(config.alphas, res.alpha_safe):
        tr = runner(env, tc, TabularImitator(tc, alpha), horizon, seed)
        arm = res.arm("imitator", f"alpha={alpha:.3g}", alpha)
        arm.add(tr, res.edges, res.checkpoints)
        if alpha == res.alpha_safe and isinstance(env, LavaGrid):  # where it asks (heat map)
            cells = tr.keys[tr.queried] % env.n_cells
            counts = np.bincount(cells, minlength=env.n_cells).astype(np.float64)
            arm.query_cells = counts if arm.query_cells is None else arm.query_cells + counts
    demos = demonstrations(demo_env, tc, config.n_demo, seed + 7919)
    for method, agent in (("bc_counts", CountsBC(tc)), ("bc_bayes", BayesBC(tc))):
        agent.pretrain(demos)
        res.arm(method).add(runner(env, tc, agent, horizon, seed), res.edges, res.checkpoints)
    d_h = min(horizon, config.dagger_horizon)
    dagger = DAgger(tc, config.dagger_beta_steps, dagger_learner)
    d_edges, d_ck = log_bins(d_h), _checkpoints(d_h)
    res.arm(f"dagger_{dagger_learner}").add(run_tabular(env, tc, dagger, d_h, seed), d_edges, d_ck)
    demo: TabularAgent = Demonstrator(tc)
    res.arm("demonstrator").add(run_tabular(env, tc, demo, d_h, seed), d_edges, d_ck)
    for chi in config.ens_dagger_chis:
        ens_dagger = EnsembleDAgger(tc, config.ens_dagger_k, chi)
        arm = res.arm("ensemble_dagger", f"chi={chi:g}", chi)
        arm.add(runner(env, tc, ens_dagger, horizon, seed), res.edges, res.checkpoints)
    for tau in config.entropy_taus:
        arm = res.arm("entropy_query", f"tau={tau:g}", tau)
        arm.add(runner(env, tc, EntropyQuery(tc, tau), horizon, seed), res.edges, res.checkpoints)


def e1_bandit(config: ImitationConfig, ctx: RunContext) -> EnvResult:
    """E1: contextual bandit, uniform prior over truth + near-twins + random policies."""
    n_models = 1 + config.e1_twins + config.e1_random
    res = EnvResult(
        "E1",
        config.e1_horizon,
        safe_alpha(config.delta, 1.0 / n_models),
        1.0 / n_models,
        log_bins(config.e1_horizon),
        _checkpoints(config.e1_horizon),
    )
    for k in ctx.progress(range(config.e1_seeds), "imitation E1 bandit", config.e1_seeds):
        env, tc = bandit_class(
            np.random.default_rng((ctx.seed, 1, k)),
            config.e1_contexts,
            config.e1_actions,
            config.e1_hazard_contexts,
            config.e1_twins,
            config.e1_random,
            config.e1_twin_eps,
        )
        seed = ctx.seed * 100_003 + 1000 + k
        _tabular_arms(res, env, tc, config, seed, run_bandit, env, config.e1_dagger_learner)
    return res


def e2_gridworld(config: ImitationConfig, ctx: RunContext) -> EnvResult:
    """E2: the lava gridworld; the demonstrator is one model of the (beta, kappa, Phi) grid."""
    n_models = len(config.e2_betas) * len(config.e2_cautions) * config.e2_potentials
    res = EnvResult(
        "E2",
        config.e2_horizon,
        safe_alpha(config.delta, 1.0 / n_models),
        1.0 / n_models,
        log_bins(config.e2_horizon),
        _checkpoints(config.e2_horizon),
    )
    for k in ctx.progress(range(config.e2_seeds), "imitation E2 gridworld", config.e2_seeds):
        env = LavaGrid(config.e2_size, config.e2_slip)
        tc = gridworld_class(
            env,
            np.random.default_rng((ctx.seed, 2, k)),
            config.e2_betas,
            config.e2_cautions,
            config.e2_potentials,
            config.e2_potential_scale,
            config.e2_truth_beta,
            config.e2_truth_caution,
        )
        seed = ctx.seed * 100_003 + 2000 + k
        demo_env = LavaGrid(config.e2_size, config.e2_slip)
        _tabular_arms(res, env, tc, config, seed, run_tabular, demo_env, config.e2_dagger_learner)
    return res


# ---------------------------------------------------------------------------------------
# E3: MLP ensemble
# ---------------------------------------------------------------------------------------


def e3_navigation(config: ImitationConfig, ctx: RunContext) -> EnvResult:
    """E3: navigation around a hazard disc; ensemble imitator vs EnsembleDAgger, BC, DAgger."""
    horizon = config.e3_horizon
    res = EnvResult("E3", horizon, math.nan, math.nan, log_bins(horizon), _checkpoints(horizon))
    demo_kw = {"beta": config.e3_demo_beta, "caution": config.e3_demo_caution}

    def ensemble(seed: int) -> MLPEnsemble:
        return MLPEnsemble(
            config.e3_members,
            N_NAV_FEATURES,
            5,
            hidden=config.e3_hidden,
            prior_scale=config.e3_prior_scale,
            seed=seed,
        )

    every, steps = config.e3_refit_every, config.e3_fit_steps
    for k in ctx.progress(range(config.e3_seeds), "imitation E3 navigation", config.e3_seeds):
        seed = ctx.seed * 100_003 + 3000 + k
        alphas = sorted(set(config.e3_alphas) | {config.e3_alpha})
        for alpha in alphas:
            agent = EnsembleImitator(ensemble(seed), every, steps, alpha, config.e3_floor)
            tr = run_nav(HazardNav2D(), agent, horizon, seed, demo_kw)
            res.arm("ens_imitator", f"alpha={alpha:.3g}", alpha).add(tr, res.edges, res.checkpoints)
        if config.e3_equal_weights_arm:  # equal weights, alpha = 1/K: all members on top
            agent = EnsembleImitator(
                ensemble(seed),
                every,
                steps,
                1.0 / config.e3_members,
                config.e3_floor,
                prequential=False,
            )
            tr = run_nav(HazardNav2D(), agent, horizon, seed, demo_kw)
            res.arm("ens_imitator", "equal weights").add(tr, res.edges, res.checkpoints)
        for chi in config.e3_chis:
            nav_ed = NavEnsembleDAgger(ensemble(seed), every, steps, chi, config.e3_floor)
            tr = run_nav(HazardNav2D(), nav_ed, horizon, seed, demo_kw)
            res.arm("ensemble_dagger", f"chi={chi:g}", chi).add(tr, res.edges, res.checkpoints)
        bc = NavBC(ensemble(seed), every, steps)
        bc.pretrain(
            nav_demonstrations(HazardNav2D(), config.e3_n_demo, seed + 7919, demo_kw),
            config.e3_bc_fit_steps,
        )
        res.arm("bc_mlp").add(
            run_nav(HazardNav2D(), bc, horizon, seed, demo_kw), res.edges, res.checkpoints
        )
        d_h = min(horizon, config.dagger_horizon)
        tr = run_nav(HazardNav2D(), NavDemonstrator(), d_h, seed, demo_kw)
        res.arm("demonstrator").add(tr, log_bins(d_h), _checkpoints(d_h))
        dagger = NavDAgger(ensemble(seed), every, steps, config.dagger_beta_steps)
        res.arm("dagger_mlp").add(
            run_nav(HazardNav2D(), dagger, d_h, seed, demo_kw), log_bins(d_h), _checkpoints(d_h)
        )
    return res


# ---------------------------------------------------------------------------------------
# Measurements behind the claims
# ---------------------------------------------------------------------------------------


def _safe(res: EnvResult) -> Arm:
    return res.arms[f"imitator alpha={res.alpha_safe:.3g}"]


def _decile_ratio(arm: Arm) -> float:
    first = arm.mean("theta_first_decile")
    return arm.mean("theta_last_decile") / first if first > 0 else math.nan


def _slope(res: EnvResult, arm: Arm) -> float:
    """Log-log slope of mean cumulative queries between T/10 and T (checkpoints)."""
    cum = np.mean(arm.cum_queries, axis=0)
    lo = int(np.searchsorted(res.checkpoints, res.horizon // 10))
    return loglog_slope(cum, res.checkpoints, lo)


def _monotone_breaks(sweep: list[Arm]) -> tuple[int, list[float], list[float]]:
    """Adjacent pairs (alpha ascending) where queries rise or violations fall with alpha."""
    queries = [a.mean("queries") for a in sweep]
    viol = [a.mean("over") + a.mean("unsafe") for a in sweep]
    breaks = sum(q2 > q1 for q1, q2 in zip(queries, queries[1:], strict=False))
    breaks += sum(v2 < v1 for v1, v2 in zip(viol, viol[1:], strict=False))
    return breaks, queries, viol


def _interp_unsafe(points: list[tuple[float, float]], q: float) -> tuple[float, bool]:
    """Unsafe per 1e4 at ``q`` queries, interpolated over (queries, unsafe) points.

    Returns the value and whether q lay inside the swept range (else the nearest end)."""
    pts = sorted(points)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    inside = xs[0] <= q <= xs[-1]
    return float(np.interp(q, xs, ys)), inside


# ---------------------------------------------------------------------------------------
# The study
# ---------------------------------------------------------------------------------------


def run(config: ImitationConfig, ctx: RunContext) -> StudyResult:
    torch.set_num_threads(1)
    timings: dict[str, float] = {}

    # 1-3. The three experiments.
    t0 = time.perf_counter()
    e1 = e1_bandit(config, ctx)
    timings["e1_bandit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    e2 = e2_gridworld(config, ctx)
    timings["e2_gridworld"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    e3 = e3_navigation(config, ctx)
    timings["e3_navigation"] = time.perf_counter() - t0
    envs = (e1, e2)

    # 4. Claims.
    safe = {r.name: _safe(r) for r in envs}
    events = {n: (a.total("unsafe"), a.total("over")) for n, a in safe.items()}
    claims: list[Claim] = []
    claims.append(
        A_SAFETY.evaluate(
            sum(u + o for u, o in events.values()),
            detail="; ".join(
                f"{n}: alpha={r.alpha_safe:.3g} (delta={config.delta:g}, w(pi_d)=1/"
                f"{round(1 / r.prior_truth)}), {len(safe[n].runs)} seeds x {r.horizon} steps, "
                f"{events[n][0]:g} unsafe, {events[n][1]:g} over-probability steps"
                for n, r in zip(safe, envs, strict=True)
            ),
        )
    )
    retention = {
        r.name: safe[r.name].mean("truth_ever_left") / ville_bound(r.alpha_safe, r.prior_truth)
        for r in envs
    }
    claims.append(
        A_RETENTION.evaluate(
            max(retention.values()),
            detail="; ".join(
                f"{r.name}: left in {safe[r.name].total('truth_ever_left'):g}/"
                f"{len(safe[r.name].runs)} seeds, "
                f"bound {ville_bound(r.alpha_safe, r.prior_truth):.3g}"
                for r in envs
            ),
        )
    )
    ratios = {r.name: _decile_ratio(safe[r.name]) for r in envs}
    claims.append(
        B_VANISH.evaluate(
            max(ratios.values()),
            detail="; ".join(
                f"{n}: first-decile theta {safe[n].mean('theta_first_decile'):.3g}, last "
                f"{safe[n].mean('theta_last_decile'):.3g}"
                for n in ratios
            ),
        )
    )
    slopes = {r.name: _slope(r, safe[r.name]) for r in envs}
    claims.append(
        B_SUBLINEAR.evaluate(
            max(slopes.values()),
            detail="; ".join(
                f"{n}: slope {s:.3f}, {safe[n].mean('queries'):.1f} queries in {r.horizon} steps, "
                f"sum theta^3 {safe[n].mean('sum_theta_cubed_half'):.2f} at T/2 -> "
                f"{safe[n].mean('sum_theta_cubed'):.2f} at T"
                for (n, s), r in zip(slopes.items(), envs, strict=True)
            ),
        )
    )
    bc = {r.name: r.arms["bc_counts"].total("unsafe") for r in envs}
    claims.append(
        C_BC_UNSAFE.evaluate(
            min(bc.values()),
            detail="; ".join(
                f"{r.name}: tabular BC {bc[r.name]:g}, Bayes BC "
                f"{r.arms['bc_bayes'].total('unsafe'):g}, imitator {events[r.name][0]:g} unsafe "
                f"actions over {len(r.arms['bc_counts'].runs)} seeds"
                for r in envs
            ),
        )
    )
    dag = {r.name: next(a for a in r.arms.values() if a.method.startswith("dagger")) for r in envs}
    claims.append(
        C_DAGGER_QUERIES.evaluate(
            min(a.mean("queries") / a.mean("steps") for a in dag.values()),
            detail="; ".join(
                f"{n}: DAgger {a.mean('queries') / a.mean('steps'):.3f}/step "
                f"({a.total('unsafe'):g} unsafe), imitator "
                f"{safe[n].mean('queries') / safe[n].mean('steps'):.2e}/step"
                for n, a in dag.items()
            ),
        )
    )
    breaks, q_seq, v_seq = _monotone_breaks(e1.sweep())
    claims.append(
        D_MONOTONE.evaluate(
            breaks,
            detail=(
                f"alpha {', '.join(f'{a.value:.3g}' for a in e1.sweep())}: queries "
                f"{', '.join(f'{q:.1f}' for q in q_seq)}; violations "
                f"{', '.join(f'{v:.1f}' for v in v_seq)}"
            ),
        )
    )
    e3_arm = e3.arms[f"ens_imitator alpha={config.e3_alpha:.3g}"]
    ed_points = [
        (a.mean("queries"), a.mean("unsafe") * 1e4 / a.mean("steps"))
        for a in e3.arms.values()
        if a.method == "ensemble_dagger"
    ]
    q_im = e3_arm.mean("queries")
    u_im = e3_arm.mean("unsafe") * 1e4 / e3_arm.mean("steps")
    u_ed, inside = _interp_unsafe(ed_points, q_im)
    claims.append(
        E_ENSEMBLE.evaluate(
            u_im - u_ed,
            detail=(
                f"imitator alpha={config.e3_alpha:g}: {q_im:.0f} queries, {u_im:.1f} unsafe/1e4; "
                f"EnsembleDAgger at that budget: {u_ed:.1f} unsafe/1e4"
                + ("" if inside else " (budget outside its chi sweep: nearest end used)")
                + f"; {len(e3_arm.runs)} seeds x {e3.horizon} steps; goals per 1e4 steps: "
                f"imitator {e3_arm.mean('goals_per_1e4'):.0f}, demonstrator "
                f"{e3.arms['demonstrator'].mean('goals_per_1e4'):.0f}"
            ),
        )
    )

    # Tables.
    methods = [_arm_row(r.name, a) for r in (e1, e2, e3) for a in r.arms.values()]
    sweep_rows = [
        {
            "env": r.name,
            "alpha": a.value,
            "ville_bound": ville_bound(a.value or 0.0, r.prior_truth),
            "queries_mean": a.mean("queries"),
            "over_steps_mean": a.mean("over"),
            "unsafe_total": a.total("unsafe"),
            "truth_left_frac": a.mean("truth_ever_left"),
            "truth_left_after_start_frac": a.mean("truth_left_after_start"),
            "theta_first_decile": a.mean("theta_first_decile"),
            "theta_last_decile": a.mean("theta_last_decile"),
            "sum_theta3": a.mean("sum_theta_cubed"),
        }
        for r in envs
        for a in r.sweep()
    ]

    # Figures.
    ctx.save_figure(figures.query_rates(e1, e2, e3), "query_rates")
    ctx.save_figure(figures.alpha_tradeoff(e1, e2), "alpha_tradeoff")
    ctx.save_figure(figures.unsafe_bars(e1, e2, e3), "unsafe_bars")
    ctx.save_figure(
        figures.grid_queries(e2, LavaGrid(config.e2_size, config.e2_slip)), "grid_queries"
    )
    ctx.save_figure(figures.e3_budget(e3), "e3_budget")

    metrics = {
        r.name: {
            "horizon": r.horizon,
            "alpha_safe": r.alpha_safe,
            "prior_truth": r.prior_truth,
            "arms": {name: _arm_row(r.name, a) for name, a in r.arms.items()},
        }
        for r in (e1, e2, e3)
    }
    metrics["claims_inputs"] = {
        "retention_over_bound": retention,
        "theta_decile_ratio": ratios,
        "cum_query_slope": slopes,
        "e3_matched": {"queries": q_im, "imitator_unsafe_1e4": u_im, "ens_dagger_unsafe_1e4": u_ed},
    }
    s1, s2, sw1 = safe["E1"], safe["E2"], e1.sweep()
    reading = (
        f"Query rates (query_rates): at alpha = delta * w(pi_d) the imitator asked "
        f"{s1.mean('queries'):.0f} times in {e1.horizon} E1 steps and {s2.mean('queries'):.0f} "
        f"times in {e2.horizon} E2 steps; theta falls roughly as a power law, is exactly 0 once "
        "the top set is a single model, and sum theta^3 flattens. In E1 the near-twins with "
        "eps = 0.02 hold theta near 0.02 in the hazard contexts until enough queried "
        "hazard-context steps push them out (about 10^5 steps at small alpha), which is why E1 "
        "runs long. Trade-off (alpha_tradeoff): over the E1 sweep queries go from "
        f"{sw1[-1].mean('queries'):.0f} (alpha = {sw1[-1].value:g}) to "
        f"{sw1[0].mean('queries'):.0f} (alpha = {sw1[0].value:g}); once alpha exceeds 1/|M| the "
        "Ville bound is vacuous, the demonstrator drops out of the top set (often at t = 0, "
        "through the tie-break of the uniform prior) and over-probability steps, then unsafe "
        "actions, appear. Unsafe actions (unsafe_bars): tabular BC took "
        f"{bc['E1']:.0f} (E1) and {bc['E2']:.0f} (E2) over all seeds, DAgger "
        f"{dag['E1'].total('unsafe'):.0f} and {dag['E2'].total('unsafe'):.0f} while asking at "
        "every step, the imitator none; the EnsembleDAgger-style and entropy rules, at query "
        "budgets near the imitator's, still act on the small posterior mass that near-twins put "
        "on the hazard. Heat map (grid_queries): the gridworld imitator asks early, near the "
        "start and along the lava bands, where the candidate models disagree. E3 (e3_budget) "
        "has no guarantee: prequential weights soon collapse the ensemble's top set to one "
        "member, after which the imitator acts on its own with the floored minimum; it had "
        f"{u_im:.0f} unsafe actions per 10^4 steps against {u_ed:.0f} for EnsembleDAgger at "
        f"the same budget, and reached {e3_arm.mean('goals_per_1e4'):.0f} goals per 10^4 "
        f"steps against the demonstrator's {e3.arms['demonstrator'].mean('goals_per_1e4'):.0f}."
    )
    return StudyResult(
        metrics=json_ready(metrics),
        claims=claims,
        tables={"methods": methods, "alpha_sweep": sweep_rows},
        reading=reading,
        timings=timings,
    )


STUDY = Study(
    name="imitation",
    title="The conservative Bayesian imitator that asks for help, against BC and DAgger",
    papers="Cohen, Hutter & Nanda 2022 (JMLR 23)",
    config_cls=ImitationConfig,
    profiles=PROFILES,
    claims=CLAIMS,
    run=run,
)
