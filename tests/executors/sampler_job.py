"""A small real sampling job (digits, tiny FCNs) shared by the sampler tests and run as a script.

Usage: python sampler_job.py CHECKPOINT N_CHUNKS SEED   (prints the merged counts as JSON)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from sklearn.datasets import load_digits

from occam.executors import run_chunks
from occam.nets.chunk import EnsembleChunk
from occam.nets.ensemble import TrainSpec
from occam.sgd_bayes.arch import FCNArch


def make_chunk(nets_per_chunk: int = 12) -> EnsembleChunk:
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X[:60] / 16.0, dtype=torch.float32)
    y = torch.tensor(y[:60] >= 5, dtype=torch.float32)
    return EnsembleChunk(
        arch=FCNArch(64, (16,), sigma_w=1.41, sigma_b=0.1),
        X_train=X[:30],
        y_train=y[:30],
        X_test=X[30:45],
        spec=TrainSpec(optimizer="sgd", lr=0.3, batch_size=10, max_epochs=60),
        nets_per_chunk=nets_per_chunk,
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    ckpt, n_chunks, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    total = run_chunks(make_chunk(), n_chunks, seed, checkpoint=ckpt, key="digits-test")
    print(json.dumps(total.to_dict(), sort_keys=True))
