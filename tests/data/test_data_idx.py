"""MNIST / Fashion-MNIST: loading, checksums, corrupt files, downloads through a local mirror."""

from __future__ import annotations

import functools
import gzip
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from occam.data import (
    DataError,
    fetch,
    list_datasets,
    load_fashion_mnist,
    load_mnist,
    verify,
)

SHARED = Path(
    os.environ.get("OCCAM_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SMALL = ["t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

pytestmark = pytest.mark.skipif(
    not (SHARED / "mnist").is_dir(), reason=f"no shared data at {SHARED}"
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The shared data folder as OCCAM_DATA_DIR, an empty cache, no mirror, no proxy."""
    monkeypatch.setenv("OCCAM_DATA_DIR", str(SHARED.resolve()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("OCCAM_DATA_MIRROR", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "cache" / "occam"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """A local HTTP server over ``folder``; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _corrupt_copy(src: Path, dest: Path, keep_gzip_valid: bool) -> None:
    """A copy with one content byte flipped (re-gzipped), or truncated mid-stream."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if keep_gzip_valid:
        data = bytearray(gzip.decompress(src.read_bytes()))
        data[len(data) // 2] ^= 0xFF
        dest.write_bytes(gzip.compress(bytes(data), compresslevel=1))
    else:
        raw = src.read_bytes()
        dest.write_bytes(raw[: len(raw) // 2])


def test_mnist_shapes_dtypes_and_class_counts() -> None:
    images, labels = load_mnist("train", quiet=True)
    assert images.shape == (60_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60_000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS
    assert images.max() == 255 and images.min() == 0
    images, labels = load_mnist("test", data_dir=SHARED)
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == MNIST_TEST_COUNTS
    assert images.flags.writeable


def test_fashion_mnist_shapes_and_balanced_classes() -> None:
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10
    _, labels = load_fashion_mnist("train")
    assert np.bincount(labels).tolist() == [6000] * 10


def test_verify_fetch_and_list_on_the_shared_folder(isolated: Path) -> None:
    rows = verify("mnist")
    assert len(rows) == 4 and all(ok for _, ok, _ in rows), rows
    assert fetch("fashion-mnist", quiet=True) == SHARED.resolve() / "fashion-mnist"
    assert (isolated / "verified.json").is_file()  # the second fetch uses the record
    assert fetch("fashion-mnist", quiet=True) == SHARED.resolve() / "fashion-mnist"
    by_name = {d["name"]: d for d in list_datasets()}
    assert set(by_name) == {"mnist", "fashion-mnist", "imdb", "digits", "boolean"}
    assert by_name["mnist"]["where"] == str(SHARED.resolve() / "mnist")
    assert by_name["mnist"]["size"] > 10_000_000
    assert verify("digits")[0][1]


def test_any_gzip_of_the_right_bytes_passes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "mnist").mkdir(parents=True)
    for name in SMALL:
        data = gzip.decompress((SHARED / "mnist" / name).read_bytes())
        (root / "mnist" / name).write_bytes(gzip.compress(data, compresslevel=1))
    images, labels = load_mnist("test", data_dir=root)
    assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)


@pytest.mark.parametrize("keep_gzip_valid", [True, False], ids=["bad-bytes", "truncated"])
@pytest.mark.parametrize("bad", SMALL)
def test_corrupt_file_is_refused(tmp_path: Path, keep_gzip_valid: bool, bad: str) -> None:
    root = tmp_path / "root"
    (root / "mnist").mkdir(parents=True)
    for name in SMALL:
        if name == bad:
            _corrupt_copy(SHARED / "mnist" / name, root / "mnist" / name, keep_gzip_valid)
        else:
            shutil.copy(SHARED / "mnist" / name, root / "mnist" / name)
    path = root / "mnist" / bad
    # The good copy in OCCAM_DATA_DIR is not used in its place: the error names the bad file.
    with pytest.raises(DataError, match="occam data fetch mnist") as err:
        load_mnist("test", data_dir=root)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert "--data-dir/OCCAM_DATA_DIR" in str(err.value)
    with pytest.raises(DataError, match=str(path)):
        fetch("mnist", data_dir=root, files=SMALL, quiet=True)
    rows = {Path(f).name: (ok, msg) for f, ok, msg in verify("mnist", data_dir=root)}
    assert rows[bad][0] is False
    assert all(ok for name, (ok, _) in rows.items() if name != bad)


def test_download_through_a_mirror(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    monkeypatch.delenv("OCCAM_DATA_DIR")
    with serve(SHARED) as url:
        monkeypatch.setenv("OCCAM_DATA_MIRROR", url + "/")
        folder = fetch("mnist", files=SMALL, quiet=True)
    assert folder == isolated / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(SMALL)  # no temporary files
    for name in SMALL:
        assert (folder / name).read_bytes() == (SHARED / "mnist" / name).read_bytes()
    # The server is gone: the next load reads the verified copies in the cache.
    images, labels = load_mnist("test")
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == MNIST_TEST_COUNTS
    rows = verify("mnist")
    assert [ok for _, ok, _ in rows] == [False, False, True, True]  # train files not fetched


def test_corrupt_download_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, tmp_path: Path
) -> None:
    monkeypatch.delenv("OCCAM_DATA_DIR")
    served = tmp_path / "served"
    _corrupt_copy(SHARED / "mnist" / SMALL[0], served / "mnist" / SMALL[0], keep_gzip_valid=True)
    with serve(served) as url:
        monkeypatch.setenv("OCCAM_DATA_MIRROR", url)
        with pytest.raises(DataError, match="downloaded .*t10k-labels-idx1-ubyte.gz") as err:
            fetch("mnist", files=SMALL[:1], quiet=True)
    assert "\n" not in str(err.value)
    leftovers = [p for p in isolated.rglob("*") if p.is_file() and p.name != "verified.json"]
    assert leftovers == []


def test_no_data_and_no_network_says_how_to_supply_it(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.delenv("OCCAM_DATA_DIR")
    monkeypatch.setenv("OCCAM_DATA_MIRROR", _closed_port_url())
    with pytest.raises(DataError) as err:
        load_mnist("test", quiet=True)
    message = str(err.value)
    assert "\n" not in message
    for needle in (
        "OCCAM_DATA_DIR",
        "--data-dir",
        "OCCAM_DATA_MIRROR",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "DIR/mnist/",
    ):
        assert needle in message, needle
    assert not any(p.is_file() for p in isolated.rglob("*"))


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        load_mnist("test", data_dir=tmp_path / "nowhere")
    with pytest.raises(DataError, match="unknown data set 'mnits'; known: mnist"):
        fetch("mnits")
    with pytest.raises(DataError, match="bundled with scikit-learn"):
        fetch("digits")
    with pytest.raises(DataError, match="has the files"):
        fetch("mnist", files=["nope.gz"])
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")
