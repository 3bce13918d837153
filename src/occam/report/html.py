"""Build ``report.html`` from results folders.

The page holds a claims table across studies (the paper's value beside ours, the verdict in
colour), then one section per study: its reading, its figures and its tables. Figures are
linked by relative path, so the results folder can be moved or served as it is.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from occam import studies
from occam.runs import Run, RunsError, read_run, run_folders

_VERDICT_COLOURS = {
    "holds": "#1a7f37",
    "fails": "#cf222e",
    "inconclusive": "#9a6700",
    "uninformative": "#6e7781",
}


class ReportError(ValueError):
    """The results folder holds nothing to report."""


@dataclass
class RunRecord(Run):
    """One study's results folder, as read back from disk, with what the report shows."""

    reading: str = ""
    figures: list[Path] = field(default_factory=list)
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def collect_runs(results_dir: Path) -> list[RunRecord]:
    """Every complete results folder directly under (or at) ``results_dir``, in study order."""
    if not results_dir.is_dir():
        raise ReportError(f"{results_dir} is not a folder")
    runs: list[RunRecord] = []
    try:
        for folder in run_folders(results_dir, include_self=True):
            base = read_run(folder)
            timings = (
                json.loads((folder / "timings.json").read_text(encoding="utf-8"))
                if (folder / "timings.json").exists()
                else {}
            )
            reading_path = folder / "reading.txt"
            reading = reading_path.read_text(encoding="utf-8") if reading_path.exists() else ""
            figures = (
                sorted((folder / "figures").glob("*.png")) if (folder / "figures").is_dir() else []
            )
            tables: dict[str, list[list[str]]] = {}
            if (folder / "tables").is_dir():
                for table_path in sorted((folder / "tables").glob("*.csv")):
                    with table_path.open(encoding="utf-8", newline="") as fh:
                        tables[table_path.stem] = list(csv.reader(fh))
            runs.append(
                RunRecord(
                    **vars(base), reading=reading, figures=figures, tables=tables, timings=timings
                )
            )
    except RunsError as exc:
        raise ReportError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {results_dir}: {exc}") from None
    order = {name: i for i, name in enumerate(studies.names())}
    runs.sort(key=lambda r: (order.get(r.study, len(order)), r.study, str(r.path)))
    return runs


def _label(run: RunRecord) -> str:
    """The run's name in the report: its study, and its folder when that differs."""
    return run.study if run.path.name == run.study else f"{run.study} ({run.path.name})"


def _anchor(run: RunRecord, root: Path) -> str:
    """A unique HTML id for a run: its folder relative to the report."""
    rel = os.path.relpath(run.path, root).replace(os.sep, "/")
    return "run-" + re.sub(r"[^A-Za-z0-9_-]+", "-", rel if rel != "." else run.study)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _interval(c: dict[str, Any]) -> str:
    iv = c.get("interval")
    if not iv or iv[0] is None:
        return ""
    n = len(c.get("replicates") or [])
    missing = f", {c['missing']} missing" if c.get("missing") else ""
    return (
        f"<div class='iv'>95% [{html.escape(_fmt(iv[0]))}, {html.escape(_fmt(iv[1]))}]"
        f" · n = {n}{missing}</div>"
    )


