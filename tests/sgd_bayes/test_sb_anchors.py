"""Cross-check every analytic kernel against neural-tangents 0.6.5 in float64 (1e-10 relative).

Runs wherever the optional ``anchors`` extra (neural-tangents, jax 0.5.3) is installed; CI,
without it, checks the same kernels against closed forms and Monte Carlo (test_sb_nngp.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from occam.sgd_bayes import CNNArch, FCNArch, cnn_nngp, relu_nngp

nt = pytest.importorskip("neural_tangents")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
stax = nt.stax

RTOL = 1e-10


def nt_fcn(arch: FCNArch):
    layers = []
    for w in arch.widths:
        layers += [stax.Dense(w, W_std=arch.sigma_w, b_std=arch.sigma_b), stax.Relu()]
    layers.append(stax.Dense(1, W_std=arch.sigma_w, b_std=arch.sigma_b))
    return stax.serial(*layers)[2]


def nt_cnn(arch: CNNArch):
    layers = []
    for i, (c, k, p) in enumerate(
        zip(arch.channels, arch.filter_sizes, arch.paddings, strict=True)
    ):
        s = arch.stride(i)
        conv = stax.Conv(c, k, strides=(s, s), padding=p, W_std=arch.sigma_w, b_std=arch.sigma_b)
        layers += [conv, stax.Relu()]
    layers.append(stax.Flatten() if arch.readout == "flatten" else stax.GlobalAvgPool())
    layers.append(stax.Dense(1, W_std=arch.sigma_w, b_std=arch.sigma_b))
    return stax.serial(*layers)[2]


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


FCNS = [
    FCNArch(20, (64,), 1.0, 0.0),
    FCNArch(20, (64,) * 2, 1.0, 0.0357),
    FCNArch(20, (64,) * 3, 1.41, 0.1),
    FCNArch(20, (64,) * 6, 2.0, 1.0),
]


@pytest.mark.parametrize("arch", FCNS, ids=lambda a: f"depth{a.depth}")
def test_relu_nngp_matches_neural_tangents(arch: FCNArch) -> None:
    rng = np.random.default_rng(0)
    X1, X2 = rng.uniform(size=(30, 20)), rng.normal(size=(11, 20))
    kf = nt_fcn(arch)
    for a, b in ((X1, None), (X1, X2)):
        ours = relu_nngp(a, b, arch.depth, arch.sigma_w, arch.sigma_b, tile=8)
        assert _rel(ours, np.asarray(kf(a, b, "nngp"))) < RTOL


CNNS = [
    CNNArch.paper((1, 12, 12), n_layers=2, width=8, sigma_w=1.0, sigma_b=0.1),
    CNNArch((3, 8, 8), (8, 8, 8), ((3, 3), (2, 2), (3, 2)), ("VALID", "SAME", "SAME"), sigma_w=1.3),
    CNNArch((2, 9, 7), (8, 8), ((3, 3), (2, 2)), ("SAME", "VALID"), (2, 1), sigma_b=0.4),
    CNNArch((2, 7, 7), (8, 8), ((3, 3), (2, 2)), ("VALID", "SAME"), readout="gap", sigma_b=0.2),
]


@pytest.mark.parametrize("arch", CNNS, ids=["paper", "valid-same-same", "strided", "gap"])
def test_cnn_nngp_matches_neural_tangents(arch: CNNArch) -> None:
    rng = np.random.default_rng(1)
    X1 = rng.uniform(size=(6, *arch.in_shape))
    X2 = rng.normal(size=(4, *arch.in_shape))
    kf = nt_cnn(arch)
    to_nhwc = lambda x: x.transpose(0, 2, 3, 1)  # noqa: E731
    for a, b in ((X1, None), (X1, X2)):
        ref = np.asarray(kf(to_nhwc(a), None if b is None else to_nhwc(b), "nngp"))
        assert _rel(cnn_nngp(arch, a, b), ref) < RTOL
