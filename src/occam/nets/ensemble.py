"""Train N independent networks at once, each until it first fits its training set.

The networks' parameters are stacked along a leading axis (``torch.func.stack_module_state``)
and the forward pass is ``torch.func.vmap`` over that axis, so one call trains the whole
ensemble. Independence is exact:

* each net has its own initialisation (its own draw from the generator) and its own
  minibatch order (a per-net permutation, gathered as ``X[idx]`` with shape (N, B, ...));
* the loss is the *sum over nets* of each net's mean minibatch loss, so each net receives
  exactly its own gradient, and every optimiser used here (SGD, momentum, Adam, Adagrad,
  Adadelta, RMSprop) acts element-wise, so one ``torch.optim`` object serves the ensemble.

Stopping mirrors Keras' ``EarlyStoppingByAccuracy`` in the authors' code (brief §1.4):
at the end of each epoch the full training accuracy of every active net is computed; a net
that first reaches 100% is trained ``epochs_after_fit`` more epochs, then its function on the
test set E (a bit string, '1' where the logit > 0 for cross-entropy, output > 0.5 for MSE) is
recorded and the net leaves the ensemble. Nets that never fit within ``max_epochs`` are
dropped and counted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

OptimizerName = Literal["sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop"]
OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop")

# Keras' default learning rates (the authors used Keras optimisers by name, brief §1.4).
DEFAULT_LR: dict[str, float] = {
    "sgd": 0.01,
    "momentum": 0.001,
    "adam": 0.001,
    "adagrad": 0.01,
    "adadelta": 1.0,
    "rmsprop": 0.001,
}


@dataclass(frozen=True)
class TrainSpec:
    """How each net of the ensemble is trained (the paper's training knobs)."""

    optimizer: OptimizerName = "sgd"
    lr: float | None = None  # None: the Keras default for the optimiser
    batch_size: int = 32
    loss: Literal["ce", "mse"] = "ce"
    max_epochs: int = 500
    epochs_after_fit: int = 0
    momentum: float = 0.9  # for optimizer="momentum" (the authors' HEAD SGD)

    @property
    def learning_rate(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr


def make_optimizer(params: list[Tensor], spec: TrainSpec) -> torch.optim.Optimizer:
    """A ``torch.optim`` optimiser over the stacked parameters (element-wise, so per net)."""
    lr = spec.learning_rate
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if spec.optimizer == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=spec.momentum)
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, eps=1e-7)  # Keras' epsilon
    if spec.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, initial_accumulator_value=0.1, eps=1e-7)
    if spec.optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=0.95, eps=1e-7)
    if spec.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    raise ValueError(f"unknown optimizer {spec.optimizer!r} (choose from {', '.join(OPTIMIZERS)})")


@dataclass
class EnsembleOutcome:
    """What an ensemble run gives back.

    functions: (n_fitted, |E|) uint8, each row the net's labelling of E (1 = positive class).
    epochs: (n_fitted,) int, the epoch at which each net first fitted S.
    n_unfitted: nets that never reached 100% training accuracy (dropped).
    steps: optimiser steps taken (over the whole ensemble), for throughput figures.
    flops: forward+backward FLOPs spent in training, estimated as 3x the forward FLOPs.
    """

    functions: np.ndarray
    epochs: np.ndarray
    n_unfitted: int
    steps: int = 0
    flops: float = 0.0

    @property
    def n_runs(self) -> int:
        return int(self.functions.shape[0]) + self.n_unfitted


def _slice_optimizer(
    opt: torch.optim.Optimizer, old: list[Tensor], new: list[Tensor], keep: Tensor, spec: TrainSpec
) -> torch.optim.Optimizer:
    """A fresh optimiser over ``new`` (= ``old[keep]``) carrying the kept nets' state."""
    fresh = make_optimizer(new, spec)
    for p_old, p_new in zip(old, new, strict=True):
        state = opt.state.get(p_old)
        if not state:
            continue
        fresh.state[p_new] = {
            k: (v[keep].clone() if isinstance(v, Tensor) and v.dim() == p_old.dim() else v)
            for k, v in state.items()
        }
    return fresh


def _forward_flops(model: nn.Module, x: Tensor) -> float:
    """Multiply-add FLOPs (2 per MAC) of one forward pass of ``model`` on ``x`` (one net)."""
    flops = 0.0

    def hook(mod: nn.Module, inp: tuple[Tensor, ...], out: Tensor) -> None:
        nonlocal flops
        if isinstance(mod, nn.Linear):
            flops += 2.0 * inp[0].numel() / inp[0].shape[-1] * mod.in_features * mod.out_features
        elif isinstance(mod, nn.Conv2d):
            k = mod.weight[0].numel()
            flops += 2.0 * out.numel() * k

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return flops


