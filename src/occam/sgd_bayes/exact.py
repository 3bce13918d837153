"""Exact (sampling) estimates of P(S) and P_B(f|S), to check EP against.

* :func:`sample_functions` — the paper's direct ("ABI") sampling for Boolean inputs (the
  paper's Boolean n = 7 appendix): draw random networks from the prior (their
  initialisation), record the sign pattern on every input, count the functions;
  :meth:`PriorCounts.condition` then conditions on S by rejection and groups the
  survivors by their labels on E.
* :func:`gibbs_functions` — the exact GP posterior under the Heaviside likelihood: a
  truncated-normal Gibbs sampler for z_S, then z_E | z_S drawn exactly.
* :func:`orthant_log_prob` — log P(sign z = y) for z ~ N(0, K) by the GHK simulator (the
  Geweke-Hajivassiliou-Keane importance sampler; unbiased, with a standard error), the exact
  log P(S) under the Heaviside likelihood for n up to a few dozen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from occam.sgd_bayes._arrays import as_pm1, to_f64
from occam.sgd_bayes.arch import FCNArch

_WORD = 62  # bits per int64 word of a packed function (below the sign bit)


def boolean_inputs(n_bits: int = 7) -> Tensor:
    """All 2^n_bits bit vectors as a (2^n_bits, n_bits) float tensor of 0/1; row i holds the
    binary digits of i, most significant first."""
    from occam.data import boolean_inputs as cube

    return torch.from_numpy(cube(n_bits, dtype=np.float32))


def upper_tail_normal(c: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Draw e ~ N(0, 1) conditioned on e > c, elementwise (inverse CDF in the upper tail,
    in log space; past c = 25 an exponential approximation of the tail, error O(1/c^2))."""
    u = torch.rand(c.shape, dtype=c.dtype, device=c.device, generator=generator)
    u = u.clamp_min(torch.finfo(c.dtype).tiny)
    tail = torch.special.log_ndtr(-c) + torch.log(u)  # log of Phi(-e) = u Phi(-c)
    e = -torch.special.ndtri(tail.exp())
    far = c.clamp_min(25.0)
    e_far = far - torch.log(u) / far
    return torch.where(c > 25.0, e_far, torch.maximum(e, c))


# --------------------------------------------------------------------------- orthant (GHK)


def orthant_log_prob(
    K: Any, y: Any, n_samples: int = 1_000_000, seed: int = 0, chunk: int = 200_000
) -> tuple[float, float]:
    """log P(y_i z_i > 0 for all i), z ~ N(0, K), by GHK; returns (estimate, standard error).

    With C = diag(y) K diag(y) = L L^T and w = L e, the constraint w_i > 0 reads
    e_i > c_i = -(sum_{j<i} L_ij e_j) / L_ii; GHK draws each e_i from N(0, 1) truncated to
    (c_i, inf) and weights the sample by prod_i Phi(-c_i), an unbiased estimate of P.
    K: (n, n); y: (n,) in {-1, +1}. The standard error is of the log (delta method).
    """
    Kt = to_f64(K, "K")
    yt = as_pm1(y, "y")
    n = Kt.shape[0]
    C = yt[:, None] * Kt * yt[None, :]
    C = C + 1e-12 * C.diagonal().mean() * torch.eye(n, dtype=C.dtype)
    L = torch.linalg.cholesky(C)
    g = torch.Generator().manual_seed(seed)
    logw_all = []
    for start in range(0, n_samples, chunk):
        b = min(chunk, n_samples - start)
        e = torch.zeros(b, n, dtype=torch.float64)
        logw = torch.zeros(b, dtype=torch.float64)
        for i in range(n):
            c = -(e[:, :i] @ L[i, :i]) / L[i, i]
            logw += torch.special.log_ndtr(-c)
            e[:, i] = upper_tail_normal(c, g)
        logw_all.append(logw)
    lw = torch.cat(logw_all)
    top = lw.max()
    w = (lw - top).exp()
    mean = w.mean()
    se_rel = float(w.std() / mean / math.sqrt(lw.numel()))
    return float(top + mean.log()), se_rel


# --------------------------------------------------------------------------- function counts


