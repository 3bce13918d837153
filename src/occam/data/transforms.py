"""Small transforms the studies share: binary labels from digit classes, pooled images."""

from __future__ import annotations

import numpy as np


def binarize(labels: np.ndarray, method: str = "threshold", threshold: int = 5) -> np.ndarray:
    """Two classes from ten digit classes.

    ``method="threshold"``: label >= ``threshold`` -> 1, else 0.
    ``method="oddeven"``: even label -> 1, odd -> 0 (the even/odd binarisation of MNIST used
    by Mingard et al. 2021).

    Args:
        labels: integer array of shape (N,).
    Returns:
        int64 array of shape (N,), values 0/1.
    """
    labels = np.asarray(labels)
    if method == "threshold":
        return (labels >= threshold).astype(np.int64)
    if method == "oddeven":
        return (labels % 2 == 0).astype(np.int64)
    raise ValueError(f"method must be 'threshold' or 'oddeven', got {method!r}")


def avg_pool_images(
    images: np.ndarray, size: int = 7, dtype: type[np.floating] = np.float64
) -> np.ndarray:
    """Scale to [0, 1] (divide by 255) and average-pool square images down to ``size`` x ``size``.

    Args:
        images: uint8 array of shape (N, H, H) (28 x 28 for MNIST); H must be a multiple of
            ``size``. Each output pixel is the mean of an (H/size) x (H/size) block.
        size: side of the pooled image (7, 14 or 28 for MNIST).
        dtype: float type of the result.
    Returns:
        array of shape (N, size * size), values in [0, 1], rows flattened in C order.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must have shape (N, H, H), got {images.shape}")
    side = images.shape[1]
    if size < 1 or side % size:
        raise ValueError(f"size must divide the image side {side}, got {size}")
    k = side // size
    pooled = images.reshape(len(images), size, k, size, k).mean(axis=(2, 4)) / 255.0
    return pooled.reshape(len(images), size * size).astype(dtype, copy=False)
