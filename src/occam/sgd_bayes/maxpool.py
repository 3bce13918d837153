"""The NNGP of a ReLU CNN with max-pooling: a Monte Carlo estimate with standard errors.

The network (:class:`MaxPoolCNNArch`): convolution -> ReLU -> max-pool (p x p windows,
stride p) -> Flatten -> dense readout, initialised with the paper's rule
(W ~ N(0, sigma_w^2 / fan_in), b ~ N(0, sigma_b^2)).

What is exact and what is estimated. Each channel c of the convolution is a Gaussian process
over (image, location) at any width: z_c(x)_p = w_c . patch_p(x) + b_c. Max-pooling of
relu(z_c) is not Gaussian, and E[max relu(z) max relu(z')] over a window has no closed form
in general, so there is no analytic NNGP here. But the readout is linear in the pooled
features a_c(x)_q = max_{p in window q} relu(z_c(x)_p), and channels are independent, so
the kernel of the logit is, exactly and at any width,
    K(x, x') = sigma_b^2 + sigma_w^2 mean_q E[a(x)_q a(x')_q]            (one channel's a)
(the infinite-width limit changes nothing for this architecture). :func:`maxpool_cnn_nngp`
estimates the expectation by sampling S independent channels (filters and biases), which is
sampling the Gaussian process at the pooling layer, not whole networks: it is unbiased, its
standard error per entry comes from the spread across channels, and the readout layer adds
no sampling noise (a whole-network Monte Carlo, :func:`occam.sgd_bayes.nngp.empirical_nngp`,
also samples the readout weights). With pool = 1 it estimates the analytic kernel of
conv -> ReLU -> Flatten (:func:`occam.sgd_bayes.nngp.cnn_nngp`), which the tests check, and
the tests check it against Monte Carlo of wide random max-pool networks.

Not covered: convolutions after the pooling layer (their input is then non-Gaussian in
(image, location) jointly, so channel sampling alone no longer gives the kernel).

References: Garriga-Alonso, Rasmussen & Aitchison (2019), §3 (the CNN NNGP and why pooling
other than averaging has no closed form); Novak et al. (2019), "Bayesian deep convolutional
networks with many channels are Gaussian processes", §3 (Monte Carlo NNGP estimates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from occam.sgd_bayes._arrays import to_f64
from occam.sgd_bayes.arch import PaddedConv2d, _linear, init_paper_
from occam.sgd_bayes.conv import Padding, conv_out_shape, conv_pads
from occam.sgd_bayes.nngp import EmpiricalKernel


@dataclass(frozen=True)
class MaxPoolCNNArch:
    """conv (``channels`` filters of ``filter_size``, ``padding``) -> ReLU -> max-pool
    (``pool`` x ``pool``, stride ``pool``, floor) -> Flatten -> dense (``out_dim``)."""

    in_shape: tuple[int, int, int]
    channels: int
    filter_size: tuple[int, int] = (5, 5)
    padding: Padding = "VALID"
    pool: int = 2
    sigma_w: float = 1.0
    sigma_b: float = 0.0
    out_dim: int = 1

    def __post_init__(self) -> None:
        if self.padding not in ("VALID", "SAME"):
            raise ValueError(f"MaxPoolCNNArch: padding must be 'VALID' or 'SAME', got {self}")
        if self.pool < 1 or self.channels < 1 or self.sigma_w <= 0 or self.sigma_b < 0:
            raise ValueError(f"MaxPoolCNNArch: need pool, channels >= 1, sigma_w > 0: {self}")
        if min(self.pooled_shape()) < 1:
            raise ValueError(f"MaxPoolCNNArch: the feature map vanishes: {self}")

    def conv_shape(self) -> tuple[int, int]:
        return conv_out_shape(self.in_shape[1:], self.filter_size, 1, self.padding)

    def pooled_shape(self) -> tuple[int, int]:
        h, w = self.conv_shape()
        return h // self.pool, w // self.pool

    def pads(self) -> tuple[int, int, int, int]:
        return conv_pads(self.in_shape[1:], self.filter_size, 1, self.padding)

    def build(
        self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> nn.Sequential:
        """The finite network, initialised with :func:`init_paper_`."""
        h, w = self.pooled_shape()
        net = nn.Sequential(
            PaddedConv2d(self.in_shape[0], self.channels, self.filter_size, 1, self.pads(), dtype),
            nn.ReLU(),
            nn.MaxPool2d(self.pool),
            nn.Flatten(),
            _linear(self.channels * h * w, self.out_dim, dtype),
        )
        return init_paper_(net, self.sigma_w, self.sigma_b, generator)

    def nngp(self, X1: Tensor, X2: Tensor | None = None, **kw: Any) -> Tensor:
        """The Monte Carlo kernel's estimate (see :func:`maxpool_cnn_nngp` for its error)."""
        return maxpool_cnn_nngp(self, X1, X2, **kw).K


