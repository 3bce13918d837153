"""Runs as data: occam.load_runs, occam compare and occam sweep."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from occam.cli import app
from occam.runs import load_runs, parse_over, point_name, sweep_points

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [*args, "--quiet"])


@pytest.fixture
def two_runs(toy_registry, tmp_path):
    for seed, name in ((0, "a"), (1, "b")):
        assert (
            run(
                "run",
                "toy",
                "--profile",
                "smoke",
                "--seed",
                str(seed),
                "--out",
                str(tmp_path / name),
            ).exit_code
            == 0
        )
    return tmp_path


def test_load_runs_has_a_row_per_claim_and_metric(two_runs):
    df = load_runs([two_runs])
    claims = df[df.kind == "claim"]
    assert sorted(claims.run.map(lambda p: p[-1])) == ["a", "b"]
    assert set(claims.name) == {"toy.mean_small"}
    assert (claims.lo <= claims.value).all() and (claims.value <= claims.hi).all()
    assert set(claims.control_verdict) == {"fails"} and set(claims.n) == {3}
    metrics = df[df.kind == "metric"]
    assert {"mean", "n", "means.0", "means.2"} <= set(metrics.name)
    mean_a = json.loads((two_runs / "a" / "metrics.json").read_text())["mean"]
    assert metrics[(metrics.name == "mean") & metrics.run.str.endswith("a")].value.item() == mean_a
    assert set(df["config.n"]) == {10}


def test_compare_flags_what_differs(two_runs):
    same = runner.invoke(app, ["compare", str(two_runs / "a"), str(two_runs / "a")])
    assert same.exit_code == 0 and "0 of 1 claims differ" in same.output
    assert "0 metrics differ" in same.output
    diff = runner.invoke(app, ["compare", str(two_runs / "a"), str(two_runs / "b")])
    assert diff.exit_code == 0 and "metrics differ" in diff.output and "mean" in diff.output


def test_compare_bad_folder_is_one_line(tmp_path):
    res = runner.invoke(app, ["compare", str(tmp_path / "nope"), str(tmp_path)])
    assert res.exit_code == 2 and "is not a folder" in res.output


def test_sweep_runs_the_grid_into_one_folder(toy_registry, tmp_path):
    out = tmp_path / "sw"
    res = run(
        "sweep",
        "toy",
        "--profile",
        "smoke",
        "--over",
        "n=5,50",
        "--over",
        "kind=normal,uniform",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == ["n=5,kind=normal", "n=5,kind=uniform", "n=50,kind=normal", "n=50,kind=uniform"]
    rows = (out / "sweep.csv").read_text().splitlines()
    assert rows[0].startswith("n,kind,claim,measured,lo,hi,verdict") and len(rows) == 5
    assert (out / "sweep.png").stat().st_size > 0 and (out / "report.html").is_file()
    assert json.loads((out / "n=50,kind=uniform" / "config.json").read_text())["config"]["n"] == 50


def test_sweep_checks_every_point_before_running(toy_registry, tmp_path):
    res = run(
        "sweep", "toy", "--profile", "smoke", "--over", "n=5,-1", "--out", str(tmp_path / "s")
    )
    assert res.exit_code == 2 and "n=-1: must be > 0" in res.output
    assert not (tmp_path / "s").exists()


def test_over_parsing():
    assert parse_over(["w=8,16|32", "lr=0.1,0.2"]) == [
        ("w", ["8,16", "32"]),
        ("lr", ["0.1", "0.2"]),
    ]
    assert sweep_points([("a", ["1", "2"]), ("b", ["x"])]) == [
        {"a": "1", "b": "x"},
        {"a": "2", "b": "x"},
    ]
    assert point_name({"w": "8,16", "p": "a/b"}) == "w=8,16,p=a_b"
