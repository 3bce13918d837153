"""deep-cheap: how cheap and deep networks build polynomials (LTR 2017; RT 2018).

The run follows the papers: (1) the multiplication, squaring and copy gates and their O(λ²)
error (LTR eq. 11, Fig. 2); (2) a polynomial compiler built from them (LTR Corollary, RT
Thm II.1), and the shallow counts m₁(x^d) = d + 1 as Taylor matching (RT Prop. II.6);
(3) depth separation for x1⋯xn, constructive (LTR App. A, RT eq. 10) and trained (RT
Fig. 2: tanh and ReLU, minimal widths against RT Thm III.1's curve);
(4) the Hamiltonian/softmax classifier (LTR eq. 8, 14); (5) the bit-product
neuron for binary inputs (LTR eq. 13); and two questions the Alignment Newsletter raises:
(6) do trained nets multiply with the gates, and (7) where does the polynomial view stop
paying for functions that vanish far away.

Layers: :mod:`config` (knobs, profiles, claims) → :mod:`experiments` (numbers) →
:mod:`figures` (figures) → this module (the method, top to bottom, and :func:`judge`).

References:
    Lin, Tegmark & Rolnick, "Why does deep and cheap learning work so well?", J. Stat. Phys.
    168 (2017), arXiv:1608.08225. Rolnick & Tegmark, "The power of deeper networks for
    expressing natural functions", ICLR 2018, arXiv:1705.05502.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from occam.claims import Claim
from occam.deep_cheap import depth as dp
from occam.deep_cheap import experiments as ex
from occam.deep_cheap import figures as fg
from occam.deep_cheap import gates as gt
from occam.deep_cheap.cells import JsonCells, fingerprint
from occam.deep_cheap.config import (
    BIT_GATE,
    BUMP_COST,
    CLAIMS,
    COMPILER_ERROR,
    DEPTH_SEPARATION,
    DEPTH_SEPARATION_RELU,
    FIXED_SUITE,
    GATE_FLOAT32,
    GATE_LAMBDA2,
    GATE_PRACTICAL,
    HAMILTONIAN_KL,
    LOGISTIC_WORSE,
    POWER_SHALLOW,
    PROBE_NOT_GATE_LIKE,
    PROBE_SPECIFIC,
    PROFILES,
    RT_CURVE,
    SHALLOW_MONOMIAL,
    SQUARE_GATE,
    TAYLOR_FLOOR,
    TREE_ACCURACY,
    DeepCheapConfig,
)
from occam.deep_cheap.reading import reading
from occam.study import RunContext, Study, StudyResult

__all__ = ["STUDY", "DeepCheapConfig", "judge", "run"]


def run(config: DeepCheapConfig, ctx: RunContext) -> StudyResult:
    """Gates → compiler → depth separation (constructive, trained) → Hamiltonian.

    Each claim's measurement and its control run in every replicate r (sub-seeds
    ``ctx.generator(label, r)``); tables and figures show replicate 0.
    """
    act = gt.get_activation(config.activation).name
    reps = range(config.replicates)

    with ctx.timed("gates"):  # (1) LTR eq. 11, Fig. 2
        gates = ex.gate_errors(config, act)
        ctx.save_figure(fg.gates_figure(**gates.figure), "gate_error_vs_lambda")
        gate_reps = [ex.gate_replicate(config, act, ctx.generator("gates", r)) for r in reps]

    with ctx.timed("compiler"):  # (2) LTR Corollary, RT Thm II.1
        compiler = ex.compiler_suite(
            config, act, ctx.generator("compiler"), ctx.generator("example"), ctx.progress
        )
        practical = [ex.compiler_replicate(config, act, ctx.generator("compiler", r)) for r in reps]
        monomials = [
            ex.monomial_replicate(config, act, ctx.generator("monomials", r)) for r in reps
        ]

    with ctx.timed("shallow_taylor"):  # (2b) RT Prop. II.6: m1(x^d) = d + 1, Taylor matching
        powers = [ex.power_replicate(config, act, ctx.generator("powers", r)) for r in reps]
        taylor = [ex.taylor_replicate(config, ctx.generator("taylor", r)) for r in reps]
        multivariate = ex.taylor_multivariate(config, ctx.generator("taylor_multivariate"))
        ctx.save_figure(
            fg.taylor_figure(powers[0], taylor[0]["rows"], multivariate), "shallow_taylor_counts"
        )

    with ctx.timed("depth_constructive"):  # (3a) LTR App. A, RT eq. 10
        constructive = ex.depth_constructions(config, act, ctx.generator("depth"), ctx.progress)
        ctx.save_figure(fg.neurons_figure(**constructive.figure), "neurons_vs_n")
        trees = [ex.tree_replicate(config, act, ctx.generator("tree", r)) for r in reps]

    with ctx.timed("depth_trained"):  # (3b) RT §III A, Fig. 2; control: n = 2
        cells = JsonCells(ctx.checkpoint("trained_cells.json"), fingerprint(config, ctx.seed))
        trained = ex.trained_depth_width(
            config, _streams(ctx, "train"), cells, ctx.progress, device=ctx.device
        )
        trained_n2 = ex.trained_depth_width(
            config,
            _streams(ctx, "train_n2"),
            cells,
            ctx.progress,
            n=2,
            depths=(min(config.train_depths), max(config.train_depths)),
            device=ctx.device,
            grid="control",
        )
        figure = fg.trained_figure(
            trained[0].figure["results"], trained[0].figure["minimal"], config
        )
        ctx.save_figure(figure, "trained_depth_width")
        # RT: "Similar results were also obtained for rectified linear units"
        relu = ex.trained_depth_width(
            config,
            _streams(ctx, "train_relu"),
            cells,
            ctx.progress,
            depths=config.relu_depths,
            device=ctx.device,
            grid="relu",
            activation="relu",
        )
        relu_n2 = ex.trained_depth_width(
            config,
            _streams(ctx, "train_relu_n2"),
            cells,
            ctx.progress,
            n=2,
            depths=(min(config.relu_depths), max(config.relu_depths)),
            device=ctx.device,
            grid="relu_control",
            activation="relu",
        )
        ctx.save_figure(
            fg.trained_figure(relu[0].figure["results"], relu[0].figure["minimal"], config, "ReLU"),
            "trained_depth_width_relu",
        )
        # the RT-curve comparison's control: an additive target
        sums = ex.trained_depth_width(
            config,
            _streams(ctx, "train_sum"),
            cells,
            ctx.progress,
            depths=config.sum_depths,
            device=ctx.device,
            grid="sum",
            target="sum",
        )
        curves = {
            name: [
                ex.rt_curve_fit(t.figure["minimal"], config.train_n, config.train_widths)
                for t in runs
            ]
            for name, runs in (("product", trained), ("relu", relu), ("sum", sums))
        }
        ctx.save_figure(fg.rt_curve_figure(curves, config), "trained_widths_vs_rt_curve")
        inputs = (
            dp.product_distribution(
                config.train_n,
                config.train_low,
                config.train_high,
                1 << 18,
                ctx.generator("input_distribution"),
            )
            if config.train_low >= 0
            else None
        )

    with ctx.timed("hamiltonian"):  # (4) LTR eq. 8, 14
        ham = [
            ex.hamiltonian_classifier(config, act, ctx.generator("hamiltonian", r)) for r in reps
        ]
        ctx.save_figure(fg.hamiltonian_figure(**ham[0].figure), "hamiltonian_posterior")

    with ctx.timed("bits"):  # (5) LTR eq. 13: binary inputs
        bit_reps = [ex.bit_replicate(config, ctx.generator("bits", r)) for r in reps]
        scan = ex.bit_scan(config)
        ctx.save_figure(fg.bits_figure(**scan.figure), "bit_product_vs_beta")

    with ctx.timed("probe"):  # (6) open question: do trained nets use the gates?
        probe = ex.probe_experiment(config, act, _streams(ctx, "probe"))
        ctx.save_figure(fg.probe_figure(**probe.figure), "probe_gate_like")

    with ctx.timed("bumps"):  # (7) open question: functions that vanish far away
        bumps = ex.bump_experiment(config, act, _streams(ctx, "bumps"))
        ctx.save_figure(fg.bump_figure(bumps.figure["table"]), "bump_neurons_vs_radius")

    metrics = {
        k: v
        for s in (gates, compiler, constructive, trained[0], ham[0], scan, probe, bumps)
        for k, v in s.metrics.items()
    }
    metrics["bits"].update(n=config.bit_n, replicates=bit_reps)
    metrics["depth_trained"]["input_distribution"] = inputs
    metrics["depth_trained"]["relu_minimal_width"] = relu[0].metrics["depth_trained"][
        "minimal_width"
    ]
    metrics["rt_curve"] = {
        name: [{"slope": slope, "depths": rows} for slope, rows in fits]
        for name, fits in curves.items()
    }
    metrics["shallow_taylor"] = {
        "powers": powers[0][1],
        "taylor_powers": taylor[0]["rows"],
        "multivariate": multivariate,
    }
    metrics["replicates"] = {
        "gates": gate_reps,
        "compiler_practical": [m for m, _ in practical],
        "shallow_monomials": [m for m, _ in monomials],
        "tree": trees,
        "depth_trained": [_separation(t) for t in trained],
        "depth_trained_n2": [_separation(t) for t in trained_n2],
        "depth_trained_relu": [_separation(t) for t in relu],
        "depth_trained_relu_n2": [_separation(t) for t in relu_n2],
        "rt_curve_slope": [slope for slope, _ in curves["product"]],
        "rt_curve_slope_sum": [slope for slope, _ in curves["sum"]],
        "powers": [m for m, _ in powers],
        "taylor": [{k: v for k, v in t.items() if k != "rows"} for t in taylor],
        "hamiltonian": [h.metrics["hamiltonian"] for h in ham],
    }
    tables = {
        k: v
        for s in (gates, compiler, constructive, ham[0], scan, probe, bumps)
        for k, v in s.tables.items()
    }
    tables.update(_trained_tables(trained, trained_n2))
    tables.update({f"relu_{k}": v for k, v in _trained_tables(relu, relu_n2).items()})
    tables["sum_trained_errors"] = [
        {"replicate": r, **row} for r, t in enumerate(sums) for row in t.tables["trained_errors"]
    ]
    tables["rt_curve"] = [
        {"target": name, "replicate": r, "slope": slope, **row}
        for name, fits in curves.items()
        for r, (slope, rows) in enumerate(fits)
        for row in rows
    ]
    tables["shallow_powers"] = powers[0][1]
    tables["taylor_powers"] = taylor[0]["rows"]
    tables["taylor_multivariate"] = multivariate
    tables["compiler_practical"], tables["shallow_monomials"] = practical[0][1], monomials[0][1]
    claims = judge(metrics, config)
    return StudyResult(
        metrics=metrics, claims=claims, tables=tables, reading=reading(metrics, claims)
    )


def _streams(ctx: RunContext, label: str) -> Callable[[str, int], torch.Generator]:
    return lambda cell, replicate: ctx.generator(f"{label}/{cell}", replicate)


def _trained_tables(
    trained: list[ex.Measured], trained_n2: list[ex.Measured]
) -> dict[str, list[dict[str, Any]]]:
    """The trained grids of every replicate, claim (n = train_n) and control (n = 2)."""
    return {
        name: [
            {"replicate": r, "n": t.metrics["depth_trained"]["n"], **row}
            for r, runs in enumerate(zip(trained, trained_n2, strict=True))
            for t in runs
            for row in t.tables[name]
        ]
        for name in ("trained_errors", "trained_minimal_widths")
    }


def _separation(trained: ex.Measured) -> dict[str, Any]:
    m = trained.metrics["depth_trained"]
    return {
        "steps": m["width_steps_saved_by_depth"],
        "minimal_width": m["minimal_width"],
        "detail": trained.figure["detail"],
    }


def judge(m: dict[str, Any], config: DeepCheapConfig) -> list[Claim]:
    """Every claim of :data:`CLAIMS` with its control, judged in order from the replicates."""
    rep = m["replicates"]
    g, c, mono, tree = (
        rep["gates"],
        rep["compiler_practical"],
        rep["shallow_monomials"],
        rep["tree"],
    )
    ham = rep["hamiltonian"]
    act = m["gates"]["activation"]
    n_max = m["depth_constructive"]["n_max"]
    fit = f"{act}, fit over lambda in [{config.slope_lam_min:g}, {config.slope_lam_max:g}]"
    first, first_n2 = rep["depth_trained"][0], rep["depth_trained_n2"][0]

    def col(rows: list[dict[str, Any]], key: str) -> list[Any]:
        return [r[key] for r in rows]

    claims = [
        GATE_LAMBDA2.judge(col(g, "slope_float64"), col(g, "slope_float32"), fit, fit),
        GATE_PRACTICAL.judge(col(g, "error_practical"), col(g, "error_lam_1"), act, act),
        GATE_FLOAT32.judge(
            col(g, "optimum_float32"),
            col(g, "optimum_float64"),
            f"{act}: predicted float32 optimum {m['gates']['float32_predicted_optimum_lam']:.3g}",
        ),
        SQUARE_GATE.judge(col(g, "square_error"), col(g, "square_error_printed_factor"), act),
        COMPILER_ERROR.judge(
            col(c, "ratio"),
            col(c, "ratio_outside_cube"),
            f"{len(FIXED_SUITE) + config.poly_random} polynomials per replicate, lambda = 0.1",
        ),
        SHALLOW_MONOMIAL.judge(
            col(mono, "min_slope"),
            col(mono, "min_slope_one_fewer"),
            f"{config.mono_count} random monomials per replicate, bias b = {config.shallow_bias:g}",
        ),
        POWER_SHALLOW.judge(
            col(rep["powers"], "min_slope"),
            col(rep["powers"], "min_slope_d_neurons"),
            f"d in {list(config.taylor_powers)}, {act}, bias b = {config.shallow_bias:g}",
        ),
        TAYLOR_FLOOR.judge(
            col(rep["taylor"], "min_ratio"),
            col(rep["taylor"], "min_ratio_d_plus_1"),
            f"d in {list(config.taylor_powers)}, {config.taylor_restarts} restarts x "
            f"{config.taylor_steps} Adam steps",
        ),
        TREE_ACCURACY.judge(
            col(tree, "ratio"),
            col(tree, "ratio_one_layer"),
            f"n = {n_max}: {int(tree[0]['neurons'])} neurons, predicted error "
            f"{tree[0]['predicted']:.2g}; one hidden layer needs {2**n_max}",
        ),
        DEPTH_SEPARATION.judge(
            col(rep["depth_trained"], "steps"),
            col(rep["depth_trained_n2"], "steps"),
            f"n = {config.train_n}, replicate 0: {first['detail']}",
            f"n = 2, replicate 0: {first_n2['detail']}",
        ),
        DEPTH_SEPARATION_RELU.judge(
            col(rep["depth_trained_relu"], "steps"),
            col(rep["depth_trained_relu_n2"], "steps"),
            f"n = {config.train_n}, ReLU, replicate 0: {rep['depth_trained_relu'][0]['detail']}",
            f"n = 2, ReLU, replicate 0: {rep['depth_trained_relu_n2'][0]['detail']}",
        ),
        RT_CURVE.judge(
            rep["rt_curve_slope"],
            rep["rt_curve_slope_sum"],
            f"n = {config.train_n}, depths {list(config.train_depths)}, {config.train_activation}",
            f"x1 + ... + x{config.train_n}, depths {list(config.sum_depths)}",
        ),
        HAMILTONIAN_KL.judge(
            col(ham, "network_kl_units"),
            col(ham, "mixture_network_kl_units"),
            f"{config.ham_classes} classes in {config.ham_dims} dims, {config.ham_train} samples",
        ),
        LOGISTIC_WORSE.judge(
            col(ham, "logistic_kl_units"),
            col(ham, "shared_logistic_kl_units"),
            f"{config.ham_classes} classes in {config.ham_dims} dims, {config.ham_train} samples",
        ),
    ]
    pro, bmp, bit = m["probe"]["replicates"], m["bumps"]["replicates"], m["bits"]["replicates"]
    probe_detail = (
        f"{sum(r['fitted'] for r in pro)} of {sum(r['nets'] for r in pro)} product nets fitted; "
        f"depths {list(config.probe_depths)}, widths {list(config.probe_widths)}"
    )
    claims += [
        PROBE_NOT_GATE_LIKE.judge(
            col(pro, "gate_like_fraction"), col(pro, "compiled_fraction"), probe_detail
        ),
        PROBE_SPECIFIC.judge(
            col(pro, "control_target_fraction"), col(pro, "compiled_fraction"), probe_detail
        ),
        BUMP_COST.judge(
            col(bmp, "bump_ratio"),
            col(bmp, "control_ratio"),
            f"R = {m['bumps']['r_max']:g}, trained depth {config.bump_depth}, "
            f"widths {list(config.bump_widths)}",
        ),
        BIT_GATE.judge(
            col(bit, "error_units_derived"),
            col(bit, "error_units_printed"),
            f"n = {config.bit_n} bits, {config.bit_classes} classes, "
            f"{int(bit[0]['neurons'])} bit-product neurons, beta = {bit[0]['beta_derived']:.1f}",
            f"beta = {bit[0]['beta_printed']:.1f}",
        ),
    ]
    assert [claim.spec.id for claim in claims] == [spec.id for spec in CLAIMS]
    return claims


STUDY = Study(
    name="deep-cheap",
    title="Why deep and cheap learning works: gates, polynomials and depth",
    papers="Lin, Tegmark & Rolnick 2017; Rolnick & Tegmark 2018",
    config_cls=DeepCheapConfig,
    profiles=PROFILES,
    claims=CLAIMS,
    run=run,
)
