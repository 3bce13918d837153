"""The polynomial compiler: neuron counts, errors, and clear errors for bad input."""

from __future__ import annotations

import itertools

import pytest
import sympy as sp
import torch

from occam.deep_cheap import PolynomialError, compile_polynomial, compile_polynomials
from occam.deep_cheap import polynomial as pl
from occam.deep_cheap.config import FIXED_SUITE
from occam.deep_cheap.depth import tree_copies
from occam.deep_cheap.experiments import random_polynomial

EXAMPLE = "3*x1*x2*x3*x4 - 2*x1**2*x3 + x2**3 + 0.5*x4 - 1"


def _product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(1, n + 1))


def test_example_polynomial_neurons_and_errors() -> None:
    net = compile_polynomial(EXAMPLE)
    # 3 product gates (x1x2x3x4) + [product, copy, product] twice (x1^2 x3, x2^3) = 12 + 9 + 9
    assert net.neuron_count == 30
    assert compile_polynomial(EXAMPLE, squaring=True).neuron_count == 28  # x.x by 3-neuron gates
    assert net.n_vars == 4 and net.depth == 2
    # The prototype's 1.8e-2 (lambda=0.1) and 1.6e-3 (0.03) are maxima over random samples;
    # 3e4 random points give the same within 30%, the corners (all |x_i| = 1) a bit more.
    g = torch.Generator().manual_seed(0)
    x = torch.rand(30000, 4, generator=g, dtype=torch.float64) * 2 - 1
    assert pl.polynomial_error(compile_polynomial(EXAMPLE, lam=0.1), x) == pytest.approx(
        1.8e-2, rel=0.3
    )
    assert pl.polynomial_error(compile_polynomial(EXAMPLE, lam=0.03), x) == pytest.approx(
        1.6e-3, rel=0.3
    )
    # automatic lambda: far below 1e-3 on the whole cube, and within the predicted bound
    xc = pl.cube_points(4, 5000, g)
    err = pl.polynomial_error(net, xc)
    assert err <= 1e-3
    assert err <= net.predicted_error


def test_neuron_count_formulas() -> None:
    for n in range(2, 18):
        # n-1 product gates; odd levels add a copy gate, or nothing with skip connections
        assert compile_polynomial(_product(n)).neuron_count == 4 * (n - 1) + tree_copies(n)
        assert compile_polynomial(_product(n), skip=True).neuron_count == 4 * (n - 1)
    for k in range(1, 6):  # x^(2^k): k shared levels of x.x
        assert compile_polynomial(f"x1**{2**k}").neuron_count == 4 * k
        assert compile_polynomial(f"x1**{2**k}", squaring=True).neuron_count == 3 * k
    assert compile_polynomial("2*x1 - x3 + 5").neuron_count == 0  # linear terms feed the output


def test_rt_monomial_bound() -> None:
    # RT Thm II.1: m(p) <= sum_i (7 ceil(log2 r_i) + 4); our construction meets it for every
    # monomial with up to 3 variables and exponents up to 6 (both gate schemes) ...
    for n in (1, 2, 3):
        for r in itertools.product(range(7), repeat=n):
            if sum(r) == 0:
                continue
            bound = pl.rt_monomial_bound(r)
            assert pl.count_neurons([(r, 1.0)], n, squaring=True) <= bound
            assert pl.count_neurons([(r, 1.0)], n) <= bound
    mono = "x1**3*x2**5*x3"
    assert pl.count_neurons(*pl.parse_polynomial(mono)) == compile_polynomial(mono).neuron_count
    assert pl.rt_monomial_bound((8,)) == 25 and pl.rt_monomial_bound((1, 1)) == 8
    # ... but copy gates are not free: x1...x33 needs 32 product gates and 5 copies (133 > 132)
    assert compile_polynomial(_product(33)).neuron_count == 133
    assert pl.rt_monomial_bound((1,) * 33) == 132


