"""A tiny chunked study: several sampling jobs of cheap, seeded chunks (slices, merges and
Ray's lifetime through a whole run, without training nets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from counting import count_chunk

from occam.executors import run_chunks
from occam.knobs import Config, knob, positive
from occam.study import RunContext, Study, StudyResult


@dataclass(frozen=True)
class ChunkConfig(Config):
    jobs: int = knob(2, "sampling jobs (job j has chunks + j chunks)", check=positive)
    chunks: int = knob(3, "chunks of the first job", check=positive)
    executor: Literal["local", "processes", "ray"] = knob("local", "where chunks run")
    workers: int = knob(2, "processes of the pool", check=positive)
    ray_address: str = knob("", "Ray cluster address")


def run(config: ChunkConfig, ctx: RunContext) -> StudyResult:
    totals = []
    for j in range(config.jobs):
        totals.append(
            run_chunks(
                count_chunk,
                config.chunks + j,
                seed=ctx.seed_for("job", j),
                checkpoint=ctx.checkpoint(f"job{j}"),
                key=f"job{j}",
                executor=config.executor,
                address=config.ray_address or None,
                workers=config.workers,
                session=ctx.sampling,
            )
        )
    if ctx.sampling_only:
        return StudyResult(metrics={}, claims=[])
    return StudyResult(metrics={"counts": [t.to_dict() for t in totals]}, claims=[])


STUDY = Study(
    name="chunky",
    title="A chunked toy study",
    papers="none",
    config_cls=ChunkConfig,
    profiles={p: ChunkConfig() for p in ("smoke", "quick", "full")},
    claims=(),
    run=run,
    chunked=True,
)
