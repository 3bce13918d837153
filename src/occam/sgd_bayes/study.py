"""The sgd-bayes study: is SGD a Bayesian sampler? (Mingard et al. 2021).

Method, in the paper's order (§3, §5, §6):

1. fix a training set S and an ordered test set E per dataset;
2. P_SGD(f|S): train many networks from random initialisations with SGD (batched
   ensembles, chunked, checkpointed, in-process / process pool / Ray), each until its first
   epoch with 100% training accuracy, and count the functions they express on E;
3. P_B(f|S): the NNGP kernel of the same architecture on S ∪ E, then EP (Heaviside
   likelihood) for log P_B(f|S) of every function SGD found;
4. compare: correlation of the log probabilities, the top functions and their mass, the
   probability-weighted error on E; repeat for optimisers, batch size, learning rate and
   overtraining;
5. beyond the paper: does the Bayesian sampler show double descent? Sweep the width.

The maths lives in the modules this file calls: ``settings`` (S, E, network, trainer),
``psgd`` (the SGD sampler), ``compare`` (P_B by EP and the comparison), ``boolean`` (direct
sampling), ``double_descent``; the figures in ``figures``; knobs and claims in ``config``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from occam.claims import Claim
from occam.sgd_bayes import figures
from occam.sgd_bayes.boolean import direct_sampling_check
from occam.sgd_bayes.compare import compare_counts, summarise
from occam.sgd_bayes.config import (
    A_CORR,
    B_MASS,
    B_TOP,
    C_ERR,
    CLAIMS,
    D_OPT,
    PROFILES,
    SgdBayesConfig,
    for_dataset,
    names,
)
from occam.sgd_bayes.double_descent import width_sweep
from occam.sgd_bayes.problems import Problem
from occam.sgd_bayes.psgd import sample_sgd
from occam.sgd_bayes.settings import problem_for, train_spec
from occam.study import RunContext, Study, StudyResult


def run(cfg: SgdBayesConfig, ctx: RunContext) -> StudyResult:
    datasets, variants = names(cfg.dataset), names(cfg.variants)
    metrics: dict[str, Any] = {"datasets": {}}
    tables: dict[str, list[dict[str, Any]]] = {"datasets": []}
    first: tuple[Problem, torch.Tensor] | None = None
    variants_on: str | None = None

    for name in datasets:
        # 1. S and E; 2. P_SGD; 3. P_B by NNGP + EP; 4. compare
        s_seed = ctx.seed_for(f"S {name}")
        problem = problem_for(cfg, name, s_seed)
        n_runs = cfg.imdb_runs if name == "imdb" else cfg.n_runs
        with ctx.timed(f"{name}_sgd"):
            spec = train_spec(cfg, problem, None)
            counts = sample_sgd(cfg, problem, spec, n_runs, ctx, f"nets {name}")
        with ctx.timed(f"{name}_bayes"):
            K = problem.kernel()
            comp = compare_counts(counts, K, problem, cfg.max_pb_functions, cfg.min_hits)
        summary = summarise(comp, counts)
        metrics["datasets"][name] = {"main": summary, "description": problem.description}
        tables["datasets"].append({"dataset": name, "variant": "main", **summary})
        ctx.save_figure(figures.psgd_vs_pb(comp, problem.description), f"psgd_vs_pb_{name}")
        if name == "boolean" and cfg.boolean_prior_samples > 0:
            with ctx.timed("boolean_direct_sampling"):
                prior_seed = ctx.seed_for("boolean prior")
                check = direct_sampling_check(cfg, problem, comp, K, s_seed, prior_seed, ctx.device)
            metrics["datasets"][name]["exact_sampling"] = check.metrics
            ctx.save_figure(figures.boolean_direct(comp, check), "boolean_sgd_sampling_ep")
        if first is None and (name != "imdb" or cfg.imdb_variants):
            first = (problem, K)

    # the paper's second-order effects: optimisers, batch size, learning rate, overtraining
    if variants and first is not None:
        problem, K = first
        main_opt = train_spec(cfg, problem, None).optimizer
        rows = [{"variant": f"main ({main_opt})", **metrics["datasets"][problem.name]["main"]}]
        for v in variants:
            spec = train_spec(cfg, problem, v)
            with ctx.timed(f"variant_{v}"):
                label = f"nets {problem.name} {v}"
                counts = sample_sgd(cfg, problem, spec, cfg.variant_runs, ctx, label)
            comp = compare_counts(counts, K, problem, cfg.max_pb_functions, cfg.min_hits)
            summary = summarise(comp, counts)
            metrics["datasets"][problem.name][v] = summary
            rows.append({"variant": v, **summary})
            tables["datasets"].append({"dataset": problem.name, "variant": v, **summary})
        ctx.save_figure(figures.variants(rows), "variants")
        variants_on = problem.name
    elif variants:
        metrics["variants_skipped"] = "the only dataset is IMDb: --set imdb_variants=true to run"

    # 5. beyond the paper
    if cfg.run_double_descent:
        with ctx.timed("double_descent"):
            rows, base = width_sweep(cfg, ctx)
        metrics["double_descent"] = rows
        tables["double_descent"] = rows
        fig = figures.double_descent(rows, cfg.dd_problem, len(base.X_train), cfg.dd_label_noise)
        ctx.save_figure(fig, "double_descent")

    return StudyResult(
        metrics=metrics,
        claims=judge(metrics, datasets, variants_on),
        tables=tables,
        reading=_reading(metrics, datasets),
    )


def judge(metrics: dict[str, Any], datasets: list[str], variants_on: str | None) -> list[Claim]:
    """Every claim, judged from the metrics (the only place verdicts are made)."""
    claims: list[Claim] = []
    for name in datasets:
        s = metrics["datasets"][name]["main"]
        claims += [
            for_dataset(A_CORR, name).evaluate(s["pearson_log"]),
            for_dataset(B_TOP, name).evaluate(s["top1_agree"]),
            for_dataset(B_MASS, name).evaluate(s["mass_top10_sgd"]),
            for_dataset(C_ERR, name).evaluate(
                max(s["weighted_error_sgd"], s["weighted_error_pb"]) / 0.5
            ),
        ]
    if variants_on is not None:
        on = metrics["datasets"][variants_on]
        r_main = on["main"]["pearson_log"]
        opt_rs = [on[v]["pearson_log"] for v in ("adam", "adagrad", "rmsprop") if v in on]
        measured = (
            max(abs(r - r_main) for r in opt_rs)
            if opt_rs and all(np.isfinite(opt_rs)) and np.isfinite(r_main)
            else None
        )
        claims.append(for_dataset(D_OPT, variants_on).evaluate(measured))
    return claims


def _reading(metrics: dict[str, Any], datasets: list[str]) -> str:
    parts = []
    for name in datasets:
        s = metrics["datasets"][name]["main"]
        parts.append(
            f"{name}: {s['n_runs']} SGD runs ({s['n_unfitted']} did not fit) found "
            f"{s['n_functions']} functions on E; log P_SGD and log P_B correlate with Pearson "
            f"{s['pearson_log']:.2f} (Spearman {s['spearman_log']:.2f}) over "
            f"{s['n_well_sampled']} well-sampled functions. SGD's top function has P_SGD "
            f"{s['top1_psgd']:.2f} against P_B {s['top1_pb']:.3g}: SGD agrees with the "
            "Bayesian posterior on which functions are likely, but is more concentrated than "
            "it at this |S|."
        )
    if "double_descent" in metrics:
        rows = metrics["double_descent"]
        finite = [r for r in rows if isinstance(r["width"], int)]

        def span(key: str) -> str:
            vals = [r[key] for r in finite if r.get(key) is not None]
            return f"{min(vals):.3f}-{max(vals):.3f}" if vals else "n/a"

        parts.append(
            "Double descent (beyond the paper): test error against the width of a "
            f"one-hidden-layer net (widths {finite[0]['width']}-{finite[-1]['width']}). The "
            f"fraction of SGD runs that fit S rises {finite[0]['fraction_fitted']:.2f} -> "
            f"{finite[-1]['fraction_fitted']:.2f} (the interpolation threshold); SGD's error "
            f"spans {span('sgd_test_error')}, the exact finite-width P_B's "
            f"{span('pb_test_error')}, and the infinite-width NNGP gives "
            f"{rows[-1]['gp_test_error']:.3f}. A peak at the threshold would be double descent."
        )
    return "\n\n".join(parts)


STUDY = Study(
    name="sgd-bayes",
    title="Is SGD a Bayesian sampler? P_SGD(f|S) against the NNGP posterior P_B(f|S)",
    papers="Mingard, Valle-Pérez, Skalse & Louis 2021 (JMLR 22(79))",
    config_cls=SgdBayesConfig,
    profiles=PROFILES,
    claims=CLAIMS,
    run=run,
)
