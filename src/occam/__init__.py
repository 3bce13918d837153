"""occam: reproduce, check and extend research on why neural networks generalise.

``occam.run("deep-cheap", profile="smoke")`` runs a study from Python; the command line is
``occam``. Importing occam changes no global state (no Matplotlib backend, no torch threads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from occam.study import StudyResult


def run(study: str, profile: str = "quick", seed: int = 0, **kwargs: Any) -> StudyResult:
    """Run a study and return its result; see :func:`occam.api.run` for the options."""
    from occam.api import run as _run

    return _run(study, profile, seed, **kwargs)