def pack_bits(bits: Tensor) -> Tensor:
    """(N, P) bool -> (N, ceil(P / 62)) int64 keys (62 bits per word)."""
    n, p = bits.shape
    n_words = -(-p // _WORD)
    padded = torch.zeros(n, n_words * _WORD, dtype=torch.int64, device=bits.device)
    padded[:, :p] = bits.to(torch.int64)
    weights = 2 ** torch.arange(_WORD, dtype=torch.int64, device=bits.device)
    return (padded.view(n, n_words, _WORD) * weights).sum(-1)


def unpack_bits(keys: Tensor, n_points: int) -> Tensor:
    """Inverse of :func:`pack_bits`: (N, W) int64 -> (N, n_points) bool."""
    shifts = torch.arange(_WORD, dtype=torch.int64, device=keys.device)
    bits = (keys.unsqueeze(-1) >> shifts) & 1
    return bits.reshape(keys.shape[0], -1)[:, :n_points].bool()


_MIX = (-7046029254386353131, -4658895280553007687, 6364136223846793005, 1442695040888963407)


def unique_rows(keys: Tensor) -> tuple[Tensor, Tensor]:
    """``torch.unique(keys, dim=0, return_inverse=True)`` for (N, W) int64, but fast.

    ``unique(dim=0)`` sorts rows lexicographically (about 40 s and 1 GB for 3M rows here);
    this sorts a 64-bit hash of each row instead and then checks exactly that the rows
    sharing a hash are equal, falling back to ``unique(dim=0)`` on a collision.
    Returns (unique rows, inverse index); the order of the unique rows is arbitrary.
    """
    h = torch.zeros(keys.shape[0], dtype=torch.int64, device=keys.device)
    for j in range(keys.shape[1]):  # int64 arithmetic wraps: a multiply-xorshift mix
        h = (h ^ keys[:, j]) * _MIX[j % len(_MIX)]
        h = h ^ (h >> 29)
    uh, inv = torch.unique(h, return_inverse=True)
    first = torch.empty(len(uh), dtype=torch.int64, device=keys.device)
    first.scatter_(0, inv, torch.arange(len(h), device=keys.device))
    rows = keys[first]
    if not torch.equal(rows[inv], keys):  # a hash collision: ~N^2 / 2^64, i.e. never
        return torch.unique(keys, dim=0, return_inverse=True)
    return rows, inv


def _merge(keys: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    uniq, inv = unique_rows(keys)
    return uniq, torch.zeros(len(uniq), dtype=torch.int64).index_add_(0, inv, counts)


@dataclass
class PriorCounts:
    """How often each function (sign pattern on ``n_points`` inputs) was drawn.

    keys: (F, W) packed functions (bit j = 1 iff the output on input j is > 0).
    counts: (F,) draws of each. n_samples: total draws.
    """

    keys: Tensor
    counts: Tensor
    n_samples: int
    n_points: int

    def bits(self) -> Tensor:
        """(F, n_points) bool: the functions."""
        return unpack_bits(self.keys, self.n_points)

    def condition(self, train_idx: Any, y_train: Any, test_idx: Any) -> PriorCounts:
        """Rejection: keep the draws that agree with labels ``y_train`` (+-1 or 0/1) on the
        inputs ``train_idx``; count them by their restriction to ``test_idx``. The result's
        frequencies are P_B(f|S) on E, its ``n_samples`` the number accepted."""
        bits = self.bits()
        tr = torch.as_tensor(train_idx, dtype=torch.long)
        te = torch.as_tensor(test_idx, dtype=torch.long)
        want = as_pm1(y_train, "y_train") > 0
        ok = (bits[:, tr] == want).all(1)
        sub = bits[ok][:, te]
        if len(sub) == 0:
            empty = torch.zeros(0, -(-len(te) // _WORD), dtype=torch.int64)
            return PriorCounts(empty, torch.zeros(0, dtype=torch.int64), 0, len(te))
        keys, counts = _merge(pack_bits(sub), self.counts[ok])
        return PriorCounts(keys, counts, int(counts.sum()), len(te))

    def top(self, k: int) -> list[tuple[str, int]]:
        """The k most frequent functions as ('0101...', count), by decreasing count."""
        order = torch.argsort(self.counts, descending=True)[:k]
        bits = unpack_bits(self.keys[order], self.n_points)
        return [
            ("".join("1" if b else "0" for b in row.tolist()), int(c))
            for row, c in zip(bits, self.counts[order], strict=True)
        ]


def sample_functions(
    arch: FCNArch,
    X: Any,
    n_samples: int,
    *,
    batch: int = 1000,
    seed: int = 0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    merge_every: int = 2_000_000,
) -> PriorCounts:
    """Direct prior sampling: ``n_samples`` random networks of ``arch`` on inputs X (P, d).

    The nets are those of ``arch.build()`` (W ~ N(0, sigma_w^2/fan_in), b ~ N(0, sigma_b^2)),
    run ``batch`` at a time as stacked matmuls (small batches stay in cache: ~1,000 is
    fastest on a CPU; use 10^5 or more on a GPU). Returns the counts of their sign patterns.
    """
    if arch.out_dim != 1:
        raise ValueError("sample_functions: arch.out_dim must be 1 (one logit)")
    Xt = to_f64(X, "X").to(device=device, dtype=dtype)
    g = torch.Generator(device=device).manual_seed(seed)
    keys = torch.zeros(0, -(-Xt.shape[0] // _WORD), dtype=torch.int64)
    counts = torch.zeros(0, dtype=torch.int64)
    buffer: list[Tensor] = []
    buffered = 0
    done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        buffer.append(pack_bits(batched_fcn_outputs(arch, Xt, b, g) > 0).cpu())
        buffered += b
        done += b
        if buffered >= merge_every or done == n_samples:
            new = torch.cat(buffer)
            keys, counts = _merge(
                torch.cat([keys, new]),
                torch.cat([counts, torch.ones(len(new), dtype=torch.int64)]),
            )
            buffer, buffered = [], 0
    return PriorCounts(keys, counts, n_samples, Xt.shape[0])


def batched_fcn_outputs(arch: FCNArch, X: Tensor, n_nets: int, g: torch.Generator) -> Tensor:
    """Outputs (n_nets, P) of ``n_nets`` independent random nets of ``arch`` on X (P, d).

    The same rule as :func:`occam.sgd_bayes.arch.init_paper_`. The first layer is one matmul
    X @ [W_1 ... W_N] (P, N w); the later layers are batched matmuls over the nets."""
    dev, dt = X.device, X.dtype
    sw, sb = arch.sigma_w, arch.sigma_b
    P, d = X.shape
    widths = (*arch.widths, 1)
    w0 = widths[0]
    W = torch.randn(d, n_nets * w0, generator=g, device=dev, dtype=dt).mul_(sw / math.sqrt(d))
    b = torch.randn(1, n_nets * w0, generator=g, device=dev, dtype=dt).mul_(sb)
    h = torch.addmm(b, X, W).view(P, n_nets, w0).permute(1, 0, 2)  # (N, P, w0)
    fan_in = w0
    for w in widths[1:]:
        h = h.relu()
        Wl = torch.randn(n_nets, fan_in, w, generator=g, device=dev, dtype=dt)
        bl = torch.randn(n_nets, 1, w, generator=g, device=dev, dtype=dt)
        h = torch.bmm(h, Wl.mul_(sw / math.sqrt(fan_in))).add_(bl.mul_(sb))
        fan_in = w
    return h[..., 0]


# --------------------------------------------------------------------------- Gibbs


def gibbs_functions(
    K_full: Any,
    y_train: Any,
    *,
    n_chains: int = 4000,
    n_sweeps: int = 300,
    burn_in: int | None = None,
    seed: int = 0,
    jitter: float = 1e-10,
) -> PriorCounts:
    """Sample the exact GP posterior under the Heaviside likelihood; count functions on E.

    K_full: (m + k, m + k), training points first. y_train: (m,) in {-1, +1}. Each of
    ``n_chains`` chains Gibbs-samples z_S ~ N(0, K_SS) restricted to y_i z_i > 0, one
    coordinate at a time from its truncated-normal conditional N(z_i - (Q z)_i / Q_ii, 1/Q_ii)
    with Q = K_SS^-1. After ``burn_in`` sweeps (default half), every sweep draws
    z_E | z_S ~ N(K_ES Q z_S, K_EE - K_ES Q K_SE) exactly and records sign(z_E).
    Returns the counts over n_chains x (n_sweeps - burn_in) draws (correlated within a chain).
    """
    K = to_f64(K_full, "K_full")
    y = as_pm1(y_train, "y_train")
    m = y.shape[0]
    k = K.shape[0] - m
    if k < 1:
        raise ValueError("gibbs_functions: K_full has no test points after the training points")
    burn = n_sweeps // 2 if burn_in is None else burn_in
    g = torch.Generator().manual_seed(seed)
    eye = torch.eye(K.shape[0], dtype=K.dtype)
    K = K + jitter * K.diagonal().mean() * eye  # keeps K_SS invertible (see ep.py)
    Kss, Kes, Kee = K[:m, :m], K[m:, :m], K[m:, m:]
    Lss = torch.linalg.cholesky(Kss)
    Q = torch.cholesky_inverse(Lss)
    A = torch.cholesky_solve(Kes.T, Lss).T  # K_ES K_SS^-1, (k, m)
    Le = torch.linalg.cholesky(Kee - A @ Kes.T + jitter * Kee.diagonal().mean() * eye[:k, :k])
    qd = Q.diagonal()
    # start inside the constraint set: |prior draw| with the right signs
    Z = y[:, None] * (Lss @ torch.randn(m, n_chains, generator=g, dtype=K.dtype)).abs()
    keys: list[Tensor] = []
    for sweep in range(n_sweeps):
        for i in range(m):
            mean_i = Z[i] - (Q[i] @ Z) / qd[i]
            sd = 1.0 / qd[i].sqrt()
            e = upper_tail_normal(-y[i] * mean_i / sd, g)
            Z[i] = mean_i + sd * y[i] * e
        if sweep >= burn:
            ze = A @ Z + Le @ torch.randn(k, n_chains, generator=g, dtype=K.dtype)
            keys.append(pack_bits((ze > 0).T))
    allk = torch.cat(keys)
    allk, counts = _merge(allk, torch.ones(len(allk), dtype=torch.int64))
    return PriorCounts(allk, counts, int(counts.sum()), k)
