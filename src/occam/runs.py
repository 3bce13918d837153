"""Runs as data: load results folders into pandas, compare two runs, sweep a study's knobs.

- :func:`load_runs` reads results folders into one ``pandas.DataFrame``: a row per run ×
  claim and a row per run × numeric metric.
- :func:`compare_runs` puts two runs' claims (and differing metrics) side by side and flags
  the claims whose intervals do not overlap or whose verdicts differ.
- :func:`sweep_points` and :func:`sweep_table` expand ``--over key=v1,v2`` grids and
  collect the sweep's claims into one table (the CLI's ``occam sweep`` runs the points).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from occam.knobs import ConfigError

if TYPE_CHECKING:
    import pandas as pd


class RunsError(ValueError):
    """A path is not a results folder (or holds none)."""


@dataclass
class Run:
    """One results folder read back from disk."""

    path: Path
    study: str
    config: dict[str, Any]
    claims: list[dict[str, Any]]
    metrics: dict[str, Any]


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunsError(f"cannot read {path}: {exc}") from None


def read_run(folder: Path) -> Run:
    """One results folder's claims, config and metrics (raises :class:`RunsError`)."""
    claims = _read(folder / "claims.json")
    config = _read(folder / "config.json") if (folder / "config.json").exists() else {}
    metrics = _read(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
    if not isinstance(claims, dict):
        raise RunsError(f"cannot read {folder / 'claims.json'}: not a JSON object")
    return Run(
        path=folder,
        study=str(claims.get("study", config.get("study", folder.name))),
        config=config,
        claims=list(claims.get("claims", [])),
        metrics=metrics,
    )


def run_folders(path: Path, include_self: bool = False) -> list[Path]:
    """The results folders (holding a ``claims.json``) at ``path`` and directly under it.

    include_self: list ``path`` beside its sub-folders even when it is a results folder
    itself (the report); otherwise a results folder stands for itself alone.
    """
    here = [path] if (path / "claims.json").is_file() else []
    if here and not include_self:
        return here
    below = sorted(
        p for p in path.iterdir() if not p.name.startswith(".") and (p / "claims.json").is_file()
    )
    return here + below


def find_runs(paths: Iterable[str | Path]) -> list[Run]:
    """Every results folder at or directly under each of ``paths``."""
    runs: list[Run] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise RunsError(f"{path} is not a folder")
        folders = run_folders(path)
        if not folders:
            raise RunsError(f"{path} holds no results folder (no claims.json)")
        runs.extend(read_run(folder) for folder in folders)
    return runs


def flatten_metrics(metrics: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested metrics dict, keyed by dotted path (``a.b.0``)."""
    out: dict[str, float] = {}
    if isinstance(metrics, dict):
        items: Iterable[tuple[str, Any]] = metrics.items()
    elif isinstance(metrics, list):
        items = ((str(i), v) for i, v in enumerate(metrics))
    else:
        if isinstance(metrics, bool):
            return {prefix: float(metrics)}
        if isinstance(metrics, int | float):
            return {prefix: float(metrics)}
        return {}
    for key, value in items:
        if prefix == "" and key == "nonfinite":
            continue
        out.update(flatten_metrics(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def load_runs(paths: Iterable[str | Path] | str | Path) -> pd.DataFrame:
    """One DataFrame of results folders: a row per run × claim and per run × numeric metric.

    Columns: ``run`` (folder), ``study``, ``profile``, ``seed``, ``kind`` (``claim`` or
    ``metric``), ``name`` (claim id or dotted metric path), ``value``, and for claims
    ``lo``/``hi`` (the 95% interval), ``n`` (replicates), ``verdict``, ``control``,
    ``control_value``, ``control_verdict``. Every knob of the run's config is a column
    ``config.<knob>`` as well, so sweeps can be grouped by what changed.
    """
    import pandas as pd

    if isinstance(paths, str | Path):
        paths = [paths]
    rows: list[dict[str, Any]] = []
    for run in find_runs(paths):
        base: dict[str, Any] = {
            "run": str(run.path),
            "study": run.study,
            "profile": run.config.get("profile"),
            "seed": run.config.get("seed"),
        }
        for key, value in (run.config.get("config") or {}).items():
            base[f"config.{key}"] = tuple(value) if isinstance(value, list) else value
        for c in run.claims:
            iv = c.get("interval") or [None, None]
            ctl = c.get("control") or {}
            rows.append(
                {
                    **base,
                    "kind": "claim",
                    "name": c.get("id"),
                    "value": c.get("measured"),
                    "lo": iv[0],
                    "hi": iv[1],
                    "n": len(c.get("replicates") or []),
                    "verdict": c.get("verdict"),
                    "control": ctl.get("name"),
                    "control_value": ctl.get("measured"),
                    "control_verdict": ctl.get("verdict"),
                }
            )
        for key, value in flatten_metrics(run.metrics).items():
            rows.append({**base, "kind": "metric", "name": key, "value": value})
    return pd.DataFrame(rows)


@dataclass
class ClaimDiff:
    """One claim in two runs."""

    id: str
    a: dict[str, Any] | None
    b: dict[str, Any] | None

    @property
    def flag(self) -> str:
        """Why the claim differs between the runs ('' when it does not)."""
        if self.a is None or self.b is None:
            return "only in one run"
        if self.a.get("verdict") != self.b.get("verdict"):
            return "verdict differs"
        ia, ib = self.a.get("interval"), self.b.get("interval")
        if ia and ib and None not in ia and None not in ib and (ia[1] < ib[0] or ib[1] < ia[0]):
            return "intervals disjoint"
        return ""


def compare_runs(a: Run, b: Run) -> tuple[list[ClaimDiff], list[tuple[str, float, float]]]:
    """Claims of two runs side by side, and the numeric metrics that differ between them."""
    ca = {c["id"]: c for c in a.claims}
    cb = {c["id"]: c for c in b.claims}
    ids = list(ca) + [i for i in cb if i not in ca]
    claims = [ClaimDiff(i, ca.get(i), cb.get(i)) for i in ids]
    ma, mb = flatten_metrics(a.metrics), flatten_metrics(b.metrics)
    metrics = []
    for key in sorted(set(ma) | set(mb)):
        va, vb = ma.get(key, math.nan), mb.get(key, math.nan)
        same = va == vb or (math.isnan(va) and math.isnan(vb))
        if not same:
            metrics.append((key, va, vb))
    return claims, metrics


def parse_over(items: list[str]) -> list[tuple[str, list[str]]]:
    """``key=v1,v2,v3`` (or ``key=8,16|32,64`` for list-valued knobs) -> (key, values)."""
    axes: list[tuple[str, list[str]]] = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--over {item!r}: expected key=v1,v2,...")
        key, raw = item.split("=", 1)
        values = [v.strip() for v in re.split(r"\|" if "|" in raw else ",", raw)]
        values = [v for v in values if v != ""]
        if not values:
            raise ConfigError(f"--over {item!r}: no values")
        if key.strip() in (k for k, _ in axes):
            raise ConfigError(f"--over {key.strip()}: given twice")
        axes.append((key.strip(), values))
    if not axes:
        raise ConfigError("occam sweep needs at least one --over key=v1,v2,...")
    return axes


def sweep_points(axes: list[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """The grid of a sweep: one dict of string overrides per point, in row-major order."""
    keys = [k for k, _ in axes]
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))
    ]


def point_name(point: dict[str, str]) -> str:
    """The sub-folder name of a sweep point (``lr=0.01,width=8``), safe on every filesystem."""
    raw = ",".join(f"{k}={v}" for k, v in point.items())
    return re.sub(r"[^A-Za-z0-9_.,=+-]+", "_", raw)


def sweep_table(runs: list[tuple[dict[str, str], Path]]) -> list[dict[str, Any]]:
    """One row per sweep point × claim: the swept knobs, then the claim's numbers."""
    rows: list[dict[str, Any]] = []
    for point, folder in runs:
        claims = _read(folder / "claims.json").get("claims", [])
        for c in claims:
            iv = c.get("interval") or [None, None]
            rows.append(
                {
                    **point,
                    "claim": c.get("id"),
                    "measured": c.get("measured"),
                    "lo": iv[0],
                    "hi": iv[1],
                    "verdict": c.get("verdict"),
                    "control_measured": (c.get("control") or {}).get("measured"),
                    "control_verdict": (c.get("control") or {}).get("verdict"),
                }
            )
    return rows


def sweep_figure(rows: list[dict[str, Any]], key: str, claims: list[str]) -> Any:
    """A Figure: each chosen claim's measured value (with its interval) against knob ``key``.

    Other swept knobs, if any, are drawn as separate lines.
    """
    from matplotlib.figure import Figure

    claims = claims or sorted({str(r["claim"]) for r in rows})
    fig = Figure(figsize=(4.2 * min(len(claims), 3), 3.2 * math.ceil(len(claims) / 3)))
    ncols = min(len(claims), 3)
    nrows = math.ceil(len(claims) / 3)
    xs = list(dict.fromkeys(str(r[key]) for r in rows))
    for k, claim in enumerate(claims):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        sub = [r for r in rows if r["claim"] == claim]
        others = sorted(
            {
                tuple((kk, str(r[kk])) for kk in r if kk not in _SWEEP_COLS and kk != key)
                for r in sub
            }
        )
        for other in others:
            pts = [r for r in sub if all(str(r[kk]) == v for kk, v in other)]
            x = [xs.index(str(r[key])) for r in pts]
            y = [math.nan if r["measured"] is None else r["measured"] for r in pts]
            lo = [
                0.0 if r["lo"] is None or r["measured"] is None else r["measured"] - r["lo"]
                for r in pts
            ]
            hi = [
                0.0 if r["hi"] is None or r["measured"] is None else r["hi"] - r["measured"]
                for r in pts
            ]
            label = ", ".join(f"{kk}={v}" for kk, v in other) or None
            ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3, label=label)
        ax.set_xticks(range(len(xs)), xs)
        ax.set_xlabel(key)
        ax.set_title(claim, fontsize=9)
        if len(others) > 1:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


_SWEEP_COLS = {"claim", "measured", "lo", "hi", "verdict", "control_measured", "control_verdict"}
