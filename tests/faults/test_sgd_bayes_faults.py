"""Faults in a real smoke sgd-bayes run, through the real CLI: kill -9 at random moments,
Ctrl-C, a damaged checkpoint, a full disk while checkpointing. Each resumed run gives the
same metrics.json and claims.json, byte for byte, as an uninterrupted one (the sampled
function counts feed every number there, so equal files mean equal counts)."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import occam
from occam.cli import app

SRC = Path(occam.__file__).resolve().parents[1]
# Small chunks, so a run has many checkpoints (and kills land between and inside them).
SETS = ["--set", "nets_per_chunk=20"]
ARGS = ["run", "sgd-bayes", "--profile", "smoke", "--threads", "1", "--quiet", *SETS]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}


def cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "occam", *ARGS, "--out", str(out), *extra]


def start(out: Path, *extra: str, group: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        cmd(out, *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=group,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in test_faults.toy
    )


def results(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in ("metrics.json", "claims.json")}


def checkpoints(out: Path) -> dict[str, int]:
    """Chunks done in each sampling job's checkpoint folder of the run at ``out`` (a file per
    finished chunk; none when there is none)."""
    folder = out.parent / f".{out.name}.checkpoints"
    if not folder.is_dir():
        return {}
    return {
        p.name: len(list(p.glob("chunk-*.json")))  # temporary files end in .tmp-PID-*
        for p in sorted(folder.iterdir())
        if p.is_dir()
    }


def one_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[dict[str, bytes], float]:
    """An uninterrupted run: its metrics and claims, and its wall time."""
    out = tmp_path_factory.mktemp("reference") / "res"
    t0 = time.monotonic()
    subprocess.run(cmd(out), check=True, env=ENV, stdout=subprocess.DEVNULL)
    return results(out), time.monotonic() - t0


def interrupt_when_sampling(
    out: Path, sig: int, *extra: str, group: bool = False
) -> tuple[subprocess.Popen, dict[str, int]]:
    """Start a run, send ``sig`` once a chunk is checkpointed (to its whole process group, as
    a terminal's Ctrl-C does, with ``group``); the checkpoints after it ended."""
    proc = start(out, *extra, group=group)
    deadline = time.monotonic() + 300
    while not any(checkpoints(out).values()):
        assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    proc.wait(timeout=120)
    return proc, checkpoints(out)


@pytest.mark.slow
def test_kill_dash_nine_at_ten_random_moments_then_resume_gives_the_same_results(
    reference, tmp_path
):
    """One chain of runs of the same command on one --out; run k is killed (SIGKILL) at a
    moment drawn uniformly from [0, T] (T: the uninterrupted run's wall time) and the next
    run resumes it. A run that ends before its moment is checked and the chain goes on (the
    next run then starts afresh). The last run is left to finish."""
    want, wall = reference
    out = tmp_path / "res"
    rng = random.Random(16)
    kills: list[tuple[float, dict[str, int]]] = []
    for _ in range(40):
        if len(kills) == 10:
            break
        moment = rng.uniform(0.0, wall)
        proc = start(out)
        try:
            proc.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            kills.append((moment, checkpoints(out)))
            continue
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        assert results(out) == want  # a run that resumed and finished before its moment
    assert len(kills) == 10
    final = subprocess.run(cmd(out), env=ENV, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert results(out) == want
    assert debris(tmp_path) == ["res"]  # no staging folder, old folder or checkpoints left
    print("kills (moment s, chunks checkpointed per file):", kills)
    mid_sampling = [k for k in kills if any(k[1].values())]
    assert mid_sampling, f"no kill landed after a checkpoint: {kills}"


def test_ctrl_c_keeps_the_checkpoint_and_the_rerun_resumes_it(reference, tmp_path):
    out = tmp_path / "res"
    proc, kept = interrupt_when_sampling(out, signal.SIGINT)
    assert proc.returncode == 130
    line = one_line(proc.stderr.read() if proc.stderr else "")
    assert line.startswith("interrupted") and "run the same command again to resume" in line
    assert any(kept.values())  # the finished chunks are checkpointed
    assert debris(tmp_path) == [".res.checkpoints"]  # no staging folder, no results folder
    rerun = subprocess.run(cmd(out), env=ENV, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    log = (out / "run.log").read_text()
    for name, done in kept.items():  # every kept chunk is reused, not computed again
        if done:
            assert f"resumed {name}: {done} of " in log, log
    assert results(out) == reference[0]


def test_ctrl_c_with_a_process_pool_is_one_line_and_resumes_to_the_same_results(
    reference, tmp_path
):
    """Ctrl-C reaches the pool's workers too: they leave it to the parent (no traceback of
    theirs), the pool is stopped at once, and the rerun (chunks are seeded by index, so the
    pool's scheduling does not matter) gives the in-process run's results."""
    out = tmp_path / "res"
    pool = ("--set", "executor=processes", "--set", "workers=2")
    proc, kept = interrupt_when_sampling(out, signal.SIGINT, *pool, group=True)
    assert proc.returncode == 130
    err = proc.stderr.read() if proc.stderr else ""
    # multiprocessing's resource tracker may warn about the stopped pool's semaphores; that
    # is the standard library's line, not a traceback, and is not occam's to silence
    err = "\n".join(ln for ln in err.splitlines() if "resource_tracker" not in ln)
    assert one_line(err).startswith("interrupted")
    assert any(kept.values())
    rerun = subprocess.run(cmd(out, *pool), env=ENV, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed " in (out / "run.log").read_text()
    assert results(out) == reference[0]


def test_a_truncated_checkpoint_is_one_line_naming_it_and_fresh_recovers(reference, tmp_path):
    out = tmp_path / "res"
    proc, kept = interrupt_when_sampling(out, signal.SIGKILL)
    name = next(n for n, done in kept.items() if done)
    path = next((out.parent / f".{out.name}.checkpoints" / name).glob("chunk-*.json"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    rerun = subprocess.run(cmd(out), env=ENV, capture_output=True, text=True)
    assert rerun.returncode == 2
    line = one_line(rerun.stderr)
    assert str(path) in line and "unreadable" in line and "--fresh" in line
    assert path.exists()  # nothing is discarded without --fresh
    fresh = subprocess.run(cmd(out, "--fresh"), env=ENV, capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    assert results(out) == reference[0]


class _FullDisk:
    """Stands in for the sampler's ``json``: save number ``fail_at`` writes a few bytes of the
    temporary file, then fails with ENOSPC; it remembers the file as it was then (None: none)."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at, self.saves = fail_at, 0
        self.before: tuple[Path, bytes | None] | None = None
        self.loads, self.dumps = json.loads, json.dumps

    def dump(self, obj: Any, fh: Any, **kw: Any) -> None:
        self.saves += 1
        if self.saves != self.fail_at:
            json.dump(obj, fh, **kw)
            return
        tmp = Path(fh.name)
        target = tmp.with_name(tmp.name.rsplit(".tmp-", 1)[0])
        self.before = (target, target.read_bytes() if target.exists() else None)
        fh.write(json.dumps(obj, **kw)[:40])
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_checkpointing_keeps_the_last_checkpoint(
    reference, tmp_path, monkeypatch
):
    import occam.executors.sampler as sampler

    out = tmp_path / "res"
    full = _FullDisk(fail_at=3)  # the first job's job.json, chunk 0, then chunk 1 fails
    monkeypatch.setattr(sampler, "json", full)
    runner = CliRunner()
    result = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert result.exit_code == 2
    assert full.before is not None
    path, before = full.before
    line = one_line(result.output)
    assert "disk full" in line and path.name in line
    assert path.name == "chunk-000001.json" and before is None
    assert not path.exists()  # no half-written chunk...
    saved = sorted(p.name for p in path.parent.iterdir())
    assert saved == ["chunk-000000.json", "job.json"]  # ...the chunk before it is intact...
    assert not list(path.parent.glob("*.tmp-*"))  # ...and no temporary file is left
    assert debris(tmp_path) == [".res.checkpoints"]
    monkeypatch.setattr(sampler, "json", json)
    result = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "resumed " in (out / "run.log").read_text()
    assert results(out) == reference[0]
