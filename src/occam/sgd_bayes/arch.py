"""Architecture descriptions: one object builds the finite network *and* feeds its NNGP kernel.

Each description is a frozen dataclass whose fields are the paper's knobs (widths, filter
sizes, padding, sigma_w, sigma_b). ``build()`` returns a torch module initialised as in the
authors' code (nn-pacbayes ``NN_train.py``, ``utils.py``), and ``nngp()`` returns the
infinite-width kernel of that same module, so the two cannot drift apart (as in
neural-tangents' ``stax``).

Initialisation (Keras ``VarianceScaling(scale=sigma_w**2, mode='fan_in', 'normal')`` and
``RandomNormal(stddev=sigma_b)`` in nn-pacbayes):

    W ~ N(0, sigma_w**2 / fan_in),   b ~ N(0, sigma_b**2)   on every layer, readout included,

with ``fan_in = C_in * k_h * k_w`` for a convolution and ``C_L * H_L * W_L`` for the dense
readout after Flatten.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from occam.sgd_bayes.conv import Padding, conv_out_shape, conv_pads, same_pads
from occam.sgd_bayes.nngp import cnn_nngp, relu_nngp

Readout = Literal["flatten", "gap"]


__all__ = [
    "Architecture",
    "CNNArch",
    "FCNArch",
    "Padding",
    "conv_out_shape",
    "conv_pads",
    "same_pads",
]

M = TypeVar("M", bound=nn.Module)


def init_paper_(
    module: M, sigma_w: float, sigma_b: float, generator: torch.Generator | None = None
) -> M:
    """Re-initialise every Linear/Conv2d/LSTM in ``module`` in place with the paper's rule.

    Linear and Conv2d: ``W ~ N(0, sigma_w**2 / fan_in)``, ``b ~ N(0, sigma_b**2)``.
    LSTM: the input and recurrent matrices of each gate get the same fan-in rule (fan-in =
    input size and hidden size respectively); ``bias_ih ~ N(0, sigma_b**2)`` and ``bias_hh = 0``,
    so that each gate has a single bias of variance ``sigma_b**2`` as in Keras.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, sigma_w / math.sqrt(fan_in), generator=generator)
                if m.bias is not None:
                    m.bias.normal_(0.0, sigma_b, generator=generator)
            elif isinstance(m, nn.LSTM):
                for name, p in m.named_parameters():
                    if name.startswith("weight"):
                        p.normal_(0.0, sigma_w / math.sqrt(p.shape[1]), generator=generator)
                    elif name.startswith("bias_ih"):
                        p.normal_(0.0, sigma_b, generator=generator)
                    else:
                        p.zero_()
    return module


