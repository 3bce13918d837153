"""The ``occam`` command line: list, config, run, merge, pb, reproduce, report, data.

Every user error (unknown study, profile or ``--set`` key, an ill-typed value, an unwritable
output folder, a missing or corrupt data file) prints one line naming the problem and exits
with code 2, leaving no results folder behind.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from occam import studies
from occam.progress import set_quiet
from occam.study import PROFILES, ConfigError

app = typer.Typer(
    name="occam",
    help=(
        "Reproduce, check and extend four lines of research on why neural networks "
        "generalise and what they learn. Each study states the papers' claims, measures "
        "them, and gives a verdict."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Data sets: list them, fetch (download and verify), verify.")
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True)

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
ThreadsOpt = Annotated[
    int,
    typer.Option(
        "--threads",
        help="Torch threads in the main process (1 suits many small networks; studies that "
        "use several cores do so with worker processes).",
    ),
]
FreshOpt = Annotated[
    bool,
    typer.Option(
        "--fresh", help="Discard the checkpoints of an interrupted run instead of resuming it."
    ),
]
WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait", help="If another run is writing the same --out, wait for it instead of failing."
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder holding the data sets (mnist/, fashion-mnist/, imdb/). "
        "Default: $OCCAM_DATA_DIR, then the user cache, then a download.",
    ),
]


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit (code 2) to raise.

    The message is printed as it is (brackets in it, as in ``occam-lab[ray]``, are text, not
    Rich markup)."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _use_data_dir(data_dir: Path | None) -> None:
    if data_dir is not None:
        os.environ["OCCAM_DATA_DIR"] = str(data_dir.expanduser().resolve())


def _parse_sets(sets: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in sets:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, value = item.split("=", 1)
        overrides[key.strip()] = value
    return overrides


def _print_version(value: bool) -> None:
    if value:
        import occam

        console.print(f"occam {occam.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    data_dir: DataDirOpt = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    _use_data_dir(data_dir)


@app.command("list")
def list_studies() -> None:
    """List the studies, each with its claims (one line each) and profiles."""
    for name in studies.names():
        study = studies.get(name)
        console.print(f"[bold]{study.name}[/]: {study.title}", highlight=False)
        console.print(f"  papers: {study.papers}", highlight=False)
        console.print(f"  profiles: {', '.join(study.profiles)}", highlight=False)
        console.print("  claims:", highlight=False)
        for spec in study.claims:
            control = spec.control.name if spec.control else "none"
            console.print(
                f"    [cyan]{spec.id}[/]  {spec.statement}  [dim]({spec.test}; "
                f"control: {control}; replicate: {spec.replicate})[/]",
                highlight=False,
                soft_wrap=True,
            )
        console.print()


@app.command("config")
def show_config(
    study_name: Annotated[str, typer.Argument(metavar="STUDY", help="Study name (occam list).")],
    profile: Annotated[str, typer.Option(help="smoke, quick or full.")] = "quick",
) -> None:
    """Print every knob of a study: type, value in the profile, allowed values, and doc."""
    from occam.knobs import describe_fields

    study, config = _validate_run_args(study_name, profile, [])
    table = Table(show_header=True, header_style="bold", title=f"{study.name} ({profile})")
    for col in ("knob", "type", "value", "allowed", "doc"):
        table.add_column(col, overflow="fold")
    for row in describe_fields(config):
        table.add_row(row["name"], row["type"], row["value"], row["allowed"], row["doc"])
    console.print(table)
    console.print(
        f"change one with: occam run {study.name} --profile {profile} --set KNOB=VALUE",
        highlight=False,
    )


def _validate_run_args(
    study_name: str, profile: str, sets: list[str], executor_options: bool = False
) -> tuple[Any, Any]:
    try:
        study = studies.get(study_name)
    except studies.UnknownStudyError as exc:
        raise fail(str(exc)) from None
    if executor_options and not hasattr(study.config_cls, "executor"):
        for item in sets:
            if item.split("=", 1)[0] in ("executor", "ray_address"):
                option = "--" + item.split("=", 1)[0].replace("_", "-")
                raise fail(f"{option}: {study.name} runs no sampling jobs (sgd-bayes does)")
    if profile not in PROFILES:
        raise fail(f"unknown profile {profile!r} (choose from {', '.join(PROFILES)})")
    try:
        config = study.config(profile, _parse_sets(sets))
    except ConfigError as exc:
        raise fail(str(exc)) from None
    return study, config


def _device(device: str) -> Any:
    from occam.results import resolve_device

    try:
        return resolve_device(device)
    except ValueError as exc:
        raise fail(str(exc)) from None


class Terminated(BaseException):
    """SIGTERM arrived during a run (raised from the signal handler, like KeyboardInterrupt)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def _run_one(
    study: Any,
    config: Any,
    profile: str,
    seed: int,
    out: Path,
    device: Any,
    quiet: bool,
    threads: int,
    fresh: bool = False,
    wait: bool = False,
    chunks: tuple[int, int] | None = None,
    merge: bool = False,
    source: Path | None = None,
    body: Any = None,
) -> Any:
    """Run one study (or a slice of it, or merge its slices); every user-facing fault becomes
    one line and a documented exit code.

    Exit codes: 2 bad input, busy output folder, unreadable checkpoint, missing or corrupt
    data, Ray missing or unreachable, chunks missing at a merge, full disk or another I/O
    error; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). An interrupted run leaves its
    finished chunks checkpointed and no results folder half-written.
    """
    import errno
    import signal

    from occam.data import DataError
    from occam.executors import CheckpointMismatch, ExecutorError, MissingChunks
    from occam.executors.session import check_ray
    from occam.results import (
        OutputBusy,
        OutputError,
        run_from_checkpoints,
        run_slice,
        run_study,
    )

    resume = "finished work is checkpointed; run the same command again to resume"
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if getattr(config, "executor", None) == "ray" and not merge and source is None:
            check_ray(getattr(config, "ray_address", "") or None)  # before any work
        if source is not None:
            return run_from_checkpoints(
                study,
                config,
                body,
                profile=profile,
                seed=seed,
                source=source,
                out=out,
                device=device,
                quiet=quiet,
                threads=threads,
                wait=wait,
            )
        if chunks is not None:
            return run_slice(
                study,
                config,
                profile=profile,
                seed=seed,
                out=out,
                device=device,
                chunks=chunks,
                quiet=quiet,
                threads=threads,
                wait=wait,
            )
        return run_study(
            study,
            config,
            profile=profile,
            seed=seed,
            out=out,
            device=device,
            quiet=quiet,
            threads=threads,
            fresh=fresh,
            wait=wait,
            merge=merge,
        )
    except OutputBusy as exc:
        raise fail(str(exc)) from None
    except CheckpointMismatch as exc:
        if chunks is not None or merge or source is not None:  # --fresh: the slices' work too
            raise fail(str(exc)) from None
        raise fail(f"{exc} (or rerun with --fresh to discard the checkpoints)") from None
    except (ExecutorError, MissingChunks) as exc:
        raise fail(str(exc)) from None
    except (OutputError, PermissionError) as exc:
        raise fail(f"cannot write results: {exc}") from None
    except DataError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        err_console.print(f"interrupted: {resume}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=130) from None
    except Terminated:
        err_console.print(f"terminated: {resume}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=143) from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise fail(
                f"disk full while writing ({exc.filename or out}); the previous results "
                "folder and the checkpoints are intact; free some space and rerun"
            ) from None
        raise fail(  # an I/O error (read-only or failing disk, ...): still one line
            f"{exc.strerror or exc} ({exc.filename or out}); the previous results folder and "
            "the checkpoints are intact; fix it and rerun"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


_COLOURS = {"holds": "green", "fails": "red", "inconclusive": "yellow", "uninformative": "dim"}


def _value(measured: float | None, interval: tuple[float, float] | None) -> str:
    if measured is None:
        return "—"
    if interval is None or interval[0] == interval[1]:
        return f"{measured:.4g}"
    return f"{measured:.4g} [{interval[0]:.3g}, {interval[1]:.3g}]"


def _print_claims(claims: list[Any]) -> None:
    table = Table(show_header=True, header_style="bold")
    for col in ("claim", "paper", "measured [95%]", "n", "test", "control [95%]", "verdict"):
        table.add_column(col)
    for c in claims:
        ctl = c.control
        control = (
            "—"
            if ctl is None
            else f"{ctl.name}: {_value(ctl.measured, ctl.interval)} "
            f"[{_COLOURS[ctl.verdict]}]{ctl.verdict}[/]"
        )
        table.add_row(
            c.spec.id,
            c.spec.paper_value or "—",
            _value(c.measured, c.interval),
            str(len(c.replicates)),
            c.spec.test,
            control,
            f"[{_COLOURS[c.verdict]}]{c.verdict}[/]",
        )
    console.print(table)


@app.command("run")
def run(
    study_name: Annotated[
        str | None,
        typer.Argument(metavar="STUDY", help="Study name (occam list); optional with --config."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="smoke (seconds), quick (minutes on a CPU) or full (paper scale). "
            "Default: quick, or the profile in --config."
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Base seed of all replicates; the same seed gives the same numbers. "
            "Default: 0, or the seed in --config."
        ),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="A saved results/<study>/config.json: rerun that run exactly "
            "(its study, profile, seed and every knob; --set still applies on top).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Results folder. Default: results/<study>.")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config field: key=value (repeatable)."),
    ] = None,
    quiet: QuietOpt = False,
    threads: ThreadsOpt = 1,
    data_dir: DataDirOpt = None,
    fresh: FreshOpt = False,
    wait: WaitOpt = False,
    chunks: Annotated[
        str | None,
        typer.Option(
            "--chunks",
            metavar="I:J",
            help="Compute only chunks I..J-1 of every sampling job (a slice of a batch run, "
            "e.g. one Slurm array task); slices may run at once on one --out; then "
            "`occam merge OUT` finishes the run.",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            help="Where sampling chunks run: local, processes or ray (the study's `executor` "
            "knob, as --set executor=...)."
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="The Ray cluster to use with --executor ray: HOST:PORT, ray://HOST:PORT or "
            "auto (the study's `ray_address` knob). Default: $RAY_ADDRESS, else a local Ray."
        ),
    ] = None,
) -> None:
    """Run one study and write its results folder (config, metrics, claims, figures, log).

    Each claim is judged over the study's replicates (a 95% interval) beside its negative
    control; see `occam list` and `occam config STUDY`.
    """
    set_quiet(quiet)
    _use_data_dir(data_dir)
    sets = list(set_ or [])
    sets += [f"executor={executor}"] if executor is not None else []
    sets += [f"ray_address={ray_address}"] if ray_address is not None else []
    if config_file is not None:
        study, config, profile, seed = _from_saved(config_file, study_name, profile, seed, sets)
    else:
        if study_name is None:
            raise fail("missing STUDY (or --config FILE); see occam list")
        profile = profile or "quick"
        seed = 0 if seed is None else seed
        study, config = _validate_run_args(study_name, profile, sets, executor_options=True)
    span = _parse_chunks(chunks, study, fresh) if chunks is not None else None
    dev = _device(device)
    out = out or Path("results") / study.name
    t0 = time.perf_counter()
    result = _run_one(
        study, config, profile, seed, out, dev, quiet, threads, fresh, wait, chunks=span
    )
    if span is not None:
        console.print(_slice_line(result, out), highlight=False, soft_wrap=True)
        return
    _print_claims(result.claims)
    console.print(f"results in {out} ({time.perf_counter() - t0:.0f} s)", highlight=False)


def _parse_chunks(text: str, study: Any, fresh: bool) -> tuple[int, int]:
    """``"I:J"`` as ``(I, J)`` with 0 <= I < J, for a study that samples in chunks."""
    import re

    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if not match or int(match[1]) >= int(match[2]):
        raise fail(f"--chunks {text}: expected I:J with 0 <= I < J (chunks I..J-1), e.g. 0:8")
    if not study.chunked:
        raise fail(f"--chunks: {study.name} does not sample in chunks (sgd-bayes does)")
    if fresh:
        raise fail(
            "--chunks with --fresh: other slices may be writing the same checkpoints; delete "
            "them by hand if you mean to"
        )
    return int(match[1]), int(match[2])


def _slice_line(result: Any, out: Path) -> str:
    """What a slice did, in one line, and what to do next."""
    i, j = result.chunks
    jobs = result.jobs
    if not jobs:
        return f"slice {i}:{j}: this run performs no sampling jobs; run it without --chunks"
    sizes = sorted({job.n_chunks for job in jobs})
    span = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]} to {sizes[-1]}"
    if i >= sizes[-1]:
        return (
            f"slice {i}:{j}: past the end of every sampling job (the largest has "
            f"{sizes[-1]} chunks); nothing to compute"
        )
    return (
        f"slice {i}:{j} done ({result.computed} chunks computed in {len(jobs)} sampling jobs "
        f"of {span} chunks; {result.done} of {result.total} chunks of the run are now done); "
        f"when all slices are done: occam merge {out}"
    )