def _dots(c: dict[str, Any], span: tuple[float, float] | None = None) -> str:
    """An inline SVG strip: replicate values as dots, the interval as a bar, the threshold
    as a dashed line (red side: where the test fails)."""
    values = [float(v) for v in (c.get("replicates") or []) if v is not None]
    if not values:
        return ""
    lo, hi = span if span is not None else _span([c])
    width, height, pad = 150.0, 18.0, 6.0

    def x(v: float) -> float:
        return pad + (width - 2 * pad) * (v - lo) / (hi - lo)

    parts = [f"<svg class='dots' width='{width:.0f}' height='{height:.0f}' role='img'>"]
    iv = c.get("interval")
    if iv and iv[0] is not None:
        parts.append(
            f"<rect x='{x(iv[0]):.1f}' y='7' width='{max(x(iv[1]) - x(iv[0]), 1.0):.1f}' "
            "height='4' fill='#8c959f'/>"
        )
    for t in _thresholds(c):
        parts.append(
            f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='1' y2='17' stroke='#cf222e' "
            "stroke-dasharray='2,2'/>"
        )
    for v in values:
        parts.append(
            f"<circle class='rep' cx='{x(v):.1f}' cy='9' r='3' fill='#0969da' fill-opacity='0.7'/>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _thresholds(c: dict[str, Any]) -> list[float]:
    t = c.get("threshold")
    if c.get("comparator") == "is_true":
        return [0.5]
    if isinstance(t, list):
        return [float(v) for v in t]
    if isinstance(t, int | float):
        return [float(t)]
    return []


def _span(items: list[dict[str, Any]]) -> tuple[float, float]:
    pts: list[float] = []
    for c in items:
        pts += [float(v) for v in (c.get("replicates") or []) if v is not None]
        pts += _thresholds(c)
    lo, hi = (min(pts), max(pts)) if pts else (0.0, 1.0)
    if hi - lo < 1e-300 or hi == lo:
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    margin = 0.08 * (hi - lo)
    return lo - margin, hi + margin


def _control_cell(c: dict[str, Any], span: tuple[float, float]) -> str:
    ctl = c.get("control")
    if not ctl:
        return "<td class='control'><i>no control</i></td>"
    colour = _VERDICT_COLOURS.get(ctl.get("verdict", ""), "#57606a")
    detail = (
        f"<div class='detail'>{html.escape(str(ctl['detail']))}</div>" if ctl.get("detail") else ""
    )
    return (
        "<td class='control'>"
        f"<b>{html.escape(str(ctl.get('name', '')))}</b>"
        f"<div class='src'>{html.escape(str(ctl.get('description', '')))}</div>"
        f"<div class='num'>{html.escape(_fmt(ctl.get('measured')))}</div>"
        f"{_interval(ctl)}{_dots({**c, **ctl}, span)}"
        f"<span class='cverdict' style='background:{colour}'>"
        f"control {html.escape(str(ctl.get('verdict')))}</span>{detail}</td>"
    )


def _claims_table(runs: list[RunRecord]) -> str:
    rows = []
    for run in runs:
        for c in run.claims:
            span = _span([c, {**c, **(c.get("control") or {})}])
            colour = _VERDICT_COLOURS.get(c.get("verdict", ""), "#57606a")
            unit = f"<div class='src'>{html.escape(str(c['unit']))}</div>" if c.get("unit") else ""
            detail = (
                f"<div class='detail'>{html.escape(str(c['detail']))}</div>"
                if c.get("detail")
                else ""
            )
            rows.append(
                "<tr>"
                f"<td>{html.escape(_label(run))}</td>"
                f"<td><code>{html.escape(str(c.get('id')))}</code></td>"
                f"<td>{html.escape(str(c.get('statement', '')))}"
                f"<div class='src'>{html.escape(str(c.get('source', '')))}</div>{detail}</td>"
                f"<td>{html.escape(_fmt(c.get('paper_value')))}</td>"
                f"<td class='num'><b>{html.escape(_fmt(c.get('measured')))}</b>{unit}"
                f"{_interval(c)}{_dots(c, span)}</td>"
                f"<td><code>{html.escape(str(c.get('test', '')))}</code>"
                f"<div class='src'>replicate: {html.escape(str(c.get('replicate', 'seed')))}"
                f", {html.escape(str(c.get('aggregate', 'mean')))}</div></td>"
                f"{_control_cell(c, span)}"
                f"<td class='verdict' style='background:{colour}'>"
                f"{html.escape(str(c.get('verdict')))}</td>"
                "</tr>"
            )
    return (
        "<table id='claims' class='claims'><thead><tr><th>study</th><th>claim</th>"
        "<th>statement (source)</th><th>paper</th><th>measured (95% interval, replicates)</th>"
        "<th>test</th><th>negative control</th><th>verdict</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _table_html(name: str, rows: list[list[str]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    return (
        f"<details><summary>table: {html.escape(name)} ({len(rows) - 1} rows)</summary>"
        f"<table class='data'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "</details>"
    )


def _section(run: RunRecord, root: Path) -> str:
    cfg = run.config

    def esc(key: str) -> str:
        return html.escape(str(cfg.get(key, "?")))

    meta = (
        f"profile <b>{esc('profile')}</b>, seed {esc('seed')}, device {esc('device')}, "
        f"occam {esc('occam_version')}"
    )
    if cfg.get("git_commit"):
        meta += f", commit <code>{html.escape(str(cfg['git_commit'])[:10])}</code>"
    if "total_s" in run.timings:
        meta += f", {run.timings['total_s']:.0f} s"
    figures = "".join(
        "<figure>"
        f"<img src='{html.escape(os.path.relpath(fig, root).replace(os.sep, '/'))}' "
        f"alt='{html.escape(fig.stem)}'>"
        f"<figcaption>{html.escape(fig.stem.replace('_', ' '))}</figcaption></figure>"
        for fig in run.figures
    )
    paragraphs = "".join(
        f"<p>{html.escape(p.strip())}</p>" for p in run.reading.split("\n\n") if p.strip()
    )
    tables = "".join(_table_html(name, rows) for name, rows in run.tables.items())
    title = html.escape(str(cfg.get("title", run.study)))
    return (
        f"<section id='{_anchor(run, root)}'><h2>{html.escape(_label(run))}: {title}</h2>"
        f"<div class='meta'>{html.escape(str(cfg.get('papers', '')))}<br>{meta}</div>"
        f"<div class='reading'>{paragraphs}</div><div class='figures'>{figures}</div>"
        f"{tables}</section>"
    )


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1200px;color:#1f2328;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem} .sub{color:#57606a;margin-top:0}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f6f8fa} td.num{font-variant-numeric:tabular-nums;min-width:6em}
table.claims td:nth-child(3){width:30%} .iv{font-size:.8rem;color:#57606a}
td.control{font-size:.85rem;min-width:12em} svg.dots{display:block;margin-top:.2rem}
.cverdict{color:#fff;font-size:.75rem;padding:0 .3rem;border-radius:3px}
.detail{font-size:.8rem;color:#1f2328;margin-top:.2rem}
td.verdict{color:#fff;font-weight:600;text-align:center}
.src{color:#57606a;font-size:.8rem;margin-top:.2rem}
.meta{color:#57606a;font-size:.85rem}
.figures{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;flex:1 1 440px;max-width:560px} figure img{width:100%;border:1px solid #d0d7de}
figcaption{font-size:.8rem;color:#57606a;text-align:center}
details{margin:.5rem 0} summary{cursor:pointer;color:#0969da}
section{border-top:2px solid #d0d7de;margin-top:2rem;padding-top:.5rem}
"""


def build_report(results_dir: Path) -> Path:
    """Write ``results_dir/report.html`` from every results folder found; return its path."""
    results_dir = Path(results_dir)
    runs = collect_runs(results_dir)
    if not runs:
        raise ReportError(
            f"no results under {results_dir}: run `occam run STUDY` or `occam reproduce` first"
        )
    counts = {v: 0 for v in _VERDICT_COLOURS}
    for run in runs:
        for c in run.claims:
            verdict = c.get("verdict", "inconclusive")
            counts[verdict] = counts.get(verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    body = (
        "<h1>occam report</h1>"
        f"<p class='sub'>{len(runs)} stud{'y' if len(runs) == 1 else 'ies'}; claims: {summary}. "
        "Each claim's test was fixed in code before the run. Its verdict comes from "
        "replicates: <b>holds</b> when the whole 95% interval passes the test, <b>fails</b> "
        "when the whole interval fails it, <b>inconclusive</b> otherwise, and "
        "<b>uninformative</b> when the negative control (the same measurement where the "
        "claim must not hold) passes the test too. Dots are replicates, the grey bar the "
        "interval, the dashed red line the threshold.</p>"
        "<h2>Claims</h2>" + _claims_table(runs) + "".join(_section(r, results_dir) for r in runs)
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>occam report</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
    out = results_dir / "report.html"
    tmp = results_dir / ".report.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
