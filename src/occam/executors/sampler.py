"""Mergeable function counts, computed chunk by chunk, checkpointed, in-process or on Ray.

A long sampling job (say 10^5 trained networks) is cut into chunks. Each chunk has its own
seed, derived from the run seed and the chunk's index only (:func:`chunk_seed`), so the
result does not depend on how chunks are spread over processes or machines. Counts are
mergeable: the sum of two :class:`FunctionCounts` is the counter of both runs.

After every finished chunk the checkpoint file is rewritten atomically (temporary file, then
rename). A rerun with the same seed and the same key skips the chunks already done, so a run
killed at any point (``kill -9`` included) resumes without losing or double-counting work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np


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
    """Rewrite ``path`` atomically: a temporary file beside it, fsynced, then renamed.

    If writing fails (a full disk, a signal), the temporary file is removed and the previous
    checkpoint is left as it was; an OSError names ``path``.
    """
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
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


def _load(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    """The state saved at ``path`` (or an empty one); :class:`CheckpointMismatch` if it is
    unreadable, malformed, or belongs to another job."""
    if not path.exists():
        return {**header, "done": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bytes that are not UTF-8
        raise CheckpointMismatch(f"checkpoint {path} is unreadable ({exc}); delete it") from None
    if not isinstance(state, dict) or not isinstance(state.get("done"), dict):
        raise CheckpointMismatch(f"checkpoint {path} is not a checkpoint of occam; delete it")
    for k, v in header.items():
        if state.get(k) != v:
            raise CheckpointMismatch(
                f"checkpoint {path} belongs to another job ({k}: {state.get(k)!r} != {v!r}); "
                "delete it or choose another output folder"
            )
    n_chunks = int(header.get("n_chunks", 0))
    for chunk, counts in state["done"].items():
        try:
            if not 0 <= int(chunk) < n_chunks:
                raise ValueError(f"chunk {chunk} out of range")
            FunctionCounts.from_dict(counts)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointMismatch(
                f"checkpoint {path} is damaged (chunk {chunk}: {type(exc).__name__}); delete it"
            ) from None
    return state


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
) -> FunctionCounts:
    """Run ``fn(chunk, chunk_seed(seed, chunk))`` for every chunk and merge the counts.

    fn: a picklable top-level callable (Ray ships it to workers).
    checkpoint: a JSON file rewritten after every chunk; existing chunks there are skipped.
    key: identifies the job (e.g. :func:`job_key` of the config) so a checkpoint is never
        reused for a different job.
    executor: ``"local"`` (in this process, in chunk order), ``"processes"`` (a pool of
        ``workers`` processes on this machine, one thread each) or ``"ray"`` (chunks as Ray
        tasks, on a local cluster or the one at ``address``).
    progress: wraps the iterator of finished chunks (for a progress bar).
    log: told, when a checkpoint is resumed, how many chunks it already holds.
    """
    header: dict[str, Any] = {"seed": seed, "key": key, "n_chunks": n_chunks}
    state: dict[str, Any] = _load(checkpoint, header) if checkpoint else {**header, "done": {}}
    done: dict[str, Any] = state["done"]
    todo = [i for i in range(n_chunks) if str(i) not in done]
    if checkpoint and done and log:
        log(f"resumed {checkpoint.name}: {len(done)} of {n_chunks} chunks already done")

    def finished(i: int, counts: FunctionCounts) -> None:
        done[str(i)] = counts.to_dict()
        if checkpoint:
            _save(checkpoint, state)

    wrap = progress or (lambda it, total: it)
    if executor == "local":
        for i in wrap(iter(todo), len(todo)):
            finished(i, fn(i, chunk_seed(seed, i)))
    elif executor == "processes":
        pairs = _process_chunks(fn, todo, seed, workers or os.cpu_count() or 1)
        for i, counts in wrap_pairs(pairs, wrap, len(todo)):
            finished(i, counts)
    elif executor == "ray":
        for i, counts in wrap_pairs(_ray_chunks(fn, todo, seed, address), wrap, len(todo)):
            finished(i, counts)
    else:
        raise ValueError(f"unknown executor {executor!r} (local, processes or ray)")

    total = FunctionCounts()
    for i in range(n_chunks):  # merge in chunk order: the result is independent of scheduling
        total = total + FunctionCounts.from_dict(done[str(i)])
    return total


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
) -> Iterator[tuple[int, FunctionCounts]]:
    """Run the chunks in a pool of fresh ("spawn") processes; yield them as they finish."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if not todo:
        return
    ctx = multiprocessing.get_context("spawn")  # fork after torch has threads can deadlock
    # The pool (its workers and multiprocessing's helper processes) is created with Ctrl-C
    # ignored, which spawned processes inherit, so a Ctrl-C during their start-up prints no
    # traceback of theirs.
    with _sigint_ignored():
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(todo)), mp_context=ctx, initializer=_ignore_sigint
        )
    try:
        with _sigint_ignored():  # the workers start with Ctrl-C ignored (inherited at spawn)
            futures = {pool.submit(_call_chunk, fn, i, chunk_seed(seed, i)): i for i in todo}
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
    that, so a Ctrl-C during their start-up (before :func:`_ignore_sigint`) is no traceback."""
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


def _ignore_sigint() -> None:
    """In pool workers: Ctrl-C is the parent's to handle (it stops the pool, in one line)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ray_chunks(
    fn: ChunkFn, todo: list[int], seed: int, address: str | None
) -> Iterator[tuple[int, FunctionCounts]]:
    """Run the chunks as Ray tasks; yield (chunk, counts) as they finish."""
    try:
        import ray
    except ImportError:  # pragma: no cover - depends on the environment
        raise RuntimeError("--executor ray needs Ray: pip install 'occam[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=os.cpu_count(), log_to_driver=False, include_dashboard=False)
    try:
        remote = ray.remote(num_cpus=1)(_call_chunk)
        pending = {remote.remote(fn, i, chunk_seed(seed, i)): i for i in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                yield i, FunctionCounts.from_dict(ray.get(ref))
    finally:
        if started_here:
            ray.shutdown()


def _call_chunk(fn: ChunkFn, chunk: int, seed: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)  # one thread per task, one task per core
    return fn(chunk, seed).to_dict()
