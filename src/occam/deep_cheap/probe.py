"""Peering into trained nets: do they compute products with LTR's gates, or something else?

The newsletter's commentary on LTR: "if we peered into the internals of the neural
networks, it would not be the case that they were calculating the sorts of polynomials
that this paper talks about". This module trains smooth (softplus) nets from random
initialisation on low-order Hamiltonians that contain a product and asks whether their
first hidden layer is built like LTR's construction.

Targets (:data:`TARGETS`): x1·x2 and x1x2x3x4 on [−1,1]^n (mean squared error), and a
Gaussian-class log-posterior: two zero-mean classes with correlations +ρ and −ρ, whose Bayes
logit is exactly ln p(1|x)/p(0|x) = 2ρ/(1−ρ²) · x1x2 (LTR eq. 8, 14: the Hamiltonians are
quadratic and their difference is a product), learned by cross entropy from the posterior
p(1|x) at x drawn from the classes. The control target x1 + x2 has no product.

The gate detector (fixed from the gate's definition before any net was trained)
--------------------------------------------------------------------------------
The construction's *lines* are the input directions of its first hidden layer:

* one hidden layer, monomial x_K (LTR eq. 11 for |K| = 2, eq. A4 in general): the sign
  vectors s ∈ {±1}^K (up to overall sign); unit j on line s must add to the monomial's
  Taylor coefficient with the right sign, sign(a_j σ^(|K|)(z̄_j) ∏_{i∈K} w_ji) = +1
  (a_j its output weight, z̄_j its mean pre-activation): the (+,+,−,−) output pattern of
  Fig. 2 is this rule for the lines (1,1) and (1,−1);
* deeper nets: the binary tree's first layer, e_p ± e_q for the consecutive pairs of K
  (e_p alone for an odd one out); later layers may flip signs, so no sign rule.

A unit is *on* a line when the angle between its input weights and the line is at most
:data:`ALIGN_DEGREES` = 10°, i.e. the gate's input weights (u, u) vs (u, −u) matched
within tan 10° ≈ 18%. A unit's *importance* is the rise of the test mean squared error when
its first-layer activation is replaced by its mean over the test set (mean ablation),
clipped at 0. A fitted net (test MSE ≤ :data:`FIT_MSE` = 0.1 of the target's variance) is
**gate-like** when (a) the units on lines (with the right sign) hold at least
:data:`SHARE` = 1/2 of the total importance and (b) every line holds at least 1/(4L) of it
(L lines: a quarter of an equal share), i.e. the product is carried by the construction's
units and all of them are there. Chance level: a random direction in the plane lies within
10° of one of the two lines of x1·x2 with probability 40/180 = 0.22.

A unit's operating range (std of its pre-activation over the data) is also reported: the
gate's Taylor argument needs it small (2λ for the gate's inputs on the unit square).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from occam.deep_cheap import depth as dp
from occam.deep_cheap.gates import derivatives_on, gate_bias, taylor_coefficients
from occam.deep_cheap.mlp import MLPs, init_mlps, train_mlps

__all__ = [
    "ALIGN_DEGREES",
    "CONTROL_TARGET",
    "FIT_MSE",
    "GAUSS_RHO",
    "SHARE",
    "TARGETS",
    "Target",
    "compiled_mlps",
    "construction_lines",
    "gate_report",
    "train_targets",
]

ALIGN_DEGREES = 10.0
FIT_MSE = 0.1
SHARE = 0.5
GAUSS_RHO = 0.6


@dataclass(frozen=True)
class Target:
    """A target with a product x_K: its inputs, the monomial's variables and its sampler."""

    name: str
    n: int
    monomial: tuple[int, ...]  # the variables of the product the detector looks for
    sample: Callable[[int, torch.Generator], tuple[Tensor, Tensor]]
    bce: bool = False  # trained by cross entropy on soft labels; the net's output is a logit
    truth: Callable[[Tensor], Tensor] | None = None  # what the net's output should equal


