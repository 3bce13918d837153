"""Claims: a paper's statement, the numbers we measured, a negative control, and a verdict.

A :class:`ClaimSpec` is written in code *before* a run. It fixes the statement, the source in
the paper, the paper's own value (where it gives one), the test that decides the verdict (a
comparator and a threshold), what one replicate is, and a :class:`Control`: the same
measurement under a condition where the claim must **not** hold (an untrained network, a
greedy policy, shuffled labels, a mismatched prior ...).

After the run, :meth:`ClaimSpec.judge` turns the replicate values of the measurement and of
its control into a :class:`Claim`:

1. The replicates are aggregated (mean or median) and a 95% percentile-bootstrap interval of
   the aggregate is computed over them (deterministic: the resampling generator is seeded
   from the claim id).
2. The test is applied to the whole interval: **holds** when every value in it passes,
   **fails** when every value in it fails, **inconclusive** when it straddles the threshold
   (or no replicate gave a finite value). With three replicates the 95% interval is
   essentially [min, max], so "holds" means every replicate passed. A verdict needs at
   least ``min(MIN_REPLICATES, planned)`` replicates that gave a value: with fewer (say one
   draw of three, the others undefined) the claim is **inconclusive**, whatever that one
   value says, so no verdict rests on a single lucky replicate.
3. The control is judged the same way. If the control *holds* too, the measurement cannot
   tell the science apart from its negation and the claim's verdict is **uninformative**.

Comparators
-----------
``"<="``, ``"<"``, ``">="``, ``">"``
    the aggregate compared with a scalar threshold.
``"between"``
    ``threshold = (lo, hi)``, inclusive.
``"is_true"``
    each replicate is a boolean (or 0/1); the aggregate is the fraction of replicates that
    are true, and the test is "more than half are true". Threshold is ignored.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Verdict = Literal["holds", "fails", "inconclusive", "uninformative"]
TestVerdict = Literal["holds", "fails", "inconclusive"]
Comparator = Literal["<=", "<", ">=", ">", "between", "is_true"]
Aggregate = Literal["mean", "median"]

VERDICTS: tuple[str, ...] = ("holds", "fails", "inconclusive", "uninformative")
_COMPARATORS: tuple[str, ...] = ("<=", "<", ">=", ">", "between", "is_true")
LEVEL = 0.95  # the interval's coverage
N_BOOT = 4000  # bootstrap resamples (the interval's Monte Carlo error is ~1% of its width)
MIN_REPLICATES = 3  # a verdict needs min(this, planned) replicates that gave a value

Value = float | bool | int | None


@dataclass(frozen=True)
class Control:
    """A negative control: the claim's measurement where the claim must not hold.

    name: a short label (``"untrained LSTM"``, ``"greedy policy"``).
    description: one sentence saying what is changed and why the claim must fail there.
    """

    name: str
    description: str


@dataclass(frozen=True)
class ClaimSpec:
    """A claim fixed before the run: what is asserted, how it is judged, and its control.

    replicate: what one replicate is (``"seed"``, ``"draw of S and nets"``,
    ``"random polynomial"`` ...); the bootstrap interval is taken over these units.
    aggregate: how replicates combine into the measured value (``mean`` or ``median``).
    """

    id: str
    statement: str
    source: str
    comparator: Comparator
    threshold: float | tuple[float, float] | None = None
    paper_value: str | None = None
    unit: str = ""
    control: Control | None = None
    replicate: str = "seed"
    aggregate: Aggregate = "mean"

    def __post_init__(self) -> None:
        if self.comparator not in _COMPARATORS:
            raise ValueError(f"claim {self.id}: unknown comparator {self.comparator!r}")
        if self.comparator == "between":
            if not (isinstance(self.threshold, tuple) and len(self.threshold) == 2):
                raise ValueError(f"claim {self.id}: 'between' needs a (lo, hi) threshold")
        elif self.comparator != "is_true" and not isinstance(self.threshold, int | float):
            raise ValueError(f"claim {self.id}: comparator {self.comparator} needs a number")
        if self.aggregate not in ("mean", "median"):
            raise ValueError(f"claim {self.id}: unknown aggregate {self.aggregate!r}")

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

    def judge(
        self,
        replicates: Sequence[Value],
        control: Sequence[Value] | None = None,
        detail: str = "",
        control_detail: str = "",
    ) -> Claim:
        """Judge the replicate values of the measurement and of its control.

        replicates: one value per replicate (``None`` or a non-finite value: that replicate
        gave no measurement; it is left out and counted in ``Claim.missing``).
        control: the control's replicate values (required when the spec names a control).
        """
        if self.control is not None and control is None:
            raise ValueError(f"claim {self.id}: its control {self.control.name!r} was not run")
        if self.control is None and control is not None:
            raise ValueError(f"claim {self.id}: control values given but no control declared")
        values, missing = _clean(replicates, self.comparator)
        measured, interval = summarise(values, self.aggregate, key=self.id)
        verdict: Verdict = _verdict(self.comparator, self.threshold, interval)
        if too_few(len(values), len(replicates)):
            verdict = "inconclusive"
            note = f"only {len(values)} of {len(replicates)} replicates gave a value"
            detail = f"{detail}; {note}" if detail else note
        control_result = None
        if self.control is not None and control is not None:
            cvalues, cmissing = _clean(control, self.comparator)
            cmeasured, cinterval = summarise(cvalues, self.aggregate, key=self.id + "/control")
            cverdict = _verdict(self.comparator, self.threshold, cinterval)
            if too_few(len(cvalues), len(control)):
                cverdict = "inconclusive"
            control_result = ControlResult(
                name=self.control.name,
                description=self.control.description,
                measured=cmeasured,
                interval=cinterval,
                replicates=tuple(cvalues),
                verdict=cverdict,
                missing=cmissing,
                detail=control_detail,
            )
            if cverdict == "holds":
                verdict = "uninformative"
        return Claim(
            spec=self,
            measured=measured,
            verdict=verdict,
            detail=detail,
            interval=interval,
            replicates=tuple(values),
            missing=missing,
            control=control_result,
        )

    def evaluate(self, measured: Value, detail: str = "") -> Claim:
        """Judge one value (a single replicate, no control): for tests and older code."""
        if self.control is None:
            return self.judge([measured], None, detail)
        raise ValueError(f"claim {self.id}: has a control; use judge(replicates, control)")


def too_few(valid: int, planned: int) -> bool:
    """Whether ``valid`` finite replicates of ``planned`` are too few for a verdict."""
    return valid < min(MIN_REPLICATES, planned)


def _clean(values: Sequence[Value], comparator: str) -> tuple[list[float], int]:
    out: list[float] = []
    missing = 0
    for v in values:
        if v is None:
            missing += 1
            continue
        x = float(bool(v)) if comparator == "is_true" else float(v)
        if math.isfinite(x):
            out.append(x)
        else:
            missing += 1
    return out, missing


def summarise(
    values: Sequence[float], aggregate: Aggregate = "mean", key: str = ""
) -> tuple[float | None, tuple[float, float] | None]:
    """The aggregate of ``values`` and its 95% percentile-bootstrap interval.

    Written out here rather than with ``scipy.stats.bootstrap``: that routine returns NaN
    for a degenerate sample (all replicates equal, common for exact computations) and its
    BCa default is unstable at the 3-5 replicates a study runs. The resampling generator is
    seeded from ``key``, so the same values give the same interval.
    Returns (None, None) for an empty sample.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return None, None
    agg = np.mean if aggregate == "mean" else np.median
    point = float(agg(x))
    if x.size == 1 or np.all(x == x[0]):
        return point, (point, point)
    seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(N_BOOT, x.size))
    stats = agg(x[idx], axis=1)
    alpha = (1.0 - LEVEL) / 2.0
    lo, hi = np.quantile(stats, [alpha, 1.0 - alpha])
    return point, (float(lo), float(hi))