def _from_saved(
    path: Path,
    study_name: str | None,
    profile: str | None,
    seed: int | None,
    sets: list[str] | None,
    what: str = "--config",
) -> tuple[Any, Any, str, int]:
    """Study, config, profile and seed of a saved ``config.json`` (plus ``--set`` overrides).

    what: how error messages name the file's origin.
    """
    import json

    from occam.study import apply_overrides

    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        name, knobs = saved["study"], saved["config"]
        if not isinstance(knobs, dict):
            raise TypeError("config is not an object")
    except OSError as exc:
        raise fail(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise fail(f"{what} {path}: not a saved occam config.json ({exc})") from None
    if study_name is not None and study_name != name:
        raise fail(f"{what} {path} is a run of {name}, not {study_name}")
    profile = profile or str(saved.get("profile", "quick"))
    seed = int(saved.get("seed", 0)) if seed is None else seed
    study, base = _validate_run_args(name, profile, [])
    try:
        config = apply_overrides(base, knobs)
        config = apply_overrides(config, _parse_sets(sets or []))
    except ConfigError as exc:
        raise fail(f"{what} {path}: {exc}") from None
    return study, config, profile, seed


@app.command("merge")
def merge(
    out: Annotated[
        Path, typer.Argument(metavar="OUT", help="The --out of the slices (occam run --chunks).")
    ],
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (for P_B and the rest).")] = (
        "auto"
    ),
    quiet: QuietOpt = False,
    threads: ThreadsOpt = 1,
    data_dir: DataDirOpt = None,
    wait: WaitOpt = False,
) -> None:
    """Finish a batch run from its slices: check that every chunk of every sampling job is
    checkpointed, then run the study on them (P_B, claims, figures) without computing any
    chunk. The counts, and so the results, equal those of one plain run with the same seed."""
    from occam.results import checkpoint_folder

    set_quiet(quiet)
    _use_data_dir(data_dir)
    run_file = checkpoint_folder(out.resolve()) / "run.json"
    if not run_file.is_file():
        raise fail(
            f"{out}: no slices to merge ({run_file} is missing); run them first: occam run "
            f"STUDY --chunks I:J --out {out}"
        )
    study, config, profile, seed = _from_saved(run_file, None, None, None, None, "merge")
    if not study.chunked:
        raise fail(f"merge {run_file}: {study.name} does not sample in chunks")
    dev = _device(device)
    t0 = time.perf_counter()
    result = _run_one(study, config, profile, seed, out, dev, quiet, threads, wait=wait, merge=True)
    _print_claims(result.claims)
    console.print(
        f"results in {out}, merged from its slices ({time.perf_counter() - t0:.0f} s)",
        highlight=False,
    )


