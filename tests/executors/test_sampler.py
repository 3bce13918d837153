"""Chunked sampling: mergeable counts, scheduling-independent seeds, a checkpoint file per
chunk (kill -9 resume, damage, full disk), slices as separate processes and their merge, the
CPUs a job may use, and Ray's lifetime and task options (with a stand-in Ray; the real one is
in test_ray.py)."""

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
from counting import count_chunk
from sampler_job import make_chunk

import occam
from occam.executors import (
    CheckpointMismatch,
    ExecutorError,
    FunctionCounts,
    MissingChunks,
    SamplingSession,
    allocated_cpus,
    chunk_seed,
    run_chunks,
)
from occam.executors.sampler import chunk_ranges
from occam.executors.session import check_ray_address

HERE = Path(__file__).resolve().parent
# this checkout's occam first (not whatever copy the interpreter has installed)
SRC = Path(occam.__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(SRC)])}


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


def chunk_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("chunk-*.json"))


def test_checkpoint_is_a_file_per_chunk_skips_done_chunks_and_rejects_other_jobs(tmp_path):
    ckpt = tmp_path / "job"
    calls: list[int] = []

    def fake(i: int, seed: int) -> FunctionCounts:
        calls.append(i)
        return FunctionCounts(Counter({f"{seed % 4:02b}": 1}), n_runs=1)

    first = run_chunks(fake, 4, seed=3, checkpoint=ckpt, key="k")
    assert calls == [0, 1, 2, 3]
    assert sorted(p.name for p in ckpt.iterdir()) == [*chunk_files(ckpt), "job.json"]
    assert chunk_files(ckpt) == [f"chunk-00000{i}.json" for i in range(4)]
    again = run_chunks(fake, 4, seed=3, checkpoint=ckpt, key="k")
    assert calls == [0, 1, 2, 3] and again == first
    with pytest.raises(CheckpointMismatch, match="another job"):
        run_chunks(fake, 4, seed=4, checkpoint=ckpt, key="k")
    with pytest.raises(CheckpointMismatch, match="another job"):
        run_chunks(fake, 4, seed=3, checkpoint=ckpt, key="other")
    with pytest.raises(CheckpointMismatch, match="another job"):
        run_chunks(fake, 5, seed=3, checkpoint=ckpt, key="k")


def test_an_old_single_file_checkpoint_is_a_clear_error(tmp_path):
    old = tmp_path / "job.json"
    old.write_text('{"seed": 3, "key": "k", "n_chunks": 4, "done": {}}')
    with pytest.raises(CheckpointMismatch, match="single-file checkpoint of an older occam"):
        run_chunks(count_chunk, 4, seed=3, checkpoint=old, key="k")
    assert old.is_file()


def test_kill_dash_nine_then_resume_equals_uninterrupted(tmp_path):
    n_chunks, seed = 8, 7
    reference = run_chunks(make_chunk(), n_chunks, seed)
    ckpt = tmp_path / "ckpt"
    cmd = [sys.executable, str(HERE / "sampler_job.py"), str(ckpt), str(n_chunks), str(seed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=ENV)
    deadline = time.time() + 120
    while time.time() < deadline:
        if len(chunk_files(ckpt)) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = len(chunk_files(ckpt))
    assert 2 <= done_at_kill < n_chunks, "the job finished before it could be killed"
    res = subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=True)
    resumed = FunctionCounts.from_dict(json.loads(res.stdout))
    assert resumed == reference
    assert resumed.n_runs == n_chunks * 12  # nothing lost, nothing counted twice


