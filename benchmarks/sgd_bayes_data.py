"""Shared by the sgd_bayes benchmarks: the first n MNIST training images, flattened, in [0, 1].

Uses ``occam.data.load_mnist`` (``$OCCAM_DATA_DIR``, default ``../shared/data``); if that
loader is unavailable, reads the IDX gzip files directly.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def mnist(n: int, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(n, 784) float64 images in [0, 1] and (n,) labels 0..9."""
    data_dir = os.environ.get("OCCAM_DATA_DIR", str(DEFAULT_DIR))
    try:
        from occam.data import load_mnist

        images, labels = load_mnist(split, data_dir=data_dir, quiet=True)
    except ImportError:
        prefix = "train" if split == "train" else "t10k"
        root = Path(data_dir) / "mnist"
        raw = gzip.decompress((root / f"{prefix}-images-idx3-ubyte.gz").read_bytes())
        images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
        raw = gzip.decompress((root / f"{prefix}-labels-idx1-ubyte.gz").read_bytes())
        labels = np.frombuffer(raw, np.uint8, offset=8).astype(np.int64)
    return images[:n].reshape(n, -1).astype(np.float64) / 255.0, np.asarray(labels[:n])
