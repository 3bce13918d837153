"""deep-cheap: how cheap and deep networks build polynomials (LTR 2017; RT 2018).

The run follows the papers: (1) the multiplication, squaring and copy gates and their O(λ²)
error (LTR eq. 11, Fig. 2); (2) a polynomial compiler built from them (LTR Corollary, RT
Thm II.1); (3) depth separation for x1⋯xn, constructive (LTR App. A, RT eq. 10) and trained
(RT Fig. 2); (4) the Hamiltonian/softmax classifier (LTR eq. 8, 14).

References:
    Lin, Tegmark & Rolnick, "Why does deep and cheap learning work so well?", J. Stat. Phys.
    168 (2017), arXiv:1608.08225. Rolnick & Tegmark, "The power of deeper networks for
    expressing natural functions", ICLR 2018, arXiv:1705.05502.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure  # no pyplot: figures need no backend
from matplotlib.ticker import FuncFormatter, NullLocator

from occam.claims import Claim, ClaimSpec
from occam.deep_cheap import depth as dp
from occam.deep_cheap import gates as gt
from occam.deep_cheap import hamiltonian as hm
from occam.deep_cheap import polynomial as pl
from occam.study import RunContext, Study, StudyResult

BRIEF_EXAMPLE = "3*x1*x2*x3*x4 - 2*x1**2*x3 + x2**3 + 0.5*x4 - 1"
FIXED_SUITE: tuple[str, ...] = (
    BRIEF_EXAMPLE,
    "x1*x2",
    "x1**2",
    "x1**8",
    "x1*x2*x3*x4*x5*x6*x7*x8",
    "x1**4 - 6*x1**2 + 3",
    "x1**3*x2**2*x3 - x2*x3**4 + 2*x1 - 0.25",
    "0.5*x1**2*x2**2*x3**2*x4**2 + x1*x4 - x2*x3",
)


@dataclass(frozen=True)
class DeepCheapConfig:
    """The papers' knobs (``full`` uses RT's n = 20 for the trained experiment).

    Input distribution of the trained experiment: the default is RT's x ~ U[0, 2]. Then
    ∏x_i = ∏(1 + t_i), t_i ~ U[−1, 1], contains every monomial of the t_i with weight 1,
    so the high-degree terms that separate shallow from deep nets carry real variance; at
    n = 8 (``quick``) shallow nets plateau near 30% relative L1 error while depth ≥ 2
    reaches 10%. U[0.5, 1.5] (the brief's suggestion) keeps the product O(1) but makes it
    nearly linear, 1 + Σ t_i + …, and the depth effect much weaker at n = 8. At n = 20,
    however, U[0, 2] gives a product with standard deviation 18 times its mean: in a
    2000-step probe no net of depth 1–4 and width ≤ 128 got below 83% error. ``full``
    therefore uses U[0.5, 1.5] (probe: depth 1 plateaus at 14%, depth ≥ 2 reaches 8–9%)
    with threshold 0.1; it takes hours on a CPU.
    """

    activation: str = "softplus"  # smooth σ of the constructions: softplus/silu/gelu/tanh/logistic
    dtype: Literal["float64", "float32"] = "float64"  # of compiler and Hamiltonian networks
    # (1) gates: LTR eq. 11, Fig. 2
    gate_lams: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.01)  # the brief's table
    gate_scan: int = 33  # λ values, log-spaced on [1e-4, 1], for the slope and float32 optimum
    gate_grid: int = 201  # grid points per axis of [−1,1]²
    slope_lam_min: float = 1e-3  # fit range of the O(λ²) slope (float64, before round-off)
    slope_lam_max: float = 0.1
    # (2) compiler: LTR Corollary, RT Thm II.1
    poly_random: int = 12  # random sparse polynomials added to the fixed suite
    poly_max_vars: int = 6
    poly_max_terms: int = 5
    poly_max_degree: int = 6
    poly_points: int = 20000  # random test points in [−1,1]^n (plus all corners)
    # (3a) depth, constructive: LTR App. A, RT eq. 10
    depth_n_max: int = 16
    depth_lam: float = 0.1
    shallow_bias: float = 1.0  # softplus needs σ^(k)(b) ≠ 0 for k ≤ n: b = 1 (brief B.6)
    shallow_eval_max_n: int = 14  # evaluate the 2^n-wide net only up to this n
    depth_points: int = 512  # random test points (plus up to 256 corners)
    # (3b) depth, trained: RT §III A, Fig. 2
    train_n: int = 8
    train_depths: tuple[int, ...] = (1, 2, 3, 4)
    train_widths: tuple[int, ...] = (8, 16, 32, 64)
    train_steps: int = 2000
    train_batch: int = 256
    train_lr: float = 1e-2
    train_optimizer: Literal["adam", "adadelta"] = "adam"  # RT used AdaDelta
    train_seeds: int = 1  # restarts per (depth, width); the best one counts
    train_low: float = 0.0  # x ~ U[low, high]; RT: U[0, 2]
    train_high: float = 2.0
    train_test: int = 8192
    error_threshold: float = 0.2  # relative L1 error defining "reaches"
    # (4) Hamiltonian/softmax: LTR eq. 8, 14
    ham_classes: int = 3
    ham_dims: int = 2
    ham_train: int = 2000  # samples for the logistic regression
    ham_test: int = 20000  # held-out samples


PROFILES: dict[str, DeepCheapConfig] = {
    "smoke": DeepCheapConfig(
        gate_scan=13,
        gate_grid=41,
        poly_random=3,
        poly_points=2000,
        depth_n_max=8,
        shallow_eval_max_n=8,
        depth_points=256,
        train_n=4,
        train_depths=(1, 2),
        train_widths=(4, 8),
        train_steps=20,
        train_batch=64,
        train_test=1024,
        ham_train=500,
        ham_test=2000,
    ),
    "quick": DeepCheapConfig(),
    "full": DeepCheapConfig(
        gate_scan=61,
        poly_random=40,
        poly_points=100_000,
        shallow_eval_max_n=16,
        depth_points=4096,
        train_n=20,
        train_depths=(1, 2, 3, 4, 5),
        train_widths=(16, 32, 64, 128, 256, 512),
        train_steps=20_000,
        train_seeds=3,
        train_lr=3e-3,
        train_test=65536,
        train_low=0.5,  # see DeepCheapConfig: U[0,2] at n = 20 is too heavy-tailed to learn
        train_high=1.5,
        error_threshold=0.1,
        ham_dims=4,
        ham_train=20_000,
        ham_test=200_000,
    ),
}

# --------------------------------------------------------------------------------------
# Claims (fixed before the run)
# --------------------------------------------------------------------------------------

GATE_LAMBDA2 = ClaimSpec(
    id="dc.gate_lambda2",
    statement="The 4-neuron multiplication gate's max error on [-1,1]^2 falls as O(lambda^2): "
    "the fitted log-log slope (float64, before round-off) is 2 +/- 0.2.",
    source="LTR eq. 11, Fig. 2 (brief B.3)",
    comparator="between",
    threshold=(1.8, 2.2),
    paper_value="uv[1 + O(u^2+v^2)], exact as lambda -> 0",
)
GATE_PRACTICAL = ClaimSpec(
    id="dc.gate_practical",
    statement="A reasonably good product is reached already at 1/lambda = 10: max error on "
    "[-1,1]^2 at lambda = 0.1 is at most 1e-2.",
    source="LTR §II C.1",
    comparator="<=",
    threshold=1e-2,
    paper_value="reasonably good for 1/lambda ~ 10 (brief: 1.6e-3, softplus)",
)
GATE_FLOAT32 = ClaimSpec(
    id="dc.gate_float32_optimum",
    statement="In float32, round-off (~eps/lambda^2) meets truncation (~lambda^2): the best "
    "lambda of the product gate is interior, between 0.01 and 0.1.",
    source="brief B.3 (derived, not in the papers)",
    comparator="between",
    threshold=(0.01, 0.1),
    paper_value="~0.03 (brief, softplus)",
)
SQUARE_GATE = ClaimSpec(
    id="dc.square_gate",
    statement="The 3-neuron squaring gate (factor 1/sigma''(b)) computes x^2 + O(x^4): max "
    "error on [-1,1] at lambda = 0.1 is at most 1e-3.",
    source="RT Prop. II.6 proof (factor corrected, brief B.4)",
    comparator="<=",
    threshold=1e-3,
    paper_value="4.2e-4 (brief, softplus)",
)
COMPILER_ERROR = ClaimSpec(
    id="dc.compiler_error",
    statement="Compiled gate networks approximate every polynomial of the suite (fixed and "
    "random sparse) to max error <= 1e-3 on [-1,1]^n at the automatically chosen lambda.",
    source="LTR Corollary (§II C)",
    comparator="<=",
    threshold=1e-3,
    paper_value="any tolerance with a network of fixed size",
)
COMPILER_SIZE = ClaimSpec(
    id="dc.compiler_size",
    statement="The network size is about 4 neurons per multiplication: at most 5 neurons per "
    "multiplication over the suite (copy gates add the excess).",
    source="LTR Corollary (§II C)",
    comparator="<=",
    threshold=5.0,
    paper_value="the number of multiplications times a factor slightly larger than 4",
)
RT_MONOMIAL = ClaimSpec(
    id="dc.rt_monomial_bound",
    statement="With squaring gates and shared sub-products, every monomial of the suite uses "
    "at most sum_i (7 ceil(log2 r_i) + 4) neurons (max ratio to the bound <= 1).",
    source="RT Thm II.1",
    comparator="<=",
    threshold=1.0,
    paper_value="m(p) <= sum_i (7 ceil(log2 r_i) + 4)",
)
TREE_ACCURACY = ClaimSpec(
    id="dc.tree_accuracy",
    statement="The deep binary tree multiplies n_max = 16 inputs with 4(n-1) = 60 neurons to "
    "max error <= 0.05 at lambda = 0.1, where one hidden layer needs 2^16 = 65536.",
    source="LTR §III H, App. A",
    comparator="<=",
    threshold=0.05,
    paper_value="4n neurons deep vs 2^n shallow (32 inputs: 160 vs 4,294,967,296)",
)
DEPTH_SEPARATION = ClaimSpec(
    id="dc.depth_separation",
    statement="Trained tanh nets: the minimal width reaching the error threshold is smaller "
    "at the deepest depth than at depth 1, by at least one width step (a doubling); "
    "measured = steps between them (depth 1 never reaching counts as one step past the "
    "widest, a lower bound).",
    source="RT §III A, Fig. 2",
    comparator=">=",
    threshold=1.0,
    paper_value="width falls from exponential (k=1) to near-linear as depth grows",
)
HAMILTONIAN_KL = ClaimSpec(
    id="dc.hamiltonian_kl",
    statement="The gate network computing the quadratic Hamiltonians, with ln p(y) as softmax "
    "bias, equals the Bayes posterior: mean KL(Bayes || network) <= 1e-4 nats on held-out data.",
    source="LTR eq. 8, 14",
    comparator="<=",
    threshold=1e-4,
    unit="nats",
    paper_value="p(y|x) = softmax(-H_y(x) - mu_y) exactly",
)
HAMILTONIAN_ARGMAX = ClaimSpec(
    id="dc.hamiltonian_argmax",
    statement="Its decisions are the Bayes classifier's: argmax agreement >= 0.999 on held-out "
    "data.",
    source="LTR eq. 8, 14",
    comparator=">=",
    threshold=0.999,
    paper_value="the Bayes classifier (argmax of the exact posterior)",
)
LOGISTIC_WORSE = ClaimSpec(
    id="dc.logistic_worse",
    statement="A logistic regression on the raw inputs (affine logits) cannot represent unequal "
    "covariances: its mean KL to the Bayes posterior is >= 1e-3 nats, 10x the Hamiltonian "
    "network's tolerance.",
    source="LTR eq. 14 (quadratic Hamiltonians; affine only for shared covariance)",
    comparator=">=",
    threshold=1e-3,
    unit="nats",
    paper_value="quadratic logits (QDA); affine only with a shared covariance (LDA)",
)

CLAIMS: tuple[ClaimSpec, ...] = (
    GATE_LAMBDA2,
    GATE_PRACTICAL,
    GATE_FLOAT32,
    SQUARE_GATE,
    COMPILER_ERROR,
    COMPILER_SIZE,
    RT_MONOMIAL,
    TREE_ACCURACY,
    DEPTH_SEPARATION,
    HAMILTONIAN_KL,
    HAMILTONIAN_ARGMAX,
    LOGISTIC_WORSE,
)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def random_polynomial(
    generator: torch.Generator, max_vars: int, max_terms: int, max_degree: int
) -> str:
    """A random sparse polynomial string: 2..max_vars variables, 1..max_terms monomials."""

    def randint(lo: int, hi: int) -> int:  # inclusive
        return int(torch.randint(lo, hi + 1, (1,), generator=generator))

    n = randint(2, max_vars)
    parts = []
    for _ in range(randint(1, max_terms)):
        degree = randint(1, max_degree)
        factors = sorted(randint(1, n) for _ in range(degree))
        coeff = round(float(torch.rand(1, generator=generator)) * 4.0 - 2.0, 2) or 1.0
        monomial = "*".join(f"x{i}" for i in factors)
        parts.append(f"{coeff}*{monomial}")
    if float(torch.rand(1, generator=generator)) < 0.5:
        parts.append(f"{round(float(torch.rand(1, generator=generator)) * 2 - 1, 2)}")
    return " + ".join(parts).replace("+ -", "- ")


def _multiplications(terms: list[pl.Term]) -> int:
    return sum(max(sum(e) - 1, 0) for e, _ in terms)


def _depth_points(n: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` uniform points of [−1,1]^n plus min(2^n, 256) corners (the worst case)."""
    x = torch.rand(count, n, generator=generator, dtype=torch.float64) * 2.0 - 1.0
    if 2**n <= 256:
        corners = torch.cartesian_prod(*[torch.tensor([-1.0, 1.0], dtype=torch.float64)] * n)
    else:
        corners = torch.randint(0, 2, (256, n), generator=generator).double() * 2.0 - 1.0
    return torch.cat([x, corners.reshape(-1, n)])


def _max_err(net: torch.nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float((net(x).double() - x.prod(dim=1)).abs().max())


def _dtype(name: str) -> torch.dtype:
    return torch.float64 if name == "float64" else torch.float32


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def run(config: DeepCheapConfig, ctx: RunContext) -> StudyResult:
    """Gates → compiler → depth separation (constructive, trained) → Hamiltonian."""
    metrics: dict[str, Any] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    timings: dict[str, float] = {}
    claims: list[Claim] = []
    act = gt.get_activation(config.activation).name

    # ---- (1) Gates: LTR eq. 11, Fig. 2 --------------------------------------------
    t0 = time.perf_counter()
    biases = {name: gt.gate_bias(name) for name in gt.ACTIVATIONS}
    metrics["gate_bias"] = biases
    metrics["copy_bias"] = {name: gt.copy_bias(name) for name in gt.ACTIVATIONS}
    rows: list[dict[str, Any]] = []
    for name in gt.ACTIVATIONS:
        b = biases[name]
        s2 = gt.derivatives(name, b, 2)[2]
        for lam in config.gate_lams:
            err = gt.gate_error("product", name, lam, torch.float64, config.gate_grid)
            trunc, rnd = gt.predicted_gate_error(name, lam, torch.float64)
            rows.append(
                {
                    "activation": name,
                    "dtype": "float64",
                    "lam": lam,
                    "bias_b": b,
                    "sigma2_b": s2,
                    "max_error": err,
                    "predicted": trunc + rnd,
                }
            )
    scan = np.logspace(-4, 0, config.gate_scan)
    err64 = np.array(
        [gt.gate_error("product", act, lam, torch.float64, config.gate_grid) for lam in scan]
    )
    err32 = np.array(
        [gt.gate_error("product", act, lam, torch.float32, config.gate_grid) for lam in scan]
    )
    for lam, e32 in zip(scan, err32, strict=True):
        trunc, rnd = gt.predicted_gate_error(act, float(lam), torch.float32)
        rows.append(
            {
                "activation": act,
                "dtype": "float32",
                "lam": float(lam),
                "bias_b": biases[act],
                "sigma2_b": gt.derivatives(act, biases[act], 2)[2],
                "max_error": float(e32),
                "predicted": trunc + rnd,
            }
        )
    tables["gate_error_vs_lambda"] = rows
    in_range = (scan >= config.slope_lam_min * 0.999) & (scan <= config.slope_lam_max * 1.001)
    slope = gt.fit_loglog_slope(scan[in_range], err64[in_range])
    square_slope = gt.fit_loglog_slope(
        scan[in_range],
        [
            gt.gate_error("square", act, float(lam), points=config.gate_grid)
            for lam in scan[in_range]
        ],
    )
    opt32 = float(scan[int(np.argmin(err32))])
    err_at_01 = gt.gate_error("product", act, 0.1, torch.float64, config.gate_grid)
    square_01 = gt.gate_error("square", act, 0.1, points=config.gate_grid)
    metrics["gates"] = {
        "activation": act,
        "slope_float64": slope,
        "square_slope_float64": square_slope,
        "error_lam_0.1": err_at_01,
        "square_error_lam_0.1": square_01,
        "copy_error_lam_0.1": gt.gate_error("copy", act, 0.1, points=config.gate_grid),
        "copy_error_lam_0.01": gt.gate_error("copy", act, 0.01, points=config.gate_grid),
        "float32_optimum_lam": opt32,
        "float32_optimum_error": float(err32.min()),
        "float32_predicted_optimum_lam": gt.predicted_optimal_lambda(act, torch.float32),
        "reference_float64": {
            str(r["lam"]): r["max_error"]
            for r in rows
            if r["activation"] == act and r["dtype"] == "float64"
        },
    }
    claims.append(
        GATE_LAMBDA2.evaluate(
            slope, f"{act}, fit over lambda in [{config.slope_lam_min:g}, {config.slope_lam_max:g}]"
        )
    )
    claims.append(GATE_PRACTICAL.evaluate(err_at_01, act))
    claims.append(
        GATE_FLOAT32.evaluate(
            opt32,
            f"{act}: error {err32.min():.2g} at the optimum; "
            f"predicted optimum {metrics['gates']['float32_predicted_optimum_lam']:.3g}",
        )
    )
    claims.append(SQUARE_GATE.evaluate(square_01, f"{act}, slope {square_slope:.2f}"))
    _figure_gates(ctx, act, scan, err64, err32, rows)
    timings["gates"] = time.perf_counter() - t0

    # ---- (2) Polynomial compiler: LTR Corollary, RT Thm II.1 -----------------------
    t0 = time.perf_counter()
    dtype = _dtype(config.dtype)
    g = ctx.generator(1)
    suite = list(FIXED_SUITE) + [
        random_polynomial(g, config.poly_max_vars, config.poly_max_terms, config.poly_max_degree)
        for _ in range(config.poly_random)
    ]
    rows = []
    for i, expr in enumerate(ctx.progress(suite, "compiler suite")):
        net = pl.compile_polynomial(expr, act, dtype=dtype)
        net_sq = pl.compile_polynomial(expr, act, squaring=True, dtype=dtype)
        x = pl.cube_points(net.n_vars, config.poly_points, g)
        mults = _multiplications(net.terms[0])
        ratios = [
            pl.count_neurons([(e, 1.0)], net.n_vars, squaring=True) / pl.rt_monomial_bound(e)
            for e, _ in net.terms[0]
            if sum(e) > 0
        ]
        rows.append(
            {
                "id": i,
                "polynomial": expr,
                "n_vars": net.n_vars,
                "degree": max((sum(e) for e, _ in net.terms[0]), default=0),
                "terms": len(net.terms[0]),
                "multiplications": mults,
                "neurons": net.neuron_count,
                "neurons_squaring": net_sq.neuron_count,
                "depth": net.depth,
                "lam": net.lam,
                "max_error": pl.polynomial_error(net, x),
                "predicted_error": net.predicted_error,
                "max_error_squaring": pl.polynomial_error(net_sq, x),
                "neurons_per_multiplication": net.neuron_count / mults if mults else None,
                "max_rt_ratio": max(ratios, default=0.0),
            }
        )
    tables["polynomial_suite"] = rows
    example = {}
    xe = pl.cube_points(4, config.poly_points, ctx.generator(2))
    for lam in (0.1, 0.03):
        net = pl.compile_polynomial(BRIEF_EXAMPLE, act, lam, dtype=dtype)
        example[f"error_lam_{lam}"] = pl.polynomial_error(net, xe)
    example["neurons"] = rows[0]["neurons"]
    example["neurons_squaring"] = rows[0]["neurons_squaring"]
    example["error_auto_lam"] = rows[0]["max_error"]
    example["auto_lam"] = rows[0]["lam"]
    worst = max(max(r["max_error"], r["max_error_squaring"]) for r in rows)
    per_mult = max((r["neurons_per_multiplication"] or 0.0) for r in rows)
    rt_ratio = max(r["max_rt_ratio"] for r in rows)
    metrics["compiler"] = {
        "suite_size": len(rows),
        "max_error": worst,
        "max_neurons_per_multiplication": per_mult,
        "max_rt_bound_ratio": rt_ratio,
        "brief_example": example,
    }
    claims.append(COMPILER_ERROR.evaluate(worst, f"{len(rows)} polynomials, both gate schemes"))
    claims.append(COMPILER_SIZE.evaluate(per_mult, f"brief example: {example['neurons']} neurons"))
    claims.append(RT_MONOMIAL.evaluate(rt_ratio))
    timings["compiler"] = time.perf_counter() - t0

    # ---- (3a) Depth separation, constructive: LTR App. A, RT eq. 10 ----------------
    t0 = time.perf_counter()
    g = ctx.generator(3)
    rows = []
    for n in ctx.progress(range(2, config.depth_n_max + 1), "depth constructions"):
        x = _depth_points(n, config.depth_points, g)
        k2, k3 = dp.rt_layer_groups(n, 2), dp.rt_layer_groups(n, 3)
        net2 = dp.LayeredProduct(k2, act, config.depth_lam, config.shallow_bias)
        net3 = dp.LayeredProduct(k3, act, config.depth_lam, config.shallow_bias)
        tree = pl.compile_polynomial(_product(n), act, config.depth_lam, skip=True)
        tree_copies = pl.compile_polynomial(_product(n), act, config.depth_lam)
        shallow_err = None
        if n <= config.shallow_eval_max_n:
            shallow_err = _max_err(
                dp.shallow_product(n, act, config.depth_lam, config.shallow_bias), x
            )
        rows.append(
            {
                "n": n,
                "shallow_neurons": 2**n,
                "shallow_lower_bound": math.comb(n, n // 2),
                "k2_neurons": net2.neuron_count,
                "k2_groups": str(k2),
                "k3_neurons": net3.neuron_count,
                "k3_groups": str(k3),
                "tree_neurons": tree.neuron_count,
                "tree_depth": tree.depth,
                "tree_neurons_with_copies": tree_copies.neuron_count,
                "shallow_error": shallow_err,
                "k2_error": _max_err(net2, x),
                "k3_error": _max_err(net3, x),
                "tree_error": _max_err(tree, x),
                "shallow_predicted_error": _shallow_prediction(act, n, config),
            }
        )
    tables["depth_counts"] = rows
    last = rows[-1]
    metrics["depth_constructive"] = {
        "n_max": last["n"],
        "shallow_neurons": last["shallow_neurons"],
        "tree_neurons": last["tree_neurons"],
        "k2_neurons": last["k2_neurons"],
        "k3_neurons": last["k3_neurons"],
        "tree_error": last["tree_error"],
        "shallow_error": {str(r["n"]): r["shallow_error"] for r in rows},
        "counts_match_formulas": all(
            r["shallow_neurons"] == 2 ** r["n"] and r["tree_neurons"] == 4 * (r["n"] - 1)
            for r in rows
        ),
    }
    claims.append(
        TREE_ACCURACY.evaluate(
            last["tree_error"],
            f"n = {last['n']}: tree {last['tree_neurons']} neurons, "
            f"shallow {last['shallow_neurons']}",
        )
    )
    _figure_neurons(ctx, rows)
    timings["depth_constructive"] = time.perf_counter() - t0

    # ---- (3b) Depth separation, trained: RT §III A, Fig. 2 -------------------------
    t0 = time.perf_counter()
    g = ctx.generator(4)
    test_x, test_y = dp.sample_product(
        config.train_test, config.train_n, config.train_low, config.train_high, g
    )
    results = []
    for k in ctx.progress(config.train_depths, "training nets per depth"):
        results.append(
            dp.train_product_nets(
                config.train_n,
                k,
                config.train_widths,
                steps=config.train_steps,
                batch=config.train_batch,
                lr=config.train_lr,
                seeds=config.train_seeds,
                low=config.train_low,
                high=config.train_high,
                optimizer=config.train_optimizer,
                test_x=test_x,
                test_y=test_y,
                generator=g,
            )
        )
    tables["trained_errors"] = [
        {
            "depth": r.depth,
            "width": w,
            "seed": s,
            "relative_error": float(r.errors[s, j]),
            "final_train_loss": float(r.final_loss[s, j]),
            "rt_curve_width": dp.rt_width_curve(config.train_n, r.depth),
        }
        for r in results
        for j, w in enumerate(r.widths)
        for s in range(r.errors.shape[0])
    ]
    minimal = dp.minimal_widths(results, config.error_threshold)
    tables["trained_minimal_widths"] = [
        {
            "depth": k,
            "minimal_width": w,
            "reached": w is not None,
            "lower_bound": None if w is not None else f"> {max(config.train_widths)}",
            "best_error_at_widest": float(r.errors.min(axis=0)[-1]),
            "rt_curve_width": dp.rt_width_curve(config.train_n, k),
        }
        for r, (k, w) in zip(results, minimal.items(), strict=True)
    ]
    steps_between, detail = _depth_separation_measure(minimal, config)
    reached = [w for w in minimal.values() if w is not None]
    metrics["depth_trained"] = {
        "n": config.train_n,
        "threshold": config.error_threshold,
        "minimal_width": {str(k): w for k, w in minimal.items()},
        "best_error": {str(r.depth): [float(e) for e in r.errors.min(axis=0)] for r in results},
        "widths": list(config.train_widths),
        "width_steps_saved_by_depth": steps_between,
        "monotone_non_increasing": _monotone(minimal, config.train_widths),
        "any_reached": bool(reached),
    }
    claims.append(DEPTH_SEPARATION.evaluate(steps_between, detail))
    _figure_trained(ctx, results, minimal, config)
    timings["depth_trained"] = time.perf_counter() - t0

    # ---- (4) Hamiltonian → softmax: LTR eq. 8, 14 ---------------------------------
    t0 = time.perf_counter()
    g = ctx.generator(5)
    model = hm.make_gaussian_classes(config.ham_classes, config.ham_dims, g)
    x_train, y_train = model.sample(config.ham_train, g)
    x_test, y_test = model.sample(config.ham_test, g)
    centre = x_train.mean(dim=0)
    scale = float((x_train - centre).abs().max())
    net_h = hm.HamiltonianNetwork(model, centre, scale, act, dtype=dtype)
    logistic = hm.fit_logistic_regression(x_train, y_train, config.ham_classes)
    with torch.no_grad():
        log_bayes = hm.bayes_log_posterior(model, x_test)
        log_net = net_h(x_test).double()
        log_logistic = torch.log_softmax(logistic(x_test), dim=1)
    kl_net = hm.mean_kl(log_bayes, log_net)
    kl_logistic = hm.mean_kl(log_bayes, log_logistic)
    bayes_pred = log_bayes.argmax(dim=1)
    agreement = float((log_net.argmax(dim=1) == bayes_pred).double().mean())
    acc = {
        name: float((lp.argmax(dim=1) == y_test).double().mean())
        for name, lp in (("bayes", log_bayes), ("network", log_net), ("logistic", log_logistic))
    }
    metrics["hamiltonian"] = {
        "classes": config.ham_classes,
        "dims": config.ham_dims,
        "neurons": net_h.neuron_count,
        "lam": net_h.hamiltonian.lam,
        "kl_network": kl_net,
        "kl_logistic": kl_logistic,
        "argmax_agreement": agreement,
        "logistic_agreement": float((log_logistic.argmax(dim=1) == bayes_pred).double().mean()),
        "accuracy": acc,
    }
    tables["hamiltonian"] = [
        {"model": name, "mean_kl_to_bayes": kl, "accuracy": acc[name], "neurons": neurons}
        for name, kl, neurons in (
            ("bayes", 0.0, None),
            ("network", kl_net, net_h.neuron_count),
            ("logistic", kl_logistic, 0),
        )
    ]
    claims.append(
        HAMILTONIAN_KL.evaluate(
            kl_net,
            f"{config.ham_classes} classes in {config.ham_dims} dims, {config.ham_test} samples",
        )
    )
    claims.append(
        HAMILTONIAN_ARGMAX.evaluate(
            agreement, f"accuracy {acc['network']:.4f} vs Bayes {acc['bayes']:.4f}"
        )
    )
    claims.append(
        LOGISTIC_WORSE.evaluate(
            kl_logistic, f"accuracy {acc['logistic']:.4f} vs Bayes {acc['bayes']:.4f}"
        )
    )
    _figure_hamiltonian(
        ctx, model, net_h, logistic, x_test, y_test, log_bayes, log_net, log_logistic
    )
    timings["hamiltonian"] = time.perf_counter() - t0

    return StudyResult(
        metrics=metrics,
        claims=claims,
        tables=tables,
        reading=_reading(metrics, config),
        timings=timings,
    )


def _product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(1, n + 1))


def _shallow_prediction(act: str, n: int, config: DeepCheapConfig) -> float:
    """Leading error of eq. A4 at the corners: λ² n |σ^(n+2)(b) / (6 σ^(n)(b))| (derived)."""
    c = gt.taylor_coefficients(act, config.shallow_bias, n + 2)
    ratio = c[n + 2] * math.factorial(n + 2) / (c[n] * math.factorial(n))
    return float(config.depth_lam**2 * n * abs(ratio) / 6.0)


def _depth_separation_measure(
    minimal: dict[int, int | None], config: DeepCheapConfig
) -> tuple[float | None, str]:
    """Width steps between depth 1 and the deepest depth (None: neither reaches)."""
    widths = sorted(config.train_widths)
    k1, kmax = min(minimal), max(minimal)
    w1, wk = minimal[k1], minimal[kmax]
    if w1 is None and wk is None:
        return None, (
            f"no width up to {widths[-1]} reaches relative error "
            f"{config.error_threshold:g} at depth {k1} or {kmax}"
        )
    i1 = widths.index(w1) if w1 is not None else len(widths)
    ik = widths.index(wk) if wk is not None else len(widths)
    w1_text = str(w1) if w1 is not None else f"> {widths[-1]} (lower bound)"
    wk_text = str(wk) if wk is not None else f"> {widths[-1]}"
    return float(i1 - ik), f"minimal width: depth {k1} {w1_text}, depth {kmax} {wk_text}"


def _monotone(minimal: dict[int, int | None], widths: tuple[int, ...]) -> bool:
    big = 2 * max(widths)
    values = [big if w is None else w for _, w in sorted(minimal.items())]
    return all(b <= a for a, b in zip(values, values[1:], strict=False))


# --------------------------------------------------------------------------------------
# Figures and reading
# --------------------------------------------------------------------------------------


def _plain_log(ax: Axes, which: str) -> None:
    """Plain '1e-4' tick labels, no minor ticks: mathtext labels make saving ~3x slower."""
    fmt = FuncFormatter(lambda v, _: f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e"))
    axes: dict[str, list[Any]] = {"x": [ax.xaxis], "y": [ax.yaxis], "both": [ax.xaxis, ax.yaxis]}
    for axis in axes[which]:
        axis.set_major_formatter(fmt)
        axis.set_minor_locator(NullLocator())


def _figure_gates(
    ctx: RunContext,
    act: str,
    scan: np.ndarray,
    err64: np.ndarray,
    err32: np.ndarray,
    rows: list[dict[str, Any]],
) -> None:
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    ax.loglog(scan, err64, "o-", ms=3, label=f"{act}, float64")
    ax.loglog(scan, err32, "s-", ms=3, label=f"{act}, float32")
    ref = err64[np.argmin(np.abs(scan - 0.1))]
    ax.loglog(scan, ref * (scan / 0.1) ** 2, "k--", lw=1, label="∝ λ²")
    pred32 = [gt.predicted_gate_error(act, float(s), torch.float32) for s in scan]
    ax.loglog(scan, [a + b for a, b in pred32], ":", color="C1", label="float32 model")
    for name in gt.ACTIVATIONS:
        if name == act:
            continue
        pts = [
            (r["lam"], r["max_error"])
            for r in rows
            if r["activation"] == name and r["dtype"] == "float64"
        ]
        ax.loglog(*zip(*pts, strict=True), "x", alpha=0.6, label=f"{name}, float64")
    ax.set_ylim(max(err64.min() * 0.3, 1e-14), 2.0)
    ax.set_xlabel("input scale λ")
    ax.set_ylabel("max |m(u,v) − uv| on [−1,1]²")
    _plain_log(ax, "both")
    ax.set_title("4-neuron multiplication gate (LTR eq. 11)")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "gate_error_vs_lambda")


def _figure_neurons(ctx: RunContext, rows: list[dict[str, Any]]) -> None:
    n = [r["n"] for r in rows]
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    ax.semilogy(n, [r["shallow_neurons"] for r in rows], "o-", label="1 hidden layer: 2ⁿ")
    ax.semilogy(
        n,
        [r["shallow_lower_bound"] for r in rows],
        ":",
        color="C0",
        label="RT lower bound C(n, ⌊n/2⌋)",
    )
    ax.semilogy(n, [r["k2_neurons"] for r in rows], "s-", label="2 hidden layers (RT eq. 10)")
    ax.semilogy(n, [r["k3_neurons"] for r in rows], "^-", label="3 hidden layers (RT eq. 10)")
    ax.semilogy(
        n, [r["tree_neurons"] for r in rows], "d-", label="binary tree, ⌈log₂ n⌉ layers: 4(n−1)"
    )
    ax.set_xlabel("number of inputs n")
    ax.set_ylabel("neurons to compute x1⋯xn")
    _plain_log(ax, "y")
    ax.set_title("Shallow vs deep product networks")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "neurons_vs_n")


def _figure_trained(
    ctx: RunContext,
    results: list[dp.TrainResult],
    minimal: dict[int, int | None],
    config: DeepCheapConfig,
) -> None:
    depths = [r.depth for r in results]
    widths = list(config.train_widths)
    grid = np.array([r.errors.min(axis=0) for r in results]).T  # (widths, depths)
    fig = Figure(figsize=(5.5, 4.2))
    ax = fig.subplots()
    im = ax.imshow(
        np.log10(grid),
        origin="lower",
        aspect="auto",
        cmap="viridis_r",
        extent=(depths[0] - 0.5, depths[-1] + 0.5, -0.5, len(widths) - 0.5),
    )
    fig.colorbar(im, ax=ax, label="log10 relative L1 error (best seed)")
    ks = np.linspace(depths[0], depths[-1], 100)
    curve = [dp.rt_width_curve(config.train_n, float(k)) for k in ks]  # type: ignore[arg-type]
    pos = np.interp(
        np.log2(curve), np.log2(widths), np.arange(len(widths)), left=-0.5, right=len(widths) - 0.5
    )
    ax.plot(ks, pos, "r-", lw=2, label="RT: n^((k−1)/k)·2^(n^(1/k))")
    reached = [(k, widths.index(w)) for k, w in minimal.items() if w is not None]
    missed = [(k, len(widths) - 0.6) for k, w in minimal.items() if w is None]
    style: dict[str, Any] = {"color": "w", "mec": "k", "ls": "none"}
    if reached:
        ax.plot(
            *zip(*reached, strict=True),
            marker="*",
            ms=14,
            **style,
            label=f"minimal width, error ≤ {config.error_threshold:g}",
        )
    if missed:
        ax.plot(
            *zip(*missed, strict=True),
            marker="^",
            ms=10,
            **style,
            label=f"not reached up to width {widths[-1]}",
        )
    ax.set_xticks(depths)
    ax.set_yticks(range(len(widths)), [str(w) for w in widths])
    ax.set_xlabel("hidden layers k")
    ax.set_ylabel("width per layer")
    ax.set_title(f"Learning x1⋯x{config.train_n} (RT Fig. 2)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    ctx.save_figure(fig, "trained_depth_width")


def _figure_hamiltonian(
    ctx: RunContext,
    model: hm.GaussianClasses,
    net: hm.HamiltonianNetwork,
    logistic: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    log_bayes: torch.Tensor,
    log_net: torch.Tensor,
    log_logistic: torch.Tensor,
) -> None:
    panels = 4 if model.dims == 2 else 1
    fig = Figure(figsize=(4 * panels, 3.8))
    axes = fig.subplots(1, panels, squeeze=False)
    shown = slice(0, 1500)
    if model.dims == 2:
        lo, hi = x.min(dim=0).values, x.max(dim=0).values
        g0, g1 = torch.meshgrid(
            torch.linspace(float(lo[0]), float(hi[0]), 120, dtype=torch.float64),
            torch.linspace(float(lo[1]), float(hi[1]), 120, dtype=torch.float64),
            indexing="xy",
        )
        grid = torch.stack([g0.reshape(-1), g1.reshape(-1)], dim=1)
        with torch.no_grad():
            regions = [hm.bayes_log_posterior(model, grid), net(grid), logistic(grid)]
        for ax, lp, title in zip(
            axes[0], regions, ("Bayes (exact)", "gate network", "logistic regression"), strict=False
        ):
            ax.contourf(
                g0,
                g1,
                lp.argmax(dim=1).reshape(g0.shape).numpy(),
                levels=[-0.5, 0.5, 1.5, 2.5],
                alpha=0.3,
                cmap="brg",
            )
            ax.scatter(x[shown, 0], x[shown, 1], c=y[shown], s=2, cmap="brg", rasterized=True)
            ax.set_title(title)
    ax = axes[0, -1]
    pb = log_bayes.exp()[:, 0].numpy()
    ax.plot(
        pb[:3000],
        log_logistic.exp()[:3000, 0].numpy(),
        ".",
        ms=2,
        alpha=0.5,
        label="logistic",
        rasterized=True,
    )
    ax.plot(
        pb[:3000], log_net.exp()[:3000, 0].numpy(), ".", ms=2, label="gate network", rasterized=True
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set_xlabel("Bayes p(y=0|x)")
    ax.set_ylabel("model p(y=0|x)")
    ax.set_title("Posterior on held-out data")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "hamiltonian_posterior")


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
        f"(the brief's example: {cm['brief_example']['neurons']} neurons). Multiplying "
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
