"""The deep-cheap study: smoke run, claims, determinism, config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from occam.deep_cheap import STUDY, DeepCheapConfig
from occam.deep_cheap import depth as dp
from occam.deep_cheap import experiments as ex
from occam.deep_cheap.study import CLAIMS, JsonCells
from occam.knobs import ConfigError
from occam.study import RunContext, StudyResult, json_ready


def _run(out: Path) -> tuple[StudyResult, RunContext]:
    ctx = RunContext(out=out, seed=0, device=torch.device("cpu"), quiet=True)
    return STUDY.run(STUDY.profiles["smoke"], ctx), ctx


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyResult, RunContext]:
    return _run(tmp_path_factory.mktemp("smoke"))


def test_study_wiring() -> None:
    assert STUDY.name == "deep-cheap"
    assert set(STUDY.profiles) == {"smoke", "quick", "full"}
    assert STUDY.config_cls is DeepCheapConfig
    assert len({c.id for c in STUDY.claims}) == len(STUDY.claims)
    assert all(c.id.startswith("dc.") for c in STUDY.claims)
    assert STUDY.profiles["full"].train_n == 20  # RT Fig. 2
    cfg = STUDY.config("smoke", {"train_n": "3", "train_widths": "4,8", "activation": "tanh"})
    assert cfg.train_n == 3 and cfg.train_widths == (4, 8) and cfg.activation == "tanh"


def test_smoke_claims(smoke: tuple[StudyResult, RunContext]) -> None:
    result, _ = smoke
    assert [c.spec.id for c in result.claims] == [c.id for c in CLAIMS]
    for claim in result.claims:
        if claim.spec.id == "dc.depth_separation":
            # a few training steps reach no threshold: inconclusive, never a false "fails"
            assert claim.verdict != "fails", claim
        else:
            assert claim.verdict == "holds", claim


def test_smoke_outputs(smoke: tuple[StudyResult, RunContext]) -> None:
    result, ctx = smoke
    for name in (
        "gate_error_vs_lambda",
        "neurons_vs_n",
        "trained_depth_width",
        "hamiltonian_posterior",
    ):
        assert (ctx.out / "figures" / f"{name}.png").is_file()
    for table in (
        "gate_error_vs_lambda",
        "polynomial_suite",
        "depth_counts",
        "trained_errors",
        "trained_minimal_widths",
        "hamiltonian",
    ):
        assert result.tables[table], table
    m = result.metrics
    assert m["compiler"]["example_polynomial"]["neurons"] == 30
    assert m["depth_constructive"]["counts_match_formulas"]
    assert m["gates"]["slope_float64"] == pytest.approx(2.0, abs=0.2)
    assert result.reading
    json.dumps(json_ready(m), allow_nan=False)
    assert set(ctx.timings) >= {"gates", "compiler", "hamiltonian"}


def test_smoke_is_deterministic(smoke: tuple[StudyResult, RunContext], tmp_path: Path) -> None:
    again, _ = _run(tmp_path)
    first = json.dumps(json_ready(smoke[0].metrics), sort_keys=True)
    assert json.dumps(json_ready(again.metrics), sort_keys=True) == first
    assert [c.measured for c in again.claims] == [c.measured for c in smoke[0].claims]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("train_widths", ""),
        ("train_widths", "8,0"),
        ("train_n", "0"),
        ("train_lr", "nan"),
        ("train_lr", "-1e-3"),
        ("ham_train", "-5"),
        ("gate_grid", "1"),
        ("error_threshold", "1.5"),
        ("activation", "relu"),
        ("slope_lam_min", "0.5"),  # above slope_lam_max = 0.1
        ("train_low", "3"),  # above train_high = 2
    ],
)
def test_bad_values_are_config_errors(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        STUDY.config("smoke", {key: value})


def test_trained_grid_resumes_after_interruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = STUDY.config("smoke", {"train_depths": "1,2,3"})
    ctx = RunContext(out=tmp_path, seed=3, device=torch.device("cpu"), quiet=True)

    def generator_for(label: str) -> torch.Generator:
        return ctx.generator(f"train/{label}")

    reference = ex.trained_depth_width(cfg, generator_for)
    real = dp.train_product_nets
    calls: list[int] = []

    def interrupt_after_one(*args: object, **kwargs: object) -> dp.TrainResult:
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    path = tmp_path / "cells.json"
    monkeypatch.setattr(ex.dp, "train_product_nets", interrupt_after_one)
    with pytest.raises(KeyboardInterrupt):
        ex.trained_depth_width(cfg, generator_for, JsonCells(path, "fp"))
    assert len(json.loads(path.read_text())["cells"]) == 1

    counted: list[int] = []

    def count(*args: object, **kwargs: object) -> dp.TrainResult:
        counted.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ex.dp, "train_product_nets", count)
    resumed = ex.trained_depth_width(cfg, generator_for, JsonCells(path, "fp"))
    assert len(counted) == 2  # the finished cell was not retrained
    assert resumed.metrics == reference.metrics
    assert resumed.tables == reference.tables
    # a checkpoint of another config is ignored
    assert JsonCells(path, "other").get("n=4/depth=1") is None


def test_typed_bad_values_are_config_errors() -> None:
    for bad in (
        {"train_n": -3},
        {"train_widths": ()},
        {"ham_test": 0},
        {"depth_lam": float("inf")},
    ):
        with pytest.raises(ConfigError):
            DeepCheapConfig(**bad)  # type: ignore[arg-type]
