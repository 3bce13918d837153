"""Bit-product neuron (LTR eq. 13), the gate detector (probe.py) and bumps.py: exact cases."""

from __future__ import annotations

import math

import pytest
import torch

from occam.deep_cheap import bits as bt
from occam.deep_cheap import bumps as bm
from occam.deep_cheap import probe as pr
from occam.deep_cheap.mlp import MLPs


def _streams(label: str, replicate: int) -> torch.Generator:
    return torch.Generator().manual_seed(sum(map(ord, label)) * 7919 + replicate)


# --------------------------------------------------------------------------------------
# LTR eq. 13
# --------------------------------------------------------------------------------------


def test_bit_product_error_is_sigmoid_of_half_beta() -> None:
    n = 6
    x = bt.all_bit_strings(n)
    subsets = bt.all_bit_strings(n)[1:]
    exact = torch.stack([x[:, s.bool()].prod(dim=1) for s in subsets], dim=1)
    for beta in (5.0, 23.0, 46.0):
        err = float((bt.bit_product(x, subsets, beta) - exact).abs().max())
        assert err == pytest.approx(1 / (1 + math.exp(beta / 2)), rel=1e-9)
    # D = 10 decimals: 2 D ln 10 reaches them, LTR's printed D ln 10 gives D / 2
    assert 1 / (1 + math.exp(bt.beta_for_decimals(10) / 2)) < 1e-10
    assert 1 / (1 + math.exp(bt.beta_for_decimals(10, printed=True) / 2)) > 0.9e-5


def test_mobius_inverts_the_multilinear_expansion() -> None:
    g = torch.Generator().manual_seed(0)
    n = 5
    table = torch.randn(2**n, 2, generator=g, dtype=torch.float64)
    coef = bt.mobius(table)
    x = bt.all_bit_strings(n)
    masks = bt.all_bit_strings(n)
    monomials = torch.stack([x[:, m.bool()].prod(dim=1) for m in masks], dim=1)
    assert torch.allclose(monomials @ coef, table, atol=1e-12)
    # f = x1 x3 has the single coefficient c_{1,3} = 1
    f = (x[:, 0] * x[:, 2])[:, None]
    c = bt.mobius(f)
    assert float(c[0b101, 0]) == 1.0 and float(c.abs().sum()) == 1.0


def test_bit_network_error_within_bound() -> None:
    g = torch.Generator().manual_seed(1)
    table = torch.randn(2**6, 3, generator=g, dtype=torch.float64)
    for beta in (10.0, 30.0):
        out, exact, scale, neurons = bt.bit_network(table, beta)
        assert neurons == 2**6 - 1
        assert float((out - exact).abs().max()) <= float(scale) / (1 + math.exp(beta / 2))


# --------------------------------------------------------------------------------------
# The gate detector
# --------------------------------------------------------------------------------------


def test_construction_lines() -> None:
    lines, signed = pr.construction_lines(2, (0, 1), 1)
    assert signed and lines.shape == (2, 2)
    assert torch.allclose(lines.abs(), torch.full((2, 2), 2**-0.5, dtype=torch.float64))
    lines4, _ = pr.construction_lines(4, (0, 1, 2, 3), 1)
    assert lines4.shape == (8, 4)  # 2^4 sign vectors up to sign (LTR eq. A4)
    tree, signed = pr.construction_lines(4, (0, 1, 2, 3), 2)
    assert not signed and tree.shape == (4, 4)  # e1 +- e2, e3 +- e4
    assert torch.allclose(tree[:, 2:].abs().sum(dim=1)[:2], torch.zeros(2, dtype=torch.float64))


@pytest.mark.parametrize("target", pr.TARGETS, ids=lambda t: t.name)
def test_detector_calls_ltr_constructions_gate_like(target: pr.Target) -> None:
    width = 16 if len(target.monomial) == 4 else 8
    report = pr.compiled_report(target, width, _streams, 0, 1024)
    assert report["fitted"] and report["gate_like"]
    assert report["line_share"] == pytest.approx(1.0)  # the padding units carry nothing


def test_detector_rejects_a_rotated_gate() -> None:
    """The gate rotated by 30 degrees still multiplies nothing along the lines: not gate-like."""
    target = pr.TARGETS[0]
    nets = pr.compiled_mlps(target, 4, torch.Generator().manual_seed(0))
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    rot = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    rotated = MLPs(
        [(rot @ nets.weights[0][0])[None]], nets.biases, nets.w_out, nets.b_out, nets.activation
    )
    x, _ = target.sample(1024, torch.Generator().manual_seed(1))
    # judged against the function it computes, so it fits; its units are 30 deg off the lines
    truth = rotated(x[None])
    report = pr.gate_report(rotated, 2, (0, 1), x[None], truth)[0]
    assert report["fitted"] and not report["gate_like"] and report["line_share"] == 0.0


def test_gauss_logit_is_the_bayes_log_odds() -> None:
    rho = pr.GAUSS_RHO
    x = torch.tensor([[0.3, -1.2], [1.0, 2.0]], dtype=torch.float64)
    cov_p = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    cov_m = torch.tensor([[1.0, -rho], [-rho, 1.0]], dtype=torch.float64)
    lp = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), cov_p)
    lm = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), cov_m)
    assert torch.allclose(pr.gauss_logit(x), lp.log_prob(x) - lm.log_prob(x), atol=1e-12)


def test_trained_rows_are_deterministic() -> None:
    kw = {"steps": 60, "batch": 32, "lr": 1e-2, "test": 128}
    a = pr.train_targets([pr.TARGETS[0], pr.TARGETS[1]], 1, 4, _streams, 2, **kw)
    b = pr.train_targets([pr.TARGETS[0], pr.TARGETS[1]], 1, 4, _streams, 2, **kw)
    assert a == b and len(a) == 4


# --------------------------------------------------------------------------------------
# Bumps
# --------------------------------------------------------------------------------------


def test_taylor_terms_and_the_logistic_radius() -> None:
    # exp(-x1^2 - x2^2) to degree 4: 1 - x1^2 - x2^2 + x1^4/2 + x1^2 x2^2 + x2^4/2
    terms = dict(bm.BUMP_TARGETS[0].taylor(4))
    assert terms == {
        (0, 0): 1.0,
        (0, 2): -1.0,
        (0, 4): 0.5,
        (2, 0): -1.0,
        (2, 2): 1.0,
        (4, 0): 0.5,
    }
    logistic = dict(bm.BUMP_TARGETS[1].taylor(5))
    assert logistic[(1, 0)] == pytest.approx(0.25) and logistic[(3, 0)] == pytest.approx(-1 / 48)
    u = bm.unit_points(2000, torch.Generator().manual_seed(0))
    inside = bm.compiled_taylor(bm.BUMP_TARGETS[1], 2.0, u, 30)
    outside = bm.compiled_taylor(bm.BUMP_TARGETS[1], 4.0, u, 30)  # beyond the radius pi
    assert inside["reached"] and inside["degree"] is not None
    assert outside["degree"] is None and outside["truncation_error"] > 1.0
    poly = [bm.compiled_taylor(bm.POLYNOMIAL_CONTROL, r, u, 10) for r in (1.0, 5.0)]
    assert [p["neurons"] for p in poly] == [4, 4] and all(p["reached"] for p in poly)