def _cube(fn: Callable[[Tensor], Tensor], n: int) -> Callable[..., tuple[Tensor, Tensor]]:
    def sample(count: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
        x = torch.rand(count, n, generator=g, dtype=torch.float64) * 2 - 1
        return x, fn(x)

    return sample


def gauss_logit(x: Tensor, rho: float = GAUSS_RHO) -> Tensor:
    """Bayes logit ln p(1|x)/p(0|x) of classes N(0, [[1, ρ], [ρ, 1]]) vs N(0, [[1, −ρ], [−ρ, 1]]).

    −½xᵀ(Σ₊⁻¹ − Σ₋⁻¹)x = 2ρ x1x2 / (1 − ρ²); the log-determinants are equal and cancel.
    """
    return 2 * rho / (1 - rho**2) * x[:, 0] * x[:, 1]


def _gauss_sample(count: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """x from the equal mixture of the two classes; target p(1|x) (a soft label)."""
    z = torch.randn(count, 2, generator=g, dtype=torch.float64)
    sign = torch.where(torch.rand(count, generator=g) < 0.5, 1.0, -1.0).double()
    # (z1, ρ s z1 + √(1−ρ²) z2) has correlation ρ s
    x = torch.stack(
        [z[:, 0], GAUSS_RHO * sign * z[:, 0] + math.sqrt(1 - GAUSS_RHO**2) * z[:, 1]], 1
    )
    return x, torch.sigmoid(gauss_logit(x))


def _prod(x: Tensor) -> Tensor:
    return x.prod(dim=1)


TARGETS: tuple[Target, ...] = (
    Target("x1*x2", 2, (0, 1), _cube(_prod, 2)),
    Target("x1*x2*x3*x4", 4, (0, 1, 2, 3), _cube(_prod, 4)),
    Target("gauss_logposterior", 2, (0, 1), _gauss_sample, bce=True, truth=gauss_logit),
)
CONTROL_TARGET = Target("x1+x2", 2, (0, 1), _cube(lambda x: x.sum(dim=1), 2))


# --------------------------------------------------------------------------------------
# The detector
# --------------------------------------------------------------------------------------


def construction_lines(n: int, monomial: Sequence[int], depth: int) -> tuple[Tensor, bool]:
    """The first-layer lines of the construction, (L, n) unit rows, and whether signs count.

    depth 1: the sign vectors of LTR eq. A4 over the monomial's variables (first sign +);
    deeper: the binary tree's first layer, e_p ± e_q per consecutive pair (e_p if odd).
    """
    k = len(monomial)
    rows: list[list[float]] = []
    if depth == 1:
        for s in torch.cartesian_prod(*[torch.tensor([1.0, -1.0])] * k).reshape(-1, k):
            if s[0] > 0:
                row = [0.0] * n
                for i, v in zip(monomial, s.tolist(), strict=True):
                    row[i] = v
                rows.append(row)
    else:
        for a in range(0, k - 1, 2):
            p, q = monomial[a], monomial[a + 1]
            for sq in (1.0, -1.0):
                row = [0.0] * n
                row[p], row[q] = 1.0, sq
                rows.append(row)
        if k % 2:
            row = [0.0] * n
            row[monomial[-1]] = 1.0
            rows.append(row)
    lines = torch.tensor(rows, dtype=torch.float64)
    return lines / lines.norm(dim=1, keepdim=True), depth == 1


def _importance(nets: MLPs, x: Tensor, truth: Tensor) -> tuple[Tensor, Tensor]:
    """Mean-ablation importance of each first-layer unit, (B, width), and the test MSE (B,)."""
    h = nets.hidden(x)[0]  # (B, T, w)
    base = ((nets(x) - truth) ** 2).mean(dim=1)
    mean = h.mean(dim=1, keepdim=True)
    out = torch.empty(nets.count, nets.width, dtype=torch.float64)
    for j in range(nets.width):
        ablated = h.clone()
        ablated[:, :, j] = mean[:, :, j]
        out[:, j] = ((nets(x, first_override=ablated) - truth) ** 2).mean(dim=1) - base
    return out.clamp(min=0.0), base


def gate_report(
    nets: MLPs, n: int, monomial: Sequence[int], x: Tensor, truth: Tensor
) -> list[dict[str, float | bool]]:
    """The detector on every net: fit, line share, weakest line, gate-like, operating range.

    x: test inputs (B, T, n_pad) with the net's inputs in the first n columns; truth (B, T).
    """
    lines, signed = construction_lines(n, monomial, nets.depth)
    imp, mse = _importance(nets, x, truth)
    var = truth.var(dim=1)
    w = nets.weights[0][:, :n, :]  # (B, n, width)
    cos = (lines @ w).abs() / w.norm(dim=1, keepdim=True).clamp(min=1e-300)  # (B, L, width)
    on = cos >= math.cos(math.radians(ALIGN_DEGREES))
    z = torch.baddbmm(nets.biases[0], x, nets.weights[0])  # (B, T, width)
    if signed:
        m = len(monomial)
        zbar = z.mean(dim=1)  # (B, width)
        dm = torch.from_numpy(derivatives_on(nets.activation, zbar.reshape(-1).numpy(), m)[m])
        coef = nets.w_out[:, :, 0] * dm.reshape(zbar.shape)
        coef = coef * w[:, list(monomial), :].prod(dim=1)
        on = on & (coef > 0)[:, None, :]
    total = imp.sum(dim=1).clamp(min=1e-300)
    per_line = (on.double() * imp[:, None, :]).sum(dim=2) / total[:, None]  # (B, L)
    share = (on.any(dim=1).double() * imp).sum(dim=1) / total
    spread = z.std(dim=1)  # (B, width)
    rows = []
    for b in range(nets.count):
        rel = float(mse[b] / var[b])
        fitted = rel <= FIT_MSE
        weakest = float(per_line[b].min())
        gate_like = fitted and float(share[b]) >= SHARE and weakest >= 1 / (4 * len(lines))
        rows.append(
            {
                "relative_mse": rel,
                "fitted": fitted,
                "line_share": float(share[b]),
                "weakest_line": weakest,
                "gate_like": gate_like,
                "operating_range": float(
                    (spread[b] * imp[b]).sum() / imp[b].sum().clamp(min=1e-300)
                ),
            }
        )
    return rows


# --------------------------------------------------------------------------------------
# Trained nets and compiled constructions
# --------------------------------------------------------------------------------------


def _pad_inputs(nets: MLPs, n: int, n_pad: int) -> MLPs:
    w0 = nets.weights[0]
    pad = torch.zeros(w0.shape[0], n_pad - n, w0.shape[2], dtype=w0.dtype)
    nets.weights[0] = torch.cat([w0, pad], dim=1)
    return nets


def train_targets(
    targets: Sequence[Target],
    depth: int,
    width: int,
    streams: Callable[[str, int], torch.Generator],
    replicates: int,
    *,
    steps: int,
    batch: int,
    lr: float,
    test: int,
    activation: str = "softplus",
) -> list[dict[str, float | bool | str | int]]:
    """Train one net per (target, replicate) at (depth, width), all at once; detector rows.

    Net (t, r) draws its initialisation and mini-batches from
    ``streams(f"{t.name}/d{depth}/w{width}", r)`` and its test set from
    ``streams(f"{t.name}/test", r)``. Targets with fewer inputs are zero-padded to the
    largest n (their extra input weights start at 0 and get no gradient).
    """
    n_pad = max(t.n for t in targets)
    cells = [(t, r) for t in targets for r in range(replicates)]
    gens = [streams(f"{t.name}/d{depth}/w{width}", r) for t, r in cells]
    parts = [
        init_mlps(t.n, depth, width, activation, [g]) for (t, _), g in zip(cells, gens, strict=True)
    ]
    parts = [_pad_inputs(p, t.n, n_pad) for p, (t, _) in zip(parts, cells, strict=True)]
    nets = MLPs(
        [torch.cat([p.weights[i] for p in parts]) for i in range(depth)],
        [torch.cat([p.biases[i] for p in parts]) for i in range(depth)],
        torch.cat([p.w_out for p in parts]),
        torch.cat([p.b_out for p in parts]),
        activation,
    )

    def padded(t: Target) -> Callable[[int, torch.Generator], tuple[Tensor, Tensor]]:
        def sample(count: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
            x, y = t.sample(count, g)
            return torch.cat([x, torch.zeros(count, n_pad - t.n, dtype=x.dtype)], 1), y

        return sample

    train_mlps(
        nets,
        [padded(t) for t, _ in cells],
        gens,
        steps=steps,
        batch=batch,
        lr=lr,
        bce=[t.bce for t, _ in cells],
    )
    tests = [padded(t)(test, streams(f"{t.name}/test", r)) for t, r in cells]
    x = torch.stack([a for a, _ in tests])
    truth = torch.stack(
        [
            t.truth(a[:, : t.n]) if t.truth else y
            for (t, _), (a, y) in zip(cells, tests, strict=True)
        ]
    )
    rows: list[dict[str, float | bool | str | int]] = []
    for t in targets:
        idx = [i for i, (u, _) in enumerate(cells) if u is t]
        sub = MLPs(
            [w[idx] for w in nets.weights],
            [b[idx] for b in nets.biases],
            nets.w_out[idx],
            nets.b_out[idx],
            activation,
        )
        for i, row in zip(idx, gate_report(sub, t.n, t.monomial, x[idx], truth[idx]), strict=True):
            rows.append(
                {"target": t.name, "depth": depth, "width": width, "replicate": cells[i][1], **row}
            )
    return rows


def compiled_mlps(
    target: Target,
    width: int,
    generator: torch.Generator,
    activation: str = "softplus",
    lam: float = 0.3,
    bias: float = 1.0,
) -> MLPs:
    """LTR's one-hidden-layer construction of the target's product, padded to ``width``.

    x1·x2 (and the Gaussian logit, scaled by its coefficient): the 4-neuron gate of eq. 11
    at b = :func:`gate_bias`; x1⋯x4: eq. A4's 2^4 sign vectors at b = ``bias``. The padding
    units get random input weights U(±1/√n) and output weight 0 (they do nothing).
    """
    k = len(target.monomial)
    scale = 2 * GAUSS_RHO / (1 - GAUSS_RHO**2) if target.truth is not None else 1.0
    if k == 2:
        b = gate_bias(activation)
        s2 = float(derivatives_on(activation, np.array([b]), 2)[2][0])
        dirs = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
        out = torch.tensor([1.0, 1.0, -1.0, -1.0]) / (4 * s2 * lam**2)
    else:
        b = bias
        net = dp.shallow_product(k, activation, lam, bias)
        dirs = net.ws[0] / lam
        dn = math.factorial(k) * float(taylor_coefficients(activation, bias, k)[k])
        out = dirs.prod(dim=1) / (2**k * dn * lam**k)
    m = dirs.shape[0]
    if width < m:
        raise ValueError(f"width {width} is below the construction's {m} neurons")
    w = (torch.rand(target.n, width, generator=generator, dtype=torch.float64) * 2 - 1) / math.sqrt(
        target.n
    )
    w[:, :m] = 0.0
    for row, d in enumerate(dirs.double()):
        for c, i in enumerate(target.monomial):
            w[i, row] = lam * d[c]
    biases = torch.zeros(1, width, dtype=torch.float64)
    biases[0, :m] = b
    w_out = torch.zeros(width, 1, dtype=torch.float64)
    w_out[:m, 0] = scale * out.double()
    b_out = torch.zeros(1, 1, dtype=torch.float64)  # Σ_j a_j σ(b) = 0: the signs cancel
    return MLPs([w[None]], [biases[None]], w_out[None], b_out[None], activation)


def compiled_report(
    target: Target,
    width: int,
    streams: Callable[[str, int], torch.Generator],
    replicate: int,
    test: int,
    activation: str = "softplus",
) -> dict[str, float | bool]:
    """The detector on the compiled construction padded to ``width`` (the claims' control)."""
    g = streams(f"{target.name}/compiled/w{width}", replicate)
    nets = compiled_mlps(target, width, g, activation)
    x, y = target.sample(test, streams(f"{target.name}/test", replicate))
    truth = target.truth(x) if target.truth else y
    return gate_report(nets, target.n, target.monomial, x[None], truth[None])[0]