@app.command("pb")
def pb(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="OUT", help="The --out of a sampled sgd-bayes run (occam run --chunks)."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Results folder for P_B. Default: OUT-pb beside OUT.")
    ] = None,
    quiet: QuietOpt = False,
    threads: ThreadsOpt = 1,
    data_dir: DataDirOpt = None,
    wait: WaitOpt = False,
) -> None:
    """P_B(f|S) for the functions of a sampled sgd-bayes run, on this machine's CPU.

    Reads the run's slices (.OUT.checkpoints: run.json and every chunk of the main P_SGD
    jobs, e.g. sampled on GPUs and copied here), computes nothing of P_SGD, and writes
    tables/functions_<setting>.csv (function, count, p_sgd, log_p_b), metrics.json and the
    P_SGD-vs-P_B figures, equal to a plain run's. The checkpoints are left for occam merge.
    """
    from occam.results import checkpoint_folder

    set_quiet(quiet)
    _use_data_dir(data_dir)
    run_file = checkpoint_folder(source.resolve()) / "run.json"
    if not run_file.is_file():
        raise fail(
            f"{source}: no sampled run there ({run_file} is missing); sample it first: occam "
            f"run sgd-bayes --chunks I:J --out {source}"
        )
    study, config, profile, seed = _from_saved(run_file, None, None, None, None, "pb")
    if study.name != "sgd-bayes":
        raise fail(f"pb {run_file}: a run of {study.name}; occam pb reads sgd-bayes runs")
    from occam.sgd_bayes.study import pb_of_sampling

    dev = _device("cpu")  # EP runs on the CPU (the kernel is built there); --threads counts
    out = out or source.parent / f"{source.name}-pb"
    if out.resolve() == source.resolve():
        raise fail(f"--out {out}: that is the sampled run's own folder; choose another")
    t0 = time.perf_counter()
    _run_one(
        study, config, profile, seed, out, dev, quiet, threads, wait=wait, merge=True,
        source=source, body=pb_of_sampling,
    )  # fmt: skip
    console.print(
        f"P_B of {source}'s sampled functions in {out} ({time.perf_counter() - t0:.0f} s)",
        highlight=False,
    )


