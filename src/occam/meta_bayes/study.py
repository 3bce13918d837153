"""meta-bayes: meta-trained memory agents against exact Bayes-optimal agents.

Ortega et al. (2019) argue that memory-based meta-learning minimises a Monte-Carlo estimate of
the Bayes-optimality objective, so a meta-trained recurrent network should *behave* like the
Bayes-optimal agent of its task distribution. Mikulik et al. (2020) test this and go further:
the two agents also share *structure*, each state machine approximately simulating the other.

``run`` follows the papers' method in order (the experiments are in
:mod:`occam.meta_bayes.experiments`, the figures in :mod:`occam.meta_bayes.figures`):

1. meta-train FC -> LSTM -> FC predictors by log loss on each task distribution; compare with
   the closed-form posterior predictive (KL per step, excess log loss);
2. the coin example: one network class under three Beta priors learns three update rules;
3. bandits: the exact dynamic programme, reference policies, and an actor-critic agent;
4. state-machine simulation between agent and Bayes states, with the untrained network and
   training snapshots as controls;
5. beyond the paper: linear probes that decode the posterior from the agent's memory;
6. the fixed point: distil onto Bayes, keep meta-training, watch the KL.

Claims are judged in one place, :func:`judge`.
"""

from __future__ import annotations

from typing import Any

import torch

from occam.claims import Claim
from occam.meta_bayes import experiments as ex
from occam.meta_bayes import figures
from occam.meta_bayes.config import (
    BANDIT_RETURN,
    BANDIT_VS_THOMPSON,
    CLAIMS,
    COIN_CONCENTRATED,
    COIN_DISPERSED,
    FIXED_POINT,
    KL_THRESHOLD,
    PRED_KL_BERNOULLI,
    PRED_KL_CATEGORICAL,
    PROFILES,
    SIM_ASYMMETRY,
    SIM_OUTPUT_VS_UNTRAINED,
    MetaBayesConfig,
)
from occam.meta_bayes.tasks import parse_task
from occam.study import RunContext, Study, StudyResult


def _save_snapshots(ctx: RunContext, snaps: ex.Snapshots) -> None:
    folder = ctx.out / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    for step, state in snaps.states.items():
        torch.save(state, folder / f"{snaps.label}_step{step:06d}.pt")


