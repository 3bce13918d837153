"""IMDb: the labelled archive, unpacked once into the cache; the tokenizer and vocabulary."""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import occam.data._files as files
import occam.data.imdb as imdb
from occam.data import DataError, encode, imdb_dir, imdb_vocab, load_imdb, tokenize, verify

SHARED = Path(
    os.environ.get("OCCAM_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data")
)
ARCHIVE = SHARED / "imdb" / "aclImdb_labelled.tar.gz"

needs_archive = pytest.mark.skipif(not ARCHIVE.is_file(), reason=f"no {ARCHIVE}")


@pytest.fixture(autouse=True)
def no_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCCAM_DATA_MIRROR", raising=False)


@dataclass
class FirstLoad:
    root: Path  # the occam cache folder
    texts: list[str]
    labels: np.ndarray
    seconds: float


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstLoad]:
    """Unpack the shared archive once for this module, timing the first load."""
    if not ARCHIVE.is_file():
        pytest.skip(f"no {ARCHIVE}")
    root = tmp_path_factory.mktemp("imdb-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root))
        mp.setenv("OCCAM_DATA_DIR", str(SHARED.resolve()))
        mp.delenv("OCCAM_DATA_MIRROR", raising=False)
        start = time.perf_counter()
        texts, labels = load_imdb("train", quiet=True)
        yield FirstLoad(root / "occam", texts, labels, time.perf_counter() - start)


@pytest.fixture
def cached_env(cache: FirstLoad, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = cache.root
    monkeypatch.setenv("XDG_CACHE_HOME", str(root.parent))
    monkeypatch.setenv("OCCAM_DATA_DIR", str(SHARED.resolve()))
    return root


@needs_archive
def test_train_split_from_the_labelled_archive(cache: FirstLoad) -> None:
    texts, labels = cache.texts, cache.labels
    assert len(texts) == 25_000 and labels.shape == (25_000,) and labels.dtype == np.int64
    assert int(labels.sum()) == 12_500
    assert labels[:12_500].max() == 0 and labels[12_500:].min() == 1  # neg, then pos
    assert all(isinstance(t, str) and t for t in texts[:100])


@needs_archive
def test_second_load_reads_the_unpacked_cache(
    cached_env: Path, monkeypatch: pytest.MonkeyPatch, cache: FirstLoad
) -> None:
    folder = cached_env / "imdb"
    assert sorted(p.name for p in folder.iterdir()) == ["aclImdb-test.json", "aclImdb-train.json"]

    def no_archive(*args: object, **kwargs: object) -> None:
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(imdb, "open_tar_gz", no_archive)
    start = time.perf_counter()
    texts, labels = load_imdb("train")
    second = time.perf_counter() - start
    print(f"imdb train: first load {cache.seconds:.1f} s (unpacks), second {second:.1f} s")
    assert second < cache.seconds
    assert texts == cache.texts and np.array_equal(labels, cache.labels)  # same order
    test_texts, test_labels = load_imdb("test")
    assert len(test_texts) == 25_000 and int(test_labels.sum()) == 12_500
    assert imdb_dir() == folder
    names = json.loads((folder / "aclImdb-train.json").read_text(encoding="utf-8"))["files"]
    assert names[:12_500] == sorted(n for n in names if n.startswith("neg/"))
    assert names[12_500:] == sorted(n for n in names if n.startswith("pos/"))


@needs_archive
def test_verify_reports_archive_and_cache(cached_env: Path) -> None:
    rows = verify("imdb")
    assert [(Path(f).name, ok) for f, ok, _ in rows] == [
        ("aclImdb_labelled.tar.gz", True),
        ("aclImdb-train.json", True),
        ("aclImdb-test.json", True),
    ]


def _tiny_tar_gz(path: Path, names: list[str]) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in names:
            data = name.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buf.getvalue()))


