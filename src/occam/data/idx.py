"""MNIST and Fashion-MNIST: gzip'd IDX files, checked against their SHA-256 as they are read.

IDX format (LeCun et al.): a 4-byte magic ``0 0 <type> <ndim>`` (type ``0x08`` = uint8),
then ``ndim`` big-endian uint32 sizes, then the data in C order.
"""

from __future__ import annotations

import os
import zlib

import numpy as np

from occam.data._files import (
    DataError,
    content_defect,
    corrupt_message,
    ensure_files,
    get_spec,
    gunzip,
)

SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IDX_DATASETS = ("mnist", "fashion-mnist")


def parse_idx(data: bytes) -> np.ndarray:
    """Decode decompressed IDX bytes of unsigned bytes into a uint8 array of the stored shape.

    Raises ``ValueError`` if the header or the length is wrong.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(f"IDX header says {shape} but the file holds {len(data) - header} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def load_mnist(
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    name: str = "mnist",
    quiet: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of MNIST (or Fashion-MNIST with ``name="fashion-mnist"``).

    Files are found in ``data_dir``, ``$OCCAM_DATA_DIR`` or the cache, else downloaded, and
    always checked (SHA-256 of the decompressed bytes) before use.

    Returns:
        images: uint8 array of shape (N, 28, 28), values 0..255 (N = 60,000 train, 10,000 test).
        labels: int64 array of shape (N,), values 0..9.
    """
    if name not in IDX_DATASETS:
        raise ValueError(f"name must be one of {IDX_DATASETS}, got {name!r}")
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    spec = get_spec(name)
    image_file, label_file = SPLIT_FILES[split]
    paths = ensure_files(spec, [image_file, label_file], data_dir, quiet)
    by_name = {fs.name: fs for fs in spec.files}
    arrays: list[np.ndarray] = []
    for filename in (image_file, label_file):
        path = paths[filename]
        try:
            data = gunzip(path)
        except (OSError, EOFError, zlib.error) as err:
            what = f"cannot be decompressed ({type(err).__name__}: {err})"
            raise DataError(corrupt_message(path, name, what)) from err
        mismatch = content_defect(data, by_name[filename])
        if mismatch is not None:
            raise DataError(corrupt_message(path, name, mismatch))
        arrays.append(parse_idx(data))
    images, labels = arrays
    return images, labels.astype(np.int64)


def load_fashion_mnist(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None, quiet: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST: uint8 images (N, 28, 28) and int64 labels (N,); see :func:`load_mnist`."""
    return load_mnist(split, data_dir, name="fashion-mnist", quiet=quiet)
