"""deep-cheap configuration: the papers' knobs, the three profiles, and the claims.

The claims are fixed here, before any run; :func:`occam.deep_cheap.study.judge` decides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from occam.claims import ClaimSpec

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
