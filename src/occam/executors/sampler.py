"""Mergeable function counts, computed chunk by chunk, checkpointed, in-process or on Ray.

A long sampling job (say 10^5 trained networks) is cut into chunks. Each chunk has its own
seed, derived from the run seed and the chunk's index only (:func:`chunk_seed`), so the
result does not depend on how chunks are spread over processes or machines. Counts are
mergeable: the sum of two :class:`FunctionCounts` is the counter of both runs.

A job's checkpoint is a folder (:class:`ChunkStore`): ``job.json`` (the job's header: seed,
key, number of chunks) and one small file per finished chunk, each written atomically
(temporary file, then rename) as soon as the chunk is done. A rerun with the same seed and
key skips the chunks already there, so a run killed at any point (``kill -9`` included)
resumes without losing or double-counting work; and several processes, on one machine or on
many sharing a file system, can each compute their own chunks of the same job (the slices of
a batch run, ``occam run ... --chunks i:j``) without touching each other's files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from occam.executors.session import JobRecord, MissingChunks, SamplingSession, allocated_cpus


@dataclass
class FunctionCounts:
    """How often each function (a '0'/'1' string over E) was reached, plus run totals."""

    counts: Counter[str] = field(default_factory=Counter)
    n_runs: int = 0
    n_unfitted: int = 0
    epochs_sum: float = 0.0  # sum over fitted runs of the epoch of first fit

    def __add__(self, other: FunctionCounts) -> FunctionCounts:
        return FunctionCounts(
            counts=self.counts + other.counts,
            n_runs=self.n_runs + other.n_runs,
            n_unfitted=self.n_unfitted + other.n_unfitted,
            epochs_sum=self.epochs_sum + other.epochs_sum,
        )

    @property
    def n_fitted(self) -> int:
        return self.n_runs - self.n_unfitted

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "n_runs": self.n_runs,
            "n_unfitted": self.n_unfitted,
            "epochs_sum": self.epochs_sum,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FunctionCounts:
        return cls(
            counts=Counter({str(k): int(v) for k, v in d["counts"].items()}),
            n_runs=int(d["n_runs"]),
            n_unfitted=int(d["n_unfitted"]),
            epochs_sum=float(d.get("epochs_sum", 0.0)),
        )


class CheckpointMismatch(ValueError):
    """A checkpoint exists but belongs to a different job (other seed, key or chunk count)."""


def chunk_seed(seed: int, chunk: int) -> int:
    """The seed of chunk ``chunk`` of a run seeded ``seed`` (independent of any scheduling)."""
    return int(np.random.SeedSequence([seed, chunk]).generate_state(1, np.uint64)[0] >> 1)


ChunkFn = Callable[[int, int], FunctionCounts]


def _save(path: Path, state: dict[str, Any]) -> None:
    """Write ``path`` atomically: a temporary file beside it, fsynced, then renamed.

    The temporary name is unique to this process and call, so processes on several machines
    sharing the folder never write into each other's temporary files. If writing fails (a
    full disk, a signal), the temporary file is removed and whatever was at ``path`` is left
    as it was; an OSError names ``path``.
    """
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(state, fh, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> Any:
    """The JSON in ``path``; :class:`CheckpointMismatch` naming it if it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bytes that are not UTF-8
        raise CheckpointMismatch(f"checkpoint {path} is unreadable ({exc}); delete it") from None


