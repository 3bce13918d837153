"""IMDb movie reviews (Maas et al. 2011) in the aclImdb layout.

Sources, searched root by root (``data_dir``, ``$OCCAM_DATA_DIR``, the cache): an extracted
``<root>/imdb/aclImdb/`` folder (read as it is), the labelled-subset archive
``<root>/imdb/aclImdb_labelled.tar.gz``, or the canonical ``<root>/imdb/aclImdb_v1.tar.gz``;
if none is found the canonical archive is downloaded into the cache.

Reading the 50,000 labelled reviews out of a tar.gz takes a while, so an archive is unpacked
once into the cache as one file per split, ``<cache>/imdb/aclImdb-{train,test}.json``
(review file names, labels and texts), each written to a temporary file and then renamed, so
a half-written cache is never seen. Extracting 50,000 small files instead was measured at
30-130 s on a busy disk against a few seconds for these two files, and reading them back
takes a fraction of a second rather than seconds.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from occam.data._files import (
    ACLIMDB_FOLDERS,
    ACLIMDB_PER_FOLDER,
    DataError,
    DownloadFailed,
    cache_root,
    check_local,
    download,
    get_spec,
    missing_message,
    open_tar_gz,
    search_roots,
)
from occam.progress import track

SPLITS = ("train", "test")
CACHE_FORMAT = 1
PAD, UNK = 0, 1  # indices of "<pad>" and "<unk>" in every vocabulary from imdb_vocab
_LABELS = (("neg", 0), ("pos", 1))
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_FIX = (
    "delete it and run `occam data fetch imdb`, or point --data-dir/OCCAM_DATA_DIR at a good copy"
)

# One split in memory: review files ("neg/0_3.txt"), texts, labels (1 = pos), in file order.
Split = tuple[list[str], list[str], list[int]]


def cache_file(split: str) -> Path:
    """The unpacked reviews of one split: ``<cache>/imdb/aclImdb-<split>.json``."""
    return cache_root() / "imdb" / f"aclImdb-{split}.json"


def folder_problem(folder: Path) -> str | None:
    """What is missing from an extracted ``aclImdb/`` folder, or ``None`` if it is complete."""
    short = []
    for sub in ACLIMDB_FOLDERS:
        path = folder.parent / sub
        count = sum(1 for e in os.scandir(path) if e.name.endswith(".txt")) if path.is_dir() else 0
        if count != ACLIMDB_PER_FOLDER:
            short.append(f"{sub.removeprefix('aclImdb/')}/ has {count}")
    if short:
        return f"is incomplete ({', '.join(short)} of {ACLIMDB_PER_FOLDER} reviews)"
    return None


def _read_folder(folder: Path, split: str) -> Split:
    files: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    for sub, label in _LABELS:
        path = os.path.join(folder, split, sub)
        for name in sorted(e.name for e in os.scandir(path) if e.name.endswith(".txt")):
            with open(os.path.join(path, name), encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
            files.append(f"{sub}/{name}")
            labels.append(label)
    return files, texts, labels


def _read_cache(split: str) -> Split:
    path = cache_file(split)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        files, texts, labels = payload["files"], payload["texts"], payload["labels"]
        if payload["format"] != CACHE_FORMAT or not len(files) == len(texts) == len(labels):
            raise ValueError("inconsistent content")
        if len(files) != 2 * ACLIMDB_PER_FOLDER:
            raise ValueError(f"{len(files)} reviews, expected {2 * ACLIMDB_PER_FOLDER}")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"{path} cannot be read ({type(err).__name__}: {err}); {_FIX}") from err
    return files, texts, labels


def _write_atomically(path: Path, payload: dict[str, object]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _unpack(archive: Path, quiet: bool) -> None:
    """Read the labelled reviews of ``archive`` once; write ``aclImdb-{train,test}.json``."""
    folder = cache_root() / "imdb"
    reviews: dict[str, list[tuple[str, str]]] = {sub: [] for sub in ACLIMDB_FOLDERS}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open_tar_gz(archive, workdir=folder) as tar:
            for member in track(tar, f"unpacking {archive.name}", quiet=quiet):
                sub, _, base = member.name.removeprefix("./").rpartition("/")
                if sub in reviews and member.isfile() and base.endswith(".txt"):
                    source = tar.extractfile(member)
                    if source is None:
                        continue
                    reviews[sub].append((base, source.read().decode("utf-8", errors="replace")))
        short = [f"{k}/ has {len(v)}" for k, v in reviews.items() if len(v) != ACLIMDB_PER_FOLDER]
        if short:
            raise DataError(
                f"{archive} is not the aclImdb archive ({', '.join(short)} of "
                f"{ACLIMDB_PER_FOLDER} reviews); {_FIX}"
            )
        for split in SPLITS:
            files: list[str] = []
            texts: list[str] = []
            labels: list[int] = []
            for sub, label in _LABELS:
                for base, text in sorted(reviews[f"aclImdb/{split}/{sub}"]):
                    files.append(f"{sub}/{base}")
                    texts.append(text)
                    labels.append(label)
            payload = {"format": CACHE_FORMAT, "source": archive.name, "split": split}
            _write_atomically(
                cache_file(split), {**payload, "files": files, "labels": labels, "texts": texts}
            )
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(
            f"{archive} cannot be unpacked into {folder} ({type(err).__name__}: {err}); "
            f"{_FIX}, or set XDG_CACHE_HOME to a writable folder"
        ) from err


def _cached() -> bool:
    return all(cache_file(split).is_file() for split in SPLITS)


def imdb_dir(data_dir: str | os.PathLike[str] | None = None, quiet: bool = False) -> Path:
    """Where the reviews will be read from, making sure they are there.

    Either an extracted ``aclImdb/`` folder found in a data root, or the cache folder
    ``<cache>/imdb`` holding ``aclImdb-{train,test}.json``, unpacked from a checked archive
    (found, or downloaded if none is found anywhere).

    Raises:
        DataError: a source is corrupt or incomplete, or there is none and no download.
    """
    spec = get_spec("imdb")
    roots = search_roots(data_dir)
    archive: Path | None = None
    for root in roots:
        folder = root / spec.folder / "aclImdb"
        if folder.is_dir():
            what = folder_problem(folder)
            if what is not None:
                raise DataError(f"{folder} {what}; {_FIX}")
            return folder
        for fs in spec.files:
            if archive is None and (root / spec.folder / fs.name).is_file():
                archive = root / spec.folder / fs.name
                check_local(archive, fs, spec.name)
        if archive is not None:
            break
    if not _cached():
        if archive is None:
            failures = []
            for fs in spec.files:
                try:
                    archive = download(spec, fs, quiet)
                    break
                except DownloadFailed as err:
                    failures.append(str(err))
            else:
                names = [fs.name for fs in spec.files] + ["an extracted aclImdb/ folder"]
                raise DataError(missing_message(spec, names, roots, "; ".join(failures)))
        _unpack(archive, quiet)
    return cache_file(SPLITS[0]).parent


def load_imdb(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None, quiet: bool = False
) -> tuple[list[str], np.ndarray]:
    """Review texts and sentiment labels of one split of IMDb.

    Order is deterministic: the ``neg/`` reviews then the ``pos/`` reviews, each sorted by
    file name (``<id>_<rating>.txt``).

    Returns:
        texts: list of N = 25,000 raw review strings (with their ``<br />`` tags).
        labels: int64 array of shape (N,), 1 = positive, 0 = negative.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    source = imdb_dir(data_dir, quiet)
    _, texts, labels = (
        _read_folder(source, split) if source.name == "aclImdb" else _read_cache(split)
    )
    return texts, np.asarray(labels, dtype=np.int64)


