"""NNGP kernels: closed forms, an independent loop implementation, and Monte Carlo checks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from occam.sgd_bayes import CNNArch, FCNArch, cnn_nngp, empirical_nngp, relu_nngp
from occam.sgd_bayes.arch import conv_pads
from occam.sgd_bayes.imdb import IMDbLSTMArch

torch.set_num_threads(1)


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _mc_agrees(emp, K: torch.Tensor, bias: float = 0.01) -> None:
    """Within 5 Monte Carlo standard errors plus a 1% finite-width allowance (a wrong depth,
    sigma_b, padding or readout misses by 20 or more standard errors)."""
    err = (emp.K - K).abs()
    allowed = 5 * emp.stderr + bias * K.abs().max()
    assert bool((err <= allowed).all()), f"max |err|/se = {float((err / emp.stderr).max()):.2f}"


# --------------------------------------------------------------------------- FCN closed forms


def test_relu_depth0_is_the_scaled_linear_kernel() -> None:
    X = _rand(5, 3)
    K = relu_nngp(X, depth=0, sigma_w=1.5, sigma_b=0.3)
    assert torch.allclose(K, 0.09 + 2.25 * X @ X.T / 3, rtol=1e-14)


def test_relu_depth1_arccos_closed_form() -> None:
    # unit vectors in R^2 at angles 0, pi/3, pi/2, pi: K = s^4/(2 pi d) (sin t + (pi - t) cos t)
    angles = torch.tensor([0.0, math.pi / 3, math.pi / 2, math.pi], dtype=torch.float64)
    X = torch.stack([angles.cos(), angles.sin()], 1)
    sw = 1.3
    K = relu_nngp(X, depth=1, sigma_w=sw, sigma_b=0.0)
    t = (angles[:, None] - angles[None, :]).abs()
    expected = sw**4 / (2 * math.pi * 2) * (torch.sin(t) + (math.pi - t) * torch.cos(t))
    assert torch.allclose(K, expected, rtol=1e-12, atol=1e-15)
    assert K[0, 3] == pytest.approx(0.0, abs=1e-15)  # opposite inputs never fire together


def test_relu_diagonal_geometric_series() -> None:
    X = _rand(4, 6)
    sw, sb, L = 1.2, 0.7, 5
    q0 = sb**2 + sw**2 * (X**2).sum(1) / 6
    r = sw**2 / 2
    expected = sb**2 * (1 - r**L) / (1 - r) + r**L * q0
    assert torch.allclose(relu_nngp(X, depth=L, sigma_w=sw, sigma_b=sb).diagonal(), expected)
    # the cross-kernel computes the same diagonal through rho = 1
    assert torch.allclose(relu_nngp(X, X, depth=L, sigma_w=sw, sigma_b=sb).diagonal(), expected)


def test_relu_tiling_symmetry_and_types() -> None:
    X, Y = _rand(23, 5, seed=1), _rand(9, 5, seed=2)
    full = relu_nngp(X, depth=3, sigma_w=1.4, sigma_b=0.2)
    tiled = relu_nngp(X, depth=3, sigma_w=1.4, sigma_b=0.2, tile=4)
    assert torch.allclose(full, tiled, rtol=1e-13) and torch.equal(tiled, tiled.T)
    cross = relu_nngp(X, Y, depth=3, sigma_w=1.4, sigma_b=0.2, tile=4)
    joint = relu_nngp(torch.cat([X, Y]), depth=3, sigma_w=1.4, sigma_b=0.2)
    assert torch.allclose(cross, joint[:23, 23:], rtol=1e-12)
    as_np = relu_nngp(X.numpy(), depth=3, sigma_w=1.4, sigma_b=0.2)
    assert isinstance(as_np, np.ndarray) and as_np.dtype == np.float64
    assert np.allclose(as_np, full.numpy())
    assert relu_nngp(X.float()).dtype == torch.float64


def test_relu_rejects_bad_arguments() -> None:
    X = _rand(3, 2)
    with pytest.raises(ValueError, match="depth"):
        relu_nngp(X, depth=-1)
    with pytest.raises(ValueError, match="X2"):
        relu_nngp(X, _rand(3, 4))
    with pytest.raises(ValueError, match="sigma_w"):
        relu_nngp(X, sigma_w=0.0)


def test_fcn_arch_feeds_its_kernel_and_builds_the_paper_init() -> None:
    arch = FCNArch(input_dim=10, widths=(300, 200), sigma_w=1.7, sigma_b=0.4)
    X = _rand(4, 10)
    assert torch.equal(arch.nngp(X), relu_nngp(X, None, 2, 1.7, 0.4))
    net = arch.build(torch.Generator().manual_seed(0), dtype=torch.float64)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [lin.in_features for lin in linears] == [10, 300, 200]
    hidden = linears[1]  # 60,000 weights: a tight variance check
    assert hidden.weight.var().item() == pytest.approx(1.7**2 / 300, rel=0.03)
    assert hidden.bias.std().item() == pytest.approx(0.4, rel=0.15)


def test_relu_nngp_matches_monte_carlo_of_wide_nets() -> None:
    arch = FCNArch(input_dim=8, widths=(512, 512), sigma_w=1.3, sigma_b=0.4, out_dim=256)
    X = _rand(6, 8, seed=3)
    emp = empirical_nngp(arch, X, n_samples=150, seed=1)
    _mc_agrees(emp, arch.nngp(X))


# --------------------------------------------------------------------------- CNN


def _naive_cnn(arch: CNNArch, x: np.ndarray, xp: np.ndarray) -> float:
    """Loop-by-loop reference: full location x location covariances for the pair (x, x')."""
    sw2, sb2 = arch.sigma_w**2, arch.sigma_b**2
    imgs = {"a": x, "b": xp}
    shapes = arch.layer_shapes()

    def conv(cov: dict, layer: int) -> dict:
        (kh, kw), s = arch.filter_sizes[layer], arch.stride(layer)
        left, right, top, bottom = conv_pads(shapes[layer], (kh, kw), s, arch.paddings[layer])
        ho, wo = shapes[layer + 1]
        out = {}
        for key, c in cov.items():
            c = np.pad(c, ((top, bottom), (left, right), (top, bottom), (left, right)))
            o = np.zeros((ho, wo, ho, wo))
            for h in range(ho):
                for w in range(wo):
                    for h2 in range(ho):
                        for w2 in range(wo):
                            acc = 0.0
                            for dy in range(kh):
                                for dx in range(kw):
                                    acc += c[h * s + dy, w * s + dx, h2 * s + dy, w2 * s + dx]
                            o[h, w, h2, w2] = sb2 + sw2 * acc / (kh * kw)
            out[key] = o
        return out

    def relu(cov: dict) -> dict:
        out = {}
        for key, c in cov.items():
            va = np.diagonal(cov[key[0] * 2].reshape(c.shape[0] * c.shape[1], -1))
            vb = np.diagonal(cov[key[1] * 2].reshape(c.shape[0] * c.shape[1], -1))
            flat = c.reshape(len(va), len(vb))
            s = np.sqrt(np.outer(va, vb))
            t = np.arccos(np.clip(flat / s, -1, 1))
            out[key] = (s / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t))).reshape(c.shape)
        return out

    C = x.shape[0]
    cov = {k: np.einsum("chw,cuv->hwuv", imgs[k[0]], imgs[k[1]]) / C for k in ("aa", "ab", "bb")}
    cov = conv(cov, 0)
    for layer in range(1, len(arch.channels)):
        cov = conv(relu(cov), layer)
    e = relu(cov)["ab"]
    h, w = e.shape[:2]
    if arch.readout == "gap":
        return sb2 + sw2 * e.mean()
    return sb2 + sw2 * np.mean([e[i, j, i, j] for i in range(h) for j in range(w)])


