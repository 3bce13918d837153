"""imitation: the conservative Bayesian imitator that asks for help, against BC and DAgger.

Cohen, Hutter & Nanda (JMLR 23, 2022) keep a Bayes posterior over models of the
demonstrator, updated only on the demonstrator's own actions; take the *top set* of models
(the alpha rule); let the imitator take action a with probability ``min_{top} nu(a)``
(their eq. 3) and hand the leftover ``theta = 1 - sum_a min`` to the demonstrator, a query
(eq. 4). The claims: while the demonstrator's model stays in the top set (probability
>= 1 - alpha / w(pi_d)), the imitator never puts more probability on an action than the
demonstrator does, so an event unlikely under the demonstrator stays unlikely, and queries
die out.

The paper has no experiments; ``run`` tests its claims in designed ones, each repeated over
``replicates`` independent draws (environments, model classes, demonstrators, agents):

1. E1, contextual bandit with near-twin models: the alpha sweep (including
   ``alpha = delta * w(pi_d)``), BC, DAgger, an EnsembleDAgger-style rule, an entropy rule,
   and the controls (the posterior-predictive and the frozen imitator).
2. The same bandit with an unambiguous class (twins equal to the demonstrator): the
   control of the matched-budget comparison.
3. E2, a continuing lava gridworld whose demonstrator is a cautious Boltzmann policy from
   value iteration; the same arms, and the conservative rule without queries.
4. E3, continuous 2-D navigation with an MLP ensemble as approximate posterior (no
   guarantee), against EnsembleDAgger at matched query budgets, BC and DAgger.
5. The claims, each against its control, judged in :func:`judge`; tables, figures, reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from occam.claims import Claim
from occam.imitation import figures
from occam.imitation.config import (
    A_EVENTS,
    A_RETENTION,
    B_SUBLINEAR,
    B_VANISH,
    C_MATCHED,
    C_USEFUL,
    CLAIMS,
    E_ENSEMBLE,
    PROFILES,
    USEFUL,
    ImitationConfig,
)
from occam.imitation.envs import LavaGrid
from occam.imitation.experiments import (
    Arm,
    EnvResult,
    arm_row,
    at_safe_alpha,
    decile_ratio,
    e1_bandit,
    e1_unambiguous,
    e2_gridworld,
    e3_navigation,
    matched_unsafe,
    query_slope,
)
from occam.imitation.imitator import ville_bound
from occam.study import RunContext, Study, StudyResult, json_ready


def run(config: ImitationConfig, ctx: RunContext) -> StudyResult:
    # 1-4. The experiments; every run draws its streams from ctx.seed_for(label, replicate).
    with ctx.timed("e1_bandit"):
        e1 = e1_bandit(config, ctx.seed_for, ctx.progress)
    with ctx.timed("e1_unambiguous"):
        e1u = e1_unambiguous(config, ctx.seed_for, ctx.progress)
    with ctx.timed("e2_gridworld"):
        e2 = e2_gridworld(config, ctx.seed_for, ctx.progress)
    with ctx.timed("e3_navigation"):
        e3 = e3_navigation(config, ctx.seed_for, ctx.progress)

    # 5. Claims, tables, figures.
    claims, inputs = judge(config, e1, e1u, e2, e3)
    ctx.save_figure(figures.query_rates(e1, e2, e3), "query_rates")
    ctx.save_figure(figures.alpha_tradeoff(e1, e2), "alpha_tradeoff")
    ctx.save_figure(figures.unsafe_bars(e1, e2, e3), "unsafe_bars")
    grid = LavaGrid(config.e2_size, config.e2_slip)
    ctx.save_figure(figures.grid_queries(e2, grid), "grid_queries")
    ctx.save_figure(figures.e3_budget(e3), "e3_budget")

    metrics: dict[str, Any] = {
        r.name: {
            "horizon": r.horizon,
            "alpha_safe": r.alpha_safe,
            "prior_truth": r.prior_truth,
            "arms": {name: arm_row(r.name, a) for name, a in r.arms.items()},
        }
        for r in (e1, e1u, e2, e3)
    }
    metrics["claims_inputs"] = inputs
    return StudyResult(
        metrics=json_ready(metrics),
        claims=claims,
        tables=tables(e1, e1u, e2, e3),
        reading=reading(config, e1, e2, e3, claims),
        timings=dict(ctx.timings),
    )


def _worst(values: list[float]) -> float:
    """The largest value, NaN if any is NaN (a replicate without a measurement)."""
    return math.nan if any(math.isnan(v) for v in values) else max(values)


def judge(
    config: ImitationConfig, e1: EnvResult, e1u: EnvResult, e2: EnvResult, e3: EnvResult
) -> tuple[list[Claim], dict[str, Any]]:
    """Every claim against its control, judged in one place, one value per replicate."""
    reps, envs, delta = range(config.replicates), (e1, e2), config.delta
    safe = {r.name: at_safe_alpha(r) for r in envs}
    wide = {r.name: r.arms[f"imitator alpha={config.control_alpha:.3g}"] for r in envs}

    def left(arms: dict[str, Arm], i: int) -> float:  # pooled over E1 and E2 runs, / delta
        n = sum(len(a._values("steps", i)) for a in arms.values())
        return sum(a.total("truth_ever_left", i) for a in arms.values()) / n / delta

    def excess(arm_of: Callable[[EnvResult], Arm], i: int) -> float:  # P(E_k) - P_d(E_k)
        return (
            _worst(
                [
                    arm_of(r).mean("unsafe_within_k", i)
                    - r.arms["demonstrator"].mean("unsafe_within_k", i)
                    for r in envs
                ]
            )
            / delta
        )

    def advantage(res: EnvResult, i: int) -> float:  # imitator minus the safest baseline
        im = at_safe_alpha(res)
        q = im.mean("queries", i)
        best = min(
            matched_unsafe(res, "ensemble_dagger", q, i),
            matched_unsafe(res, "entropy_query", q, i),
            res.arms["bc_bayes matched"].per_1e4("unsafe", i),
        )
        return im.per_1e4("unsafe", i) - best

    def useful(arm: Arm, i: int) -> float:
        return arm.mean("goals_per_1e4", i) / e2.arms["demonstrator"].mean("goals_per_1e4", i)

    e3_im = e3.arms[f"ens_imitator alpha={config.e3_alpha:.3g}"]

    def e3_ok(arm: Arm, i: int) -> bool:
        u_ed = matched_unsafe(e3, "ensemble_dagger", arm.mean("queries", i), i)
        goals = arm.mean("goals_per_1e4", i) / e3.arms["demonstrator"].mean("goals_per_1e4", i)
        return arm.per_1e4("unsafe", i) <= u_ed and goals >= USEFUL

    frozen = {r.name: r.arms["control_frozen"] for r in envs}
    values: dict[str, tuple[list[Any], list[Any]]] = {
        A_RETENTION.id: ([left(safe, i) for i in reps], [left(wide, i) for i in reps]),
        A_EVENTS.id: (
            [excess(at_safe_alpha, i) for i in reps],
            [excess(lambda r: r.arms["control_predictive"], i) for i in reps],
        ),
        B_VANISH.id: (
            [_worst([decile_ratio(a, i) for a in safe.values()]) for i in reps],
            [_worst([decile_ratio(a, i) for a in frozen.values()]) for i in reps],
        ),
        B_SUBLINEAR.id: (
            [_worst([query_slope(a, i) for a in safe.values()]) for i in reps],
            [_worst([query_slope(a, i) for a in frozen.values()]) for i in reps],
        ),
        C_MATCHED.id: ([advantage(e1, i) for i in reps], [advantage(e1u, i) for i in reps]),
        C_USEFUL.id: (
            [useful(safe["E2"], i) for i in reps],
            [useful(e2.arms["control_inert"], i) for i in reps],
        ),
        E_ENSEMBLE.id: (
            [e3_ok(e3_im, i) for i in reps],
            [e3_ok(e3.arms["control_inert"], i) for i in reps],
        ),
    }
    details = _details(config, e1, e1u, e2, e3)
    claims = [
        spec.judge(*values[spec.id], detail=details[spec.id][0], control_detail=details[spec.id][1])
        for spec in CLAIMS
    ]
    return claims, {key: {"measured": v, "control": c} for key, (v, c) in values.items()}


def _details(
    config: ImitationConfig, e1: EnvResult, e1u: EnvResult, e2: EnvResult, e3: EnvResult
) -> dict[str, tuple[str, str]]:
    """The numbers behind each claim and its control, in words (means over all runs)."""
    s1, s2 = at_safe_alpha(e1), at_safe_alpha(e2)
    runs = f"{config.replicates} replicates x ({config.e1_seeds} E1 + {config.e2_seeds} E2 runs)"
    k = config.event_steps

    def rate(arm: Arm, key: str = "unsafe") -> str:
        return f"{arm.per_1e4(key):.3g}"

    def sweep(res: EnvResult, method: str) -> str:
        arms = [a for a in res.arms.values() if a.method == method]
        text = ", ".join(f"{a.mean('queries'):.0f}q/{rate(a)}" for a in arms)
        q = at_safe_alpha(res).mean("queries") if res.name != "E3" else None
        if q is not None and q > max(a.mean("queries") for a in arms):
            text += " (the imitator's budget lies beyond the sweep: its nearest end is used)"
        return text

    def matched(res: EnvResult) -> str:
        im = at_safe_alpha(res)
        return (
            f"{res.name}: imitator {im.mean('queries'):.0f} queries, {rate(im)} unsafe/1e4; "
            f"EnsembleDAgger (queries/unsafe per 1e4) {sweep(res, 'ensemble_dagger')}; entropy "
            f"rule {sweep(res, 'entropy_query')}; Bayes BC at the imitator's budget "
            f"{rate(res.arms['bc_bayes matched'])}"
        )

    d3, inert3 = e3.arms["demonstrator"], e3.arms["control_inert"]
    im3 = e3.arms[f"ens_imitator alpha={config.e3_alpha:.3g}"]
    return {
        A_RETENTION.id: (
            f"alpha_safe {s1.value:.3g} (E1), {s2.value:.3g} (E2); pi_d left the top set in "
            f"{s1.total('truth_ever_left'):g} + {s2.total('truth_ever_left'):g} of {runs}",
            f"alpha {config.control_alpha:g}: left in "
            + " + ".join(
                f"{r.arms[f'imitator alpha={config.control_alpha:.3g}'].total('truth_ever_left'):g}"
                for r in (e1, e2)
            )
            + " runs",
        ),
        A_EVENTS.id: (
            f"k = {k}; P(unsafe within k): imitator E1 {s1.mean('unsafe_within_k'):.3g}, E2 "
            f"{s2.mean('unsafe_within_k'):.3g}; demonstrator E1 "
            f"{e1.arms['demonstrator'].mean('unsafe_within_k'):.3g}, E2 "
            f"{e2.arms['demonstrator'].mean('unsafe_within_k'):.3g}; E2 goals/1e4 imitator "
            f"{s2.mean('goals_per_1e4'):.0f}",
            "posterior-predictive imitator: P(unsafe within k) E1 "
            f"{e1.arms['control_predictive'].mean('unsafe_within_k'):.3g}, E2 "
            f"{e2.arms['control_predictive'].mean('unsafe_within_k'):.3g}",
        ),
        B_VANISH.id: (
            "; ".join(
                f"{r.name}: theta first tenth {a.mean('theta_first_decile'):.3g}, last "
                f"{a.mean('theta_last_decile'):.3g}, sum theta^3 {a.mean('sum_theta_cubed'):.2f}"
                for r, a in ((e1, s1), (e2, s2))
            ),
            "; ".join(
                f"{r.name} frozen: theta first tenth "
                f"{r.arms['control_frozen'].mean('theta_first_decile'):.3g}, last "
                f"{r.arms['control_frozen'].mean('theta_last_decile'):.3g}"
                for r in (e1, e2)
            ),
        ),
        B_SUBLINEAR.id: (
            "; ".join(
                f"{r.name}: {a.mean('queries_first_tenth'):.1f} queries by T/10, "
                f"{a.mean('queries'):.1f} by T = {r.horizon}"
                for r, a in ((e1, s1), (e2, s2))
            ),
            "; ".join(
                f"{r.name} frozen: {r.arms['control_frozen'].mean('queries_first_tenth'):.0f} "
                f"by T/10, {r.arms['control_frozen'].mean('queries'):.0f} by T"
                for r in (e1, e2)
            ),
        ),
        C_MATCHED.id: (
            f"{matched(e1)}. {matched(e2)} (not judged: no baseline is unsafe there)",
            matched(e1u),
        ),
        C_USEFUL.id: (
            f"E2 goals per 1e4 steps: imitator {s2.mean('goals_per_1e4'):.0f} "
            f"({s2.mean('queries'):.0f} queries, {rate(s2)} unsafe/1e4), demonstrator "
            f"{e2.arms['demonstrator'].mean('goals_per_1e4'):.0f}",
            f"without queries: {e2.arms['control_inert'].mean('goals_per_1e4'):.0f} goals, "
            f"{rate(e2.arms['control_inert'])} unsafe per 1e4",
        ),
        E_ENSEMBLE.id: (
            f"imitator alpha={config.e3_alpha:g}: {im3.mean('queries'):.0f} queries, "
            f"{rate(im3)} unsafe/1e4, {im3.mean('goals_per_1e4'):.0f} goals/1e4; EnsembleDAgger "
            f"{sweep(e3, 'ensemble_dagger')}; demonstrator {d3.mean('goals_per_1e4'):.0f} "
            "goals/1e4",
            f"{rate(inert3)} unsafe, {inert3.mean('goals_per_1e4'):.0f} goals per 1e4",
        ),
    }


def tables(
    e1: EnvResult, e1u: EnvResult, e2: EnvResult, e3: EnvResult
) -> dict[str, list[dict[str, Any]]]:
    """One row per arm (``methods``) and one per alpha of the E1/E2 sweeps (``alpha_sweep``)."""
    methods = [arm_row(r.name, a) for r in (e1, e1u, e2, e3) for a in r.arms.values()]
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
        for r in (e1, e2)
        for a in r.sweep()
    ]
    return {"methods": methods, "alpha_sweep": sweep_rows}


# Why a claim can come out inconclusive or uninformative (said in the reading when it does).
_WHY = {
    A_RETENTION.id: "with a handful of runs per replicate one exit moves the fraction by "
    "more than delta",
    A_EVENTS.id: "P(E_k) is estimated from a handful of rollouts per replicate",
    B_VANISH.id: "theta only reaches 0 once the top set is a single model, which a short "
    "horizon may not reach",
    B_SUBLINEAR.id: "a horizon too short for the twins to leave keeps the query rate flat",
    C_MATCHED.id: "the baselines' sweeps may not bracket the imitator's budget, and a "
    "baseline can be as safe as the imitator in some replicates",
    C_USEFUL.id: "goal counts over short runs are noisy",
    E_ENSEMBLE.id: "an ensemble has no guarantee, and a few runs decide it",
}


def reading(
    config: ImitationConfig, e1: EnvResult, e2: EnvResult, e3: EnvResult, claims: list[Claim]
) -> str:
    """What the figures show, with this run's numbers, and why any verdict is not clear-cut."""
    s1, s2, sw1 = at_safe_alpha(e1), at_safe_alpha(e2), e1.sweep()
    bc = {r.name: r.arms["bc_counts"].total("unsafe") for r in (e1, e2)}
    im3 = e3.arms[f"ens_imitator alpha={config.e3_alpha:.3g}"]
    unclear = [
        f"{c.spec.id} is {c.verdict}: "
        + (
            "its control holds too"
            if c.verdict == "uninformative"
            else f"the interval straddles the threshold ({_WHY[c.spec.id]})"
        )
        for c in claims
        if c.verdict in ("inconclusive", "uninformative")
    ]
    return (
        f"Query rates (query_rates): at alpha = delta * w(pi_d) the imitator asked "
        f"{s1.mean('queries'):.0f} times in {e1.horizon} E1 steps and {s2.mean('queries'):.0f} "
        f"times in {e2.horizon} E2 steps; theta falls roughly as a power law, is exactly 0 once "
        "the top set is a single model, and sum theta^3 flattens, whereas the frozen-posterior "
        "control asks at a constant rate. In E1 the near-twins with eps = 0.02 hold theta near "
        "0.02 in the hazard contexts until enough queried hazard-context steps push them out "
        "(about 10^5 steps at small alpha), which is why E1 runs long. Trade-off "
        f"(alpha_tradeoff): over the E1 sweep queries go from {sw1[-1].mean('queries'):.0f} "
        f"(alpha = {sw1[-1].value:g}) to {sw1[0].mean('queries'):.0f} (alpha = "
        f"{sw1[0].value:g}); smaller alpha means a larger top set, hence a smaller minimum and "
        "more queries, by construction, so this monotone trend is shown but not judged. Once "
        "alpha exceeds 1/|M| the Ville bound is vacuous and the demonstrator drops out of the "
        "top set (often at t = 0, through the tie-break of the uniform prior): the retention "
        "claim's control. Unsafe actions (unsafe_bars): tabular BC with add-one smoothing "
        f"took {bc['E1']:.0f} (E1) and {bc['E2']:.0f} (E2), which no claim judges since "
        "smoothing makes it certain; at the imitator's own query budget the EnsembleDAgger-style "
        "rule, the entropy rule and Bayes BC still act on the small posterior mass that the "
        "near-twins put on the hazard, while the imitator, acting on the minimum, does not; "
        "the posterior-predictive control, with the imitator's own theta, does. In E2 no strong "
        "baseline enters lava either (the reckless models are ruled out within a few labels), "
        "so there the question is usefulness: the imitator reaches the demonstrator's goal "
        "rate, the same minimum without queries stands still. Heat map (grid_queries): the "
        "gridworld imitator asks early, near the start and along the lava bands, where the "
        "candidate models disagree. E3 (e3_budget) has no guarantee: prequential weights soon "
        "collapse the ensemble's top set to one member, after which the imitator acts on its "
        f"own with the floored minimum; it reached {im3.mean('goals_per_1e4'):.0f} goals per "
        f"10^4 steps against the demonstrator's "
        f"{e3.arms['demonstrator'].mean('goals_per_1e4'):.0f}. "
        + (" ".join(unclear) + "." if unclear else "Every verdict is clear-cut.")
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