def cache_problem(split: str) -> str | None:
    """What is wrong with the unpacked cache of ``split`` (assumed present), or ``None``."""
    try:
        _read_cache(split)
    except DataError as err:
        return str(err).removeprefix(f"{cache_file(split)} ")
    return None


def tokenize(text: str) -> list[str]:
    """Lower-case, drop ``<br />`` tags, split on anything that is not a letter or digit."""
    return _WORD.findall(_BREAK.sub(" ", text.lower()))


def imdb_vocab(texts: Iterable[str], max_words: int | None = None, min_count: int = 1) -> list[str]:
    """A fixed vocabulary: ``["<pad>", "<unk>"]`` then words by falling count (ties alphabetical).

    Args:
        texts: the texts to count words in (normally the training split only).
        max_words: keep at most this many words (besides the two special tokens).
        min_count: drop words seen fewer times.
    Returns:
        list of tokens; index ``PAD`` = 0 is ``"<pad>"``, index ``UNK`` = 1 is ``"<unk>"``.
    """
    counts = Counter(word for text in texts for word in tokenize(text))
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if max_words is not None:
        words = words[:max_words]
    return ["<pad>", "<unk>", *words]


def encode(texts: Iterable[str], vocab: list[str], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of ``texts`` under ``vocab`` (from :func:`imdb_vocab`), cut and padded.

    Each text keeps its first ``max_len`` tokens; unknown words map to ``UNK`` and the tail
    is filled with ``PAD``.

    Returns:
        ids: int64 array of shape (N, max_len).
        lengths: int64 array of shape (N,), the number of real tokens (<= max_len) per text.
    """
    index = {word: i for i, word in enumerate(vocab)}
    rows = [[index.get(w, UNK) for w in tokenize(text)[:max_len]] for text in texts]
    ids = np.full((len(rows), max_len), PAD, dtype=np.int64)
    lengths = np.zeros(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        lengths[i] = len(row)
    return ids, lengths
