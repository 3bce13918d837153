"""meta-bayes: meta-trained memory agents against exact Bayes-optimal agents.

Ortega et al. (2019) argue that memory-based meta-learning minimises a Monte-Carlo estimate of
the Bayes-optimality objective, so a meta-trained recurrent network should *behave* like the
Bayes-optimal agent of its task distribution. Mikulik et al. (2020) test this and go further:
the two agents also share *structure*, each state machine approximately simulating the other.

:func:`replicate` follows the papers' method in order (the steps are pure functions in
:mod:`occam.meta_bayes.experiments`); :func:`run` repeats it over independent seeds, draws
the figures from replicate 0 and hands every replicate to :func:`judge`, the one place
where claims get verdicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from occam.claims import Claim
from occam.meta_bayes import experiments as ex
from occam.meta_bayes import figures
from occam.meta_bayes.config import CLAIMS, KL_THRESHOLD, PROFILES, MetaBayesConfig
from occam.meta_bayes.tasks import concentrated, parse_task
from occam.study import RunContext, Study, StudyResult

Measured = dict[str, tuple[float | None, float | None, str]]


def replicate(config: MetaBayesConfig, ctx: RunContext, r: int) -> ex.Replicate:
    """One replicate of the method: every seed of it comes from ``ctx.seed_for(label, r)``."""
    streams = ex.Streams(lambda label: ctx.seed_for(label, r))
    rep = ex.Replicate()
    # 1. Meta-train one predictor per task by log loss; compare with the Bayes predictive.
    for task in map(parse_task, config.tasks):
        with ctx.timed(f"predict/{task.name}"):
            rep.pred[task.name] = ex.meta_train_predictor(config, streams, task, ctx.progress)
    for name, run in rep.pred.items():
        if run.task.discrete:  # control: a predictor of the wrong prior, same episodes
            rep.mismatched_kl[name] = ex.mismatched_prior_kl(config, streams, run, rep.pred)
    # 2. The coin example: one network class, three priors, three update rules.
    rep.coins = {n: ex.coin_curves(p) for n, p in rep.pred.items() if p.task.family == "bernoulli"}
    # 3. Bandits: an actor-critic memory agent against pi_Bayes from the exact programme.
    for arms in config.bandit_arms:
        with ctx.timed(f"bandit/{arms}-armed"):
            rep.bandits[arms] = ex.meta_train_bandit(config, streams, arms, ctx.progress)
    # 3b. Beyond the papers: a harder bandit (longer horizon), where the agent stays further
    #     from pi_Bayes (the newsletter's question: does simulation survive sub-optimality?).
    if config.hard_bandit_horizon:
        with ctx.timed("bandit/hard"):
            rep.hard_bandit = ex.meta_train_bandit(
                config,
                streams,
                config.hard_bandit_arms,
                ctx.progress,
                horizon=config.hard_bandit_horizon,
                updates=config.hard_bandit_updates,
            )
    # 3c. Ortega et al.'s other two templates on the two-armed bandit, each against its
    #     Bayes counterpart: posterior sampling (exact Thompson) and Q-learning (exact Q*).
    if config.template_updates and 2 in rep.bandits:
        with ctx.timed("templates"):
            rep.thompson = ex.thompson_template(config, streams)
            rep.value_based = ex.value_template(config, streams, rep.bandits[2].solution)
    # 4. Structure: state-machine simulation over snapshots (step 0 = the untrained network).
    with ctx.timed("simulation"):
        rep.sim_rows, rep.mismatched_sim = ex.simulations(config, streams, rep)
    # 5. Beyond the paper: linear probes decode the posterior's statistics from memory.
    with ctx.timed("probes"):
        for name in dict.fromkeys(row["task"] for row in rep.sim_rows):
            if name in rep.pred and rep.pred[name].task.discrete:
                rep.probes += ex.probes(config, streams, name, rep.pred[name])
    # 5b. Beyond the papers: does the memory keep the whole posterior when the loss needs less?
    if config.coarse_task:
        source = parse_task(config.coarse_task)
        with ctx.timed("coarse_statistic"):
            full = rep.pred.get(source.name) or ex.meta_train_predictor(
                config, streams, source, ctx.progress
            )
            rep.coarse = ex.coarse_statistic(config, streams, source, full, ctx.progress)
    # 6. The fixed point: distil onto Bayes (and, as control, onto a wrong prior), keep training.
    if config.fixed_point_task:
        task = parse_task(config.fixed_point_task)
        with ctx.timed("fixed_point"):
            rep.fixed_point = ex.fixed_point(config, streams, task)
            wrong = concentrated(task, config.mismatch_factor)
            rep.fixed_point_control = ex.fixed_point(config, streams, task, start=wrong)
    return rep


def run(config: MetaBayesConfig, ctx: RunContext) -> StudyResult:
    reps = [replicate(config, ctx, r) for r in range(config.replicates)]
    first = reps[0]
    if config.save_checkpoints:  # replicate 0's snapshots, for re-analysis
        folder = ctx.out / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        for snaps in [p.snapshots for p in first.pred.values()] + [
            b.snapshots for b in first.bandits.values()
        ]:
            for step, state in snaps.states.items():
                torch.save(state, folder / f"{snaps.label}_step{step:06d}.pt")
    with ctx.timed("bandit/dp"):
        dp_table = ex.bandit_dp_table(config)
    measured = [measure(config, rep) for rep in reps]
    metrics: dict[str, Any] = {
        **ex.replicate_metrics(first),
        "bandit_dp": dp_table,
        "replicates": config.replicates,
        "per_replicate": [{k: v[:2] for k, v in m.items()} for m in measured],
    }
    tables: dict[str, list[dict[str, Any]]] = {
        "prediction": ex.prediction_table(reps, config),
        "coin": ex.coin_table(first.coins),
        "bandit_dp": dp_table,
        "bandit": ex.bandit_table(reps),
        "simulation": first.sim_rows,
        "probes": first.probes,
        "fixed_point": first.fixed_point + first.fixed_point_control,
        "coarse_statistic": [r.coarse for r in reps if r.coarse is not None],
    }
    figs = {
        "kl_learning_curves": lambda: figures.kl_learning_curves(
            metrics["prediction"], KL_THRESHOLD
        ),
        "coin_example": lambda: figures.coin_example(first.coins),
        "bandit_returns": lambda: figures.bandit_returns(metrics["bandit"]),
        "dissimilarity": lambda: figures.dissimilarity(first.sim_rows),
        "probes": lambda: figures.probes(first.probes),
        "fixed_point": lambda: figures.fixed_point(first.fixed_point, first.fixed_point_control),
    }
    present = [first.pred, first.coins, first.bandits, first.sim_rows, first.probes]
    for (name, draw), data in zip(figs.items(), [*present, first.fixed_point], strict=True):
        if data:
            ctx.save_figure(draw(), name)
    if first.hard_bandit is not None:
        hb = first.hard_bandit
        hard = {f"{hb.arms}-armed bandit, T = {hb.solution.horizon}": metrics["hard_bandit"]}
        ctx.save_figure(figures.bandit_returns(hard), "hard_bandit_returns")
    if any("ds_shuffled" in r for r in first.sim_rows):
        ctx.save_figure(figures.simulation_controls(first.sim_rows), "simulation_controls")
    tracked = [n for n, p in first.pred.items() if not p.task.discrete] + ["hard_bandit"]
    if any(r["task"] in tracked for r in first.sim_rows):
        ctx.save_figure(figures.dissimilarity_vs_kl(first.sim_rows, tracked), "dissimilarity_vs_kl")
    if first.coarse is not None:
        ctx.save_figure(figures.coarse_statistic(first.coarse), "coarse_statistic")
    claims = judge(measured)
    return StudyResult(metrics, claims, tables, reading(claims, metrics))


# ---- verdicts: every claim is judged here ---------------------------------------------------


def measure(config: MetaBayesConfig, rep: ex.Replicate) -> Measured:
    """One replicate's value of each claim's measurement and of its control, with a note."""
    out: Measured = {}
    for spec_id, name in (
        ("mb.pred_kl_bernoulli", "beta_1_1"),
        ("mb.pred_kl_categorical", "dirichlet_1_1_1"),
    ):
        if name in rep.pred and name in rep.mismatched_kl:
            kl, how = rep.mismatched_kl[name]
            out[spec_id] = (rep.pred[name].final.kl, kl, f"wrong prior: {how}")
    bandit = rep.bandits.get(2)
    if bandit is not None:
        a, c = bandit.sampled, bandit.controls
        note = f"return: agent {a.mean_return:.3f}, greedy {c['greedy'].mean_return:.3f}"
        out["mb.bandit_agreement"] = (a.agreement, c["greedy"].agreement, note)
        if "thompson" in c:
            out["mb.bandit_policy_kl"] = (a.policy_kl, c["thompson"].policy_kl, note)
    sims: dict[str, list[dict[str, Any]]] = {}
    for r in rep.sim_rows:
        sims.setdefault(r["task"], []).append(r)
    sims.setdefault("beta_1_1", [])
    sims.setdefault("bandit2", [])
    if len(sims["beta_1_1"]) >= 2:
        u, t = sims["beta_1_1"][0], sims["beta_1_1"][-1]
        ratio = lambda r: r["ds_agent_to_bayes"] / r["ds_bayes_to_agent"]  # noqa: E731
        note = f"trained step {t['step']}"
        out["mb.sim_asymmetry"] = (ratio(t), ratio(u), note)
        out["mb.sim_memory_is_statistic"] = (t["ds_bayes_to_agent"], u["ds_bayes_to_agent"], note)
        rel = lambda r: max(  # noqa: E731
            r["do_agent_to_bayes"] / u["do_agent_to_bayes"],
            r["do_bayes_to_agent"] / u["do_bayes_to_agent"],
        )
        wrong = rel(rep.mismatched_sim) if rep.mismatched_sim else None
        out["mb.sim_output_vs_untrained"] = (rel(t), wrong, note)
    if len(sims["bandit2"]) >= 2:
        u, t = sims["bandit2"][0], sims["bandit2"][-1]
        worst = lambda r: max(r["do_agent_to_bayes"], r["do_bayes_to_agent"])  # noqa: E731
        out["mb.sim_bandit"] = (worst(t), worst(u), f"trained step {t['step']}")
    if len(sims.get("hard_bandit", [])) >= 2:
        u, t = sims["hard_bandit"][0], sims["hard_bandit"][-1]
        worst = lambda r: max(r["do_agent_to_bayes"], r["do_bayes_to_agent"])  # noqa: E731
        out["mb.sim_hard_bandit"] = (worst(t), worst(u), f"trained step {t['step']}")
    families = {run.task.family: name for name, run in reversed(rep.pred.items())}
    controlled = {}  # the trained checkpoint's row, with the simulation controls
    for family in ("bernoulli", "exponential", "gaussian"):
        rows = sims.get(families.get(family, ""), [])
        if rows and "ds_shuffled" in rows[-1]:
            controlled[family] = rows[-1]
    for spec_id, family in (("mb.sim_exponential", "exponential"), ("mb.sim_gaussian", "gaussian")):
        if family in controlled:
            t = controlled[family]
            note = f"{t['task']} step {t['step']}: KL {t['kl']:.2g} nats/step"
            out[spec_id] = (t["ds_agent_to_bayes"], t["ds_shuffled"], note)
    if len(controlled) == 3:
        out["mb.sim_commutes"] = (
            max(r["commutation"] for r in controlled.values()),
            max(r["commutation_shuffled"] for r in controlled.values()),
            ", ".join(f"{r['task']} {r['commutation']:.3g}" for r in controlled.values()),
        )
    if rep.coarse is not None:
        co = rep.coarse
        out["mb.coarse_drops_unneeded"] = (
            co["ds_unneeded_coarse"] / co["ds_unneeded_full"],
            co["ds_needed_coarse"] / co["ds_needed_full"],
            f"D_s of c1 - c2: coarse {co['ds_unneeded_coarse']:.3g}, full "
            f"{co['ds_unneeded_full']:.3g}, untrained {co['ds_unneeded_untrained']:.3g}",
        )
    if rep.thompson is not None:
        th = rep.thompson
        note = f"untrained {th['kl_untrained']:.3g}; return {th['return_trained']:.3f}"
        out["mb.thompson_kl"] = (th["kl_trained"], th["kl_mismatched_prior"], note)
    if rep.value_based is not None:
        vb = rep.value_based
        note = f"return {vb['return']:.3f} (V* {vb['v_star']:.3f}); Q RMSE {vb['q_rmse']:.3g}"
        out["mb.q_agreement"] = (vb["agreement"], vb["greedy_agreement"], note)
    after_one_head = {n: c["all heads"]["agent"][1] for n, c in rep.coins.items()}
    pair = (config.coin_concentrated, config.coin_dispersed)
    if all(n in after_one_head for n in pair):
        hi, lo = after_one_head[pair[0]], after_one_head[pair[1]]
        out["mb.coin_concentrated"] = (hi, lo, "P(heads | one head)")
        out["mb.coin_dispersed"] = (lo, hi, "P(heads | one head)")
    if rep.fixed_point and rep.fixed_point_control:
        drift = lambda c: max(r["drift"] for r in c if r["phase"] == "meta-train")  # noqa: E731
        out["mb.fixed_point"] = (
            drift(rep.fixed_point),
            drift(rep.fixed_point_control),
            f"KL to Bayes after distillation {rep.fixed_point[-1]['kl']:.2g}",
        )
    return out


def judge(measured: list[Measured]) -> list[Claim]:
    """Each claim from its replicate values and its control's (95% bootstrap intervals)."""
    claims = []
    for spec in CLAIMS:
        rows = [m.get(spec.id, (None, None, "not measured")) for m in measured]
        detail = f"replicate 0: {rows[0][2]}; {len(rows)} replicate(s)"
        claims.append(spec.judge([r[0] for r in rows], [r[1] for r in rows], detail))
    return claims