CNNS = [
    CNNArch((2, 5, 5), (8, 8), ((3, 3), (2, 2)), ("VALID", "SAME"), sigma_w=1.3, sigma_b=0.2),
    CNNArch((1, 6, 5), (8, 8), ((2, 3), (3, 3)), ("SAME", "SAME"), (2, 1), sigma_w=1.1),
    CNNArch((2, 5, 5), (8, 8), ((3, 3), (2, 2)), ("SAME", "VALID"), readout="gap", sigma_b=0.5),
]


@pytest.mark.parametrize("arch", CNNS, ids=["valid-same", "strided", "gap"])
def test_cnn_nngp_matches_loop_reference(arch: CNNArch) -> None:
    X = _rand(3, *arch.in_shape, seed=4)
    K = cnn_nngp(arch, X)
    for i in range(3):
        for j in range(3):
            ref = _naive_cnn(arch, X[i].numpy(), X[j].numpy())
            assert K[i, j].item() == pytest.approx(ref, rel=1e-12)


def test_cnn_same_location_equals_full_recursion() -> None:
    arch = CNNS[0]
    X, Y = _rand(4, *arch.in_shape, seed=5), _rand(3, *arch.in_shape, seed=6)
    same = cnn_nngp(arch, X, Y)
    full = cnn_nngp(arch, X, Y, method="full", tile=2)
    assert torch.allclose(same, full, rtol=1e-13)


