"""Executors: run chunks of independent work in-process, in a process pool or on Ray, with
one checkpoint file per finished chunk (so slices of a job can run as separate processes)."""

from occam.executors.sampler import (
    CheckpointMismatch,
    ChunkStore,
    FunctionCounts,
    chunk_seed,
    run_chunks,
)
from occam.executors.session import (
    ExecutorError,
    JobRecord,
    MissingChunks,
    SamplingSession,
    allocated_cpus,
)

__all__ = [
    "CheckpointMismatch",
    "ChunkStore",
    "ExecutorError",
    "FunctionCounts",
    "JobRecord",
    "MissingChunks",
    "SamplingSession",
    "allocated_cpus",
    "chunk_seed",
    "run_chunks",
]
