"""Batch runs through the results layer: slices of a run (every sampling job), their merge,
a slice of another run refused, and the output folder's lock (slices share it, a plain run or
a merge holds it alone)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from chunk_study import STUDY, ChunkConfig
from filelock import FileLock

from occam.executors import CheckpointMismatch, MissingChunks
from occam.results import OutputBusy, checkpoint_folder, run_slice, run_study

CPU = torch.device("cpu")


def slice_of(out, chunks, config=None, seed=4, **kw):
    return run_slice(
        STUDY,
        config or ChunkConfig(),
        profile="smoke",
        seed=seed,
        out=out,
        device=CPU,
        chunks=chunks,
        quiet=True,
        **kw,
    )


def test_slices_then_merge_equal_one_run_and_a_gap_is_named(tmp_path):
    """Jobs of 3 and 4 chunks: slice 0:2 leaves chunks 2 (and 3) missing, which the merge
    names without computing anything; after slice 2:4 the merge gives the plain run's
    metrics, and removes the checkpoints."""
    plain = run_study(
        STUDY, ChunkConfig(), profile="smoke", seed=4, out=tmp_path / "plain", device=CPU
    )
    out = tmp_path / "batch"
    first = slice_of(out, (0, 2))
    assert [(j.n_chunks, j.computed, j.missing) for j in first.jobs] == [
        (3, 2, [2]),
        (4, 2, [2, 3]),
    ]
    assert (first.computed, first.done, first.total) == (4, 4, 7)
    assert not out.exists()  # a slice writes no results folder
    run = json.loads((checkpoint_folder(out) / "run.json").read_text())
    assert (run["study"], run["seed"], run["config"]["chunks"]) == ("chunky", 4, 3)
    with pytest.raises(
        MissingChunks,
        match=r"3 of 7 chunks are missing, in 2 of 2 sampling "
        r"jobs \(job0: chunks 2 of 3; and 1 more job\)",
    ):
        run_study(STUDY, ChunkConfig(), profile="smoke", seed=4, out=out, device=CPU, merge=True)
    assert not out.exists()
    second = slice_of(out, (2, 4))
    assert second.computed == 3 and second.done == 7
    merged = run_study(
        STUDY, ChunkConfig(), profile="smoke", seed=4, out=out, device=CPU, merge=True
    )
    assert merged.metrics == plain.metrics
    assert (out / "metrics.json").read_bytes() == (tmp_path / "plain" / "metrics.json").read_bytes()
    assert not checkpoint_folder(out).exists()


def test_a_slice_of_another_run_is_refused(tmp_path):
    out = tmp_path / "batch"
    slice_of(out, (0, 1))
    with pytest.raises(CheckpointMismatch, match=r"another run \(seed: 4 there, 5 here\)"):
        slice_of(out, (1, 2), seed=5)
    with pytest.raises(CheckpointMismatch, match=r"another run \(knob chunks: 3 there, 5 here\)"):
        slice_of(out, (1, 2), config=ChunkConfig(chunks=5))
    # where chunks run is no part of what they compute: such a slice is welcome
    other = dataclasses.replace(ChunkConfig(), executor="processes", workers=1)
    assert slice_of(out, (1, 2), config=other).computed == 2


def test_slices_share_the_lock_that_a_plain_run_holds_alone(tmp_path):
    from occam.results import _shared_lock

    out = tmp_path / "batch"
    lock_file = tmp_path / ".batch.lock"
    with _shared_lock(lock_file, out, wait=False):  # another slice, running
        assert slice_of(out, (0, 1)).computed == 2
        with pytest.raises(OutputBusy):  # a plain run (or a merge) must wait for the slices
            run_study(STUDY, ChunkConfig(), profile="smoke", seed=4, out=out, device=CPU)
    with FileLock(str(lock_file)):  # a plain run, running
        with pytest.raises(OutputBusy, match="not a slice"):
            slice_of(out, (1, 2))
