"""The batched ensemble trains each net exactly as if it were trained alone."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from occam.nets.ensemble import (
    OPTIMIZERS,
    StackedMLP,
    StackedNets,
    TrainSpec,
    bits_to_strings,
    make_optimizer,
    train_ensemble,
)
from occam.sgd_bayes.arch import CNNArch, FCNArch


def nets(n: int, seed: int = 0) -> list[nn.Module]:
    g = torch.Generator().manual_seed(seed)
    arch = FCNArch(6, (8, 5), sigma_w=1.3, sigma_b=0.2)
    return [arch.build(generator=g, dtype=torch.float64) for _ in range(n)]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_stacked_training_equals_separate_training(optimizer):
    """One optimiser over stacked parameters == N optimisers over N separate nets."""
    torch.manual_seed(0)
    models = nets(3)
    singles = [copy.deepcopy(m) for m in models]
    stack = StackedNets(models)
    spec = TrainSpec(optimizer=optimizer, lr=0.05)
    opt = make_optimizer(stack.params, spec)
    opts = [make_optimizer(list(m.parameters()), spec) for m in singles]
    for _ in range(5):
        x = torch.randn(3, 4, 6, dtype=torch.float64)  # each net its own minibatch
        y = (torch.rand(3, 4) > 0.5).double()
        out = stack.forward(stack.params, x)
        loss = nn.functional.binary_cross_entropy_with_logits(out, y, reduction="none")
        loss.mean(dim=1).sum().backward()
        opt.step()
        opt.zero_grad()
        for k, (net, o) in enumerate(zip(singles, opts, strict=True)):
            l_k = nn.functional.binary_cross_entropy_with_logits(net(x[k]).squeeze(-1), y[k])
            l_k.backward()
            o.step()
            o.zero_grad()
    for k, net in enumerate(singles):
        for p_stack, p_single in zip(stack.params, net.parameters(), strict=True):
            torch.testing.assert_close(p_stack[k].detach(), p_single.detach(), rtol=0, atol=1e-12)


def test_nets_are_independent_and_recorded_at_first_fit():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(40, 5)
    y = (X[:, 0] > 0).float()  # linearly separable: every net fits
    XE = torch.randn(16, 5)
    arch = FCNArch(5, (32,), sigma_w=1.4, sigma_b=0.1)
    out = train_ensemble(arch.build, X, y, XE, 64, TrainSpec(lr=0.5, batch_size=8), g)
    assert out.n_unfitted == 0 and out.functions.shape == (64, 16)
    assert (out.epochs >= 1).all()
    assert len(set(bits_to_strings(out.functions))) > 1  # different inits, different functions
    # most nets agree with the true rule on E (the data are easy)
    truth = (XE[:, 0] > 0).numpy()
    assert (out.functions == truth).mean() > 0.8


def test_unfittable_nets_are_dropped_and_counted():
    g = torch.Generator().manual_seed(2)
    X = torch.zeros(10, 3)
    y = torch.tensor([0.0, 1.0] * 5)  # identical inputs, different labels: cannot fit
    arch = FCNArch(3, (4,))
    out = train_ensemble(arch.build, X, y, X[:2], 5, TrainSpec(max_epochs=3), g)
    assert out.n_unfitted == 5 and out.functions.shape == (0, 2) and out.n_runs == 5


def test_same_generator_seed_same_functions_and_mse_loss():
    arch = FCNArch(5, (16,), sigma_w=1.4, sigma_b=0.1)
    X = torch.randn(30, 5, generator=torch.Generator().manual_seed(0))
    y = (X.sum(1) > 0).float()
    spec = TrainSpec(optimizer="adam", lr=0.01, batch_size=10, loss="mse", epochs_after_fit=2)
    runs = [
        train_ensemble(arch.build, X, y, X[:7], 20, spec, torch.Generator().manual_seed(5))
        for _ in range(2)
    ]
    assert (runs[0].functions == runs[1].functions).all()
    assert (runs[0].epochs == runs[1].epochs).all()


def test_cnn_ensemble_trains():
    arch = CNNArch.paper((1, 7, 7), n_layers=2, width=4, sigma_w=1.4, sigma_b=0.1)
    g = torch.Generator().manual_seed(3)
    X = torch.rand(20, 1, 7, 7, generator=g)
    y = (X.mean(dim=(1, 2, 3)) > X.mean()).float()
    out = train_ensemble(arch.build, X, y, X[:5], 6, TrainSpec(lr=0.1, batch_size=5), g)
    assert out.n_runs == 6 and out.functions.shape[1] == 5


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_mlp_path_equals_autograd(loss):
    """StackedMLP's hand-written gradients and predictions equal vmap + autograd's."""
    models = nets(4, seed=3)
    stacked = {k: v.detach() for k, v in torch.func.stack_module_state(models)[0].items()}
    layers = StackedMLP.layer_names(models[0])
    assert layers == ["0", "2", "4"]
    mlp = StackedMLP(stacked, layers, "cpu")
    ref = StackedNets(models)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 6, dtype=torch.float64, generator=g)
    y = (torch.rand(30, generator=g) > 0.5).double()
    idx = torch.randint(0, 30, (4, 7), generator=g)
    mlp.grads(mlp.params, X, y, idx, loss)
    ref.grads(ref.params, X, y, idx, loss)
    for name, p_ref in zip(ref.names, ref.params, strict=True):
        k = 2 * layers.index(name.split(".")[0]) + (name.endswith("bias"))
        got = mlp.params[k].grad
        want = p_ref.grad
        if name.endswith("bias"):
            want = want.unsqueeze(1)
        elif name.split(".")[0] != layers[-1]:
            want = want.transpose(1, 2)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(mlp.predict(mlp.params, X), ref.predict(ref.params, X))


def test_mlp_buffers_follow_the_ensemble_size_and_outputs_are_not_aliased():
    """StackedMLP reuses its work buffers as the ensemble shrinks and grows again; the
    gradients stay equal to autograd's at every size, and predict's outputs are owned by the
    caller (a later call does not overwrite them)."""
    models = nets(6, seed=5)
    stacked = {k: v.detach() for k, v in torch.func.stack_module_state(models)[0].items()}
    mlp = StackedMLP(stacked, ["0", "2", "4"], "cpu")
    g = torch.Generator().manual_seed(1)
    X = torch.randn(12, 6, dtype=torch.float64, generator=g)
    y = (torch.rand(12, generator=g) > 0.5).double()
    for n in (3, 1, 6):  # prefix of the buffers, smaller, then the full size
        ps = [p.detach()[:n].clone().requires_grad_() for p in mlp.params]
        ref = StackedNets(models[:n])
        idx = torch.randint(0, 12, (n, 5), generator=g)
        mlp.grads(ps, X, y, idx, "ce")
        ref.grads(ref.params, X, y, idx, "ce")
        want = ref.params[0].grad.transpose(1, 2)  # first layer's weight, (n, d, h)
        torch.testing.assert_close(ps[0].grad, want, rtol=1e-12, atol=1e-12)
        first = mlp.predict(ps, X[:5])
        kept = first.clone()
        mlp.predict(ps, X[5:10])  # same shape: same buffers
        torch.testing.assert_close(first, kept, rtol=0, atol=0)
        torch.testing.assert_close(first, ref.predict(ref.params, X[:5]))


def test_mlp_path_and_autograd_path_train_the_same_functions():
    """The same stacked init trained on both paths gives the same functions (float64)."""
    arch = FCNArch(5, (16, 8), sigma_w=1.4, sigma_b=0.1)
    g0 = torch.Generator().manual_seed(0)
    X = torch.randn(40, 5, dtype=torch.float64, generator=g0)
    y = (X[:, 0] * X[:, 1] > 0).double()
    spec = TrainSpec(optimizer="adam", lr=0.01, batch_size=8, max_epochs=200)

    def init(n, gen):
        return arch.init_stacked(n, gen, dtype=torch.float64)

    def build(generator):
        return arch.build(generator, dtype=torch.float64)

    fast = train_ensemble(
        build, X, y, X[:9], 16, spec, torch.Generator().manual_seed(7), init_stacked=init
    )

    # the autograd path, fed the same stacked parameters
    class NotMLP(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)

    def init_wrapped(n, gen):
        return {f"inner.{k}": v for k, v in init(n, gen).items()}

    slow = train_ensemble(
        lambda generator: NotMLP(build(generator)),
        X,
        y,
        X[:9],
        16,
        spec,
        torch.Generator().manual_seed(7),
        init_stacked=init_wrapped,
    )
    assert fast.n_unfitted == slow.n_unfitted
    assert (fast.epochs == slow.epochs).all()
    assert (fast.functions == slow.functions).all()


def test_init_stacked_matches_the_paper_rule():
    """Stacked draws have the per-net layout and the paper's variances sigma_w^2 / fan_in."""
    arch = FCNArch(50, (40, 30), sigma_w=1.5, sigma_b=0.3)
    d = arch.init_stacked(2000, torch.Generator().manual_seed(0), dtype=torch.float64)
    ref = torch.func.stack_module_state([arch.build() for _ in range(2)])[0]
    assert list(d) == list(ref) and all(d[k].shape[1:] == ref[k].shape[1:] for k in d)
    for k, v in d.items():
        fan_in = v.shape[-1] if k.endswith("weight") else None
        want = 1.5**2 / fan_in if fan_in else 0.3**2
        assert abs(v.var().item() / want - 1) < 0.02, k
