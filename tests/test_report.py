"""The HTML report, opened in a real headless browser."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from browser import probe_page
from toy_study import STUDY

from occam.report import ReportError, build_report
from occam.results import run_study


def make_results(root: Path) -> None:
    for seed, name in ((0, "toy"), (1, "toy-b")):
        run_study(
            STUDY,
            STUDY.profiles["smoke"],
            profile="smoke",
            seed=seed,
            out=root / name,
            device=torch.device("cpu"),
            quiet=True,
        )


def test_report_has_claims_table_figures_and_reading(tmp_path):
    make_results(tmp_path)
    page = build_report(tmp_path).read_text()
    assert page.count("toy.mean_small") == 2
    assert "figures/histogram.png" in page and "The mean is small." in page
    assert "table: summary" in page
    assert "id='run-toy'" in page and "id='run-toy-b'" in page  # unique ids, by folder
    assert "toy (toy-b)" in page
    assert "shifted samples" in page and "control fails" in page and "95% [" in page


def test_report_ignores_partial_folders(tmp_path):
    make_results(tmp_path)
    (tmp_path / ".toy.partial-1").mkdir()
    (tmp_path / ".toy.partial-1" / "claims.json").write_text('{"claims": []}')
    (tmp_path / "half").mkdir()  # no claims.json: not a finished run
    page = build_report(tmp_path).read_text()
    assert "partial" not in page and "half" not in page


def test_corrupt_claims_file_is_a_clear_error(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "claims.json").write_text("{not json")
    with pytest.raises(ReportError, match="cannot read"):
        build_report(tmp_path)


@pytest.mark.browser
def test_report_loads_in_headless_chromium(tmp_path):
    make_results(tmp_path)
    result = probe_page(build_report(tmp_path))
    assert result["claim_rows"] == 2
    assert result["images"] == 2
    assert result["broken"] == []
    # each claim: 3 replicate dots and 3 control dots, a visible control cell, two intervals
    assert result["dots"] == 12
    assert result["controls"] == 2
    assert result["intervals"] == 4


@pytest.mark.browser
def test_browser_probe_detects_a_broken_image(tmp_path):
    make_results(tmp_path)
    report = build_report(tmp_path)
    (tmp_path / "toy" / "figures" / "histogram.png").unlink()
    result = probe_page(report)
    assert result["broken"] == ["toy/figures/histogram.png"]