def test_bad_sources_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("OCCAM_DATA_DIR", raising=False)
    # A canonical-named archive without the reviews fails the structural check.
    fake = tmp_path / "a" / "imdb" / "aclImdb_v1.tar.gz"
    _tiny_tar_gz(fake, ["aclImdb/train/pos/0_9.txt", "aclImdb/test/neg/0_1.txt"])
    with pytest.raises(DataError, match=f"{fake} is not the aclImdb archive"):
        load_imdb("train", data_dir=tmp_path / "a")
    # A truncated labelled archive fails its sha256.
    if ARCHIVE.is_file():
        bad = tmp_path / "b" / "imdb" / "aclImdb_labelled.tar.gz"
        bad.parent.mkdir(parents=True)
        with open(ARCHIVE, "rb") as f:
            bad.write_bytes(f.read(1 << 20))
        with pytest.raises(DataError, match=f"{bad} sha256 is .*occam data fetch imdb"):
            load_imdb("train", data_dir=tmp_path / "b")
    # An incomplete extracted folder is named, not used.
    folder = tmp_path / "c" / "imdb" / "aclImdb"
    (folder / "train" / "pos").mkdir(parents=True)
    (folder / "train" / "pos" / "0_9.txt").write_text("fine")
    with pytest.raises(DataError, match=f"{folder} is incomplete"):
        load_imdb("train", data_dir=tmp_path / "c")
    assert not (tmp_path / "cache" / "occam" / "imdb").exists()


def test_canonical_archive_passes_the_structural_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A miniature aclImdb_v1.tar.gz (2 reviews per folder, plus unsup reviews to skip)."""
    monkeypatch.setattr(files, "ACLIMDB_PER_FOLDER", 2)
    monkeypatch.setattr(imdb, "ACLIMDB_PER_FOLDER", 2)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("OCCAM_DATA_DIR", raising=False)
    names = [
        f"aclImdb/{split}/{label}/{i}_{7 if label == 'pos' else 2}.txt"
        for split in ("train", "test")
        for label in ("pos", "neg")
        for i in (1, 0)
    ]
    _tiny_tar_gz(
        tmp_path / "d" / "imdb" / "aclImdb_v1.tar.gz",
        ["aclImdb/README", *names, "aclImdb/train/unsup/0_0.txt", "aclImdb/train/labeledBow.feat"],
    )
    texts, labels = load_imdb("test", data_dir=tmp_path / "d")
    expected = [
        f"aclImdb/test/{sub}/{i}_{r}.txt" for sub, r in (("neg", 2), ("pos", 7)) for i in (0, 1)
    ]
    assert texts == expected and labels.tolist() == [0, 0, 1, 1]
    unpacked = tmp_path / "cache" / "occam" / "imdb"
    assert sorted(p.name for p in unpacked.iterdir()) == ["aclImdb-test.json", "aclImdb-train.json"]
    # The same reviews as an extracted folder give the same texts in the same order.
    for name in names:
        (tmp_path / "e" / "imdb" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "e" / "imdb" / name).write_text(name)
    assert imdb_dir(data_dir=tmp_path / "e") == tmp_path / "e" / "imdb" / "aclImdb"
    assert load_imdb("test", data_dir=tmp_path / "e")[0] == expected


def test_missing_imdb_names_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("OCCAM_DATA_DIR", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OCCAM_DATA_MIRROR", f"http://127.0.0.1:{port}")
    with pytest.raises(DataError) as err:
        load_imdb("test")
    message = str(err.value)
    for needle in (
        "aclImdb_labelled.tar.gz or aclImdb_v1.tar.gz",
        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "OCCAM_DATA_DIR",
        "DIR/imdb/",
    ):
        assert needle in message, needle


def test_tokenize_vocab_and_encode() -> None:
    text = "A <br />great<br/>film, GREAT cast!<br /><br />Don't miss_it 10/10"
    assert tokenize(text) == ["a", "great", "film", "great", "cast", "don", "t", "miss", "it"] + [
        "10",
        "10",
    ]
    vocab = imdb_vocab([text, "a film"], max_words=4)
    assert vocab == ["<pad>", "<unk>", "10", "a", "film", "great"]  # all seen twice: alphabetical
    assert imdb_vocab([text], min_count=2)[2:] == ["10", "great"]
    ids, lengths = encode(["great film", "terrible a great film indeed"], vocab, max_len=4)
    assert ids.tolist() == [[5, 4, 0, 0], [1, 3, 5, 4]]
    assert lengths.tolist() == [2, 4]
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