def test_two_slices_as_two_processes_at_once_merge_to_the_uninterrupted_counts(tmp_path):
    """Slices 0:3 and 3:99 of a 6-chunk job run as separate processes on one checkpoint
    folder at the same time; a merge (every chunk required, none computed) then gives the
    counts of one in-process run, and a slice past the end computes nothing."""
    n_chunks, seed = 6, 13
    reference = run_chunks(count_chunk, n_chunks, seed)
    ckpt = tmp_path / "ckpt"
    cmd = [sys.executable, str(HERE / "counting.py"), str(ckpt), str(n_chunks), str(seed)]
    procs = [
        subprocess.Popen([*cmd, span], env=ENV, stdout=subprocess.PIPE, text=True)
        for span in ("0:3", "3:99")
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert [int(o) for o in outs] == [3, 3]  # each computed its own chunks, none twice
    assert chunk_files(ckpt) == [f"chunk-00000{i}.json" for i in range(n_chunks)]
    session = SamplingSession(require_complete=True)
    merged = run_chunks(
        lambda i, s: pytest.fail("a merge computes nothing"),
        n_chunks,
        seed,
        checkpoint=ckpt,
        key="k",
        session=session,
    )
    assert merged == reference
    assert [(j.present, j.computed, j.missing) for j in session.jobs] == [(6, 0, [])]
    past = SamplingSession(chunks=(9, 12))
    run_chunks(count_chunk, n_chunks, seed, checkpoint=ckpt, key="k", session=past)
    assert past.jobs[0].computed == 0


def test_a_slice_computes_its_chunks_and_a_merge_names_what_is_missing(tmp_path):
    ckpt = tmp_path / "job"
    calls: list[int] = []

    def chunk(i: int, seed: int) -> FunctionCounts:
        calls.append(i)
        return count_chunk(i, seed)

    part = run_chunks(chunk, 6, 5, checkpoint=ckpt, key="k", session=SamplingSession(chunks=(1, 3)))
    assert calls == [1, 2]
    assert part == count_chunk(1, chunk_seed(5, 1)) + count_chunk(2, chunk_seed(5, 2))
    check = SamplingSession(check=True)
    run_chunks(chunk, 6, 5, checkpoint=ckpt, key="k", session=check)
    assert calls == [1, 2] and check.jobs[0].missing == [0, 3, 4, 5]
    with pytest.raises(MissingChunks, match=r"4 of 6 chunks of job .*chunks 0, 3-5"):
        run_chunks(
            chunk, 6, 5, checkpoint=ckpt, key="k", session=SamplingSession(require_complete=True)
        )
    assert calls == [1, 2]
    with pytest.raises(ValueError, match="needs a checkpoint"):
        run_chunks(chunk, 6, 5, session=SamplingSession(chunks=(0, 1)))
    assert chunk_ranges([7, 0, 1, 2, 5, 8]) == "0-2, 5, 7-8"


def test_process_pool_counts_equal_in_process():
    reference = run_chunks(make_chunk(), 3, 5)
    assert run_chunks(make_chunk(), 3, 5, executor="processes", workers=2) == reference


HEADER = {"format": 2, "seed": 3, "key": "k", "n_chunks": 4}
COUNTS = {"counts": {"01": 1}, "n_runs": 1, "n_unfitted": 0, "epochs_sum": 0.0}


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("chunk-000000.json", b"", "unreadable"),
        ("chunk-000000.json", b'{"chunk": 0, "counts": ', "unreadable"),  # truncated
        ("chunk-000000.json", b"\xff\xfe\x00garbage", "unreadable"),  # not UTF-8
        ("chunk-000000.json", b"[1, 2]", "not a checkpoint"),
        (
            "chunk-000000.json",
            json.dumps({**HEADER, "seed": 4, "chunk": 0, "counts": COUNTS}).encode(),
            "another job",
        ),
        (
            "chunk-000000.json",
            json.dumps({**HEADER, "chunk": 0, "counts": {"counts": 1}}).encode(),
            "damaged",
        ),
        (
            "chunk-000009.json",
            json.dumps({**HEADER, "chunk": 9, "counts": COUNTS}).encode(),
            "damaged",
        ),
        (
            "chunk-000001.json",
            json.dumps({**HEADER, "chunk": 2, "counts": COUNTS}).encode(),
            "damaged",
        ),
        ("job.json", b'{"format": 2, "seed": ', "unreadable"),
    ],
)
def test_a_damaged_checkpoint_is_a_mismatch_naming_the_file(tmp_path, name, content, words):
    """Whatever is in the files, the error is CheckpointMismatch (the CLI's one line)."""
    ckpt = tmp_path / "job"
    ckpt.mkdir()
    (ckpt / "job.json").write_text(json.dumps(HEADER))
    path = ckpt / name
    path.write_bytes(content)
    with pytest.raises(CheckpointMismatch, match=words) as info:
        run_chunks(lambda i, s: FunctionCounts(n_runs=1), 4, seed=3, checkpoint=ckpt, key="k")
    assert str(path) in str(info.value)
    assert path.read_bytes() == content  # nothing is discarded behind the user's back


