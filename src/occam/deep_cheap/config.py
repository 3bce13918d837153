"""deep-cheap configuration: the papers' knobs, the three profiles, and the claims.

The claims are fixed here, before any run; :func:`occam.deep_cheap.study.judge` decides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from occam.claims import ClaimSpec, Control
from occam.deep_cheap.gates import ACTIVATIONS
from occam.knobs import (
    Config,
    ConfigError,
    at_least,
    between,
    knob,
    non_empty,
    non_negative,
    one_of,
    open_unit,
    positive,
)

ACTIVATION_NAMES: tuple[str, ...] = (*ACTIVATIONS, "sigmoid", "swish")

EXAMPLE_POLYNOMIAL = "3*x1*x2*x3*x4 - 2*x1**2*x3 + x2**3 + 0.5*x4 - 1"
FIXED_SUITE: tuple[str, ...] = (
    EXAMPLE_POLYNOMIAL,
    "x1*x2",
    "x1**2",
    "x1**8",
    "x1*x2*x3*x4*x5*x6*x7*x8",
    "x1**4 - 6*x1**2 + 3",
    "x1**3*x2**2*x3 - x2*x3**4 + 2*x1 - 0.25",
    "0.5*x1**2*x2**2*x3**2*x4**2 + x1*x4 - x2*x3",
)

TAYLOR_SUITE: tuple[tuple[int, ...], ...] = ((1, 1), (2, 1), (1, 1, 1), (2, 2))
"""Multivariate monomials of the Taylor-matching probe: x1x2, x1²x2, x1x2x3, x1²x2²."""


@dataclass(frozen=True)
class DeepCheapConfig(Config):
    """The papers' knobs (``full`` uses RT's n = 20 for the trained experiment).

    Input distribution of the trained experiment: the default is RT's x ~ U[0, 2]. Then
    ∏x_i = ∏(1 + t_i), t_i ~ U[−1, 1], contains every monomial of the t_i with weight 1,
    so the high-degree terms that separate shallow from deep nets carry real variance; at
    n = 8 (``quick``) shallow nets plateau near 30% relative L1 error while depth ≥ 2
    reaches 10%. U[0.5, 1.5] keeps the product O(1) but makes it nearly linear,
    1 + Σ t_i + …, and the depth effect much weaker at n = 8 (measured: no depth reached a
    smaller width than depth 1). At n = 20, however, U[0, 2] gives a product with standard
    deviation 18 times its mean: in a 2000-step probe no net of depth 1–4 and width ≤ 128
    got below 83% error. What U[0, 2] does at n = 20 (:func:`depth.product_distribution`,
    2^21 draws): mean 1, standard deviation 17.7, median 0.003 (e^{−0.307 n}), 90% quantile
    0.52, 99% quantile 16; the top 1% of draws carry 71% of E y. L1 is minimised by the
    median, so the best constant (≈ 0) leaves relative L1 error 0.9995, and a relative
    error below 0.29 cannot be reached without fitting that top 1%. ``full`` therefore runs
    RT's protocol as printed (U[0, 2], AdaDelta, L1, tanh, plus the ReLU variant) with the
    threshold 0.5, half the best constant's error: a net below it has learnt the rare large
    products that carry the L1 mass, not the near-zero bulk. The threshold is fixed from
    this analysis, not from a run. Hours on a CPU; it resumes from its checkpoint.
    """

    replicates: int = knob(
        3, "independent replicates of every measurement (seeds)", check=between(1, 100)
    )
    activation: str = knob(
        "softplus", "smooth σ of the constructions", check=one_of(*ACTIVATION_NAMES)
    )
    dtype: Literal["float64", "float32"] = knob(
        "float64", "dtype of the compiler and Hamiltonian networks"
    )
    # (1) gates: LTR eq. 11, Fig. 2
    gate_lams: tuple[float, ...] = knob(
        (1.0, 0.3, 0.1, 0.03, 0.01),
        "λ values of the per-activation error table",
        check=non_empty(between(1e-6, 10.0)),
    )
    gate_scan: int = knob(
        33,
        "λ values, log-spaced on [1e-4, 1], for the slope and float32 optimum",
        check=at_least(3),
    )
    gate_grid: int = knob(201, "grid points per axis of [−1,1]²", check=at_least(3))
    slope_lam_min: float = knob(
        1e-3, "lower end of the O(λ²) slope fit (float64)", check=between(1e-4, 1.0)
    )
    slope_lam_max: float = knob(
        0.1, "upper end of the O(λ²) slope fit (float64)", check=between(1e-4, 1.0)
    )
    # (2) compiler: LTR Corollary, RT Thm II.1
    poly_random: int = knob(
        12, "random sparse polynomials added to the fixed suite", check=non_negative
    )
    poly_max_vars: int = knob(6, "most variables of a random polynomial", check=between(2, 12))
    poly_max_terms: int = knob(5, "most monomials of a random polynomial", check=between(1, 50))
    poly_max_degree: int = knob(6, "highest degree of a random monomial", check=between(1, 16))
    poly_points: int = knob(
        20000, "random test points in [−1,1]^n (plus the corners)", check=positive
    )
    mono_count: int = knob(6, "random monomials per replicate (shallow count)", check=positive)
    mono_max_vars: int = knob(3, "most variables of a random monomial", check=between(1, 4))
    mono_max_power: int = knob(3, "highest power r_i of a random monomial", check=between(1, 4))
    mono_max_degree: int = knob(
        6, "highest degree of a random monomial (float64 round-off)", check=between(1, 8)
    )
    mono_points: int = knob(4000, "test points per monomial (plus corners)", check=at_least(100))
    # (3a) depth, constructive: LTR App. A, RT eq. 10
    depth_n_max: int = knob(16, "largest n of the constructed products x1⋯xn", check=between(2, 24))
    depth_lam: float = knob(0.1, "λ of the constructed products", check=between(1e-4, 1.0))
    shallow_bias: float = knob(
        1.0,
        "bias b of the shallow products (softplus needs σ^(k)(b) ≠ 0 for k ≤ n)",
        check=between(-4.0, 4.0),
    )
    shallow_eval_max_n: int = knob(
        14, "evaluate the 2^n-wide net only up to this n", check=between(2, 20)
    )
    depth_points: int = knob(512, "random test points (plus up to 256 corners)", check=positive)
    # (3b) depth, trained: RT §III A, Fig. 2
    train_n: int = knob(8, "inputs n of the trained product x1⋯xn", check=between(2, 64))
    train_depths: tuple[int, ...] = knob(
        (1, 2, 3, 4), "hidden layers k of the trained nets", check=non_empty(between(1, 16))
    )
    train_widths: tuple[int, ...] = knob(
        (8, 16, 32, 64), "widths per hidden layer", check=non_empty(between(1, 4096))
    )
    train_steps: int = knob(2000, "optimiser steps per net", check=positive)
    train_batch: int = knob(256, "mini-batch size", check=positive)
    train_lr: float = knob(1e-2, "learning rate (Adam) or coefficient (AdaDelta)", check=positive)
    train_optimizer: Literal["adam", "adadelta"] = knob("adam", "optimiser (RT used AdaDelta)")
    train_activation: Literal["tanh", "relu"] = knob(
        "tanh", "activation of the trained nets (RT Fig. 2: tanh)"
    )
    relu_depths: tuple[int, ...] = knob(
        (1, 4),
        "depths of the ReLU variant (RT: 'similar results ... for ReLUs')",
        check=non_empty(between(1, 16)),
    )
    sum_depths: tuple[int, ...] = knob(
        (1, 4),
        "depths of the additive control x1+...+xn of the RT-curve comparison",
        check=non_empty(between(1, 16)),
    )
    train_seeds: int = knob(1, "restarts per (depth, width); the best one counts", check=positive)
    train_low: float = knob(0.0, "x ~ U[low, high]; RT: U[0, 2]", check=between(-10.0, 10.0))
    train_high: float = knob(2.0, "x ~ U[low, high]; RT: U[0, 2]", check=between(-10.0, 10.0))
    train_test: int = knob(8192, "held-out test points", check=positive)
    error_threshold: float = knob(
        0.2, "relative L1 error that counts as reaching the product", check=open_unit
    )
    # (3c) shallow counts as Taylor matching: RT Thm II.1, Prop. II.6 (taylor.py)
    taylor_powers: tuple[int, ...] = knob(
        (2, 3, 4, 5),
        "degrees d of x^d: d+1 neurons (construction) and d (probe); d <= 5: in float64 "
        "x^6's output weights 1/(σ_6 λ^6 6!) make round-off swamp λ² at λ = 0.05",
        check=non_empty(between(1, 5)),
    )
    taylor_restarts: int = knob(8, "random restarts of the Taylor fit", check=positive)
    taylor_steps: int = knob(250, "Adam steps of the Taylor fit", check=positive)
    # (4) Hamiltonian/softmax: LTR eq. 8, 14
    ham_classes: int = knob(3, "Gaussian classes", check=between(2, 20))
    ham_dims: int = knob(2, "input dimensions", check=between(1, 16))
    ham_train: int = knob(2000, "training samples", check=at_least(10))
    ham_test: int = knob(20000, "held-out samples", check=positive)
    # (5) open question: do trained nets compute products with gates? (probe.py)
    probe_depths: tuple[int, ...] = knob(
        (1, 2), "hidden layers of the probed nets", check=non_empty(between(1, 8))
    )
    probe_widths: tuple[int, ...] = knob(
        (4, 16),
        "widths of the probed nets (compiled control: widths >= its neurons)",
        check=non_empty(between(4, 1024)),
    )
    probe_steps: int = knob(1500, "Adam steps per probed net", check=positive)
    probe_lr: float = knob(1e-2, "Adam step size (decays linearly to 0)", check=positive)
    probe_batch: int = knob(256, "mini-batch size", check=positive)
    probe_test: int = knob(2048, "test points for the fit and the ablations", check=at_least(16))
    # (6) open question: functions that vanish far away (bumps.py)
    bump_radii: tuple[float, ...] = knob(
        (1.0, 2.0, 4.0),
        "half-widths R of the domains [-R,R]^2",
        check=non_empty(between(0.1, 20.0)),
    )
    bump_widths: tuple[int, ...] = knob(
        (4, 16), "widths of the trained nets", check=non_empty(between(1, 1024))
    )
    bump_depth: int = knob(2, "hidden layers of the trained nets", check=between(1, 8))
    bump_steps: int = knob(2000, "Adam steps per trained net", check=positive)
    bump_lr: float = knob(1e-2, "Adam step size (decays linearly to 0)", check=positive)
    bump_test: int = knob(4000, "test points in the domain", check=at_least(16))
    bump_max_degree: int = knob(
        40, "highest Taylor degree tried before giving up", check=between(2, 64)
    )
    # (7) binary inputs: LTR eq. 13 (bits.py)
    bit_n: int = knob(8, "bits of the random bit-string function", check=between(1, 16))
    bit_classes: int = knob(3, "classes y of the bit-string posterior", check=between(1, 20))
    bit_decimals: int = knob(10, "decimal places D asked of the bit product", check=between(1, 15))

    def check(self) -> None:
        if self.slope_lam_min >= self.slope_lam_max:
            raise ConfigError(
                f"slope_lam_min={self.slope_lam_min:g} must be below "
                f"slope_lam_max={self.slope_lam_max:g}"
            )
        if self.train_low >= self.train_high:
            raise ConfigError(
                f"train_low={self.train_low:g} must be below train_high={self.train_high:g}"
            )


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
        train_steps=300,
        train_batch=64,
        train_test=1024,
        relu_depths=(1, 2),
        sum_depths=(1, 2),
        taylor_powers=(2, 3),
        taylor_restarts=4,
        taylor_steps=200,
        ham_test=4000,
        replicates=2,
        mono_count=3,
        mono_points=1000,
        probe_depths=(1,),
        probe_widths=(4,),
        probe_steps=600,
        probe_test=512,
        bump_radii=(1.0, 4.0),
        bump_widths=(16,),
        bump_steps=800,
        bump_test=1000,
        bump_max_degree=24,
        bit_n=5,
    ),
    "quick": DeepCheapConfig(),
    "full": DeepCheapConfig(
        gate_scan=61,
        poly_random=40,
        poly_points=100_000,
        shallow_eval_max_n=16,
        depth_points=4096,
        train_n=20,  # RT §III A: n = 20, tanh, AdaDelta, L1, x ~ U[0, 2]
        train_depths=(1, 2, 3, 4, 5),
        train_widths=(16, 32, 64, 128, 256, 512),
        train_steps=20_000,
        replicates=5,
        train_optimizer="adadelta",
        train_lr=1.0,  # AdaDelta's coefficient (torch's default)
        train_test=262_144,
        error_threshold=0.5,  # see DeepCheapConfig: half the best constant's L1 error
        relu_depths=(1, 2, 3, 4, 5),
        sum_depths=(1, 5),  # the control needs only the ends (a slope over two depths)
        taylor_restarts=32,
        taylor_steps=3000,
        ham_dims=4,
        ham_train=20_000,
        ham_test=200_000,
        probe_depths=(1, 2, 3),
        probe_widths=(4, 8, 16, 32, 64),
        probe_steps=4000,
        probe_test=8192,
        bump_radii=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0),
        bump_widths=(2, 4, 8, 16, 32, 64),
        bump_steps=5000,
        bump_test=20_000,
        bump_max_degree=64,
        bit_n=12,
    ),
}

# --------------------------------------------------------------------------------------
# Claims (fixed before the run), each with the control where it must not hold
# --------------------------------------------------------------------------------------

POINTS = "fresh random test points in the cube"

GATE_LAMBDA2 = ClaimSpec(
    id="dc.gate_lambda2",
    statement="The 4-neuron multiplication gate's max error on [-1,1]^2 falls as O(lambda^2): "
    "the fitted log-log slope over lambda in [1e-3, 0.1] (float64) is 2 +/- 0.2.",
    source="LTR eq. 11, Fig. 2",
    comparator="between",
    threshold=(1.8, 2.2),
    paper_value="uv[1 + O(u^2+v^2)], exact as lambda -> 0",
    replicate=POINTS,
    control=Control(
        name="float32 arithmetic",
        description="The same fit in float32: round-off grows as eps/lambda^2 and overtakes "
        "the lambda^2 truncation below lambda ~ 0.03, so the O(lambda^2) law of exact "
        "arithmetic must not show over [1e-3, 0.1].",
    ),
)
GATE_PRACTICAL = ClaimSpec(
    id="dc.gate_practical",
    statement="A reasonably good product is reached already at 1/lambda = 10: max error on "
    "[-1,1]^2 at lambda = 0.1 is at most 1e-2 (the lambda^2 truncation predicts 1.7e-3 for "
    "softplus).",
    source="LTR §II C.1",
    comparator="<=",
    threshold=1e-2,
    paper_value="reasonably good for 1/lambda ~ 10",
    replicate=POINTS,
    control=Control(
        name="1/lambda = 1",
        description="The same gate at lambda = 1, where the Taylor expansion behind eq. 11 "
        "has no small parameter: its error must not be small.",
    ),
)
GATE_FLOAT32 = ClaimSpec(
    id="dc.gate_float32_optimum",
    statement="In float32, round-off (~eps/lambda^2) meets truncation (~lambda^2): the best "
    "lambda of the product gate is interior, between 0.01 and 0.1.",
    source="derived from LTR eq. 11 (round-off is not in the papers)",
    comparator="between",
    threshold=(0.01, 0.1),
    paper_value="not in the papers; predicted (eps R/T)^(1/4) ~ 0.03 for softplus",
    replicate=POINTS,
    control=Control(
        name="float64 arithmetic",
        description="The same scan in float64, whose eps is 2^29 times smaller: the predicted "
        "optimum moves to ~2e-4, so it must not lie in [0.01, 0.1].",
    ),
)
SQUARE_GATE = ClaimSpec(
    id="dc.square_gate",
    statement="The 3-neuron squaring gate with factor 1/sigma''(b) computes x^2 + O(x^4): max "
    "error on [-1,1] at lambda = 0.1 is at most 1e-3 (the truncation predicts 4.2e-4 for "
    "softplus).",
    source="RT Prop. II.6 proof (factor corrected to 1/sigma''(b))",
    comparator="<=",
    threshold=1e-3,
    paper_value="x^2 + O(x^4)",
    replicate=POINTS,
    control=Control(
        name="the printed factor 1/(2 sigma''(0))",
        description="The gate with RT's printed normalisation, which is right only if "
        "sigma''(0) denotes the Taylor coefficient: it computes x^2/2, so it must fail.",
    ),
)
COMPILER_ERROR = ClaimSpec(
    id="dc.compiler_error",
    statement="At the practical lambda = 0.1, every compiled polynomial stays within the "
    "predicted error, the sum over its gates of their O(lambda^2) truncation errors: max over "
    "the suite of measured / predicted on [-1,1]^n is <= 1.1 (the bound is leading order; "
    "its relative correction is O(lambda^2)).",
    source="LTR Corollary (§II C); gate errors from LTR eq. 11",
    comparator="<=",
    threshold=1.1,
    paper_value="any tolerance with a network of fixed size",
    replicate="fresh random polynomial suite (plus the fixed suite) and test points",
    control=Control(
        name="inputs outside the cube",
        description="The same networks on [-1.5,1.5]^n, where the bound's premise |u| <= 1 "
        "for every gate input is broken and degree-d truncation grows like 1.5^(d+2): the "
        "prediction must not cover the error there.",
    ),
)
SHALLOW_MONOMIAL = ClaimSpec(
    id="dc.shallow_monomial",
    statement="One hidden layer of prod(r_i + 1) neurons computes x1^r1...xn^rn with error "
    "O(lambda^2): the smallest fitted log-log slope over a random monomial suite "
    "(lambda = 0.2, 0.1, 0.05) is >= 1.8.",
    source="RT Thm II.1 (m_1(p) = prod(r_i + 1)); LTR App. A (2^n for x1...xn)",
    comparator=">=",
    threshold=1.8,
    paper_value="m_1(p) = prod(r_i + 1) exactly",
    replicate="fresh random monomial suite (up to 3 variables, powers up to 3) and points",
    control=Control(
        name="one neuron fewer",
        description="prod(r_i + 1) - 1 neurons (the node t = (1, ..., 1) dropped) with "
        "the best output weights and bias (least squares): below RT's count the Taylor terms "
        "cannot all cancel, so the error must not vanish as lambda^2.",
    ),
)
POWER_SHALLOW = ClaimSpec(
    id="dc.power_shallow",
    statement="One hidden layer of d + 1 neurons computes x^d with error O(lambda^2): the "
    "smallest fitted log-log slope over d in taylor_powers (lambda = 0.2, 0.1, 0.05) is >= 1.8.",
    source="RT Prop. II.6 (m_1(x^d) = d + 1), Prop. II.5 (Vandermonde)",
    comparator=">=",
    threshold=1.8,
    paper_value="m_1(x^d) = d + 1",
    replicate="fresh test points in [-1, 1]",
    control=Control(
        name="d neurons",
        description="The same hidden layer without the node t = 1 and the best output "
        "weights and bias (least squares on the scored points): below d + 1 the Taylor "
        "terms cannot all cancel, so the error must not vanish as lambda^2.",
    ),
)
TAYLOR_FLOOR = ClaimSpec(
    id="dc.taylor_floor",
    statement="d neurons cannot match x^d's Taylor coefficients through degree d: with "
    "input weights |a| <= 1 and the best output weights, the residual over random restarts "
    "of an Adam fit stays >= 1/sqrt(C(2d, d)) (the coefficients of prod(s - t_j) are "
    "bounded by those of (s+1)^d); measured = min over d of best residual / floor, "
    ">= 0.999 (the slack covers float64 round-off only).",
    source="RT Prop. II.6 (m_1(x^d) = d + 1); floor derived here",
    comparator=">=",
    threshold=0.999,
    unit="x floor",
    paper_value="m_1(x^d) = d + 1 exactly",
    replicate="independent random restarts of the fit",
    control=Control(
        name="d + 1 neurons",
        description="The same fit with d + 1 neurons, which match exactly (any d + 1 "
        "distinct nodes, a Vandermonde system): the residual must fall far below the floor.",
    ),
)
TREE_ACCURACY = ClaimSpec(
    id="dc.tree_accuracy",
    statement="The deep binary tree multiplies n_max inputs with 4(n-1) neurons (60 for "
    "n = 16) within the predicted error of its n - 1 gates at lambda = 0.1 "
    "(measured / predicted <= 1.1), where one hidden layer needs 2^n.",
    source="LTR §III H, App. A",
    comparator="<=",
    threshold=1.1,
    paper_value="4n neurons deep vs 2^n shallow (32 inputs: 160 vs 4,294,967,296)",
    replicate=POINTS,
    control=Control(
        name="one hidden layer, same neurons",
        description="A single hidden layer with the tree's 4(n-1) neurons sigma(b + lambda s.x) "
        "(random sign vectors s) and the best output weights (least squares on half the "
        "points, scored on the other half): far below 2^n it cannot multiply n inputs.",
    ),
)
DEPTH_SEPARATION = ClaimSpec(
    id="dc.depth_separation",
    statement="Trained tanh nets: the minimal width reaching the error threshold is smaller "
    "at the deepest depth than at depth 1, by at least one width step (a doubling); "
    "measured = steps between them (depth 1 never reaching counts as one step past the "
    "widest, a lower bound).",
    source="RT §III A, Fig. 2; RT Thm III.1",
    comparator=">=",
    threshold=1.0,
    paper_value="width n^((k-1)/k) 2^(n^(1/k)): exponential at k = 1, near-linear deeper",
    replicate="independent seed (initialisation, mini-batches, test set)",
    control=Control(
        name="n = 2 inputs",
        description="The same grid for x1*x2, where RT's curve n^((k-1)/k) 2^(n^(1/k)) is "
        "flat (4 at k = 1, 3.8 at k = 2): depth must not save a width doubling there.",
    ),
)
DEPTH_SEPARATION_RELU = ClaimSpec(
    id="dc.depth_separation_relu",
    statement="The same for ReLU nets (relu_depths): the minimal width reaching the error "
    "threshold is smaller at the deepest depth than at depth 1 by at least one width step.",
    source="RT §III A ('Similar results were also obtained for rectified linear units')",
    comparator=">=",
    threshold=1.0,
    paper_value="similar to tanh (no figure given)",
    replicate="independent seed (initialisation, mini-batches, test set)",
    control=Control(
        name="n = 2 inputs, ReLU",
        description="The same ReLU grid for x1*x2, where RT's curve is flat: depth must "
        "not save a width doubling there.",
    ),
)
RT_CURVE = ClaimSpec(
    id="dc.rt_curve_slope",
    statement="The trained minimal widths follow RT's curve across depths: the least-squares "
    "slope of log2(minimal width) on log2(n^((k-1)/k) 2^(n^(1/k))) over the trained depths "
    "(widths not reached censored at twice the widest, a lower bound; unmeasured unless two "
    "depths reach the threshold) is > 0 (1: the curve up to a constant factor).",
    source="RT Thm III.1, §III A, Fig. 2 (the overlaid curve)",
    comparator=">",
    threshold=0.0,
    paper_value="'the rapid interpolation from exponential to linear width aligns with our "
    "predictions'",
    replicate="independent seed (initialisation, mini-batches, test set)",
    control=Control(
        name="an additive target x1 + ... + xn",
        description="The same nets trained on the sum (sum_depths), which needs no "
        "multiplication and which the theorem does not cover: its minimal width does not "
        "depend on depth, so the slope must not be positive.",
    ),
)
HAMILTONIAN_KL = ClaimSpec(
    id="dc.hamiltonian_kl",
    statement="A gate network computing quadratic Hamiltonians fitted from samples (Gaussian "
    "maximum likelihood), with ln p(y) as softmax bias, approaches the Bayes posterior: its "
    "mean KL(Bayes || network) on held-out data, in units of p/n (p fitted parameters, n "
    "samples; a well-specified fit has expected KL <= p/2n), is <= 1.",
    source="LTR eq. 8, 14",
    comparator="<=",
    threshold=1.0,
    unit="p/n",
    paper_value="p(y|x) = softmax(-H_y(x) - mu_y), H_y quadratic for Gaussian classes",
    replicate="fresh random class model and samples",
    control=Control(
        name="classes that are Gaussian mixtures",
        description="Each class a two-component Gaussian mixture, whose Hamiltonian "
        "-ln p(x|y) is not quadratic: the same fitted quadratic network must stay far "
        "from the Bayes posterior.",
    ),
)
LOGISTIC_WORSE = ClaimSpec(
    id="dc.logistic_worse",
    statement="With unequal class covariances the Hamiltonians are quadratic, so a logistic "
    "regression (affine logits) cannot represent the posterior: its mean KL to the Bayes "
    "posterior is >= 2 in units of its own estimation error p/n (p = (K-1)(d+1)).",
    source="LTR eq. 14 (quadratic Hamiltonians; affine only for a shared covariance)",
    comparator=">=",
    threshold=2.0,
    unit="p/n",
    paper_value="quadratic logits (QDA); affine only with a shared covariance (LDA)",
    replicate="fresh random class model and samples",
    control=Control(
        name="equal covariances",
        description="The same classes with one shared covariance: the Hamiltonians' "
        "quadratic parts cancel in the softmax, logistic regression is exact, and its KL is "
        "estimation error only (expected p/2n), so it must not reach 2 p/n.",
    ),
)

COMPILED = Control(
    name="LTR's compiled constructions",
    description="The detector applied to LTR's own one-hidden-layer constructions (the "
    "4-neuron gate of eq. 11, eq. A4 for x1x2x3x4) padded with idle units to the probed "
    "widths: they are gate-like by construction, so a fraction near 0 must not come out.",
)
PROBE_NOT_GATE_LIKE = ClaimSpec(
    id="dc.probe_not_gate_like",
    statement="The newsletter's guess: nets trained from random initialisation do not "
    "compute the paper's products. Of the fitted softplus nets trained on x1x2, x1x2x3x4 "
    "and a Gaussian-class log-posterior (Bayes logit ~ x1x2), at most half are gate-like "
    "(first-layer units within 10 deg of the construction's lines, right Taylor sign, "
    "holding >= 1/2 of the ablation importance, every line >= 1/(4L)).",
    source="Alignment Newsletter, opinion on LTR ('if we peered into the internals'); "
    "detector from LTR eq. 11, A4",
    comparator="<=",
    threshold=0.5,
    paper_value="not tested in the papers (LTR: gates are what nets can do)",
    replicate="independent seeds of every probed net (initialisation, batches, test set)",
    control=COMPILED,
)
PROBE_SPECIFIC = ClaimSpec(
    id="dc.probe_detector_specific",
    statement="The gate detector does not see gates where there is no product: of the nets "
    "trained on x1 + x2 (same widths, depths and training) at most 10% are gate-like for "
    "the x1x2 lines.",
    source="control of the probe (detector from LTR eq. 11)",
    comparator="<=",
    threshold=0.1,
    paper_value="x1 + x2 needs no multiplication",
    replicate="independent seeds of every probed net",
    control=COMPILED,
)
BUMP_COST = ClaimSpec(
    id="dc.bump_polynomial_cost",
    statement="Where functions vanish far away the polynomial view stops paying: on "
    "[-R,R]^2 at the largest R, the compiled Taylor network of exp(-|x|^2) within 1% RMS of "
    "its range needs >= 4 times the neurons of the smallest trained softplus net within the "
    "same error (a lower bound when no truncation up to the top degree is within it).",
    source="newsletter comment ('most real-world functions go to zero for large values'); "
    "LTR Corollary (compiler)",
    comparator=">=",
    threshold=4.0,
    unit="x trained neurons",
    paper_value="LTR: log-densities, not functions, are low-order polynomials",
    replicate="independent seeds of the trained nets and test points",
    control=Control(
        name="a polynomial target, x1*x2",
        description="The same comparison for x1*x2, whose compiled network is one 4-neuron "
        "gate at every R: the polynomial view keeps paying, so the ratio must stay below 4.",
    ),
)
BIT_GATE = ClaimSpec(
    id="dc.bit_gate",
    statement="LTR eq. 13's bit-product neurons sigma(-beta(k - 1/2 - sum x_K)), one per "
    "non-zero Mobius coefficient c_K, and a linear layer reproduce a random bit-string "
    "log-posterior on all 2^n strings to D = 10 decimals: max error <= 10^-D sum|c_K|, at "
    "beta = 2 D ln 10 (the neuron's error is sigma(-beta/2) < e^(-beta/2)).",
    source="LTR eq. 13 (beta for D places derived here: 2 D ln 10)",
    comparator="<=",
    threshold=1.0,
    unit="10^-D sum|c_K|",
    paper_value="LTR: beta > D ln 10 ~ 23 gives D = 10 decimal places",
    replicate="fresh random bit-string posterior",
    control=Control(
        name="LTR's printed beta = D ln 10",
        description="The same network at the printed beta = D ln 10, whose neurons err by "
        "sigma(-beta/2) ~ 10^(-D/2): if the printed value were enough this would pass.",
    ),
)

CLAIMS: tuple[ClaimSpec, ...] = (
    GATE_LAMBDA2,
    GATE_PRACTICAL,
    GATE_FLOAT32,
    SQUARE_GATE,
    COMPILER_ERROR,
    SHALLOW_MONOMIAL,
    POWER_SHALLOW,
    TAYLOR_FLOOR,
    TREE_ACCURACY,
    DEPTH_SEPARATION,
    DEPTH_SEPARATION_RELU,
    RT_CURVE,
    HAMILTONIAN_KL,
    LOGISTIC_WORSE,
    PROBE_NOT_GATE_LIKE,
    PROBE_SPECIFIC,
    BUMP_COST,
    BIT_GATE,
)
