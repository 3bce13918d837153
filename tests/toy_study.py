"""A tiny study used to test the framework (CLI, results folders, report) in isolation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from occam.claims import ClaimSpec  # noqa: E402
from occam.study import RunContext, Study, StudyResult  # noqa: E402


@dataclass(frozen=True)
class ToyConfig:
    n: int = 100
    scale: float = 1.0
    kind: Literal["normal", "uniform"] = "normal"
    widths: tuple[int, ...] = (1, 2)
    fail_midway: bool = False


MEAN_SMALL = ClaimSpec(
    id="toy.mean_small",
    statement="The sample mean of n standard normals is within 0.5 of zero.",
    source="the law of large numbers",
    comparator="<=",
    threshold=0.5,
    paper_value="0",
)


def run(config: ToyConfig, ctx: RunContext) -> StudyResult:
    g = ctx.generator()
    if config.kind == "normal":
        x = torch.randn(config.n, generator=g, dtype=torch.float64) * config.scale
    else:
        x = (torch.rand(config.n, generator=g, dtype=torch.float64) - 0.5) * config.scale
    if config.fail_midway:
        (ctx.out / "metrics.json").write_text("{}")
        raise RuntimeError("interrupted on purpose")
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.hist(x.numpy(), bins=10)
    ctx.save_figure(fig, "histogram")
    mean = float(x.mean())
    return StudyResult(
        metrics={"mean": mean, "n": config.n},
        claims=[MEAN_SMALL.evaluate(abs(mean))],
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
