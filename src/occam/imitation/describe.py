"""The imitation study's numbers in words and tables: the detail behind each claim.

Pure functions of the experiments' :class:`~occam.imitation.experiments.EnvResult`s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from occam.imitation.config import (
    A_EVENTS,
    A_RETENTION,
    B_SUBLINEAR,
    B_VANISH,
    C_MATCHED,
    C_USEFUL,
    E_ENSEMBLE,
    ImitationConfig,
)
from occam.imitation.experiments import Arm, EnvResult, arm_row, at_safe_alpha
from occam.imitation.imitator import ville_bound


def claim_details(
    config: ImitationConfig, e1: EnvResult, e1u: EnvResult, e2: EnvResult, e3: EnvResult
) -> dict[str, tuple[str, str]]:
    """The numbers behind each claim and its control, in words (means over all runs)."""
    s1, s2 = at_safe_alpha(e1), at_safe_alpha(e2)
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

    def retention(main: Callable[[EnvResult], Arm], method: str) -> str:
        parts = []
        for r in (e1, e2):
            arms = [main(r)] + [a for a in r.arms.values() if a.method == method]
            left = sum(a.total("truth_ever_left") for a in arms)
            parts.append(f"{r.name} {left:g}/{sum(a.count() for a in arms)}")
        return "pi_d ever left the top set in " + ", ".join(parts) + " runs"

    d3, inert3 = e3.arms["demonstrator"], e3.arms["control_inert"]
    im3 = e3.arms[f"ens_imitator alpha={config.e3_alpha:.3g}"]
    return {
        A_RETENTION.id: (
            f"alpha_safe {s1.value:.3g} (E1), {s2.value:.3g} (E2): "
            + retention(at_safe_alpha, "retention"),
            f"alpha {config.control_alpha:g}: "
            + retention(
                lambda r: r.arms[f"imitator alpha={config.control_alpha:.3g}"], "retention_control"
            ),
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
