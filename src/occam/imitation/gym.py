"""E1-E3 as ``gymnasium.Env``: thin wrappers around the fast cores of :mod:`occam.imitation.envs`.

gymnasium is an optional extra (``pip install 'occam-lab[gym]'``); only this module imports
it. Importing it registers the three environments::

    import gymnasium
    import occam.imitation.gym  # registers occam/ContextualBandit-v0, LavaGrid-v0, HazardNav2D-v0

    env = gymnasium.make("occam/LavaGrid-v0", size=8, slip=0.1)

(or call :func:`register_envs`). Each wrapper holds its core as ``env.unwrapped.core``; the
core draws from the wrapper's ``np_random``, which ``reset(seed=s)`` seeds exactly as the
core's own ``reset(seed=s)`` does (``np.random.default_rng(s)``), so a loop run through
``reset``/``step`` on a wrapper gives the trace it gives on the bare core with the same
seed. ``reset()`` without a seed starts over on the current stream, as gymnasium asks.

The tasks are continuing: ``terminated`` and ``truncated`` are always False; register no
time limit, or wrap one (``gymnasium.wrappers.TimeLimit``) if a tool wants episodes.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import gymnasium
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from occam.imitation.envs import N_MOVES, ContextualBandit, HazardNav2D, LavaGrid

ObsT = TypeVar("ObsT")

ENV_IDS = ("occam/ContextualBandit-v0", "occam/LavaGrid-v0", "occam/HazardNav2D-v0")


class _CoreEnv(gymnasium.Env[ObsT, np.int64], Generic[ObsT]):
    """A ``gymnasium.Env`` that delegates to ``self.core`` and shares its random stream."""

    metadata: dict[str, Any] = {"render_modes": []}
    core: Any

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsT, dict[str, Any]]:
        super().reset(seed=seed)
        self.core._rng = self.np_random  # the same stream as core.reset(seed=seed)
        obs, info = self.core.restart()
        return self._obs(obs), info

    def _obs(self, obs: Any) -> ObsT:
        """The core's observation in the type of ``observation_space``."""
        return obs  # type: ignore[no-any-return]

    def step(self, action: Any) -> tuple[ObsT, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        obs, reward, terminated, truncated, info = self.core.step(int(action))
        return self._obs(obs), float(reward), bool(terminated), bool(truncated), dict(info)


class _DiscreteObsEnv(_CoreEnv[np.int64]):
    """Observations are ``np.int64``, as ``spaces.Discrete`` holds them (the cores give ints)."""

    def _obs(self, obs: Any) -> np.int64:
        return np.int64(obs)


class ContextualBanditEnv(_DiscreteObsEnv):
    """E1 (:class:`~occam.imitation.envs.ContextualBandit`) as a ``gymnasium.Env``.

    Pass a ``core`` (e.g. the bandit from :func:`occam.imitation.models.bandit_class`), or
    let ``instance_seed`` draw one with that function's defaults.
    """

    def __init__(self, core: ContextualBandit | None = None, instance_seed: int = 0) -> None:
        if core is None:
            from occam.imitation.models import bandit_class

            core = bandit_class(np.random.default_rng(instance_seed))[0]
        self.core = core
        self.observation_space = spaces.Discrete(core.n_contexts)
        self.action_space = spaces.Discrete(core.n_actions)


class LavaGridEnv(_DiscreteObsEnv):
    """E2 (:class:`~occam.imitation.envs.LavaGrid`) as a ``gymnasium.Env``.

    Observation: the integer key ``goal * n_cells + cell``; actions: the five moves.
    """

    def __init__(
        self,
        core: LavaGrid | None = None,
        size: int = 8,
        slip: float = 0.1,
        lava_reward: float = -10.0,
    ) -> None:
        self.core = core if core is not None else LavaGrid(size, slip, lava_reward)
        self.observation_space = spaces.Discrete(self.core.n_goals * self.core.n_cells)
        self.action_space = spaces.Discrete(N_MOVES)


class HazardNav2DEnv(_CoreEnv[NDArray[np.float64]]):
    """E3 (:class:`~occam.imitation.envs.HazardNav2D`) as a ``gymnasium.Env``.

    Observation: ``[x, y, goal_x, goal_y]`` in ``[0, 1]^4`` (float64); actions: the five moves.
    """

    def __init__(
        self,
        core: HazardNav2D | None = None,
        step_size: float = 0.05,
        centre: tuple[float, float] = (0.5, 0.5),
        radius: float = 0.2,
        goal_margin: float = 0.1,
    ) -> None:
        self.core = (
            core if core is not None else HazardNav2D(step_size, centre, radius, goal_margin)
        )
        self.observation_space = spaces.Box(0.0, 1.0, shape=(4,), dtype=np.float64)
        self.action_space = spaces.Discrete(N_MOVES)


def register_envs() -> None:
    """Register the three environments with gymnasium (idempotent)."""
    entry = {
        "occam/ContextualBandit-v0": ContextualBanditEnv,
        "occam/LavaGrid-v0": LavaGridEnv,
        "occam/HazardNav2D-v0": HazardNav2DEnv,
    }
    for env_id, cls in entry.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point=f"{__name__}:{cls.__name__}")


register_envs()
