"""deep-cheap: how cheap and deep networks build polynomials (LTR 2017; RT 2018).

The run follows the papers: (1) the multiplication, squaring and copy gates and their O(λ²)
error (LTR eq. 11, Fig. 2); (2) a polynomial compiler built from them (LTR Corollary, RT
Thm II.1); (3) depth separation for x1⋯xn, constructive (LTR App. A, RT eq. 10) and trained
(RT Fig. 2); (4) the Hamiltonian/softmax classifier (LTR eq. 8, 14).

Layers: :mod:`config` (knobs, profiles, claims) → :mod:`experiments` (numbers) →
:mod:`figures` (figures) → this module (the method, top to bottom, and :func:`judge`).

References:
    Lin, Tegmark & Rolnick, "Why does deep and cheap learning work so well?", J. Stat. Phys.
    168 (2017), arXiv:1608.08225. Rolnick & Tegmark, "The power of deeper networks for
    expressing natural functions", ICLR 2018, arXiv:1705.05502.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from occam.claims import Claim
from occam.deep_cheap import experiments as ex
from occam.deep_cheap import figures as fg
from occam.deep_cheap import gates as gt
from occam.deep_cheap.config import (
    CLAIMS,
    COMPILER_ERROR,
    COMPILER_SIZE,
    DEPTH_SEPARATION,
    GATE_FLOAT32,
    GATE_LAMBDA2,
    GATE_PRACTICAL,
    HAMILTONIAN_ARGMAX,
    HAMILTONIAN_KL,
    LOGISTIC_WORSE,
    PROFILES,
    RT_MONOMIAL,
    SQUARE_GATE,
    TREE_ACCURACY,
    DeepCheapConfig,
)
from occam.study import RunContext, Study, StudyResult, config_to_dict

__all__ = ["STUDY", "DeepCheapConfig", "judge", "run"]


def run(config: DeepCheapConfig, ctx: RunContext) -> StudyResult:
    """Gates → compiler → depth separation (constructive, trained) → Hamiltonian."""
    act = gt.get_activation(config.activation).name

    with ctx.timed("gates"):  # (1) LTR eq. 11, Fig. 2
        gates = ex.gate_errors(config, act)
        ctx.save_figure(fg.gates_figure(**gates.figure), "gate_error_vs_lambda")

    with ctx.timed("compiler"):  # (2) LTR Corollary, RT Thm II.1
        compiler = ex.compiler_suite(
            config, act, ctx.generator("compiler"), ctx.generator("example"), ctx.progress
        )

    with ctx.timed("depth_constructive"):  # (3a) LTR App. A, RT eq. 10
        constructive = ex.depth_constructions(config, act, ctx.generator("depth"), ctx.progress)
        ctx.save_figure(fg.neurons_figure(**constructive.figure), "neurons_vs_n")

    with ctx.timed("depth_trained"):  # (3b) RT §III A, Fig. 2
        cells = JsonCells(ctx.checkpoint("trained_cells.json"), _fingerprint(config, ctx.seed))
        trained = ex.trained_depth_width(
            config, lambda label: ctx.generator(f"train/{label}"), cells, ctx.progress
        )
        figure = fg.trained_figure(trained.figure["results"], trained.figure["minimal"], config)
        ctx.save_figure(figure, "trained_depth_width")

    with ctx.timed("hamiltonian"):  # (4) LTR eq. 8, 14
        ham = ex.hamiltonian_classifier(config, act, ctx.generator("hamiltonian"))
        ctx.save_figure(fg.hamiltonian_figure(**ham.figure), "hamiltonian_posterior")

    stages = (gates, compiler, constructive, trained, ham)
    metrics = {k: v for s in stages for k, v in s.metrics.items()}
    tables = {k: v for s in stages for k, v in s.tables.items()}
    return StudyResult(
        metrics=metrics,
        claims=judge(metrics, config, trained.figure["detail"]),
        tables=tables,
        reading=_reading(metrics, config),
    )


class JsonCells:
    """Finished cells of the trained grid in a JSON file, rewritten atomically after each.

    The file records a fingerprint of the config and seed; a file written by another
    config is ignored (and overwritten), so a resumed run never mixes two grids.
    """

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path, self.fingerprint = path, fingerprint
        self.cells: dict[str, dict[str, Any]] = {}
        if path.is_file():
            try:
                saved = json.loads(path.read_text())
            except (OSError, ValueError):
                saved = {}
            if saved.get("fingerprint") == fingerprint:
                self.cells = dict(saved.get("cells", {}))

    def get(self, key: str) -> dict[str, Any] | None:
        return self.cells.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.cells[key] = value
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "cells": self.cells}))
        os.replace(tmp, self.path)


def _fingerprint(config: DeepCheapConfig, seed: int) -> str:
    text = json.dumps({"seed": seed, "config": config_to_dict(config)}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def judge(m: dict[str, Any], config: DeepCheapConfig, depth_detail: str) -> list[Claim]:
    """Every claim of :data:`CLAIMS`, judged in order from the run's metrics."""
    gm, cm, dc, dtr, hmt = (
        m["gates"],
        m["compiler"],
        m["depth_constructive"],
        m["depth_trained"],
        m["hamiltonian"],
    )
    act = gm["activation"]
    acc = hmt["accuracy"]
    claims = [
        GATE_LAMBDA2.evaluate(
            gm["slope_float64"],
            f"{act}, fit over lambda in [{config.slope_lam_min:g}, {config.slope_lam_max:g}]",
        ),
        GATE_PRACTICAL.evaluate(gm["error_lam_0.1"], act),
        GATE_FLOAT32.evaluate(
            gm["float32_optimum_lam"],
            f"{act}: error {gm['float32_optimum_error']:.2g} at the optimum; "
            f"predicted optimum {gm['float32_predicted_optimum_lam']:.3g}",
        ),
        SQUARE_GATE.evaluate(
            gm["square_error_lam_0.1"], f"{act}, slope {gm['square_slope_float64']:.2f}"
        ),
        COMPILER_ERROR.evaluate(
            cm["max_error"], f"{cm['suite_size']} polynomials, both gate schemes"
        ),
        COMPILER_SIZE.evaluate(
            cm["max_neurons_per_multiplication"],
            f"example polynomial: {cm['example_polynomial']['neurons']} neurons",
        ),
        RT_MONOMIAL.evaluate(cm["max_rt_bound_ratio"]),
        TREE_ACCURACY.evaluate(
            dc["tree_error"],
            f"n = {dc['n_max']}: tree {dc['tree_neurons']} neurons, "
            f"shallow {dc['shallow_neurons']}",
        ),
        DEPTH_SEPARATION.evaluate(dtr["width_steps_saved_by_depth"], depth_detail),
        HAMILTONIAN_KL.evaluate(
            hmt["kl_network"],
            f"{config.ham_classes} classes in {config.ham_dims} dims, {config.ham_test} samples",
        ),
        HAMILTONIAN_ARGMAX.evaluate(
            hmt["argmax_agreement"],
            f"accuracy {acc['network']:.4f} vs Bayes {acc['bayes']:.4f}",
        ),
        LOGISTIC_WORSE.evaluate(
            hmt["kl_logistic"], f"accuracy {acc['logistic']:.4f} vs Bayes {acc['bayes']:.4f}"
        ),
    ]
    assert [c.spec.id for c in claims] == [c.id for c in CLAIMS]
    return claims


