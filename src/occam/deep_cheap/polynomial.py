"""A polynomial-to-network compiler: a polynomial in x1..xn becomes a torch module of gates.

LTR Corollary (§II C): any multivariate polynomial is approximated to any accuracy by a network
of fixed size, "scaling as the number of multiplications required times a factor that is
typically slightly larger than 4". The construction:

* Each monomial c·x1^r1⋯xn^rn becomes a balanced binary tree over the multiset of its
  factors (x_i repeated r_i times, in index order): adjacent items are paired level by level
  by 4-neuron product gates; an odd item out is carried to the next level by a 1-neuron copy
  gate (or, with ``skip=True``, by an identity skip connection that costs no neuron).
* With ``squaring=True`` a pair of identical factors (x·x) uses the 3-neuron squaring gate.
* A node is keyed by (level, multiset of factors) and computed once, so repeated
  sub-products (x1·x1 inside x1^8, or x1·x2 shared by two terms) are shared.
* Terms are summed in the output layer, which reads each monomial's root at its own depth
  (degree-1 terms read the inputs directly; the constant is the output bias).

Neuron count: 4 per product gate, 3 per squaring gate, 1 per copy gate; the example
``3*x1*x2*x3*x4 - 2*x1**2*x3 + x2**3 + 0.5*x4 - 1`` compiles to 12 + 9 + 9 = 30 neurons
(28 with ``squaring=True``). RT Theorem II.1 bounds the best possible count of a monomial
by Σ_i (7⌈log₂ r_i⌉ + 4) (:func:`rt_monomial_bound`).

Scaling scheme (why errors stay small for high degree): every intermediate value is the
exact partial product itself, |u| ≤ 1 on [−1,1]^n, never a λ-scaled one. Each gate
multiplies its inputs by λ on the way in and by 1/λ² (1/λ for copies) on the way out, i.e.
computes m(λu, λv)/λ² ≈ uv; the next gate's input weights merge with these output weights
into a single affine map. So every gate sees pre-activations of size ≤ 2λ, its relative error
is O(λ²) independently of its depth, and the error of a monomial is bounded by the sum of
its gates' errors (each |u| ≤ 1). The naive alternative, scaling the inputs once by λ and
the output by λ^{-d} (RT's homogeneous scheme), is exact in real arithmetic but amplifies
round-off by λ^{-d}.

Choice of λ (``lam=None``): the λ on a log grid that minimises the predicted error bound
E(λ) = Σ_terms |c| Σ_gates e_gate(λ), where e_gate = truncation (λ² for products and
squares, λ or λ² for copies) + round-off (ε/λ² for products and squares, ε/λ for copies),
ε the dtype's machine epsilon (see :func:`gate_error_model`). For softplus in float64 this
gives λ ≈ 2e-4 and errors ≈ 1e-8.
"""

from __future__ import annotations

import io
import math
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
import torch
from sympy.parsing.sympy_parser import (
    convert_xor,
    parse_expr,
    standard_transformations,
)
from torch import Tensor, nn

from occam.deep_cheap.gates import copy_bias, derivatives, gate_bias, get_activation

__all__ = [
    "PolynomialError",
    "PolynomialNetwork",
    "Term",
    "choose_lambda",
    "compile_polynomial",
    "compile_polynomials",
    "count_neurons",
    "cube_points",
    "evaluate_terms",
    "gate_error_model",
    "parse_polynomial",
    "polynomial_error",
    "rt_monomial_bound",
]

MAX_DEGREE = 64
MAX_TERMS = 10_000
_VAR = re.compile(r"x([0-9]+)$")
_FUNCTIONS = {
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "exp",
    "log",
    "ln",
    "sqrt",
    "cbrt",
    "abs",
    "Abs",
    "sign",
    "floor",
    "ceiling",
    "ceil",
    "erf",
    "gamma",
    "factorial",
    "Max",
    "Min",
    "max",
    "min",
    "Piecewise",
    "Heaviside",
}
_OPS = {"+", "-", "*", "/", "**", "^", "(", ")"}

Term = tuple[tuple[int, ...], float]
"""(exponents (r_1, …, r_n), coefficient)."""


class PolynomialError(ValueError):
    """The input is not a polynomial in x1..xn with real coefficients (or is malformed)."""


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