def test_cnn_closed_forms_reduce_to_fcn() -> None:
    # 1x1 filters on a 1x1 image: a CNN is an FCN over the channels
    X = _rand(5, 7, seed=7)
    arch = CNNArch((7, 1, 1), (4, 4, 4), ((1, 1),) * 3, ("SAME",) * 3, sigma_w=1.4, sigma_b=0.3)
    K = cnn_nngp(arch, X[:, :, None, None])
    assert torch.allclose(K, relu_nngp(X, depth=3, sigma_w=1.4, sigma_b=0.3), rtol=1e-13)
    # a VALID filter as large as the image is a dense layer on the flattened image
    arch = CNNArch((2, 3, 4), (4, 4), ((3, 4), (1, 1)), ("VALID", "VALID"), sigma_w=0.9)
    Xi = _rand(5, 2, 3, 4, seed=8)
    for readout in ("flatten", "gap"):
        a = dataclasses.replace(arch, readout=readout)
        assert torch.allclose(cnn_nngp(a, Xi), relu_nngp(Xi.reshape(5, -1), depth=2, sigma_w=0.9))


def test_cnn_builds_tf_padding() -> None:
    arch = CNNArch.paper((1, 9, 9), n_layers=3, width=4)
    assert arch.filter_sizes == ((5, 5), (2, 2), (5, 5))
    assert arch.paddings == ("VALID", "SAME", "VALID")
    net = arch.build(torch.Generator().manual_seed(0))
    assert net[:-2](torch.zeros(2, 1, 9, 9)).shape == (2, 4, *arch.out_shape())
    assert arch.out_shape() == (1, 1)
    with pytest.raises(ValueError, match="vanishes"):
        CNNArch.paper((1, 4, 4), n_layers=1, width=4)


@pytest.mark.parametrize("readout", ["flatten", "gap"])
def test_cnn_nngp_matches_monte_carlo_of_wide_nets(readout: str) -> None:
    arch = CNNArch(
        (2, 5, 5), (256, 256), ((3, 3), (2, 2)), ("VALID", "SAME"),
        readout=readout, sigma_w=1.3, sigma_b=0.3, out_dim=64,
    )  # fmt: skip
    X = _rand(4, 2, 5, 5, seed=9)
    emp = empirical_nngp(arch, X, n_samples=100, seed=2)
    _mc_agrees(emp, arch.nngp(X))


# ---------------------------------------------------------------- Monte Carlo, any module


def test_empirical_nngp_error_bars_and_lstm() -> None:
    arch = IMDbLSTMArch(input_dim=3, hidden=64, out_dim=16)
    X = _rand(5, 4, 3, seed=10)
    small = empirical_nngp(arch, X, n_samples=20, seed=0)
    big = empirical_nngp(arch, X, n_samples=80, seed=0)
    assert torch.allclose(big.K, big.K.T)
    assert torch.linalg.eigvalsh(big.K).min() > -1e-8
    ratio = (small.stderr / big.stderr).median().item()
    assert 1.4 < ratio < 2.8  # ~ sqrt(80 / 20) = 2
    # identical sequences give identical rows; X2 is supported
    same = empirical_nngp(arch, X[:1], X[:1].repeat(2, 1, 1), n_samples=3)
    assert same.K[0, 0] == pytest.approx(same.K[0, 1].item())
    net = arch.build(torch.Generator().manual_seed(0))
    assert net.w_hh.detach().var().item() == pytest.approx(1.41**2 / 64, rel=0.05)
    assert net.b.detach().var().item() == pytest.approx(0.1**2, rel=0.3)  # one bias per gate


def test_empirical_nngp_takes_a_factory() -> None:
    def factory(g: torch.Generator) -> torch.nn.Module:
        lin = torch.nn.Linear(3, 4, bias=False)
        with torch.no_grad():
            lin.weight.normal_(generator=g)
        return lin

    X = _rand(2, 3)
    emp = empirical_nngp(factory, X, n_samples=400)
    _mc_agrees(emp, X.float().double() @ X.float().double().T, bias=0.0)
    with pytest.raises(ValueError, match="n_samples"):
        empirical_nngp(factory, X, n_samples=1)
