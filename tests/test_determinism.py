"""Same seed and profile -> byte-identical metrics.json and claims.json (on the same machine)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from occam.cli import app


@pytest.mark.parametrize("study", ["deep-cheap", "imitation"])
def test_smoke_runs_are_byte_identical(tmp_path, study):
    runner = CliRunner()
    for name in ("a", "b"):
        args = ["run", study, "--profile", "smoke", "--seed", "3", "--out", str(tmp_path / name)]
        result = runner.invoke(app, [*args, "--quiet"])
        assert result.exit_code == 0, result.output
    for f in ("metrics.json", "claims.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
