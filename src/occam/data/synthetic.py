"""Data that needs no download: the Boolean cube {0,1}^n, and scikit-learn's bundled digits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MAX_BOOLEAN_N = 20  # 2^20 x 20 inputs is already 160 MB as float64


def boolean_inputs(n: int, dtype: type[np.floating] = np.float64) -> np.ndarray:
    """All 2^n points of {0,1}^n in lexicographic order.

    Row ``i`` is the binary expansion of ``i`` with the most significant bit first, so
    ``boolean_inputs(2)`` is ``[[0,0],[0,1],[1,0],[1,1]]``.

    Returns:
        array of shape (2^n, n), values 0.0/1.0.
    """
    if not 1 <= n <= MAX_BOOLEAN_N:
        raise ValueError(f"n must be between 1 and {MAX_BOOLEAN_N}, got {n}")
    rows = np.arange(2**n)[:, None]
    shifts = np.arange(n - 1, -1, -1)[None, :]
    return ((rows >> shifts) & 1).astype(dtype)


def boolean_labels(target: str | Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """Labels of all 2^n inputs (in :func:`boolean_inputs` order) under a target function.

    Args:
        target: either a bit string of length 2^n whose character ``i`` is the label of row
            ``i`` (e.g. ``"0110"`` is XOR for n = 2), or a vectorised function taking the
            (2^n, n) input array and returning 2^n labels in {0, 1}.
        n: number of input bits.
    Returns:
        int64 array of shape (2^n,), values 0/1.
    """
    size = 2**n
    if isinstance(target, str):
        if len(target) != size or set(target) - {"0", "1"}:
            raise ValueError(f"target must be a string of {size} characters 0/1 for n={n}")
        return np.frombuffer(target.encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")
    labels = np.asarray(target(boolean_inputs(n)))
    if labels.shape != (size,) or not np.isin(labels, (0, 1)).all():
        raise ValueError(
            f"target function must return {size} labels in {{0, 1}}, got shape {labels.shape}"
        )
    return labels.astype(np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled UCI optical digits (no download).

    Returns:
        X: float64 array of shape (1797, 64), 8 x 8 images flattened, values in [0, 16].
        y: int64 array of shape (1797,), values 0..9.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
