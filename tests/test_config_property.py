"""Every knob of every study: bad and edge values give a ConfigError or a valid config.

Drawn with Hypothesis: 0, -1, NaN, infinities, empty, huge, wrong types, and strings as
they come from ``--set``. Whatever is accepted must pass the config's own validation;
anything else must be a :class:`ConfigError` (one line and exit 2 on the CLI), never another
exception.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from occam import studies
from occam.knobs import ConfigError, validate
from occam.study import apply_overrides

EDGE = [
    0,
    -1,
    1,
    2,
    10**12,
    -(10**12),
    0.5,
    -0.5,
    1e300,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    None,
    "",
    "x",
    (),
    (0,),
    (-1,),
    (math.nan,),
    (1, 2),
    ("a",),
    [3, 4],
]
EDGE_STRINGS = [
    "0",
    "-1",
    "1",
    "nan",
    "inf",
    "-inf",
    "",
    ",",
    "1,2",
    "1,-1",
    "true",
    "none",
    "1e999",
    "abc",
    "0.5",
    "  2 ",
]

values = st.one_of(
    st.sampled_from(EDGE),
    st.sampled_from(EDGE_STRINGS),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(min_value=-3, max_value=40), max_size=3).map(tuple),
)


@pytest.mark.parametrize("name", studies.names())
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_value_gives_config_error_or_valid_config(name, data):
    study = studies.get(name)
    profile = data.draw(st.sampled_from(sorted(study.profiles)))
    base = study.profiles[profile]
    field = data.draw(st.sampled_from([f.name for f in dataclasses.fields(base)]))
    value = data.draw(values)
    try:
        config = apply_overrides(base, {field: value})
    except ConfigError:
        return
    validate(config)  # accepted values are valid ones
