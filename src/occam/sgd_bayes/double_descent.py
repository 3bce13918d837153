"""Beyond the paper: does the Bayesian sampler show double descent?

Test error against the width of a one-hidden-layer net, through the interpolation threshold,
for SGD and for the Bayesian posterior of the same finite network (exact, by rejection
sampling of the prior) and of its infinite-width limit (NNGP + EP).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from occam import data
from occam.sgd_bayes.arch import FCNArch
from occam.sgd_bayes.compare import function_errors
from occam.sgd_bayes.config import SgdBayesConfig
from occam.sgd_bayes.exact import sample_functions
from occam.sgd_bayes.pb import predictive_error
from occam.sgd_bayes.problems import Problem, boolean_split, make_problem
from occam.sgd_bayes.psgd import sample_sgd
from occam.sgd_bayes.settings import train_spec
from occam.study import RunContext


def sweep_problem(cfg: SgdBayesConfig, seed: int) -> tuple[Problem, Any]:
    """The double-descent problem and, for Boolean data, all 128 inputs (for rejection)."""
    if cfg.dd_problem == "boolean":
        n = cfg.dd_n_train
        base = make_problem(
            "boolean",
            n_train=n,
            n_test=128 - n,
            seed=seed,
            widths=(1,),
            sigma_w=cfg.boolean_sigma,
            sigma_b=cfg.boolean_sigma,
        )
        # label noise on S (the classic double-descent setting); E keeps the clean labels
        y = base.y_train.clone()
        y[: cfg.dd_label_noise] = 1 - y[: cfg.dd_label_noise]
        return dataclasses.replace(base, y_train=y), data.boolean_inputs(7).astype(np.float32)
    base = make_problem(
        "digits",
        n_train=cfg.n_train,
        n_test=cfg.dd_n_test,
        seed=seed,
        widths=(1,),
        sigma_w=cfg.sigma_w,
        sigma_b=cfg.sigma_b,
    )
    return base, None


def weighted_mean_se(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Mean of ``values`` with integer multiplicities ``weights``, and its standard error."""
    n = float(weights.sum())
    mean = float(values @ weights / n)
    var = float(((values - mean) ** 2) @ weights / max(n - 1, 1))
    return mean, math.sqrt(var / n)


def width_sweep(cfg: SgdBayesConfig, ctx: RunContext) -> tuple[list[dict[str, Any]], Problem]:
    """Test error against width through the interpolation threshold: SGD against the Bayesian
    sampler, at finite width by exact rejection sampling and at infinite width by the NNGP.

    One hidden layer of each width in ``cfg.dd_widths``. On the Boolean problem (default:
    |S| = ``dd_n_train`` inputs of the 128, ``dd_label_noise`` of their labels flipped, E = the
    other inputs with clean labels) P_B at finite width is exact: ``dd_prior_samples`` random
    nets of that width on all 128 inputs, kept when they fit S; its test error is the mean over
    the kept nets. On digits rejection is hopeless (P(fit S) ~ 0 at |S| = 100), so only SGD and
    the NNGP limit are shown. The NNGP value is the expected error of a posterior sample (EP).
    Returns one row per width, then the NNGP row, and the problem.
    """
    dd_seed = ctx.seed_for("double-descent S")
    base, X_all = sweep_problem(cfg, dd_seed)
    if X_all is not None:  # the indices of S and E among the 128 inputs, for rejection
        s_idx, e_idx = boolean_split(128, len(base.X_train), len(base.X_test), dd_seed)
    y_test = base.y_test.numpy()
    sw, sb = (
        (cfg.boolean_sigma, cfg.boolean_sigma)
        if cfg.dd_problem == "boolean"
        else (cfg.sigma_w, cfg.sigma_b)
    )
    d = base.X_train.shape[1]
    rows: list[dict[str, Any]] = []
    for width in ctx.progress(cfg.dd_widths, "double descent widths", total=len(cfg.dd_widths)):
        arch = FCNArch(d, (width,), sw, sb)
        spec = dataclasses.replace(train_spec(cfg, base, None), max_epochs=cfg.dd_max_epochs)
        counts = sample_sgd(cfg, base, spec, cfg.dd_runs, ctx, f"dd-w{width}", arch=arch)
        if ctx.sampling_only:  # a slice of a batch run: the sampling jobs only
            continue
        errs = function_errors(list(counts.counts), y_test) if counts.counts else np.array([])
        hits = np.array(list(counts.counts.values()), dtype=float)
        row: dict[str, Any] = {
            "width": width,
            "n_runs": counts.n_runs,
            "fraction_fitted": counts.n_fitted / max(counts.n_runs, 1),
            "sgd_test_error": None,
            "sgd_test_error_se": None,
            "pb_test_error": None,
            "pb_test_error_se": None,
            "pb_accepted": 0,
        }
        if hits.size:
            row["sgd_test_error"], row["sgd_test_error_se"] = weighted_mean_se(errs, hits)
        if X_all is not None and cfg.dd_prior_samples > 0:
            prior = sample_functions(
                arch,
                X_all,
                cfg.dd_prior_samples,
                seed=ctx.seed_for(f"double-descent prior w{width}"),
                device=ctx.device,
            )
            post = prior.condition(s_idx, base.y_train.numpy(), e_idx)
            if post.n_samples:
                wrong = (post.bits().numpy() != y_test.astype(bool)).mean(axis=1)
                row["pb_test_error"], row["pb_test_error_se"] = weighted_mean_se(
                    wrong, post.counts.numpy().astype(float)
                )
            row["pb_accepted"] = post.n_samples
            row["pb_prior_samples"] = prior.n_samples
        rows.append(row)
    if ctx.sampling_only:
        return rows, base

    K = FCNArch(d, (1,), sw, sb).nngp(torch.cat([base.X_train, base.X_test]).double())
    gp_err = predictive_error(K, base.y_train.double() * 2 - 1, base.y_test.double() * 2 - 1)
    rows.append(
        {
            "width": "inf (NNGP)",
            "n_runs": 0,
            "fraction_fitted": 1.0,
            "sgd_test_error": None,
            "pb_test_error": gp_err,
            "gp_test_error": gp_err,
        }
    )
    return rows, base
