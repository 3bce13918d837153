"""One chunk of an ensemble-sampling job: train a batch of nets, count their functions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from occam.executors.sampler import FunctionCounts
from occam.nets.ensemble import TrainSpec, bits_to_strings, train_ensemble


@dataclass(frozen=True)
class EnsembleChunk:
    """A picklable task ``(chunk, seed) -> FunctionCounts`` for :func:`occam.executors.run_chunks`.

    arch: anything with ``build(generator=...) -> nn.Module`` (e.g. ``FCNArch``).
    X_train (m, ...), y_train (m,) in {0,1}, X_test (|E|, ...): the data, as tensors.
    """

    arch: Any
    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    spec: TrainSpec
    nets_per_chunk: int
    device: str = "cpu"

    def __call__(self, chunk: int, seed: int) -> FunctionCounts:
        g = torch.Generator().manual_seed(seed)
        out = train_ensemble(
            self.arch.build,
            self.X_train,
            self.y_train,
            self.X_test,
            self.nets_per_chunk,
            self.spec,
            g,
            device=self.device,
            init_stacked=getattr(self.arch, "init_stacked", None),
        )
        return FunctionCounts(
            counts=Counter(bits_to_strings(out.functions)),
            n_runs=out.n_runs,
            n_unfitted=out.n_unfitted,
            epochs_sum=float(out.epochs.sum()),
        )