def run(config: MetaBayesConfig, ctx: RunContext) -> StudyResult:
    streams = ex.Streams(lambda label: ctx.seed_for(label, 0))
    metrics: dict[str, Any] = {}
    tables: dict[str, list[dict[str, Any]]] = {}

    # 1. Meta-train one predictor per task; compare with the closed-form Bayes predictive.
    pred: dict[str, ex.PredictionRun] = {}
    for task in map(parse_task, config.tasks):
        with ctx.timed(f"predict/{task.name}"):
            pred[task.name] = ex.meta_train_predictor(config, streams, task, ctx.progress)
        if config.save_checkpoints:
            _save_snapshots(ctx, pred[task.name].snapshots)
    metrics["prediction"] = {name: ex.prediction_metrics(r) for name, r in pred.items()}
    tables["prediction"] = [
        {
            "task": name,
            "kl_bayes_agent": r.final.kl,
            "kl_untrained": r.curve[0]["kl"],
            "agent_log_loss": r.final.log_loss,
            "bayes_log_loss": r.final.bayes_log_loss,
            "excess_log_loss": r.final.excess_log_loss,
            "observations_seen": config.pred_steps * config.pred_batch * config.length,
        }
        for name, r in pred.items()
    ]
    if pred:
        fig = figures.kl_learning_curves(metrics["prediction"], KL_THRESHOLD)
        ctx.save_figure(fig, "kl_learning_curves")

    # 2. The coin example: one network class, three priors, three update rules.
    with ctx.timed("coin"):
        coins = {n: ex.coin_curves(r) for n, r in pred.items() if r.task.family == "bernoulli"}
    if coins:
        metrics["coin"] = coins
        tables["coin"] = [
            {
                "prior": name,
                "heads_so_far": n,
                "agent": c["all heads"]["agent"][n],
                "bayes": c["all heads"]["bayes"][n],
            }
            for name, c in coins.items()
            for n in range(6)
        ]
        ctx.save_figure(figures.coin_example(coins), "coin_example")

    # 3. Bandits: exact values by dynamic programming, then meta-trained agents.
    with ctx.timed("bandit/dp"):
        metrics["bandit_dp"] = tables["bandit_dp"] = ex.bandit_dp_table(config)
    bandits: dict[int, ex.BanditRun] = {}
    for arms in config.bandit_arms:
        with ctx.timed(f"bandit/{arms}-armed"):
            bandits[arms] = ex.meta_train_bandit(config, streams, arms, ctx.progress)
        if config.save_checkpoints:
            _save_snapshots(ctx, bandits[arms].snapshots)
    metrics["bandit"] = {str(arms): ex.bandit_metrics(r) for arms, r in bandits.items()}
    tables["bandit"] = ex.bandit_table(bandits)
    if bandits:
        ctx.save_figure(figures.bandit_returns(metrics["bandit"]), "bandit_returns")

    # 4. Structure: state-machine simulation over snapshots (step 0 = the untrained network).
    sim_runs: dict[str, ex.PredictionRun | ex.BanditRun] = {}
    for name in config.sim_tasks:
        if name == "bandit" and bandits:
            sim_runs[f"bandit{config.bandit_arms[0]}"] = bandits[config.bandit_arms[0]]
        elif name in pred and pred[name].task.discrete:
            sim_runs[name] = pred[name]
    sim_rows: list[dict[str, Any]] = []
    for label, sim_run in sim_runs.items():
        with ctx.timed(f"simulation/{label}"):
            sim_rows += ex.simulation_over_snapshots(config, streams, label, sim_run)
    metrics["simulation"] = tables["simulation"] = sim_rows
    if sim_rows:
        ctx.save_figure(figures.dissimilarity(sim_rows), "dissimilarity")

    # 5. Beyond the paper: linear probes decode the posterior's statistics from memory.
    probe_rows = [
        row
        for name, p in pred.items()
        if name in sim_runs
        for row in ex.probes(config, streams, name, p)
    ]
    metrics["probes"] = tables["probes"] = probe_rows
    if probe_rows:
        ctx.save_figure(figures.probes(probe_rows), "probes")

    # 6. The fixed point.
    if config.fixed_point_task:
        with ctx.timed("fixed_point"):
            fp_curve = ex.fixed_point(config, streams, parse_task(config.fixed_point_task))
        metrics["fixed_point"] = tables["fixed_point"] = fp_curve
        fig = figures.fixed_point(fp_curve, config.distil_steps, KL_THRESHOLD)
        ctx.save_figure(fig, "fixed_point")

    return StudyResult(
        metrics=metrics,
        claims=judge(config, metrics),
        tables=tables,
        reading=reading(metrics),
    )


