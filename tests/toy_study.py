"""A tiny study used to test the framework (CLI, results folders, report) in isolation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import torch
from matplotlib.figure import Figure

from occam.claims import ClaimSpec, Control
from occam.knobs import Config, knob, non_empty, non_negative, positive
from occam.study import RunContext, Study, StudyResult


@dataclass(frozen=True)
class ToyConfig(Config):
    n: int = knob(100, "sample size", check=positive)
    scale: float = knob(1.0, "scale of the samples", check=positive)
    kind: Literal["normal", "uniform"] = knob("normal", "distribution of the samples")
    widths: tuple[int, ...] = knob((1, 2), "unused widths", check=non_empty(positive))
    fail_midway: bool = knob(False, "raise in the middle of the run (tests)")
    replicates: int = knob(3, "independent replicates (seeds)", check=positive)
    sleep_s: float = knob(0.0, "seconds to sleep mid-run (fault tests)", check=non_negative)


MEAN_SMALL = ClaimSpec(
    id="toy.mean_small",
    statement="The sample mean of n standard normals is within 0.5 of zero.",
    source="the law of large numbers",
    comparator="<=",
    threshold=0.5,
    paper_value="0",
    control=Control(
        name="shifted samples",
        description="The same mean of samples shifted by +1: it must not be within 0.5 of 0.",
    ),
)


def sample(config: ToyConfig, g: torch.Generator) -> torch.Tensor:
    if config.kind == "normal":
        return torch.randn(config.n, generator=g, dtype=torch.float64) * config.scale
    return (torch.rand(config.n, generator=g, dtype=torch.float64) - 0.5) * config.scale


def run(config: ToyConfig, ctx: RunContext) -> StudyResult:
    with ctx.timed("sample"):
        xs = [sample(config, ctx.generator("x", r)) for r in range(config.replicates)]
    (ctx.out / "started").write_text("")  # fault tests wait for this before signalling
    time.sleep(config.sleep_s)
    if config.fail_midway:
        (ctx.out / "metrics.json").write_text("{}")
        raise RuntimeError("interrupted on purpose")
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().hist(xs[0].numpy(), bins=10)
    ctx.save_figure(fig, "histogram")
    means = [float(x.mean()) for x in xs]
    mean = means[0]
    return StudyResult(
        metrics={"mean": mean, "means": means, "n": config.n},
        claims=[MEAN_SMALL.judge([abs(m) for m in means], [abs(m + 1.0) for m in means])],
        tables={"summary": [{"n": config.n, "mean": mean}]},
        reading="The mean is small.",
    )


STUDY = Study(
    name="toy",
    title="A toy study",
    papers="none",
    config_cls=ToyConfig,
    profiles={"smoke": ToyConfig(n=10), "quick": ToyConfig(), "full": ToyConfig(n=10000)},
    claims=(MEAN_SMALL,),
    run=run,
)
