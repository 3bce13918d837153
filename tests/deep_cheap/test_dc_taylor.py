"""Shallow counts as Taylor matching (RT Thm II.1, Prop. II.6): exact small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from occam.deep_cheap import depth as dp
from occam.deep_cheap import taylor as tl
from occam.deep_cheap.experiments import rt_curve_fit


def test_counts_and_indices() -> None:
    assert tl.shallow_count((1, 1)) == 4 and tl.shallow_count((2, 1)) == 6
    assert tl.shallow_count((3,)) == 4 and tl.shallow_count((1, 1, 1)) == 8
    assert tl.multi_indices(2, 2) == [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    assert len(tl.multi_indices(3, 3)) == math.comb(6, 3)
    assert tl.power_floor(3) == pytest.approx(1 / math.sqrt(20))


def test_construction_nodes_match_exactly() -> None:
    # ShallowMonomial's tensor grid of nodes in [-1, 1] matches every coefficient
    for exps in [(1, 1), (2, 1), (3,), (1, 1, 1), (2, 2), (4,)]:
        net = dp.ShallowMonomial(exps)
        assert net.neuron_count == tl.shallow_count(exps)
        assert float(tl.exact_residual(net.directions, exps)) < 1e-12


def test_residual_by_hand() -> None:
    # x^2, two nodes t1, t2: q(s) = (s - t1)(s - t2) spans the complement,
    # so rho = 1 / ||(t1 t2, -(t1 + t2), 1)||
    for t1, t2 in [(-1.0, 1.0), (0.3, -0.7), (-1.0, -0.999)]:
        a = torch.tensor([[t1], [t2]], dtype=torch.float64)
        want = 1 / math.sqrt((t1 * t2) ** 2 + (t1 + t2) ** 2 + 1)
        assert float(tl.exact_residual(a, (2,))) == pytest.approx(want, rel=1e-10)
        assert float(tl.taylor_residual(a, (2,))) == pytest.approx(want**2, rel=1e-9)
    # x1 x2 with the three polarisation directions e1, e2, e1 + e2: the constant is
    # the only coefficient left, so rho = |q_0|/||q|| for the quadric through them
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    assert 0.0 < float(tl.exact_residual(a, (1, 1))) < 1.0


def test_univariate_fit_reaches_the_floor_and_never_beats_it() -> None:
    g = torch.Generator().manual_seed(0)
    for d in (2, 3, 4):
        fit = tl.fit_taylor_residual((d,), d, restarts=8, steps=300, generator=g)
        floor = tl.power_floor(d)
        assert min(fit.residuals) >= floor * (1 - 1e-9)
        assert fit.residual == pytest.approx(floor, rel=0.15)  # near the infimum
        exact = tl.fit_taylor_residual((d,), d + 1, restarts=4, steps=300, generator=g)
        assert exact.residual < 1e-9
    # the floor is the infimum: nodes merging at 1 approach it ((s - 1)^d)
    for d in (2, 3, 4):
        nodes = [1.0 - 0.01 * j for j in range(d)]
        want = 1 / np.linalg.norm(np.poly(nodes))  # |q_d| / ||q||, q = prod (s - t_j)
        got = float(tl.exact_residual(torch.tensor(nodes, dtype=torch.float64)[:, None], (d,)))
        assert got == pytest.approx(want, rel=1e-6)
        assert got == pytest.approx(tl.power_floor(d), rel=0.05)
    # random nodes in [-1, 1] never beat it either
    t = torch.rand(2000, 3, 1, generator=g, dtype=torch.float64) * 2 - 1
    assert float(tl.exact_residual(t, (3,)).min()) >= tl.power_floor(3)


def test_product_distribution_moments() -> None:
    g = torch.Generator().manual_seed(0)
    d = dp.product_distribution(20, 0.0, 2.0, 1 << 16, g)
    assert d["mean"] == 1.0
    assert d["std"] == pytest.approx(math.sqrt((4 / 3) ** 20 - 1))  # 17.7
    # median ~ exp(n E log x) = exp(20 (ln 2 - 1)) = 2.2e-3 (log-normal approximation)
    assert d["median"] == pytest.approx(math.exp(20 * (math.log(2) - 1)), rel=0.5)
    assert d["median_predictor_relative_l1"] > 0.99
    with pytest.raises(ValueError):
        dp.product_distribution(4, -1.0, 1.0, 10, g)


def test_rt_curve_fit() -> None:
    widths = (8, 16, 32, 64)
    # widths exactly on the curve: slope 1 and ratio 1
    curve = {k: dp.rt_width_curve(8, k) for k in (1, 2, 3)}
    slope, rows = rt_curve_fit(curve, 8, widths)  # type: ignore[arg-type]
    assert slope == pytest.approx(1.0) and all(r["ratio"] == pytest.approx(1) for r in rows)
    assert rt_curve_fit({1: 8, 2: 8, 4: 8}, 8, widths)[0] == 0.0
    assert rt_curve_fit({1: None, 4: None}, 8, widths)[0] is None  # nothing reached
    assert rt_curve_fit({1: None, 4: 16}, 8, widths)[0] is None  # one measured width
    slope, rows = rt_curve_fit({1: None, 2: 16, 4: 16}, 8, widths)  # censored at 128
    x = np.log2([dp.rt_width_curve(8, k) for k in (1, 2, 4)])
    assert slope == pytest.approx(np.polyfit(x, [7, 4, 4], 1)[0])
    assert rt_curve_fit({1: 8}, 8, widths)[0] is None


def test_relu_and_sum_training() -> None:
    g = torch.Generator().manual_seed(0)
    tx, ty = dp.sample_product(512, 3, 0.0, 2.0, g, "sum")
    assert torch.allclose(ty, tx.sum(dim=1))
    r = dp.train_product_nets(
        3,
        2,
        (8,),
        steps=200,
        batch=64,
        lr=1e-2,
        low=0.0,
        high=2.0,
        optimizer="adam",
        test_x=tx,
        test_y=ty,
        generators=[torch.Generator().manual_seed(1)],
        activation="relu",
        target="sum",
    )
    assert float(r.errors[0, 0]) < 0.05  # a sum is easy for ReLU nets
    with pytest.raises(ValueError):
        dp.BlockNets(3, 1, (4,), [g], activation="sigmoid")
