"""Exact gate constructions: the 4-neuron multiplication gate, the squaring gate, the copy gate.

The multiplication gate (Lin, Tegmark & Rolnick 2017, eq. 11 and Fig. 2) multiplies two
numbers with four neurons of any smooth activation σ::

    m(u, v) = [σ(b+λ(u+v)) + σ(b−λ(u+v)) − σ(b+λ(u−v)) − σ(b−λ(u−v))] / (4 σ''(b) λ²)
            = u v [1 + λ² σ''''(b) / (6 σ''(b)) (u² + v²) + O(λ⁴)]

(our expansion of LTR eq. 10-11 to fourth order). Odd Taylor orders cancel for any bias shift
``b``; ``b`` only has to make σ''(b) ≠ 0. It is found numerically, never hard-coded:
:func:`gate_bias` returns the point of largest |σ''| near 0 (a root of σ''', or 0 itself),
e.g. 0 for softplus, SiLU and GELU, ln(2+√3) ≈ 1.317 for the logistic, 0.6585 for tanh.

The squaring gate (Rolnick & Tegmark 2018, proof of Prop. II.6, with the factor corrected to
1/σ''(b): the printed 1/(2σ''(0)) is right only if σ''(0) denotes the Taylor
coefficient σ''(0)/2)::

    s(x) = [σ(b+λx) + σ(b−λx) − 2σ(b)] / (σ''(b) λ²) = x² [1 + λ² σ''''(b) x² / (12 σ''(b)) + …]

is counted as 3 neurons, as in RT (the third, constant neuron σ(b) could be folded into the
output bias). The copy gate (LTR footnote 3) is one neuron,
``c(x) = [σ(b_c+λx) − σ(b_c)] / (λ σ'(b_c))``, operated at an inflection point b_c of σ
(σ''(b_c) = 0, so the error is O(λ²)), or, for σ without one (softplus), in its nearly linear
tail (see :func:`copy_bias`).

Every gate here maps O(1) inputs to O(1) outputs: the input weights carry λ and the output
weights carry 1/λ² (1/λ for the copy gate), so gates compose without rescaling.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.optimize
import scipy.special
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "CopyGate",
    "MultiplicationGate",
    "SquaringGate",
    "copy_bias",
    "copy_gate",
    "derivatives",
    "derivatives_on",
    "fit_loglog_slope",
    "gate_bias",
    "gate_error",
    "get_activation",
    "multiplication_gate",
    "predicted_gate_error",
    "predicted_optimal_lambda",
    "squaring_gate",
    "taylor_coefficients",
]


# --------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """A smooth activation: its torch form, its complex (NumPy) form and analyticity radius.

    ``radius`` is the distance from the real axis to the nearest complex singularity (used to
    pick the contour of :func:`taylor_coefficients`); ``math.inf`` for entire functions.
    """

    name: str
    fn: Callable[[Tensor], Tensor]
    complex_fn: Callable[[np.ndarray], np.ndarray]
    radius: float

    def __call__(self, x: Tensor) -> Tensor:
        return self.fn(x)


def _np_logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS: dict[str, Activation] = {
    "softplus": Activation("softplus", F.softplus, lambda z: np.log1p(np.exp(z)), math.pi),
    "silu": Activation("silu", F.silu, lambda z: z * _np_logistic(z), math.pi),
    "gelu": Activation(
        "gelu", F.gelu, lambda z: 0.5 * z * (1.0 + scipy.special.erf(z / math.sqrt(2.0))), math.inf
    ),
    "tanh": Activation("tanh", torch.tanh, np.tanh, math.pi / 2),
    "logistic": Activation("logistic", torch.sigmoid, _np_logistic, math.pi),
}
_F64 = torch.float64
_ALIASES = {"sigmoid": "logistic", "swish": "silu"}


def get_activation(name: str | Activation) -> Activation:
    """Look up an activation by name (softplus, silu/swish, gelu, tanh, logistic/sigmoid)."""
    if isinstance(name, Activation):
        return name
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in ACTIVATIONS:
        known = ", ".join([*ACTIVATIONS, *_ALIASES])
        raise ValueError(
            f"unknown activation {name!r} (choose from {known}; ReLU has σ'' = 0 almost "
            "everywhere, so the gates do not apply)"
        )
    return ACTIVATIONS[key]


# --------------------------------------------------------------------------------------
# Derivatives and Taylor coefficients
# --------------------------------------------------------------------------------------


def derivatives(activation: str | Activation, x: float, order: int) -> list[float]:
    """σ(x), σ'(x), …, σ^(order)(x) at a scalar point, by nested torch autograd (float64)."""
    return [float(d[0]) for d in derivatives_on(activation, np.array([x]), order)]


