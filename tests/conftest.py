from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)
# Downloads retry dropped connections with back-off; tests need no real waiting.
os.environ.setdefault("OCCAM_DOWNLOAD_BACKOFF", "0.01")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("OCCAM_DATA_DIR", ROOT.parent / "shared" / "data"))


@pytest.fixture
def toy_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the toy study (tests/toy_study.py) as the only study."""
    from occam import studies

    monkeypatch.setattr(studies, "STUDY_MODULES", {"toy": "toy_study"})
