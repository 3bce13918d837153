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
    TabularAgent,
)
from occam.imitation.config import ImitationConfig, Learner
from occam.imitation.envs import HazardNav2D, LavaGrid
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

Progress = Callable[[Iterable[int], str, int], Iterator[int]]


def _no_progress(it: Iterable[int], description: str, total: int) -> Iterator[int]:
    return iter(it)


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
        edges, checkpoints = log_bins(horizon), _checkpoints(horizon)
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


def e1_bandit(
    config: ImitationConfig, run_seed: int, progress: Progress = _no_progress
) -> EnvResult:
    """E1: contextual bandit, uniform prior over truth + near-twins + random policies."""
    n_models = 1 + config.e1_twins + config.e1_random
    res = EnvResult.tabular("E1", config.e1_horizon, n_models, config.delta)
    for k in progress(range(config.e1_seeds), "imitation E1 bandit", config.e1_seeds):
        env, tc = bandit_class(
            np.random.default_rng((run_seed, 1, k)),
            config.e1_contexts,
            config.e1_actions,
            config.e1_hazard_contexts,
            config.e1_twins,
            config.e1_random,
            config.e1_twin_eps,
        )
        seed = run_seed * 100_003 + 1000 + k
        _tabular_arms(res, env, tc, config, seed, run_bandit, env, config.e1_dagger_learner)
    return res


def e2_gridworld(
    config: ImitationConfig, run_seed: int, progress: Progress = _no_progress
) -> EnvResult:
    """E2: the lava gridworld; the demonstrator is one model of the (beta, kappa, Phi) grid."""
    n_models = len(config.e2_betas) * len(config.e2_cautions) * config.e2_potentials
    res = EnvResult.tabular("E2", config.e2_horizon, n_models, config.delta)
    for k in progress(range(config.e2_seeds), "imitation E2 gridworld", config.e2_seeds):
        env = LavaGrid(config.e2_size, config.e2_slip)
        tc = gridworld_class(
            env,
            np.random.default_rng((run_seed, 2, k)),
            config.e2_betas,
            config.e2_cautions,
            config.e2_potentials,
            config.e2_potential_scale,
            config.e2_truth_beta,
            config.e2_truth_caution,
        )
        seed = run_seed * 100_003 + 2000 + k
        demo_env = LavaGrid(config.e2_size, config.e2_slip)
        _tabular_arms(res, env, tc, config, seed, run_tabular, demo_env, config.e2_dagger_learner)
    return res


# ---------------------------------------------------------------------------------------
# E3: MLP ensemble
# ---------------------------------------------------------------------------------------


def e3_navigation(
    config: ImitationConfig, run_seed: int, progress: Progress = _no_progress
) -> EnvResult:
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
    for k in progress(range(config.e3_seeds), "imitation E3 navigation", config.e3_seeds):
        seed = run_seed * 100_003 + 3000 + k
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


def at_safe_alpha(res: EnvResult) -> Arm:
    return res.arms[f"imitator alpha={res.alpha_safe:.3g}"]


def decile_ratio(arm: Arm) -> float:
    first = arm.mean("theta_first_decile")
    return arm.mean("theta_last_decile") / first if first > 0 else math.nan


def query_slope(res: EnvResult, arm: Arm) -> float:
    """Log-log slope of mean cumulative queries between T/10 and T (checkpoints)."""
    cum = np.mean(arm.cum_queries, axis=0)
    lo = int(np.searchsorted(res.checkpoints, res.horizon // 10))
    return loglog_slope(cum, res.checkpoints, lo)


def monotone_breaks(sweep: list[Arm]) -> tuple[int, list[float], list[float]]:
    """Adjacent pairs (alpha ascending) where queries rise or violations fall with alpha."""
    queries = [a.mean("queries") for a in sweep]
    viol = [a.mean("over") + a.mean("unsafe") for a in sweep]
    breaks = sum(q2 > q1 for q1, q2 in zip(queries, queries[1:], strict=False))
    breaks += sum(v2 < v1 for v1, v2 in zip(viol, viol[1:], strict=False))
    return breaks, queries, viol


def interp_unsafe(points: list[tuple[float, float]], q: float) -> tuple[float, bool]:
    """Unsafe per 1e4 at ``q`` queries, interpolated over (queries, unsafe) points.

    Returns the value and whether q lay inside the swept range (else the nearest end)."""
    pts = sorted(points)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    inside = xs[0] <= q <= xs[-1]
    return float(np.interp(q, xs, ys)), inside