WHY_NOT = {
    "mb.sim_asymmetry": "Random recurrent states driven by the observations already carry the "
    "counts, so mapping any network's memory onto the counts is easier than the reverse; the "
    "asymmetry reflects the state dimensions (2H memory units against 2 counts), not "
    "meta-learning. mb.sim_memory_is_statistic tests the structural claim instead.",
    "mb.bandit_agreement": "The agent plays more like pi_Bayes than greedy play does, but its "
    "budget here is far below the papers' (about 1e7 environment steps with IMPALA): it is "
    "not yet a Bayes-optimal policy, which its return (within 1% of V*) hides.",
    "mb.bandit_policy_kl": "The agent's policy is only a little closer to pi_Bayes than "
    "Thompson sampling at this budget.",
    "mb.thompson_kl": "The Thompson template is a predictor of the optimal arm trained on its "
    "own histories; at this budget (template_updates x template_batch episodes) it has not "
    "reached the 1e-3 nats/step the prediction claims ask (its untrained and wrong-prior "
    "values are in the paragraph above).",
    "mb.q_agreement": "At this budget the Q-learning agent's greedy choices are not yet "
    "pi_Bayes's on 95% of the beliefs it visits (greedy posterior-mean play's agreement is "
    "beside it above).",
    "mb.sim_hard_bandit": "pi_Bayes stays on the arm it last pulled at about 85-90% of "
    "steps, so an untrained network whose greedy action happens to repeat its previous action "
    "(one random initialisation in four, in a side check) agrees with pi_Bayes on most "
    "beliefs while one that always pulls the same arm disagrees on half: the untrained "
    "control's action disagreement depends on the draw of its weights, and the state "
    "dissimilarities (dissimilarity figure) separate trained from untrained agents better.",
    "mb.coarse_drops_unneeded": "The memory keeps the unneeded split about as well as the "
    "full predictor's memory does: the whole posterior is encoded although the loss needs "
    "only c_0.",
    "mb.sim_exponential": "The map from memory to the Bayes state leaves more than 5% of a "
    "coordinate's variance unexplained at this budget.",
    "mb.sim_gaussian": "The map from memory to the Bayes state leaves more than 5% of a "
    "coordinate's variance unexplained at this budget.",
    "mb.sim_commutes": "The mapped memory's increments miss the Bayes updates by more than "
    "half their size for at least one task: the map fits the states but not the transitions.",
}


