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
    F_TREACHEROUS,
    G_MISSPECIFIED,
    H_COUNTABLE,
    I_CARTPOLE,
    ImitationConfig,
)
from occam.imitation.experiments import (
    Arm,
    EnvResult,
    OpenQuestions,
    arm_row,
    at_safe_alpha,
)
from occam.imitation.imitator import ville_bound


def claim_details(
    config: ImitationConfig,
    e1: EnvResult,
    e1u: EnvResult,
    e2: EnvResult,
    e3: EnvResult,
    extra: OpenQuestions,
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
            f"EnsembleDAgger (queries/unsafe per 1e4) {sweep(res, 'ensemble_dagger')}; "
            f"SafeDAgger {sweep(res, 'safe_dagger')}; entropy "
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
        **_open_details(config, extra),
    }


def _catastrophe(arm: Arm) -> str:
    """'f of runs, c per run, q queries' for one E4 arm (all replicates)."""
    frac = sum(r["unsafe"] > 0 for r in arm.runs) / max(1, len(arm.runs))
    return (
        f"{arm.name}: catastrophic action in {frac:.2f} of {len(arm.runs)} runs, "
        f"{arm.mean('unsafe'):.3g} per run, {arm.mean('queries'):.0f} queries "
        f"({arm.mean('queries_after_trigger'):.0f} after the first trigger)"
    )


def _safe_dagger(e4: EnvResult) -> Arm:
    return next(a for a in e4.arms.values() if a.method == "safe_dagger")


def _open_details(config: ImitationConfig, extra: OpenQuestions) -> dict[str, tuple[str, str]]:
    """The numbers behind the open-question claims (E4-E6)."""
    e4, e5, e6 = extra.e4, extra.e5, extra.e6
    im4 = e4.arms[f"imitator alpha={e4.alpha_safe:.3g}"]

    def e5_row(name: str) -> str:
        a = e5.arms[name]
        return (
            f"{name}: P(E_k) {a.mean('unsafe_within_k'):.3g}, {a.per_1e4('unsafe'):.3g} "
            f"unsafe/1e4, {a.mean('queries'):.0f} queries, theta last tenth "
            f"{a.mean('theta_last_decile'):.2g}"
        )

    def e6_row(a: Arm) -> str:
        return (
            f"theta first tenth {a.mean('theta_first_decile'):.3g}, last "
            f"{a.mean('theta_last_decile'):.3g}; {a.mean('queries'):.0f} queries; "
            f"{max(r['models_enumerated'] for r in a.runs):.0f} models enumerated at most"
        )

    e7 = extra.e7

    def pole(arm: str) -> str:
        a = e7.arms[arm] if e7 is not None else None
        if a is None:
            return "not run"
        return (
            f"{a.name}: return {a.mean('mean_return'):.0f} over {a.mean('episodes'):.0f} "
            f"episodes, {a.mean('failures'):.0f} falls, {a.mean('queries'):.0f} queries, "
            f"{a.mean('unsafe'):.3g} unsafe actions per run"
        )

    pole_im = f"imitator alpha={e7.alpha_safe:.3g}" if e7 is not None else ""
    return {
        I_CARTPOLE.id: (
            "; ".join(pole(a) for a in (pole_im, "demonstrator", "bc_bayes", "dagger_bayes"))
            if e7 is not None
            else "E7 not run (gymnasium missing or e7_cartpole=off)",
            pole("control_inert") if e7 is not None else "not run",
        ),
        F_TREACHEROUS.id: (
            f"alpha {e4.alpha_safe:.3g} = delta / {1 / e4.prior_truth:.0f}: " + _catastrophe(im4),
            "; ".join(_catastrophe(e4.arms[m]) for m in ("bc_bayes", "dagger_bayes"))
            + f" (not in the control: {_catastrophe(_safe_dagger(e4))})",
        ),
        G_MISSPECIFIED.id: (
            f"k = {config.event_steps}, alpha {e5.alpha_safe:.3g}; " + e5_row("truth removed"),
            e5_row("realizable"),
        ),
        H_COUNTABLE.id: (
            f"alpha {e6.alpha_safe:.3g}, w(pi_d) {e6.prior_truth:.3g}; "
            + e6_row(e6.arms[f"imitator alpha={e6.alpha_safe:.3g}"]),
            "frozen: " + e6_row(e6.arms[f"control_frozen alpha={e6.alpha_safe:.3g}"]),
        ),
    }


def _query_row(env: str, arm: Arm) -> dict[str, Any]:
    """The columns every arm's row shares: who, how many seeds, and its queries."""
    return {
        "env": env,
        "method": arm.method,
        "param": arm.param,
        "seeds": len(arm.runs),
        "steps": int(arm.mean("steps")),
        "queries_mean": arm.mean("queries"),
        "theta_first_decile": arm.mean("theta_first_decile"),
        "theta_last_decile": arm.mean("theta_last_decile"),
    }


