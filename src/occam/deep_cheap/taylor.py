"""Shallow neuron counts as Taylor matching: can m neurons match a monomial's coefficients?

RT Thm II.1 and Prop. II.6: one hidden layer needs exactly m₁(p) = ∏(r_i + 1) neurons
to reproduce p = x^r = x1^r1⋯xn^rn up to error of degree N + 1 (N = Σ r_i), and
m₁(x^d) = d + 1. Their networks expand σ about one operating point b (a shared bias,
no output bias: the constant term is one of the conditions). Then

    Σ_j v_j σ(b + a_j·x) = Σ_α σ_{|α|} (|α|!/α!) (Σ_j v_j a_j^α) x^α,

and with every Taylor coefficient σ_k ≠ 0 (k ≤ N) matching p through degree N is the
linear system Σ_j v_j a_j^α = c δ_{α r} for all |α| ≤ N (c ≠ 0 absorbed into v):
e_r must lie in the span of the m columns (a_j^α)_{|α| ≤ N}. The probe measures the
distance ρ(a) = min_v ‖A(a) v − e_r‖₂ (σ drops out) and minimises it over the input
weights with |a_j|_∞ ≤ 1 (the constructions' nodes lie in [−1, 1]; the input scale λ comes
on top). The bound is needed: without it ρ → 0 for any m ≥ 1, one neuron with a → ∞
carrying the top-degree direction (c(t)/t^N → e_N), at the price of huge higher terms.

Univariate floor (:func:`power_floor`): for x^d and m = d neurons with nodes t_j ∈ [−1, 1],
every polynomial q vanishing at the nodes is orthogonal to the columns, and
q(s) = ∏_j (s − t_j) is one with q_d = 1, so ρ ≥ |q_d| / ‖q‖₂ ≥ 1/√C(2d, d): the
coefficients of ∏(s − t_j) are bounded by those of (s + 1)^d, whose squared norm is
Σ_k C(d, k)² = C(2d, d). (For distinct nodes ρ equals |q_d|/‖q‖₂, since the orthogonal
complement is then one-dimensional.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "TaylorFit",
    "fit_taylor_residual",
    "multi_indices",
    "power_floor",
    "shallow_count",
    "taylor_matrix",
    "taylor_residual",
    "exact_residual",
]

F64 = torch.float64


def shallow_count(exponents: Sequence[int]) -> int:
    """RT Thm II.1: m₁(x^r) = ∏(r_i + 1) (m₁(x^d) = d + 1, Prop. II.6)."""
    return math.prod(int(r) + 1 for r in exponents)


def power_floor(d: int) -> float:
    """Lower bound 1/√C(2d, d) on ρ for x^d with d neurons, nodes in [−1, 1] (module doc)."""
    return 1.0 / math.sqrt(math.comb(2 * d, d))


def multi_indices(n: int, degree: int) -> list[tuple[int, ...]]:
    """Every α ∈ ℕⁿ with |α| ≤ degree, graded (by |α|, then lexicographic)."""
    out = [a for a in itertools.product(range(degree + 1), repeat=n) if sum(a) <= degree]
    return sorted(out, key=lambda a: (sum(a), tuple(-x for x in a)))


def taylor_matrix(a: Tensor, indices: Sequence[tuple[int, ...]]) -> Tensor:
    """A[..., α, j] = a_j^α: (..., m, n) weights → (..., K, m), K = len(indices)."""
    powers = torch.tensor(indices, dtype=a.dtype, device=a.device)  # (K, n)
    # a_j^α = ∏_i a_ji^α_i; 0^0 = 1 as torch.pow gives
    return (a[..., None, :, :] ** powers[:, None, :]).prod(dim=-1)


def taylor_residual(a: Tensor, exponents: Sequence[int]) -> Tensor:
    """ρ(a)² = min_v ‖A(a) v − e_r‖₂² for weights a (..., m, n) → (...,); differentiable.

    Computed as 1 − ‖Qᵀ e_r‖² with Q from a reduced QR of A (K ≥ m rows); columns that
    are dependent only shrink the span, which the QR handles as long as A has full column
    rank, the generic case the optimiser sees.
    """
    r = tuple(int(x) for x in exponents)
    idx = multi_indices(len(r), sum(r))
    A = taylor_matrix(a, idx)
    q, _ = torch.linalg.qr(A, mode="reduced")
    proj = q[..., idx.index(r), :]  # Qᵀ e_r: (..., m)
    return 1.0 - (proj * proj).sum(dim=-1)


def exact_residual(a: Tensor, exponents: Sequence[int]) -> Tensor:
    """ρ(a) by least squares (rank-revealing, no full-rank assumption): (..., m, n) → (...,)."""
    r = tuple(int(x) for x in exponents)
    idx = multi_indices(len(r), sum(r))
    A = taylor_matrix(a.to(F64), idx)
    e = torch.zeros(*A.shape[:-1], 1, dtype=F64)
    e[..., idx.index(r), 0] = 1.0
    v = torch.linalg.pinv(A, rtol=1e-12) @ e
    return (A @ v - e).squeeze(-1).norm(dim=-1)


@dataclass
class TaylorFit:
    """Best residual over restarts for one monomial and width m."""

    exponents: tuple[int, ...]
    neurons: int
    residual: float  # min over restarts of ρ (least-squares recheck at the optimum)
    residuals: list[float]  # every restart's final ρ
    weights: Tensor  # (m, n) input weights of the best restart


def fit_taylor_residual(
    exponents: Sequence[int],
    neurons: int,
    *,
    restarts: int,
    steps: int,
    generator: torch.Generator,
    lr: float = 0.05,
) -> TaylorFit:
    """Minimise ρ over input weights a = tanh(θ) ∈ (−1, 1)^{m×n}, v by least squares.

    All restarts run as one batch (θ ~ N(0, 1) per restart); Adam on θ with a step size
    decaying linearly to 0, then each restart's ρ is recomputed by pseudo-inverse least
    squares (:func:`exact_residual`), which does not rely on the QR's full-rank premise.
    """
    r = tuple(int(x) for x in exponents)
    theta = torch.randn(restarts, neurons, len(r), generator=generator, dtype=F64)
    theta.requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - s / steps)
    for _ in range(steps):
        # ρ² is smooth (ρ itself has a kink at 0)
        loss = taylor_residual(torch.tanh(theta), r).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        a = torch.tanh(theta)
        rho = exact_residual(a, r)
    best = int(rho.argmin())
    return TaylorFit(r, neurons, float(rho[best]), [float(x) for x in rho], a[best].clone())