class ChunkStore:
    """One sampling job's checkpoint: a folder with ``job.json`` and ``chunk-NNNNNN.json``.

    ``job.json`` holds the job's header (format, seed, key, number of chunks); every chunk
    file repeats it beside the chunk's index and counts, so a file can be checked on its own.
    Anything that does not match the header (another job's files, a damaged file, an index
    out of range) is a :class:`CheckpointMismatch` naming the file; nothing is deleted.
    """

    FORMAT = 2

    def __init__(self, folder: Path, seed: int, key: str, n_chunks: int) -> None:
        self.folder = folder
        self.header: dict[str, Any] = {
            "format": self.FORMAT,
            "seed": seed,
            "key": key,
            "n_chunks": n_chunks,
        }

    def chunk_path(self, chunk: int) -> Path:
        return self.folder / f"chunk-{chunk:06d}.json"

    def open(self, create: bool = True) -> dict[int, FunctionCounts]:
        """Create the folder (or check its header) and return the chunks already there.

        create: False to only read (a missing folder holds no chunks).
        """
        if self.folder.exists() and not self.folder.is_dir():
            raise CheckpointMismatch(
                f"checkpoint {self.folder} is a single-file checkpoint of an older occam; delete it"
            )
        if not create and not self.folder.exists():
            return {}
        self.folder.mkdir(parents=True, exist_ok=True)
        head = self.folder / "job.json"
        if head.exists():
            self._check(head, _read(head))
        else:  # several processes may write it at once: the same bytes, each atomically
            _save(head, self.header)
        done: dict[int, FunctionCounts] = {}
        for path in sorted(self.folder.glob("chunk-*.json")):  # temporaries end in .tmp-*
            state = _read(path)
            self._check(path, state)
            try:
                chunk = int(state["chunk"])
                if not 0 <= chunk < self.header["n_chunks"] or path != self.chunk_path(chunk):
                    raise ValueError(f"chunk {chunk} out of range or misnamed")
                done[chunk] = FunctionCounts.from_dict(state["counts"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise CheckpointMismatch(
                    f"checkpoint {path} is damaged ({type(exc).__name__}: {exc}); delete it"
                ) from None
        return done

    def _check(self, path: Path, state: Any) -> None:
        if not isinstance(state, dict):
            raise CheckpointMismatch(f"checkpoint {path} is not a checkpoint of occam; delete it")
        for k, v in self.header.items():
            if state.get(k) != v:
                raise CheckpointMismatch(
                    f"checkpoint {path} belongs to another job ({k}: {state.get(k)!r} != "
                    f"{v!r}); delete it or choose another output folder"
                )

    def save(self, chunk: int, counts: FunctionCounts) -> None:
        _save(self.chunk_path(chunk), {**self.header, "chunk": chunk, "counts": counts.to_dict()})


def job_key(obj: Any) -> str:
    """A short stable hash of a JSON-able description of a job (for checkpoint headers)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_chunks(
    fn: ChunkFn,
    n_chunks: int,
    seed: int,
    checkpoint: Path | None = None,
    key: str = "",
    executor: Literal["local", "processes", "ray"] = "local",
    address: str | None = None,
    workers: int | None = None,
    progress: Callable[[Iterator[int], int], Iterator[int]] | None = None,
    log: Callable[[str], None] | None = None,
    session: SamplingSession | None = None,
) -> FunctionCounts:
    """Run ``fn(chunk, chunk_seed(seed, chunk))`` for every chunk and merge the counts.

    fn: a picklable top-level callable (Ray ships it to workers; it is put in Ray's object
        store once per job, so its data travel once, not once per chunk).
    checkpoint: the job's checkpoint folder (:class:`ChunkStore`); chunks found there are
        skipped, each finished chunk is saved there at once.
    key: identifies the job (e.g. :func:`job_key` of the config) so a checkpoint is never
        reused for a different job.
    executor: ``"local"`` (in this process, in chunk order), ``"processes"`` (a pool of
        ``workers`` processes on this machine, one thread each; default: the CPUs this
        process may use) or ``"ray"`` (chunks as Ray tasks, on a local Ray or the cluster at
        ``address``; each task asks for a GPU when ``session.gpus``, and a task whose worker
        dies is retried).
    progress: wraps the iterator of finished chunks (for a progress bar).
    log: told, when a checkpoint is resumed, how many chunks it already holds.
    session: the run's :class:`SamplingSession` (which chunks to compute; Ray started once
        per run). Without one, every chunk is computed and a Ray started here is stopped here.

    Returns the merged counts of all chunks, in chunk order (independent of scheduling). In
    a slice or a merge's check (``session.sampling_only``) some chunks may be missing: the
    merge of the chunks present is returned, and is not the job's result.
    """
    if n_chunks < 0:
        raise ValueError(f"n_chunks={n_chunks}: must be >= 0")
    if executor not in ("local", "processes", "ray"):
        raise ValueError(f"unknown executor {executor!r} (local, processes or ray)")
    own_session = session is None
    session = session or SamplingSession()
    if session.sampling_only and checkpoint is None:
        raise ValueError("a slice of a job computes chunks for later: it needs a checkpoint")
    store = ChunkStore(checkpoint, seed, key, n_chunks) if checkpoint else None
    reading_only = session.check or session.require_complete
    done = store.open(create=not reading_only) if store else {}
    record = JobRecord(
        checkpoint.name if checkpoint else key, n_chunks, present=len(done), computed=0, missing=[]
    )
    session.jobs.append(record)
    if reading_only:
        todo: list[int] = []
    elif session.chunks is not None:
        start, stop = session.chunks
        todo = [i for i in range(start, min(stop, n_chunks)) if i not in done]
    else:
        todo = [i for i in range(n_chunks) if i not in done]
    if checkpoint and done and log:
        log(f"resumed {checkpoint.name}: {len(done)} of {n_chunks} chunks already done")

    def finished(i: int, counts: FunctionCounts) -> None:
        if store:
            store.save(i, counts)
        # as read back from a checkpoint (functions in sorted order), so that sums over the
        # counts run in the same order whether a chunk was computed now or loaded
        done[i] = FunctionCounts.from_dict(counts.to_dict())
        record.computed += 1

    wrap = progress or (lambda it, total: it)
    pairs: Generator[tuple[int, FunctionCounts], None, None] | None = None
    try:
        if todo and executor == "local":
            for i in wrap(iter(todo), len(todo)):
                finished(i, fn(i, chunk_seed(seed, i)))
        elif todo:
            if executor == "processes":
                pairs = _process_chunks(fn, todo, seed, workers or allocated_cpus())
            else:
                pairs = _ray_chunks(fn, todo, seed, session.ray(address), session.gpus)
            for i, counts in wrap_pairs(pairs, wrap, len(todo)):
                finished(i, counts)
    finally:
        if pairs is not None:  # stop the pool / cancel Ray's pending tasks now, on any exit
            pairs.close()
        if own_session:
            session.close()

    record.missing = [i for i in range(n_chunks) if i not in done]
    if record.missing and session.require_complete:
        raise MissingChunks(
            f"{len(record.missing)} of {n_chunks} chunks of {record.name} are not checkpointed "
            f"(chunks {chunk_ranges(record.missing)})"
        )
    if record.missing and not session.sampling_only:  # pragma: no cover - a bug if reached
        raise RuntimeError(f"chunks {chunk_ranges(record.missing)} of {record.name} not done")
    total = FunctionCounts()
    for i in sorted(done):  # merge in chunk order: the result is independent of scheduling
        total = total + done[i]
    return total


def chunk_ranges(chunks: list[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` as ``"0-2, 5, 7-8"``."""
    runs: list[list[int]] = []
    for i in sorted(chunks):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def wrap_pairs(
    pairs: Iterator[tuple[int, FunctionCounts]],
    wrap: Callable[[Iterator[int], int], Iterator[int]],
    total: int,
) -> Iterator[tuple[int, FunctionCounts]]:
    """Drive ``pairs`` through a progress wrapper that only sees the chunk indices."""
    current: list[tuple[int, FunctionCounts]] = []

    def indices() -> Iterator[int]:
        for pair in pairs:
            current[:] = [pair]
            yield pair[0]

    for _ in wrap(indices(), total):
        yield current[0]


def _process_chunks(
    fn: ChunkFn, todo: list[int], seed: int, workers: int
) -> Generator[tuple[int, FunctionCounts], None, None]:
    """Run the chunks in a pool of fresh ("spawn") processes; yield them as they finish."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if not todo:
        return
    ctx = multiprocessing.get_context("spawn")  # fork after torch has threads can deadlock
    # The pool (its workers and multiprocessing's helper processes) is created with Ctrl-C
    # ignored, which spawned processes inherit, so a Ctrl-C during their start-up prints no
    # traceback of theirs.
    #
    # The task function goes to each worker once, as plain-pickled bytes: its tensors travel by
    # value. Given to the pool as is, multiprocessing's pickler would send them as shared-memory
    # file descriptors, served by a thread of this process that prints a traceback of its own
    # when a worker is stopped mid-handover (Ctrl-C while the pool is busy).
    blob = pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    with _sigint_ignored():
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(todo)),
            mp_context=ctx,
            initializer=_start_pool_worker,
            initargs=(blob,),
        )
    try:
        with _sigint_ignored():  # the workers start with Ctrl-C ignored (inherited at spawn)
            futures = {pool.submit(_call_pooled_chunk, i, chunk_seed(seed, i)): i for i in todo}
        for fut in as_completed(futures):
            yield futures[fut], FunctionCounts.from_dict(fut.result())
    except BaseException:  # Ctrl-C, SIGTERM, a failed chunk: stop now, not after the chunks
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in this (main) thread for the block: processes started in it inherit
    that, so a Ctrl-C during their start-up (before :func:`_start_pool_worker`) is no traceback."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: In a pool worker: the pickled task function (set by :func:`_start_pool_worker`) and the
#: function itself once the first chunk has unpickled it.
_POOL_FN: dict[str, Any] = {}


def _start_pool_worker(blob: bytes) -> None:
    """In pool workers: Ctrl-C is the parent's to handle (it stops the pool, in one line);
    keep the task function's bytes for the chunks to come."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _POOL_FN["blob"] = blob


def _call_pooled_chunk(chunk: int, seed: int) -> dict[str, Any]:
    """In a pool worker: :func:`_call_chunk` with the worker's task function."""
    if "fn" not in _POOL_FN:
        _POOL_FN["fn"] = pickle.loads(_POOL_FN.pop("blob"))
    return _call_chunk(_POOL_FN["fn"], chunk, seed)


#: How often Ray reruns a chunk whose worker died (killed, out of memory, node lost). A chunk
#: is a pure function of its index and seed, so a rerun gives the same counts.
RAY_MAX_RETRIES = 3


def ray_task_options(gpus: float) -> dict[str, Any]:
    """The resources and retries of one chunk's Ray task.

    One CPU each (a chunk trains with one torch thread); ``gpus`` GPUs each on a CUDA run, so
    Ray runs as many chunks at once as there are GPUs and sets ``CUDA_VISIBLE_DEVICES`` of
    each worker to its own GPU (the chunk's ``"cuda"`` is then that GPU).
    """
    options: dict[str, Any] = {"num_cpus": 1, "max_retries": RAY_MAX_RETRIES}
    if gpus > 0:
        options["num_gpus"] = gpus
    return options


def _ray_chunks(
    fn: ChunkFn, todo: list[int], seed: int, ray: Any, gpus: float
) -> Generator[tuple[int, FunctionCounts], None, None]:
    """Run the chunks as Ray tasks on the connected ``ray``; yield (chunk, counts) as they end.

    The task function (with its data) goes into the object store once; every task gets a
    reference to it. On any exception here (Ctrl-C included) the tasks still pending are
    cancelled, so an interrupted run leaves no work behind on the cluster.
    """
    fn_ref = ray.put(fn)
    remote = ray.remote(**ray_task_options(gpus))(_call_chunk)
    pending = {remote.remote(fn_ref, i, chunk_seed(seed, i)): i for i in todo}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                yield i, FunctionCounts.from_dict(ray.get(ref))
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)


def _call_chunk(fn: ChunkFn, chunk: int, seed: int) -> dict[str, Any]:
    """In a worker: one torch thread per task, one task per core. Torch is loaded by then
    when ``fn`` holds tensors (unpickling it imports torch); a task that needs no torch is
    not made to import it (seconds per fresh worker)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    return fn(chunk, seed).to_dict()