class StackedNets:
    """N copies of one architecture with their parameters stacked on a leading axis.

    ``forward(params, x, shared)`` maps x of shape (N, B, ...) (or (B, ...) when ``shared``,
    the same inputs for every net) to outputs (N, B): one vmapped call for the whole ensemble.
    """

    def __init__(self, models: list[nn.Module], device: torch.device | str = "cpu") -> None:
        self.base = copy.deepcopy(models[0]).to("meta")
        stacked, buffers = stack_module_state(models)  # type: ignore[arg-type]
        self.names = list(stacked)
        self.params = [stacked[n].detach().to(device).requires_grad_() for n in self.names]
        self.buffers = {k: v.to(device) for k, v in buffers.items()}

    def _one(self, p: dict[str, Tensor], b: dict[str, Tensor], x: Tensor) -> Tensor:
        return functional_call(self.base, (p, b), (x,)).squeeze(-1)

    def forward(self, params: list[Tensor], x: Tensor, shared: bool = False) -> Tensor:
        p = dict(zip(self.names, params, strict=True))
        # buffers are stacked too (empty for our nets), so they map over axis 0 like params
        return vmap(self._one, in_dims=(0, 0, None if shared else 0))(p, self.buffers, x)


def train_ensemble(
    build: Any,
    X_train: Tensor,
    y_train: Tensor,
    X_test: Tensor,
    n_nets: int,
    spec: TrainSpec,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    eval_batch: int = 4096,
) -> EnsembleOutcome:
    """Train ``n_nets`` independent nets on (X_train, y_train); record their functions on X_test.

    build: a callable ``build(generator) -> nn.Module`` (e.g. ``FCNArch(...).build``) that
        returns one freshly initialised net mapping (B, *input_shape) -> (B, 1).
    X_train: (m, *input_shape) float; y_train: (m,) in {0, 1}; X_test: (|E|, *input_shape).
    generator: drives every initialisation and every minibatch order (CPU generator).
    """
    device = torch.device(device)
    models = [build(generator=generator) for _ in range(n_nets)]
    flops_per_example = _forward_flops(models[0], X_train[:1])
    stack = StackedNets(models, device)
    params = stack.params
    del models

    X = X_train.to(device)
    y = y_train.to(device=device, dtype=X.dtype)
    XE = X_test.to(device)
    m = X.shape[0]
    B = min(spec.batch_size, m)
    forward = stack.forward

    def predict(ps: list[Tensor], x: Tensor) -> Tensor:
        with torch.no_grad():
            return torch.cat(
                [forward(ps, x[i : i + eval_batch], True) for i in range(0, len(x), eval_batch)],
                dim=1,
            )

    def positive(out: Tensor) -> Tensor:
        return out > (0.0 if spec.loss == "ce" else 0.5)

    opt = make_optimizer(params, spec)
    net_ids = torch.arange(n_nets)  # which original net each row is
    fit_epoch = torch.full((n_nets,), -1, dtype=torch.long)
    functions = torch.zeros((n_nets, XE.shape[0]), dtype=torch.uint8)
    done = torch.zeros(n_nets, dtype=torch.bool)
    steps = 0
    flops = 0.0

    for epoch in range(1, spec.max_epochs + 1):
        n_active = params[0].shape[0]
        perm = torch.argsort(torch.rand(n_active, m, generator=generator), dim=1).to(device)
        for start in range(0, m, B):
            idx = perm[:, start : start + B]
            out = forward(params, X[idx], False)
            target = y[idx]
            if spec.loss == "ce":
                loss = nn.functional.binary_cross_entropy_with_logits(out, target, reduction="none")
            else:
                loss = (out - target) ** 2
            loss.mean(dim=1).sum().backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            steps += 1
            flops += 3.0 * flops_per_example * idx.numel()

        # end of epoch: full training accuracy of the nets still training (Keras semantics)
        acc_ok = (positive(predict(params, X)) == (y > 0.5)).all(dim=1).cpu()
        flops += flops_per_example * m * n_active
        first_fit = acc_ok & (fit_epoch[net_ids] < 0)
        fit_epoch[net_ids[first_fit]] = epoch
        record = (fit_epoch[net_ids] >= 0) & (epoch - fit_epoch[net_ids] >= spec.epochs_after_fit)
        if spec.epochs_after_fit > 0:
            # an overtrained net must still fit S when its function is read off
            record &= acc_ok | (epoch - fit_epoch[net_ids] > spec.epochs_after_fit)
        if record.any():
            rows = record.nonzero().squeeze(1)
            sub = [p.detach()[rows.to(device)] for p in params]
            functions[net_ids[rows]] = positive(predict(sub, XE)).to(torch.uint8).cpu()
            done[net_ids[rows]] = True
            keep = (~record).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            kept = [p.detach()[keep.to(device)].clone().requires_grad_() for p in params]
            opt = _slice_optimizer(opt, params, kept, keep.to(device), spec)
            params = kept
            net_ids = net_ids[keep]

    fitted = done.nonzero().squeeze(1)
    return EnsembleOutcome(
        functions=functions[fitted].numpy(),
        epochs=fit_epoch[fitted].numpy(),
        n_unfitted=int(n_nets - fitted.numel()),
        steps=steps,
        flops=flops,
    )


def bits_to_strings(functions: np.ndarray) -> list[str]:
    """(n, |E|) 0/1 array -> list of '0'/'1' strings (the paper's function format)."""
    chars = np.where(functions.astype(bool), ord("1"), ord("0")).astype(np.uint8)
    return [row.tobytes().decode("ascii") for row in chars]
