import math

import pytest

from occam.claims import ClaimSpec, Control


def spec(comparator, threshold):
    return ClaimSpec(
        id="x", statement="s", source="src", comparator=comparator, threshold=threshold
    )


@pytest.mark.parametrize(
    ("comparator", "threshold", "value", "verdict"),
    [
        ("<=", 1.0, 1.0, "holds"),
        ("<=", 1.0, 1.01, "fails"),
        ("<", 1.0, 1.0, "fails"),
        (">=", 2.0, 2.0, "holds"),
        (">", 2.0, 2.0, "fails"),
        ("between", (1.8, 2.2), 2.05, "holds"),
        ("between", (1.8, 2.2), 2.3, "fails"),
        ("is_true", None, True, "holds"),
        ("is_true", None, False, "fails"),
        ("<=", 1.0, None, "inconclusive"),
        ("<=", 1.0, math.nan, "inconclusive"),
        (">=", 1.0, math.inf, "inconclusive"),
    ],
)
def test_verdicts(comparator, threshold, value, verdict):
    claim = spec(comparator, threshold).evaluate(value)
    assert claim.verdict == verdict


def test_claim_dict_has_everything():
    s = ClaimSpec(
        id="a.b",
        statement="Error falls as lambda squared.",
        source="LTR eq. 11",
        comparator="between",
        threshold=(1.8, 2.2),
        paper_value="2",
    )
    d = s.evaluate(1.97, detail="fit over 5 points").to_dict()
    for key in ("id", "statement", "source", "paper_value", "measured", "test", "verdict"):
        assert key in d
    assert d["threshold"] == [1.8, 2.2]
    assert d["test"] == "1.8 <= measured <= 2.2"


def test_bad_specs_are_rejected():
    with pytest.raises(ValueError):
        spec("~", 1.0)
    with pytest.raises(ValueError):
        spec("between", 1.0)
    with pytest.raises(ValueError):
        spec("<=", None)


def ctl_spec(comparator=">=", threshold=0.5, aggregate="mean"):
    return ClaimSpec(
        id="y",
        statement="s",
        source="src",
        comparator=comparator,
        threshold=threshold,
        aggregate=aggregate,
        control=Control(name="c", description="where it must fail"),
    )


def test_interval_decides_the_verdict():
    s = ctl_spec()
    assert s.judge([0.8, 0.9, 0.7], [0.1, 0.2, 0.0]).verdict == "holds"
    assert s.judge([0.1, 0.2, 0.3], [0.1, 0.2, 0.0]).verdict == "fails"
    # a seed-dependent result straddles the threshold: inconclusive, never holds
    assert s.judge([0.9, 0.2, 0.8], [0.1, 0.2, 0.0]).verdict == "inconclusive"


def test_three_replicates_interval_is_min_to_max():
    claim = ctl_spec().judge([0.6, 0.9, 0.7], [0.0, 0.1, 0.2])
    assert claim.interval == (0.6, 0.9)
    assert claim.measured == pytest.approx(0.7333333333)
    assert claim.replicates == (0.6, 0.9, 0.7)


def test_bootstrap_interval_narrows_with_replicates_and_is_deterministic():
    s = ctl_spec()
    values = [0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]
    a = s.judge(values, [0.0] * 8)
    b = s.judge(values, [0.0] * 8)
    assert a.interval == b.interval
    lo, hi = a.interval
    assert 0.55 < lo < 0.725 < hi < 0.9


def test_control_that_holds_makes_the_claim_uninformative():
    s = ctl_spec()
    claim = s.judge([0.8, 0.9, 0.7], [0.6, 0.7, 0.9])
    assert claim.verdict == "uninformative"
    assert claim.control.verdict == "holds"
    d = claim.to_dict()
    assert d["control"]["name"] == "c" and d["control"]["interval"] == [0.6, 0.9]
    assert d["interval"] == pytest.approx([0.7, 0.9]) and d["replicates"] == [0.8, 0.9, 0.7]


def test_missing_replicates_are_counted_and_all_missing_is_inconclusive():
    s = ctl_spec()
    claim = s.judge([0.8, None, math.nan], [0.0, 0.0, 0.0])
    assert claim.missing == 2 and claim.replicates == (0.8,)
    assert s.judge([None, None], [0.0]).verdict == "inconclusive"


def test_is_true_aggregates_the_fraction_true():
    s = ctl_spec("is_true", None)
    assert s.judge([True, True, True], [False, False, False]).verdict == "holds"
    assert s.judge([True, False, True], [False, False, False]).verdict == "inconclusive"
    assert s.judge([False, False, False], [False, False, False]).verdict == "fails"


def test_between_and_median():
    s = ctl_spec("between", (1.8, 2.2), aggregate="median")
    assert s.judge([1.9, 2.0, 2.1], [1.0, 1.1, 1.2]).verdict == "holds"
    assert s.judge([1.0, 1.1, 1.2], [1.0, 1.1, 1.2]).verdict == "fails"
    assert s.judge([1.9, 2.0, 2.5], [1.0, 1.1, 1.2]).verdict == "inconclusive"


def test_a_declared_control_must_be_run():
    with pytest.raises(ValueError, match="not run"):
        ctl_spec().judge([1.0])
    with pytest.raises(ValueError, match="no control declared"):
        spec("<=", 1.0).judge([1.0], [2.0])


def test_a_verdict_needs_min_3_or_planned_replicates_with_a_value():
    """One passing draw of three (the others undefined) is not evidence: inconclusive."""
    s = ctl_spec()
    one_of_three = s.judge([0.8, None, None], [0.0, 0.0, 0.0])
    assert one_of_three.verdict == "inconclusive" and one_of_three.measured == 0.8
    assert "only 1 of 3 replicates" in one_of_three.detail
    assert s.judge([0.8, 0.9, 0.7, None, 0.8], [0.0] * 5).verdict == "holds"  # 4 of 5 >= 3
    assert s.judge([0.8, 0.9, None, None, None], [0.0] * 5).verdict == "inconclusive"
    assert s.judge([0.8], [0.0]).verdict == "holds"  # one planned (smoke): one suffices
    # a control with too few values cannot make the claim uninformative either
    thin_control = s.judge([0.8, 0.9, 0.7], [0.9, None, None])
    assert thin_control.control.verdict == "inconclusive" and thin_control.verdict == "holds"
