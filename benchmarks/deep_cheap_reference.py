"""deep-cheap constructions beside an independent NumPy prototype (ratio = ours/prototype).

The reference numbers (quoted below) come from an independent float64 NumPy prototype of
the same constructions. Ours are computed two ways: the max over random samples (how the
prototype's numbers appear to have been measured) and the sup over the cube including its
corners, where every gate errs most.
Run: ``python benchmarks/deep_cheap_reference.py`` (a few seconds).
"""

from __future__ import annotations

import torch

from occam.deep_cheap import compile_polynomial, shallow_product
from occam.deep_cheap import gates as gt
from occam.deep_cheap import polynomial as pl

torch.set_num_threads(1)
EXAMPLE = "3*x1*x2*x3*x4 - 2*x1**2*x3 + x2**3 + 0.5*x4 - 1"


def row(name: str, ours: float, ref: float, corners: float | None = None) -> None:
    extra = "" if corners is None else f"   cube sup {corners:9.3g}"
    print(f"{name:42s} ours {ours:9.3g}   prototype {ref:9.3g}   ratio {ours / ref:5.2f}{extra}")


def main() -> None:
    g = torch.Generator().manual_seed(0)
    print("== product gate, float64, max over a 201x201 grid of [-1,1]^2")
    ref = {
        "softplus": (0.13, 1.4e-2, 1.6e-3, 1.5e-4, 1.6e-5),
        "logistic": (0.28, 2.9e-2, 3.3e-3, 2.9e-4, 3.3e-5),
        "tanh": (0.65, 0.11, 1.3e-2, 1.2e-3, 1.3e-4),
        "silu": (0.23, 2.8e-2, 3.3e-3, 2.9e-4, 3.3e-5),
    }
    for name, refs in ref.items():
        for lam, ref in zip((1.0, 0.3, 0.1, 0.03, 0.01), refs, strict=True):
            row(f"{name} lambda={lam:g}", gt.gate_error("product", name, lam), ref)
    print("== float32 softplus gate")
    for lam, ref in ((0.1, 1.6e-3), (0.03, 3.3e-4), (0.01, 2.6e-3), (0.001, 0.26)):
        row(
            f"float32 lambda={lam:g}", gt.gate_error("product", "softplus", lam, torch.float32), ref
        )
    row("squaring gate lambda=0.1", gt.gate_error("square", "softplus", 0.1), 4.2e-4)

    print("== shallow 2^n product, softplus b = 1, lambda = 0.1")
    for n, ref in ((2, 5.3e-4), (3, 5.5e-3), (4, 5.8e-3)):
        net = shallow_product(n, lam=0.1, bias=1.0)
        x = torch.rand(4096, n, generator=g, dtype=torch.float64) * 2 - 1
        xc = pl.cube_points(n, 4096, g)
        with torch.no_grad():
            ours = float((net(x) - x.prod(1)).abs().max())
            sup = float((net(xc) - xc.prod(1)).abs().max())
        row(f"shallow n={n} ({2**n} neurons)", ours, ref, sup)

    print("== binary tree n = 8, 28 neurons, 1e5 random points")
    x = torch.rand(100_000, 8, generator=g, dtype=torch.float64) * 2 - 1
    xc = pl.cube_points(8, 4096, g)
    for lam, ref in ((0.1, 3.5e-3), (0.03, 3.2e-4), (0.01, 3.5e-5)):
        tree = compile_polynomial("*".join(f"x{i}" for i in range(1, 9)), lam=lam, skip=True)
        with torch.no_grad():
            ours = float((tree(x) - x.prod(1)).abs().max())
            sup = float((tree(xc) - xc.prod(1)).abs().max())
        row(f"tree lambda={lam:g}", ours, ref, sup)

    print("== compiler example: 30 neurons, 3e4 random points")
    x = torch.rand(30_000, 4, generator=g, dtype=torch.float64) * 2 - 1
    xc = pl.cube_points(4, 4096, g)
    for lam, ref in ((0.1, 1.8e-2), (0.03, 1.6e-3)):
        net = compile_polynomial(EXAMPLE, lam=lam)
        row(
            f"example lambda={lam:g} ({net.neuron_count} neurons)",
            pl.polynomial_error(net, x),
            ref,
            pl.polynomial_error(net, xc),
        )
    auto = compile_polynomial(EXAMPLE)
    print(
        f"example, automatic lambda = {auto.lam:.3g}: cube sup {pl.polynomial_error(auto, xc):.3g}"
        f" (predicted bound {auto.predicted_error:.3g})"
    )


if __name__ == "__main__":
    main()
