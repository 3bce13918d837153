"""Batched smooth MLPs trained from random initialisation: many small nets at once.

Used by the open-question studies (:mod:`probe`, :mod:`bumps`): B nets of the same depth
and width are stacked on a leading axis and trained together with one ``torch.bmm`` per
layer. Each net draws its initialisation and its mini-batches from its own generator, so a
net's numbers do not depend on how many nets share the batch.

Shapes: parameters ``weights[l]`` (B, fan_in, width) and ``biases[l]`` (B, 1, width) for
the hidden layers, ``w_out`` (B, width, 1), ``b_out`` (B, 1, 1); inputs (B, batch, n) or
(batch, n) shared; outputs (B, batch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from occam.deep_cheap.gates import get_activation

__all__ = ["MLPs", "init_mlps", "train_mlps"]

Sampler = Callable[[int, torch.Generator], tuple[Tensor, Tensor]]


@dataclass
class MLPs:
    """B fully connected nets ``n → width → … → width → 1`` with activation ``activation``."""

    weights: list[Tensor]
    biases: list[Tensor]
    w_out: Tensor
    b_out: Tensor
    activation: str

    @property
    def count(self) -> int:
        return int(self.w_out.shape[0])

    @property
    def width(self) -> int:
        return int(self.w_out.shape[1])

    @property
    def depth(self) -> int:
        return len(self.weights)

    def parameters(self) -> list[Tensor]:
        return [*self.weights, *self.biases, self.w_out, self.b_out]

    def hidden(self, x: Tensor) -> list[Tensor]:
        """Activations of every hidden layer, each (B, batch, width)."""
        fn = get_activation(self.activation).fn
        h = x if x.dim() == 3 else x.expand(self.count, *x.shape)
        out = []
        for w, b in zip(self.weights, self.biases, strict=True):
            h = fn(torch.baddbmm(b, h, w))
            out.append(h)
        return out

    def __call__(self, x: Tensor, first_override: Tensor | None = None) -> Tensor:
        """(B, batch, n) or (batch, n) → (B, batch).

        ``first_override``: replaces the first hidden layer's activations (B, batch, width),
        e.g. with some units mean-ablated; the later layers run on it.
        """
        fn = get_activation(self.activation).fn
        if first_override is None:
            h = self.hidden(x)[-1]
        else:
            h = first_override
            for w, b in zip(self.weights[1:], self.biases[1:], strict=True):
                h = fn(torch.baddbmm(b, h, w))
        return torch.baddbmm(self.b_out, h, self.w_out).squeeze(-1)


def init_mlps(
    n: int, depth: int, width: int, activation: str, generators: Sequence[torch.Generator]
) -> MLPs:
    """PyTorch's default initialisation U(±1/√fan_in), one generator per net (float64)."""

    def draw(shape: tuple[int, ...], fan_in: int) -> Tensor:
        return torch.stack(
            [
                (torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1) / math.sqrt(fan_in)
                for g in generators
            ]
        )

    weights, biases = [], []
    fan = n
    for _ in range(depth):
        weights.append(draw((fan, width), fan))
        biases.append(draw((1, width), fan))
        fan = width
    return MLPs(weights, biases, draw((width, 1), width), draw((1, 1), width), activation)


def train_mlps(
    nets: MLPs,
    samplers: Sequence[Sampler],
    generators: Sequence[torch.Generator],
    *,
    steps: int,
    batch: int,
    lr: float,
    bce: Sequence[bool] | None = None,
) -> MLPs:
    """Adam with a linearly decaying step on each net's own fresh mini-batches, in place.

    Net b trains on ``samplers[b](batch, generators[b])``, which returns inputs (batch, n)
    and targets (batch,). Loss: mean squared error, or, where ``bce[b]``, binary cross
    entropy with the output as the logit and the target a probability (soft labels).
    """
    use_bce = torch.tensor(list(bce) if bce is not None else [False] * nets.count)
    params = nets.parameters()
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - s / steps)
    for _ in range(steps):
        draws = [s(batch, g) for s, g in zip(samplers, generators, strict=True)]
        x = torch.stack([d[0] for d in draws])
        y = torch.stack([d[1] for d in draws])
        out = nets(x)
        mse = ((out - y) ** 2).mean(dim=1)
        if bool(use_bce.any()):
            ce = torch.nn.functional.binary_cross_entropy_with_logits(
                out, y, reduction="none"
            ).mean(dim=1)
            per_net = torch.where(use_bce, ce, mse)
        else:
            per_net = mse
        opt.zero_grad(set_to_none=True)
        per_net.sum().backward()
        opt.step()
        sched.step()
    for p in params:
        p.requires_grad_(False)
    return nets
