"""Write a study's results folder atomically.

A run is staged in a hidden sibling folder (``.NAME.partial-PID``) and renamed into place
only after every file has been written, so an interrupted run never leaves a folder that
looks complete. The folder holds::

    config.json    seed, profile, package version, git commit, the full config
    metrics.json   the study's numbers (byte-identical for the same seed and machine)
    claims.json    the judged claims
    tables/*.csv   the study's tables
    figures/       PNG and SVG figures
    reading.txt    a short reading of the results, shown in the report
    timings.json   wall-clock seconds per stage (not deterministic, kept apart)
    run.log        the log
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import occam
from occam.executors.sampler import CheckpointMismatch, chunk_ranges
from occam.executors.session import SCHEDULING_KNOBS, JobRecord, MissingChunks, SamplingSession
from occam.study import RunContext, Study, StudyResult, config_to_dict, json_ready


class OutputError(OSError):
    """The output folder cannot be written."""


class OutputBusy(OutputError):
    """Another run is writing the same results folder right now."""


def check_writable(out: Path) -> None:
    """Raise :class:`OutputError` unless ``out`` could be created and written (creates nothing)."""
    probe = out.resolve()
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"output folder {out}: {probe} exists and is not a folder")
    try:  # really try: os.access says yes to root even on read-only file systems
        fd, name = tempfile.mkstemp(dir=probe, prefix=".occam-probe-")
        os.close(fd)
        os.unlink(name)
    except OSError:
        raise OutputError(f"output folder {out}: {probe} is not writable") from None
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out}: exists and is not a folder")


def git_commit(describe: bool = False) -> str | None:
    """The git commit of the source tree occam runs from, when there is one.

    describe: ``git describe --always --dirty`` instead (a ``-dirty`` suffix marks
    uncommitted changes).
    """
    here = Path(occam.__file__).resolve().parent
    args = ["git", "describe", "--always", "--dirty"] if describe else ["git", "rev-parse", "HEAD"]
    try:
        res = subprocess.run(
            args,
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as strict, stable, sorted, indented JSON (atomically: temp then rename).

    Strict: NaN and infinities are not JSON, so they are written as ``null``; when ``obj`` is
    a dict, a top-level ``"nonfinite"`` entry maps each such value's path (``a.b.0``) to what
    it was (``"nan"``, ``"inf"``, ``"-inf"``).
    """
    ready = json_ready(obj)
    found: dict[str, str] = {}
    clean = _strict(ready, "", found)
    if found and isinstance(clean, dict):
        clean["nonfinite"] = found
    tmp = path.with_name(path.name + ".tmp")
    try:
        text = json.dumps(clean, indent=2, sort_keys=True, allow_nan=False) + "\n"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _strict(obj: Any, where: str, found: dict[str, str]) -> Any:
    if isinstance(obj, float) and not np.isfinite(obj):
        found[where or "."] = "nan" if obj != obj else ("inf" if obj > 0 else "-inf")
        return None
    if isinstance(obj, dict):
        return {k: _strict(v, f"{where}.{k}" if where else str(k), found) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strict(v, f"{where}.{i}" if where else str(i), found) for i, v in enumerate(obj)]
    return obj


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write a list of row dicts as CSV (columns in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in json_ready(row).items()})


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)  # full precision: the shortest string that reads back exactly
    return value


