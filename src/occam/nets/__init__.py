"""Batched ensembles of small networks: N independent nets trained at once."""

from occam.nets.ensemble import (
    OPTIMIZERS,
    EnsembleOutcome,
    TrainSpec,
    make_optimizer,
    train_ensemble,
)

__all__ = ["OPTIMIZERS", "EnsembleOutcome", "TrainSpec", "make_optimizer", "train_ensemble"]
