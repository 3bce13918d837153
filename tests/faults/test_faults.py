"""Faults and concurrency: one writer per results folder, signals, a full disk, dropped
downloads. Every case ends in one line and a documented exit code, never a traceback, and
loses nothing that had been completed."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from occam.cli import app

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("OCCAM_DATA_DIR", HERE.parents[2] / "shared" / "data"))


def _default_sigint() -> None:
    # a shell's background job (``cmd &``, nohup) starts with SIGINT ignored, and Python keeps
    # an ignored SIGINT ignored: give the run the terminal's default, as a user's shell does
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def toy(*args: str, **kw) -> subprocess.Popen:
    kw.setdefault("preexec_fn", _default_sigint)
    return subprocess.Popen(
        [sys.executable, str(HERE / "toy_cli.py"), *args, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def wait_started(out: Path, timeout: float = 60.0) -> None:
    """Wait until the run's staging folder holds its 'started' marker."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if list(out.parent.glob(f".{out.name}.partial-*/started")):
            return
        time.sleep(0.05)
    raise AssertionError("the run never started")


def one_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def test_a_second_run_on_the_same_out_is_refused_and_the_first_survives(tmp_path):
    out = tmp_path / "res"
    first = toy("run", "toy", "--profile", "smoke", "--set", "sleep_s=3", "--out", str(out))
    wait_started(out)
    second = toy("run", "toy", "--profile", "smoke", "--seed", "1", "--out", str(out))
    _, err = second.communicate(timeout=120)
    assert second.returncode == 2
    assert "being written by another occam run" in one_line(err)
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert json.loads((out / "config.json").read_text())["seed"] == 0
    assert visible(tmp_path) == ["res"]


def test_wait_queues_the_second_run_behind_the_first(tmp_path):
    out = tmp_path / "res"
    first = toy("run", "toy", "--profile", "smoke", "--set", "sleep_s=2", "--out", str(out))
    wait_started(out)
    second = toy("run", "toy", "--profile", "smoke", "--seed", "1", "--out", str(out), "--wait")
    assert second.wait(timeout=120) == 0 and first.wait(timeout=120) == 0
    assert json.loads((out / "config.json").read_text())["seed"] == 1  # the later one wins


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_signal_ends_the_run_in_one_line_and_keeps_the_old_results(tmp_path, sig, code, word):
    out = tmp_path / "res"
    done = toy("run", "toy", "--profile", "smoke", "--out", str(out))
    assert done.wait(timeout=120) == 0
    before = (out / "metrics.json").read_bytes()
    run = toy(
        "run", "toy", "--profile", "smoke", "--seed", "5", "--set", "sleep_s=60", "--out", str(out)
    )
    wait_started(out)
    run.send_signal(sig)
    _, err = run.communicate(timeout=60)
    assert run.returncode == code
    line = one_line(err)
    assert line.startswith(word) and "run the same command again to resume" in line
    assert (out / "metrics.json").read_bytes() == before  # the previous results are intact
    assert visible(tmp_path) == ["res"]  # no staging folder left behind


