"""The data of the sgd-bayes study: a training set S, a test set E, and the network.

A :class:`Problem` holds S and E as tensors, the true labels of E (to score functions), and
the architecture description that builds the finite networks *and* gives their NNGP kernel
(``arch.nngp`` or, for the LSTM, the Monte Carlo kernel of the same module).

Protocol (the authors' ``generate_inputs_sample.py``): labels are binarised (0–4 vs 5–9, or
even vs odd), pixels are divided by 255 (optionally average-pooled to 7×7 or 14×14 for the
CPU profiles); S is a seeded random sample of the training split; E is the first |E| images
of the official test split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from occam import data
from occam.sgd_bayes.arch import CNNArch, FCNArch


@dataclass
class Problem:
    """S, E and the architecture for one dataset.

    X_train: (m, *input_shape) float32; y_train: (m,) float32 in {0, 1}.
    X_test: (|E|, *input_shape); y_test: (|E|,) in {0, 1} (only used to score functions).
    """

    name: str
    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    y_test: Tensor
    arch: Any
    description: str

    def kernel(self) -> Tensor:
        """The NNGP kernel on [X_S; X_E], float64, shape (m + |E|, m + |E|)."""
        X = torch.cat([self.X_train, self.X_test]).to(torch.float64)
        return self.arch.nngp(X)


def _split(n: int, m: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return perm[:m], perm[m : m + n_test]


def boolean_split(n_points: int, n_train: int, n_test: int, seed: int) -> tuple[Any, Any]:
    """The indices of S and E among the 2^n Boolean inputs used by :func:`make_problem`."""
    return _split(n_points, n_train, n_test, seed)


def _tensors(
    X_s: np.ndarray, y_s: np.ndarray, X_e: np.ndarray, y_e: np.ndarray
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    def f(a: np.ndarray) -> Tensor:
        return torch.tensor(np.ascontiguousarray(a), dtype=torch.float32)

    return f(X_s), f(y_s), f(X_e), f(y_e)


def make_problem(
    name: str,
    *,
    n_train: int,
    n_test: int,
    seed: int,
    widths: tuple[int, ...],
    sigma_w: float,
    sigma_b: float,
    binarization: str = "threshold",
    pool: int = 7,
    image_arch: str = "fcn",
    cnn_channels: int = 16,
    boolean_target: str = "",
) -> Problem:
    """Build the problem for dataset ``name`` (digits, mnist, fashion-mnist, boolean)."""
    if name == "digits":
        X, y = data.load_digits()
        X = X / 16.0
        yb = data.binarize(y, "threshold")
        s, e = _split(len(X), n_train, n_test, seed)
        tensors = _tensors(X[s], yb[s], X[e], yb[e])
        arch: Any = FCNArch(X.shape[1], widths, sigma_w, sigma_b)
        desc = f"sklearn digits 8x8, labels >= 5, |S| = {n_train}, |E| = {n_test}"
    elif name in ("mnist", "fashion-mnist"):
        loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
        Xtr, ytr = loader("train")
        Xte, yte = loader("test")
        s, _ = _split(len(Xtr), n_train, 0, seed)
        Xs = data.avg_pool_images(Xtr[s], size=pool)
        Xe = data.avg_pool_images(Xte[:n_test], size=pool)
        ys = data.binarize(ytr[s], binarization)
        ye = data.binarize(yte[:n_test], binarization)
        if image_arch == "cnn":
            Xs = Xs.reshape(-1, 1, pool, pool)
            Xe = Xe.reshape(-1, 1, pool, pool)
            arch = CNNArch.paper(
                (1, pool, pool),
                n_layers=len(widths),
                width=cnn_channels,
                sigma_w=sigma_w,
                sigma_b=sigma_b,
            )
        else:
            arch = FCNArch(pool * pool, widths, sigma_w, sigma_b)
        tensors = _tensors(Xs, ys, Xe, ye)
        desc = (
            f"{name} pooled to {pool}x{pool}, {binarization} labels, {image_arch.upper()}, "
            f"|S| = {n_train} random training images, E = first {n_test} test images"
        )
    elif name == "boolean":
        n_bits = 7
        X = data.boolean_inputs(n_bits)
        target = boolean_target or _default_boolean_target(n_bits)
        yb = data.boolean_labels(target, n_bits)
        s, e = _split(len(X), n_train, n_test, seed)
        tensors = _tensors(X[s], yb[s], X[e], yb[e])
        arch = FCNArch(n_bits, widths, sigma_w, sigma_b)
        desc = f"Boolean n = 7 (all 128 inputs), |S| = {n_train}, |E| = {n_test}"
    else:
        raise ValueError(
            f"unknown dataset {name!r} (choose from digits, mnist, fashion-mnist, boolean, imdb)"
        )
    return Problem(name, *tensors, arch=arch, description=desc)


def _default_boolean_target(n_bits: int) -> str:
    """A simple target: x1 OR (x2 AND x3), as a 2^n bit string in input order."""
    X = data.boolean_inputs(n_bits).astype(bool)
    y = X[:, 0] | (X[:, 1] & X[:, 2])
    return "".join("1" if v else "0" for v in y)
