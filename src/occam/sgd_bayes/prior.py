"""The finite network's exact P_B(f|S) on real images, by rejection sampling of its prior.

Random networks are drawn with the trainer's own initialiser (``arch.init_stacked``, i.e.
:func:`occam.sgd_bayes.arch.init_paper_stacked`: W ~ N(0, sigma_w^2 / fan_in),
b ~ N(0, sigma_b^2) on every layer); a draw is *accepted* for a problem when its signs on S
equal the labels of S, and is then counted by its labelling of E. The accepted frequencies
are the exact posterior P_B(f|S) of the finite network under the paper's 0-1 likelihood
(§2 of Mingard et al. 2021: P_B(f|S) = P(S, f) / P(S)), and the acceptance rate is P(S).

One draw of the prior serves every problem: the nets are evaluated once on a pool of inputs
(every draw of S and E), and each :class:`Conditioning` reads its own rows. Draws are cut
into chunks seeded by index (:class:`PriorChunk` for :func:`occam.executors.run_chunks`),
so a run is resumable and independent of scheduling, like the SGD sampler.

Each accepted draw is also tagged with its normalised margin on S,

    gamma = min_i y_i f(x_i) / ||theta||_2^D,

with D the number of weight layers (a bias-free ReLU net is positively homogeneous of degree
D in its parameters, so gamma does not change when theta is rescaled), as a bin of
``1 / MARGIN_BINS_PER_DECADE`` decades of log10 gamma. The counts' keys are
``"<problem>|<function on E>|<margin bin>"``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from occam.executors.sampler import FunctionCounts
from occam.sgd_bayes.arch import CNNArch, FCNArch, conv_pads

MARGIN_BINS_PER_DECADE = 10


def weight_layers(arch: FCNArch | CNNArch) -> int:
    """D: the number of weight layers (hidden layers or convolutions, plus the readout)."""
    return (len(arch.widths) if isinstance(arch, FCNArch) else len(arch.channels)) + 1


def stacked_outputs(arch: FCNArch | CNNArch, params: dict[str, Tensor], X: Tensor) -> Tensor:
    """Outputs (N, P) of N nets with stacked parameters ``params`` on shared inputs X.

    params: ``{name: (N, *shape)}`` in the layout of ``arch.init_stacked`` (the names of
    ``arch.build()``'s parameters). X: (P, input_dim) for an FCN, (P, C, H, W) for a CNN.
    The same function as ``torch.func.functional_call(arch.build(), params[i], X)`` for
    each net i, written as a few large matrix products (see ``test_sb_prior.py``).
    """
    if isinstance(arch, FCNArch):
        return _fcn_outputs(arch, params, X)
    return _cnn_outputs(arch, params, X)


def _fcn_outputs(arch: FCNArch, params: dict[str, Tensor], X: Tensor) -> Tensor:
    names = [f"{2 * i}" for i in range(len(arch.widths) + 1)]
    W0, b0 = params[f"{names[0]}.weight"], params[f"{names[0]}.bias"]  # (N, w, d), (N, w)
    n, w0, d = W0.shape
    # Activations are kept unit-major, (N, w, P): every product then reads the weights in
    # their stored (out, in) layout and writes a contiguous result, and ReLU and the bias add
    # run in place (no transposed copies). First layer for all nets at once:
    # (N w, d) @ (d, P).
    h = torch.mm(W0.reshape(n * w0, d), X.T).view(n, w0, -1).add_(b0.unsqueeze(2))
    for name in names[1:]:
        h = torch.bmm(params[f"{name}.weight"], h.relu_()).add_(params[f"{name}.bias"].unsqueeze(2))
    return h[:, 0, :]


def _patches(h: Tensor, k: tuple[int, int], stride: int, out: tuple[int, int]) -> Tensor:
    """Channels-last patches: h (..., H, W, C) padded -> (..., ho, wo, kh kw C), offsets
    outer and channels inner. Two ``unfold`` views and one copy (``F.unfold`` is much
    slower on these tiny maps; a ``cat`` of kh kw shifted slices measured ~1.2x slower)."""
    ho, wo = out
    u = h.unfold(-3, k[0], stride).unfold(-3, k[1], stride)  # (..., H', W', C, kh, kw)
    u = u[..., :ho, :wo, :, :, :]
    lead = tuple(range(u.dim() - 3))
    return u.permute(*lead, -2, -1, -3).reshape(*u.shape[:-3], -1)


def _cnn_outputs(arch: CNNArch, params: dict[str, Tensor], X: Tensor) -> Tensor:
    shapes = arch.layer_shapes()
    P = X.shape[0]
    h = X.permute(0, 2, 3, 1)  # (P, H, W, C): channels last, shared by all nets at first
    n = 0
    for i, k in enumerate(arch.filter_sizes):
        W = params[f"{2 * i}.conv.weight"]  # (N, C_out, C_in, kh, kw)
        b = params[f"{2 * i}.conv.bias"]  # (N, C_out)
        n, c_out = W.shape[:2]
        left, right, top, bottom = conv_pads(shapes[i], k, arch.stride(i), arch.paddings[i])
        hp = F.pad(h, (0, 0, left, right, top, bottom))
        (ho, wo), s = shapes[i + 1], arch.stride(i)
        Wk = W.permute(0, 3, 4, 2, 1).reshape(n, -1, c_out)  # (N, kh kw C_in, C_out)
        cols = _patches(hp, k, s, (ho, wo))
        if i == 0:  # shared inputs: one (P L, kk C) @ (kk C, N C_out) product
            a = cols.reshape(P * ho * wo, -1) @ Wk.permute(1, 0, 2).reshape(Wk.shape[1], -1)
            a = a.view(P * ho * wo, n, c_out).transpose(0, 1)
        else:
            a = torch.bmm(cols.reshape(n, P * ho * wo, -1), Wk)
        h = (a + b[:, None, :]).relu_().view(n, P, ho, wo, c_out)
    last = f"{2 * len(arch.channels) + 1}"  # after the convs' ReLUs and Flatten / pooling
    Wr, br = params[f"{last}.weight"], params[f"{last}.bias"]  # (N, 1, f), (N, 1)
    if arch.readout == "flatten":  # torch flattens (C, H, W); h is (H, W, C)
        ho, wo = shapes[-1]
        Wr = Wr.view(n, -1, ho, wo).permute(0, 2, 3, 1).reshape(n, 1, -1)
        feats = h.reshape(n, P, -1)
    else:
        feats = h.mean(dim=(2, 3))
    return torch.baddbmm(br.unsqueeze(1), feats, Wr.transpose(1, 2))[..., 0]


def param_sq_norms(params: dict[str, Tensor]) -> Tensor:
    """(N,) squared Euclidean norm of each net's parameters (biases included)."""
    return sum((p.flatten(1).pow(2).sum(1) for p in params.values()), torch.zeros(()))  # type: ignore[return-value]


def margin_bin(gamma: Tensor) -> Tensor:
    """log10-margin bin of positive margins ``gamma``: floor(MARGIN_BINS_PER_DECADE log10 g)."""
    return torch.floor(MARGIN_BINS_PER_DECADE * torch.log10(gamma.clamp_min(1e-30))).long()


def bin_centre(b: int) -> float:
    """The log10 margin at the centre of bin ``b``."""
    return (b + 0.5) / MARGIN_BINS_PER_DECADE


@dataclass(frozen=True)
class Conditioning:
    """One problem to condition the prior draws on: rows of the input pool and labels.

    train_idx: rows of S in the pool; y_train: their labels in {0, 1}; test_idx: rows of E.
    """

    key: str
    train_idx: tuple[int, ...]
    y_train: tuple[int, ...]
    test_idx: tuple[int, ...]


@dataclass(frozen=True)
class PriorChunk:
    """A picklable task ``(chunk, seed) -> FunctionCounts`` for :func:`run_chunks`.

    Draws ``nets_per_chunk`` random nets of ``arch`` (``batch`` at a time) on the input
    pool X (P, ...) and counts, per problem, the accepted draws by function on E and margin
    bin. ``n_runs`` is the number of nets drawn; ``n_unfitted`` stays 0 (a rejected draw is
    not a failure, and the acceptance of each problem is its own count over ``n_runs``).
    """

    arch: FCNArch | CNNArch
    X: Tensor
    problems: tuple[Conditioning, ...]
    nets_per_chunk: int
    batch: int = 0  # nets per forward pass; 0: 256 for an FCN, 200 for a CNN (in cache)
    device: str = "cpu"

    def __call__(self, chunk: int, seed: int) -> FunctionCounts:
        g = torch.Generator().manual_seed(seed)
        batch = self.batch or (256 if isinstance(self.arch, FCNArch) else 200)
        X = self.X.to(self.device)
        depth = weight_layers(self.arch)
        # the problems grouped by |S|, so that one gather tests every problem of a group:
        # (keys, S rows (C, m), labels (C, m), E rows (C, k))
        groups: dict[tuple[int, int], list[Conditioning]] = {}
        for p in self.problems:
            groups.setdefault((len(p.train_idx), len(p.test_idx)), []).append(p)
        idx = [
            (
                [p.key for p in ps],
                torch.tensor([p.train_idx for p in ps], device=self.device),
                torch.tensor([p.y_train for p in ps], device=self.device).bool(),
                torch.tensor([p.test_idx for p in ps], device=self.device),
            )
            for ps in groups.values()
        ]
        counts: Counter[str] = Counter()
        done = 0
        while done < self.nets_per_chunk:
            b = min(batch, self.nets_per_chunk - done)
            params = {k: v.to(self.device) for k, v in self.arch.init_stacked(b, g).items()}
            out = stacked_outputs(self.arch, params, X)  # (b, P)
            positive = out > 0
            for keys, tr, y, te in idx:
                ok = (positive[:, tr] == y).all(dim=2)  # (b, C): draw i fits problem c
                if not bool(ok.any()):
                    continue
                nets, probs = ok.nonzero(as_tuple=True)
                o = out[nets[:, None], tr[probs]]  # (a, m): the accepted draws' outputs on S
                signed = torch.where(y[probs], o, -o)
                norm_d = param_sq_norms({k: v[nets] for k, v in params.items()}).sqrt()
                bins = margin_bin(signed.min(dim=1).values / norm_d.pow(depth)).tolist()
                funcs = positive[nets[:, None], te[probs]].cpu().numpy()
                for c, f, mb in zip(probs.tolist(), funcs, bins, strict=True):
                    counts[f"{keys[c]}|{''.join('1' if v else '0' for v in f)}|{mb}"] += 1
            done += b
        return FunctionCounts(counts=counts, n_runs=self.nets_per_chunk)


@dataclass
class Accepted:
    """The accepted draws of one problem: function -> count, and (function, bin) -> count."""

    functions: Counter[str]
    margins: Counter[tuple[str, int]]
    n_prior: int

    @property
    def n_accepted(self) -> int:
        return int(sum(self.functions.values()))

    @property
    def log_p_s(self) -> float:
        """log P(S) of the finite network: log(accepted / drawn); -inf when none accepted."""
        return math.log(self.n_accepted / self.n_prior) if self.n_accepted else -math.inf


def split_counts(counts: FunctionCounts) -> dict[str, Accepted]:
    """The merged chunk counts, per problem key."""
    out: dict[str, Accepted] = {}
    for k, c in counts.counts.items():
        key, f, b = k.split("|")
        acc = out.setdefault(key, Accepted(Counter(), Counter(), counts.n_runs))
        acc.functions[f] += c
        acc.margins[(f, int(b))] += c
    return out


def accepted_for(split: dict[str, Accepted], key: str, n_prior: int) -> Accepted:
    """The problem ``key``'s accepted draws (empty when none was accepted)."""
    return split.get(key, Accepted(Counter(), Counter(), n_prior))


def chunk_flops(arch: FCNArch | CNNArch, n_inputs: int) -> float:
    """Forward FLOPs of one net on ``n_inputs`` inputs (multiply-add = 2), for throughput."""
    from occam.nets.ensemble import _forward_cost

    shape: tuple[int, ...] = (
        (1, arch.input_dim) if isinstance(arch, FCNArch) else (1, *arch.in_shape)
    )
    flops, _ = _forward_cost(arch.build(torch.Generator()), torch.zeros(shape))
    return flops * n_inputs


def describe(arch: Any) -> str:
    """Short name of an architecture for tables."""
    return "fcn" if isinstance(arch, FCNArch) else "cnn"
