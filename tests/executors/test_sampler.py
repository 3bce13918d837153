"""Chunked sampling: mergeable counts, scheduling-independent seeds, kill -9 resume, Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sampler_job import make_chunk

import occam
from occam.executors import CheckpointMismatch, FunctionCounts, chunk_seed, run_chunks

HERE = Path(__file__).resolve().parent


def test_counts_merge_like_counters():
    a = FunctionCounts(Counter({"01": 2, "11": 1}), n_runs=4, n_unfitted=1, epochs_sum=9)
    b = FunctionCounts(Counter({"01": 1, "00": 3}), n_runs=4, n_unfitted=0, epochs_sum=5)
    c = a + b
    assert c.counts == Counter({"01": 3, "11": 1, "00": 3})
    assert (c.n_runs, c.n_unfitted, c.n_fitted, c.epochs_sum) == (8, 1, 7, 14)
    assert FunctionCounts.from_dict(c.to_dict()) == c


def test_chunk_seeds_are_distinct_and_stable():
    seeds = {chunk_seed(0, i) for i in range(1000)}
    assert len(seeds) == 1000
    assert chunk_seed(5, 3) == chunk_seed(5, 3) != chunk_seed(6, 3)


def test_one_chunk_is_the_sum_of_its_parts():
    """Splitting work into chunks does not change what each chunk computes."""
    chunk = make_chunk()
    whole = run_chunks(chunk, 3, seed=1)
    parts = [chunk(i, chunk_seed(1, i)) for i in range(3)]
    assert whole == parts[0] + parts[1] + parts[2]
    assert whole.n_runs == 36 and whole.n_fitted > 30


def test_checkpoint_skips_done_chunks_and_rejects_other_jobs(tmp_path):
    ckpt = tmp_path / "ckpt.json"
    calls: list[int] = []

    def fake(i: int, seed: int) -> FunctionCounts:
        calls.append(i)
        return FunctionCounts(Counter({f"{seed % 4:02b}": 1}), n_runs=1)

    first = run_chunks(fake, 4, seed=3, checkpoint=ckpt, key="k")
    assert calls == [0, 1, 2, 3]
    again = run_chunks(fake, 4, seed=3, checkpoint=ckpt, key="k")
    assert calls == [0, 1, 2, 3] and again == first
    with pytest.raises(CheckpointMismatch, match="another job"):
        run_chunks(fake, 4, seed=4, checkpoint=ckpt, key="k")
    with pytest.raises(CheckpointMismatch, match="another job"):
        run_chunks(fake, 4, seed=3, checkpoint=ckpt, key="other")


def test_kill_dash_nine_then_resume_equals_uninterrupted(tmp_path):
    n_chunks, seed = 8, 7
    reference = run_chunks(make_chunk(), n_chunks, seed)
    ckpt = tmp_path / "ckpt.json"
    cmd = [sys.executable, str(HERE / "sampler_job.py"), str(ckpt), str(n_chunks), str(seed)]
    # this checkout's occam first (not whatever copy the interpreter has installed)
    src = Path(occam.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(src)])}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:
        if ckpt.exists() and len(json.loads(ckpt.read_text())["done"]) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = len(json.loads(ckpt.read_text())["done"])
    assert 2 <= done_at_kill < n_chunks, "the job finished before it could be killed"
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    resumed = FunctionCounts.from_dict(json.loads(res.stdout))
    assert resumed == reference
    assert resumed.n_runs == n_chunks * 12  # nothing lost, nothing counted twice


def test_process_pool_counts_equal_in_process():
    reference = run_chunks(make_chunk(), 3, 5)
    assert run_chunks(make_chunk(), 3, 5, executor="processes", workers=2) == reference


@pytest.mark.slow
def test_ray_cluster_counts_equal_in_process(tmp_path):
    ray = pytest.importorskip("ray")
    n_chunks, seed = 4, 11
    reference = run_chunks(make_chunk(), n_chunks, seed)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_chunks(
            make_chunk(), n_chunks, seed, executor="ray", checkpoint=tmp_path / "c.json"
        )
    finally:
        ray.shutdown()
    assert on_ray == reference


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "unreadable"),
        (b'{"done": {"0": ', "unreadable"),  # truncated
        (b"\xff\xfe\x00garbage", "unreadable"),  # not UTF-8
        (b"[1, 2]", "not a checkpoint"),
        (b'{"seed": 3, "key": "k", "n_chunks": 4, "done": {"0": {"counts": 1}}}', "damaged"),
        (b'{"seed": 3, "key": "k", "n_chunks": 4, "done": {"9": {}}}', "damaged"),
    ],
)
def test_a_damaged_checkpoint_is_a_mismatch_naming_the_file(tmp_path, content, words):
    """Whatever is in the file, the error is CheckpointMismatch (the CLI's one line)."""
    ckpt = tmp_path / "ckpt.json"
    ckpt.write_bytes(content)
    with pytest.raises(CheckpointMismatch, match=words) as info:
        run_chunks(lambda i, s: FunctionCounts(n_runs=1), 4, seed=3, checkpoint=ckpt, key="k")
    assert str(ckpt) in str(info.value)
    assert ckpt.read_bytes() == content  # nothing is discarded behind the user's back


def test_a_failed_save_keeps_the_previous_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    import occam.executors.sampler as sampler

    ckpt = tmp_path / "ckpt.json"
    calls: list[int] = []

    def chunk(i: int, seed: int) -> FunctionCounts:
        calls.append(i)
        return FunctionCounts(Counter({"01": 1}), n_runs=1)

    real_fsync = os.fsync
    fsyncs = [0]

    def full_disk(fd: int) -> None:
        fsyncs[0] += 1
        if fsyncs[0] == 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(sampler.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space") as info:
        run_chunks(chunk, 4, seed=3, checkpoint=ckpt, key="k")
    assert info.value.filename == str(ckpt)  # the CLI's one line names the checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.json"]
    assert sorted(json.loads(ckpt.read_text())["done"]) == ["0", "1"]
    monkeypatch.setattr(sampler.os, "fsync", real_fsync)
    messages: list[str] = []
    run_chunks(chunk, 4, seed=3, checkpoint=ckpt, key="k", log=messages.append)
    assert calls == [0, 1, 2, 2, 3]  # only the unsaved chunk is computed again
    assert messages == ["resumed ckpt.json: 2 of 4 chunks already done"]
