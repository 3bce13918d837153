"""The study wiring: profiles, claims, the smoke run, and the negative controls."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from occam.meta_bayes import STUDY, MetaBayesConfig
from occam.meta_bayes import experiments as ex
from occam.meta_bayes.tasks import parse_task
from occam.study import RunContext, json_ready

# The smallest size at which every control is meaningful (about 30 s on one core). Smoke
# itself is too small for two of them: its 16-step coin predictors all stay near 0.5, so
# the coin controls would pass the other prior's interval, and 8 steps of continued
# meta-training cannot move even a wrong-prior start (the fixed-point control).
CONTROL_SIZE = {
    "tasks": (
        "beta_1_1",
        "beta_10_10",
        "beta_0.2_0.2",
        "dirichlet_1_1_1",
        "gamma_1_1",
        "normalgamma_0_1_1_1",
    ),
    "pred_steps": 200,
    "distil_steps": 100,
    "fixed_point_steps": 100,
    "save_checkpoints": False,
}
# Controls that hold by the science, not by a defect: random LSTM states already carry the
# counts, so agent -> Bayes is easier than the reverse for an untrained network too.
CONTROL_HOLDS = {"mb.sim_asymmetry"}


def _ctx(out: Path) -> RunContext:
    return RunContext(out=out, seed=0, device=torch.device("cpu"), quiet=True)


def test_profiles_and_claims_are_declared() -> None:
    assert set(STUDY.profiles) == {"smoke", "quick", "full"}
    assert all(isinstance(c, MetaBayesConfig) for c in STUDY.profiles.values())
    ids = [c.id for c in STUDY.claims]
    assert len(ids) == len(set(ids)) and all(i.startswith("mb.") for i in ids)
    assert all(c.control is not None for c in STUDY.claims)
    assert STUDY.profiles["quick"].replicates >= 3 and STUDY.profiles["full"].replicates >= 5
    full = STUDY.profiles["full"]
    assert full.pred_steps * full.pred_batch * full.length >= 10**7  # the paper's budget per task
    cfg = STUDY.config("quick", {"tasks": "beta_1_1,dirichlet_1_1_1", "cell": "gru"})
    assert cfg.tasks == ("beta_1_1", "dirichlet_1_1_1") and cfg.cell == "gru"


def test_smoke_run_measures_every_claim_and_is_deterministic(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        result = STUDY.run(STUDY.profiles["smoke"], _ctx(tmp_path / name))
        runs.append((json.dumps(json_ready(result.metrics), sort_keys=True), result.claims))
    (metrics_a, claims_a), (metrics_b, claims_b) = runs
    assert [c.spec.id for c in claims_a] == [c.id for c in STUDY.claims]
    for c in claims_a:  # every claim and every control was measured
        assert c.measured is not None and c.missing == 0, c.spec.id
        assert c.control is not None and c.control.measured is not None, c.spec.id
    assert metrics_a == metrics_b
    assert [c.to_dict() for c in claims_a] == [c.to_dict() for c in claims_b]
    figures = {p.name for p in (tmp_path / "a" / "figures").glob("*.png")}
    assert {
        "kl_learning_curves.png",
        "coin_example.png",
        "bandit_returns.png",
        "dissimilarity.png",
        "probes.png",
        "fixed_point.png",
        "hard_bandit_returns.png",
        "simulation_controls.png",
        "dissimilarity_vs_kl.png",
        "coarse_statistic.png",
    } <= figures
    assert any((tmp_path / "a" / "checkpoints").glob("*.pt"))


@pytest.fixture(scope="module")
def control_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    cfg = STUDY.config("smoke", CONTROL_SIZE)
    result = STUDY.run(cfg, _ctx(tmp_path_factory.mktemp("controls")))
    return {c.spec.id: c for c in result.claims}


def test_every_control_fails(control_run: dict[str, object]) -> None:
    for claim_id, claim in control_run.items():
        control = claim.control  # type: ignore[attr-defined]
        expected = "holds" if claim_id in CONTROL_HOLDS else "fails"
        assert control.verdict == expected, (claim_id, control.measured)
    assert control_run["mb.sim_asymmetry"].verdict == "uninformative"  # type: ignore[attr-defined]


def test_output_dissimilarity_separates_trained_from_untrained(
    control_run: dict[str, object],
) -> None:
    claim = control_run["mb.sim_output_vs_untrained"]
    assert claim.verdict == "holds", claim.measured  # type: ignore[attr-defined]


def test_a_few_hundred_meta_training_steps_lower_the_kl() -> None:
    cfg = STUDY.config("smoke", {"pred_steps": 300, "eval_points": 2})
    streams = ex.Streams(lambda label: zlib.crc32(label.encode()))
    run = ex.meta_train_predictor(cfg, streams, parse_task("beta_1_1"))
    untrained, trained = run.curve[0]["kl"], run.final.kl
    assert trained < untrained / 10, (untrained, trained)
    assert np.isfinite(trained)


def test_sampled_rewards_are_the_default() -> None:
    """Bandit returns come from the 0/1 rewards the agent sees, not the arm means theta[a_t]."""
    assert all(not cfg.expected_rewards for cfg in STUDY.profiles.values())
