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

An exact case: with 1 x 1 filters on one input channel, z_p = w x_p + b with scalars (w, b),
so the max over a window is taken at the window's largest pixel M_q when w > 0 and at its
smallest m_q when w < 0, and E[a a'] is a two-dimensional Gaussian integral over (w, b) in
closed form (:func:`maxpool_1x1_nngp`). The tests check the estimator and wide random
networks against it.

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


def _relu_product_half_plane(a1: Tensor, a2: Tensor, b1: Tensor, b2: Tensor) -> Tensor:
    """``E[relu(a.g) relu(b.g) 1{g_1 > 0}]`` for g ~ N(0, I_2), elementwise over a = (a1, a2),
    b = (b1, b2).

    In polar coordinates g = r e_t (E over r of r^2 is 2, the angle uniform):
        (1 / pi) integral over the arc {a.e_t > 0, b.e_t > 0, cos t > 0} of (a.e_t)(b.e_t) dt.
    Each condition is an open half circle; within |t| < pi/2 the condition a.e_t > 0 is
    t in (phi_a - pi/2, phi_a + pi/2) with phi_a = atan2(a2, a1), so the arc is one interval.
    (Without the third condition this is the arc-cosine kernel of Cho & Saul 2009.)
    """
    half = math.pi / 2
    pa, pb = torch.atan2(a2, a1), torch.atan2(b2, b1)
    lo = torch.maximum(torch.maximum(pa, pb) - half, torch.full_like(pa, -half))
    hi = torch.minimum(torch.minimum(pa, pb) + half, torch.full_like(pa, half))
    hi = torch.maximum(hi, lo)  # empty arc -> zero length

    def antiderivative(t: Tensor) -> Tensor:  # of (a.e_t)(b.e_t)
        return 0.5 * (
            (a1 * b1 + a2 * b2) * t
            + 0.5 * (a1 * b1 - a2 * b2) * torch.sin(2 * t)
            - 0.5 * (a1 * b2 + a2 * b1) * torch.cos(2 * t)
        )

    return (antiderivative(hi) - antiderivative(lo)) / math.pi


def maxpool_1x1_nngp(arch: MaxPoolCNNArch, X1: Any, X2: Any = None) -> Tensor:
    """Exact kernel of :class:`MaxPoolCNNArch` with 1 x 1 filters on one input channel.

    z_p = w x_p + b with w ~ N(0, sigma_w^2), b ~ N(0, sigma_b^2), so per window q
        a_q = relu(w M_q + b)  if w > 0,    a_q = relu(w m_q + b)  if w < 0,
    (M_q, m_q the window's largest and smallest pixel), and with w = sigma_w g_1,
    b = sigma_b g_2 and the substitution g -> -g on w < 0,
        E[a_q(x) a_q(x')] = H((sigma_w M_q, sigma_b), (sigma_w M'_q, sigma_b))
                          + H((-sigma_w m_q, -sigma_b), (-sigma_w m'_q, -sigma_b)),
    H(a, b) = E[relu(a.g) relu(b.g) 1{g_1 > 0}] (:func:`_relu_product_half_plane`); then
    K = sigma_b^2 + sigma_w^2 mean_q E[a_q(x) a_q(x')]. X1: (n1, 1, H, W); X2 likewise or
    None. Returns (n1, n2) float64. Memory O(n1 n2 H' W') in row blocks of 2^20 entries.
    """
    if arch.in_shape[0] != 1 or arch.filter_size != (1, 1):
        raise ValueError(
            f"maxpool_1x1_nngp: needs 1 x 1 filters on one input channel, got {arch.in_shape}, "
            f"{arch.filter_size}"
        )
    A = to_f64(X1, "X1")
    B = A if X2 is None else to_f64(X2, "X2").to(A.device)
    for name, T in (("X1", A), ("X2", B)):
        if T.ndim != 4 or tuple(T.shape[1:]) != tuple(arch.in_shape):
            raise ValueError(f"{name}: expected shape (n, *{arch.in_shape}), got {tuple(T.shape)}")
    sw, sb = arch.sigma_w, arch.sigma_b

    def extremes(T: Tensor) -> tuple[Tensor, Tensor]:  # (n, Q) window max and min
        hi = F.max_pool2d(T, arch.pool).flatten(1)
        return hi, -F.max_pool2d(-T, arch.pool).flatten(1)

    (MA, mA), (MB, mB) = extremes(A), extremes(B)
    n1, n2, n_q = A.shape[0], B.shape[0], MA.shape[1]
    out = torch.empty(n1, n2, dtype=torch.float64, device=A.device)
    rows = max(1, 2**20 // max(1, n2 * n_q))
    for i in range(0, n1, rows):
        r = slice(i, min(i + rows, n1))
        sb_t = torch.full((1, 1, 1), sb, dtype=torch.float64, device=A.device)
        pos = _relu_product_half_plane(sw * MA[r, None], sb_t, sw * MB[None], sb_t)
        neg = _relu_product_half_plane(-sw * mA[r, None], -sb_t, -sw * mB[None], -sb_t)
        out[r] = (pos + neg).mean(-1).mul_(sw**2).add_(sb**2)
    return out
