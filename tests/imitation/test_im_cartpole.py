"""E7: the linear-controller class on CartPole-v1, and the one-line error without gymnasium."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from occam.imitation.cartpole import (
    PoleClass,
    PoleImitator,
    PoleInert,
    controller_grid,
    controller_probs,
    make_cartpole,
    run_pole,
)
from occam.imitation.imitator import safe_alpha
from occam.imitation.study import STUDY
from occam.knobs import ConfigError


def test_controller_probs_by_hand():
    gains = np.array([[0.0, 0.0, 10.0, 1.0], [0.0, 0.0, -10.0, 0.0]])
    obs = np.array([0.3, -1.0, 0.02, 0.1])  # k . s = 0.2 + 0.1 = 0.3, and -0.2
    np.testing.assert_allclose(controller_probs(gains, obs), [[0.2, 0.8], [0.7, 0.3]])
    far = np.array([0.0, 0.0, 0.1, 0.0])  # k . s = 1 and -1: certain, the other push has 0
    np.testing.assert_array_equal(controller_probs(gains, far), [[0.0, 1.0], [1.0, 0.0]])
    grid = controller_grid((0.0, 1.0), (0.0,), (5.0, 10.0), (1.0,))
    assert grid.shape == (4, 4) and grid.tolist()[3] == [1.0, 0.0, 10.0, 1.0]


def test_make_cartpole_without_gymnasium_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # import gymnasium -> ImportError
    with pytest.raises(ConfigError, match=r"pip install 'occam-lab\[gym\]'") as err:
        make_cartpole()
    assert "\n" not in str(err.value)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ConfigError, match="e7_cartpole=on"):
        STUDY.config("smoke", {"e7_cartpole": "on"})
    STUDY.config("smoke", {"e7_cartpole": "auto"})  # auto: skipped, not an error


@pytest.mark.parametrize(("key", "raw"), [("e7_truth", "1,1,1,1"), ("e7_cartpole", "maybe")])
def test_bad_e7_knobs(key, raw):
    with pytest.raises(ConfigError, match=key):
        STUDY.config("smoke", {key: raw})


def test_imitator_balances_and_inert_control_falls():
    pytest.importorskip("gymnasium")
    env = make_cartpole()
    gains = controller_grid((0.0, 0.5), (0.0, 1.0), (-10.0, 10.0), (0.0, 2.0))
    pc = PoleClass(gains, [tuple(g) for g in gains.tolist()].index((0.5, 1.0, 10.0, 2.0)))
    alpha = safe_alpha(0.1, 1.0 / pc.n_models)
    imitator = PoleImitator(pc, alpha)
    tr = run_pole(env, pc, imitator, 3000, seed=0)
    assert imitator.state.contains(pc.truth)
    assert tr.unsafe.sum() == 0 and tr.failures == 0 and min(tr.returns) == 500.0
    assert tr.theta[-300:].mean() < tr.theta[:300].mean()
    inert = run_pole(env, pc, PoleInert(pc, alpha), 500, seed=0)
    assert inert.queried.sum() == 0 and np.mean(inert.returns) < 50 and inert.failures > 0
