"""From the config to one experimental setting: the problem (S, E, network) and the trainer.

:func:`problem_for` builds S and E for a dataset with the config's architecture;
:func:`train_spec` gives the optimiser, learning rate and batch size of the main setting or
of one of the paper's variants (§6: optimisers, batch size, learning rate, overtraining).
"""

from __future__ import annotations

import dataclasses

from occam.nets.ensemble import TrainSpec
from occam.sgd_bayes.config import VARIANTS, SgdBayesConfig
from occam.sgd_bayes.problems import Problem, make_problem


def problem_for(cfg: SgdBayesConfig, name: str, seed: int) -> Problem:
    """S (a seeded draw), E and the network of dataset ``name`` under ``cfg``."""
    if name == "imdb":
        from occam.sgd_bayes.imdb import imdb_problem

        return imdb_problem(cfg, seed)
    if name == "boolean":
        return make_problem(
            "boolean",
            n_train=cfg.boolean_n_train,
            n_test=cfg.boolean_n_test or 128 - cfg.boolean_n_train,
            seed=seed,
            widths=cfg.boolean_widths,
            sigma_w=cfg.boolean_sigma,
            sigma_b=cfg.boolean_sigma,
        )
    return make_problem(
        name,
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        seed=seed,
        widths=cfg.widths,
        sigma_w=cfg.sigma_w,
        sigma_b=cfg.sigma_b,
        binarization=cfg.binarization,
        pool=cfg.pool,
        image_arch=cfg.fashion_arch if name == "fashion-mnist" else "fcn",
        cnn_channels=cfg.cnn_channels,
    )


def train_spec(cfg: SgdBayesConfig, problem: Problem, variant: str | None) -> TrainSpec:
    """The trainer of the main setting (``variant=None``) or of a named variant."""
    lr, batch = cfg.lr, cfg.batch_size
    if problem.name == "boolean":
        lr, batch = cfg.boolean_lr, cfg.boolean_batch
    optimizer = cfg.optimizer
    if problem.name == "imdb":
        lr, optimizer = cfg.imdb_lr, cfg.imdb_optimizer
    spec = TrainSpec(optimizer=optimizer, lr=lr, batch_size=batch, max_epochs=cfg.max_epochs)
    if variant:
        changes = dict(VARIANTS[variant])
        factor = changes.pop("lr_factor", 1.0)
        if variant == "overtrain":
            changes["epochs_after_fit"] = cfg.overtrain_epochs
        spec = dataclasses.replace(spec, **changes)
        spec = dataclasses.replace(spec, lr=(spec.lr or spec.learning_rate) * factor)
    return spec
