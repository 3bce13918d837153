"""The smoke profile end to end: every control fails, the verdicts, and reproducibility."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch

from occam.imitation.study import STUDY
from occam.study import RunContext

# Smoke verdicts at seed 0. Two claims are too small to decide at smoke size and are
# documented here rather than asserted: im.b_queries_vanish (E2's 3000 steps end before the
# top set shrinks to one model; theta's last tenth is ~0.1 of its first) and im.b_sublinear
# (slope 0.45 [0.39, 0.51] against the threshold 0.5). Both hold at the quick size (E2 20000
# steps); their controls fail at smoke already.
SMOKE_VERDICTS = {
    "im.a_retention": "holds",
    "im.a_events": "holds",
    "im.c_matched_budget": "holds",
    "im.c_useful": "holds",
    "im.e_ensemble": "fails",
    "im.f_treacherous": "holds",
    "im.g_misspecified": "holds",
    "im.h_countable": "holds",
}
UNDECIDED_AT_SMOKE = ("im.b_queries_vanish", "im.b_sublinear")
# E7 (CartPole) runs only where gymnasium is installed; without it the claim has no values.
HAS_GYM = importlib.util.find_spec("gymnasium") is not None
SMOKE_VERDICTS["im.i_cartpole"] = "holds" if HAS_GYM else "inconclusive"


def _run(path):
    ctx = RunContext(out=path, seed=0, device=torch.device("cpu"), quiet=True)
    return STUDY.run(STUDY.profiles["smoke"], ctx)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("smoke"))


def test_every_control_fails(smoke):
    for claim in smoke.claims:
        assert claim.control is not None, claim.spec.id
        if claim.spec.id == "im.i_cartpole" and not HAS_GYM:
            assert claim.control.verdict == "inconclusive" and claim.missing == 2
            continue
        assert claim.control.verdict == "fails", (claim.spec.id, claim.control)
        assert len(claim.replicates) == STUDY.profiles["smoke"].replicates


def test_smoke_verdicts(smoke):
    assert [c.spec.id for c in smoke.claims] == [s.id for s in STUDY.claims]
    verdicts = {c.spec.id: c.verdict for c in smoke.claims}
    for claim_id, verdict in SMOKE_VERDICTS.items():
        assert verdicts[claim_id] == verdict, (claim_id, smoke.claims)
    # The undecided ones are never "uninformative" (their controls fail) and never "fail".
    for claim_id in UNDECIDED_AT_SMOKE:
        assert verdicts[claim_id] in ("holds", "inconclusive"), claim_id


def test_tables_figures_and_determinism(smoke, tmp_path):
    assert set(smoke.tables) == {"methods", "alpha_sweep", "countable", "cartpole"}
    for row in smoke.tables["methods"]:
        assert all(k == k.lower() and " " not in k for k in row), row
    json.dumps(smoke.metrics)  # JSON-ready
    again = _run(tmp_path / "b")
    figs = {p.name for p in (tmp_path / "b" / "figures").glob("*.png")}
    assert figs == {
        "query_rates.png",
        "alpha_tradeoff.png",
        "unsafe_bars.png",
        "grid_queries.png",
        "e3_budget.png",
        "treacherous.png",
        "misspecified.png",
        "countable.png",
    } | ({"cartpole.png"} if HAS_GYM else set())
    assert json.dumps(smoke.metrics, sort_keys=True) == json.dumps(again.metrics, sort_keys=True)
    assert [c.measured for c in smoke.claims] == [c.measured for c in again.claims]


def test_profiles_and_claim_ids():
    assert set(STUDY.profiles) == {"smoke", "quick", "full"}
    assert STUDY.name == "imitation"
    assert all(c.id.startswith("im.") and c.control is not None for c in STUDY.claims)
    assert STUDY.profiles["smoke"].replicates in (1, 2)
    assert STUDY.profiles["quick"].replicates >= 3
    full = STUDY.profiles["full"]
    assert full.replicates >= 5
    assert full.replicates * full.e1_seeds >= 20 and full.replicates * full.e2_seeds >= 20
