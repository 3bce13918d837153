"""The command line: one-line errors with exit code 2 and nothing left behind; results folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from occam.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def error_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """What a run left in ``folder``, apart from the (empty) one-writer lock files."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "nosuch"], "unknown study 'nosuch'"),
        (["run", "toy", "--profile", "huge"], "unknown profile 'huge'"),
        (["run", "toy", "--set", "nope=1"], "unknown --set key 'nope'"),
        (["run", "toy", "--set", "n=ten"], "--set n=ten: not a valid int"),
        (["run", "toy", "--set", "n"], "expected key=value"),
        (["run", "toy", "--device", "tpu"], "--device tpu"),
    ],
)
def test_bad_input_is_one_line_exit_2(toy_registry, tmp_path, args, fragment):
    out = tmp_path / "res"
    result = invoke(*args, "--out", str(out), "--quiet")
    assert result.exit_code == 2, result.output
    assert fragment in error_line(result)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_unwritable_output_folder(toy_registry, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        result = invoke("run", "toy", "--out", str(locked / "res"), "--quiet")
        assert result.exit_code == 2
        assert "cannot write results" in error_line(result)
    finally:
        locked.chmod(0o700)


def test_read_only_file_system(toy_registry):
    result = invoke("run", "toy", "--out", "/proc/occam-results", "--quiet")
    assert result.exit_code == 2
    assert "cannot write results" in error_line(result)
    assert not Path("/proc/occam-results").exists()


def test_output_is_a_file(toy_registry, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = invoke("run", "toy", "--out", str(target), "--quiet")
    assert result.exit_code == 2
    assert "not a folder" in error_line(result)


def test_run_writes_a_complete_folder(toy_registry, tmp_path):
    out = tmp_path / "res"
    result = invoke("run", "toy", "--profile", "smoke", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    names = set(leftovers(out))
    assert {"config.json", "metrics.json", "claims.json", "figures", "run.log"} <= names
    assert (out / "figures" / "histogram.png").stat().st_size > 0
    assert (out / "figures" / "histogram.svg").stat().st_size > 0
    assert (out / "figures" / "histogram.pdf").read_bytes().startswith(b"%PDF")
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 0 and config["profile"] == "smoke"
    assert config["config"]["n"] == 10 and config["occam_version"]
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert claims[0]["id"] == "toy.mean_small" and claims[0]["verdict"] in ("holds", "fails")
    assert leftovers(tmp_path) == ["res"]


def test_interrupted_run_leaves_nothing_that_looks_complete(toy_registry, tmp_path):
    out = tmp_path / "res"
    result = invoke("run", "toy", "--set", "fail_midway=true", "--out", str(out), "--quiet")
    assert result.exit_code != 0
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_rerun_replaces_previous_results(toy_registry, tmp_path):
    out = tmp_path / "res"
    assert invoke("run", "toy", "--out", str(out), "--quiet", "--set", "n=7").exit_code == 0
    assert invoke("run", "toy", "--out", str(out), "--quiet", "--set", "n=9").exit_code == 0
    assert json.loads((out / "metrics.json").read_text())["n"] == 9
    assert leftovers(tmp_path) == ["res"]


def test_same_seed_same_bytes_and_other_seed_differs(toy_registry, tmp_path):
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert (
            invoke("run", "toy", "--seed", seed, "--out", str(tmp_path / name), "-q").exit_code == 0
        )
    read = lambda n, f: (tmp_path / n / f).read_bytes()  # noqa: E731
    for f in ("metrics.json", "claims.json"):
        assert read("a", f) == read("b", f)
    assert read("a", "metrics.json") != read("c", "metrics.json")


def test_reproduce_runs_everything_and_reports(toy_registry, tmp_path):
    result = invoke("reproduce", "--profile", "smoke", "--out", str(tmp_path), "--quiet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "toy" / "claims.json").exists()
    page = (tmp_path / "report.html").read_text()
    assert "id='claims'" in page and "toy.mean_small" in page


def test_report_on_empty_folder_is_an_error(tmp_path):
    result = invoke("report", str(tmp_path))
    assert result.exit_code == 2
    assert "no results under" in error_line(result)


def test_list_shows_claims_and_profiles(toy_registry):
    result = invoke("list")
    assert result.exit_code == 0
    assert "toy.mean_small" in result.output and "smoke, quick, full" in result.output


def test_python_dash_m_and_help():
    res = subprocess.run(
        [sys.executable, "-m", "occam", "run", "--help"], capture_output=True, text=True
    )
    assert res.returncode == 0
    for option in ("--profile", "--seed", "--out", "--device", "--set", "--quiet"):
        assert option in res.stdout


def test_data_verify_and_errors(tmp_path):
    from conftest import SHARED_DATA

    ok = invoke("--data-dir", str(SHARED_DATA), "data", "verify", "mnist")
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("ok") >= 4
    unknown = invoke("data", "verify", "nope")
    assert unknown.exit_code == 2 and "unknown data set 'nope'" in error_line(unknown)
    (tmp_path / "mnist").mkdir()
    bad = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(b"not a gzip file")
    corrupt = invoke("--data-dir", str(tmp_path), "data", "verify", "mnist")
    assert corrupt.exit_code == 2
    assert "t10k-labels-idx1-ubyte.gz" in corrupt.output


def test_config_command_lists_every_knob(toy_registry):
    result = invoke("config", "toy", "--profile", "smoke")
    assert result.exit_code == 0, result.output
    for name in ("n", "scale", "kind", "widths", "replicates"):
        assert name in result.output
    assert "sample size" in result.output and "> 0" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "toy", "--set", "n=0"], "n=0: must be > 0"),
        (["run", "toy", "--set", "n=-5"], "n=-5: must be > 0"),
        (["run", "toy", "--set", "scale=nan"], "must be a finite number"),
        (["run", "toy", "--set", "widths="], "widths=(): must be non-empty"),
        (["run"], "missing STUDY"),
        (["config", "toy", "--profile", "huge"], "unknown profile 'huge'"),
    ],
)
def test_bad_values_are_one_line_exit_2(toy_registry, tmp_path, args, fragment):
    result = invoke(
        *args, *(["--out", str(tmp_path / "res"), "--quiet"] if args[0] == "run" else [])
    )
    assert result.exit_code == 2, result.output
    assert fragment in error_line(result)
    assert leftovers(tmp_path) == []


