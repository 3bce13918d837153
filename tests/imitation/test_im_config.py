"""Bad knob values are refused when the config is built, with a ConfigError naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from occam.imitation.config import PROFILES, ImitationConfig
from occam.imitation.study import STUDY
from occam.knobs import ConfigError, knob_doc


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("alphas", "2"),
        ("alphas", "-1"),
        ("alphas", ""),
        ("delta", "nan"),
        ("delta", "1"),
        ("e1_seeds", "0"),
        ("e1_horizon", "-5"),
        ("e1_actions", "1"),
        ("e1_hazard_contexts", "50"),
        ("e2_size", "2"),
        ("e2_truth_beta", "3"),
        ("e2_truth_caution", "0"),
        ("e3_members", "1"),
        ("e3_floor", "inf"),
        ("ens_dagger_chis", ""),
    ],
)
def test_bad_values_raise_config_error(key, raw):
    with pytest.raises(ConfigError, match=key):
        STUDY.config("smoke", {key: raw})


def test_typed_overrides_and_profiles_are_valid():
    config = STUDY.config("smoke", {"alphas": (0.1, 0.01), "e1_seeds": 2})
    assert config.alphas == (0.1, 0.01) and config.e1_seeds == 2
    with pytest.raises(ConfigError):
        ImitationConfig(e1_twin_eps=(0.0,))
    for profile in PROFILES.values():
        assert isinstance(profile, ImitationConfig)


def test_every_knob_is_documented():
    for f in dataclasses.fields(ImitationConfig):
        assert knob_doc(f), f.name
