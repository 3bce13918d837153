"""What ``occam data list|fetch|verify`` call: list the data sets, fetch them, check them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from occam.data._files import (
    DATASETS,
    DataError,
    DatasetSpec,
    check_local,
    ensure_files,
    file_defect,
    get_spec,
    locate,
    remember_good,
    search_roots,
)
from occam.data.imdb import SPLITS, cache_file, cache_problem, folder_problem, imdb_dir

_NO_FILES = {
    "digits": "bundled with scikit-learn; nothing to fetch",
    "boolean": "generated on the fly; nothing to fetch",
}


def fetch(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    quiet: bool = False,
    files: list[str] | None = None,
) -> Path:
    """Make sure the files of data set ``name`` are present and verified; download what is missing.

    Args:
        name: ``"mnist"``, ``"fashion-mnist"`` or ``"imdb"``.
        data_dir: a data root searched first (the CLI's ``--data-dir``); downloads go to the
            user cache.
        quiet: no progress bar.
        files: only these files of the data set (default: all); not for ``imdb``.
    Returns:
        the folder holding the (first) file; for ``imdb``, the ``aclImdb/`` folder found or
        the cache folder holding the unpacked ``aclImdb-{train,test}.json``.
    Raises:
        DataError: unknown name, a corrupt file, or missing files that cannot be downloaded.
    """
    spec = get_spec(name)
    if not spec.files:
        raise DataError(f"{name} is {_NO_FILES[name]}")
    if spec.any_of:
        if files is not None:
            raise DataError(f"{name} is fetched as a whole; drop the file list")
        return imdb_dir(data_dir, quiet)
    known = [fs.name for fs in spec.files]
    wanted = known if files is None else list(files)
    unknown = sorted(set(wanted) - set(known))
    if unknown or not wanted:
        raise DataError(f"{name} has the files {', '.join(known)}; got {', '.join(unknown)}")
    paths = ensure_files(spec, wanted, data_dir, quiet)
    by_name = {fs.name: fs for fs in spec.files}
    for filename in wanted:
        check_local(paths[filename], by_name[filename], name)
    return paths[wanted[0]].parent


def _check(path: Path, spec: DatasetSpec, filename: str) -> tuple[str, bool, str]:
    fs = next(fs for fs in spec.files if fs.name == filename)
    what = file_defect(path, fs)
    if what is None:
        remember_good(path, fs)
        how = f"sha256 {fs.sha256[:16]}... matches" if fs.sha256 else "structure ok (no checksum)"
        return str(path), True, f"ok ({how})"
    return str(path), False, what


def verify(
    name: str, data_dir: str | os.PathLike[str] | None = None
) -> list[tuple[str, bool, str]]:
    """Check every file of ``name`` that can be found, re-reading it (no cache, no download).

    Returns:
        one ``(file, ok, message)`` per file: ``file`` is the path where it was found (or the
        bare name if it is missing), ``message`` says what matched or what is wrong.
    """
    spec = get_spec(name)
    if not spec.files:
        return [(name, True, _NO_FILES[name])]
    roots = search_roots(data_dir)
    looked = ", ".join(str(r / spec.folder) for r in roots)
    rows: list[tuple[str, bool, str]] = []
    if spec.any_of:
        for root in roots:
            folder = root / spec.folder / "aclImdb"
            if folder.is_dir():
                what = folder_problem(folder)
                rows.append((str(folder), what is None, what or "ok (all 50,000 reviews present)"))
            for fs in spec.files:
                path = root / spec.folder / fs.name
                if path.is_file():
                    rows.append(_check(path, spec, fs.name))
        for split in SPLITS:
            if cache_file(split).is_file():
                what = cache_problem(split)
                rows.append((str(cache_file(split)), what is None, what or "ok (25,000 reviews)"))
        if not rows:
            either = " or ".join(fs.name for fs in spec.files)
            rows.append((either, False, f"missing (looked in {looked})"))
        return rows
    for fs in spec.files:
        found = locate(spec, fs.name, roots)
        if found is None:
            rows.append((fs.name, False, f"missing (looked in {looked})"))
        else:
            rows.append(_check(found, spec, fs.name))
    return rows


def list_datasets(data_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """One dict per data set, without reading any file.

    Keys: ``name``, ``description``, ``source``, ``files`` (list of file names), ``where``
    (the folder the files are found in, ``"missing"``, ``"partial: ..."``, or how a
    file-less set is provided) and ``size`` (bytes on disk of what was found, int).
    """
    roots = search_roots(data_dir)
    out: list[dict[str, Any]] = []
    for spec in DATASETS.values():
        entry: dict[str, Any] = {
            "name": spec.name,
            "description": spec.description,
            "source": spec.source,
            "files": [fs.name for fs in spec.files],
            "where": _NO_FILES.get(spec.name, "missing").split(";")[0],
            "size": 0,
        }
        found: list[Path] = []
        if spec.any_of:
            for root in roots:
                folder = root / spec.folder
                candidates = [folder / "aclImdb"] + [folder / fs.name for fs in spec.files]
                found = [p for p in candidates if p.exists()][:1]
                if found:
                    break
            if not found:
                found = [cache_file(split) for split in SPLITS if cache_file(split).is_file()]
        else:
            for fs in spec.files:
                hit = locate(spec, fs.name, roots)
                if hit is not None:
                    found.append(hit)
        folders = sorted({str(p.parent) for p in found})
        if spec.any_of and found:
            entry["where"] = str(found[0])
        elif len(found) == len(spec.files) and len(folders) == 1:
            entry["where"] = folders[0]
        elif found:
            entry["where"] = (
                f"partial: {len(found)} of {len(spec.files)} files in {', '.join(folders)}"
            )
        entry["size"] = sum(_size(p) for p in found)
        out.append(entry)
    return out


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