def resolve_device(device: str) -> torch.device:
    """Map ``auto|cpu|cuda`` to a torch device; ``cuda`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available (use auto or cpu)")
        return torch.device("cuda")
    raise ValueError(f"--device {device}: expected auto, cpu or cuda")


def run_study(
    study: Study[Any],
    config: Any,
    *,
    profile: str,
    seed: int,
    out: Path,
    device: torch.device,
    quiet: bool = False,
    threads: int | None = None,
    fresh: bool = False,
    wait: bool = False,
    merge: bool = False,
) -> StudyResult:
    """Run ``study`` with ``config`` and write its results folder at ``out`` atomically.

    One writer per results folder: a lock (``.NAME.lock`` beside it) is held for the whole
    run, so a second run on the same ``out`` raises :class:`OutputBusy` (or waits for the
    first with ``wait=True``) instead of deleting the first one's staging folder.
    fresh: discard this folder's checkpoints first (otherwise an interrupted run resumes).
    merge: finish a batch run from its slices (:func:`run_slice`): every chunk of every
    sampling job must be checkpointed already (checked first, by walking the study's
    sampling jobs; :class:`occam.executors.MissingChunks` says what is missing), and none is
    computed.

    threads: torch intra-op threads for this process during the run (None leaves torch's
    setting); the previous setting is restored afterwards. One thread per process is the
    safe default for many small networks: on a busy 2-core machine two threads gave half the
    throughput of one (measured with torch 2.13, MKL); studies that want both cores use a
    process pool.
    """
    check_writable(out)
    out = out.resolve()
    with _exclusive_lock(out, wait), _torch_threads(threads):
        if fresh:
            shutil.rmtree(checkpoint_folder(out), ignore_errors=True)
        if merge:
            _check_complete(study, config, seed, out, device, quiet)
        return _run_study(study, config, profile, seed, out, device, quiet, merge)


@contextlib.contextmanager
def _exclusive_lock(out: Path, wait: bool) -> Iterator[None]:
    """Hold the results folder ``out`` (resolved) alone: ``.NAME.lock`` beside it, locked
    exclusively (``filelock``), or :class:`OutputBusy` when another run holds it and not
    ``wait``."""
    from filelock import FileLock, Timeout

    out.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out.parent / f".{out.name}.lock"))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise OutputBusy(
            f"{out} is being written by another occam run; wait for it, choose another "
            "--out, or pass --wait"
        ) from None
    try:
        yield
    finally:
        lock.release()


def checkpoint_folder(out: Path) -> Path:
    """Where the checkpoints of the run writing ``out`` live: ``.NAME.checkpoints`` beside it
    (so a rerun with the same ``--out`` finds them; removed after a successful run)."""
    return out.parent / f".{out.name}.checkpoints"


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    if threads is not None:  # set once, here; studies never change it
        torch.set_num_threads(max(1, threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _session(device: torch.device, **kwargs: Any) -> SamplingSession:
    """The run's sampling session: on a CUDA run each Ray task asks for a GPU of its own."""
    return SamplingSession(gpus=1.0 if device.type == "cuda" else 0.0, **kwargs)


def _walk_sampling(
    study: Study[Any],
    config: Any,
    seed: int,
    out: Path,
    device: torch.device,
    quiet: bool,
    session: SamplingSession,
) -> list[JobRecord]:
    """Run ``study`` for its sampling jobs only (``ctx.sampling_only``), in a scratch folder
    that is removed afterwards; return what each job found and did."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.walk-", dir=out.parent))
    try:
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002 (as in a full run)
        ctx = RunContext(
            out=scratch,
            seed=seed,
            device=device,
            quiet=quiet,
            log=logging.getLogger(f"occam.{study.name}"),
            checkpoint_dir=checkpoint_folder(out),
            sampling=session,
        )
        study.run(config, ctx)
        return session.jobs
    finally:
        session.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _check_complete(
    study: Study[Any], config: Any, seed: int, out: Path, device: torch.device, quiet: bool
) -> None:
    """Raise :class:`MissingChunks` unless every chunk of every sampling job is checkpointed."""
    jobs = _walk_sampling(study, config, seed, out, device, quiet, _session(device, check=True))
    short = [j for j in jobs if j.missing]
    if not short:
        return
    n_missing = sum(len(j.missing) for j in short)
    n_total = sum(j.n_chunks for j in jobs)
    first = short[0]
    n_more = len(short) - 1
    more = f"; and {n_more} more job{'s' if n_more > 1 else ''}" if n_more else ""
    raise MissingChunks(
        f"{n_missing} of {n_total} chunks are missing, in {len(short)} of {len(jobs)} "
        f"sampling jobs ({first.name}: chunks {chunk_ranges(first.missing)} of "
        f"{first.n_chunks}{more}); run the slices that compute them (occam run ... --chunks "
        f"I:J --out {out}), then merge again"
    )


@dataclass
class SliceResult:
    """What a slice did: its chunk range and each sampling job's record."""

    chunks: tuple[int, int]
    jobs: list[JobRecord]

    @property
    def computed(self) -> int:
        return sum(j.computed for j in self.jobs)

    @property
    def done(self) -> int:
        """Chunks of the run checkpointed when this slice finished each job."""
        return sum(j.n_chunks - len(j.missing) for j in self.jobs)

    @property
    def total(self) -> int:
        return sum(j.n_chunks for j in self.jobs)


