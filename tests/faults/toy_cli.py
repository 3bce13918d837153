"""``occam`` with the toy study as its only study, for fault tests run as subprocesses."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from occam import studies  # noqa: E402
from occam.cli import main  # noqa: E402

studies.STUDY_MODULES = {"toy": "toy_study"}

if __name__ == "__main__":
    main()
