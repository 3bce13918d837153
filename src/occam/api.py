"""Run a study from Python (scripts, notebooks) as the CLI does.

>>> import occam
>>> result = occam.run("meta-bayes", profile="smoke", seed=0, hidden=16)  # doctest: +SKIP
>>> result.verdicts()  # doctest: +SKIP

Overrides are typed Python values (``train_widths=(8, 16)``) or strings as on the command
line (``train_widths="8,16"``); a bad value raises :class:`occam.knobs.ConfigError` naming
the field before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from occam.study import StudyResult


def run(
    study: str,
    profile: str = "quick",
    seed: int = 0,
    *,
    out: str | Path | None = None,
    device: str = "auto",
    quiet: bool = False,
    threads: int | None = None,
    data_dir: str | Path | None = None,
    **overrides: Any,
) -> StudyResult:
    """Run ``study`` on ``profile`` with ``overrides`` and return its :class:`StudyResult`.

    out: the results folder (default ``results/<study>``), written atomically.
    threads: torch threads during the run (None keeps the current setting; restored after).
    data_dir: folder holding the data sets (default: ``$OCCAM_DATA_DIR``, the cache, or a
    download).
    The result carries ``metrics``, ``claims`` (with intervals and controls), ``tables``,
    ``reading``, ``out`` and ``figures`` (paths relative to ``out``).
    """
    import os

    from occam import studies
    from occam.results import resolve_device, run_study

    spec = studies.get(study)
    config = spec.config(profile, overrides)
    if data_dir is not None:
        os.environ["OCCAM_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())
    folder = Path(out) if out is not None else Path("results") / spec.name
    return run_study(
        spec,
        config,
        profile=profile,
        seed=seed,
        out=folder,
        device=resolve_device(device),
        quiet=quiet,
        threads=threads,
    )