def derivatives_on(activation: str | Activation, x: np.ndarray, order: int) -> list[np.ndarray]:
    """σ and its first ``order`` derivatives at each point of ``x`` (shape (m,)), float64.

    σ acts elementwise, so the gradient of Σ σ^(k)(x_i) is the vector of σ^(k+1)(x_i): one
    nested autograd pass serves the whole grid.
    """
    act = get_activation(activation)
    with torch.enable_grad():
        t = torch.as_tensor(np.asarray(x, dtype=np.float64)).reshape(-1).requires_grad_(True)
        g = act(t)
        out = [g.detach().numpy().copy()]
        for k in range(1, order + 1):
            (g,) = torch.autograd.grad(g.sum(), t, create_graph=k < order)
            out.append(g.detach().numpy().copy())
    return out


def taylor_coefficients(activation: str | Activation, b: float, order: int) -> np.ndarray:
    """Taylor coefficients σ_k = σ^(k)(b)/k!, k = 0..order, by the Cauchy integral (FFT).

    σ_k = (1/M) Σ_j σ(b + r e^{iθ_j}) e^{−ikθ_j} / r^k on a circle of radius r inside the
    disc of analyticity (r = min(radius/2, 2)), M = 512 nodes: the aliasing error is
    (r/R)^M ≈ 0, the round-off is about ε (R/r)^k relative. Nested autograd would need
    ``order`` nested graphs (slow for order 16); this is exact to round-off in one call.

    Returns:
        float64 array of shape (order+1,).
    """
    act = get_activation(activation)
    r = min(act.radius / 2.0, 2.0)
    m = 512
    theta = 2.0 * np.pi * np.arange(m) / m
    values = act.complex_fn(b + r * np.exp(1j * theta))
    coeffs = np.fft.fft(values) / m
    k = np.arange(order + 1)
    return np.asarray(coeffs[: order + 1].real / r**k, dtype=np.float64)


def _roots(name: str, order: int, lo: float, hi: float, points: int = 801) -> list[float]:
    """All zeros of σ^(order) on [lo, hi]: sign changes on a grid, refined by Brent's method."""
    grid = np.linspace(lo, hi, points)
    vals = derivatives_on(name, grid, order)[order]

    def f(x: float) -> float:
        return derivatives(name, x, order)[order]

    roots = [float(x) for x, v in zip(grid, vals, strict=True) if v == 0.0]
    for i in np.flatnonzero(vals[:-1] * vals[1:] < 0.0):
        roots.append(float(scipy.optimize.brentq(f, grid[i], grid[i + 1], xtol=1e-15)))
    return roots


@lru_cache(maxsize=32)
def _gate_bias(name: str) -> float:
    candidates = _roots(name, 3, -4.0, 4.0)
    if not candidates:
        raise ValueError(f"activation {name}: no stationary point of σ'' found in [-4, 4]")
    # largest |σ''|; ties (odd activations give ±b) go to the smaller |b|, then to b > 0.
    return max(
        candidates,
        key=lambda b: (round(abs(derivatives(name, b, 2)[2]), 12), -abs(b), b),
    )


def gate_bias(activation: str | Activation) -> float:
    """The operating point b of the product and squaring gates: argmax |σ''| near 0.

    Found as the root of σ''' in [−4, 4] (autograd derivatives + Brent) with the largest
    |σ''(b)|; 0 for softplus, SiLU and GELU, ln(2+√3) ≈ 1.3170 for the logistic and
    atanh(1/√3) ≈ 0.6585 for tanh (LTR §II C: "we can use the biases in A₁ to shift the
    origin to this point").
    """
    return _gate_bias(get_activation(activation).name)


@lru_cache(maxsize=32)
def _copy_bias(name: str) -> float:
    inflections = [b for b in _roots(name, 2, -6.0, 6.0) if abs(derivatives(name, b, 1)[1]) > 1e-3]
    if inflections:
        return max(inflections, key=lambda b: (round(abs(derivatives(name, b, 1)[1]), 12), -abs(b)))
    grid = np.linspace(-6.0, 6.0, 241)
    _, d1, d2 = derivatives_on(name, grid, 2)
    return float(grid[int(np.argmin(np.abs(d2 / d1)))])


def copy_bias(activation: str | Activation) -> float:
    """The operating point b_c of the copy gate.

    An inflection point of σ (σ''(b_c) = 0, so c(x) = x + O(λ²)) in [−6, 6] with the largest
    slope |σ'(b_c)|: 0 for tanh and the logistic, ≈ 2.40 for SiLU, √2 for GELU. Softplus has
    no inflection point; its curvature ratio σ''/σ' = 1 − logistic(b) decays like e^{−b}, so
    b_c is where |σ''/σ'| is smallest on [−6, 6], i.e. b_c = 6 (error ≈ 1.2e-3 λ).
    """
    return _copy_bias(get_activation(activation).name)


