"""Train N independent networks at once, each until it first fits its training set.

The networks' parameters are stacked along a leading axis (``torch.func.stack_module_state``)
and the forward pass is ``torch.func.vmap`` over that axis, so one call trains the whole
ensemble. Independence is exact:

* each net has its own initialisation (its own draw from the generator) and its own
  minibatch order (a per-net permutation, gathered as ``X[idx]`` with shape (N, B, ...));
* the loss is the *sum over nets* of each net's mean minibatch loss, so each net receives
  exactly its own gradient, and every optimiser used here (SGD, momentum, Adam, Adagrad,
  Adadelta, RMSprop) acts element-wise, so one ``torch.optim`` object serves the ensemble.

Stopping mirrors Keras' ``EarlyStoppingByAccuracy`` in the authors' ``NN_train.py``
(nn-pacbayes): at the end of each epoch the full training accuracy of every active net is
computed; a net
that first reaches 100% is trained ``epochs_after_fit`` more epochs, then its function on the
test set E (a bit string, '1' where the logit > 0 for cross-entropy, output > 0.5 for MSE) is
recorded and the net leaves the ensemble. Nets that never fit within ``max_epochs`` are
dropped and counted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

OptimizerName = Literal["sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop"]
OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop")

# Keras' default learning rates (the authors' NN_train.py takes Keras optimisers by name).
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
            k: (v[keep] if isinstance(v, Tensor) and v.dim() == p_old.dim() else v)
            for k, v in state.items()
        }
    return fresh


def _forward_cost(model: nn.Module, x: Tensor) -> tuple[float, int]:
    """(FLOPs, largest activation) of one forward pass of ``model`` on one example ``x[:1]``.

    FLOPs count multiply-adds as 2; the activation size is the largest module output, in
    elements, which sizes the evaluation batches.
    """
    flops = 0.0
    widest = 1

    def hook(mod: nn.Module, inp: tuple[Tensor, ...], out: Tensor) -> None:
        nonlocal flops, widest
        if isinstance(out, Tensor):
            widest = max(widest, out.numel())
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
    return flops, widest


class Backend(Protocol):
    """A trainer back-end: N nets' stacked parameters, their gradients and their outputs.

    params: one tensor per parameter, each (N, *shape), with ``requires_grad``.
    ``grads`` sets ``p.grad`` of every parameter to the gradient of the sum over nets of each
    net's mean loss on its own rows ``idx`` (N, B); ``predict`` gives outputs (N, n) of every
    net on shared inputs x (n, ...). Implemented by :class:`StackedNets` (any module, vmap +
    autograd) and :class:`StackedMLP` (ReLU MLPs, hand-written backward).
    """

    params: list[Tensor]

    def grads(self, params: list[Tensor], X: Tensor, y: Tensor, idx: Tensor, loss: str) -> None: ...

    def predict(self, params: list[Tensor], x: Tensor) -> Tensor: ...


class StackedNets:
    """N copies of one architecture with their parameters stacked on a leading axis.

    ``forward(params, x, shared)`` maps x of shape (N, B, ...) (or (B, ...) when ``shared``,
    the same inputs for every net) to outputs (N, B): one vmapped call for the whole ensemble.
    Works for any module (CNN, LSTM, ...); gradients come from autograd.
    """

    def __init__(
        self,
        models: list[nn.Module],
        device: torch.device | str = "cpu",
        stacked: dict[str, Tensor] | None = None,
    ) -> None:
        self.base = copy.deepcopy(models[0]).to("meta")
        if stacked is None:
            stacked, buffers = stack_module_state(models)  # type: ignore[arg-type]
        else:
            buffers = {
                k: v.unsqueeze(0).expand(len(next(iter(stacked.values()))), *v.shape)
                for k, v in models[0].named_buffers()
            }
        self.names = list(stacked)
        self.params = [stacked[n].detach().to(device).requires_grad_() for n in self.names]
        self.buffers = {k: v.to(device) for k, v in buffers.items()}

    def _one(self, p: dict[str, Tensor], b: dict[str, Tensor], x: Tensor) -> Tensor:
        return functional_call(self.base, (p, b), (x,)).squeeze(-1)

    def forward(self, params: list[Tensor], x: Tensor, shared: bool = False) -> Tensor:
        p = dict(zip(self.names, params, strict=True))
        # buffers are stacked too (empty for our nets), so they map over axis 0 like params
        buffers = {k: v[: params[0].shape[0]] for k, v in self.buffers.items()}
        return vmap(self._one, in_dims=(0, 0, None if shared else 0))(p, buffers, x)

    def grads(self, params: list[Tensor], X: Tensor, y: Tensor, idx: Tensor, loss: str) -> None:
        """Set ``p.grad`` to d(sum over nets of each net's mean loss on its rows ``idx``)."""
        for p in params:
            p.grad = None
        out = self.forward(params, X[idx], False)
        target = y[idx]
        if loss == "ce":
            per = nn.functional.binary_cross_entropy_with_logits(out, target, reduction="none")
        else:
            per = (out - target) ** 2
        per.mean(dim=1).sum().backward()

    def predict(self, params: list[Tensor], x: Tensor) -> Tensor:
        """Outputs (N, n) of every net on the same inputs x (n, ...)."""
        with torch.no_grad():
            return self.forward(params, x, True)


_Store = dict[str, list[Tensor]]


class StackedMLP:
    """N ReLU MLPs ``d -> h_1 -> ... -> h_L -> 1`` with a hand-written forward and backward.

    Why by hand: for the paper's small nets and minibatches (e.g. 64-32-32-1, batch 25) the
    vmapped autograd path spends most of its time outside the matrix products (allocations,
    autograd bookkeeping, a batched matmul with one output column). Here each step is a few
    ``bmm`` calls into preallocated buffers, the width-1 readout is an
    element-wise product and sum, and the ReLU mask is taken from the post-activations.
    Parameters use the layout ``W_i: (N, h_{i-1}, h_i)`` (hidden), ``w_out: (N, 1, h_L)``,
    ``b_i: (N, 1, h_i)``; the optimiser only sees element-wise tensors, so the layout is free.
    ``test_mlp_path_equals_autograd`` checks gradients against autograd.
    """

    def __init__(self, stacked: dict[str, Tensor], layers: list[str], device: torch.device | str):
        params: list[Tensor] = []
        for i, name in enumerate(layers):
            w, b = stacked[f"{name}.weight"], stacked[f"{name}.bias"]
            last = i == len(layers) - 1
            params.append((w if last else w.transpose(1, 2)).contiguous().to(device))
            params.append(b.unsqueeze(1).contiguous().to(device))
        self.params = params
        # work buffers per (rows, dtype, device): (capacity in nets, named tensors)
        self._buf: dict[tuple[int, torch.dtype, torch.device], tuple[int, _Store]] = {}

    @staticmethod
    def layer_names(model: nn.Module) -> list[str] | None:
        """The Linear layers' names if ``model`` is Sequential(Linear, ReLU, ..., Linear(., 1))."""
        if not isinstance(model, nn.Sequential):
            return None
        mods = list(model.named_children())
        if len(mods) % 2 == 0:
            return None
        names = []
        for k, (name, m) in enumerate(mods):
            if k % 2 == 1:
                if type(m) is not nn.ReLU:
                    return None
            elif type(m) is not nn.Linear or m.bias is None:
                return None
            else:
                names.append(name)
        last = mods[-1][1]
        ok = len(names) >= 2 and isinstance(last, nn.Linear) and last.out_features == 1
        return names if ok else None

    def _buffers(self, n: int, b: int, like: Tensor) -> _Store:
        """Work tensors for ``n`` nets and ``b`` rows each, as contiguous prefixes (``[:n]``)
        of buffers kept per ``b`` at the largest ``n`` seen: no allocation per step, which on
        a CPU costs page faults on every large short-lived tensor (glibc's mmap threshold)."""
        key = (b, like.dtype, like.device)
        cap, store = self._buf.get(key, (0, {}))
        if n > cap or not store:
            if len(self._buf) > 8:
                self._buf.clear()
            widths = [p.shape[-1] for p in self.params[0:-2:2]]
            d = self.params[0].shape[1]
            e = like.new_empty
            store = {
                "x": [e((n, b, d))],
                "h": [e((n, b, w)) for w in widths],  # post-ReLU activations
                "g": [e((n, b, w)) for w in widths],  # d loss / d pre-activation
                "o": [e((n, b, 1)), e((n, b, 1))],  # output (then its gradient), target
                "grad": [e((n, *p.shape[1:])) for p in self.params],
            }
            cap = n
            self._buf[key] = (cap, store)
        return {k: [t[:n] for t in v] for k, v in store.items()}

    def forward_hidden(self, params: list[Tensor], x: Tensor, hs: list[Tensor]) -> None:
        """Fill ``hs[i]`` (N, B, h_i) with the post-ReLU activations for inputs x (N, B, d)
        (x may be a stride-0 expansion of shared inputs)."""
        h = x
        for i, out in enumerate(hs):
            torch.baddbmm(params[2 * i + 1], h, params[2 * i], out=out).clamp_min_(0.0)
            h = out

    def grads(self, params: list[Tensor], X: Tensor, y: Tensor, idx: Tensor, loss: str) -> None:
        """Set ``p.grad`` to d(sum over nets of each net's mean loss on its rows ``idx``).

        X: (m, d) training inputs; y: (m,) targets in {0, 1}; idx: (N, B) row indices.
        The gradients are views of reused buffers, overwritten by the next call.
        """
        n, b = idx.shape
        L = len(params) // 2 - 1  # hidden layers
        buf = self._buffers(n, b, X)
        (x,), hs, gs, grads = buf["x"], buf["h"], buf["g"], buf["grad"]
        o, t = buf["o"]
        flat = idx.reshape(-1)
        torch.index_select(X, 0, flat, out=x.view(n * b, -1))
        torch.index_select(y, 0, flat, out=t.view(n * b))
        with torch.no_grad():
            self.forward_hidden(params, x, hs)
            w_out, b_out = params[-2], params[-1]
            torch.baddbmm(b_out, hs[-1], w_out.transpose(1, 2), out=o)
            # d(mean loss)/d(output), in place: CE on a logit -> sigmoid(o) - t; MSE -> 2 (o - t)
            if loss == "ce":
                o.sigmoid_().sub_(t).div_(b)
            else:
                o.sub_(t).mul_(2.0 / b)
            torch.bmm(o.transpose(1, 2), hs[-1], out=grads[-2])
            torch.sum(o, dim=1, keepdim=True, out=grads[-1])
            torch.mul(o, w_out, out=gs[-1])
            for i in reversed(range(L)):
                gi = gs[i]
                # ReLU'(a) = [h > 0], in place (10x faster here than gi.mul_(hs[i] > 0))
                torch.ops.aten.threshold_backward.grad_input(gi, hs[i], 0.0, grad_input=gi)
                h_in = x if i == 0 else hs[i - 1]
                torch.bmm(h_in.transpose(1, 2), gi, out=grads[2 * i])
                torch.sum(gi, dim=1, keepdim=True, out=grads[2 * i + 1])
                if i > 0:
                    torch.bmm(gi, params[2 * i].transpose(1, 2), out=gs[i - 1])
        for p, gr in zip(params, grads, strict=True):
            p.grad = gr

    def predict(self, params: list[Tensor], x: Tensor) -> Tensor:
        """Outputs (N, n) of every net on the same inputs x (n, d)."""
        n_nets = params[0].shape[0]
        buf = self._buffers(n_nets, len(x), x)
        with torch.no_grad():
            self.forward_hidden(params, x.expand(n_nets, *x.shape), buf["h"])
            out = buf["o"][0]
            torch.baddbmm(params[-1], buf["h"][-1], params[-2].transpose(1, 2), out=out)
            return out.view(n_nets, len(x)).clone()


def train_ensemble(
    build: Any,
    X_train: Tensor,
    y_train: Tensor,
    X_test: Tensor,
    n_nets: int,
    spec: TrainSpec,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    eval_batch: int | None = None,
    init_stacked: Any = None,
) -> EnsembleOutcome:
    """Train ``n_nets`` independent nets on (X_train, y_train); record their functions on X_test.

    build: a callable ``build(generator) -> nn.Module`` (e.g. ``FCNArch(...).build``) that
        returns one freshly initialised net mapping (B, *input_shape) -> (B, 1).
    X_train: (m, *input_shape) float; y_train: (m,) in {0, 1}; X_test: (|E|, *input_shape).
    generator: drives every initialisation and every minibatch order (CPU generator).
    init_stacked: optional ``init_stacked(n, generator) -> {name: (n, *shape)}`` drawing all
        nets' parameters at once (e.g. ``FCNArch(...).init_stacked``); without it each net is
        built by ``build``.
    eval_batch: inputs per forward pass when reading off functions and training accuracy;
        by default sized so that one pass holds about 256 MB of activations.

    A ReLU MLP with one output (``FCNArch``) trains on :class:`StackedMLP`'s hand-written
    path; any other module on :class:`StackedNets` (vmap + autograd).
    """
    device = torch.device(device)
    if init_stacked is not None:
        template = build(generator=torch.Generator())
        stacked: dict[str, Tensor] | None = init_stacked(n_nets, generator)
        models = [template]
    else:
        models = [build(generator=generator) for _ in range(n_nets)]
        template, stacked = models[0], None
    flops_per_example, widest = _forward_cost(template, X_train[:1])
    layers = StackedMLP.layer_names(template)
    net: Backend
    if layers is not None and X_train.dim() == 2:
        if stacked is None:
            stacked = stack_module_state(models)[0]  # type: ignore[arg-type]
        net = StackedMLP({k: v.detach() for k, v in stacked.items()}, layers, device)
    else:
        net = StackedNets(models, device, stacked)
    params = net.params
    del models

    X = X_train.to(device)
    y = y_train.to(device=device, dtype=X.dtype)
    XE = X_test.to(device)
    m = X.shape[0]
    B = min(spec.batch_size, m)

    def predict(ps: list[Tensor], x: Tensor) -> Tensor:
        rows = eval_batch or max(16, int(64e6 // (ps[0].shape[0] * widest)))  # ~256 MB fp32
        return torch.cat([net.predict(ps, x[i : i + rows]) for i in range(0, len(x), rows)], dim=1)

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
        # a uniform random permutation per net; NumPy's (SIMD) argsort is ~6x torch's here
        keys = torch.rand(n_active, m, generator=generator).numpy()
        perm = torch.from_numpy(np.argsort(keys, axis=1)).to(device)
        for start in range(0, m, B):
            idx = perm[:, start : start + B]
            net.grads(params, X, y, idx, spec.loss)
            opt.step()
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
            kept = [p.detach()[keep.to(device)].requires_grad_(p.requires_grad) for p in params]
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
