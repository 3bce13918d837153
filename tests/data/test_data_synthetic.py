"""Boolean cube, scikit-learn digits, label binarisation and image pooling."""

from __future__ import annotations

import numpy as np
import pytest

from occam.data import (
    avg_pool_images,
    binarize,
    boolean_inputs,
    boolean_labels,
    load_digits,
)


def test_boolean_inputs_enumerate_the_cube_in_order() -> None:
    assert boolean_inputs(2).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    x = boolean_inputs(7)
    assert x.shape == (128, 7) and x.dtype == np.float64
    assert len({tuple(row) for row in x}) == 128
    assert np.array_equal(x @ (2 ** np.arange(6, -1, -1)), np.arange(128))  # row i is i in binary
    assert boolean_inputs(3, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="n must be"):
        boolean_inputs(0)


def test_boolean_labels_from_bit_string_and_function() -> None:
    assert boolean_labels("0110", 2).tolist() == [0, 1, 1, 0]
    parity = boolean_labels(lambda x: x.sum(axis=1) % 2, 7)
    assert parity.shape == (128,) and parity.dtype == np.int64
    assert boolean_labels("".join(map(str, parity)), 7).tolist() == parity.tolist()
    assert boolean_labels("0" * 128, 7).sum() == 0
    with pytest.raises(ValueError, match="128 characters"):
        boolean_labels("0110", 7)
    with pytest.raises(ValueError, match="128 characters"):
        boolean_labels("2" * 128, 7)
    with pytest.raises(ValueError, match="must return 4 labels"):
        boolean_labels(lambda x: x.sum(), 2)


def test_load_digits() -> None:
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 16
    assert set(np.unique(y)) == set(range(10))


def test_binarize() -> None:
    labels = np.arange(10)
    assert binarize(labels).tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert binarize(labels, threshold=3).tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert binarize(labels, "oddeven").tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert binarize(labels).dtype == np.int64
    with pytest.raises(ValueError, match="method"):
        binarize(labels, "median")


def test_avg_pool_images_by_hand() -> None:
    image = np.zeros((1, 4, 4), dtype=np.uint8)
    image[0, :2, :2] = 255  # top-left block all white
    image[0, 0, 2] = 255  # one white pixel of four in the top-right block
    image[0, 3, 3] = 51  # bottom-right block: mean 51/4 -> 0.05
    pooled = avg_pool_images(image, size=2)
    assert pooled.shape == (1, 4)
    np.testing.assert_allclose(pooled[0], [1.0, 0.25, 0.0, 0.05])
    np.testing.assert_allclose(avg_pool_images(image, size=4)[0], image[0].ravel() / 255)
    np.testing.assert_allclose(avg_pool_images(image, size=1)[0], [image.mean() / 255])


def test_avg_pool_mnist_sizes() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    for size in (7, 14, 28):
        pooled = avg_pool_images(images, size=size)
        assert pooled.shape == (3, size * size)
        assert 0.0 <= pooled.min() and pooled.max() <= 1.0
    np.testing.assert_allclose(
        avg_pool_images(images, 7).mean(axis=1), images.reshape(3, -1).mean(axis=1) / 255
    )
    assert avg_pool_images(images, 7, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="must divide"):
        avg_pool_images(images, size=5)
