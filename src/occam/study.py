"""What a study is, what it is given when it runs, and what it gives back.

A study is plain wiring: a config dataclass whose fields are the paper's knobs, three
profiles (``smoke`` for tests, ``quick`` for a laptop CPU, ``full`` for the paper's scale),
the claims it checks (fixed before the run), and a ``run(config, ctx)`` function that reads
top to bottom like the paper's method section and returns a :class:`StudyResult`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import sys
import time
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import torch

from occam.claims import Claim, ClaimSpec
from occam.executors.session import SamplingSession
from occam.knobs import ConfigError, coerce, validate

PROFILES: tuple[str, ...] = ("smoke", "quick", "full")

C = TypeVar("C")
T = TypeVar("T")


__all__ = ["ConfigError", "PROFILES", "RunContext", "Study", "StudyResult", "apply_overrides"]


@dataclass
class RunContext:
    """What a running study is handed: where to write, its seed, device, progress and log.

    ``out`` is the staging folder of the run (it becomes the results folder only once the
    whole run has finished). Figures go through :meth:`save_figure`; resumable state through
    :meth:`checkpoint`. ``sampling`` is handed to every sampling job
    (:func:`occam.executors.run_chunks`): which of their chunks to compute, and the run's Ray.
    """

    out: Path
    seed: int
    device: torch.device
    quiet: bool = False
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("occam"))
    figures: list[str] = field(default_factory=list)
    checkpoint_dir: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    sampling: SamplingSession = field(default_factory=SamplingSession)

    @property
    def sampling_only(self) -> bool:
        """True in a slice of a batch run (``occam run --chunks i:j``) and in the check of
        ``occam merge``: the study must reach every sampling job it would perform (each
        :func:`~occam.executors.run_chunks` call) with the same arguments, and should skip
        everything else (P_B, claims, figures): what the sampling returns then is partial,
        and the study's result is discarded. The sampling jobs must therefore be determined
        by the config and seed alone, not by results sampled earlier.
        """
        return self.sampling.sampling_only

    def checkpoint(self, name: str) -> Path:
        """A checkpoint file (or folder) that survives an interrupted run (removed after a
        successful one).

        It lives beside the results folder, not in the staging folder, so that a rerun with
        the same ``--out`` finds it and resumes.
        """
        folder = self.checkpoint_dir or (self.out / "checkpoints")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def progress(
        self, iterable: Iterable[T], description: str, total: int | None = None
    ) -> Iterator[T]:
        """Iterate with a Rich progress bar (nothing shown when ``quiet``)."""
        from occam.progress import track

        return track(iterable, description=description, total=total, quiet=self.quiet)

    def save_figure(self, fig: Any, name: str) -> None:
        """Save a Matplotlib figure as ``figures/<name>.png``, ``.svg`` and ``.pdf``; close it.

        Build figures as ``matplotlib.figure.Figure`` objects (no pyplot): they need no
        backend, so a study never switches a notebook's backend.
        """
        fig_dir = self.out / "figures"
        fig_dir.mkdir(parents=True, exist_ok=True)
        # metadata=None-ish: fixed metadata keeps the files byte-stable across runs.
        fig.savefig(
            fig_dir / f"{name}.png", dpi=110, bbox_inches="tight", metadata={"Software": None}
        )
        fig.savefig(fig_dir / f"{name}.svg", bbox_inches="tight", metadata={"Date": None})
        fig.savefig(fig_dir / f"{name}.pdf", bbox_inches="tight", metadata={"CreationDate": None})
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:  # a pyplot-managed figure must be closed to free it
            plt.close(fig)
        self.figures.append(f"figures/{name}.png")

    def seed_for(self, label: str, replicate: int = 0) -> int:
        """A 63-bit seed for the stream called ``label`` in replicate ``replicate``.

        One derivation for every study: ``numpy.random.SeedSequence`` over the run seed, the
        replicate index and a BLAKE2b hash of the label, so distinct labels (anagrams
        included) give independent streams, and replicate r of a run with ``--seed s`` is
        the same whatever else the run does.
        """
        digest = hashlib.blake2b(label.encode("utf-8"), digest_size=16).digest()
        words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
        ss = np.random.SeedSequence([self.seed % 2**63, replicate, *words])
        hi, lo = (int(w) for w in ss.generate_state(2, dtype=np.uint32))
        return ((hi << 32) | lo) & (2**63 - 1)

    def generator(self, label: str | int = 0, replicate: int = 0) -> torch.Generator:
        """A torch CPU generator for the stream ``label`` of replicate ``replicate``.

        An integer label is the older scheme (``seed * 1_000_003 + offset``), kept so that
        results from before the labelled streams can be reproduced.
        """
        g = torch.Generator()
        if isinstance(label, int):
            g.manual_seed(self.seed * 1_000_003 + label)
        else:
            g.manual_seed(self.seed_for(label, replicate))
        return g

    def rng(self, label: str, replicate: int = 0) -> np.random.Generator:
        """A NumPy generator for the stream ``label`` of replicate ``replicate``."""
        return np.random.default_rng(self.seed_for(label, replicate))

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time a stage (wall-clock seconds, added to ``timings.json``, never to metrics)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0


@dataclass
class StudyResult:
    """What a study returns.

    metrics: JSON-serialisable numbers (deterministic for a given seed: no timings).
    claims: judged claims, in the order of the study's claim specs.
    tables: name -> list of row dicts, written as CSV and shown in the report.
    reading: a short paragraph (Markdown-free text) saying what the figures show.
    timings: wall-clock seconds per stage (written apart from the metrics).
    out: the results folder, once :func:`occam.results.run_study` has written it.
    figures: the figures' PNG paths, relative to ``out``.
    """

    metrics: dict[str, Any]
    claims: list[Claim]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reading: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    out: Path | None = None
    figures: list[str] = field(default_factory=list)

    def verdicts(self) -> dict[str, str]:
        """Claim id -> verdict."""
        return {c.spec.id: c.verdict for c in self.claims}


@dataclass(frozen=True)
class Study(Generic[C]):
    """A study: its name, title, config class and profiles, claims, and run function.

    chunked: its sampling is done by :func:`occam.executors.run_chunks` jobs fixed by the
    config, and ``run`` honours :attr:`RunContext.sampling_only`, so that a run can be cut
    into slices (``occam run STUDY --chunks i:j``) and merged (``occam merge``).
    """

    name: str
    title: str
    papers: str
    config_cls: type[C]
    profiles: dict[str, C]
    claims: tuple[ClaimSpec, ...]
    run: Callable[[C, RunContext], StudyResult]
    chunked: bool = False

    def config(self, profile: str, overrides: dict[str, Any] | None = None) -> C:
        """The profile's config with overrides applied.

        Overrides are strings (as from ``--set key=value``, parsed to the field's type) or
        typed Python values (``train_widths=(8, 16)``). The result is validated: a bad value
        raises :class:`ConfigError` naming the field.
        """
        if profile not in self.profiles:
            raise ConfigError(
                f"unknown profile {profile!r} for study {self.name} "
                f"(choose from {', '.join(self.profiles)})"
            )
        return apply_overrides(self.profiles[profile], overrides or {})


def apply_overrides(config: C, overrides: dict[str, Any]) -> C:
    """A validated copy of dataclass ``config`` with overrides (strings or typed values)."""
    assert dataclasses.is_dataclass(config) and not isinstance(config, type)
    fields = {f.name: f for f in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    changes: dict[str, Any] = {}
    for key, raw in overrides.items():
        if key not in fields:
            raise ConfigError(
                f"unknown --set key {key!r} for {type(config).__name__} "
                f"(known: {', '.join(sorted(fields))})"
            )
        if isinstance(raw, str) and hints[key] is not str:
            changes[key] = parse_value(key, raw, hints[key])
        else:
            changes[key] = coerce(raw, hints[key])
    new = dataclasses.replace(config, **changes)
    validate(new)  # configs built on knobs.Config have done so already; cheap to repeat
    return new


def parse_value(key: str, raw: str, typ: Any) -> Any:
    """Parse ``raw`` (from the command line) into type ``typ``; raise ConfigError if it can't."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    try:
        if typ is bool:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if typ is int:
            return int(raw)
        if typ is float:
            value = float(raw)
            if not np.isfinite(value):
                raise ConfigError(f"--set {key}={raw}: must be a finite number")
            return value
        if typ is str:
            return raw
        if origin is typing.Literal:
            if raw not in args:
                raise ConfigError(f"--set {key}={raw}: expected one of {', '.join(map(str, args))}")
            return raw
        if origin in (typing.Union, types.UnionType) and type(None) in args:
            if raw.strip().lower() in ("none", "null", ""):
                return None
            inner = [a for a in args if a is not type(None)]
            return parse_value(key, raw, inner[0])
        if origin is tuple:
            parts = [p for p in raw.replace(" ", "").split(",") if p != ""]
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(parse_value(key, p, args[0]) for p in parts)
            if len(parts) != len(args):
                raise ValueError(raw)
            return tuple(parse_value(key, p, a) for p, a in zip(parts, args, strict=True))
    except ConfigError:
        raise
    except ValueError:
        name = getattr(typ, "__name__", str(typ))
        raise ConfigError(f"--set {key}={raw}: not a valid {name}") from None
    raise ConfigError(f"--set {key}: cannot set a field of type {typ}")


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return json_ready(dataclasses.asdict(config))


def json_ready(obj: Any) -> Any:
    """Convert tuples, numpy and torch scalars and arrays into plain JSON types."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return json_ready(obj.detach().cpu().tolist())
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj
