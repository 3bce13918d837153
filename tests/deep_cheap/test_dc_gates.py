"""The gates against theory: bias shifts, O(λ²) errors, an independent prototype's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from occam.deep_cheap import copy_gate, multiplication_gate, squaring_gate
from occam.deep_cheap import gates as gt

# Brief B.3 (float64, max over [-1,1]^2) at lambda = 1, 0.3, 0.1, 0.03, 0.01.
LAMS = (1.0, 0.3, 0.1, 0.03, 0.01)
BRIEF = {
    "softplus": (0.13, 1.4e-2, 1.6e-3, 1.5e-4, 1.6e-5),
    "logistic": (0.28, 2.9e-2, 3.3e-3, 2.9e-4, 3.3e-5),
    "tanh": (0.65, 0.11, 1.3e-2, 1.2e-3, 1.3e-4),
    "silu": (0.23, 2.8e-2, 3.3e-3, 2.9e-4, 3.3e-5),
}


def test_bias_shift_found_numerically() -> None:
    assert gt.gate_bias("tanh") == pytest.approx(math.atanh(1 / math.sqrt(3)), abs=1e-9)
    assert gt.gate_bias("tanh") == pytest.approx(0.6585, abs=1e-4)
    assert gt.gate_bias("logistic") == pytest.approx(math.log(2 + math.sqrt(3)), abs=1e-9)
    assert gt.gate_bias("sigmoid") == gt.gate_bias("logistic")
    for name in ("softplus", "silu", "gelu"):
        assert gt.gate_bias(name) == 0.0
    # sigma''(b) values of the prototype's table
    assert gt.derivatives("logistic", gt.gate_bias("logistic"), 2)[2] == pytest.approx(
        -0.0962, abs=1e-4
    )
    assert gt.derivatives("tanh", gt.gate_bias("tanh"), 2)[2] == pytest.approx(-0.7698, abs=1e-4)


def test_copy_bias_is_an_inflection_point() -> None:
    assert gt.copy_bias("tanh") == 0.0
    assert gt.copy_bias("logistic") == 0.0
    assert gt.copy_bias("gelu") == pytest.approx(math.sqrt(2), abs=1e-9)
    for name in ("silu", "gelu"):
        assert abs(gt.derivatives(name, gt.copy_bias(name), 2)[2]) < 1e-12
    assert gt.copy_bias("softplus") == 6.0  # no inflection: the nearly linear tail


@pytest.mark.parametrize("name", sorted(BRIEF))
def test_prototype_reference_errors(name: str) -> None:
    for lam, ref in zip(LAMS, BRIEF[name], strict=True):
        assert gt.gate_error("product", name, lam) == pytest.approx(ref, rel=0.2), lam


@pytest.mark.parametrize("name", sorted(gt.ACTIVATIONS))
def test_error_slope_is_two(name: str) -> None:
    lams = np.logspace(-3, -1, 7)
    errs = [gt.gate_error("product", name, float(lam), points=101) for lam in lams]
    assert gt.fit_loglog_slope(lams, errs) == pytest.approx(2.0, abs=0.2)


def test_error_matches_leading_term() -> None:
    # lambda^2 |sigma''''| / (3 |sigma''|) at u = v = 1; softplus: lambda^2 / 6
    for name in gt.ACTIVATIONS:
        trunc, _ = gt.predicted_gate_error(name, 0.01)
        assert gt.gate_error("product", name, 0.01) == pytest.approx(trunc, rel=0.05)
    assert gt.predicted_gate_error("softplus", 0.1)[0] == pytest.approx(0.01 / 6)


def test_float32_optimum_near_0_03() -> None:
    lams = np.logspace(-3, 0, 25)
    errs = [gt.gate_error("product", "softplus", float(lam), torch.float32, 101) for lam in lams]
    best = float(lams[int(np.argmin(errs))])
    assert 0.015 <= best <= 0.06
    # prototype: 1.6e-3 (0.1), 3.3e-4 (0.03), 2.6e-3 (0.01), 0.26 (0.001)
    assert gt.gate_error("product", "softplus", 0.03, torch.float32) == pytest.approx(
        3.3e-4, rel=0.3
    )
    assert gt.gate_error("product", "softplus", 0.001, torch.float32) == pytest.approx(
        0.26, rel=0.3
    )
    assert gt.predicted_optimal_lambda("softplus", torch.float32) == pytest.approx(0.03, rel=0.2)


def test_squaring_gate() -> None:
    assert gt.gate_error("square", "softplus", 0.1) == pytest.approx(4.2e-4, rel=0.05)
    gate = squaring_gate("softplus", 0.1)
    assert gate.neuron_count == 3
    x = torch.linspace(-1, 1, 11, dtype=torch.float64)
    assert gate(x).shape == (11,)
    assert gate(x[:, None]).shape == (11,)
    # x^2 + lambda^2 sigma''''/(12 sigma'') x^4: one quarter of the product gate's error on (x, x)
    lams = np.logspace(-3, -1, 5)
    slope = gt.fit_loglog_slope(lams, [gt.gate_error("square", "tanh", float(lam)) for lam in lams])
    assert slope == pytest.approx(2.0, abs=0.2)


@pytest.mark.parametrize("name", sorted(gt.ACTIVATIONS))
def test_copy_gate(name: str) -> None:
    gate = copy_gate(name, 0.01)
    assert gate.neuron_count == 1
    assert gt.gate_error("copy", name, 0.01) < 1e-4
    # leading term: lambda |s''|/(2 s') + lambda^2 |s'''|/(6 s') at x = +-1
    b = gt.copy_bias(name)
    _, s1, s2, s3 = gt.derivatives(name, b, 3)
    lam = 0.01
    lead = lam * abs(s2) / (2 * abs(s1)) + lam**2 * abs(s3) / (6 * abs(s1))
    assert gt.gate_error("copy", name, lam) == pytest.approx(lead, rel=0.1)


def test_multiplication_gate_module() -> None:
    gate = multiplication_gate(activation="softplus", lam=0.1)
    assert isinstance(gate, torch.nn.Module)
    assert gate.neuron_count == 4
    x = torch.tensor([[0.5, -0.4], [1.0, 1.0], [0.0, 0.3]], dtype=torch.float64)
    y = gate(x)
    assert y.shape == (3,)
    assert torch.allclose(y, x[:, 0] * x[:, 1], atol=2e-3)
    # Fig. 2 weights: lambda(1,1), -lambda(1,1), lambda(1,-1), -lambda(1,-1); mu = lambda^-2/(4 s'')
    w = gate.hidden.weight.detach()
    assert torch.equal(
        w,
        0.1
        * torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64),
    )
    mu = 1 / (4 * 0.25 * 0.01)
    assert torch.allclose(
        gate.out.weight.detach(), torch.tensor([[mu, mu, -mu, -mu]], dtype=torch.float64)
    )
    assert gate(x.float()).dtype == torch.float64  # inputs are cast to the gate's dtype
    assert multiplication_gate(lam=0.03, dtype=torch.float32)(x).dtype == torch.float32
    for name in ("silu", "gelu", "tanh", "logistic", "sigmoid"):
        assert torch.allclose(multiplication_gate(name, 0.01)(x), x[:, 0] * x[:, 1], atol=2e-4)


def test_gate_input_validation() -> None:
    with pytest.raises(ValueError, match="unknown activation"):
        multiplication_gate("relu")
    with pytest.raises(ValueError, match="lam"):
        multiplication_gate(lam=0.0)
    with pytest.raises(ValueError, match="shape"):
        multiplication_gate()(torch.zeros(3, 3))


def test_taylor_coefficients_match_autograd() -> None:
    for name in gt.ACTIVATIONS:
        for b in (0.0, 1.0, -0.7):
            coeffs = gt.taylor_coefficients(name, b, 4)
            ders = gt.derivatives(name, b, 4)
            for k in range(5):
                assert coeffs[k] * math.factorial(k) == pytest.approx(ders[k], rel=1e-9, abs=1e-12)