def _interval(c: Claim) -> str:
    lo, hi = c.interval or (float("nan"), float("nan"))
    return f"{c.measured:.3g} [{lo:.3g}, {hi:.3g}]"


def reading(claims: list[Claim], metrics: dict[str, Any]) -> str:
    """A short paragraph on what the figures show and why any claim does not hold."""
    pred = metrics.get("prediction", {})
    kls = "; ".join(
        f"{n} {m['kl']:.1e} (untrained {m['curve'][0]['kl']:.1e})" for n, m in pred.items()
    )
    parts = [
        f"Every claim is judged over {metrics['replicates']} replicate(s) beside a negative "
        "control; the figures show replicate 0. Meta-trained predictors approach the Bayes "
        f"posterior predictive (KL in nats per step: {kls}) and, under different priors, "
        "learn different update rules (the coin figure)."
    ]
    for arms, b in metrics.get("bandit", {}).items():
        g = b["controls"]["greedy"]
        parts.append(
            f"The {arms}-armed bandit agent earns {b['agent_sampled']['mean_return']:.3f} per "
            f"episode (V* = {b['v_star']:.3f}; greedy play {g['mean_return']:.3f} on the same "
            f"tasks) and picks pi_Bayes's arm on {100 * b['agent_sampled']['agreement']:.1f}% "
            f"of the non-tie beliefs it visits (greedy play {100 * g['agreement']:.1f}%)."
        )
    parts.append(
        "In the state-machine simulation, output dissimilarity and the map from counts to "
        "memory separate trained from untrained networks; the map from memory to counts does "
        "not, since random recurrent states already carry the counts (as the probes show)."
    )
    parts += _open_questions({c.spec.id: c for c in claims}, metrics)
    for c in claims:
        if c.verdict != "holds" and c.measured is not None:
            why = WHY_NOT.get(c.spec.id, "")
            parts.append(f"{c.spec.id} {c.verdict}: {_interval(c)} ({c.spec.test}). {why}")
    return " ".join(p.strip() for p in parts)


