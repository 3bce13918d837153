"""Convolution geometry with TensorFlow semantics ("VALID" and "SAME" padding).

Shared by the finite CNN (:mod:`occam.sgd_bayes.arch`) and its NNGP kernel
(:mod:`occam.sgd_bayes.nngp`), so the two pad and stride identically.
"""

from __future__ import annotations

from typing import Literal, Protocol

Padding = Literal["VALID", "SAME"]


class ConvNetGeometry(Protocol):
    """What the CNN kernel needs to know of a CNN (:class:`occam.sgd_bayes.arch.CNNArch`
    provides it): its layers' geometry, readout and prior variances."""

    @property
    def in_shape(self) -> tuple[int, int, int]: ...
    @property
    def channels(self) -> tuple[int, ...]: ...
    @property
    def filter_sizes(self) -> tuple[tuple[int, int], ...]: ...
    @property
    def paddings(self) -> tuple[Padding, ...]: ...
    @property
    def sigma_w(self) -> float: ...
    @property
    def sigma_b(self) -> float: ...
    @property
    def readout(self) -> str: ...

    def stride(self, layer: int, /) -> int: ...

    def layer_shapes(self) -> list[tuple[int, int]]: ...


def same_pads(size: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding ``(before, after)`` along one axis of length ``size``."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def conv_pads(shape: tuple[int, int], k: tuple[int, int], stride: int, padding: Padding):
    """``F.pad`` argument (left, right, top, bottom) for an (H, W) map; zeros for VALID."""
    if padding == "VALID":
        return (0, 0, 0, 0)
    top, bottom = same_pads(shape[0], k[0], stride)
    left, right = same_pads(shape[1], k[1], stride)
    return (left, right, top, bottom)


def conv_out_shape(
    shape: tuple[int, int], k: tuple[int, int], stride: int, padding: Padding
) -> tuple[int, int]:
    """Spatial output shape of a convolution (TensorFlow semantics)."""
    if padding == "SAME":
        return (-(-shape[0] // stride), -(-shape[1] // stride))
    return ((shape[0] - k[0]) // stride + 1, (shape[1] - k[1]) // stride + 1)
