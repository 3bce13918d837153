import pytest
from toy_study import STUDY, ToyConfig

from occam.study import ConfigError, apply_overrides


def test_overrides_are_typed():
    cfg = apply_overrides(
        ToyConfig(), {"n": "5", "scale": "2.5", "kind": "uniform", "widths": "4,8,16"}
    )
    assert cfg == ToyConfig(n=5, scale=2.5, kind="uniform", widths=(4, 8, 16))
    assert apply_overrides(ToyConfig(), {"fail_midway": "yes"}).fail_midway is True


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"nope": "1"}, "unknown --set key 'nope'"),
        ({"n": "five"}, "not a valid int"),
        ({"scale": "x"}, "not a valid float"),
        ({"kind": "cauchy"}, "expected one of normal, uniform"),
        ({"widths": "1,a"}, "not a valid int"),
        ({"fail_midway": "maybe"}, "not a valid bool"),
    ],
)
def test_bad_overrides(overrides, fragment):
    with pytest.raises(ConfigError, match=fragment):
        apply_overrides(ToyConfig(), overrides)


def test_unknown_profile():
    with pytest.raises(ConfigError, match="unknown profile"):
        STUDY.config("huge")