def run_slice(
    study: Study[Any],
    config: Any,
    *,
    profile: str,
    seed: int,
    out: Path,
    device: torch.device,
    chunks: tuple[int, int],
    quiet: bool = False,
    threads: int | None = None,
    wait: bool = False,
) -> SliceResult:
    """Compute chunks ``i .. j-1`` of every sampling job of a run, for a later merge.

    The study is walked for its sampling jobs only (``ctx.sampling_only``); each job's
    chunks in the slice are checkpointed beside ``out`` (:func:`checkpoint_folder`), where
    ``run.json`` records the run (study, profile, seed, device, config) for
    ``occam merge``. No results folder is written. Slices of the same run may run at the
    same time, on one machine or on many sharing the file system: they hold the folder's
    lock shared (a plain run or a merge holds it alone), and each writes its own chunk files.
    A slice of another run (other seed, device or knobs, apart from where chunks run) is a
    :class:`occam.executors.CheckpointMismatch`.
    """
    if not study.chunked:
        raise ValueError(f"{study.name} does not sample in chunks")
    check_writable(out)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with _shared_lock(out.parent / f".{out.name}.lock", out, wait), _torch_threads(threads):
        folder = checkpoint_folder(out)
        folder.mkdir(exist_ok=True)
        _record_run(
            folder / "run.json",
            {
                "study": study.name,
                "profile": profile,
                "seed": seed,
                "device": str(device),
                "config": config_to_dict(config),
            },
        )
        jobs = _walk_sampling(
            study, config, seed, out, device, quiet, _session(device, chunks=chunks)
        )
        return SliceResult(chunks, jobs)


def run_from_checkpoints(
    study: Study[Any],
    config: Any,
    body: Callable[[Any, RunContext], StudyResult],
    *,
    profile: str,
    seed: int,
    source: Path,
    out: Path,
    device: torch.device,
    quiet: bool = False,
    threads: int | None = None,
    wait: bool = False,
) -> StudyResult:
    """Run ``body(config, ctx)`` on the checkpointed sampling chunks of the run at ``source``
    (its slices, :func:`run_slice`) and write its results folder at ``out``, atomically.

    Every sampling job ``body`` reaches must be complete (``require_complete``: nothing is
    sampled; a job with a missing chunk raises :class:`occam.executors.MissingChunks` and
    nothing is written). The checkpoints stay where they are, so ``occam merge`` can still
    finish the whole run afterwards. ``source`` is held locked shared (as a slice holds it:
    no plain run or merge of it meanwhile), ``out`` exclusively.
    """
    check_writable(out)
    out, source = out.resolve(), source.resolve()
    if out == source:
        raise ValueError(f"{out}: the results of a part of the run need a folder of their own")
    with (
        _exclusive_lock(out, wait),
        _shared_lock(source.parent / f".{source.name}.lock", source, wait),
        _torch_threads(threads),
    ):
        return _run_study(study, config, profile, seed, out, device, quiet, True, body, source)


