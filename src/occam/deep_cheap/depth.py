"""Depth separation for the product x1⋯xn: exact constructions and a trained check.

Constructive (all float64, inputs in [−1,1]^n):

* **Shallow** (LTR App. A, eq. A4): one hidden layer of 2^n neurons,
  ∏x_i ≈ Σ_{s ∈ {±1}^n} s1⋯sn σ(b + λ s·x) / (2^n σ^(n)(b) λ^n); σ^(n)(b) = n! σ_n must be
  non-zero, so softplus is shifted to b = 1 (its odd derivatives vanish at 0). LTR prove
  2^n is the minimum for one hidden layer; RT Cor. II.3 give m₁ ≥ C(n, ⌊n/2⌋).
* **k hidden layers** (RT Thm III.1, eq. 10): multiply groups of b₁ inputs with shallow
  2^{b₁} blocks, regroup by b₂, …; Σ_i (∏_{j>i} b_j) 2^{b_i} neurons
  (:func:`rt_neuron_count`). For n not a power, :func:`rt_layer_groups` picks group sizes
  (as even as possible per layer) minimising the count, copy gates (1 neuron) for groups of 1.
* **Binary tree** (LTR §III H): n − 1 product gates, 4(n−1) neurons in ⌈log₂ n⌉ layers
  (LTR state 4n); built with the polynomial compiler, odd factors passed by skip connections.

Trained (RT §III A, Fig. 2): tanh (or ReLU) networks of depth k and width w learn ∏x_i
with an L1 loss (:func:`product_distribution`: what x ~ U[0, 2]^n does to the target);
:func:`train_product_nets` trains every width of one depth at once as a single
width-padded, masked batch of networks (``torch.bmm`` over a leading "network" axis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import Tensor, nn

from occam.deep_cheap.gates import copy_bias, derivatives, get_activation, taylor_coefficients

__all__ = [
    "BlockNets",
    "LayeredProduct",
    "ShallowMonomial",
    "TrainResult",
    "minimal_widths",
    "product_distribution",
    "rt_layer_groups",
    "rt_neuron_count",
    "rt_width_curve",
    "sample_product",
    "shallow_product",
    "train_product_nets",
    "tree_copies",
]


# --------------------------------------------------------------------------------------
# Neuron counts
# --------------------------------------------------------------------------------------


def rt_neuron_count(groups: Sequence[int]) -> int:
    """RT eq. 10: Σ_{i=1}^k (∏_{j>i} b_j) 2^{b_i} neurons for group sizes b₁, …, b_k."""
    total = 0
    for i, b in enumerate(groups):
        total += math.prod(groups[i + 1 :]) * 2**b
    return total


def _group_cost(g: int) -> int:
    return 1 if g == 1 else 2**g  # a group of one is a copy gate


def _split(c: int, parts: int) -> list[int]:
    q, r = divmod(c, parts)
    return [q + 1] * r + [q] * (parts - r)


@cache
def _best(c: int, layers: int) -> tuple[int, tuple[int, ...]]:
    """(min neurons, item counts after each layer) to reduce c items to 1 in ``layers``."""
    if layers == 0:
        return (0, ()) if c == 1 else (10**30, ())
    best: tuple[int, tuple[int, ...]] = (10**30, ())
    for parts in range(1, c + 1):
        cost = sum(_group_cost(g) for g in _split(c, parts))
        rest, path = _best(parts, layers - 1)
        if cost + rest < best[0]:
            best = (cost + rest, (parts, *path))
    return best


def rt_layer_groups(n: int, k: int) -> list[list[int]]:
    """Group sizes per hidden layer for x1⋯xn with exactly k hidden layers, fewest neurons.

    Each layer splits its items into consecutive groups as evenly as possible (Σ 2^g is
    convex in g); a group of g ≥ 2 costs 2^g neurons (a shallow product), a group of 1 costs
    1 (a copy gate). For n = b^k this reproduces RT eq. 10 with b_i = b or better.
    """
    if n < 1 or k < 1:
        raise ValueError(f"need n >= 1 and k >= 1, got n={n}, k={k}")
    _, path = _best(n, k)
    groups, c = [], n
    for parts in path:
        groups.append(_split(c, parts))
        c = parts
    return groups


def tree_copies(n: int) -> int:
    """Copy gates a balanced binary product tree over n factors needs (odd levels)."""
    copies = 0
    while n > 1:
        copies += n % 2
        n = (n + 1) // 2
    return copies


def rt_width_curve(n: int, k: float) -> float:
    """RT Thm III.1 scaling n^{(k−1)/k} · 2^{n^{1/k}} (the curve overlaid in RT Fig. 2)."""
    return float(n ** ((k - 1) / k) * 2 ** (n ** (1 / k)))


# --------------------------------------------------------------------------------------
# Constructions
# --------------------------------------------------------------------------------------


class LayeredProduct(nn.Module):
    """∏x_i with k hidden layers of shallow group products: (batch, n) → (batch,).

    Layer i splits its current values into consecutive groups (``groups[i]``); a group of
    size g ≥ 2 is the shallow network Σ_s (∏s) σ(b + λ s·u) / (2^g σ^(g)(b) λ^g) (LTR eq. A4)
    with 2^g neurons, a group of 1 a copy gate. Every value stays an exact partial product
    (|u| ≤ 1), so each block works at its own scale λ. ``neuron_count`` = Σ layer widths.
    """

    def __init__(
        self,
        groups: Sequence[Sequence[int]],
        activation: str = "softplus",
        lam: float = 0.1,
        bias: float = 1.0,
    ) -> None:
        super().__init__()
        self.fn = get_activation(activation).fn
        n = sum(groups[0])
        self.n, self.groups = n, [list(g) for g in groups]
        g_max = max(max(layer) for layer in groups)
        coeffs = taylor_coefficients(activation, bias, g_max)
        bc = copy_bias(activation)
        c0, c1 = derivatives(activation, bc, 1)
        self.ws, self.bs, self.vs, self.cs = [], [], [], []
        n_in = n
        widths = []
        for layer in groups:
            if sum(layer) != n_in:
                raise ValueError(f"groups {layer} do not cover {n_in} values")
            width = sum(_group_cost(g) for g in layer)
            w = torch.zeros(width, n_in, dtype=torch.float64)
            b = torch.zeros(width, dtype=torch.float64)
            v = torch.zeros(len(layer), width, dtype=torch.float64)
            c = torch.zeros(len(layer), dtype=torch.float64)
            h, start = 0, 0
            for j, g in enumerate(layer):
                if g == 1:
                    w[h, start], b[h], v[j, h] = lam, bc, 1.0 / (lam * c1)
                    c[j] = -c0 / (lam * c1)
                    h += 1
                else:
                    dg = math.factorial(g) * coeffs[g]  # σ^(g)(b)
                    signs = torch.cartesian_prod(*[torch.tensor([1.0, -1.0])] * g).reshape(-1, g)
                    rows = slice(h, h + 2**g)
                    w[rows, start : start + g] = lam * signs.double()
                    b[rows] = bias
                    v[j, rows] = signs.double().prod(dim=1) / (2**g * dg * lam**g)
                    h += 2**g
                start += g
            self.ws.append(w)
            self.bs.append(b)
            self.vs.append(v)
            self.cs.append(c)
            widths.append(width)
            n_in = len(layer)
        self.layer_widths = widths
        self.neuron_count = int(sum(widths))
        self.depth = len(groups)

    def forward(self, x: Tensor, chunk: int = 256) -> Tensor:
        """x: (batch, n) → (batch,), evaluated in chunks (the shallow layer is 2^n wide)."""
        outs = []
        for xs in torch.split(x.double(), chunk):
            z = xs
            for w, b, v, c in zip(self.ws, self.bs, self.vs, self.cs, strict=True):
                z = self.fn(z @ w.T + b) @ v.T + c
            outs.append(z.squeeze(-1))
        return torch.cat(outs)


def shallow_product(n: int, activation: str = "softplus", lam: float = 0.1, bias: float = 1.0):
    """LTR eq. A4: the single-hidden-layer, 2^n-neuron product network (batch, n) → (batch,)."""
    return LayeredProduct([[n]], activation, lam, bias)


class ShallowMonomial(nn.Module):
    """x1^r1⋯xn^rn with one hidden layer of ∏(r_i + 1) neurons: (batch, n) → (batch,).

    RT Thm II.1 (the upper half of m₁(p) = ∏(r_i + 1)), built as a tensor product of
    univariate Vandermonde rules, which generalises LTR eq. A4 (r_i = 1, nodes ±1):
    variable i gets the r_i + 1 symmetric nodes t = −1, …, 1 and weights w solving
    Σ_j w_j t_j^m = [m = r_i] for m = 0..r_i; neuron (j_1, …, j_n) computes
    σ(b + λ Σ_i t_{i,j_i} x_i) with output weight ∏_i w_{i,j_i} / (σ_N λ^N N!/∏ r_i!),
    N = Σ r_i and σ_N the N-th Taylor coefficient at b. Every monomial of degree ≤ N other
    than x^r cancels (such a monomial has some power m_i < r_i, whose rule gives 0), and by
    the symmetry of the nodes so do the degree-(N+1) terms, so the error is O(λ²).
    ``neuron_count`` = ∏(r_i + 1). Needs σ_N ≠ 0 at ``bias`` (softplus: b = 1).
    """

    def __init__(
        self,
        exponents: Sequence[int],
        activation: str = "softplus",
        lam: float = 0.1,
        bias: float = 1.0,
    ) -> None:
        super().__init__()
        exps = [int(r) for r in exponents]
        if not exps or min(exps) < 0 or sum(exps) == 0:
            raise ValueError(f"need non-negative exponents with a positive sum, got {exps}")
        self.fn = get_activation(activation).fn
        self.exponents, self.bias, self.lam = exps, float(bias), float(lam)
        nodes = [np.linspace(-1.0, 1.0, r + 1) if r > 0 else np.zeros(1) for r in exps]
        rules = []
        for r, t in zip(exps, nodes, strict=True):
            e = np.zeros(r + 1)
            e[r] = 1.0
            rules.append(np.linalg.solve(np.vander(t, r + 1, increasing=True).T, e))
        n_total = sum(exps)
        sigma_n = float(taylor_coefficients(activation, bias, n_total)[n_total])
        norm = sigma_n * lam**n_total * math.factorial(n_total)
        norm /= math.prod(math.factorial(r) for r in exps)
        grid = np.array(np.meshgrid(*nodes, indexing="ij")).reshape(len(exps), -1).T
        weights = np.array(np.meshgrid(*rules, indexing="ij")).reshape(len(exps), -1).T
        self.directions = torch.tensor(grid, dtype=torch.float64)  # (m, n)
        self.out = torch.tensor(weights.prod(axis=1) / norm, dtype=torch.float64)  # (m,)
        self.neuron_count = int(self.directions.shape[0])

    def hidden(self, x: Tensor) -> Tensor:
        """The hidden layer σ(b + λ t·x): (batch, n) → (batch, neuron_count)."""
        return self.fn(self.bias + self.lam * x.double() @ self.directions.T)

    def forward(self, x: Tensor) -> Tensor:
        return self.hidden(x) @ self.out


# --------------------------------------------------------------------------------------
# Trained networks (RT Fig. 2)
# --------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """Errors of trained nets of one depth: ``errors[s, j]`` for seed s and width j."""

    depth: int
    widths: list[int]
    errors: np.ndarray  # (seeds, widths): relative L1 error on the test set
    final_loss: np.ndarray  # (seeds, widths): last training-batch L1 loss


TRAIN_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}
"""Activations of the trained nets: RT Fig. 2 uses tanh, "similar results" for ReLUs."""

TARGETS = ("product", "sum")
"""Trained targets: RT's product x1⋯xn, and the sum x1+⋯+xn (no multiplication; a control)."""