def _check_tokens(text: str) -> None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise PolynomialError(f"malformed polynomial expression {text!r}: {exc}") from None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.NUMBER):
            continue
        if tok.type == tokenize.NAME:
            name = tok.string
            match = _VAR.match(name)
            if match:
                if int(match.group(1)) == 0 or match.group(1).startswith("0"):
                    raise PolynomialError(
                        f"bad variable {name!r}: variables are x1, x2, … (numbered from 1)"
                    )
                continue
            if name in _FUNCTIONS:
                raise PolynomialError(f"not a polynomial: {text!r} uses the function {name!r}")
            raise PolynomialError(
                f"unknown symbol {name!r} in {text!r}: variables must be x1, x2, …"
            )
        if tok.type == tokenize.OP and tok.string in _OPS:
            continue
        raise PolynomialError(f"unexpected {tok.string!r} in polynomial expression {text!r}")


def _sympify(expr: str | sp.Expr | float | int) -> sp.Expr:
    if isinstance(expr, sp.Basic):
        if not isinstance(expr, sp.Expr):
            raise PolynomialError(f"not a polynomial expression: {expr!r}")
        return expr
    if isinstance(expr, bool) or not isinstance(expr, str | int | float):
        raise PolynomialError(f"expected a string or SymPy expression, got {type(expr).__name__}")
    if not isinstance(expr, str):
        return sp.sympify(expr)
    text = expr.strip()
    if not text:
        raise PolynomialError("empty polynomial expression")
    if len(text) > 100_000:
        raise PolynomialError("polynomial expression longer than 100000 characters")
    _check_tokens(text)
    names = {tok: sp.Symbol(tok) for tok in re.findall(r"\bx[1-9][0-9]*\b", text)}
    safe_globals = {
        "Integer": sp.Integer,
        "Float": sp.Float,
        "Rational": sp.Rational,
        "Symbol": sp.Symbol,
        "__builtins__": {},
    }
    try:
        parsed = parse_expr(
            text,
            local_dict=names,
            global_dict=safe_globals,
            transformations=(*standard_transformations, convert_xor),
        )
    except (SyntaxError, TypeError, ValueError, AttributeError, tokenize.TokenError) as exc:
        raise PolynomialError(f"malformed polynomial expression {text!r}: {exc}") from None
    if not isinstance(parsed, sp.Expr):
        raise PolynomialError(f"malformed polynomial expression {text!r}")
    return parsed


def parse_polynomial(
    expr: str | sp.Expr | float | int, n_vars: int | None = None
) -> tuple[list[Term], int]:
    """Parse a polynomial in x1..xn into (terms, n_vars).

    Args:
        expr: a string such as ``"3*x1*x2 - x3**2 + 1"`` (``^`` also means power) or a SymPy
            expression in symbols named x1, x2, …
        n_vars: number of inputs; default the highest variable index present (at least 1).
    Returns:
        terms: list of ((r_1, …, r_n), coefficient), zero coefficients dropped, in SymPy's
            lexicographic order; n_vars.
    Raises:
        PolynomialError: malformed input, unknown symbols, x0, functions, negative or
            fractional powers, complex or non-finite coefficients, degree > 64.
    """
    e = _sympify(expr)
    indices = []
    for sym in sorted(e.free_symbols, key=str):
        match = _VAR.match(str(sym))
        if not match or match.group(1).startswith("0"):
            raise PolynomialError(f"unknown symbol {str(sym)!r}: variables must be x1, x2, …")
        indices.append(int(match.group(1)))
    highest = max(indices, default=1)
    if n_vars is None:
        n_vars = highest
    elif not isinstance(n_vars, int) or n_vars < 1:
        raise PolynomialError(f"n_vars must be a positive integer, got {n_vars!r}")
    elif highest > n_vars:
        raise PolynomialError(f"variable x{highest} exceeds n_vars={n_vars}")
    gens = [sp.Symbol(f"x{i}") for i in range(1, n_vars + 1)]
    if e.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise PolynomialError(f"not a polynomial: {e} is not finite")
    if not e.is_polynomial(*gens):
        raise PolynomialError(
            f"not a polynomial in x1..x{n_vars}: {e} (exponents must be non-negative integers)"
        )
    try:
        poly = sp.Poly(e, *gens)
    except sp.PolynomialError as exc:
        raise PolynomialError(f"not a polynomial in x1..x{n_vars}: {e} ({exc})") from None
    if poly.total_degree() > MAX_DEGREE:
        raise PolynomialError(f"degree {poly.total_degree()} exceeds the limit {MAX_DEGREE}")
    terms: list[Term] = []
    for monom, coeff in poly.terms():
        if not coeff.is_real:
            raise PolynomialError(f"coefficient {coeff} of {e} is not a real number")
        value = float(coeff)
        if not math.isfinite(value):
            raise PolynomialError(f"coefficient {coeff} of {e} is not finite in float64")
        if value != 0.0:
            terms.append((tuple(int(r) for r in monom), value))
    if len(terms) > MAX_TERMS:
        raise PolynomialError(f"{len(terms)} terms exceed the limit {MAX_TERMS}")
    return terms, n_vars


