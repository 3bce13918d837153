"""Depth separation: neuron counts (LTR App. A, RT eq. 10), construction errors, training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from occam.deep_cheap import compile_polynomial
from occam.deep_cheap import depth as dp
from occam.deep_cheap.config import DeepCheapConfig
from occam.deep_cheap.experiments import depth_separation_measure


def _product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(1, n + 1))


def test_shallow_and_tree_counts() -> None:
    for n in range(2, 11):
        assert dp.shallow_product(n).neuron_count == 2**n
        assert compile_polynomial(_product(n), skip=True).neuron_count == 4 * (n - 1)
    assert dp.shallow_product(5).layer_widths == [32]


def test_rt_eq10_counts() -> None:
    assert dp.rt_neuron_count([16]) == 2**16
    assert dp.rt_neuron_count([4, 4]) == 4 * 16 + 16
    assert dp.rt_neuron_count([2, 2, 2, 2]) == 60 == 4 * (16 - 1)  # the binary tree
    assert dp.rt_neuron_count([2, 2, 2]) == 4 * 4 + 2 * 4 + 4
    # the optimised grouping never does worse than eq. 10 with n = b^k, equal for small b
    for b, k in [(4, 2), (2, 4), (3, 2), (2, 3), (3, 3), (5, 2)]:
        net = dp.LayeredProduct(dp.rt_layer_groups(b**k, k))
        assert net.neuron_count <= dp.rt_neuron_count([b] * k)
        assert net.depth == k
        if b <= 4:
            assert net.neuron_count == dp.rt_neuron_count([b] * k)
    assert dp.LayeredProduct(dp.rt_layer_groups(25, 2)).neuron_count == 176  # 5x5 gives 192
    for n in range(2, 17):
        assert dp.rt_layer_groups(n, 1) == [[n]]
        for k in (2, 3):
            count = dp.LayeredProduct(dp.rt_layer_groups(n, k)).neuron_count
            assert count <= 2**n + k  # never worse than shallow plus copies
    assert dp.rt_width_curve(8, 1) == pytest.approx(256)
    assert dp.rt_width_curve(16, 2) == pytest.approx(4 * 16)
    assert dp.tree_copies(8) == 0 and dp.tree_copies(9) == 3 and dp.tree_copies(33) == 5


def test_shallow_errors_match_prototype_and_theory() -> None:
    g = torch.Generator().manual_seed(0)
    refs = {2: 5.3e-4, 3: 5.5e-3, 4: 5.8e-3}  # prototype, lambda = 0.1, b = 1 (random samples)
    for n, ref in refs.items():
        net = dp.shallow_product(n, "softplus", lam=0.1, bias=1.0)
        x = torch.rand(4096, n, generator=g, dtype=torch.float64) * 2 - 1
        err = float((net(x) - x.prod(1)).abs().max())
        assert err == pytest.approx(ref, rel=0.3), n
        # worst case, all |x_i| = 1: the leading term lambda^2 n |s^(n+2)(b) / (6 s^(n)(b))|
        c = dp.taylor_coefficients("softplus", 1.0, n + 2)
        lead = 0.01 * n * abs(c[n + 2] * math.factorial(n + 2) / (6 * c[n] * math.factorial(n)))
        one = torch.ones(1, n, dtype=torch.float64)
        assert float((net(one) - 1).abs()) == pytest.approx(lead, rel=0.1)


def test_tree_errors_match_prototype() -> None:
    # prototype: n = 8, 28 neurons: 3.5e-3, 3.2e-4, 3.5e-5 at lambda = 0.1, 0.03, 0.01
    g = torch.Generator().manual_seed(0)
    x = torch.rand(100_000, 8, generator=g, dtype=torch.float64) * 2 - 1
    for lam, ref in [(0.1, 3.5e-3), (0.03, 3.2e-4), (0.01, 3.5e-5)]:
        tree = compile_polynomial(_product(8), lam=lam, skip=True)
        assert tree.neuron_count == 28
        with torch.no_grad():
            assert float((tree(x) - x.prod(1)).abs().max()) == pytest.approx(ref, rel=0.3)


def test_layered_product_accuracy() -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.rand(2000, 9, generator=g, dtype=torch.float64) * 2 - 1
    for k in (1, 2, 3):
        net = dp.LayeredProduct(dp.rt_layer_groups(9, k), lam=0.03)
        assert float((net(x) - x.prod(1)).abs().max()) < 2e-3


def test_block_nets_are_independent() -> None:
    g = torch.Generator().manual_seed(0)
    nets = dp.BlockNets(n=3, depth=3, widths=(2, 5), generators=[g, g])
    x = torch.rand(7, 3, generator=g)
    out = nets(x)
    assert out.shape == (2, 7, 2)
    # changing net 0's hidden block leaves net 1 unchanged
    with torch.no_grad():
        nets.w_hidden[0][:, :2, :2] += 1.0
        nets.w_in[:, :, :2] += 1.0
    out2 = nets(x)
    assert torch.equal(out[:, :, 1], out2[:, :, 1])
    assert not torch.equal(out[:, :, 0], out2[:, :, 0])
    # off-block weights get no gradient
    out2.sum().backward()
    grad = nets.w_hidden[0].grad
    assert grad is not None
    assert float(grad[:, :2, 2:].abs().sum()) == 0.0


def test_training_is_deterministic_and_learns() -> None:
    def train(seed: int) -> dp.TrainResult:
        g = torch.Generator().manual_seed(seed)
        tx, ty = dp.sample_product(512, 3, 0.0, 2.0, g)
        return dp.train_product_nets(
            3,
            2,
            (4, 16),
            steps=150,
            batch=64,
            lr=1e-2,
            low=0.0,
            high=2.0,
            optimizer="adam",
            test_x=tx,
            test_y=ty,
            generators=[g, torch.Generator().manual_seed(seed + 1)],
        )

    a, b = train(0), train(0)
    assert a.errors.shape == (2, 2)
    assert np.array_equal(a.errors, b.errors)
    assert float(a.errors.min()) < 0.3  # the product of 3 inputs is easy
    minimal = dp.minimal_widths([a], threshold=1.0)
    assert minimal == {2: 4}


def testdepth_separation_measure() -> None:
    cfg = DeepCheapConfig(train_widths=(8, 16, 32, 64))
    # depth 1 never reaches: one step past the widest (a lower bound) -> holds
    steps, detail = depth_separation_measure({1: None, 2: 32, 4: 16}, cfg)
    assert steps == 3.0 and "lower bound" in detail
    assert depth_separation_measure({1: 32, 4: 16}, cfg)[0] == 1.0
    assert depth_separation_measure({1: 16, 4: 16}, cfg)[0] == 0.0  # fails the >= 1 test
    assert depth_separation_measure({1: 16, 4: None}, cfg)[0] == -3.0  # deep never reaches
    assert depth_separation_measure({1: None, 4: None}, cfg)[0] is None  # inconclusive


def test_a_seed_does_not_depend_on_its_batch_mates() -> None:
    def run(second: int) -> dp.TrainResult:
        tx, ty = dp.sample_product(256, 3, 0.0, 2.0, torch.Generator().manual_seed(9))
        gens = [torch.Generator().manual_seed(0), torch.Generator().manual_seed(second)]
        return dp.train_product_nets(
            3,
            2,
            (4, 8),
            steps=50,
            batch=32,
            lr=1e-2,
            low=0.0,
            high=2.0,
            optimizer="adam",
            test_x=tx,
            test_y=ty,
            generators=gens,
        )

    a, b = run(1), run(2)
    np.testing.assert_allclose(a.errors[0], b.errors[0], rtol=1e-6)
    assert not np.allclose(a.errors[1], b.errors[1])


@pytest.mark.parametrize("exps", [(1, 1), (2,), (1, 1, 1), (3, 2), (2, 0, 1)])
def test_shallow_monomial_count_and_order(exps: tuple[int, ...]) -> None:
    """RT Thm II.1: prod(r_i + 1) neurons in one hidden layer; error O(lambda^2)."""
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2000, len(exps), generator=g, dtype=torch.float64) * 2 - 1
    y = (x ** torch.tensor(exps, dtype=torch.float64)).prod(1)
    errs = []
    for lam in (0.2, 0.1):
        net = dp.ShallowMonomial(exps, "softplus", lam, bias=1.0)
        assert net.neuron_count == int(np.prod([r + 1 for r in exps]))
        errs.append(float((net(x) - y).abs().max()))
    assert errs[0] / errs[1] == pytest.approx(4.0, rel=0.1)  # halving lambda: error / 4
    assert errs[1] < 0.02
    # LTR eq. A4 is the case r_i = 1: the same 2^n-neuron network
    if set(exps) == {1}:
        shallow = dp.shallow_product(len(exps), "softplus", 0.1, 1.0)
        assert torch.allclose(shallow(x), dp.ShallowMonomial(exps, "softplus", 0.1, 1.0)(x))
