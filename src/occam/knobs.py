"""Config knobs that document and validate themselves.

A study's config is a frozen dataclass whose fields are the papers' knobs. Each field is
declared with :func:`knob`, which records a one-line doc and the values it allows::

    @dataclass(frozen=True)
    class MyConfig(Config):
        n_runs: int = knob(5000, "SGD runs per dataset", check=positive)
        lr: float = knob(0.01, "learning rate", check=positive)
        widths: tuple[int, ...] = knob((8, 16), "hidden widths", check=non_empty(positive))

:class:`Config` validates in ``__post_init__``, so a bad value is refused when the config
is built, from the CLI (``--set``) and from Python alike, with a :class:`ConfigError` that
names the field, the value and what is allowed. Types are checked from the annotations
(``int`` refuses ``True`` and ``2.5``; ``float`` refuses NaN and infinities; tuples check
each element; ``Literal`` checks membership).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """Bad user input for a study's configuration (unknown key, ill-typed or out-of-range)."""


@dataclass(frozen=True)
class Check:
    """A predicate on a knob's value with the words that describe what it allows."""

    describe: str
    predicate: Callable[[Any], bool]

    def __call__(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


positive = Check("> 0", lambda v: _num(v) and v > 0)
non_negative = Check(">= 0", lambda v: _num(v) and v >= 0)
unit_interval = Check("in (0, 1]", lambda v: _num(v) and 0 < v <= 1)
probability = Check("in [0, 1]", lambda v: _num(v) and 0 <= v <= 1)
open_unit = Check("in (0, 1)", lambda v: _num(v) and 0 < v < 1)
anything = Check("any value of its type", lambda v: True)


def at_least(lo: float) -> Check:
    """Values >= ``lo``."""
    return Check(f">= {lo:g}", lambda v: _num(v) and v >= lo)


def at_most(hi: float) -> Check:
    """Values <= ``hi``."""
    return Check(f"<= {hi:g}", lambda v: _num(v) and v <= hi)


def between(lo: float, hi: float) -> Check:
    """Values in the closed interval [lo, hi]."""
    return Check(f"in [{lo:g}, {hi:g}]", lambda v: _num(v) and lo <= v <= hi)


def one_of(*choices: Any) -> Check:
    """Values among ``choices``."""
    return Check(f"one of {', '.join(map(str, choices))}", lambda v: v in choices)


def non_empty(each: Check = anything) -> Check:
    """Non-empty tuples whose every element passes ``each``."""
    words = "non-empty" if each is anything else f"non-empty, each {each.describe}"
    return Check(words, lambda v: len(v) > 0 and all(each(x) for x in v))


def each(check: Check) -> Check:
    """Tuples (possibly empty) whose every element passes ``check``."""
    return Check(f"each {check.describe}", lambda v: all(check(x) for x in v))


def knob(default: Any, doc: str, *, check: Check = anything) -> Any:
    """A config field with a one-line doc and the check its values must pass."""
    return dataclasses.field(default=default, metadata={"doc": doc, "check": check})


def knob_doc(f: dataclasses.Field[Any]) -> str:
    """The one-line doc of a field (empty when it was not declared with :func:`knob`)."""
    return str(f.metadata.get("doc", ""))


def knob_check(f: dataclasses.Field[Any]) -> Check:
    """The check of a field (:data:`anything` when it was not declared with :func:`knob`)."""
    check = f.metadata.get("check", anything)
    assert isinstance(check, Check)
    return check


def type_name(typ: Any) -> str:
    """A short human name for a field type (``int``, ``tuple of float``, ``one of a, b``)."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(str, args))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"tuple of {type_name(args[0])}"
        return "(" + ", ".join(type_name(a) for a in args) + ")"
    if origin in (typing.Union, types.UnionType):
        return " or ".join("none" if a is type(None) else type_name(a) for a in args)
    return getattr(typ, "__name__", str(typ))


def _type_ok(value: Any, typ: Any) -> bool:
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if typ is Any:
        return True
    if typ is bool:
        return isinstance(value, bool)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if typ is float:
        return _num(value)
    if typ is str:
        return isinstance(value, str)
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in args)
    if typ is type(None):
        return value is None
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_type_ok(v, args[0]) for v in value)
        return len(value) == len(args) and all(
            _type_ok(v, a) for v, a in zip(value, args, strict=True)
        )
    if isinstance(typ, type):
        return isinstance(value, typ)
    return True


def coerce(value: Any, typ: Any) -> Any:
    """Gentle conversions from Python values: lists to tuples, ints to floats."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is tuple and isinstance(value, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0]) for v in value)
        if len(args) == len(value):
            return tuple(coerce(v, a) for v, a in zip(value, args, strict=True))
        return tuple(value)
    if origin in (typing.Union, types.UnionType) and value is not None:
        for a in args:
            if a is not type(None):
                converted = coerce(value, a)
                if _type_ok(converted, a):
                    return converted
    return value


def validate(config: Any) -> None:
    """Check every field of dataclass ``config`` against its type and its knob's check.

    Raises :class:`ConfigError` naming the first bad field, its value and what is allowed.
    """
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        typ = hints[f.name]
        if not _type_ok(value, typ):
            raise ConfigError(f"{f.name}={value!r}: expected {type_name(typ)}")
        check = knob_check(f)
        if value is not None and not check(value):
            raise ConfigError(f"{f.name}={value!r}: must be {check.describe}")


class Config:
    """Mixin for study configs: validates every field when the dataclass is built.

    Subclasses may add cross-field rules in :meth:`check` (raise :class:`ConfigError`).
    """

    def __post_init__(self) -> None:
        validate(self)
        self.check()

    def check(self) -> None:
        """Cross-field rules; the default has none."""


def describe_fields(config: Any) -> list[dict[str, str]]:
    """One row per knob: name, type, default (the value in ``config``), allowed, doc."""
    hints = typing.get_type_hints(type(config))
    rows = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        rows.append(
            {
                "name": f.name,
                "type": type_name(hints[f.name]),
                "value": _show(value),
                "allowed": knob_check(f).describe,
                "doc": knob_doc(f),
            }
        )
    return rows


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(_show(v) for v in value)
    return str(value)