def passes(comparator: str, threshold: Any, value: float) -> bool:
    """Whether one value passes the test (``is_true``: the fraction true exceeds 1/2)."""
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
        return value > 0.5
    raise ValueError(f"unknown comparator {comparator!r}")


def _verdict(comparator: str, threshold: Any, interval: tuple[float, float] | None) -> TestVerdict:
    """holds if the whole interval passes, fails if the whole interval fails."""
    if interval is None:
        return "inconclusive"
    lo, hi = interval
    if comparator == "between":
        a, b = threshold
        if a <= lo and hi <= b:
            return "holds"
        if hi < a or lo > b:
            return "fails"
        return "inconclusive"
    # The other tests are monotone in the value, so the interval's ends decide.
    ok_lo, ok_hi = passes(comparator, threshold, lo), passes(comparator, threshold, hi)
    if ok_lo and ok_hi:
        return "holds"
    if not ok_lo and not ok_hi:
        return "fails"
    return "inconclusive"


@dataclass(frozen=True)
class ControlResult:
    """The judged negative control of a claim."""

    name: str
    description: str
    measured: float | None
    interval: tuple[float, float] | None
    replicates: tuple[float, ...]
    verdict: TestVerdict
    missing: int = 0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "measured": self.measured,
            "interval": None if self.interval is None else list(self.interval),
            "replicates": list(self.replicates),
            "missing": self.missing,
            "verdict": self.verdict,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Claim:
    """A judged claim: the spec, the aggregate over replicates, its interval and verdict."""

    spec: ClaimSpec
    measured: float | None
    verdict: Verdict
    detail: str = field(default="")
    interval: tuple[float, float] | None = None
    replicates: tuple[float, ...] = ()
    missing: int = 0
    control: ControlResult | None = None

    def to_dict(self) -> dict[str, Any]:
        threshold: Any = self.spec.threshold
        if isinstance(threshold, tuple):
            threshold = list(threshold)
        return {
            "id": self.spec.id,
            "statement": self.spec.statement,
            "source": self.spec.source,
            "comparator": self.spec.comparator,
            "threshold": threshold,
            "paper_value": self.spec.paper_value,
            "unit": self.spec.unit,
            "replicate": self.spec.replicate,
            "aggregate": self.spec.aggregate,
            "test": self.spec.test,
            "measured": self.measured,
            "interval": None if self.interval is None else list(self.interval),
            "replicates": list(self.replicates),
            "missing": self.missing,
            "verdict": self.verdict,
            "detail": self.detail,
            "control": None if self.control is None else self.control.to_dict(),
        }
