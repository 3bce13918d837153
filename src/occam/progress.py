"""Rich progress bars that switch off with ``--quiet`` (and when output is neither a terminal
nor a Jupyter notebook, where Rich draws them as live widgets)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Turn all progress bars off (``True``) or on."""
    global _QUIET
    _QUIET = quiet


def is_quiet() -> bool:
    """Whether ``--quiet`` switched progress bars off for the whole process."""
    return _QUIET


def track(
    iterable: Iterable[T], description: str, total: int | None = None, quiet: bool = False
) -> Iterator[T]:
    """Yield from ``iterable`` while drawing a Rich progress bar on stderr."""
    if quiet or _QUIET:
        yield from iterable
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not (console.is_terminal or console.is_jupyter),
    ) as progress:
        yield from progress.track(iterable, total=total, description=description)