def test_a_failed_save_keeps_the_saved_chunks_and_no_temporary_file(tmp_path, monkeypatch):
    import occam.executors.sampler as sampler

    ckpt = tmp_path / "job"
    calls: list[int] = []

    def chunk(i: int, seed: int) -> FunctionCounts:
        calls.append(i)
        return FunctionCounts(Counter({"01": 1}), n_runs=1)

    real_fsync = os.fsync
    fsyncs = [0]

    def full_disk(fd: int) -> None:
        fsyncs[0] += 1
        if fsyncs[0] == 4:  # job.json, chunk 0, chunk 1, then chunk 2's save fails
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(sampler.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space") as info:
        run_chunks(chunk, 4, seed=3, checkpoint=ckpt, key="k")
    assert info.value.filename == str(ckpt / "chunk-000002.json")  # the CLI's line names it
    assert sorted(p.name for p in ckpt.iterdir()) == [
        "chunk-000000.json",
        "chunk-000001.json",
        "job.json",
    ]
    monkeypatch.setattr(sampler.os, "fsync", real_fsync)
    messages: list[str] = []
    run_chunks(chunk, 4, seed=3, checkpoint=ckpt, key="k", log=messages.append)
    assert calls == [0, 1, 2, 2, 3]  # only the unsaved chunk is computed again
    assert messages == ["resumed job: 2 of 4 chunks already done"]


@pytest.mark.parametrize(
    ("affinity", "env", "want"),
    [
        (16, {}, 16),
        (16, {"SLURM_CPUS_PER_TASK": "4"}, 4),
        (16, {"SLURM_CPUS_ON_NODE": "8"}, 8),
        (16, {"SLURM_CPUS_PER_TASK": "4", "SLURM_CPUS_ON_NODE": "8"}, 4),
        (2, {"SLURM_CPUS_PER_TASK": "4"}, 2),  # a tighter affinity mask wins
        (16, {"SLURM_CPUS_PER_TASK": "", "SLURM_CPUS_ON_NODE": "2(x3)"}, 16),  # unparsable
    ],
)
def test_allocated_cpus_respects_affinity_and_slurm(monkeypatch, affinity, env, want):
    import occam.executors.session as session

    monkeypatch.setattr(session.os, "sched_getaffinity", lambda pid: set(range(affinity)))
    for var in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert allocated_cpus() == want
    assert allocated_cpus(env) == want


class FakeRay:
    """Stands in for ``ray``: runs tasks at once, records init, put, task options, shutdown."""

    class Ref:
        def __init__(self, value: object) -> None:
            self.value = value

    def __init__(self, initialized: bool = False) -> None:
        self.initialized = initialized
        self.inits: list[dict] = []
        self.puts: list[object] = []
        self.options: list[dict] = []
        self.shutdowns = 0

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs: object) -> None:
        self.inits.append(kwargs)
        self.initialized = True

    def shutdown(self) -> None:
        self.shutdowns += 1
        self.initialized = False

    def put(self, obj: object) -> Ref:
        self.puts.append(obj)
        return self.Ref(obj)

    def remote(self, **options: object):
        self.options.append(options)
        ref_type = self.Ref

        class Remote:
            def __init__(self, fn) -> None:
                self.fn = fn

            def remote(self, fn_ref, *args):
                assert isinstance(fn_ref, ref_type), "the function must travel as a reference"
                return ref_type(self.fn(fn_ref.value, *args))

        return Remote

    def wait(self, refs: list, num_returns: int = 1):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref: Ref) -> object:
        return ref.value

    def cancel(self, ref: Ref, force: bool = False) -> None:
        pass


def test_ray_starts_once_per_run_puts_each_job_once_and_asks_a_gpu_on_cuda(tmp_path, monkeypatch):
    """Through the run's lifecycle (run_study): one ray.init for both sampling jobs of the
    run, its CPUs those allocated; the task function put once per job; tasks with a CPU,
    retries, and a GPU each on a CUDA run; shut down at the end. A Ray already started by the
    caller is used, not restarted or stopped."""
    import torch
    from chunk_study import STUDY, ChunkConfig

    from occam.results import run_study

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    reference = run_study(
        STUDY,
        ChunkConfig(),
        profile="smoke",
        seed=2,
        out=tmp_path / "a",
        device=torch.device("cpu"),
    )
    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    cfg = ChunkConfig(executor="ray")
    on_ray = run_study(
        STUDY, cfg, profile="smoke", seed=2, out=tmp_path / "b", device=torch.device("cuda")
    )
    assert on_ray.metrics == reference.metrics
    assert len(fake.inits) == 1 and fake.shutdowns == 1 and not fake.initialized
    assert fake.inits[0]["num_cpus"] == allocated_cpus()
    assert len(fake.puts) == 2  # one per job, not one per chunk
    assert fake.options == [{"num_cpus": 1, "num_gpus": 1.0, "max_retries": 3}] * 2
    already = FakeRay(initialized=True)
    monkeypatch.setitem(sys.modules, "ray", already)
    run_study(STUDY, cfg, profile="smoke", seed=2, out=tmp_path / "c", device=torch.device("cpu"))
    assert already.inits == [] and already.shutdowns == 0
    assert already.options == [{"num_cpus": 1, "max_retries": 3}] * 2


def test_missing_or_unreachable_ray_is_an_executor_error(tmp_path, monkeypatch):
    import socket

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ExecutorError, match=r"needs Ray: pip install 'occam-lab\[ray\]'"):
        run_chunks(count_chunk, 2, 0, executor="ray")
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(ExecutorError, match=f"127.0.0.1:{port}: no Ray cluster answers"):
        check_ray_address(f"127.0.0.1:{port}")
    assert time.monotonic() - t0 < 5
    with pytest.raises(ExecutorError, match="expected HOST:PORT"):
        check_ray_address("nonsense")
