"""NNGP kernels in torch float64, tiled so that any n fits in memory.

* :func:`relu_nngp` — ReLU fully connected networks of any depth (arc-cosine recursion).
* :func:`cnn_nngp` — ReLU CNNs with a Flatten readout (same-location recursion) or a global
  average pooling readout (full location x location recursion).
* :func:`empirical_nngp` — Monte Carlo NNGP of any torch module over random initialisations.

The analytic kernels take their parameters from the architecture descriptions in
:mod:`occam.sgd_bayes.arch`, which also build the finite networks.

References
----------
Cho & Saul (2009), "Kernel methods for deep learning" (arc-cosine kernel of degree 1).
Lee et al. (2018), "Deep neural networks as Gaussian processes" (the FCN recursion).
Garriga-Alonso, Rasmussen & Aitchison (2019), "Deep convolutional networks as shallow
Gaussian processes" (the CNN recursion). nn-pacbayes ``nngp_kernel/fc_kernel.py``,
``cnn_kernel.py``, ``empirical_kernel.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from occam.sgd_bayes._arrays import like, to_f64
from occam.sgd_bayes.conv import ConvNetGeometry, conv_pads

_INV_2PI = 1.0 / (2.0 * math.pi)


def relu_expectation(K: Tensor, qa: Tensor, qb: Tensor) -> Tensor:
    """``E[relu(u) relu(v)]`` for ``(u, v) ~ N(0, [[qa, K], [K, qb]])``, elementwise.

    The arc-cosine kernel of degree 1 (Cho & Saul 2009):
        sqrt(qa qb) / (2 pi) * (sin t + (pi - t) cos t),   cos t = K / sqrt(qa qb).
    ``qa`` and ``qb`` broadcast against ``K``; ``K`` is overwritten (the hot loop works in
    place). A zero variance gives zero.
    """
    return relu_expectation_scaled(K, qa, qb, 1.0)


def relu_expectation_scaled(K: Tensor, qa: Tensor, qb: Tensor, scale: float) -> Tensor:
    """``scale * E[relu(u) relu(v)]`` as :func:`relu_expectation` (``K`` overwritten).

    With s = sin t = sqrt(1 - rho^2), t = atan2(s, rho) is acos(rho) at half its cost
    (float64 ``acos`` is the slowest op of the recursion), and the scale rides on one multiply.
    """
    sa, sb = qa.sqrt(), qb.sqrt()
    inv_a = torch.where(sa > 0, 1.0 / sa, 0.0)
    inv_b = torch.where(sb > 0, 1.0 / sb, 0.0)
    rho = K.mul_(inv_a).mul_(inv_b).clamp_(-1.0, 1.0)
    sin_t = torch.addcmul(torch.ones_like(rho), rho, rho, value=-1.0).clamp_(min=0.0).sqrt_()
    pi_minus_t = torch.atan2(sin_t, rho).neg_().add_(math.pi)
    out = sin_t.addcmul_(pi_minus_t, rho)  # sin t + (pi - t) cos t
    return out.mul_(sa * (scale * _INV_2PI)).mul_(sb)


def _tiles(n1: int, n2: int, tile: int, symmetric: bool):
    for i in range(0, n1, tile):
        for j in range(i if symmetric else 0, n2, tile):
            yield slice(i, min(i + tile, n1)), slice(j, min(j + tile, n2))


def _fill_tiled(
    n1: int,
    n2: int,
    tile: int,
    symmetric: bool,
    block: Callable[[slice, slice], Tensor],
    device: torch.device,
) -> Tensor:
    """Assemble an (n1, n2) kernel from ``block(rows, cols)``; mirror tiles when symmetric."""
    out = torch.empty(n1, n2, dtype=torch.float64, device=device)
    for r, c in _tiles(n1, n2, tile, symmetric):
        K = block(r, c)
        if symmetric and r == c:  # a gemm need not be bitwise symmetric; the kernel must be
            K = 0.5 * (K + K.T)
        out[r, c] = K
        if symmetric and r != c:
            out[c, r] = K.T
    return out


# --------------------------------------------------------------------------- ReLU FCN


def relu_nngp_diag(
    X: Tensor, depth: int, sigma_w: float = 1.0, sigma_b: float = 0.0
) -> list[Tensor]:
    """Pre-activation variances ``q^l(x) = K^l(x, x)``, l = 0..depth, each of shape (n,).

    q^0 = sigma_b^2 + sigma_w^2 |x|^2 / d;   q^{l+1} = sigma_b^2 + sigma_w^2 q^l / 2.
    """
    sw2, sb2 = sigma_w**2, sigma_b**2
    q = [sb2 + sw2 * X.square().sum(1) / X.shape[1]]
    for _ in range(depth):
        q.append(sb2 + sw2 * q[-1] / 2)
    return q


def relu_nngp(
    X1: Any,
    X2: Any = None,
    depth: int = 2,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    tile: int = 512,
) -> Any:
    """NNGP kernel of a ReLU FCN with ``depth`` hidden layers (the covariance of its logit).

    With weights ``N(0, sigma_w^2 / fan_in)`` and biases ``N(0, sigma_b^2)`` (Lee et al. 2018)::

        K^0(x, x')     = sigma_b^2 + sigma_w^2 x.x' / d
        K^{l+1}(x, x') = sigma_b^2 + sigma_w^2 E[relu(u) relu(v)],  (u, v) ~ N(0, K^l)

    applied ``depth`` times. X1: (n1, d), X2: (n2, d) or None (then X2 = X1 and only the
    upper tiles are computed). Returns (n1, n2) float64, a numpy array unless X1 is a torch
    tensor. Computed in ``tile`` x ``tile`` blocks, so memory is O(n1 n2 + tile^2).
    """
    A = to_f64(X1, "X1")
    if A.ndim != 2:
        raise ValueError(f"X1: expected shape (n, d), got {tuple(A.shape)}")
    symmetric = X2 is None
    B = A if symmetric else to_f64(X2, "X2").to(A.device)
    if B.ndim != 2 or B.shape[1] != A.shape[1]:
        raise ValueError(f"X2: expected shape (n2, {A.shape[1]}), got {tuple(B.shape)}")
    if not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth: expected an integer >= 0, got {depth!r}")
    if not sigma_w > 0 or not sigma_b >= 0:
        raise ValueError(f"sigma_w must be > 0 and sigma_b >= 0, got {sigma_w}, {sigma_b}")
    sw2, sb2, d = sigma_w**2, sigma_b**2, A.shape[1]
    qa = relu_nngp_diag(A, depth, sigma_w, sigma_b)
    qb = qa if symmetric else relu_nngp_diag(B, depth, sigma_w, sigma_b)

    def block(r: slice, c: slice) -> Tensor:
        K = (A[r] @ B[c].T).mul_(sw2 / d).add_(sb2)
        for layer in range(depth):
            K = relu_expectation(K, qa[layer][r, None], qb[layer][None, c]).mul_(sw2).add_(sb2)
        return K

    K = _fill_tiled(A.shape[0], B.shape[0], tile, symmetric, block, A.device)
    if symmetric:
        K.diagonal().copy_(qa[depth])  # exact: rho = 1 on the diagonal
    return like(X1, K)


# --------------------------------------------------------------------------- CNN


def _box_mean(x: Tensor, k: tuple[int, int], s: int, out: tuple[int, int]) -> Tensor:
    """Mean over k[0] x k[1] windows with stride s of the last two axes (already padded),
    as a separable sum of shifted slices (faster than float64 ``avg_pool2d`` on a CPU)."""
    (kh, kw), (ho, wo) = k, out
    rows = x[..., 0 : s * (ho - 1) + 1 : s, :].clone()
    for dy in range(1, kh):
        rows += x[..., dy : dy + s * (ho - 1) + 1 : s, :]
    y = rows[..., 0 : s * (wo - 1) + 1 : s].clone()
    for dx in range(1, kw):
        y += rows[..., dx : dx + s * (wo - 1) + 1 : s]
    return y.div_(kh * kw)


def _patch_mean(x: Tensor, arch: ConvNetGeometry, layer: int, shape: tuple[int, int]) -> Tensor:
    """Mean over each filter window of layer ``layer`` (zero padding included, as fan-in
    counts it), for maps x of shape (..., H, W) -> (..., H', W')."""
    k, s = arch.filter_sizes[layer], arch.stride(layer)
    pads = conv_pads(shape, k, s, arch.paddings[layer])
    if any(pads):
        x = F.pad(x, pads)
    return _box_mean(x, k, s, arch.layer_shapes()[layer + 1])


def _cnn_diag(arch: ConvNetGeometry, X: Tensor) -> list[Tensor]:
    """Same-location pre-activation variances per conv layer, each (n, H_l, W_l)."""
    sw2, sb2 = arch.sigma_w**2, arch.sigma_b**2
    shapes = arch.layer_shapes()
    v = [sb2 + sw2 * _patch_mean(X.square().mean(1), arch, 0, shapes[0])]
    for layer in range(1, len(arch.channels)):
        v.append(sb2 + sw2 * _patch_mean(v[-1] / 2, arch, layer, shapes[layer]))
    return v


def _diag_patch_mean(
    x: Tensor, arch: ConvNetGeometry, layer: int, shape: tuple[int, int]
) -> Tensor:
    """For full covariances x[..., h, w, h', w']: the mean over window offsets d of
    x[p s + d, p' s + d] (the same offset at both locations), with zero padding."""
    (kh, kw), s = arch.filter_sizes[layer], arch.stride(layer)
    left, right, top, bottom = conv_pads(shape, (kh, kw), s, arch.paddings[layer])
    xp = F.pad(x, (left, right, top, bottom, left, right, top, bottom))
    ho, wo = arch.layer_shapes()[layer + 1]
    out = torch.zeros(*x.shape[:-4], ho, wo, ho, wo, dtype=x.dtype, device=x.device)
    for dy in range(kh):
        for dx in range(kw):
            hs = slice(dy, dy + s * (ho - 1) + 1, s)
            ws = slice(dx, dx + s * (wo - 1) + 1, s)
            out += xp[..., hs, ws, hs, ws]
    return out.div_(kh * kw)


def cnn_nngp(
    arch: ConvNetGeometry,
    X1: Any,
    X2: Any = None,
    *,
    method: Literal["auto", "same_location", "full"] = "auto",
    tile: int | None = None,
) -> Any:
    """NNGP kernel of the CNN that ``arch.build()`` makes (Garriga-Alonso et al. 2019).

    Convolution l maps covariances K^l (per pair of locations) to
        K^{l+1}_{p,p'} = sigma_b^2 + sigma_w^2 mean_{d in window} E[relu relu](K^l_{p+d, p'+d}),
    the first layer using x_q . x'_q / C instead of E[relu relu]. With a Flatten readout only
    the same-location entries p = p' are needed (cost O(H W) per pair of images); global
    average pooling needs all (p, p') (cost O((H W)^2) per pair):
        flatten: K = sigma_b^2 + sigma_w^2 mean_p      E[relu relu](K^L_{p,p})
        gap:     K = sigma_b^2 + sigma_w^2 mean_{p,p'} E[relu relu](K^L_{p,p'})

    X1: (n1, C, H, W); X2: (n2, C, H, W) or None. Returns (n1, n2) float64, numpy unless X1 is
    a tensor. ``method="full"`` forces the full recursion (a cross-check for Flatten).
    """
    A = to_f64(X1, "X1")
    symmetric = X2 is None
    B = A if symmetric else to_f64(X2, "X2").to(A.device)
    for name, T in (("X1", A), ("X2", B)):
        if T.ndim != 4 or tuple(T.shape[1:]) != tuple(arch.in_shape):
            raise ValueError(f"{name}: expected shape (n, *{arch.in_shape}), got {tuple(T.shape)}")
    full = method == "full" or (method == "auto" and arch.readout == "gap")
    if arch.readout == "gap" and not full:
        raise ValueError("cnn_nngp: global average pooling needs method='full' (or 'auto')")
    sw2, sb2 = arch.sigma_w**2, arch.sigma_b**2
    shapes = arch.layer_shapes()
    va = _cnn_diag(arch, A)
    vb = va if symmetric else _cnn_diag(arch, B)
    n_layers = len(arch.channels)
    if tile is None:
        # same-location: (tile^2, H, W) blocks near 2^18 doubles (2 MiB), so that the
        # elementwise chain of a layer runs in cache (measured: 1.3x faster than 2^21);
        # full: (tile^2, H, W, H, W) near 2^21 doubles
        per_pair = max(h * w for h, w in (shapes if full else shapes[1:])) ** (2 if full else 1)
        tile = max(1, int(math.sqrt((2**21 if full else 2**18) / per_pair)))

    if not full:  # first layer as one batched matmul over locations: (L, n, C kh kw) patches
        k0, s0 = arch.filter_sizes[0], arch.stride(0)
        pads0 = conv_pads(shapes[0], k0, s0, arch.paddings[0])

        def patches(T: Tensor) -> Tensor:
            P = F.unfold(F.pad(T, pads0) if any(pads0) else T, k0, stride=s0)
            return P.permute(2, 0, 1).contiguous()

        PA = patches(A)
        PB = PA if symmetric else patches(B)
        scale0 = sw2 / (A.shape[1] * k0[0] * k0[1])

    def block_same(r: slice, c: slice) -> Tensor:
        # K^1_{ab,p} = sigma_b^2 + sigma_w^2 <patch_a(p), patch_b(p)> / (C kh kw)
        G = torch.baddbmm(PB.new_tensor(sb2), PA[:, r], PB[:, c].transpose(1, 2), alpha=scale0)
        K = G.permute(1, 2, 0).reshape(G.shape[1], G.shape[2], *shapes[1])
        for layer in range(1, n_layers + 1):
            E = relu_expectation_scaled(K, va[layer - 1][r, None], vb[layer - 1][None, c], sw2)
            if layer == n_layers:
                return E.mean((-2, -1)).add_(sb2)
            K = _patch_mean(E, arch, layer, shapes[layer]).add_(sb2)
        raise AssertionError("unreachable")

    def block_full(r: slice, c: slice) -> Tensor:
        K = torch.einsum("achw,bcuv->abhwuv", A[r], B[c]).div_(A.shape[1])
        K = sb2 + sw2 * _diag_patch_mean(K, arch, 0, shapes[0])
        for layer in range(1, n_layers + 1):
            qa = va[layer - 1][r, None, :, :, None, None]
            qb = vb[layer - 1][None, c, None, None, :, :]
            E = relu_expectation(K, qa, qb)
            if layer == n_layers:
                if arch.readout == "gap":
                    return sb2 + sw2 * E.mean((-4, -3, -2, -1))
                h, w = E.shape[-2:]
                same = E.reshape(*E.shape[:2], h * w, h * w).diagonal(dim1=-2, dim2=-1)
                return sb2 + sw2 * same.mean(-1)
            K = sb2 + sw2 * _diag_patch_mean(E, arch, layer, shapes[layer])
        raise AssertionError("unreachable")

    block = block_full if full else block_same
    K = _fill_tiled(A.shape[0], B.shape[0], tile, symmetric, block, A.device)
    return like(X1, K)


# --------------------------------------------------------------------------- Monte Carlo


@dataclass
class EmpiricalKernel:
    """A Monte Carlo NNGP: ``K`` (n1, n2) mean over initialisations, ``stderr`` its standard
    error per entry (from the spread across independent initialisations)."""

    K: Tensor
    stderr: Tensor
    n_samples: int


def empirical_nngp(
    net: Any,
    X1: Any,
    X2: Any = None,
    *,
    n_samples: int = 1000,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> EmpiricalKernel:
    """Monte Carlo NNGP of any torch module: ``K(x, x') ~ E_init[f(x) f(x')]``.

    net: an architecture with ``build(generator, dtype)`` (FCNArch, CNNArch, LSTMArch, ...) or
    a callable ``generator -> nn.Module``. Each of ``n_samples`` fresh initialisations gives
    one sample ``f(X1) f(X2)^T / k``, averaged over the module's k output units (independent
    given the hidden layers, so a wide readout lowers the variance at no cost); the
    standard error comes from the spread across initialisations. Inputs are any shape the
    module accepts, with the batch first (e.g. (n, T, d) for an LSTM).
    (nn-pacbayes ``empirical_kernel.py``; the paper's IMDb LSTM kernel is of this kind.)
    """
    if n_samples < 2:
        raise ValueError(f"n_samples: need at least 2, got {n_samples}")
    build: Callable[..., nn.Module]
    if hasattr(net, "build"):
        build = lambda g: net.build(g, dtype=dtype)  # noqa: E731
    elif callable(net):
        build = net
    else:
        raise TypeError("net: expected an architecture with .build() or a callable")
    A = to_f64(X1, "X1").to(dtype)
    B = None if X2 is None else to_f64(X2, "X2").to(dtype)
    g = torch.Generator().manual_seed(seed)
    s1: Tensor | None = None
    s2: Tensor | None = None
    with torch.no_grad():
        for _ in range(n_samples):
            module = build(g)
            fa = module(A).reshape(A.shape[0], -1).double()
            fb = fa if B is None else module(B).reshape(B.shape[0], -1).double()
            sample = fa @ fb.T / fa.shape[1]
            if s1 is None or s2 is None:
                s1, s2 = sample.clone(), sample.square()
            else:
                s1 += sample
                s2 += sample.square()
    assert s1 is not None and s2 is not None
    mean = s1 / n_samples
    var = (s2 / n_samples - mean.square()).clamp_min(0.0) * n_samples / (n_samples - 1)
    return EmpiricalKernel(K=mean, stderr=(var / n_samples).sqrt(), n_samples=n_samples)