def judge(config: MetaBayesConfig, metrics: dict[str, Any]) -> list[Claim]:
    """Verdicts from the metrics, with the thresholds fixed in the ClaimSpecs above."""
    pred = metrics.get("prediction", {})
    claims = [
        PRED_KL_BERNOULLI.evaluate(pred.get("beta_1_1", {}).get("kl"), "held-out episodes"),
        PRED_KL_CATEGORICAL.evaluate(
            pred.get("dirichlet_1_1_1", {}).get("kl"), "held-out episodes"
        ),
    ]

    b = metrics.get("bandit", {}).get("2")
    if b is not None:
        base = b["baselines"]
        agent = b["agent_sampled"]
        detail = (
            f"agent {agent['mean_return']:.3f} +- {agent['return_se']:.3f}, "
            f"DP policy {base['Bayes-optimal (DP policy)']:.3f}, "
            f"Thompson {base['Thompson sampling']:.3f}, "
            f"greedy {base['greedy (posterior mean)']:.3f} (Monte Carlo, same tasks); "
            f"V* {b['v_star']:.4f}"
        )
        claims += [
            BANDIT_RETURN.evaluate(
                b["fraction_of_v_star"], detail + "; fraction = 1 - (DP - agent) / V*"
            ),
            BANDIT_VS_THOMPSON.evaluate(b["vs_thompson"], detail),
        ]
    else:
        claims += [
            BANDIT_RETURN.evaluate(None, "no 2-armed bandit run"),
            BANDIT_VS_THOMPSON.evaluate(None, "no 2-armed bandit run"),
        ]

    rows = [r for r in metrics.get("simulation", []) if r["task"] == "beta_1_1"]
    if len(rows) >= 2 and rows[0]["step"] == 0:
        untrained, trained = rows[0], rows[-1]
        ratio = trained["ds_agent_to_bayes"] / trained["ds_bayes_to_agent"]
        claims.append(
            SIM_ASYMMETRY.evaluate(
                ratio,
                f"D_s A->B {trained['ds_agent_to_bayes']:.4g}, "
                f"B->A {trained['ds_bayes_to_agent']:.4g} (step {trained['step']})",
            )
        )
        r_ab = trained["do_agent_to_bayes"] / untrained["do_agent_to_bayes"]
        r_ba = trained["do_bayes_to_agent"] / untrained["do_bayes_to_agent"]
        claims.append(
            SIM_OUTPUT_VS_UNTRAINED.evaluate(
                max(r_ab, r_ba),
                f"D_o A->B {trained['do_agent_to_bayes']:.3g} "
                f"vs untrained {untrained['do_agent_to_bayes']:.3g}; "
                f"B->A {trained['do_bayes_to_agent']:.3g} "
                f"vs untrained {untrained['do_bayes_to_agent']:.3g} (nats)",
            )
        )
    else:
        claims += [
            SIM_ASYMMETRY.evaluate(None, "beta_1_1 not simulated"),
            SIM_OUTPUT_VS_UNTRAINED.evaluate(None, "beta_1_1 not simulated"),
        ]

    coins = metrics.get("coin", {})
    for spec, name in (
        (COIN_CONCENTRATED, config.coin_concentrated),
        (COIN_DISPERSED, config.coin_dispersed),
    ):
        if name in coins:
            c = coins[name]["all heads"]
            detail = (
                f"{name}: agent {c['agent'][0]:.3f} -> {c['agent'][1]:.3f}, "
                f"Bayes {c['bayes'][0]:.3f} -> {c['bayes'][1]:.3f}"
            )
            claims.append(spec.evaluate(c["agent"][1], detail))
        else:
            claims.append(spec.evaluate(None, f"{name} not trained"))

    curve = metrics.get("fixed_point", [])
    cont = [r["kl"] for r in curve if r["phase"] == "meta-train"]
    if cont:
        after_distil = [r["kl"] for r in curve if r["phase"] == "distil"][-1]
        detail = (
            f"after distillation {after_distil:.3g}, "
            f"max during meta-training {max(cont):.3g}, at the end {cont[-1]:.3g}"
        )
        claims.append(FIXED_POINT.evaluate(max(cont), detail))
    else:
        claims.append(FIXED_POINT.evaluate(None, "not run"))
    return claims


def reading(metrics: dict[str, Any]) -> str:
    """A short paragraph on what the figures show, with this run's numbers."""
    parts = []
    pred = metrics.get("prediction", {})
    if pred:
        kls = "; ".join(
            f"{n} {m['kl']:.1e} (untrained {m['curve'][0]['kl']:.1e})" for n, m in pred.items()
        )
        parts.append(
            "Meta-trained predictors approach the Bayes posterior predictive; "
            f"KL in nats per step: {kls}."
        )
    coins = metrics.get("coin", {})
    if coins:
        moves = ", ".join(
            f"{n} {c['all heads']['agent'][1]:.3f} (Bayes {c['all heads']['bayes'][1]:.3f})"
            for n, c in coins.items()
        )
        parts.append(
            "The coin figure shows one network class learning a different update rule for "
            f"each prior; after one head: {moves}."
        )
    for arms, b in metrics.get("bandit", {}).items():
        parts.append(
            f"The {arms}-armed bandit agent earns {b['agent_sampled']['mean_return']:.3f} "
            f"per episode against V* = {b['v_star']:.3f} and Thompson sampling's "
            f"{b['baselines']['Thompson sampling']:.3f}, and picks the Bayes-optimal arm on "
            f"{100 * b['agent_sampled']['agreement']:.0f}% of the non-tie beliefs it visits."
        )
    rows = metrics.get("simulation", [])
    if rows:
        parts.append(
            "In the state-machine simulation, output dissimilarity (not state dissimilarity) "
            "separates trained from untrained networks: random recurrent states already carry "
            "the counts, as the probes also show."
        )
    return " ".join(parts)


STUDY = Study(
    name="meta-bayes",
    title="Meta-trained memory agents implement Bayes-optimal agents",
    papers="Ortega et al. 2019; Mikulik et al. 2020",
    config_cls=MetaBayesConfig,
    profiles=PROFILES,
    claims=CLAIMS,
    run=run,
)
