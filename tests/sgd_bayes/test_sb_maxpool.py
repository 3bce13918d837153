"""The max-pool CNN kernel: channels sampled at the pooling layer, checked exactly and by MC."""

from __future__ import annotations

import pytest
import torch

from occam.sgd_bayes import CNNArch, empirical_nngp
from occam.sgd_bayes.maxpool import (
    MaxPoolCNNArch,
    _relu_product_half_plane,
    maxpool_1x1_nngp,
    maxpool_cnn_nngp,
)
from occam.sgd_bayes.nngp import relu_expectation

torch.set_num_threads(1)
F64 = torch.float64


def _images(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g, dtype=F64)


def _offdiag_upper(T: torch.Tensor) -> torch.Tensor:
    i, j = torch.triu_indices(T.shape[0], T.shape[1])
    return T[i, j]


def test_pool_one_estimates_the_analytic_cnn_kernel_within_its_errors() -> None:
    """pool = 1 is conv -> ReLU -> Flatten, whose NNGP is analytic (Garriga-Alonso et al.):
    the estimate agrees within its standard errors, and those errors are not inflated."""
    X = _images(8)
    arch = MaxPoolCNNArch((1, 8, 8), 16, (3, 3), "VALID", pool=1, sigma_w=1.3, sigma_b=0.2)
    exact = CNNArch((1, 8, 8), (16,), ((3, 3),), ("VALID",), sigma_w=1.3, sigma_b=0.2).nngp(X)
    est = maxpool_cnn_nngp(arch, X, n_samples=4096, seed=1)
    z = _offdiag_upper((est.K - exact) / est.stderr)
    assert float(z.abs().max()) < 4.5  # 36 entries, Gaussian errors
    # the standard errors have the right size: z-scores of one entry over 24 independent
    # estimates have a root mean square in the chi-square(24) 99.9% range [0.57, 1.45]
    zs = torch.stack(
        [
            (r.K[0, 1] - exact[0, 1]) / r.stderr[0, 1]
            for r in (maxpool_cnn_nngp(arch, X[:2], n_samples=256, seed=10 + i) for i in range(24))
        ]
    )
    assert 0.57 < float(zs.square().mean().sqrt()) < 1.45, zs


def test_maxpool_kernel_matches_monte_carlo_of_wide_random_nets() -> None:
    X = _images(6, seed=2)
    arch = MaxPoolCNNArch((1, 8, 8), 4096, (3, 3), "SAME", pool=2, sigma_w=1.0, sigma_b=0.3)
    est = maxpool_cnn_nngp(arch, X, n_samples=4096, seed=3)
    # whole networks of 128 channels with 32 readout units (independent given the features)
    wide = MaxPoolCNNArch((1, 8, 8), 128, (3, 3), "SAME", 2, 1.0, 0.3, out_dim=32)
    mc = empirical_nngp(wide, X, n_samples=300, seed=4, dtype=F64)
    z = _offdiag_upper((est.K - mc.K) / (est.stderr.square() + mc.stderr.square()).sqrt())
    assert float(z.abs().max()) < 4.5, z
    # the pooling matters: the max-pool kernel is not the pool-1 kernel
    flat = maxpool_cnn_nngp(MaxPoolCNNArch((1, 8, 8), 1, (3, 3), "SAME", 1, 1.0, 0.3), X)
    assert float(((est.K - flat.K).abs() / est.stderr).max()) > 10.0


def test_half_plane_relu_product_against_quadrature_and_arc_cosine() -> None:
    g = torch.Generator().manual_seed(5)
    a, b = torch.randn(2, 6, 2, generator=g, dtype=F64)
    a[0] = torch.tensor([0.0, 0.0])  # a zero vector gives zero
    got = _relu_product_half_plane(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    # (1 / pi) int_{-pi/2}^{pi/2} relu(a.e_t) relu(b.e_t) dt, midpoint rule on 2e5 cells
    m = 200_000
    t = (torch.arange(m, dtype=F64) + 0.5) * (torch.pi / m) - torch.pi / 2
    e = torch.stack([t.cos(), t.sin()], 1)  # (m, 2)
    f = (a @ e.T).clamp_min(0) * (b @ e.T).clamp_min(0)
    quad = f.mean(1)  # = (1 / pi) * (pi / m) * sum
    assert torch.allclose(got, quad, rtol=0, atol=1e-9), (got, quad)
    assert float(got[0]) == 0.0
    # both half planes together: the arc-cosine kernel E[relu(a.g) relu(b.g)]
    both = got + _relu_product_half_plane(-a[:, 0], -a[:, 1], -b[:, 0], -b[:, 1])
    arccos = relu_expectation((a * b).sum(1), a.square().sum(1), b.square().sum(1))
    assert torch.allclose(both, arccos, rtol=1e-13, atol=1e-15)


def test_exact_1x1_maxpool_kernel() -> None:
    """1 x 1 filters on one channel: the closed form against the analytic pool-1 kernel, the
    channel-sampling estimator and wide random networks (images with both signs and a bias,
    so both the window maximum and minimum branches count)."""
    g = torch.Generator().manual_seed(6)
    X = torch.rand(6, 1, 6, 6, generator=g, dtype=F64) - 0.4
    flat = CNNArch((1, 6, 6), (1,), ((1, 1),), ("VALID",), sigma_w=1.3, sigma_b=0.4).nngp(X)
    pool1 = MaxPoolCNNArch((1, 6, 6), 1, (1, 1), pool=1, sigma_w=1.3, sigma_b=0.4)
    assert torch.allclose(maxpool_1x1_nngp(pool1, X), flat, rtol=1e-13, atol=0)
    for pool in (2, 3):
        arch = MaxPoolCNNArch((1, 6, 6), 1, (1, 1), pool=pool, sigma_w=1.3, sigma_b=0.4)
        exact = maxpool_1x1_nngp(arch, X)
        assert torch.allclose(exact, exact.T) and torch.allclose(
            maxpool_1x1_nngp(arch, X[:2], X), exact[:2], rtol=1e-15, atol=0
        )
        est = maxpool_cnn_nngp(arch, X, n_samples=4096, seed=7)
        assert float(((est.K - exact) / est.stderr).abs().max()) < 4.5  # 21 entries
        wide = MaxPoolCNNArch((1, 6, 6), 256, (1, 1), "VALID", pool, 1.3, 0.4, out_dim=32)
        mc = empirical_nngp(wide, X, n_samples=200, seed=8, dtype=F64)
        assert float(_offdiag_upper((mc.K - exact) / mc.stderr).abs().max()) < 4.5
        # the pooling matters: max-pool and pool-1 kernels differ by many standard errors
        assert float(((exact - flat).abs() / est.stderr).max()) > 10.0
    with pytest.raises(ValueError, match="1 x 1"):
        maxpool_1x1_nngp(MaxPoolCNNArch((1, 6, 6), 4, (3, 3)), X)


def test_maxpool_arch_validates() -> None:
    with pytest.raises(ValueError, match="padding"):
        MaxPoolCNNArch((1, 8, 8), 4, padding="FULL")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="vanishes"):
        MaxPoolCNNArch((1, 4, 4), 4, (3, 3), "VALID", pool=3)
    arch = MaxPoolCNNArch((1, 8, 8), 4, (3, 3), pool=2)
    with pytest.raises(ValueError, match="X1"):
        maxpool_cnn_nngp(arch, torch.zeros(2, 1, 7, 7))
    assert arch.build(torch.Generator().manual_seed(0))(torch.zeros(2, 1, 8, 8)).shape == (2, 1)