def init_paper_stacked(
    template: nn.Module,
    n: int,
    sigma_w: float,
    sigma_b: float,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> dict[str, Tensor]:
    """Parameters of ``n`` independent nets initialised as :func:`init_paper_` would, stacked.

    template: one module of the architecture (any device, e.g. ``meta``), used for names and
        shapes only. Returns ``{name: (n, *param.shape)}`` in ``template.named_parameters()``
        order, the layout of ``torch.func.stack_module_state``. Each entry is drawn in one
        call, so 1,000 nets take milliseconds instead of the ~3 s of building 1,000 modules
        (the same distribution as per-net :func:`init_paper_`; different draws).
    """
    owner: dict[str, nn.Module] = {}
    for mod_name, mod in template.named_modules():
        for p_name, _ in mod.named_parameters(recurse=False):
            owner[f"{mod_name}.{p_name}" if mod_name else p_name] = mod
    out: dict[str, Tensor] = {}
    for name, p in template.named_parameters():
        mod, leaf = owner[name], name.rsplit(".", 1)[-1]
        t = torch.empty((n, *p.shape), dtype=dtype)
        if isinstance(mod, nn.Linear | nn.Conv2d):
            std = sigma_w / math.sqrt(p[0].numel()) if leaf == "weight" else sigma_b
        elif isinstance(mod, nn.LSTM):
            std = (
                sigma_w / math.sqrt(p.shape[1])
                if leaf.startswith("weight")
                else (sigma_b if leaf.startswith("bias_ih") else 0.0)
            )
        else:
            raise TypeError(f"init_paper_stacked: no paper rule for {type(mod).__name__}.{leaf}")
        out[name] = t.normal_(0.0, std, generator=generator) if std > 0 else t.zero_()
    return out


class Architecture(Protocol):
    """What the study needs of a network description: the finite net and its NNGP kernel.

    ``build`` returns one network initialised with the paper's rule; ``nngp`` the kernel of
    that network's infinite-width limit on inputs X1 (n1, ...) and X2 (n2, ...), float64.
    Implemented by :class:`FCNArch`, :class:`CNNArch` and the IMDb LSTM
    (:class:`occam.sgd_bayes.imdb.IMDbLSTMArch`, whose kernel is Monte Carlo).
    """

    sigma_w: float
    sigma_b: float

    def build(
        self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> nn.Module: ...

    def nngp(self, X1: Tensor, X2: Tensor | None = None) -> Tensor: ...


class _Stackable(ABC):
    """``init_stacked`` for descriptions initialised by :func:`init_paper_` (FCN, CNN)."""

    sigma_w: float
    sigma_b: float

    @abstractmethod
    def build(
        self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> nn.Module:
        """One network with the paper's initialisation (subclasses define the layers)."""

    def init_stacked(
        self, n: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> dict[str, Tensor]:
        """``n`` nets' parameters stacked, ``{name: (n, *shape)}``: :func:`init_paper_stacked`."""
        template = self.build(torch.Generator(), dtype=dtype)  # names and shapes only
        return init_paper_stacked(template, n, self.sigma_w, self.sigma_b, generator, dtype)


def _linear(fan_in: int, fan_out: int, dtype: torch.dtype) -> nn.Linear:
    # Plain construction: torch's default init is overwritten by init_paper_. (skip_init
    # would avoid it, but it goes through the meta device's Python decompositions: ~0.6 ms
    # per layer and ~1 s on first use, slower than the default init at these sizes.)
    return nn.Linear(fan_in, fan_out, dtype=dtype)


# --------------------------------------------------------------------------- fully connected


@dataclass(frozen=True)
class FCNArch(_Stackable):
    """A ReLU fully connected network ``input_dim -> widths... -> out_dim``.

    ``depth = len(widths)`` hidden layers; the NNGP is :func:`occam.sgd_bayes.relu_nngp`
    with the same depth, ``sigma_w`` and ``sigma_b`` (inputs scaled by ``1/input_dim``
    through the first layer's fan-in).
    """

    input_dim: int
    widths: tuple[int, ...]
    sigma_w: float = 1.0
    sigma_b: float = 0.0
    out_dim: int = 1

    def __post_init__(self) -> None:
        if self.input_dim < 1 or any(w < 1 for w in self.widths) or self.out_dim < 1:
            raise ValueError(f"FCNArch: dimensions must be positive, got {self}")
        if self.sigma_w <= 0 or self.sigma_b < 0:
            raise ValueError(f"FCNArch: need sigma_w > 0 and sigma_b >= 0, got {self}")

    @property
    def depth(self) -> int:
        return len(self.widths)

    def build(
        self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> nn.Sequential:
        """The finite network, initialised with :func:`init_paper_`."""
        layers: list[nn.Module] = []
        fan_in = self.input_dim
        for w in self.widths:
            layers += [_linear(fan_in, w, dtype), nn.ReLU()]
            fan_in = w
        layers.append(_linear(fan_in, self.out_dim, dtype))
        return init_paper_(nn.Sequential(*layers), self.sigma_w, self.sigma_b, generator)

    def nngp(self, X1: Tensor, X2: Tensor | None = None, *, tile: int = 512) -> Tensor:
        """NNGP kernel of :meth:`build`'s network on inputs (n1, input_dim), (n2, input_dim)."""
        return relu_nngp(X1, X2, self.depth, self.sigma_w, self.sigma_b, tile=tile)


# --------------------------------------------------------------------------- convolutional


class PaddedConv2d(nn.Module):
    """Conv2d with TensorFlow padding (explicit ``F.pad``, so even filters pad as Keras does)."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        k: tuple[int, int],
        stride: int,
        pads: tuple[int, int, int, int],
        dtype: torch.dtype,
    ) -> None:
        super().__init__()
        self.pads = pads
        self.conv = nn.Conv2d(c_in, c_out, k, stride=stride, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.pad(x, self.pads))


class GlobalAvgPool(nn.Module):
    """(N, C, H, W) -> (N, C): mean over locations."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=(2, 3))


@dataclass(frozen=True)
class CNNArch(_Stackable):
    """A ReLU CNN without intermediate pooling: convs, then Flatten or global average pooling,
    then a dense readout (the nn-pacbayes ``generate_NN_arch.py`` family).

    in_shape: (C, H, W) of an input image. channels, filter_sizes, paddings, strides: one entry
    per convolution. readout: ``"flatten"`` (same-location kernel, Garriga-Alonso et al.
    2019) or ``"gap"`` (global average pooling; needs full location x location covariances, so costs
    O((H W)^2) per pair of images).
    """

    in_shape: tuple[int, int, int]
    channels: tuple[int, ...]
    filter_sizes: tuple[tuple[int, int], ...]
    paddings: tuple[Padding, ...]
    strides: tuple[int, ...] | None = None
    readout: Readout = "flatten"
    sigma_w: float = 1.0
    sigma_b: float = 0.0
    out_dim: int = 1

    def __post_init__(self) -> None:
        n = len(self.channels)
        if len(self.filter_sizes) != n or len(self.paddings) != n:
            raise ValueError("CNNArch: channels, filter_sizes and paddings need equal lengths")
        if self.strides is not None and len(self.strides) != n:
            raise ValueError("CNNArch: strides needs one entry per convolution")
        if any(p not in ("VALID", "SAME") for p in self.paddings):
            raise ValueError(f"CNNArch: paddings must be 'VALID' or 'SAME', got {self.paddings}")
        if self.readout not in ("flatten", "gap"):
            raise ValueError(f"CNNArch: readout must be 'flatten' or 'gap', got {self.readout!r}")
        if self.sigma_w <= 0 or self.sigma_b < 0:
            raise ValueError(f"CNNArch: need sigma_w > 0 and sigma_b >= 0, got {self}")
        if min(self.out_shape()) < 1:
            raise ValueError(f"CNNArch: the feature map vanishes: {self.layer_shapes()}")

    @classmethod
    def paper(
        cls, in_shape: tuple[int, int, int], n_layers: int, width: int, **kw: object
    ) -> CNNArch:
        """The nn-pacbayes default: ``[[5,5],[2,2]] * (L//2)`` filters, VALID/SAME alternating."""
        fs = (((5, 5), (2, 2)) * n_layers)[:n_layers]
        pads: tuple[Padding, ...] = (("VALID", "SAME") * n_layers)[:n_layers]
        return cls(in_shape, (width,) * n_layers, fs, pads, **kw)  # type: ignore[arg-type]

    def stride(self, i: int) -> int:
        return 1 if self.strides is None else self.strides[i]

    def layer_shapes(self) -> list[tuple[int, int]]:
        """Spatial shapes: input, then after each convolution."""
        shapes = [(self.in_shape[1], self.in_shape[2])]
        for i, (k, p) in enumerate(zip(self.filter_sizes, self.paddings, strict=True)):
            shapes.append(conv_out_shape(shapes[-1], k, self.stride(i), p))
        return shapes

    def out_shape(self) -> tuple[int, int]:
        return self.layer_shapes()[-1]

    def build(
        self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> nn.Sequential:
        """The finite network, initialised with :func:`init_paper_`."""
        layers: list[nn.Module] = []
        shapes = self.layer_shapes()
        c_in = self.in_shape[0]
        for i, (c, k, p) in enumerate(
            zip(self.channels, self.filter_sizes, self.paddings, strict=True)
        ):
            pads = conv_pads(shapes[i], k, self.stride(i), p)
            layers += [PaddedConv2d(c_in, c, k, self.stride(i), pads, dtype), nn.ReLU()]
            c_in = c
        if self.readout == "flatten":
            h, w = shapes[-1]
            layers += [nn.Flatten(), _linear(c_in * h * w, self.out_dim, dtype)]
        else:
            layers += [GlobalAvgPool(), _linear(c_in, self.out_dim, dtype)]
        return init_paper_(nn.Sequential(*layers), self.sigma_w, self.sigma_b, generator)

    def nngp(self, X1: Tensor, X2: Tensor | None = None, *, tile: int | None = None) -> Tensor:
        """NNGP kernel of :meth:`build`'s network on images (n1, C, H, W), (n2, C, H, W)."""
        return cnn_nngp(self, X1, X2, tile=tile)


Arch = FCNArch | CNNArch
