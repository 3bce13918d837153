"""Where data files live, how they are checked, and how they are downloaded.

A data set's files live as ``<root>/<folder>/<file>``, the layout of the project's shared
data folder, so ``OCCAM_DATA_DIR=/path/to/shared/data`` works as is. Roots are searched in
this order:

1. an explicit ``data_dir`` argument (the CLI's ``--data-dir``),
2. the environment variable ``OCCAM_DATA_DIR``,
3. the user cache, ``$XDG_CACHE_HOME/occam`` or ``~/.cache/occam``.

A file found nowhere is downloaded into the cache from its canonical address, or from
``$OCCAM_DATA_MIRROR/<folder>/<file>`` when that variable is set. Every file is checked
before use: SHA-256 of the decompressed content for the IDX files (so any gzip of the same
bytes passes), SHA-256 of the archive for the IMDb labelled subset, and a structural check
for the canonical IMDb archive. A file that fails is never used; the user gets a
:class:`DataError` naming it and saying how to fix it.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ENV_DATA_DIR = "OCCAM_DATA_DIR"
ENV_MIRROR = "OCCAM_DATA_MIRROR"

_CHUNK = 1 << 20
_TIMEOUT_S = 60.0
_USER_AGENT = "occam-data/0.1 (+python-urllib)"


class DataError(Exception):
    """A user-facing data problem: missing, corrupt, or not downloadable. One-line message."""


@dataclass(frozen=True)
class FileSpec:
    """One file of a data set and how to check it.

    ``check`` is ``"gunzip"`` (``sha256`` is of the decompressed bytes), ``"raw"``
    (``sha256`` is of the file itself) or ``"aclimdb"`` (no checksum published: the file must
    be a tar.gz holding the 4 x 12,500 reviews of ``aclImdb/{train,test}/{pos,neg}/``).
    """

    name: str
    check: Literal["gunzip", "raw", "aclimdb"]
    sha256: str | None = None
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetSpec:
    """A named data set: its folder under a data root, its files and where they come from.

    ``any_of`` means one of ``files`` is enough (IMDb: either archive). Data sets without
    files (``digits``, ``boolean``) are bundled with scikit-learn or generated.
    """

    name: str
    description: str
    source: str
    folder: str = ""
    files: tuple[FileSpec, ...] = ()
    any_of: bool = False
    url_hint: str = ""


_MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


def _idx_files(sums: dict[str, str], bases: tuple[str, ...]) -> tuple[FileSpec, ...]:
    return tuple(
        FileSpec(name, "gunzip", sha, tuple(base + name for base in bases))
        for name, sha in sums.items()
    )


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        description="MNIST handwritten digits, 28x28 uint8, 60,000 train / 10,000 test",
        source="LeCun, Cortes & Burges",
        folder="mnist",
        files=_idx_files(
            {
                "train-images-idx3-ubyte.gz": (
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
                ),
                "train-labels-idx1-ubyte.gz": (
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
                ),
                "t10k-images-idx3-ubyte.gz": (
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
                ),
                "t10k-labels-idx1-ubyte.gz": (
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
                ),
            },
            _MNIST_URLS,
        ),
        url_hint=f"{_MNIST_URLS[0]}<file> (or {_MNIST_URLS[1]}<file>)",
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        description="Fashion-MNIST clothing images, 28x28 uint8, 60,000 train / 10,000 test",
        source="Xiao, Rasul & Vollgraf 2017",
        folder="fashion-mnist",
        files=_idx_files(
            {
                "train-images-idx3-ubyte.gz": (
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
                ),
                "train-labels-idx1-ubyte.gz": (
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
                ),
                "t10k-images-idx3-ubyte.gz": (
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
                ),
                "t10k-labels-idx1-ubyte.gz": (
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
                ),
            },
            (_FASHION_URL,),
        ),
        url_hint=f"{_FASHION_URL}<file>",
    ),
    "imdb": DatasetSpec(
        name="imdb",
        description="IMDb movie reviews (aclImdb v1.0), 25,000 train / 25,000 test, pos/neg",
        source="Maas et al., ACL 2011",
        folder="imdb",
        files=(
            FileSpec(
                "aclImdb_labelled.tar.gz",
                "raw",
                "9acc3949a19fda463d3e134d7e4f2a60c0cb9c98cd14b3c7ad823d79c8f52c77",
            ),
            # No checksum is published for the canonical archive: it passes a structural
            # check instead (the aclImdb/{train,test}/{pos,neg}/ reviews are all there).
            FileSpec("aclImdb_v1.tar.gz", "aclimdb", None, (_IMDB_URL,)),
        ),
        any_of=True,
        url_hint=_IMDB_URL,
    ),
    "digits": DatasetSpec(
        name="digits",
        description="UCI optical digits, 8x8 in [0,16], 1,797 images (bundled with scikit-learn)",
        source="sklearn.datasets.load_digits",
    ),
    "boolean": DatasetSpec(
        name="boolean",
        description="All 2^n points of {0,1}^n with labels from a target function (generated)",
        source="generated",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The spec of data set ``name``; :class:`DataError` listing the known names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None


# --------------------------------------------------------------------------- where to look


def cache_root() -> Path:
    """The user cache: ``$XDG_CACHE_HOME/occam``, or ``~/.cache/occam``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "occam"