def _record_run(path: Path, run: dict[str, Any]) -> None:
    """Write the run's description for ``occam merge``, or check a slice against it."""
    if not path.exists():
        write_json(path, run)  # atomic; slices starting together write the same bytes
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(saved, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        raise CheckpointMismatch(f"{path} is unreadable ({exc}); delete it") from None
    ignore = set(SCHEDULING_KNOBS)
    for key in ("study", "profile", "seed", "device", "config"):
        a, b = saved.get(key), json_ready(run[key])
        if key == "config" and isinstance(a, dict) and isinstance(b, dict):
            diff = sorted(
                k for k in a.keys() | b.keys() if k not in ignore and a.get(k) != b.get(k)
            )
            if not diff:
                continue
            key, a, b = f"knob {diff[0]}", a.get(diff[0]), b.get(diff[0])
        elif a == b:
            continue
        raise CheckpointMismatch(
            f"the slices in {path.parent} are of another run ({key}: {a!r} there, {b!r} "
            f"here); run every slice with the same options, or delete {path.parent}"
        )


@contextlib.contextmanager
def _shared_lock(path: Path, out: Path, wait: bool) -> Iterator[None]:
    """Hold ``path`` locked shared: with other slices, never with a plain run or a merge.

    The plain run's lock (``filelock``) is an exclusive ``flock`` on the same file, so the
    two exclude each other; shared holders do not. Without ``fcntl`` (Windows) slices take no
    lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise OutputBusy(
                f"{out} is being written by another occam run (not a slice); wait for it, "
                "choose another --out, or pass --wait"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _run_study(
    study: Study[Any],
    config: Any,
    profile: str,
    seed: int,
    out: Path,
    device: torch.device,
    quiet: bool,
    merge: bool = False,
    body: Callable[[Any, RunContext], StudyResult] | None = None,
    source: Path | None = None,
) -> StudyResult:
    """Run ``body`` (default ``study.run``) into a staging folder, then swap it in at ``out``.

    source: the results folder whose checkpoints the run reads, left in place (default:
    ``out``'s own, removed after the run).
    """
    # The caller holds this folder's lock, so any staging (or slice's scratch) folder of it
    # is a dead run's.
    for pattern in (f".{out.name}.partial-*", f".{out.name}.walk-*"):
        for stale in out.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)
    for old in out.parent.glob(f".{out.name}.old-*"):  # killed while swapping folders
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, out)  # the previous results, put back
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    staging.mkdir()
    checkpoints = checkpoint_folder(source or out)
    logger = logging.getLogger(f"occam.{study.name}")
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(staging / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    session = _session(device, require_complete=merge)
    try:
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002 (seeds legacy global users, e.g. sklearn)
        ctx = RunContext(
            out=staging,
            seed=seed,
            device=device,
            quiet=quiet,
            log=logger,
            checkpoint_dir=checkpoints,
            sampling=session,
        )
        logger.info("study %s profile %s seed %d device %s", study.name, profile, seed, device)
        write_json(
            staging / "config.json",
            {
                "study": study.name,
                "title": study.title,
                "papers": study.papers,
                "profile": profile,
                "seed": seed,
                "device": str(device),
                "occam_version": occam.__version__,
                "git_commit": git_commit(),
                "git_describe": git_commit(describe=True),
                "torch_version": torch.__version__,
                "python": platform.python_version(),
                "torch_threads": torch.get_num_threads(),
                "config": config_to_dict(config),
            },
        )
        t0 = time.perf_counter()
        result = (body or study.run)(config, ctx)
        total = time.perf_counter() - t0
        write_json(staging / "metrics.json", result.metrics)
        write_json(
            staging / "claims.json",
            {"study": study.name, "claims": [c.to_dict() for c in result.claims]},
        )
        if result.tables:
            (staging / "tables").mkdir(exist_ok=True)
            for name, rows in result.tables.items():
                write_table(staging / "tables" / f"{name}.csv", rows)
        (staging / "reading.txt").write_text(result.reading.strip() + "\n", encoding="utf-8")
        write_json(staging / "timings.json", {**ctx.timings, **result.timings, "total_s": total})
        logger.info("finished in %.1f s", total)
    except BaseException:
        session.close()
        logger.removeHandler(handler)
        handler.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    session.close()  # stop the Ray this run started, if any
    logger.removeHandler(handler)
    handler.close()
    if out.exists():
        trash = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, trash)
        os.replace(staging, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staging, out)
    if source is None:
        shutil.rmtree(checkpoints, ignore_errors=True)
    result.out = out
    result.figures = list(ctx.figures)
    return result
