"""The experiments E1-E3: pure functions of the config and a seed, returning numbers.

Each experiment runs every arm (the imitator over an alpha sweep, and the baselines) on
independent draws of its environment and model class, and returns an :class:`EnvResult`:
per-run summaries and the curves behind the figures. Nothing here writes files or plots.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    SafeDAgger,
    TabularAgent,
)
from occam.imitation.cartpole import (
    PoleAgent,
    PoleBayesBC,
    PoleClass,
    PoleDAgger,
    PoleDemonstrator,
    PoleImitator,
    PoleInert,
    controller_grid,
    gymnasium_available,
    make_cartpole,
    pole_demonstrations,
    run_pole,
    summarise_pole,
)
from occam.imitation.config import ImitationConfig, Learner
from occam.imitation.countable import run_lazy, summarise_lazy
from occam.imitation.envs import MOVES, ContextualBandit, HazardNav2D, LavaGrid
from occam.imitation.imitator import safe_alpha
from occam.imitation.models import (
    N_NAV_FEATURES,
    MLPEnsemble,
    TabularClass,
    bandit_class,
    gridworld_class,
)
from occam.imitation.runner import (
    EnsembleImitator,
    FrozenImitator,
    InertEnsembleImitator,
    InertImitator,
    PredictiveImitator,
    TabularImitator,
    Trace,
    binned_mean,
    demonstrations,
    log_bins,
    nav_demonstrations,
    run_bandit,
    run_nav,
    run_tabular,
    summarise,
)
from occam.imitation.treachery import (
    TimedBayesBC,
    TimedDAgger,
    TimedImitator,
    TimedSafeDAgger,
    trigger_class,
)

STAY = MOVES.index((0, 0))  # the 'stay' action of E2 and E3

Runs = list[tuple[int, int]]  # (replicate, run within the replicate)
Progress = Callable[[Runs, str, int], Iterable[tuple[int, int]]]


def _no_progress(it: Runs, description: str, total: int) -> Iterator[tuple[int, int]]:
    return iter(it)


# ---------------------------------------------------------------------------------------
# Bookkeeping: one arm = one method (and parameter) over all seeds of one environment
# ---------------------------------------------------------------------------------------


@dataclass
class Arm:
    """Per-run summaries of one method in one environment (every replicate), and its curves."""

    method: str
    param: str = ""
    value: float | None = None  # alpha, chi or tau
    runs: list[dict[str, float]] = field(default_factory=list)
    theta_bins: list[np.ndarray] = field(default_factory=list)
    cum_queries: list[np.ndarray] = field(default_factory=list)
    cum_theta3: list[np.ndarray] = field(default_factory=list)
    cum_unsafe: list[np.ndarray] = field(default_factory=list)
    models_curve: list[np.ndarray] = field(default_factory=list)  # E6: models enumerated
    query_cells: np.ndarray | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.param}".strip()

    def add(self, tr: Trace, replicate: int, event_steps: int = 0) -> None:
        """Add one run of replicate ``replicate``; curves on log bins of its own length."""
        self.add_summary(summarise(tr, event_steps), tr.theta, tr.queried, replicate, tr.unsafe)

    def add_summary(
        self,
        summary: dict[str, float],
        theta: np.ndarray,
        queried: np.ndarray,
        replicate: int,
        unsafe: np.ndarray | None = None,
    ) -> None:
        """Add one run given its summary and per-step theta, queries (and unsafe actions)."""
        horizon = theta.size
        edges, checkpoints = log_bins(horizon), checkpoints_for(horizon)
        self.runs.append({**summary, "replicate": float(replicate)})
        self.theta_bins.append(binned_mean(theta, edges))
        self.cum_queries.append(np.cumsum(queried)[checkpoints - 1].astype(np.float64))
        self.cum_theta3.append(np.cumsum(theta**3)[checkpoints - 1])
        if unsafe is not None:
            self.cum_unsafe.append(np.cumsum(unsafe)[checkpoints - 1].astype(np.float64))

    def _values(self, key: str, replicate: int | None) -> list[float]:
        return [r[key] for r in self.runs if replicate is None or r["replicate"] == replicate]

    def count(self, replicate: int | None = None) -> int:
        """Number of runs (of one replicate, or all)."""
        return len(self._values("steps", replicate))

    def mean(self, key: str, replicate: int | None = None) -> float:
        """Mean of ``key`` over the runs (of one replicate, or all)."""
        return float(np.mean(self._values(key, replicate)))

    def total(self, key: str, replicate: int | None = None) -> float:
        return float(np.sum(self._values(key, replicate)))

    def per_1e4(self, key: str, replicate: int | None = None) -> float:
        """``key`` (a count per run) per 10^4 steps."""
        return self.mean(key, replicate) * 1e4 / self.mean("steps", replicate)


def arm_row(env: str, arm: Arm) -> dict[str, Any]:
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

    @classmethod
    def tabular(cls, name: str, horizon: int, n_models: int, delta: float) -> EnvResult:
        """E1/E2: a uniform prior over ``n_models``; alpha_safe = delta * w(pi_d)."""
        prior = 1.0 / n_models
        edges, checkpoints = log_bins(horizon), checkpoints_for(horizon)
        return cls(name, horizon, safe_alpha(delta, prior), prior, edges, checkpoints)

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


def checkpoints_for(horizon: int) -> np.ndarray:
    """About 30 log-spaced steps in [10, horizon] at which cumulative curves are kept."""
    return np.unique(np.round(np.geomspace(10, horizon, 30)).astype(np.int64))


# ---------------------------------------------------------------------------------------
# E1 and E2: tabular model classes
# ---------------------------------------------------------------------------------------

Seeds = Callable[[str, int], int]  # (label, replicate) -> seed: ctx.seed_for


def _tabular_arms(
    res: EnvResult,
    env: Any,
    tc: TabularClass,
    config: ImitationConfig,
    seed: int,
    replicate: int,
    runner: Any,
    demo_env: Any,
    dagger_learner: Learner,
) -> None:
    """Run every arm of one run in one tabular environment (common random numbers)."""
    horizon, k = res.horizon, config.event_steps
    for alpha in sorted(set(config.alphas) | {res.alpha_safe, config.control_alpha}):
        tr = runner(env, tc, TabularImitator(tc, alpha), horizon, seed)
        arm = res.arm("imitator", f"alpha={alpha:.3g}", alpha)
        arm.add(tr, replicate, k)
        if alpha == res.alpha_safe and isinstance(env, LavaGrid):  # where it asks (heat map)
            cells = tr.keys[tr.queried] % env.n_cells
            counts = np.bincount(cells, minlength=env.n_cells).astype(np.float64)
            arm.query_cells = counts if arm.query_cells is None else arm.query_cells + counts
    budget = int(at_safe_alpha(res).runs[-1]["queries"])  # this run's imitator queries
    demos = demonstrations(demo_env, tc, max(config.n_demo, budget), seed + 7919)
    counts_bc, bayes_bc = CountsBC(tc), BayesBC(tc)
    counts_bc.pretrain(demos[: config.n_demo])
    bayes_bc.pretrain(demos[:budget])  # Bayes BC at the imitator's budget
    res.arm("bc_counts").add(runner(env, tc, counts_bc, horizon, seed), replicate, k)
    res.arm("bc_bayes", "matched").add(runner(env, tc, bayes_bc, horizon, seed), replicate, k)
    d_h = min(horizon, config.dagger_horizon)
    dagger = DAgger(tc, config.dagger_beta_steps, dagger_learner)
    res.arm(f"dagger_{dagger_learner}").add(run_tabular(env, tc, dagger, d_h, seed), replicate, k)
    demo: TabularAgent = Demonstrator(tc)
    res.arm("demonstrator").add(run_tabular(env, tc, demo, d_h, seed), replicate, k)
    for chi in config.ens_dagger_chis:
        ens_dagger = EnsembleDAgger(tc, config.ens_dagger_k, chi)
        arm = res.arm("ensemble_dagger", f"chi={chi:g}", chi)
        arm.add(runner(env, tc, ens_dagger, horizon, seed), replicate, k)
    for tau in config.entropy_taus:
        arm = res.arm("entropy_query", f"tau={tau:g}", tau)
        arm.add(runner(env, tc, EntropyQuery(tc, tau), horizon, seed), replicate, k)
    for tau in config.safe_dagger_taus:
        arm = res.arm("safe_dagger", f"tau={tau:g}", tau)
        safe = SafeDAgger(tc, tau, config.safe_dagger_n_min)
        arm.add(runner(env, tc, safe, horizon, seed), replicate, k)
    # Controls: the same agent without the conservative minimum (k steps), and without
    # learning (control_horizon steps).
    ablated = PredictiveImitator(tc, res.alpha_safe)
    res.arm("control_predictive").add(runner(env, tc, ablated, k, seed), replicate, k)
    c_h = min(horizon, config.control_horizon)
    frozen = FrozenImitator(tc, res.alpha_safe)
    res.arm("control_frozen").add(runner(env, tc, frozen, c_h, seed), replicate, k)


def e1_bandit(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult:
    """E1: contextual bandit, uniform prior over truth + near-twins + random policies."""
    n_models = 1 + config.e1_twins + config.e1_random
    res = EnvResult.tabular("E1", config.e1_horizon, n_models, config.delta)
    runs = [(r, k) for r in range(config.replicates) for k in range(config.e1_seeds)]
    for r, k in progress(runs, "imitation E1 bandit", len(runs)):
        env, tc = _bandit(config, seeds(f"e1 class {k}", r), config.e1_twin_eps)
        seed = seeds(f"e1 run {k}", r)
        _tabular_arms(res, env, tc, config, seed, r, run_bandit, env, config.e1_dagger_learner)
    extra = [(r, j) for r in range(config.replicates) for j in range(config.retention_runs)]
    for r, j in progress(extra, "imitation E1 retention", len(extra)):
        env, tc = _bandit(config, seeds(f"e1 retention class {j}", r), config.e1_twin_eps)
        _retention_runs(res, env, tc, config, seeds(f"e1 retention run {j}", r), r, run_bandit)
    return res


def _retention_runs(
    res: EnvResult,
    env: Any,
    tc: TabularClass,
    config: ImitationConfig,
    seed: int,
    replicate: int,
    runner: Any,
) -> None:
    """The imitator alone at alpha_safe and at control_alpha: more runs for the retention."""
    for method, alpha in (
        ("retention", res.alpha_safe),
        ("retention_control", config.control_alpha),
    ):
        tr = runner(env, tc, TabularImitator(tc, alpha), res.horizon, seed)
        res.arm(method, f"alpha={alpha:.3g}", alpha).add(tr, replicate)


def e1_unambiguous(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult:
    """Control of the matched-budget comparison: E1 whose twins equal the demonstrator.

    The imitator at alpha_safe and the three strong baselines (Bayes BC at the imitator's
    budget, EnsembleDAgger and entropy sweeps), ``control_horizon`` steps per run.
    """
    n_models = 1 + config.e1_twins + config.e1_random
    horizon = min(config.e1_horizon, config.control_horizon)
    res = EnvResult.tabular("E1 unambiguous", horizon, n_models, config.delta)
    runs = [(r, k) for r in range(config.replicates) for k in range(config.e1_seeds)]
    for r, k in progress(runs, "imitation E1 control", len(runs)):
        env, tc = _bandit(config, seeds(f"e1 control class {k}", r), (0.0,))
        seed = seeds(f"e1 control run {k}", r)
        tr = run_bandit(env, tc, TabularImitator(tc, res.alpha_safe), horizon, seed)
        res.arm("imitator", f"alpha={res.alpha_safe:.3g}", res.alpha_safe).add(tr, r)
        bayes_bc = BayesBC(tc)
        bayes_bc.pretrain(demonstrations(env, tc, int(tr.queried.sum()), seed + 7919))
        res.arm("bc_bayes", "matched").add(run_bandit(env, tc, bayes_bc, horizon, seed), r)
        for chi in config.ens_dagger_chis:
            agent: TabularAgent = EnsembleDAgger(tc, config.ens_dagger_k, chi)
            res.arm("ensemble_dagger", f"chi={chi:g}", chi).add(
                run_bandit(env, tc, agent, horizon, seed), r
            )
        for tau in config.entropy_taus:
            agent = EntropyQuery(tc, tau)
            res.arm("entropy_query", f"tau={tau:g}", tau).add(
                run_bandit(env, tc, agent, horizon, seed), r
            )
        for tau in config.safe_dagger_taus:
            agent = SafeDAgger(tc, tau, config.safe_dagger_n_min)
            res.arm("safe_dagger", f"tau={tau:g}", tau).add(
                run_bandit(env, tc, agent, horizon, seed), r
            )
    return res


def _bandit(
    config: ImitationConfig, seed: int, twin_eps: tuple[float, ...]
) -> tuple[ContextualBandit, TabularClass]:
    return bandit_class(
        np.random.default_rng(seed),
        config.e1_contexts,
        config.e1_actions,
        config.e1_hazard_contexts,
        config.e1_twins,
        config.e1_random,
        twin_eps,
    )


def e2_gridworld(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult:
    """E2: the lava gridworld; the demonstrator is one model of the (beta, kappa, Phi) grid."""
    n_models = len(config.e2_betas) * len(config.e2_cautions) * config.e2_potentials
    res = EnvResult.tabular("E2", config.e2_horizon, n_models, config.delta)
    runs = [(r, k) for r in range(config.replicates) for k in range(config.e2_seeds)]
    for r, k in progress(runs, "imitation E2 gridworld", len(runs)):
        env = LavaGrid(config.e2_size, config.e2_slip)
        tc = _grid_class(config, env, seeds(f"e2 class {k}", r))
        seed = seeds(f"e2 run {k}", r)
        demo_env = LavaGrid(config.e2_size, config.e2_slip)
        _tabular_arms(
            res, env, tc, config, seed, r, run_tabular, demo_env, config.e2_dagger_learner
        )
        inert = InertImitator(tc, res.alpha_safe, STAY)  # the usefulness control
        c_h = min(res.horizon, config.control_horizon)
        res.arm("control_inert").add(run_tabular(env, tc, inert, c_h, seed), r)
    extra = [(r, j) for r in range(config.replicates) for j in range(config.retention_runs)]
    for r, j in progress(extra, "imitation E2 retention", len(extra)):
        env = LavaGrid(config.e2_size, config.e2_slip)
        tc = _grid_class(config, env, seeds(f"e2 retention class {j}", r))
        _retention_runs(res, env, tc, config, seeds(f"e2 retention run {j}", r), r, run_tabular)
    return res


def _grid_class(config: ImitationConfig, env: LavaGrid, seed: int) -> TabularClass:
    return gridworld_class(
        env,
        np.random.default_rng(seed),
        config.e2_betas,
        config.e2_cautions,
        config.e2_potentials,
        config.e2_potential_scale,
        config.e2_truth_beta,
        config.e2_truth_caution,
    )


# ---------------------------------------------------------------------------------------
# E3: MLP ensemble
# ---------------------------------------------------------------------------------------


def e3_navigation(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult:
    """E3: navigation around a hazard disc; ensemble imitator vs EnsembleDAgger, BC, DAgger."""
    horizon = config.e3_horizon
    res = EnvResult("E3", horizon, math.nan, math.nan, log_bins(horizon), checkpoints_for(horizon))
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
    runs = [(r, k) for r in range(config.replicates) for k in range(config.e3_seeds)]
    for r, k in progress(runs, "imitation E3 navigation", len(runs)):
        seed = seeds(f"e3 run {k}", r)
        net_seed = seeds(f"e3 nets {k}", r)
        alphas = sorted(set(config.e3_alphas) | {config.e3_alpha})
        for alpha in alphas:
            agent = EnsembleImitator(ensemble(net_seed), every, steps, alpha, config.e3_floor)
            tr = run_nav(HazardNav2D(), agent, horizon, seed, demo_kw)
            res.arm("ens_imitator", f"alpha={alpha:.3g}", alpha).add(tr, r)
        if config.e3_equal_weights_arm:  # equal weights, alpha = 1/K: all members on top
            agent = EnsembleImitator(
                ensemble(net_seed),
                every,
                steps,
                1.0 / config.e3_members,
                config.e3_floor,
                prequential=False,
            )
            tr = run_nav(HazardNav2D(), agent, horizon, seed, demo_kw)
            res.arm("ens_imitator", "equal weights").add(tr, r)
        for chi in config.e3_chis:
            nav_ed = NavEnsembleDAgger(ensemble(net_seed), every, steps, chi, config.e3_floor)
            tr = run_nav(HazardNav2D(), nav_ed, horizon, seed, demo_kw)
            res.arm("ensemble_dagger", f"chi={chi:g}", chi).add(tr, r)
        bc = NavBC(ensemble(net_seed), every, steps)
        bc.pretrain(
            nav_demonstrations(HazardNav2D(), config.e3_n_demo, seeds(f"e3 demos {k}", r), demo_kw),
            config.e3_bc_fit_steps,
        )
        res.arm("bc_mlp").add(run_nav(HazardNav2D(), bc, horizon, seed, demo_kw), r)
        d_h = min(horizon, config.dagger_horizon)
        tr = run_nav(HazardNav2D(), NavDemonstrator(), d_h, seed, demo_kw)
        res.arm("demonstrator").add(tr, r)
        dagger = NavDAgger(ensemble(net_seed), every, steps, config.dagger_beta_steps)
        res.arm("dagger_mlp").add(run_nav(HazardNav2D(), dagger, d_h, seed, demo_kw), r)
        inert = InertEnsembleImitator(ensemble(net_seed), config.e3_alpha, config.e3_floor, STAY)
        res.arm("control_inert").add(run_nav(HazardNav2D(), inert, horizon, seed, demo_kw), r)
    return res


# ---------------------------------------------------------------------------------------
# Measurements behind the claims
# ---------------------------------------------------------------------------------------


def at_safe_alpha(res: EnvResult) -> Arm:
    return res.arms[f"imitator alpha={res.alpha_safe:.3g}"]


def decile_ratio(arm: Arm, replicate: int) -> float:
    """Mean theta over the last tenth of the runs / over the first tenth (one replicate)."""
    first = arm.mean("theta_first_decile", replicate)
    return arm.mean("theta_last_decile", replicate) / first if first > 0 else math.nan


def query_slope(arm: Arm, replicate: int) -> float:
    """Log-log slope of mean cumulative queries between T/10 and T (one replicate).

    0 if nothing was asked at all, NaN if nothing was asked by T/10 but something later.
    """
    horizon = arm.mean("steps", replicate)
    q_end, q_tenth = arm.mean("queries", replicate), arm.mean("queries_first_tenth", replicate)
    if q_tenth <= 0:
        return 0.0 if q_end <= 0 else math.nan
    return math.log(q_end / q_tenth) / math.log(horizon / max(1, int(horizon) // 10))


def matched_unsafe(res: EnvResult, method: str, queries: float, replicate: int) -> float:
    """Unsafe actions per 10^4 steps of ``method``'s threshold sweep at ``queries`` queries.

    Linear interpolation over the sweep's (mean queries, unsafe per 10^4) points of one
    replicate; outside the swept range, the nearest end (np.interp's convention).
    """
    points = sorted(
        (a.mean("queries", replicate), a.per_1e4("unsafe", replicate))
        for a in res.arms.values()
        if a.method == method
    )
    return float(np.interp(queries, [p[0] for p in points], [p[1] for p in points]))


# ---------------------------------------------------------------------------------------
# Open questions: treacherous models, realizability failure, a countable class
# ---------------------------------------------------------------------------------------


def e4_treacherous(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult:
    """Treacherous models (the newsletter's deceptive model): the imitator against Bayes BC,
    DAgger and SafeDAgger over the same class, trained on the same demonstrator data.

    Per run: a fresh bandit and class (:func:`~occam.imitation.treachery.trigger_class`);
    the imitator at alpha_safe = delta * w(pi_d) and at control_alpha; Bayes BC after
    ``n_demo`` demonstrations (all before the first trigger); DAgger (Bayes learner);
    SafeDAgger (Bayes novice, gate threshold ``tr_safe_dagger_tau``).
    """
    n_models = 1 + len(config.tr_triggers) * len(config.tr_eps) + config.tr_honest
    res = EnvResult.tabular("E4 treacherous", config.tr_horizon, n_models, config.delta)
    horizon = res.horizon
    runs = [(r, k) for r in range(config.replicates) for k in range(config.tr_runs)]
    for r, k in progress(runs, "imitation E4 treacherous", len(runs)):
        env, tcl = trigger_class(
            np.random.default_rng(seeds(f"e4 class {k}", r)),
            config.tr_contexts,
            config.tr_actions,
            config.tr_triggers,
            config.tr_eps,
            config.tr_honest,
        )
        seed = seeds(f"e4 run {k}", r)
        first = min(config.tr_triggers)
        bc = TimedBayesBC(tcl)
        bc.pretrain_timed(demonstrations(env, tcl.base, config.n_demo, seed + 7919))
        agents: list[tuple[Arm, TabularAgent]] = [
            (res.arm("imitator", f"alpha={a:.3g}", a), TimedImitator(tcl, a))
            for a in sorted({res.alpha_safe, config.control_alpha})
        ]
        safe = TimedSafeDAgger(tcl, config.tr_safe_dagger_tau, config.safe_dagger_n_min)
        agents += [
            (res.arm("bc_bayes"), bc),
            (res.arm("dagger_bayes"), TimedDAgger(tcl, config.dagger_beta_steps)),
            (res.arm("safe_dagger", f"tau={config.tr_safe_dagger_tau:g}"), safe),
        ]
        for arm, agent in agents:
            tr = run_tabular(env, tcl.base, agent, horizon, seed)
            arm.add(tr, r)
            arm.runs[-1]["queries_after_trigger"] = float(tr.queried[first:].sum())
            arm.runs[-1]["unsafe_before_trigger"] = float(tr.unsafe[:first].sum())
    return res


def e5_misspecified(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult:
    """Realizability failure: E1's classes with the demonstrator outside the class.

    Three versions of each E1 class (same bandit, same alpha = delta / |M|):
    ``realizable`` (as in E1); ``truth removed`` (the demonstrator's model gets prior weight
    0, so the nearest models left are the near-twins, which allow the hazard); ``perturbed``
    (the class is E1's, but the demonstrator is the tempered truth ``pi_d^tau`` renormalised:
    outside the class, with the same support, so the nearest model is safe).
    """
    n_models = 1 + config.e1_twins + config.e1_random
    horizon = min(config.e1_horizon, config.control_horizon)
    res = EnvResult.tabular("E5 misspecified", horizon, n_models, config.delta)
    runs = [(r, k) for r in range(config.replicates) for k in range(config.e1_seeds)]
    for r, k in progress(runs, "imitation E5 misspecified", len(runs)):
        env, tc = _bandit(config, seeds(f"e5 class {k}", r), config.e1_twin_eps)
        seed = seeds(f"e5 run {k}", r)
        for name, cls in (
            ("realizable", tc),
            ("truth removed", without_truth(tc)),
            ("perturbed", perturbed_demonstrator(tc, config.ms_temper)),
        ):
            tr = run_bandit(env, cls, TabularImitator(cls, res.alpha_safe), horizon, seed)
            res.arm(name).add(tr, r, config.event_steps)
    return res


def without_truth(tc: TabularClass) -> TabularClass:
    """``tc`` with the demonstrator's prior weight set to 0 (uniform over the others).

    The demonstrator still acts (``truth`` still names its row), but no model of it is in
    the class: ``w(pi_d) = 0`` and the Ville bound ``alpha / w(pi_d)`` says nothing.
    """
    m = tc.n_models
    log_prior = np.full(m, -math.log(m - 1))
    log_prior[tc.truth] = -math.inf
    return TabularClass(tc.probs, log_prior, tc.truth, tc.labels)


def perturbed_demonstrator(tc: TabularClass, temper: float) -> TabularClass:
    """``tc``'s class with a new demonstrator ``pi_d^temper`` (renormalised) outside it.

    The tempered policy has the same zeros as ``pi_d`` (the hazard stays impossible) but is
    in no model of the class; it is appended as a row with prior weight 0.
    """
    pd = tc.probs[tc.truth] ** temper
    pd /= pd.sum(axis=1, keepdims=True)
    probs = np.concatenate([tc.probs, pd[None]])
    log_prior = np.concatenate([tc.log_prior, [-math.inf]])
    return TabularClass(probs, log_prior, tc.n_models, [*tc.labels, "perturbed demonstrator"])


def e6_countable(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult:
    """The lazily enumerated imitator over the countable class of lag-k policies.

    alpha = delta * w(pi_d), ``w(pi_d) = 2^-(k*+1) / |P|``; the frozen-posterior control
    asks but never updates (nor enumerates further).
    """
    lag, p = config.lz_truth_lag, config.lz_truth_p
    prior = 2.0 ** -(lag + 1) / len(config.lz_grid)
    horizon = config.lz_horizon
    res = EnvResult(
        "E6 countable",
        horizon,
        safe_alpha(config.delta, prior),
        prior,
        log_bins(horizon),
        checkpoints_for(horizon),
    )
    runs = [(r, k) for r in range(config.replicates) for k in range(config.lz_runs)]
    for r, k in progress(runs, "imitation E6 countable", len(runs)):
        seed = seeds(f"e6 run {k}", r)
        for method, learn in (("imitator", True), ("control_frozen", False)):
            tr = run_lazy(
                config.lz_grid, (lag, p), res.alpha_safe, horizon, seed, learn, config.lz_max_models
            )
            arm = res.arm(method, f"alpha={res.alpha_safe:.3g}", res.alpha_safe)
            arm.add_summary(summarise_lazy(tr), tr.theta, tr.queried, r)
            arm.models_curve.append(tr.n_models[res.checkpoints - 1].astype(np.float64))
    return res


def e7_cartpole(
    config: ImitationConfig, seeds: Seeds, progress: Progress = _no_progress
) -> EnvResult | None:
    """E7: CartPole-v1 with a finite class of linear controllers (None when not run).

    Per run: the imitator at alpha = delta * w(pi_d) and Bayes BC (``n_demo``
    demonstrations) for ``e7_steps`` steps; DAgger, the demonstrator alone and the
    conservative rule without queries for up to ``dagger_horizon`` steps.
    """
    if config.e7_cartpole == "off" or (config.e7_cartpole == "auto" and not gymnasium_available()):
        return None
    env = make_cartpole()
    gains = controller_grid(config.e7_k_x, config.e7_k_v, config.e7_k_theta, config.e7_k_w)
    truth = [tuple(g) for g in gains.tolist()].index(tuple(config.e7_truth))
    pc = PoleClass(gains, truth)
    res = EnvResult.tabular("E7 CartPole", config.e7_steps, pc.n_models, config.delta)
    steps, short = res.horizon, min(res.horizon, config.dagger_horizon)
    runs = [(r, k) for r in range(config.replicates) for k in range(config.e7_runs)]
    for r, k in progress(runs, "imitation E7 CartPole", len(runs)):
        seed = seeds(f"e7 run {k}", r)
        bc = PoleBayesBC(pc)
        for obs, a in pole_demonstrations(env, pc, config.n_demo, seed + 7919):
            bc.learn(obs, a)
        agents: list[tuple[Arm, PoleAgent, int]] = [
            (
                res.arm("imitator", f"alpha={res.alpha_safe:.3g}", res.alpha_safe),
                PoleImitator(pc, res.alpha_safe),
                steps,
            ),
            (res.arm("bc_bayes"), bc, steps),
            (res.arm("dagger_bayes"), PoleDAgger(pc, config.dagger_beta_steps), short),
            (res.arm("demonstrator"), PoleDemonstrator(pc), short),
            (res.arm("control_inert"), PoleInert(pc, res.alpha_safe), short),
        ]
        for arm, agent, n in agents:
            tr = run_pole(env, pc, agent, n, seed)
            arm.add_summary(summarise_pole(tr), tr.theta, tr.queried, r, tr.unsafe)
    return res


@dataclass
class OpenQuestions:
    """The results of E4-E7 (treacherous models, realizability failure, countable class,
    CartPole; ``e7`` is None when it was not run)."""

    e4: EnvResult
    e5: EnvResult
    e6: EnvResult
    e7: EnvResult | None = None


def run_fraction(arm: Arm, key: str, replicate: int) -> float:
    """The fraction of one replicate's runs in which ``key`` (a count) was positive."""
    vals = arm._values(key, replicate)
    return float(np.mean([v > 0 for v in vals])) if vals else math.nan
