"""The Python API: occam.run(...) with typed or string overrides, and a notebook-safe import."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import occam
from occam.knobs import ConfigError


def test_run_returns_the_result_with_its_folder(toy_registry, tmp_path):
    result = occam.run("toy", profile="smoke", seed=1, out=tmp_path / "r", quiet=True, n=20)
    assert result.out == (tmp_path / "r").resolve()
    assert result.figures == ["figures/histogram.png"]
    assert (result.out / result.figures[0]).is_file()
    assert result.verdicts() == {"toy.mean_small": "holds"}
    assert result.metrics["n"] == 20


def test_typed_and_string_overrides_agree(toy_registry, tmp_path):
    a = occam.run("toy", "smoke", out=tmp_path / "a", quiet=True, widths=(4, 8), scale=2)
    b = occam.run("toy", "smoke", out=tmp_path / "b", quiet=True, widths="4,8", scale="2")
    assert a.metrics == b.metrics


@pytest.mark.parametrize(
    "overrides",
    [{"n": 0}, {"n": 2.5}, {"n": True}, {"scale": float("nan")}, {"widths": ()}, {"kind": "x"}],
)
def test_bad_typed_overrides_raise_config_error(toy_registry, tmp_path, overrides):
    with pytest.raises(ConfigError):
        occam.run("toy", "smoke", out=tmp_path / "r", quiet=True, **overrides)
    assert not (tmp_path / "r").exists()


def test_run_restores_the_thread_count(toy_registry, tmp_path):
    before = torch.get_num_threads()
    occam.run("toy", "smoke", out=tmp_path / "r", quiet=True, threads=before + 1)
    assert torch.get_num_threads() == before


_IMPORT_ALL = """
import importlib, pkgutil, matplotlib, torch
torch.set_num_threads(3)
import occam
names = [m.name for m in pkgutil.walk_packages(occam.__path__, "occam.")]
for name in names:
    importlib.import_module(name)
assert len(names) > 40, names
print(matplotlib.get_backend(), torch.get_num_threads())
"""


def test_importing_every_module_changes_no_global_state():
    """A notebook's Matplotlib backend and torch's thread count survive ``import occam.*``."""
    env = {"MPLBACKEND": "svg", "PATH": "/usr/bin:/bin"}
    res = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, env=env, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split() == ["svg", "3"]
