"""Claims: a paper's statement, the number we measured, and a verdict computed from it.

A :class:`ClaimSpec` is written in code *before* a run: it fixes the statement, the source in
the paper, the paper's own value (where it gives one) and the test that decides the verdict
(a comparator and a threshold). After the run, :meth:`ClaimSpec.evaluate` turns a measured
value into a :class:`Claim`, whose verdict is ``holds``, ``fails`` or ``inconclusive`` (the
measurement is missing or not a finite number).

Comparators
-----------
``"<="``, ``"<"``, ``">="``, ``">"``
    measured compared with a scalar threshold.
``"between"``
    ``threshold = (lo, hi)``, inclusive.
``"is_true"``
    measured is a boolean (or 0/1); threshold is ignored.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Verdict = Literal["holds", "fails", "inconclusive"]
Comparator = Literal["<=", "<", ">=", ">", "between", "is_true"]

_COMPARATORS: tuple[str, ...] = ("<=", "<", ">=", ">", "between", "is_true")


@dataclass(frozen=True)
class ClaimSpec:
    """A claim fixed before the run: what is asserted and how it will be judged."""

    id: str
    statement: str
    source: str
    comparator: Comparator
    threshold: float | tuple[float, float] | None = None
    paper_value: str | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        if self.comparator not in _COMPARATORS:
            raise ValueError(f"claim {self.id}: unknown comparator {self.comparator!r}")
        if self.comparator == "between":
            if not (isinstance(self.threshold, tuple) and len(self.threshold) == 2):
                raise ValueError(f"claim {self.id}: 'between' needs a (lo, hi) threshold")
        elif self.comparator != "is_true" and not isinstance(self.threshold, int | float):
            raise ValueError(f"claim {self.id}: comparator {self.comparator} needs a number")

    @property
    def test(self) -> str:
        """The test in words, e.g. ``measured <= 0.001``."""
        if self.comparator == "between":
            assert isinstance(self.threshold, tuple)
            lo, hi = self.threshold
            return f"{lo:g} <= measured <= {hi:g}"
        if self.comparator == "is_true":
            return "measured is true"
        return f"measured {self.comparator} {self.threshold:g}"

    def evaluate(self, measured: float | bool | None, detail: str = "") -> Claim:
        """Judge ``measured`` against this spec and return the resulting :class:`Claim`."""
        value: float | None
        if measured is None:
            value = None
        else:
            value = float(measured)
            if not math.isfinite(value):
                value = None
        verdict: Verdict
        if value is None:
            verdict = "inconclusive"
        else:
            verdict = "holds" if _passes(self.comparator, self.threshold, value) else "fails"
        return Claim(spec=self, measured=value, verdict=verdict, detail=detail)


def _passes(comparator: str, threshold: Any, value: float) -> bool:
    if comparator == "<=":
        return value <= threshold
    if comparator == "<":
        return value < threshold
    if comparator == ">=":
        return value >= threshold
    if comparator == ">":
        return value > threshold
    if comparator == "between":
        lo, hi = threshold
        return bool(lo <= value <= hi)
    if comparator == "is_true":
        return bool(value)
    raise ValueError(f"unknown comparator {comparator!r}")


@dataclass(frozen=True)
class Claim:
    """A judged claim: the spec, the measured value and the verdict."""

    spec: ClaimSpec
    measured: float | None
    verdict: Verdict
    detail: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        spec = asdict(self.spec)
        if isinstance(spec["threshold"], tuple):
            spec["threshold"] = list(spec["threshold"])
        return {
            **spec,
            "test": self.spec.test,
            "measured": self.measured,
            "verdict": self.verdict,
            "detail": self.detail,
        }