def test_run_with_saved_config_reruns_exactly(toy_registry, tmp_path):
    first = invoke(
        "run",
        "toy",
        "--profile",
        "smoke",
        "--seed",
        "7",
        "--set",
        "n=33",
        "--out",
        str(tmp_path / "a"),
        "--quiet",
    )
    assert first.exit_code == 0, first.output
    again = invoke(
        "run",
        "--config",
        str(tmp_path / "a" / "config.json"),
        "--out",
        str(tmp_path / "b"),
        "--quiet",
    )
    assert again.exit_code == 0, again.output
    for f in ("metrics.json", "claims.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    saved = json.loads((tmp_path / "b" / "config.json").read_text())
    assert saved["seed"] == 7 and saved["config"]["n"] == 33 and saved["profile"] == "smoke"


@pytest.mark.parametrize(
    "content", ["{not json", '{"study": "toy"}', '{"study": "toy", "config": {"n": -1}}']
)
def test_bad_saved_config_is_one_line_exit_2(toy_registry, tmp_path, content):
    path = tmp_path / "config.json"
    path.write_text(content)
    result = invoke("run", "--config", str(path), "--out", str(tmp_path / "res"), "--quiet")
    assert result.exit_code == 2, result.output
    assert "--config" in error_line(result)
    assert not (tmp_path / "res").exists()


def test_claims_json_has_interval_replicates_and_control(toy_registry, tmp_path):
    result = invoke("run", "toy", "--profile", "smoke", "--out", str(tmp_path / "r"), "--quiet")
    assert result.exit_code == 0, result.output
    (claim,) = json.loads((tmp_path / "r" / "claims.json").read_text())["claims"]
    assert len(claim["replicates"]) == 3 and len(claim["interval"]) == 2
    assert claim["interval"][0] <= claim["measured"] <= claim["interval"][1]
    assert claim["control"]["name"] == "shifted samples"
    assert claim["control"]["verdict"] == "fails" and claim["verdict"] == "holds"
    timings = json.loads((tmp_path / "r" / "timings.json").read_text())
    assert "sample" in timings


def test_json_is_strict_and_csv_keeps_full_precision(tmp_path):
    from occam.results import write_json, write_table

    write_json(tmp_path / "m.json", {"a": float("inf"), "b": [1.0, float("nan")], "c": 0.1})
    text = (tmp_path / "m.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    loaded = json.loads(text)
    assert loaded["a"] is None and loaded["b"] == [1.0, None] and loaded["c"] == 0.1
    assert loaded["nonfinite"] == {"a": "inf", "b.1": "nan"}
    write_table(tmp_path / "t.csv", [{"x": 1 / 3, "y": 2}])
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == f"{1 / 3!r},2"


def test_every_claim_of_every_study_names_a_scientific_control():
    from occam import studies

    for name in studies.names():
        study = studies.get(name)
        assert study.claims, name
        for spec in study.claims:
            assert spec.control is not None, spec.id
            assert spec.control.name and len(spec.control.description) > 40, spec.id
            assert spec.replicate, spec.id
        for profile in ("quick", "full"):
            reps = getattr(study.profiles[profile], "replicates", None)
            assert reps is not None and reps >= (3 if profile == "quick" else 5), (name, profile)


@pytest.mark.parametrize(
    ("study", "setting"),
    [
        ("sgd-bayes", "n_runs=-5"),
        ("sgd-bayes", "n_runs=0"),
        ("sgd-bayes", "lr=nan"),
        ("sgd-bayes", "sigma_w=-1"),
        ("deep-cheap", "train_widths="),
        ("meta-bayes", "bandit_horizon=0"),
        ("meta-bayes", "hidden=0"),
        ("imitation", "alphas=2"),
        ("imitation", "alphas=-1"),
    ],
)
def test_the_bad_values_from_the_field_are_one_line_exit_2(tmp_path, study, setting):
    out = tmp_path / "res"
    result = invoke("run", study, "--set", setting, "--out", str(out), "--quiet")
    assert result.exit_code == 2, result.output
    line = error_line(result)
    assert setting.split("=")[0] in line and "Traceback" not in result.output
    assert not out.exists() and leftovers(tmp_path) == []


def test_a_bug_is_one_line_exit_1_with_the_traceback_in_a_file(tmp_path):
    toy_cli = Path(__file__).resolve().parent / "faults" / "toy_cli.py"
    out = tmp_path / "res"
    env = {k: v for k, v in os.environ.items() if k != "OCCAM_DEBUG"}
    res = subprocess.run(
        [
            sys.executable,
            str(toy_cli),
            "run",
            "toy",
            "--profile",
            "smoke",
            "--set",
            "fail_midway=true",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert res.returncode == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in res.stderr
    assert lines[0].startswith("internal error: RuntimeError: interrupted on purpose")
    log = Path(" ".join(lines).split("the traceback is in ")[1].split(";")[0])
    assert "Traceback" in log.read_text() and "interrupted on purpose" in log.read_text()
    log.unlink()
    assert not out.exists() and leftovers(tmp_path) == []


# ------------------------------------------------- batch runs: slices, merge, Ray's errors
SMOKE = ["sgd-bayes", "--profile", "smoke", "--quiet", "--threads", "1"]


def test_slices_as_separate_processes_merge_to_the_results_of_one_run(tmp_path):
    """sgd-bayes smoke with 50 nets per chunk: 6 sampling jobs of 2 or 4 chunks. Slice 0:1
    (here, in-process); a merge then names what is missing (one line, exit 2, no results);
    slices 1:2 and 2:9 run at the same time as two processes on the same --out; the merge
    then writes metrics, claims and the function-count table byte-identical to one plain run."""
    src = Path(__file__).resolve().parents[1] / "src"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp_path / "batch"
    args = ["run", *SMOKE, "--set", "nets_per_chunk=50", "--out", str(out)]
    first = invoke(*args, "--chunks", "0:1")
    assert first.exit_code == 0, first.output
    line = " ".join(first.output.split())
    assert line.startswith("slice 0:1 done (6 chunks computed in 6 sampling jobs of 2 to 4 ")
    assert line.endswith(f"when all slices are done: occam merge {out}")
    early = invoke("merge", str(out), "--quiet")
    assert early.exit_code == 2
    assert "10 of 16 chunks are missing, in 6 of 6 sampling jobs" in error_line(early)
    assert not out.exists()
    cmd = [sys.executable, "-m", "occam", *args]
    procs = [
        subprocess.Popen([*cmd, "--chunks", span], env=env, stdout=subprocess.PIPE, text=True)
        for span in ("1:2", "2:9")
    ]
    lines = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], lines
    assert not out.exists()
    merged = invoke("merge", str(out), "--quiet")
    assert merged.exit_code == 0, merged.output
    assert "merged from its slices" in merged.output
    plain = invoke("run", *SMOKE, "--set", "nets_per_chunk=50", "--out", str(tmp_path / "one"))
    assert plain.exit_code == 0, plain.output
    for name in ("metrics.json", "claims.json", "tables/functions_digits.csv"):
        assert (out / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
    assert leftovers(tmp_path) == ["batch", "one"]  # the checkpoints are gone


def test_pb_of_a_run_sampled_in_another_process_equals_a_plain_run(tmp_path):
    """P_SGD sampled in one process (every chunk, a process pool), P_B computed by `occam pb`
    in another: the function table (counts and log P_B) and each draw's summary equal one
    plain run's (in-process sampling); the checkpoints stay, and `occam merge` still
    finishes the run. A missing chunk, a missing or corrupt run is one line, exit 2, and
    leaves no results folder."""
    from occam.results import checkpoint_folder

    src = Path(__file__).resolve().parents[1] / "src"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp_path / "sampled"
    args = ["run", *SMOKE, "--set", "nets_per_chunk=50", "--out", str(out)]
    sample = [*args, "--chunks", "0:1", "--executor", "processes", "--set", "workers=2"]
    first = subprocess.run(
        [sys.executable, "-m", "occam", *sample], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    missing = invoke("pb", str(out), "--quiet")  # chunks 1.. of each job are not there yet
    assert missing.exit_code == 2
    assert "are not checkpointed" in error_line(missing)
    assert leftovers(tmp_path) == [".sampled.checkpoints"]
    rest = subprocess.run(
        [sys.executable, "-m", "occam", *args, "--chunks", "1:9", "--executor", "processes"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert rest.returncode == 0, rest.stderr
    pb = subprocess.run(
        [sys.executable, "-m", "occam", "pb", str(out), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert pb.returncode == 0, pb.stderr
    assert f"in {tmp_path / 'sampled-pb'}" in " ".join(pb.stdout.split())
    plain = invoke("run", *SMOKE, "--set", "nets_per_chunk=50", "--out", str(tmp_path / "one"))
    assert plain.exit_code == 0, plain.output
    table = "tables/functions_digits.csv"
    assert (tmp_path / "sampled-pb" / table).read_bytes() == (tmp_path / "one" / table).read_bytes()
    mine = json.loads((tmp_path / "sampled-pb" / "metrics.json").read_text())["datasets"]
    theirs = json.loads((tmp_path / "one" / "metrics.json").read_text())["datasets"]
    assert mine.keys() == theirs.keys() == {"digits"}
    reps = theirs["digits"]["replicates"]
    assert [r["main"] for r in mine["digits"]["replicates"]] == [r["main"] for r in reps]
    assert len(reps) >= 2 and (tmp_path / "sampled-pb" / "tables/functions_digits_r1.csv").exists()
    assert checkpoint_folder(out).is_dir()  # left for the merge
    merged = invoke("merge", str(out), "--quiet")
    assert merged.exit_code == 0, merged.output
    assert (out / "metrics.json").read_bytes() == (tmp_path / "one" / "metrics.json").read_bytes()
    # no run there (the merge removed the checkpoints), a corrupt run.json: one line, exit 2
    gone = invoke("pb", str(out), "--out", str(tmp_path / "x"))
    assert gone.exit_code == 2 and "no sampled run there" in error_line(gone)
    checkpoint_folder(tmp_path / "bad").mkdir()
    (checkpoint_folder(tmp_path / "bad") / "run.json").write_text("{not json")
    bad = invoke("pb", str(tmp_path / "bad"))
    assert bad.exit_code == 2 and "not a saved occam config.json" in error_line(bad)
    assert not (tmp_path / "x").exists() and not (tmp_path / "bad-pb").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "toy", "--chunks", "0:4"], "--chunks: toy does not sample in chunks"),
        (["run", "toy", "--executor", "ray"], "--executor: toy runs no sampling jobs"),
        (["run", "sgd-bayes", "--chunks", "4:2"], "--chunks 4:2: expected I:J with 0 <= I < J"),
        (["run", "sgd-bayes", "--chunks", "x"], "--chunks x: expected I:J"),
        (["run", "sgd-bayes", "--chunks", "0:2", "--fresh"], "--chunks with --fresh"),
        (["run", "sgd-bayes", "--executor", "gpu"], "--set executor=gpu: expected one of"),
    ],
)
def test_bad_batch_options_are_one_line_exit_2(toy_registry, monkeypatch, tmp_path, args, fragment):
    from occam import studies

    monkeypatch.setattr(
        studies, "STUDY_MODULES", {"toy": "toy_study", "sgd-bayes": "occam.sgd_bayes.study"}
    )
    out = tmp_path / "res"
    result = invoke(*args, "--profile", "smoke", "--out", str(out), "--quiet")
    assert result.exit_code == 2, result.output
    assert fragment in error_line(result)
    assert leftovers(tmp_path) == []


def test_merge_without_slices_is_one_line_exit_2(tmp_path):
    result = invoke("merge", str(tmp_path / "res"))
    assert result.exit_code == 2
    assert "no slices to merge" in error_line(result)


def test_missing_or_unreachable_ray_is_one_line_exit_2(tmp_path, monkeypatch):
    """Checked before any work: no Ray installed, or nothing at --ray-address (answered at
    once, not after Ray's own tens of seconds of retries)."""
    import socket
    import time

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "res"
    t0 = time.monotonic()
    result = invoke(
        "run", *SMOKE, "--executor", "ray", "--ray-address", f"127.0.0.1:{port}", "--out", str(out)
    )
    assert result.exit_code == 2
    assert f"--ray-address 127.0.0.1:{port}: no Ray cluster answers there" in error_line(result)
    assert time.monotonic() - t0 < 10
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    result = invoke("run", *SMOKE, "--executor", "ray", "--out", str(out))
    assert result.exit_code == 2
    assert error_line(result) == ("error: --executor ray needs Ray: pip install 'occam-lab[ray]'")
    assert leftovers(tmp_path) == []
