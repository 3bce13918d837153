import math

import pytest

from occam.claims import ClaimSpec


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