def search_roots(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Data roots in search order: ``data_dir``, ``$OCCAM_DATA_DIR``, the user cache.

    An explicit folder that does not exist is an error rather than silently skipped.
    """
    roots: list[Path] = []
    for value, what in ((data_dir, "--data-dir"), (os.environ.get(ENV_DATA_DIR), ENV_DATA_DIR)):
        if value is None or value == "":
            continue
        root = Path(value).expanduser()
        if not root.is_dir():
            raise DataError(
                f"{what} {root} is not a folder; point it at a folder laid out as "
                "<dir>/mnist/, <dir>/fashion-mnist/, <dir>/imdb/"
            )
        roots.append(root)
    roots.append(cache_root())
    unique: list[Path] = []
    for root in roots:
        if all(root.resolve() != seen.resolve() for seen in unique):
            unique.append(root)
    return unique


def locate(spec: DatasetSpec, filename: str, roots: list[Path]) -> Path | None:
    """The first ``<root>/<folder>/<filename>`` that exists, or ``None``."""
    for root in roots:
        path = root / spec.folder / filename
        if path.is_file():
            return path
    return None


# --------------------------------------------------------------------------- checking


def gunzip(path: Path) -> bytes:
    """The decompressed content of a gzip file; raises ``OSError``/``EOFError``/``zlib.error``."""
    with gzip.open(path, "rb") as f:
        return f.read()


def file_defect(path: Path, fs: FileSpec) -> str | None:
    """What is wrong with ``path`` as file ``fs`` (checksum, readability, archive layout; a
    short phrase), or ``None`` if it is good."""
    try:
        if fs.check == "gunzip":
            digest = hashlib.sha256()
            with gzip.open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
            return _compare(digest.hexdigest(), fs.sha256, "sha256 of the decompressed content")
        if fs.check == "raw":
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
            return _compare(digest.hexdigest(), fs.sha256, "sha256")
        return _aclimdb_problem(path)
    except (OSError, EOFError, zlib.error, tarfile.TarError) as err:
        return f"cannot be read ({type(err).__name__}: {err})"


def content_defect(data: bytes, fs: FileSpec) -> str | None:
    """Like :func:`file_defect` for content already decompressed in memory (``check="gunzip"``)."""
    return _compare(
        hashlib.sha256(data).hexdigest(), fs.sha256, "sha256 of the decompressed content"
    )


def _compare(got: str, expected: str | None, what: str) -> str | None:
    if got == expected:
        return None
    return f"{what} is {got[:16]}..., expected {str(expected)[:16]}..."


ACLIMDB_FOLDERS = tuple(f"aclImdb/{s}/{c}" for s in ("train", "test") for c in ("pos", "neg"))
ACLIMDB_PER_FOLDER = 12_500


@contextmanager
def open_tar_gz(path: Path, workdir: Path | None = None) -> Iterator[tarfile.TarFile]:
    """Open a tar.gz for one pass over all its members.

    The archive is first decompressed into a temporary plain ``.tar`` in ``workdir`` (the
    system's temporary folder by default): ``tarfile`` then reads it about four times faster
    than through gzip, which matters for 50,000 small members. A truncated or corrupt gzip
    raises ``EOFError``/``OSError``/``zlib.error`` here.
    """
    with tempfile.TemporaryDirectory(prefix=".occam-tar-", dir=workdir) as tmp:
        plain = Path(tmp) / "archive.tar"
        with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
        with tarfile.open(plain, "r:") as tar:
            yield tar


def _aclimdb_problem(path: Path) -> str | None:
    """Structural check of an aclImdb tar.gz: 12,500 ``.txt`` reviews in each of 4 folders."""
    counts = dict.fromkeys(ACLIMDB_FOLDERS, 0)
    with open_tar_gz(path) as tar:
        for member in tar:
            folder, _, base = member.name.removeprefix("./").rpartition("/")
            if folder in counts and member.isfile() and base.endswith(".txt"):
                counts[folder] += 1
    short = [f"{k}/ has {v}" for k, v in counts.items() if v != ACLIMDB_PER_FOLDER]
    if short:
        return f"is not the aclImdb archive ({', '.join(short)} of {ACLIMDB_PER_FOLDER} reviews)"
    return None


def corrupt_message(path: Path, dataset: str, what: str) -> str:
    """The one-line message for a local file that failed its check."""
    return (
        f"{path} {what}: the file is corrupt or truncated; delete it and run "
        f"`occam data fetch {dataset}`, or point --data-dir/{ENV_DATA_DIR} at a good copy"
    )


def _stat_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _verified_file() -> Path:
    return cache_root() / "verified.json"


def _load_verified() -> dict[str, dict[str, str]]:
    try:
        loaded = json.loads(_verified_file().read_text())
        return loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        return {}


def _is_known_good(path: Path, fs: FileSpec) -> bool:
    entry = _load_verified().get(str(path.resolve()))
    return entry == {"stat": _stat_key(path), "check": fs.check, "sha256": fs.sha256 or ""}


def remember_good(path: Path, fs: FileSpec) -> None:
    """Record that ``path`` (at its current size and mtime) passed its check.

    The record lives in ``<cache>/verified.json`` (shared data folders may be read-only), is
    written atomically, and is best effort: a cache that cannot be written is ignored.
    """
    target = _verified_file()
    try:
        entries = _load_verified()
        entries[str(path.resolve())] = {
            "stat": _stat_key(path),
            "check": fs.check,
            "sha256": fs.sha256 or "",
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".verified.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(entries, f, indent=0, sort_keys=True)
        os.replace(tmp, target)
    except OSError:
        pass


def check_local(path: Path, fs: FileSpec, dataset: str, use_cache: bool = True) -> None:
    """Raise :class:`DataError` unless ``path`` passes the check of ``fs``.

    With ``use_cache`` a file already checked at the same size and mtime is not re-read.
    """
    if use_cache and _is_known_good(path, fs):
        return
    what = file_defect(path, fs)
    if what is not None:
        raise DataError(corrupt_message(path, dataset, what))
    remember_good(path, fs)


# --------------------------------------------------------------------------- downloading


def download_urls(spec: DatasetSpec, fs: FileSpec) -> list[str]:
    """``$OCCAM_DATA_MIRROR/<folder>/<file>`` when the mirror is set, else the canonical URLs."""
    mirror = os.environ.get(ENV_MIRROR)
    if mirror:
        return [f"{mirror.rstrip('/')}/{spec.folder}/{fs.name}"]
    return list(fs.urls)


def missing_message(spec: DatasetSpec, names: list[str], roots: list[Path], why: str) -> str:
    """The one-line message for files found nowhere and not downloadable."""
    looked = ", ".join(str(r / spec.folder) for r in roots)
    missing = " or ".join(names) if spec.any_of else ", ".join(names)
    fetchable = [fs.name for fs in spec.files if fs.urls and (fs.name in names or spec.any_of)]
    return (
        f"{spec.name}: {missing} not found (looked in {looked}) and could not be downloaded "
        f"({why}); download {', '.join(fetchable)} from {spec.url_hint} into DIR/{spec.folder}/ "
        f"and pass --data-dir DIR or set {ENV_DATA_DIR}=DIR (or set {ENV_MIRROR} to a server "
        f"that serves <mirror>/{spec.folder}/<file>)"
    )


class DownloadFailed(Exception):
    """No address of a file could be fetched (network down, HTTP error, no address).

    retryable: a dropped or refused connection or a server error (worth another try); not
    an HTTP 4xx answer, which will not change.
    """

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def _retries() -> tuple[int, float]:
    """Attempts per address and the first back-off in seconds (doubling after each try).

    ``OCCAM_DOWNLOAD_ATTEMPTS`` (default 4) and ``OCCAM_DOWNLOAD_BACKOFF`` (default 2 s)
    override them.
    """
    try:
        attempts = max(1, int(os.environ.get("OCCAM_DOWNLOAD_ATTEMPTS", "4")))
        backoff = max(0.0, float(os.environ.get("OCCAM_DOWNLOAD_BACKOFF", "2")))
    except ValueError:
        attempts, backoff = 4, 2.0
    return attempts, backoff


def _progress_disabled(quiet: bool) -> bool:
    if quiet:
        return True
    try:
        from occam import progress
    except ImportError:
        return False
    return progress.is_quiet()


def _fetch_url(url: str, dest: Path, label: str, quiet: bool) -> None:
    """Stream ``url`` into the file ``dest`` with a Rich progress bar (unless quiet)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as resp, open(dest, "wb") as out:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            console = Console(stderr=True)
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                disable=_progress_disabled(quiet) or not console.is_terminal,
            ) as progress:
                task = progress.add_task(label, total=total)
                received = 0
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    progress.update(task, advance=len(chunk))
            if total is not None and received != total:
                raise DownloadFailed(
                    f"{url}: incomplete, got {received} of {total} bytes", retryable=True
                )
    except urllib.error.HTTPError as err:
        raise DownloadFailed(f"{url}: HTTP {err.code} {err.reason}", err.code >= 500) from err
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as err:
        reason = getattr(err, "reason", None) or err
        raise DownloadFailed(f"{url}: {reason}", retryable=True) from err


def download(spec: DatasetSpec, fs: FileSpec, quiet: bool = False) -> Path:
    """Download ``fs`` into ``<cache>/<folder>/``, check it, and return its path.

    The bytes go to a temporary file in the target folder which is checked and then renamed
    into place (``os.replace``), so the cache never holds a partial or unchecked file. A
    dropped connection is retried a bounded number of times with doubling back-off
    (:func:`_retries`).
    Raises :class:`DownloadFailed` when no URL could be fetched and :class:`DataError` when
    the downloaded content fails its check.
    """
    folder = cache_root() / spec.folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the cache folder {folder} ({err}); set XDG_CACHE_HOME to a "
            f"writable folder or supply the files with --data-dir/{ENV_DATA_DIR}"
        ) from err
    urls = download_urls(spec, fs)
    if not urls:
        raise DownloadFailed(f"{fs.name} has no download address")
    failures: list[str] = []
    attempts, backoff = _retries()
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{fs.name}.", suffix=".part", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            error: DownloadFailed | None = None
            for attempt in range(attempts):  # a dropped connection is retried, with back-off
                if attempt:
                    time.sleep(backoff * 2 ** (attempt - 1))
                try:
                    _fetch_url(url, tmp, f"{spec.name}/{fs.name}", quiet)
                    error = None
                    break
                except DownloadFailed as err:
                    error = err
                    if not err.retryable:
                        break
            if error is not None:
                tries = f" (after {attempts} attempts)" if error.retryable else ""
                failures.append(f"{error}{tries}")
                continue
            what = file_defect(tmp, fs)
            if what is not None:
                raise DataError(
                    f"downloaded {url} but its {what}; the download or the mirror is corrupt "
                    "and nothing was saved; try again later or supply the file with "
                    f"--data-dir/{ENV_DATA_DIR}"
                )
            dest = folder / fs.name
            os.replace(tmp, dest)
            remember_good(dest, fs)
            return dest
        finally:
            tmp.unlink(missing_ok=True)
    raise DownloadFailed("; ".join(failures))


def ensure_files(
    spec: DatasetSpec,
    names: list[str],
    data_dir: str | os.PathLike[str] | None = None,
    quiet: bool = False,
) -> dict[str, Path]:
    """Paths of the files ``names`` of ``spec``, found locally or downloaded into the cache.

    Found files are *not* checked here (the caller checks them, usually while reading);
    downloaded files have been checked. Raises :class:`DataError` if a file is found nowhere
    and cannot be downloaded.
    """
    roots = search_roots(data_dir)
    by_name = {fs.name: fs for fs in spec.files}
    paths: dict[str, Path] = {}
    missing: list[str] = []
    for name in names:
        found = locate(spec, name, roots)
        if found is None:
            missing.append(name)
        else:
            paths[name] = found
    for name in missing:
        try:
            paths[name] = download(spec, by_name[name], quiet)
        except DownloadFailed as err:
            raise DataError(missing_message(spec, missing, roots, str(err))) from err
    return paths