# --------------------------------------------------------------------------------------
# Gate modules
# --------------------------------------------------------------------------------------


class _Gate(nn.Module):
    """One hidden layer σ(W x + b) followed by a linear read-out; float64 by default."""

    neuron_count: int

    def __init__(
        self,
        activation: str | Activation,
        w_in: Tensor,
        b_in: Tensor,
        w_out: Tensor,
        b_out: float,
        dtype: torch.dtype,
    ) -> None:
        super().__init__()
        self.activation = get_activation(activation)
        self.hidden = nn.Linear(w_in.shape[1], w_in.shape[0], dtype=dtype)
        self.out = nn.Linear(w_in.shape[0], 1, dtype=dtype)
        with torch.no_grad():
            self.hidden.weight.copy_(w_in)
            self.hidden.bias.copy_(b_in)
            self.out.weight.copy_(w_out.reshape(1, -1))
            self.out.bias.fill_(b_out)
        self.neuron_count = int(w_in.shape[0])
        self.dtype = dtype

    def _hidden_out(self, x: Tensor) -> Tensor:
        return self.out(self.activation(self.hidden(x.to(self.dtype)))).squeeze(-1)


class MultiplicationGate(_Gate):
    """The 4-neuron product gate of LTR eq. 11 / Fig. 2: (batch, 2) → (batch,), ≈ u·v.

    Hidden weights λ(1,1), −λ(1,1), λ(1,−1), −λ(1,−1), all with bias b = :func:`gate_bias`;
    output weights (μ, μ, −μ, −μ) with μ = λ^{-2} / (4σ''(b)). Error u v λ² σ''''(b)/(6σ''(b))
    (u²+v²) + O(λ⁴); for softplus the max over [−1,1]² is ≈ λ²/6.
    """

    def __init__(
        self, activation: str | Activation = "softplus", lam: float = 0.1, dtype=torch.float64
    ) -> None:
        b = gate_bias(activation)
        s2 = derivatives(activation, b, 2)[2]
        mu = 1.0 / (4.0 * s2 * lam**2)
        w_in = lam * torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], dtype=_F64)
        w_out = mu * torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=_F64)
        super().__init__(activation, w_in, torch.full((4,), b, dtype=_F64), w_out, 0.0, dtype)
        self.lam, self.bias_shift, self.mu = lam, b, mu

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch, 2) → (batch,)."""
        if x.shape[-1] != 2:
            raise ValueError(
                f"multiplication gate expects input of shape (batch, 2), got {tuple(x.shape)}"
            )
        return self._hidden_out(x)


class SquaringGate(_Gate):
    """The 3-neuron squaring gate (RT Prop. II.6, factor 1/σ''(b)): (batch,) → (batch,), ≈ x².

    Neurons σ(b+λx), σ(b−λx) and the constant σ(b) (zero input weight); output weights
    (1, 1, −2) / (σ''(b) λ²). Error λ² σ''''(b) x⁴ / (12 σ''(b)): 4.2e-4 at λ = 0.1 (softplus).
    """

    def __init__(
        self, activation: str | Activation = "softplus", lam: float = 0.1, dtype=torch.float64
    ) -> None:
        b = gate_bias(activation)
        s2 = derivatives(activation, b, 2)[2]
        w_in = lam * torch.tensor([[1.0], [-1.0], [0.0]], dtype=_F64)
        w_out = torch.tensor([1.0, 1.0, -2.0], dtype=_F64) / (s2 * lam**2)
        super().__init__(activation, w_in, torch.full((3,), b, dtype=_F64), w_out, 0.0, dtype)
        self.lam, self.bias_shift = lam, b

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch,) or (batch, 1) → (batch,)."""
        return self._hidden_out(x.reshape(-1, 1))


class CopyGate(_Gate):
    """The 1-neuron copy (identity) gate (LTR footnote 3): (batch,) → (batch,), ≈ x.

    c(x) = [σ(b_c + λx) − σ(b_c)] / (λ σ'(b_c)), b_c = :func:`copy_bias`. Error
    λ² σ'''(b_c) x³ / (6σ'(b_c)) at an inflection point, λ σ''(b_c) x² / (2σ'(b_c)) otherwise.
    """

    def __init__(
        self, activation: str | Activation = "softplus", lam: float = 0.1, dtype=torch.float64
    ) -> None:
        b = copy_bias(activation)
        s0, s1 = derivatives(activation, b, 1)
        w_out = torch.tensor([1.0 / (lam * s1)], dtype=_F64)
        super().__init__(
            activation,
            torch.tensor([[lam]], dtype=_F64),
            torch.tensor([b], dtype=_F64),
            w_out,
            -s0 / (lam * s1),
            dtype,
        )
        self.lam, self.bias_shift = lam, b

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch,) or (batch, 1) → (batch,)."""
        return self._hidden_out(x.reshape(-1, 1))


