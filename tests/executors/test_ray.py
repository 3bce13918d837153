"""Sampling on a real local Ray cluster, started once for the module (Ray takes 5-7 s and
about 2 GB to start): a worker killed mid-run has its chunk retried and the counts are those
of an undisturbed run; each task asks for a GPU of its own on a CUDA run; trained-net chunks
give the in-process counts."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from counting import SleepyChunk, count_chunk, visible_gpu_chunk
from sampler_job import make_chunk

import occam
from occam.executors import SamplingSession, run_chunks

ray = pytest.importorskip("ray")

HERE = Path(__file__).resolve().parent
SRC = Path(occam.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray with 2 CPUs and 2 (declared) GPUs; its workers import this folder's
    helpers and this checkout's occam."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), str(SRC), old or ""])
    try:
        ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    yield ray
    ray.shutdown()


def test_a_killed_worker_is_retried_and_the_counts_equal_an_undisturbed_run(cluster, tmp_path):
    """Eight chunks of 1 s on 2 CPUs; the worker process running the first chunk to start is
    killed (SIGKILL) while it sleeps. Ray reruns that chunk on another worker; the run ends
    normally, and its counts (and checkpoint) equal the in-process run's."""
    n_chunks, seed = 8, 21
    reference = run_chunks(count_chunk, n_chunks, seed)
    started = tmp_path / "started"
    started.mkdir()
    victim: list[tuple[int, int]] = []

    def kill_first_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            files = sorted(started.iterdir(), key=lambda p: p.stat().st_mtime)
            if files:
                _, chunk, pid = files[0].name.split("-")
                assert int(pid) != os.getpid()  # a Ray worker, never this test
                os.kill(int(pid), signal.SIGKILL)
                victim.append((int(chunk), int(pid)))
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_first_worker)
    killer.start()
    t0 = time.monotonic()
    counts = run_chunks(
        SleepyChunk(str(started), sleep_s=1.0),
        n_chunks,
        seed,
        checkpoint=tmp_path / "ckpt",
        key="k",
        executor="ray",
        session=SamplingSession(),
    )
    killer.join()
    print(f"Ray run with a killed worker: {time.monotonic() - t0:.1f} s")
    assert victim, "no worker was killed"
    chunk, pid = victim[0]
    runs = [p.name for p in started.iterdir() if p.name.startswith(f"started-{chunk}-")]
    assert len(runs) >= 2 and f"started-{chunk}-{pid}" in runs  # killed, then retried
    assert counts == reference
    assert counts.n_runs == 8 * n_chunks  # nothing lost, nothing counted twice


def test_each_task_gets_a_gpu_of_its_own_on_a_cuda_run(cluster):
    """With ``gpus=1`` (a CUDA run) each task holds one of the cluster's 2 GPUs: Ray sets its
    CUDA_VISIBLE_DEVICES to that GPU alone, so the chunk's "cuda" is its own device."""
    counts = run_chunks(visible_gpu_chunk, 4, 0, executor="ray", session=SamplingSession(gpus=1))
    assert set(counts.counts) <= {"0", "1"} and counts.n_runs == 4
    without = run_chunks(visible_gpu_chunk, 1, 0, executor="ray", session=SamplingSession())
    assert set(without.counts) - {"0", "1"}  # a CPU task is given no GPU


def test_trained_nets_on_ray_equal_in_process(cluster, tmp_path):
    n_chunks, seed = 3, 11
    reference = run_chunks(make_chunk(), n_chunks, seed)
    session = SamplingSession()
    on_ray = run_chunks(
        make_chunk(), n_chunks, seed, executor="ray", checkpoint=tmp_path / "c", session=session
    )
    session.close()
    assert on_ray == reference
    assert cluster.is_initialized()  # a session never stops a Ray it did not start
    assert Counter(on_ray.counts) == reference.counts
