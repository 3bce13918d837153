"""Executors: run chunks of independent work in-process or on Ray, with checkpoints."""

from occam.executors.sampler import (
    CheckpointMismatch,
    FunctionCounts,
    chunk_seed,
    run_chunks,
)

__all__ = ["CheckpointMismatch", "FunctionCounts", "chunk_seed", "run_chunks"]