def _reading(m: dict[str, Any], config: DeepCheapConfig) -> str:
    gm, cm, dc, dtr, hmt = (
        m["gates"],
        m["compiler"],
        m["depth_constructive"],
        m["depth_trained"],
        m["hamiltonian"],
    )
    widths = ", ".join(
        f"k={k}: {'>' + str(max(config.train_widths)) if w is None else w}"
        for k, w in dtr["minimal_width"].items()
    )
    return (
        f"The {gm['activation']} multiplication gate's error falls with slope "
        f"{gm['slope_float64']:.2f} in log-log (O(lambda^2)); at lambda = 0.1 it is "
        f"{gm['error_lam_0.1']:.2g}. In float32, round-off takes over below lambda ~ "
        f"{gm['float32_optimum_lam']:.2g}. The compiler turns each of {cm['suite_size']} "
        f"polynomials into a gate network with max error {cm['max_error']:.2g} on the cube "
        f"(the example polynomial: {cm['example_polynomial']['neurons']} neurons). Multiplying "
        f"n = {dc['n_max']} inputs takes {dc['shallow_neurons']} neurons in one hidden layer "
        f"but {dc['tree_neurons']} in a binary tree. Trained tanh nets on x1...x{dtr['n']} "
        f"reach relative error {dtr['threshold']:g} at minimal widths {widths} "
        f"(cf. the curve n^((k-1)/k) 2^(n^(1/k))). The gate network that computes the "
        f"Gaussian Hamiltonians reproduces the Bayes posterior (KL {hmt['kl_network']:.1e} "
        f"nats), while logistic regression is off by {hmt['kl_logistic']:.2g} nats."
    )


STUDY = Study(
    name="deep-cheap",
    title="Why deep and cheap learning works: gates, polynomials and depth",
    papers="Lin, Tegmark & Rolnick 2017; Rolnick & Tegmark 2018",
    config_cls=DeepCheapConfig,
    profiles=PROFILES,
    claims=CLAIMS,
    run=run,
)
