"""P_SGD(f|S): the frequencies of the functions that independently trained networks express.

Each run trains one network from the paper's initialisation until its first epoch with 100%
training accuracy (plus ``epochs_after_fit``) and reads its labelling of E (§3, Appendix A).
The runs are batched into ensembles (:mod:`occam.nets`) and split into chunks that are
seeded by index, so the counts do not depend on how the chunks are scheduled (in-process,
a process pool or Ray) and an interrupted run resumes from its checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from occam.executors.sampler import FunctionCounts, job_key, run_chunks
from occam.nets.chunk import EnsembleChunk
from occam.nets.ensemble import TrainSpec
from occam.sgd_bayes.config import SgdBayesConfig
from occam.sgd_bayes.problems import Problem
from occam.study import RunContext


def sample_sgd(
    cfg: SgdBayesConfig,
    problem: Problem,
    spec: TrainSpec,
    n_runs: int,
    ctx: RunContext,
    label: str,
    replicate: int = 0,
    arch: Any = None,
) -> FunctionCounts:
    """P_SGD by chunks of batched ensembles (resumable with the same --out).

    The nets' seeds come from the stream ``label`` of ``replicate`` (``ctx.seed_for``), one
    derived seed per chunk index, so the counts are the same whatever runs the chunks and in
    whatever order. ``n_runs`` is split into equal chunks of at most ``cfg.nets_per_chunk``
    nets (rounded up to a multiple of the number of chunks, so at most n_chunks - 1 extra runs).
    """
    n_chunks = math.ceil(n_runs / cfg.nets_per_chunk)
    task = EnsembleChunk(
        arch=arch or problem.arch,
        X_train=problem.X_train,
        y_train=problem.y_train,
        X_test=problem.X_test,
        spec=spec,
        nets_per_chunk=math.ceil(n_runs / n_chunks),
        device=str(ctx.device),
    )
    data_id = [  # the data are part of the job: a checkpoint must not outlive a change of S or E
        problem.description,
        float(task.X_train.double().sum()),
        job_key(task.y_train.tolist()),
        float(task.X_test.double().sum()),
        list(task.X_test.shape),
    ]
    seed = ctx.seed_for(label, replicate)
    key = job_key([label, dataclasses.asdict(spec), repr(task.arch), n_chunks, seed, data_id])
    return run_chunks(
        task,
        n_chunks,
        seed=seed,
        checkpoint=ctx.checkpoint(f"{label}-r{replicate}-{key}"),  # a folder: a file per chunk
        key=key,
        executor=cfg.executor,
        address=cfg.ray_address or None,
        workers=cfg.workers,
        progress=lambda it, total: ctx.progress(it, f"P_SGD {label}", total=total),
        log=ctx.log.info,
        session=ctx.sampling,
    )