def multiplication_gate(
    activation: str = "softplus", lam: float = 0.1, dtype: torch.dtype = torch.float64
) -> MultiplicationGate:
    """The 4-neuron multiplication gate as a torch module mapping (batch, 2) → (batch,).

    Args:
        activation: softplus, silu, gelu, tanh or logistic (alias sigmoid).
        lam: input scale λ > 0 (error O(λ²); float32 round-off grows as ε/λ²).
        dtype: parameter dtype; inputs are cast to it. float64 unless you study round-off.
    """
    _check_lam(lam)
    return MultiplicationGate(activation, lam, dtype)


def squaring_gate(
    activation: str = "softplus", lam: float = 0.1, dtype: torch.dtype = torch.float64
) -> SquaringGate:
    """The 3-neuron squaring gate as a torch module mapping (batch,) → (batch,)."""
    _check_lam(lam)
    return SquaringGate(activation, lam, dtype)


def copy_gate(
    activation: str = "softplus", lam: float = 0.1, dtype: torch.dtype = torch.float64
) -> CopyGate:
    """The 1-neuron copy (identity) gate as a torch module mapping (batch,) → (batch,)."""
    _check_lam(lam)
    return CopyGate(activation, lam, dtype)


def _check_lam(lam: float) -> None:
    if not (isinstance(lam, int | float) and math.isfinite(lam) and lam > 0):
        raise ValueError(f"lam must be a positive finite number, got {lam!r}")


# --------------------------------------------------------------------------------------
# Error measurement and prediction
# --------------------------------------------------------------------------------------


def gate_error(
    kind: str,
    activation: str = "softplus",
    lam: float = 0.1,
    dtype: torch.dtype = torch.float64,
    points: int = 201,
) -> float:
    """Max |gate − exact| on a uniform grid over [−1,1]² (product) or [−1,1] (square, copy).

    Inputs are rounded to ``dtype`` first; the exact value is computed in float64 from the
    rounded inputs, so the error is the gate's own.
    """
    grid = torch.linspace(-1.0, 1.0, points, dtype=_F64).to(dtype)
    with torch.no_grad():
        if kind == "product":
            u, v = torch.meshgrid(grid, grid, indexing="ij")
            x = torch.stack([u.reshape(-1), v.reshape(-1)], dim=1)
            exact = x[:, 0].double() * x[:, 1].double()
            got = MultiplicationGate(activation, lam, dtype)(x)
        elif kind == "square":
            exact = grid.double() ** 2
            got = SquaringGate(activation, lam, dtype)(grid)
        elif kind == "copy":
            exact = grid.double()
            got = CopyGate(activation, lam, dtype)(grid)
        else:
            raise ValueError(f"unknown gate kind {kind!r} (product, square, copy)")
    return float((got.double() - exact).abs().max())


def predicted_gate_error(
    activation: str = "softplus", lam: float = 0.1, dtype: torch.dtype = torch.float64
) -> tuple[float, float]:
    """Predicted max error of the product gate on [−1,1]²: (truncation, round-off).

    Truncation: λ² |σ''''(b)| / (3|σ''(b)|) (the λ² term at u = v = 1). Round-off: the four
    σ values (each ≈ σ(b), rounded to half an ulp, plus the rounding of the pre-activation
    b ± …) divided by 4σ''(b)λ², i.e. ε (|σ(b)| + |b σ'(b)|) / (2 |σ''(b)| λ²).
    """
    b = gate_bias(activation)
    s0, s1, s2, _, s4 = derivatives(activation, b, 4)
    eps = torch.finfo(dtype).eps
    return lam**2 * abs(s4) / (3 * abs(s2)), eps * (abs(s0) + abs(b * s1)) / (2 * abs(s2) * lam**2)


def predicted_optimal_lambda(
    activation: str = "softplus", dtype: torch.dtype = torch.float32
) -> float:
    """λ minimising :func:`predicted_gate_error` (truncation = round-off): (R/T)^{1/4}."""
    t, r = predicted_gate_error(activation, 1.0, dtype)
    return float((r / t) ** 0.25)


def fit_loglog_slope(lams: np.ndarray | list[float], errors: np.ndarray | list[float]) -> float:
    """Least-squares slope of log(error) against log(λ)."""
    x = np.log(np.asarray(lams, dtype=np.float64))
    y = np.log(np.asarray(errors, dtype=np.float64))
    return float(np.polyfit(x, y, 1)[0])