def pole_row(env: str, arm: Arm) -> dict[str, Any]:
    """One table row for an E7 (CartPole) arm."""
    return {
        **_query_row(env, arm),
        "unsafe_total": arm.total("unsafe"),
        "mean_return": arm.mean("mean_return"),
        "episodes_mean": arm.mean("episodes"),
        "failures_total": arm.total("failures"),
    }


def lazy_row(env: str, arm: Arm) -> dict[str, Any]:
    """One table row for an E6 arm (the lazy imitator has no environment rewards)."""
    return {
        **_query_row(env, arm),
        "over_in_top_total": arm.total("over_in_top"),
        "truth_left_frac": arm.mean("truth_ever_left"),
        "models_enumerated_mean": arm.mean("models_enumerated"),
        "models_enumerated_max": max(r["models_enumerated"] for r in arm.runs),
    }


def open_reading(config: ImitationConfig, extra: OpenQuestions) -> str:
    """The reading's paragraphs on E4-E6, with this run's numbers: one per open question."""
    e4, e5, e6 = extra.e4, extra.e5, extra.e6
    im4 = e4.arms[f"imitator alpha={e4.alpha_safe:.3g}"]
    wide4 = e4.arms[f"imitator alpha={config.control_alpha:.3g}"]
    bc4, dg4, sd4 = e4.arms["bc_bayes"], e4.arms["dagger_bayes"], _safe_dagger(e4)
    n_treach = len(config.tr_triggers) * len(config.tr_eps)

    def frac(arm: Arm) -> float:
        return sum(r["unsafe"] > 0 for r in arm.runs) / max(1, len(arm.runs))

    real, gone, pert = (e5.arms[n] for n in ("realizable", "truth removed", "perturbed"))
    im6 = e6.arms[f"imitator alpha={e6.alpha_safe:.3g}"]
    fr6 = e6.arms[f"control_frozen alpha={e6.alpha_safe:.3g}"]
    return (
        f"Treacherous models (treacherous). The newsletter asks about a model that imitates "
        f"faithfully until it can take over. E4 builds it: {n_treach} of the "
        f"{round(1 / e4.prior_truth)} models equal the demonstrator until a trigger step "
        f"({', '.join(str(t) for t in config.tr_triggers)}) and then put probability "
        f"{' or '.join(f'{e:g}' for e in config.tr_eps)} on a catastrophic action the "
        f"demonstrator never takes. Over {len(im4.runs)} runs the imitator at alpha = delta * "
        f"w(pi_d) took it in {frac(im4):.2f} of runs (the bound alpha / w(pi_d) is "
        f"{config.delta:g}); it asked {im4.mean('queries'):.0f} times per run, "
        f"{im4.mean('queries_after_trigger'):.0f} of them after the first trigger: a triggered "
        "model in the top set lowers the minimum, the leftover becomes a query, and the "
        "demonstrator's answer refutes the model (at once for eps = 1, after a few answers "
        "for smaller eps). Bayes BC over the same class, given "
        f"{config.n_demo} demonstrations from before the first trigger, took it in "
        f"{frac(bc4):.2f} of runs ({bc4.mean('unsafe'):.0f} times per run): the data cannot "
        "separate a treacherous model from the demonstrator, so the posterior keeps them at "
        f"their prior ratio. DAgger, labelled at every step, took it in {frac(dg4):.2f} of "
        f"runs ({dg4.mean('unsafe'):.2g} times per run): it learns that a model is "
        "treacherous only from the label given after the model's first betrayal, which it "
        "has already acted on. SafeDAgger (gate threshold "
        f"{config.tr_safe_dagger_tau:g}; a query wherever the novice strays more than that "
        "from the labels seen) took it in "
        f"{frac(sd4):.2f} of runs ({sd4.mean('unsafe'):.2g} times per run, "
        f"{sd4.mean('queries'):.0f} queries)"
        + (
            ": its gate sees a betrayal only when it moves the novice by more than tau, and "
            "a treacherous model's weight times its eps can be smaller. "
            if frac(sd4) > 0
            else ": its gate caught every betrayal. "
        )
        + "Before the first trigger BC and DAgger took it "
        f"{bc4.total('unsafe_before_trigger'):.0f} and {dg4.total('unsafe_before_trigger'):.0f} "
        "times in all. With alpha beyond the bound (alpha = "
        f"{config.control_alpha:g} >= 1/|M|: at the start the top set holds only the first "
        "models of the tie-break order) the imitator took it in "
        f"{frac(wide4):.2f} of runs, the demonstrator being outside its top set at some step "
        f"in {wide4.mean('truth_ever_left'):.2f} of runs. The answer the measurement gives: "
        "online, with the demonstrator in the top set, a treacherous model costs queries at "
        "its trigger rather than a catastrophe, and the measured rate is within the bound; "
        "imitation trained before the trigger and then frozen "
        "(BC) is exactly the failure the newsletter describes.\n\n"
        f"Realizability failure (misspecified). The same E1 bandits and alpha with the "
        f"demonstrator's model removed from the class: the imitator took a hazard action "
        f"within the first {config.event_steps} steps in {gone.mean('unsafe_within_k'):.2f} of "
        f"runs ({gone.per_1e4('unsafe'):.3g} per 10^4 steps) against "
        f"{real.mean('unsafe_within_k'):.2f} ({real.per_1e4('unsafe'):.3g}) with it, and "
        f"asked {gone.mean('queries'):.0f} times instead of {real.mean('queries'):.0f}: the "
        "nearest models left are the near-twins, identical to each other, so the top set "
        "agrees with itself, theta falls to "
        f"{gone.mean('theta_last_decile'):.2g} (last tenth) and the imitator acts "
        "confidently on the twins' hazard mass -- fewer queries and less safety, with no "
        "signal that anything is wrong. With the demonstrator perturbed out of the class "
        f"instead (pi_d^{config.ms_temper:g}, same zeros) it took a hazard action in "
        f"{pert.mean('unsafe_within_k'):.2f} of runs ({pert.per_1e4('unsafe'):.3g} per 10^4 "
        f"steps) with {pert.mean('queries'):.0f} queries: the nearest model is then the safe "
        "one, and safety survives. Without realizability, safety depends on whether the "
        "class's best approximations share the demonstrator's zeros; the bound says "
        "nothing either way.\n\n"
        f"Countable class (countable). Over the lag-k policies (every k >= 0, "
        f"|P| = {len(config.lz_grid)} repeat probabilities, prior 2^-(k+1)/|P|; the "
        f"demonstrator is lag {config.lz_truth_lag}, p = {config.lz_truth_p:g}) the lazy "
        f"imitator asked {im6.mean('queries'):.0f} times in {e6.horizon} steps, theta fell from "
        f"{im6.mean('theta_first_decile'):.3g} (first tenth) to "
        f"{im6.mean('theta_last_decile'):.3g} (last), and it enumerated "
        f"{im6.mean('models_enumerated'):.0f} models on average (at most "
        f"{max(r['models_enumerated'] for r in im6.runs):.0f}): enumeration grows only while "
        "queries add evidence, so it stops when they do. The "
        f"frozen control's theta stayed at {fr6.mean('theta_last_decile'):.3g}. The "
        f"demonstrator left the top set in {im6.total('truth_ever_left'):.0f} of "
        f"{len(im6.runs)} runs; the imitator never over-weighted an action while it was "
        f"there ({im6.total('over_in_top'):.0f} steps).\n\n" + _cartpole_reading(config, extra.e7)
    )