def maxpool_cnn_nngp(
    arch: MaxPoolCNNArch,
    X1: Any,
    X2: Any = None,
    *,
    n_samples: int = 4096,
    seed: int = 0,
    chunk: int = 256,
) -> EmpiricalKernel:
    """Kernel of :class:`MaxPoolCNNArch`'s logit by sampling the GP at the pooling layer.

    X1: (n1, C, H, W), X2: (n2, C, H, W) or None. ``n_samples`` independent channels (filters
    w ~ N(0, sigma_w^2 / (C kh kw)), biases b ~ N(0, sigma_b^2)), drawn ``chunk`` at a time in
    float64; per channel the sample sigma_b^2 + sigma_w^2 mean_q a(x)_q a(x')_q, averaged.
    Returns K (n1, n2), its standard error per entry (spread across channels / sqrt(S)),
    and S. Unbiased for the kernel at any width (module docstring); the error shrinks as
    1/sqrt(S). Cost: S (n1 + n2) C kh kw H W for the features, S n1 n2 H' W' for the products.
    """
    if n_samples < 2:
        raise ValueError(f"n_samples: need at least 2, got {n_samples}")
    A = to_f64(X1, "X1")
    B = None if X2 is None else to_f64(X2, "X2").to(A.device)
    for name, T in (("X1", A), ("X2", B)):
        if T is not None and (T.ndim != 4 or tuple(T.shape[1:]) != tuple(arch.in_shape)):
            raise ValueError(f"{name}: expected shape (n, *{arch.in_shape}), got {tuple(T.shape)}")
    c_in, (kh, kw) = arch.in_shape[0], arch.filter_size
    w_std = arch.sigma_w / math.sqrt(c_in * kh * kw)
    sw2, sb2 = arch.sigma_w**2, arch.sigma_b**2
    n_loc = math.prod(arch.pooled_shape())
    g = torch.Generator().manual_seed(seed)
    pads = arch.pads()

    def pooled(X: Tensor, w: Tensor, b: Tensor) -> Tensor:  # (n, s, H' W')
        z = F.conv2d(F.pad(X, pads) if any(pads) else X, w, b)
        return F.max_pool2d(z.clamp_min_(0.0), arch.pool).flatten(2)

    s1: Tensor | None = None
    s2: Tensor | None = None
    done = 0
    while done < n_samples:
        s = min(chunk, n_samples - done)
        w = torch.randn(s, c_in, kh, kw, generator=g, dtype=torch.float64).mul_(w_std)
        b = torch.randn(s, generator=g, dtype=torch.float64).mul_(arch.sigma_b)
        fa = pooled(A, w.to(A.device), b.to(A.device))
        fb = fa if B is None else pooled(B, w.to(A.device), b.to(A.device))
        # per channel: sigma_b^2 + sigma_w^2 mean_q a_q(x) a_q(x'), shape (s, n1, n2)
        per = torch.einsum("asq,bsq->sab", fa, fb).mul_(sw2 / n_loc).add_(sb2)
        s1 = per.sum(0) if s1 is None else s1 + per.sum(0)
        s2 = per.square().sum(0) if s2 is None else s2 + per.square().sum(0)
        done += s
    assert s1 is not None and s2 is not None
    mean = s1 / n_samples
    var = (s2 / n_samples - mean.square()).clamp_min(0.0) * n_samples / (n_samples - 1)
    return EmpiricalKernel(K=mean, stderr=(var / n_samples).sqrt(), n_samples=n_samples)