def evaluate_terms(terms: Sequence[Term], x: Tensor) -> Tensor:
    """Exact value Σ c ∏ x_i^{r_i} of a parsed polynomial: x (batch, n) float64 → (batch,)."""
    out = torch.zeros(x.shape[0], dtype=torch.float64)
    xd = x.double()
    for exps, c in terms:
        out = out + c * torch.prod(xd ** torch.tensor(exps, dtype=torch.float64), dim=1)
    return out


def rt_monomial_bound(exponents: Sequence[int]) -> int:
    """RT Theorem II.1: m(p) ≤ Σ_{i: r_i>0} (7⌈log₂ r_i⌉ + 4) neurons for x1^r1⋯xn^rn."""
    return sum(7 * math.ceil(math.log2(r)) + 4 for r in exponents if r > 0)


# --------------------------------------------------------------------------------------
# Error model and λ
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateErrorModel:
    """Max error of each gate on inputs in [−1,1]: a λ^p truncation and an ε/λ^q round-off."""

    product_trunc: float  # × λ²
    product_round: float  # × ε / λ²
    square_trunc: float  # × λ²
    square_round: float  # × ε / λ²
    copy_trunc1: float  # × λ
    copy_trunc2: float  # × λ²
    copy_round: float  # × ε / λ

    def product(self, lam: np.ndarray, eps: float) -> np.ndarray:
        return self.product_trunc * lam**2 + self.product_round * eps / lam**2

    def square(self, lam: np.ndarray, eps: float) -> np.ndarray:
        return self.square_trunc * lam**2 + self.square_round * eps / lam**2

    def copy(self, lam: np.ndarray, eps: float) -> np.ndarray:
        return self.copy_trunc1 * lam + self.copy_trunc2 * lam**2 + self.copy_round * eps / lam


def gate_error_model(activation: str) -> GateErrorModel:
    """Leading-order max errors of the gates (Taylor expansion about b and b_c, LTR eq. 10).

    product: λ²|σ''''|/(3|σ''|) + ε(|σ|+|bσ'|)/(2|σ''|λ²); square: λ²|σ''''|/(12|σ''|) +
    2ε(|σ|+|bσ'|)/(|σ''|λ²); copy: λ|σ''|/(2|σ'|) + λ²|σ'''|/(6|σ'|) + ε(|σ|+|bσ'|)/(|σ'|λ),
    derivatives at b = gate_bias (product, square) or b_c = copy_bias (copy).
    """
    b = gate_bias(activation)
    s0, s1, s2, _, s4 = derivatives(activation, b, 4)
    c = copy_bias(activation)
    c0, c1, c2, c3 = derivatives(activation, c, 3)
    scale, cscale = abs(s0) + abs(b * s1), abs(c0) + abs(c * c1)
    return GateErrorModel(
        product_trunc=abs(s4) / (3 * abs(s2)),
        product_round=scale / (2 * abs(s2)),
        square_trunc=abs(s4) / (12 * abs(s2)),
        square_round=2 * scale / abs(s2),
        copy_trunc1=abs(c2) / (2 * abs(c1)),
        copy_trunc2=abs(c3) / (6 * abs(c1)),
        copy_round=cscale / abs(c1),
    )


def choose_lambda(
    gate_counts: Sequence[tuple[float, int, int, int]],
    activation: str,
    dtype: torch.dtype = torch.float64,
) -> tuple[float, float]:
    """λ minimising the predicted max error E(λ) on [−1,1]^n; returns (λ, E(λ)).

    Args:
        gate_counts: per term, (|coefficient|, products, squares, copies) in its tree
            (counted with multiplicity, as the error of a shared node enters each use).
    """
    model = gate_error_model(activation)
    eps = torch.finfo(dtype).eps
    lam = np.logspace(-6, 0, 601)
    total = np.zeros_like(lam)
    for c, n_prod, n_sq, n_copy in gate_counts:
        total += c * (
            n_prod * model.product(lam, eps)
            + n_sq * model.square(lam, eps)
            + n_copy * model.copy(lam, eps)
        )
    if not np.any(total > 0):
        return 0.1, 0.0
    i = int(np.argmin(total))
    return float(lam[i]), float(total[i])


