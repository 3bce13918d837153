"""meta-bayes: CPU seconds of each stage of one replicate at the ``full`` profile.

Runs ``occam.meta_bayes.study.replicate`` (replicate 0, run seed 0) at the full profile and
prints each stage's CPU seconds (``time.process_time``, one torch thread: what a wall clock
shows on an idle core); the full profile runs ``replicates`` (5) of them. ``--fractions f``
scales every training length (pred_steps, bandit_updates, hard_bandit_updates,
template_updates, map_steps, distil_steps, fixed_point_steps) by f, everything else (batch
sizes, evaluation and simulation episodes, evaluation points, tasks) staying full; with two
fractions each stage's time is taken as affine in f and extrapolated to f = 1 (only
meaningful when the training steps dominate the noise: fractions of a few percent are not
enough for the predictors, whose full training costs seconds). Printed, not asserted.

Usage: python benchmarks/meta_bayes_full_time.py [--fractions 1]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from occam.meta_bayes import experiments as ex
from occam.meta_bayes import study
from occam.meta_bayes.config import PROFILES, MetaBayesConfig
from occam.study import RunContext

SCALED = (
    "pred_steps",
    "bandit_updates",
    "hard_bandit_updates",
    "template_updates",
    "map_steps",
    "distil_steps",
    "fixed_point_steps",
)


@dataclasses.dataclass
class CpuContext(RunContext):
    """A run context whose stage timings are CPU seconds of this process."""

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        t0 = time.process_time()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.process_time() - t0


def scaled(config: MetaBayesConfig, fraction: float) -> MetaBayesConfig:
    return dataclasses.replace(
        config, **{k: max(1, round(getattr(config, k) * fraction)) for k in SCALED}
    )


def stage_times(config: MetaBayesConfig) -> dict[str, float]:
    ctx = CpuContext(out=Path(tempfile.mkdtemp()), seed=0, device=torch.device("cpu"), quiet=True)
    t0 = time.process_time()
    study.replicate(config, ctx, 0)
    with ctx.timed("bandit/dp (once per run)"):
        ex.bandit_dp_table(config)
    ctx.timings["replicate, total"] = time.process_time() - t0
    return dict(ctx.timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[1.0])
    args = parser.parse_args()
    torch.set_num_threads(1)
    full = PROFILES["full"]
    fractions = args.fractions[:2]
    runs = []
    for f in fractions:
        config = scaled(full, f)
        print(f"fraction {f}: " + ", ".join(f"{k}={getattr(config, k)}" for k in SCALED))
        runs.append(stage_times(config))
    if len(runs) == 1:
        print("{:<28} {:>12}".format("stage", f"CPU s @{fractions[0]}"))
        for stage, t in runs[0].items():
            print(f"{stage:<28} {t:>12.1f}")
    else:
        f1, f2 = fractions
        head = ("stage", f"CPU s @{f1}", f"CPU s @{f2}", "full (extrap.)")
        print("{:<28} {:>12} {:>12} {:>15}".format(*head))
        for stage in runs[1]:
            a, b = runs[0].get(stage, 0.0), runs[1][stage]
            at_one = a + (b - a) / (f2 - f1) * (1.0 - f1)
            print(f"{stage:<28} {a:>12.1f} {b:>12.1f} {at_one:>15.0f}")
    print(f"full profile: {full.replicates} replicates of the replicate total")


if __name__ == "__main__":
    main()