def _control(c: Claim) -> float:
    value = c.control.measured if c.control is not None else None
    return float("nan") if value is None else float(value)


def _spearman(a: list[float], b: list[float]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    if len(a) < 3 or ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _open_questions(by: dict[str, Claim], metrics: dict[str, Any]) -> list[str]:
    """The reading's paragraphs on the papers' missing pieces and the newsletter's questions."""
    parts: list[str] = []
    sims = metrics.get("simulation", [])
    controlled = [r for r in sims if "ds_shuffled" in r and r["task"] in metrics["prediction"]]
    if controlled:
        untrained = {r["task"]: r for r in sims if r["step"] == 0}
        each = "; ".join(
            f"{r['task']}: KL {r['kl']:.1e}, D_s(A->B) {r['ds_agent_to_bayes']:.3f} (untrained "
            f"{untrained[r['task']]['ds_agent_to_bayes']:.3f}, shuffled pairing "
            f"{r['ds_shuffled']:.3f}), D_o(A->B) {r['do_agent_to_bayes']:.1e} nats, "
            f"commutation {r['commutation']:.3f} (shuffled {r['commutation_shuffled']:.3f})"
            for r in controlled
        )
        parts.append(
            "State-machine simulation now covers the continuous tasks, regressing memory onto "
            "the Bayes state ((n, log b_n) exponential, (n, mu_n, log b_n) Gaussian), with a "
            "shuffled-pairing control and the commutation check of condition (i) (replicate "
            f"0, trained checkpoint): {each}."
        )
    tracked = [t for t in dict.fromkeys(r["task"] for r in sims) if t not in ("bandit2",)]
    lines = []
    for task in tracked:
        rs = [r for r in sims if r["task"] == task]
        if len(rs) < 2 or task in metrics.get("prediction", {}) and "ds_shuffled" not in rs[-1]:
            continue
        kl = [r["kl"] for r in rs]
        what = "policy KL" if "bandit" in task else "KL"
        lines.append(
            f"{task}: {what} {kl[0]:.2g} -> {kl[-1]:.2g}, D_o(A->B) "
            f"{rs[0]['do_agent_to_bayes']:.2g} -> {rs[-1]['do_agent_to_bayes']:.2g}, D_s(A->B) "
            f"{rs[0]['ds_agent_to_bayes']:.2g} -> {rs[-1]['ds_agent_to_bayes']:.2g} "
            f"(rank correlation with the KL over {len(rs)} checkpoints: D_o "
            f"{_spearman(kl, [r['do_agent_to_bayes'] for r in rs]):.2f}, D_s "
            f"{_spearman(kl, [r['ds_agent_to_bayes'] for r in rs]):.2f})"
        )
    hb = metrics.get("hard_bandit")
    c = by.get("mb.sim_hard_bandit")
    if hb and c is not None and c.measured is not None:
        lines.append(
            f"the harder bandit (T = {hb['horizon']}) reaches "
            f"{100 * hb['fraction_of_v_star']:.1f}% of V* and agrees with pi_Bayes on "
            f"{100 * hb['agent_sampled']['agreement']:.1f}% of visited non-tie beliefs; "
            f"its simulation disagreement is {_interval(c)} (untrained {_control(c):.3g})"
        )
    if lines:
        parts.append(
            "Open question 1 (simulation when behaviour is not optimal): " + "; ".join(lines) + "."
        )
    c = by.get("mb.coarse_drops_unneeded")
    co = metrics.get("coarse")
    if c is not None and c.measured is not None and co:
        kept = "keeps" if c.verdict != "holds" else "keeps markedly less of"
        parts.append(
            "Open question 2 (is the full posterior encoded when the policy needs less?): an "
            f"agent scored only on whether x = 0 in a {co['task']} source "
            f"(KL {co['coarse_kl']:.1e} "
            f"to its Bayes predictive) {kept} the unneeded split c_1 - c_2: D_s(memory -> "
            f"c_1 - c_2) {co['ds_unneeded_coarse']:.3f} against {co['ds_unneeded_full']:.3f} "
            f"for the full-loss predictor and {co['ds_unneeded_untrained']:.3f} untrained "
            f"(replicate 0); ratio over replicates {_interval(c)}, needed count c_0 ratio "
            f"{_control(c):.3g}."
        )
    th, vb = metrics.get("thompson_template"), metrics.get("value_template")
    if th and vb:
        parts.append(
            "Ortega et al.'s other templates (replicate 0): the meta-learned Thompson sampler "
            f"is {th['kl_trained']:.1e} nats/step from exact Thompson sampling (untrained "
            f"{th['kl_untrained']:.2g}; Beta(10,10) Thompson {th['kl_mismatched_prior']:.2g}), "
            f"return {th['return_trained']:.3f} against {th['return_exact_thompson']:.3f}; the "
            f"Q-learning agent agrees with pi_Bayes on {100 * vb['agreement']:.1f}% of visited "
            f"non-tie beliefs (greedy play {100 * vb['greedy_agreement']:.1f}%), return "
            f"{vb['return']:.3f} (V* {vb['v_star']:.3f}), Q-value RMS error {vb['q_rmse']:.2f}."
        )
    return parts


STUDY = Study(
    name="meta-bayes",
    title="Meta-trained memory agents implement Bayes-optimal agents",
    papers="Ortega et al. 2019; Mikulik et al. 2020",
    config_cls=MetaBayesConfig,
    profiles=PROFILES,
    claims=CLAIMS,
    run=run,
)