def test_a_full_disk_keeps_the_previous_results(toy_registry, tmp_path, monkeypatch):
    import occam.results as results

    out = tmp_path / "res"
    runner = CliRunner()
    assert (
        runner.invoke(app, ["run", "toy", "--profile", "smoke", "--out", str(out), "-q"]).exit_code
        == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real = results.write_json

    def full(path: Path, obj) -> None:
        if path.name == "claims.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, obj)

    monkeypatch.setattr(results, "write_json", full)
    result = runner.invoke(
        app, ["run", "toy", "--profile", "smoke", "--seed", "9", "--out", str(out), "-q"]
    )
    assert result.exit_code == 2
    assert "disk full" in one_line(result.output)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert visible(tmp_path) == ["res"]


def test_another_io_error_is_one_line_too(toy_registry, tmp_path, monkeypatch):
    import occam.results as results

    def failing(path: Path, obj) -> None:
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr(results, "write_json", failing)
    out = tmp_path / "res"
    result = CliRunner().invoke(app, ["run", "toy", "--profile", "smoke", "--out", str(out), "-q"])
    assert result.exit_code == 2
    line = one_line(result.output)
    assert "Input/output error" in line and "config.json" in line
    assert visible(tmp_path) == []


def test_results_left_mid_swap_by_a_dead_run_are_put_back(toy_registry, tmp_path, monkeypatch):
    """kill -9 between moving the old results aside and moving the new ones in: the next run
    on that --out puts the old folder back before anything else (here it then fails)."""
    import occam.results as results

    out = tmp_path / "res"
    runner = CliRunner()
    assert (
        runner.invoke(app, ["run", "toy", "--profile", "smoke", "--out", str(out), "-q"]).exit_code
        == 0
    )
    before = (out / "metrics.json").read_bytes()
    os.replace(out, tmp_path / ".res.old-99999")

    def full(path: Path, obj) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(results, "write_json", full)
    result = runner.invoke(app, ["run", "toy", "--profile", "smoke", "--out", str(out), "-q"])
    assert result.exit_code == 2
    assert (out / "metrics.json").read_bytes() == before
    assert visible(tmp_path) == ["res"]


class _Flaky(BaseHTTPRequestHandler):
    """Serves ../shared/data files; the first ``drops`` requests of each are cut mid-file."""

    drops = 0
    seen: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        name = self.path.strip("/")
        n = self.seen[name] = self.seen.get(name, 0) + 1
        path = SHARED / name
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if n <= self.drops:
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops mid-file
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def flaky_mirror(tmp_path, monkeypatch):
    def start(drops: int) -> type[_Flaky]:
        handler = type("Handler", (_Flaky,), {"drops": drops, "seen": {}})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setenv("OCCAM_DATA_MIRROR", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        (tmp_path / "empty").mkdir(exist_ok=True)
        monkeypatch.setenv("OCCAM_DATA_DIR", str(tmp_path / "empty"))
        monkeypatch.setenv("OCCAM_DOWNLOAD_ATTEMPTS", "3")
        servers.append(server)
        return handler

    servers: list[ThreadingHTTPServer] = []
    yield start
    for s in servers:
        s.shutdown()


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="needs ../shared/data")
def test_a_dropped_download_is_retried_and_leaves_no_partial_file(flaky_mirror, tmp_path):
    handler = flaky_mirror(drops=2)
    result = CliRunner().invoke(app, ["data", "fetch", "mnist", "--quiet"])
    assert result.exit_code == 0, result.output
    assert set(handler.seen.values()) == {3}  # two drops, then a whole file, for every file
    cached = sorted(p.name for p in (tmp_path / "cache" / "occam" / "mnist").iterdir())
    assert not [n for n in cached if n.endswith(".part") or n.startswith(".")], cached


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="needs ../shared/data")
def test_a_download_that_keeps_dropping_is_one_line_and_nothing_cached(flaky_mirror, tmp_path):
    handler = flaky_mirror(drops=99)
    result = CliRunner().invoke(app, ["data", "fetch", "mnist", "--quiet"])
    assert result.exit_code == 2
    line = one_line(result.output)
    assert "after 3 attempts" in line
    assert max(handler.seen.values()) == 3
    folder = tmp_path / "cache" / "occam" / "mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="needs ../shared/data")
def test_a_full_disk_while_downloading_is_one_line_and_nothing_cached(
    flaky_mirror, tmp_path, monkeypatch
):
    import occam.data._files as files

    flaky_mirror(drops=0)
    real_replace = os.replace

    def full(src, dst, *a, **k):
        if str(dst).endswith(".gz"):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(files.os, "replace", full)
    result = CliRunner().invoke(app, ["data", "fetch", "mnist", "--quiet"])
    assert result.exit_code == 2
    assert "No space left on device" in one_line(result.output)
    folder = tmp_path / "cache" / "occam" / "mnist"
    assert not folder.exists() or list(folder.iterdir()) == []