def test_suite_errors_below_tolerance() -> None:
    g = torch.Generator().manual_seed(7)
    suite = list(FIXED_SUITE) + [random_polynomial(g, 6, 5, 6) for _ in range(8)]
    for expr in suite:
        for squaring in (False, True):
            net = compile_polynomial(expr, squaring=squaring)
            x = pl.cube_points(net.n_vars, 3000, g)
            assert pl.polynomial_error(net, x) <= 1e-3, expr


@pytest.mark.parametrize("activation", ["silu", "gelu", "tanh", "logistic"])
def test_other_activations(activation: str) -> None:
    net = compile_polynomial(EXAMPLE, activation=activation)
    g = torch.Generator().manual_seed(1)
    assert pl.polynomial_error(net, pl.cube_points(4, 3000, g)) <= 1e-3


def test_float32_network() -> None:
    net = compile_polynomial(EXAMPLE, dtype=torch.float32)
    assert 0.005 < net.lam < 0.1  # round-off forces a larger lambda than in float64
    g = torch.Generator().manual_seed(2)
    assert pl.polynomial_error(net, pl.cube_points(4, 3000, g)) <= 0.05


def test_module_shapes_and_inputs() -> None:
    net = compile_polynomial("x1*x2 + x3")
    assert isinstance(net, torch.nn.Module)
    assert isinstance(net.neuron_count, int)
    x = torch.tensor([[0.5, 0.5, 0.25], [1.0, -1.0, 0.0]], dtype=torch.float64)
    y = net(x)
    assert y.shape == (2,)
    assert torch.allclose(y, torch.tensor([0.5, -1.0], dtype=torch.float64), atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(2, 2))
    x1, x2 = sp.symbols("x1 x2")
    net = compile_polynomial(x1 * x2**2 + sp.Rational(1, 3))
    assert net.n_vars == 2
    assert float(net(torch.tensor([[0.5, 0.5]]))) == pytest.approx(0.5**3 + 1 / 3, abs=1e-6)
    assert compile_polynomial("x2", n_vars=5).n_vars == 5
    assert compile_polynomial("x1^3").neuron_count == 9  # ^ means power
    multi = compile_polynomials(["x1*x2", "x1*x2 + x3**2"])
    assert multi(torch.zeros(4, 3)).shape == (4, 2)
    assert multi.neuron_count == 4 + 3  # the product x1*x2 is shared


def test_parse_terms_in_index_order() -> None:
    terms, n = pl.parse_polynomial("2*x3 - x1**2*x2 + 1")
    assert n == 3
    assert dict(terms) == {(0, 0, 1): 2.0, (2, 1, 0): -1.0, (0, 0, 0): 1.0}


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("sin(x1)", "function 'sin'"),
        ("1/x1", "not a polynomial"),
        ("x1**0.5", "not a polynomial"),
        ("x1**-1", "not a polynomial"),
        ("x1**(1/2)", "not a polynomial"),
        ("y + x1", "unknown symbol 'y'"),
        ("", "empty"),
        ("   ", "empty"),
        ("x0 + x1", "x0"),
        ("x1 +* 2", "malformed"),
        ("(x1", "malformed"),
        ("x1.real", "unexpected '.'"),
        ("__import__('os')", "unknown symbol"),
        ("x1; x2", "unexpected ';'"),
        ("I*x1", "unknown symbol 'I'"),
        ("x1**100", "degree"),
        (3.5j, "expected a string"),
    ],
)
def test_polynomial_errors(expr: object, message: str) -> None:
    with pytest.raises(PolynomialError, match=message) as info:
        compile_polynomial(expr)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_sympy_and_n_vars_errors() -> None:
    x1, y = sp.symbols("x1 y")
    with pytest.raises(PolynomialError, match="unknown symbol 'y'"):
        compile_polynomial(x1 + y)
    with pytest.raises(PolynomialError, match="not a polynomial"):
        compile_polynomial(sp.exp(x1))
    with pytest.raises(PolynomialError, match="exceeds n_vars"):
        compile_polynomial("x5", n_vars=4)
    with pytest.raises(PolynomialError, match="not a real number"):
        compile_polynomial(sp.I * x1)
