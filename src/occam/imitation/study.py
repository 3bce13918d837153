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
5. Open questions. E4: treacherous models that imitate until a trigger step and then take
   a catastrophic action, against Bayes BC and DAgger over the same class. E5: the
   demonstrator outside the class (realizability failure). E6: a countable class (lag-k
   policies) enumerated lazily. E7: CartPole-v1 through gymnasium, a finite class of
   linear controllers containing the demonstrator (when gymnasium is installed).
6. The claims, each against its control, judged in :func:`judge`; tables, figures, reading.
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
    F_TREACHEROUS,
    G_MISSPECIFIED,
    H_COUNTABLE,
    I_CARTPOLE,
    PROFILES,
    USEFUL,
    WHY_UNCLEAR,
    ImitationConfig,
)
from occam.imitation.describe import claim_details, lazy_row, open_reading, pole_row, tables
from occam.imitation.envs import LavaGrid
from occam.imitation.experiments import (
    Arm,
    EnvResult,
    OpenQuestions,
    arm_row,
    at_safe_alpha,
    decile_ratio,
    e1_bandit,
    e1_unambiguous,
    e2_gridworld,
    e3_navigation,
    e4_treacherous,
    e5_misspecified,
    e6_countable,
    e7_cartpole,
    matched_unsafe,
    query_slope,
    run_fraction,
)
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
    # 5. Open questions.
    with ctx.timed("e4_treacherous"):
        e4 = e4_treacherous(config, ctx.seed_for, ctx.progress)
    with ctx.timed("e5_misspecified"):
        e5 = e5_misspecified(config, ctx.seed_for, ctx.progress)
    with ctx.timed("e6_countable"):
        e6 = e6_countable(config, ctx.seed_for, ctx.progress)
    with ctx.timed("e7_cartpole"):
        e7 = e7_cartpole(config, ctx.seed_for, ctx.progress)
    extra = OpenQuestions(e4, e5, e6, e7)

    # 6. Claims, tables, figures.
    claims, inputs = judge(config, e1, e1u, e2, e3, extra)
    ctx.save_figure(figures.query_rates(e1, e2, e3), "query_rates")
    ctx.save_figure(figures.alpha_tradeoff(e1, e2), "alpha_tradeoff")
    ctx.save_figure(figures.unsafe_bars(e1, e2, e3), "unsafe_bars")
    grid = LavaGrid(config.e2_size, config.e2_slip)
    ctx.save_figure(figures.grid_queries(e2, grid), "grid_queries")
    ctx.save_figure(figures.e3_budget(e3), "e3_budget")
    ctx.save_figure(figures.treacherous(e4, config.tr_triggers, config.delta), "treacherous")
    ctx.save_figure(figures.misspecified(e5, config.delta, config.event_steps), "misspecified")
    ctx.save_figure(figures.countable(e6), "countable")
    if e7 is not None:
        ctx.save_figure(figures.cartpole(e7), "cartpole")

    metrics: dict[str, Any] = {
        r.name: {
            "horizon": r.horizon,
            "alpha_safe": r.alpha_safe,
            "prior_truth": r.prior_truth,
            "arms": {name: arm_row(r.name, a) for name, a in r.arms.items()},
        }
        for r in (e1, e1u, e2, e3, e4, e5)
    }
    if e7 is not None:
        metrics[e7.name] = {
            "horizon": e7.horizon,
            "alpha_safe": e7.alpha_safe,
            "prior_truth": e7.prior_truth,
            "arms": {name: pole_row(e7.name, a) for name, a in e7.arms.items()},
        }
    metrics[e6.name] = {
        "horizon": e6.horizon,
        "alpha_safe": e6.alpha_safe,
        "prior_truth": e6.prior_truth,
        "arms": {name: lazy_row(e6.name, a) for name, a in e6.arms.items()},
    }
    metrics["claims_inputs"] = inputs
    return StudyResult(
        metrics=json_ready(metrics),
        claims=claims,
        tables=tables(e1, e1u, e2, e3, extra),
        reading=reading(config, e1, e2, e3, claims) + "\n\n" + open_reading(config, extra),
        timings=dict(ctx.timings),
    )


def _worst(values: list[float]) -> float:
    """The largest value, NaN if any is NaN (a replicate without a measurement)."""
    return math.nan if any(math.isnan(v) for v in values) else max(values)


def judge(
    config: ImitationConfig,
    e1: EnvResult,
    e1u: EnvResult,
    e2: EnvResult,
    e3: EnvResult,
    extra: OpenQuestions,
) -> tuple[list[Claim], dict[str, Any]]:
    """Every claim against its control, judged in one place, one value per replicate."""
    reps, envs, delta = range(config.replicates), (e1, e2), config.delta
    safe = {r.name: at_safe_alpha(r) for r in envs}
    wide = {r.name: r.arms[f"imitator alpha={config.control_alpha:.3g}"] for r in envs}

    def left(main: dict[str, Arm], method: str, i: int) -> float:  # pooled over runs, / delta
        arms = list(main.values()) + [
            a for r in envs for a in r.arms.values() if a.method == method
        ]
        n = sum(a.count(i) for a in arms)
        return sum(a.total("truth_ever_left", i) for a in arms) / n / delta

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
            matched_unsafe(res, "safe_dagger", q, i),
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
    e4, e5, e6, e7 = extra.e4, extra.e5, extra.e6, extra.e7

    def pole_useful(res: EnvResult, arm: str, i: int) -> float:  # return / demonstrator's
        return res.arms[arm].mean("mean_return", i) / res.arms["demonstrator"].mean(
            "mean_return", i
        )

    def catastrophic(method: str, i: int) -> float:  # fraction of E4 runs, / delta
        return run_fraction(e4.arms[method], "unsafe", i) / delta

    e6_im = e6.arms[f"imitator alpha={e6.alpha_safe:.3g}"]
    e6_frozen = e6.arms[f"control_frozen alpha={e6.alpha_safe:.3g}"]
    values: dict[str, tuple[list[Any], list[Any]]] = {
        A_RETENTION.id: (
            [left(safe, "retention", i) for i in reps],
            [left(wide, "retention_control", i) for i in reps],
        ),
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
        F_TREACHEROUS.id: (
            [catastrophic(f"imitator alpha={e4.alpha_safe:.3g}", i) for i in reps],
            [min(catastrophic("bc_bayes", i), catastrophic("dagger_bayes", i)) for i in reps],
        ),
        G_MISSPECIFIED.id: (
            [e5.arms["truth removed"].mean("unsafe_within_k", i) / delta for i in reps],
            [e5.arms["realizable"].mean("unsafe_within_k", i) / delta for i in reps],
        ),
        H_COUNTABLE.id: (
            [decile_ratio(e6_im, i) for i in reps],
            [decile_ratio(e6_frozen, i) for i in reps],
        ),
        I_CARTPOLE.id: (
            [pole_useful(e7, f"imitator alpha={e7.alpha_safe:.3g}", i) for i in reps]
            if e7 is not None
            else [None for _ in reps],
            [pole_useful(e7, "control_inert", i) for i in reps]
            if e7 is not None
            else [None for _ in reps],
        ),
    }
    details = claim_details(config, e1, e1u, e2, e3, extra)
    claims = [
        spec.judge(*values[spec.id], detail=details[spec.id][0], control_detail=details[spec.id][1])
        for spec in CLAIMS
    ]
    return claims, {key: {"measured": v, "control": c} for key, (v, c) in values.items()}


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
            else f"the interval straddles the threshold ({WHY_UNCLEAR[c.spec.id]})"
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