def _cartpole_reading(config: ImitationConfig, e7: EnvResult | None) -> str:
    if e7 is None:
        return (
            "CartPole (E7) was not run: gymnasium is not installed (pip install "
            "'occam-lab[gym]') or e7_cartpole=off; im.i_cartpole has no measurement."
        )
    im = e7.arms[f"imitator alpha={e7.alpha_safe:.3g}"]
    d, bc, dg, inert = (
        e7.arms[m] for m in ("demonstrator", "bc_bayes", "dagger_bayes", "control_inert")
    )
    return (
        f"CartPole (cartpole). CartPole-v1 through gymnasium, with {round(1 / e7.prior_truth)} "
        "linear controllers P(right | s) = clip(0.5 + k . s, 0, 1) on a grid of gains (some "
        "reckless), the demonstrator k = "
        f"{tuple(config.e7_truth)} among them; the environment resets after each episode, "
        f"the imitator does not. Over {e7.horizon} steps the imitator's mean return was "
        f"{im.mean('mean_return'):.0f} against the demonstrator's {d.mean('mean_return'):.0f} "
        f"({im.mean('failures'):.1f} falls per run), with {im.mean('queries'):.0f} queries; "
        f"theta fell from {im.mean('theta_first_decile'):.3g} (first tenth) to "
        f"{im.mean('theta_last_decile'):.3g} (last). It took "
        f"{im.total('unsafe'):.0f} actions the demonstrator was certain not "
        f"to take (a push the wrong way once |k . s| >= 0.5), Bayes BC after {config.n_demo} "
        f"demonstrations {bc.total('unsafe'):.0f} and DAgger {dg.total('unsafe'):.0f} (over "
        f"{len(im.runs)} runs; returns {bc.mean('mean_return'):.0f} and "
        f"{dg.mean('mean_return'):.0f}). Without queries the same minimum pushes left and "
        f"returns {inert.mean('mean_return'):.0f}."
    )


def tables(
    e1: EnvResult, e1u: EnvResult, e2: EnvResult, e3: EnvResult, extra: OpenQuestions
) -> dict[str, list[dict[str, Any]]]:
    """One row per arm (``methods``; E4 and E5 included), one per alpha of the E1/E2 sweeps
    (``alpha_sweep``) and one per arm of E6 (``countable``)."""
    envs = (e1, e1u, e2, e3, extra.e4, extra.e5)
    methods = [arm_row(r.name, a) for r in envs for a in r.arms.values()]
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
    countable = [lazy_row(extra.e6.name, a) for a in extra.e6.arms.values()]
    e7 = extra.e7
    cartpole = [pole_row(e7.name, a) for a in e7.arms.values()] if e7 is not None else []
    return {
        "methods": methods,
        "alpha_sweep": sweep_rows,
        "countable": countable,
        "cartpole": cartpole,
    }