class BlockNets(nn.Module):
    """Many tanh (or ReLU) MLPs of one depth as one block-diagonal network (one bmm per layer).

    For each seed, the nets of widths w_1..w_J sit side by side as diagonal blocks of
    S = Σ w_j hidden units per layer: the first layer is dense (every unit sees the n
    inputs), hidden-to-hidden weights are (S, S) matrices masked to the diagonal blocks, and
    the read-out sums each block into its own output. Seeds are the leading bmm axis.
    Masked entries start at 0 and get no gradient through the mask, so the nets never mix.
    Init: PyTorch's default U(±1/√fan_in) with each net's own fan-in.

    Shapes: forward (batch, n) or (seeds, batch, n) → (seeds, batch, J).
    """

    block: Tensor
    owner: Tensor

    def __init__(
        self,
        n: int,
        depth: int,
        widths: Sequence[int],
        generators: Sequence[torch.Generator],
        activation: str = "tanh",
    ) -> None:
        super().__init__()
        if activation not in TRAIN_ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r} {tuple(TRAIN_ACTIVATIONS)}")
        self.act = TRAIN_ACTIVATIONS[activation]
        total = sum(widths)
        block = torch.zeros(total, total)
        owner = torch.zeros(total, len(widths))
        fan = torch.zeros(total)
        start = 0
        for j, w in enumerate(widths):
            block[start : start + w, start : start + w] = 1.0
            owner[start : start + w, j] = 1.0
            fan[start : start + w] = w
            start += w
        self.register_buffer("block", block)
        self.register_buffer("owner", owner)
        self.seeds = len(generators)

        def draws(shape: tuple[int, ...]) -> list[Tensor]:
            return [torch.rand(shape, generator=g) * 2.0 - 1.0 for g in generators]

        # Each seed's parameters come from its own generator, drawn in a fixed order, so a
        # seed's network does not depend on how many seeds share the batch.
        per_seed = [
            draws((n, total)),
            draws((1, total)),
            *[draws((total, total)) for _ in range(depth - 1)],
            *[draws((1, total)) for _ in range(depth - 1)],
            draws((1, total)),
            draws((1, len(widths))),
        ]
        stacked = [torch.stack(d) for d in per_seed]
        inv_fan = 1.0 / fan.sqrt()  # (S,): 1/√w of the block a unit belongs to
        self.w_in = nn.Parameter(stacked[0] / math.sqrt(n))
        self.b_in = nn.Parameter(stacked[1] / math.sqrt(n))
        self.w_hidden = nn.ParameterList(
            [nn.Parameter(w * inv_fan[:, None] * block) for w in stacked[2 : 1 + depth]]
        )
        self.b_hidden = nn.ParameterList(
            [nn.Parameter(b * inv_fan[None, :]) for b in stacked[1 + depth : 2 * depth]]
        )
        self.w_out = nn.Parameter(stacked[2 * depth] * inv_fan[None, :])
        self.b_out = nn.Parameter(stacked[2 * depth + 1] / torch.tensor(widths).float().sqrt())

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch, n), shared by all seeds, or (seeds, batch, n) → (seeds, batch, J)."""
        if x.dim() == 2:
            x = x.expand(self.seeds, *x.shape)
        h = self.act(torch.baddbmm(self.b_in, x, self.w_in))
        for w, b in zip(self.w_hidden, self.b_hidden, strict=True):
            h = self.act(torch.baddbmm(b, h, w * self.block))
        return (h * self.w_out) @ self.owner + self.b_out


def sample_product(
    count: int,
    n: int,
    low: float,
    high: float,
    generator: torch.Generator,
    target: str = "product",
) -> tuple[Tensor, Tensor]:
    """x ~ U[low, high]^n (count, n) and the target ∏x_i (or Σx_i) (count,), float32."""
    x = low + (high - low) * torch.rand(count, n, generator=generator)
    if target == "product":
        return x, x.double().prod(dim=1).float()
    if target == "sum":
        return x, x.double().sum(dim=1).float()
    raise ValueError(f"unknown target {target!r} {TARGETS}")


def product_distribution(
    n: int, low: float, high: float, count: int, generator: torch.Generator
) -> dict[str, float]:
    """What x ~ U[low, high]^n does to y = ∏x_i (0 ≤ low < high): moments, quantiles, tail.

    Exact: E y = m^n with m = (low + high)/2, E y² = s^n with s = (low² + low·high + high²)/3.
    log y = Σ log x_i is a sum of n i.i.d. terms, so y is close to log-normal: its median is
    ≈ exp(n E log x), far below the mean when Var log x is large (U[0, 2]: E log x =
    ln 2 − 1, Var log x = 1, so median ≈ e^{−0.307 n} while the mean is 1). Monte Carlo
    (``count`` draws, float64 in log space) gives the quantiles, the relative L1 error of
    the best constant under L1 (the median; RT's loss), and the share of E y carried by
    the top 1% of draws: the tail that a relative L1 error mean|f − y| / mean|y| weighs.
    """
    if not 0.0 <= low < high:
        raise ValueError(f"need 0 <= low < high, got low={low}, high={high}")
    m = (low + high) / 2
    s = (low * low + low * high + high * high) / 3
    x = low + (high - low) * torch.rand(count, n, generator=generator, dtype=torch.float64)
    y = x.log().sum(dim=1).exp()
    q = torch.quantile(y[: min(count, 1 << 24)], torch.tensor([0.1, 0.5, 0.9, 0.99], dtype=y.dtype))
    ys = y.sort().values
    top = ys[int(0.99 * count) :].sum() / ys.sum()
    med = float(q[1])
    return {
        "n": n,
        "mean": m**n,
        "std": math.sqrt(max(s**n - m ** (2 * n), 0.0)),
        "std_over_mean": math.sqrt(max(s**n / m ** (2 * n) - 1.0, 0.0)),
        "q10": float(q[0]),
        "median": med,
        "q90": float(q[2]),
        "q99": float(q[3]),
        "median_over_mean": med / m**n,
        "top1pct_share_of_mean": float(top),
        "median_predictor_relative_l1": float((y - med).abs().mean() / y.abs().mean()),
        "sample_mean_over_mean": float(y.mean()) / m**n,
    }


def train_product_nets(
    n: int,
    depth: int,
    widths: Sequence[int],
    *,
    steps: int,
    batch: int,
    lr: float,
    low: float,
    high: float,
    optimizer: str,
    test_x: Tensor,
    test_y: Tensor,
    generators: Sequence[torch.Generator],
    device: torch.device | str = "cpu",
    activation: str = "tanh",
    target: str = "product",
) -> TrainResult:
    """Train len(generators) × len(widths) tanh or ReLU nets of ``depth`` layers on ∏x_i at once.

    Seed s draws its initialisation and its own mini-batches from ``generators[s]`` (on the
    CPU, so the data are the same on any ``device``): the seeds are independent runs that
    merely share the batched matrix products. ``test_x`` is (T, n), shared, or (seeds, T, n)
    with ``test_y`` (T,) or (seeds, T).

    ``target`` "sum" trains on Σx_i instead (a control with no multiplication).

    Loss: mean |f(x) − ∏x_i| (RT: "the absolute value of the difference"). Inputs are
    centred and scaled to [−1, 1] (an affine map the first layer could absorb); the output
    bias starts at the target mean. Adam's step size decays linearly to 0; AdaDelta (RT's
    optimiser) uses ``lr`` as its coefficient.

    Returns:
        relative test error mean|f − y| / mean|y| per (seed, width).
    """
    seeds = len(generators)
    mid, half = (low + high) / 2, (high - low) / 2
    nets = BlockNets(n, depth, widths, generators, activation).to(device)
    tx = test_x if test_x.dim() == 3 else test_x.expand(seeds, *test_x.shape)
    ty = test_y if test_y.dim() == 2 else test_y.expand(seeds, *test_y.shape)
    with torch.no_grad():
        # the mean target (ty lives on the CPU, the nets on ``device``)
        nets.b_out.add_(ty.mean(dim=1)[:, None, None].to(nets.b_out))
    params = list(nets.parameters())
    if optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - s / steps)
    elif optimizer == "adadelta":
        opt = torch.optim.Adadelta(params, lr=lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r} (adam, adadelta)")
    loss = torch.zeros(seeds, len(widths), device=device)
    for _ in range(steps):
        draws = [sample_product(batch, n, low, high, g, target) for g in generators]
        x = torch.stack([d[0] for d in draws]).to(device)  # (seeds, batch, n)
        y = torch.stack([d[1] for d in draws]).to(device)  # (seeds, batch)
        per_net = (nets((x - mid) / half) - y[:, :, None]).abs().mean(dim=1)  # (seeds, J)
        opt.zero_grad(set_to_none=True)
        per_net.sum().backward()
        opt.step()
        sched.step()
        loss = per_net.detach()
    with torch.no_grad():  # in chunks: (seeds, T, Σ widths) activations need not fit at once
        tx, ty = tx.to(device), ty.to(device)
        err = torch.zeros(seeds, len(widths), device=device)
        for xs, ys in zip(tx.split(16384, dim=1), ty.split(16384, dim=1), strict=True):
            err += (nets((xs - mid) / half) - ys[:, :, None]).abs().sum(dim=1)
        rel = (err / tx.shape[1]) / ty.abs().mean(dim=1, keepdim=True)
    return TrainResult(depth, list(widths), rel.cpu().numpy(), loss.cpu().numpy())


def minimal_widths(results: Sequence[TrainResult], threshold: float) -> dict[int, int | None]:
    """Smallest width whose best-of-seeds error is ≤ threshold, per depth (None: none does)."""
    out: dict[int, int | None] = {}
    for r in results:
        best = r.errors.min(axis=0)
        ok = [w for w, e in zip(r.widths, best, strict=True) if e <= threshold]
        out[r.depth] = min(ok) if ok else None
    return out