@app.command("reproduce")
def reproduce(
    profile: Annotated[str, typer.Option(help="Profile for every study.")] = "quick",
    out: Annotated[Path, typer.Option(help="Results folder (one sub-folder per study).")] = Path(
        "results"
    ),
    seed: Annotated[int, typer.Option(help="Seed for every study.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    quiet: QuietOpt = False,
    threads: ThreadsOpt = 1,
    data_dir: DataDirOpt = None,
    fresh: FreshOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Run every study, then build report.html."""
    from occam.report import build_report
    from occam.results import OutputError, check_writable

    set_quiet(quiet)
    _use_data_dir(data_dir)
    dev = _device(device)
    planned = [_validate_run_args(name, profile, []) for name in studies.names()]
    try:
        check_writable(out)
    except OutputError as exc:
        raise fail(f"cannot write results: {exc}") from None
    t_all = time.perf_counter()
    all_claims = []
    for study, config in planned:
        console.rule(f"{study.name} ({profile})")
        t0 = time.perf_counter()
        result = _run_one(
            study, config, profile, seed, out / study.name, dev, quiet, threads, fresh, wait
        )
        all_claims.extend(result.claims)
        console.print(f"{study.name}: {time.perf_counter() - t0:.0f} s", highlight=False)
    report = build_report(out)
    console.rule("claims")
    _print_claims(all_claims)
    console.print(f"report: {report} (total {time.perf_counter() - t_all:.0f} s)", highlight=False)


@app.command("compare")
def compare(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="A results folder.")],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="Another results folder.")],
    metrics: Annotated[
        int, typer.Option(help="Show at most this many differing metrics (0: none).")
    ] = 20,
) -> None:
    """Two runs side by side: each claim's value, interval and verdict in both, flagged where
    the verdicts differ or the intervals do not overlap; then the metrics that differ."""
    from occam.runs import RunsError, compare_runs, find_runs

    try:
        found_a, found_b = find_runs([run_a]), find_runs([run_b])
    except RunsError as exc:
        raise fail(str(exc)) from None
    if len(found_a) != 1 or len(found_b) != 1:
        raise fail("RUN_A and RUN_B must each be one results folder (with a claims.json)")
    a, b = found_a[0], found_b[0]
    claims, diffs = compare_runs(a, b)
    table = Table(show_header=True, header_style="bold", title=f"{a.path}  vs  {b.path}")
    for col in ("claim", "A [95%]", "A verdict", "B [95%]", "B verdict", "flag"):
        table.add_column(col)
    for c in claims:
        cells = []
        for side in (c.a, c.b):
            if side is None:
                cells += ["—", "—"]
            else:
                iv = side.get("interval")
                cells += [
                    _value(side.get("measured"), tuple(iv) if iv else None),
                    f"[{_COLOURS.get(side.get('verdict', ''), 'white')}]{side.get('verdict')}[/]",
                ]
        table.add_row(c.id, *cells, f"[bold red]{c.flag}[/]" if c.flag else "")
    console.print(table)
    flagged = sum(1 for c in claims if c.flag)
    console.print(
        f"{flagged} of {len(claims)} claims differ beyond their intervals or verdicts; "
        f"{len(diffs)} metrics differ",
        highlight=False,
    )
    if diffs and metrics > 0:
        mt = Table(show_header=True, header_style="bold")
        for col in ("metric", "A", "B"):
            mt.add_column(col)
        for key, va, vb in diffs[:metrics]:
            mt.add_row(key, f"{va:.6g}", f"{vb:.6g}")
        console.print(mt)


@app.command("sweep")
def sweep(
    study_name: Annotated[str, typer.Argument(metavar="STUDY", help="Study name (occam list).")],
    over: Annotated[
        list[str],
        typer.Option(
            "--over",
            help="A knob and its values, key=v1,v2,v3 (for list-valued knobs separate the "
            "values with |: widths=8,16|32,64). Repeat for a grid.",
        ),
    ],
    profile: Annotated[str, typer.Option(help="smoke, quick or full.")] = "quick",
    seed: Annotated[int, typer.Option(help="Base seed of every point.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Sweep folder. Default: results/sweep-<study>.")
    ] = None,
    claims: Annotated[
        str, typer.Option(help="Claim ids to plot against the first swept knob (default all).")
    ] = "",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Fixed overrides for every point: key=value (repeatable)."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    quiet: QuietOpt = False,
    threads: ThreadsOpt = 1,
    data_dir: DataDirOpt = None,
) -> None:
    """Run a study over a grid of knob values into one folder: a results folder per point,
    sweep.csv (every point × claim) and sweep.png (the chosen claims against the first swept
    knob), then the report. Every point's config is checked before anything runs."""
    from occam.report import build_report
    from occam.results import write_table
    from occam.runs import parse_over, point_name, sweep_figure, sweep_points, sweep_table

    set_quiet(quiet)
    _use_data_dir(data_dir)
    try:
        axes = parse_over(over)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    points = sweep_points(axes)
    fixed = set_ or []
    planned = []
    for point in points:
        sets = fixed + [f"{k}={v}" for k, v in point.items()]
        study, config = _validate_run_args(study_name, profile, sets)
        planned.append((point, study, config))
    chosen = [c for c in claims.split(",") if c]
    known = {spec.id for spec in planned[0][1].claims}
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise fail(f"--claims: unknown claim {unknown[0]!r} of {planned[0][1].name}")
    dev = _device(device)
    root = out or Path("results") / f"sweep-{planned[0][1].name}"
    done = []
    for i, (point, study, config) in enumerate(planned):
        console.rule(f"{study.name} {point_name(point)} ({i + 1}/{len(planned)})")
        folder = root / point_name(point)
        _run_one(study, config, profile, seed, folder, dev, quiet, threads)
        done.append((point, folder))
    rows = sweep_table(done)
    write_table(root / "sweep.csv", rows)
    fig = sweep_figure(rows, axes[0][0], chosen)
    for ext in ("png", "svg", "pdf"):
        fig.savefig(root / f"sweep.{ext}", dpi=110, bbox_inches="tight")
    report = build_report(root)
    console.print(
        f"sweep: {root / 'sweep.csv'}, {root / 'sweep.png'}, report {report}", highlight=False
    )


@app.command("report")
def report(
    results_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A results folder.")] = Path(
        "results"
    ),
) -> None:
    """(Re)build report.html from the result files under DIR."""
    from occam.report import ReportError, build_report

    try:
        path = build_report(results_dir)
    except ReportError as exc:
        raise fail(str(exc)) from None
    console.print(f"report: {path}", highlight=False)


@data_app.command("list")
def data_list(data_dir: DataDirOpt = None) -> None:
    """List the data sets, where they were found, and their sizes."""
    from occam import data

    _use_data_dir(data_dir)
    table = Table(show_header=True, header_style="bold")
    for col in ("name", "description", "where", "size"):
        table.add_column(col)
    for row in data.list_datasets():
        size = row.get("size") or 0
        table.add_row(
            str(row["name"]),
            str(row.get("description", "")),
            str(row.get("where", "")),
            f"{size / 1e6:.1f} MB" if size else "—",
        )
    console.print(table)


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="mnist, fashion-mnist or imdb.")],
    data_dir: DataDirOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Make sure a data set is present and verified, downloading it if it is missing."""
    from occam import data

    set_quiet(quiet)
    _use_data_dir(data_dir)
    try:
        path = data.fetch(name, quiet=quiet)
    except (data.DataError, KeyError, ValueError) as exc:
        raise fail(str(exc).strip("'\"")) from None
    except OSError as exc:  # a full disk or an unwritable cache while downloading
        raise fail(
            f"{name}: cannot write the download ({exc.strerror or exc}); nothing partial was "
            "kept; free some space or point XDG_CACHE_HOME elsewhere"
        ) from None
    console.print(f"{name}: ok ({path})", highlight=False)


@data_app.command("verify")
def data_verify(
    name: Annotated[str, typer.Argument(help="mnist, fashion-mnist or imdb.")],
    data_dir: DataDirOpt = None,
) -> None:
    """Check a data set's files against their SHA-256 checksums (no download)."""
    from occam import data

    _use_data_dir(data_dir)
    try:
        rows = data.verify(name)
    except (data.DataError, KeyError, ValueError) as exc:
        raise fail(str(exc).strip("'\"")) from None
    bad = 0
    for file, ok, message in rows:
        mark = "[green]ok[/]" if ok else "[red]BAD[/]"
        console.print(f"{mark} {file}: {message}", highlight=False, soft_wrap=True)
        bad += not ok
    if bad:
        raise typer.Exit(code=2)


def _save_traceback() -> Path:
    """Write the current exception's traceback to a file in the temp folder; return its path."""
    import tempfile
    import traceback

    fd, name = tempfile.mkstemp(prefix="occam-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return Path(name)


def main() -> None:
    """Entry point of the ``occam`` script.

    Every expected fault is handled where it happens (one line, exit 2, 130 or 143). What is
    left is a bug: it too is one line (exit 1), with the traceback saved to a file for the
    report; ``OCCAM_DEBUG=1`` shows it instead.
    """
    try:
        app(prog_name="occam")
    except Exception as exc:
        if os.environ.get("OCCAM_DEBUG"):
            raise
        path = _save_traceback()
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (a bug in occam; the "
            f"traceback is in {path}; OCCAM_DEBUG=1 shows it here)",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
