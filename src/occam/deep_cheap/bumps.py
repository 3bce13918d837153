"""Functions that go to zero far away: where does the polynomial view stop paying?

A commenter on the newsletter: "most real-world functions [go] to zero for large values …
[they] cannot be any polynomial". LTR's answer is that log-densities, not the functions,
are low-order polynomials. This module measures the cost of the polynomial view directly:
for a target f on the domain [−R, R]^2 it compares

* the **compiled polynomial network** (LTR Corollary): the Taylor truncation of f about 0 of
  the smallest total degree d whose RMS error over the domain is at most ε times f's range
  there, compiled into gates by :mod:`polynomial` (squaring gates for x·x); its neurons
  are :func:`polynomial.count_neurons`; the network itself is built and its own error
  checked (gate error and float64 round-off of the large coefficients R^d c_d included);
* **trained nets**: softplus nets of a few hidden layers of width w (two by default: one
  hidden layer of ridge functions needs many units for a radial bump) on inputs x/R and
  targets scaled to range 1 (affine maps the first and last layers could absorb), Adam on
  the mean squared error; the fewest neurons whose RMS error is at most ε times the range,

as R grows. Targets: the bump exp(−‖x‖²) (entire, but its Taylor coefficients grow like
(2R²)^k/k! on the domain), a saturating response, the logistic 1/(1 + e^{−x1}) (its Taylor
series about 0 has radius π, the distance to its poles ±iπ: no truncation converges for
R > π), and the control x1·x2, a low-order polynomial whose compiled network is one
4-neuron gate at every R.

ε = 1% of the range (:data:`RMS_TOLERANCE`), fixed before any run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from occam.deep_cheap import polynomial as pl
from occam.deep_cheap.gates import taylor_coefficients
from occam.deep_cheap.mlp import MLPs, init_mlps, train_mlps

__all__ = [
    "BUMP_TARGETS",
    "RMS_TOLERANCE",
    "Smooth",
    "compiled_taylor",
    "taylor_terms",
    "trained_minimal_widths",
]

RMS_TOLERANCE = 0.01


@dataclass(frozen=True)
class Smooth:
    """A target on R^2 and its Taylor coefficients about 0 (exponents → coefficient)."""

    name: str
    fn: Callable[[Tensor], Tensor]
    taylor: Callable[[int], list[pl.Term]]  # all terms of total degree ≤ d


def _bump_taylor(d: int) -> list[pl.Term]:
    """exp(−x1²)exp(−x2²) = Σ (−1)^{a+b} x1^{2a} x2^{2b} / (a! b!), total degree ≤ d."""
    return [
        ((2 * a, 2 * b), (-1.0) ** (a + b) / (math.factorial(a) * math.factorial(b)))
        for a in range(d // 2 + 1)
        for b in range(d // 2 + 1)
        if 2 * (a + b) <= d
    ]


def _logistic_taylor(d: int) -> list[pl.Term]:
    c = taylor_coefficients("logistic", 0.0, d)
    return [((k, 0), float(c[k])) for k in range(d + 1) if abs(c[k]) > 1e-14 * abs(c[0])]


BUMP_TARGETS: tuple[Smooth, ...] = (
    Smooth("bump", lambda x: torch.exp(-(x**2).sum(dim=1)), _bump_taylor),
    Smooth("logistic", lambda x: torch.sigmoid(x[:, 0]), _logistic_taylor),
)
POLYNOMIAL_CONTROL = Smooth(
    "x1*x2", lambda x: x[:, 0] * x[:, 1], lambda d: [((1, 1), 1.0)] if d >= 2 else []
)


def taylor_terms(target: Smooth, degree: int, radius: float) -> list[pl.Term]:
    """The truncation in the unit coordinates u = x/R: coefficients times R^{total degree}."""
    return [(e, c * radius ** sum(e)) for e, c in target.taylor(degree) if c != 0.0]


def _rms(a: Tensor, b: Tensor) -> float:
    return float(((a - b) ** 2).mean().sqrt())


def compiled_taylor(
    target: Smooth, radius: float, u: Tensor, max_degree: int, activation: str = "softplus"
) -> dict[str, float | int | bool | None]:
    """The smallest Taylor truncation within ε of f on [−R,R]^2, its neurons and its network.

    u: test points in [−1,1]^2 (T, 2). Returns degree (None: none up to ``max_degree``),
    neurons (at that degree, or at ``max_degree``: a lower bound), the truncation's and the
    compiled network's RMS errors over the range, and whether the network is within ε.
    """
    y = target.fn(radius * u)
    span = float(y.max() - y.min())
    degree, trunc = None, math.inf
    for d in range(1, max_degree + 1):
        terms = taylor_terms(target, d, radius)
        trunc = _rms(pl.evaluate_terms(terms, u), y) / span
        if trunc <= RMS_TOLERANCE:
            degree = d
            break
    d = degree if degree is not None else max_degree
    terms = taylor_terms(target, d, radius)
    neurons = pl.count_neurons(terms, 2, squaring=True)
    net_error: float | None = None
    if degree is not None:
        net = pl.PolynomialNetwork([terms], 2, activation, None, True, False, torch.float64, True)
        with torch.no_grad():
            net_error = _rms(net(u).double(), y) / span
    return {
        "degree": degree,
        "neurons": neurons,
        "neurons_lower_bound": degree is None,
        "truncation_error": trunc,
        "network_error": net_error,
        "reached": net_error is not None and net_error <= RMS_TOLERANCE,
    }


def trained_minimal_widths(
    targets: Sequence[Smooth],
    radii: Sequence[float],
    widths: Sequence[int],
    streams: Callable[[str, int], torch.Generator],
    replicates: int,
    *,
    depth: int = 2,
    steps: int,
    batch: int,
    lr: float,
    test: int,
    activation: str = "softplus",
) -> list[dict[str, float | int | str | bool]]:
    """Nets of ``depth`` hidden layers of each width on every (target, R, replicate).

    Net (target, R, w, r) draws initialisation and batches from
    ``streams(f"{name}/R{R:g}/w{w}", r)``, its test points from ``streams(f"test/R{R:g}", r)``.
    All nets of one width train at once. Rows: target, radius, width, replicate, error,
    reached (error ≤ ε).
    """
    cells = [(t, rad, r) for t in targets for rad in radii for r in range(replicates)]

    grid = torch.cartesian_prod(*[torch.linspace(-1.0, 1.0, 65, dtype=torch.float64)] * 2)

    def sampler(t: Smooth, rad: float) -> Callable[[int, torch.Generator], tuple[Tensor, Tensor]]:
        # targets standardised to range 1 (an affine map the read-out could absorb), so
        # that the output scale R² of x1·x2 does not set the learning rate
        values = t.fn(rad * grid)
        low, span = float(values.min()), float(values.max() - values.min())

        def sample(count: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
            u = torch.rand(count, 2, generator=g, dtype=torch.float64) * 2 - 1
            return u, (t.fn(rad * u) - low) / span

        return sample

    rows: list[dict[str, float | int | str | bool]] = []
    for w in widths:
        gens = [streams(f"{t.name}/R{rad:g}/w{w}", r) for t, rad, r in cells]
        parts = [init_mlps(2, depth, w, activation, [g]) for g in gens]
        nets = MLPs(
            [torch.cat([p.weights[i] for p in parts]) for i in range(depth)],
            [torch.cat([p.biases[i] for p in parts]) for i in range(depth)],
            torch.cat([p.w_out for p in parts]),
            torch.cat([p.b_out for p in parts]),
            activation,
        )
        samplers = [sampler(t, rad) for t, rad, _ in cells]
        train_mlps(nets, samplers, gens, steps=steps, batch=batch, lr=lr)
        tests = [sampler(t, rad)(test, streams(f"test/R{rad:g}", r)) for t, rad, r in cells]
        u = torch.stack([a for a, _ in tests])
        y = torch.stack([b for _, b in tests])
        with torch.no_grad():
            err = ((nets(u) - y) ** 2).mean(dim=1).sqrt()
        span = y.amax(dim=1) - y.amin(dim=1)
        for i, (t, rad, r) in enumerate(cells):
            e = float(err[i] / span[i])
            rows.append(
                {
                    "target": t.name,
                    "radius": rad,
                    "width": w,
                    "replicate": r,
                    "error": e,
                    "reached": e <= RMS_TOLERANCE,
                }
            )
    return rows


def minimal_width(
    rows: Sequence[dict[str, float | int | str | bool]], target: str, radius: float, replicate: int
) -> int | None:
    """Smallest width of a replicate's trained nets within ε (None: no width reached)."""
    ok = [
        int(r["width"])
        for r in rows
        if r["target"] == target
        and r["radius"] == radius
        and r["replicate"] == replicate
        and r["reached"]
    ]
    return min(ok) if ok else None


def unit_points(count: int, generator: torch.Generator) -> Tensor:
    """Uniform test points of [−1,1]^2 plus its 4 corners, (count + 4, 2) float64."""
    u = torch.rand(count, 2, generator=generator, dtype=torch.float64) * 2 - 1
    corners = torch.tensor(
        [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]], dtype=torch.float64
    )
    return torch.cat([u, corners])
