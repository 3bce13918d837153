"""Cheap, seeded chunk functions (no torch: a Ray worker or a subprocess starts in a fraction
of a second), and a script that runs a slice of a job with one.

Usage: python counting.py CHECKPOINT N_CHUNKS SEED I:J   (computes chunks I..J-1 of the job,
each after ``SLEEP_S``, so that two slices started together overlap)
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from occam.executors import FunctionCounts, SamplingSession, run_chunks

SLEEP_S = 0.2


def count_chunk(chunk: int, seed: int) -> FunctionCounts:
    """Eight 'functions' on |E| = 4 drawn from the chunk's seed (a pure function of it)."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(8, 4))
    return FunctionCounts(
        counts=Counter("".join(map(str, row)) for row in bits),
        n_runs=8,
        n_unfitted=int(rng.integers(0, 2)),
        epochs_sum=float(rng.random()),
    )


def slow_count_chunk(chunk: int, seed: int) -> FunctionCounts:
    time.sleep(SLEEP_S)
    return count_chunk(chunk, seed)


@dataclass(frozen=True)
class SleepyChunk:
    """:func:`count_chunk`, announced by a file ``started-CHUNK-PID`` in ``folder`` and
    followed by ``sleep_s`` of sleep (so a test can find the worker and kill it meanwhile)."""

    folder: str
    sleep_s: float

    def __call__(self, chunk: int, seed: int) -> FunctionCounts:
        Path(self.folder, f"started-{chunk}-{os.getpid()}").touch()
        time.sleep(self.sleep_s)
        return count_chunk(chunk, seed)


def visible_gpu_chunk(chunk: int, seed: int) -> FunctionCounts:
    """Counts the GPU that Ray made visible to this task (``CUDA_VISIBLE_DEVICES``)."""
    time.sleep(0.2)  # long enough for two tasks to overlap
    return FunctionCounts(Counter({os.environ.get("CUDA_VISIBLE_DEVICES", "none"): 1}), n_runs=1)


if __name__ == "__main__":
    ckpt, n_chunks, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    i, j = (int(x) for x in sys.argv[4].split(":"))
    session = SamplingSession(chunks=(i, j))
    run_chunks(slow_count_chunk, n_chunks, seed, checkpoint=ckpt, key="k", session=session)
    print(session.jobs[0].computed)
