"""Bad knob values are refused when the config is built, with a ConfigError naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from occam.knobs import ConfigError
from occam.meta_bayes import STUDY, MetaBayesConfig


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("bandit_horizon", "0"),
        ("hidden", "0"),
        ("hidden", "-4"),
        ("pred_lr", "nan"),
        ("pred_lr", "inf"),
        ("pred_steps", "-5"),
        ("tasks", ""),
        ("tasks", "beta_1"),
        ("tasks", "beta_nan_1"),
        ("sim_tasks", "gamma_1"),
        ("sim_tasks", "bandits"),
        ("coarse_task", "beta_1_1"),
        ("coarse_task", "dirichlet_1_1"),
        ("hard_bandit_horizon", "101"),
        ("hard_bandit_arms", "4"),
        ("bandit_arms", "5"),
        ("bandit_prior", "0,1"),
        ("lr_final_frac", "1.5"),
        ("gittins_gamma", "1"),
        ("sim_episodes", "2"),
    ],
)
def test_bad_values_raise_config_error(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        STUDY.config("smoke", {key: value})


def test_typed_python_overrides_and_wrong_types() -> None:
    cfg = STUDY.config("smoke", {"tasks": ["beta_1_1"], "pred_lr": 1})
    assert cfg.tasks == ("beta_1_1",) and cfg.pred_lr == 1.0
    with pytest.raises(ConfigError, match="hidden"):
        STUDY.config("smoke", {"hidden": 2.5})
    with pytest.raises(ConfigError, match="cell"):
        dataclasses.replace(MetaBayesConfig(), cell="rnn")  # type: ignore[arg-type]


def test_every_profile_is_valid() -> None:
    for name, cfg in STUDY.profiles.items():
        assert isinstance(cfg, MetaBayesConfig), name
        assert dataclasses.replace(cfg) == cfg