# --------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """The gate graph: nodes per level and the operation producing each node."""

    n_vars: int
    levels: list[list[tuple[int, ...]]] = field(default_factory=list)  # node keys per level
    ops: list[list[tuple[str, tuple[int, ...]]]] = field(default_factory=list)  # (kind, inputs)
    index: list[dict[tuple[int, ...], int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        keys: list[tuple[int, ...]] = [(i,) for i in range(self.n_vars)]
        self.levels.append(keys)
        self.ops.append([("input", ())] * self.n_vars)
        self.index.append({k: j for j, k in enumerate(keys)})

    def node(self, level: int, key: tuple[int, ...], kind: str, inputs: tuple[int, ...]) -> int:
        while len(self.levels) <= level:
            self.levels.append([])
            self.ops.append([])
            self.index.append({})
        if key not in self.index[level]:
            self.index[level][key] = len(self.levels[level])
            self.levels[level].append(key)
            self.ops[level].append((kind, inputs))
        return self.index[level][key]


def _build_monomial(
    plan: _Plan, exponents: Sequence[int], squaring: bool, skip: bool
) -> tuple[int, int, tuple[int, int, int]]:
    """Add one monomial's product tree to the plan; return (level, node, gate counts)."""
    factors = [i for i, r in enumerate(exponents) for _ in range(r)]
    items: list[tuple[int, ...]] = [(f,) for f in factors]
    idx = [plan.index[0][(f,)] for f in factors]
    level, counts = 0, [0, 0, 0]  # products, squares, copies (with multiplicity)
    while len(items) > 1:
        new_items, new_idx = [], []
        for j in range(0, len(items) - 1, 2):
            a, b = items[j], items[j + 1]
            key = tuple(sorted(a + b))
            if squaring and a == b:
                new_idx.append(plan.node(level + 1, key, "square", (idx[j],)))
                counts[1] += 1
            else:
                new_idx.append(plan.node(level + 1, key, "product", (idx[j], idx[j + 1])))
                counts[0] += 1
            new_items.append(key)
        if len(items) % 2:
            kind = "skip" if skip else "copy"
            new_idx.append(plan.node(level + 1, items[-1], kind, (idx[-1],)))
            new_items.append(items[-1])
            counts[2] += 0 if skip else 1
        items, idx, level = new_items, new_idx, level + 1
    return level, idx[0], (counts[0], counts[1], counts[2])


_NEURONS = {"product": 4, "square": 3, "copy": 1, "skip": 0, "input": 0}


def _plan_terms(
    terms_per_output: Sequence[Sequence[Term]], n_vars: int, squaring: bool, skip: bool
) -> tuple[
    _Plan, list[list[tuple[int, int, float]]], list[float], list[tuple[float, int, int, int]]
]:
    """The shared gate graph of all outputs: plan, roots per output, constants, gate counts."""
    plan = _Plan(n_vars)
    roots: list[list[tuple[int, int, float]]] = []
    constants: list[float] = []
    gate_counts: list[tuple[float, int, int, int]] = []
    for terms in terms_per_output:
        out_roots, const = [], 0.0
        for exps, coeff in terms:
            if sum(exps) == 0:
                const += coeff
                continue
            level, node, (n_p, n_s, n_c) = _build_monomial(plan, exps, squaring, skip)
            out_roots.append((level, node, coeff))
            gate_counts.append((abs(coeff), n_p, n_s, n_c))
        roots.append(out_roots)
        constants.append(const)
    return plan, roots, constants, gate_counts


def count_neurons(
    terms: Sequence[Term], n_vars: int, squaring: bool = False, skip: bool = False
) -> int:
    """Hidden neurons of the compiled network for parsed terms, without building it."""
    plan, *_ = _plan_terms([terms], n_vars, squaring, skip)
    return sum(_NEURONS[kind] for ops in plan.ops[1:] for kind, _ in ops)


class _Level(nn.Module):
    """One level of gates: z_out = V σ(W z_in + β) + c + S z_in.

    Shapes: W (H, N_in), β (H,), V (N_out, H), c (N_out,), S (N_out, N_in).
    """

    w: Tensor
    beta: Tensor
    v: Tensor
    c: Tensor
    s: Tensor

    def __init__(self, w: Tensor, beta: Tensor, v: Tensor, c: Tensor, s: Tensor) -> None:
        super().__init__()
        self.register_buffer("w", w)
        self.register_buffer("beta", beta)
        self.register_buffer("v", v)
        self.register_buffer("c", c)
        self.register_buffer("s", s)
        self.has_skip = bool(s.abs().sum() > 0)

    def forward(self, z: Tensor, act: nn.Module) -> Tensor:
        out = act(z @ self.w.T + self.beta) @ self.v.T + self.c
        if self.has_skip:
            out = out + z @ self.s.T
        return out


class _Act(nn.Module):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.fn = get_activation(name).fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)


class PolynomialNetwork(nn.Module):
    """A network of gates computing one or more polynomials: (batch, n_vars) → (batch, K).

    With ``squeeze`` (single polynomial) the output is (batch,). Attributes: ``neuron_count``
    (hidden neurons: 4 per product, 3 per square, 1 per copy gate), ``depth`` (hidden
    layers), ``lam``, ``predicted_error`` (the error model's bound at ``lam`` on
    [−1,1]^n), ``terms`` (parsed terms per output), ``layer_widths``.
    """

    def __init__(
        self,
        terms_per_output: Sequence[Sequence[Term]],
        n_vars: int,
        activation: str = "softplus",
        lam: float | None = None,
        squaring: bool = False,
        skip: bool = False,
        dtype: torch.dtype = torch.float64,
        squeeze: bool = True,
    ) -> None:
        super().__init__()
        act = get_activation(activation)
        self.activation, self.n_vars, self.dtype = act.name, n_vars, dtype
        self.terms = [list(t) for t in terms_per_output]
        self.squeeze = squeeze and len(self.terms) == 1
        plan, roots, constants, gate_counts = _plan_terms(self.terms, n_vars, squaring, skip)
        if lam is None:
            lam, predicted = choose_lambda(gate_counts, act.name, dtype)
        else:
            if not (math.isfinite(lam) and lam > 0):
                raise ValueError(f"lam must be a positive finite number, got {lam!r}")
            model, eps = gate_error_model(act.name), torch.finfo(dtype).eps
            la = np.array([lam])
            predicted = float(
                sum(
                    c
                    * (
                        p * model.product(la, eps)
                        + s * model.square(la, eps)
                        + k * model.copy(la, eps)
                    )[0]
                    for c, p, s, k in gate_counts
                )
            )
        self.lam, self.predicted_error = float(lam), predicted
        self.act = _Act(act.name)
        self.levels = nn.ModuleList(self._make_levels(plan, float(lam)))
        self.layer_widths = [int(level.w.shape[0]) for level in self.levels]  # type: ignore[union-attr,index]
        self.neuron_count = int(sum(self.layer_widths))
        self.depth = len(self.levels)
        k = len(self.terms)
        readout = [torch.zeros(k, len(keys), dtype=torch.float64) for keys in plan.levels]
        for o, out_roots in enumerate(roots):
            for level, node, coeff in out_roots:
                readout[level][o, node] += coeff
        for i, r in enumerate(readout):
            self.register_buffer(f"readout{i}", r.to(dtype))
        self.register_buffer("constant", torch.tensor(constants, dtype=dtype))
        self.n_outputs = k

    def _make_levels(self, plan: _Plan, lam: float) -> list[_Level]:
        b = gate_bias(self.activation)
        s2 = derivatives(self.activation, b, 2)[2]
        bc = copy_bias(self.activation)
        c0, c1 = derivatives(self.activation, bc, 1)
        mu = 1.0 / (4.0 * s2 * lam**2)
        levels = []
        for lvl in range(1, len(plan.levels)):
            n_in, ops = len(plan.levels[lvl - 1]), plan.ops[lvl]
            width = sum(_NEURONS[kind] for kind, _ in ops)
            f64 = torch.float64
            w, beta = torch.zeros(width, n_in, dtype=f64), torch.zeros(width, dtype=f64)
            v, c = torch.zeros(len(ops), width, dtype=f64), torch.zeros(len(ops), dtype=f64)
            s = torch.zeros(len(ops), n_in, dtype=f64)
            h = 0
            for j, (kind, inputs) in enumerate(ops):
                if kind == "product":
                    a, bb = inputs
                    for sign_sum, sign_diff, out_sign in (
                        (1, 1, 1),
                        (-1, -1, 1),
                        (1, -1, -1),
                        (-1, 1, -1),
                    ):
                        w[h, a] += lam * sign_sum
                        w[h, bb] += lam * sign_diff
                        beta[h], v[j, h] = b, out_sign * mu
                        h += 1
                elif kind == "square":
                    (a,) = inputs
                    for sign, weight in ((1, 1.0), (-1, 1.0), (0, -2.0)):
                        w[h, a] = lam * sign
                        beta[h], v[j, h] = b, weight / (s2 * lam**2)
                        h += 1
                elif kind == "copy":
                    (a,) = inputs
                    w[h, a], beta[h], v[j, h] = lam, bc, 1.0 / (lam * c1)
                    c[j] = -c0 / (lam * c1)
                    h += 1
                else:  # skip
                    s[j, inputs[0]] = 1.0
            dt = self.dtype
            levels.append(_Level(w.to(dt), beta.to(dt), v.to(dt), c.to(dt), s.to(dt)))
        return levels

    def _buffer(self, name: str) -> Tensor:
        buf: Tensor = getattr(self, name)
        return buf

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch, n_vars), ideally in [−1,1]^n → (batch,) or (batch, K)."""
        if x.dim() != 2 or x.shape[1] != self.n_vars:
            raise ValueError(
                f"expected input of shape (batch, {self.n_vars}), got {tuple(x.shape)}"
            )
        z = x.to(self.dtype)
        out = z @ self._buffer("readout0").T + self._buffer("constant")
        for i, level in enumerate(self.levels, start=1):
            z = level(z, self.act)
            out = out + z @ self._buffer(f"readout{i}").T
        return out.squeeze(-1) if self.squeeze else out


def compile_polynomial(
    expr: str | sp.Expr,
    activation: str = "softplus",
    lam: float | None = None,
    *,
    n_vars: int | None = None,
    squaring: bool = False,
    skip: bool = False,
    dtype: torch.dtype = torch.float64,
) -> PolynomialNetwork:
    """Compile a polynomial into a network of gates: (batch, n_vars) → (batch,).

    Args:
        expr: a string (``"3*x1*x2*x3*x4 - 2*x1**2*x3 + x2**3 + 0.5*x4 - 1"``) or SymPy
            expression in x1..xn.
        activation: softplus, silu, gelu, tanh or logistic.
        lam: gate scale λ; ``None`` picks the λ minimising the predicted error (module
            docstring). The result is accurate on [−1,1]^n.
        n_vars: number of inputs (default: the highest index present).
        squaring: use 3-neuron squaring gates for x·x (default False: product gates only,
            as in LTR Fig. 2).
        skip: carry odd factors by identity skip connections instead of copy gates.
        dtype: float64 (default) or float32.
    Returns:
        a :class:`PolynomialNetwork` with ``neuron_count``, ``lam``, ``predicted_error``.
    Raises:
        PolynomialError: see :func:`parse_polynomial`.
    """
    terms, n = parse_polynomial(expr, n_vars)
    return PolynomialNetwork([terms], n, activation, lam, squaring, skip, dtype, squeeze=True)


def compile_polynomials(
    exprs: Sequence[str | sp.Expr],
    activation: str = "softplus",
    lam: float | None = None,
    *,
    n_vars: int | None = None,
    squaring: bool = True,
    skip: bool = False,
    dtype: torch.dtype = torch.float64,
) -> PolynomialNetwork:
    """Compile K polynomials into one network sharing sub-products: (batch, n) → (batch, K)."""
    if len(exprs) == 0:
        raise PolynomialError("no polynomials given")
    parsed = [parse_polynomial(e, n_vars) for e in exprs]
    n = max(p[1] for p in parsed) if n_vars is None else n_vars
    terms = [parse_polynomial(e, n)[0] for e in exprs]
    return PolynomialNetwork(terms, n, activation, lam, squaring, skip, dtype, squeeze=False)


def cube_points(n: int, count: int, generator: torch.Generator) -> Tensor:
    """Test points in [−1,1]^n: ``count`` uniform samples plus all 2^n corners (n ≤ 12)."""
    x = torch.rand(count, n, generator=generator, dtype=torch.float64) * 2.0 - 1.0
    if n <= 12:
        corners = torch.cartesian_prod(*[torch.tensor([-1.0, 1.0], dtype=torch.float64)] * n)
        x = torch.cat([x, corners.reshape(-1, n)])
    return x


def polynomial_error(net: PolynomialNetwork, x: Tensor) -> float:
    """Max |net(x) − p(x)| over the rows of x (batch, n) for a single-output network."""
    with torch.no_grad():
        got = net(x).double().reshape(x.shape[0], -1)
    exact = torch.stack([evaluate_terms(t, x) for t in net.terms], dim=1)
    return float((got - exact).abs().max())
