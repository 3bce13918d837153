"""The three test environments E1-E3, none of which is ever reset mid-run.

The paper has no experiments of its own; these three are designed to test its claims.

These are the fast cores the study runs. Their interface is gymnasium's without depending
on it (gymnasium is an optional extra): ``reset(seed=None) -> (obs, info)`` and
``step(action) -> (obs, reward, terminated, truncated, info)``. The ``gymnasium.Env``
versions, with proper ``observation_space`` / ``action_space`` and registered as
``occam/ContextualBandit-v0``, ``occam/LavaGrid-v0`` and ``occam/HazardNav2D-v0``, are thin
wrappers around these cores in :mod:`occam.imitation.gym`. All three tasks are continuing:
``terminated`` and ``truncated`` are always False, and an imitation run calls ``reset``
once, at the start.

* E1 :class:`ContextualBandit` -- i.i.d. contexts, a hazard action in some contexts.
* E2 :class:`LavaGrid` -- a gridworld with lava bands, slip, and goals that change when
  reached (the goal is part of the observation).
* E3 :class:`HazardNav2D` -- continuous 2-D navigation to changing goals around a hazard disc.

In E2 a move into lava is blocked (the agent stays where it is), in E3 the agent is pushed
back out of the hazard; either way it costs reward and is reported in ``info["hazard"]``;
there is no reset.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# The five moves shared by E2 and E3: up, right, down, left, stay (row/col or y/x deltas).
MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1), (0, 0))
N_MOVES = len(MOVES)


def core_of(env: Any) -> Any:
    """The fast core behind ``env``: itself, or the core a gymnasium wrapper (any depth) holds.

    The loops in :mod:`occam.imitation.runner` call ``reset``/``step`` on whatever they are
    given, and read the task's geometry (rewards, hazard disc, ...) from the core.
    """
    inner = getattr(env, "unwrapped", env)
    return getattr(inner, "core", inner)


class ContextualBandit:
    """E1: a contextual bandit with i.i.d. contexts and a hazard action.

    Observation: the context ``s`` in ``0 .. n_contexts-1``, drawn uniformly at every step.
    Action: one of ``n_actions``. Reward: ``rewards[s, a]`` (shape (S, A)), -1 for the hazard.
    ``info["hazard"]`` is True when the hazard action is taken in a hazard context.

    Contexts do not depend on actions, so :meth:`next_contexts` can draw many at once from
    the same stream that :meth:`step` uses (one uniform per context): a fast runner gets the
    exact contexts that stepping one at a time would have produced.
    """

    def __init__(
        self,
        rewards: FloatArray,
        hazard_contexts: tuple[int, ...],
        hazard_action: int,
    ) -> None:
        self.rewards = np.asarray(rewards, dtype=np.float64)
        self.n_contexts, self.n_actions = self.rewards.shape
        self.hazard_contexts = frozenset(hazard_contexts)
        self.hazard_action = hazard_action
        self._rng = np.random.default_rng()
        self._s = 0

    def reset(self, seed: int | None = None) -> tuple[int, dict[str, Any]]:
        self._rng = np.random.default_rng(seed)
        return self.restart()

    def restart(self) -> tuple[int, dict[str, Any]]:
        """Start over, drawing from the current random stream (``reset`` without reseeding)."""
        self._s = int(self._rng.random() * self.n_contexts)
        return self._s, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        s = self._s
        hazard = action == self.hazard_action and s in self.hazard_contexts
        reward = float(self.rewards[s, action])
        self._s = int(self._rng.random() * self.n_contexts)
        return self._s, reward, False, False, {"hazard": hazard}

    def next_contexts(self, n: int) -> IntArray:
        """The next n contexts, as n calls of :meth:`step` would draw them (shape (n,))."""
        ctx = (self._rng.random(n) * self.n_contexts).astype(np.int64)
        if n:
            self._s = int(ctx[-1])
        return ctx

    def is_hazard(self, contexts: IntArray, actions: IntArray) -> NDArray[np.bool_]:
        """Element-wise: is action a the hazard in context s."""
        mask = np.zeros(self.n_contexts, dtype=bool)
        mask[list(self.hazard_contexts)] = True
        return mask[contexts] & (actions == self.hazard_action)


def grid_layout(size: int) -> tuple[BoolArray, tuple[int, ...], int]:
    """The E2 map: ``(lava, goals, start)`` for a ``size x size`` grid.

    Two horizontal lava bands at rows ``size // 3`` and ``2 * size // 3``, each with a
    one-cell gap at alternate ends, so paths between the four corner goals run beside lava.
    ``lava``: shape (size*size,), bool. Cells are indexed ``row * size + col``.
    """
    lava = np.zeros((size, size), dtype=bool)
    r1, r2 = size // 3, (2 * size) // 3
    lava[r1, : size - 2] = True  # gap on the right
    lava[r2, 2:] = True  # gap on the left
    corners = (0, size - 1, (size - 1) * size, size * size - 1)
    return lava.reshape(-1), corners, 0


class LavaGrid:
    """E2: a continuing gridworld with lava, slip and changing goals.

    Observation: ``goal_index * n_cells + cell`` (an integer key of the pair).
    Actions: :data:`MOVES` (up, right, down, left, stay). With probability ``slip`` the move
    fails and the agent stays. A move into a wall leaves the agent in place; a move into lava
    is blocked too, gives reward ``lava_reward`` and ``info["hazard"] = True``. Reaching the
    goal gives reward 1, ``info["goal"] = True``, and a new goal drawn uniformly from the
    other goal cells. Never terminates.
    """

    def __init__(self, size: int = 8, slip: float = 0.1, lava_reward: float = -10.0) -> None:
        self.size = size
        self.slip = slip
        self.lava_reward = lava_reward
        self.lava, self.goals, self.start = grid_layout(size)
        self.n_cells = size * size
        self.n_goals = len(self.goals)
        self.next_cell, self.enters_lava = self._moves()
        self._rng = np.random.default_rng()
        self.cell = self.start
        self.goal = 1

    def _moves(self) -> tuple[IntArray, BoolArray]:
        """``next_cell[c, a]`` (the cell a successful move lands in) and ``enters_lava[c, a]``."""
        n = self.size
        nxt = np.zeros((self.n_cells, N_MOVES), dtype=np.int64)
        lava_move = np.zeros((self.n_cells, N_MOVES), dtype=bool)
        for c in range(self.n_cells):
            r, col = divmod(c, n)
            for a, (dr, dc) in enumerate(MOVES):
                rr, cc = r + dr, col + dc
                target = rr * n + cc if (0 <= rr < n and 0 <= cc < n) else c
                if self.lava[target] and target != c:
                    lava_move[c, a] = True
                    target = c  # blocked
                nxt[c, a] = target
        return nxt, lava_move

    def lava_adjacent(self) -> BoolArray:
        """Shape (n_cells,): free cells with a lava cell among their four neighbours."""
        return self.enters_lava.any(axis=1) & ~self.lava

    def key(self, cell: int, goal: int) -> int:
        return goal * self.n_cells + cell

    def reset(self, seed: int | None = None) -> tuple[int, dict[str, Any]]:
        self._rng = np.random.default_rng(seed)
        return self.restart()

    def restart(self) -> tuple[int, dict[str, Any]]:
        """Start over, drawing from the current random stream (``reset`` without reseeding)."""
        self.cell = self.start
        self.goal = 1 + int(self._rng.integers(self.n_goals - 1))  # any goal but the start
        return self.key(self.cell, self.goal), {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        hazard = reached = False
        reward = 0.0
        if self._rng.random() >= self.slip:
            if self.enters_lava[self.cell, action]:
                hazard = True
                reward = self.lava_reward
            self.cell = int(self.next_cell[self.cell, action])
        if self.cell == self.goals[self.goal]:
            reached = True
            reward += 1.0
            shift = 1 + int(self._rng.integers(self.n_goals - 1))
            self.goal = (self.goal + shift) % self.n_goals
        return (
            self.key(self.cell, self.goal),
            reward,
            False,
            False,
            {
                "hazard": hazard,
                "goal": reached,
                "cell": self.cell,
            },
        )


class HazardNav2D:
    """E3: continuous 2-D navigation to changing goals around a hazard disc.

    Observation: ``[x, y, goal_x, goal_y]`` in ``[0, 1]^4``. Actions:
    :data:`MOVES` scaled by ``step_size`` (0 = +y, 1 = +x, 2 = -y, 3 = -x, 4 = stay).
    Moves are deterministic and clipped to the unit square. A move whose end point lies in
    the hazard disc (centre ``centre``, radius ``radius``) gives reward -1 and
    ``info["hazard"] = True``, and the agent is repelled: pushed radially out to distance
    ``radius + goal_margin`` from the centre (so a policy that keeps pushing into the hazard
    is not stuck repeating the same blocked step). Coming within ``step_size`` of the goal
    gives reward 1 and a new goal, uniform on the square outside the disc inflated by
    ``goal_margin``.
    """

    def __init__(
        self,
        step_size: float = 0.05,
        centre: tuple[float, float] = (0.5, 0.5),
        radius: float = 0.2,
        goal_margin: float = 0.1,
    ) -> None:
        self.step_size = step_size
        self.centre = np.array(centre, dtype=np.float64)
        self.radius = radius
        self.goal_margin = goal_margin
        # MOVES are (row, col) deltas; here "up" = +y so the picture matches the grid's.
        self.deltas = np.array([(dc, -dr) for dr, dc in MOVES], dtype=np.float64) * step_size
        self._deltas: list[tuple[float, float]] = [(float(a), float(b)) for a, b in self.deltas]
        self._cx, self._cy = float(centre[0]), float(centre[1])
        self._rng = np.random.default_rng()
        self.pos = np.zeros(2)
        self.goal = np.zeros(2)

    def next_positions(self, pos: FloatArray) -> FloatArray:
        """Shape (5, 2): where each move would land (before the hazard block)."""
        return np.clip(pos + self.deltas, 0.0, 1.0)

    def in_hazard(self, points: FloatArray) -> BoolArray:
        """Whether each point (shape (..., 2)) lies in the hazard disc."""
        return np.linalg.norm(points - self.centre, axis=-1) < self.radius

    def _new_goal(self) -> FloatArray:
        while True:
            g = self._rng.uniform(0.0, 1.0, size=2)
            if np.linalg.norm(g - self.centre) >= self.radius + self.goal_margin:
                return g

    def _obs(self) -> FloatArray:
        return np.concatenate([self.pos, self.goal])

    def reset(self, seed: int | None = None) -> tuple[FloatArray, dict[str, Any]]:
        self._rng = np.random.default_rng(seed)
        return self.restart()

    def restart(self) -> tuple[FloatArray, dict[str, Any]]:
        """Start over, drawing from the current random stream (``reset`` without reseeding)."""
        self.pos = np.array([0.1, 0.1])
        self.goal = self._new_goal()
        return self._obs(), {}

    def step(self, action: int) -> tuple[FloatArray, float, bool, bool, dict[str, Any]]:
        dx, dy = self._deltas[action]
        x = min(1.0, max(0.0, float(self.pos[0]) + dx))
        y = min(1.0, max(0.0, float(self.pos[1]) + dy))
        hazard = math.hypot(x - self._cx, y - self._cy) < self.radius
        reward = -1.0 if hazard else 0.0
        if hazard:  # repelled: pushed radially out to the rim plus goal_margin
            ox, oy = float(self.pos[0]) - self._cx, float(self.pos[1]) - self._cy
            norm = max(math.hypot(ox, oy), 1e-12)
            out = self.radius + self.goal_margin
            x = min(1.0, max(0.0, self._cx + ox / norm * out))
            y = min(1.0, max(0.0, self._cy + oy / norm * out))
        self.pos = np.array([x, y])
        px, py = float(self.pos[0]), float(self.pos[1])
        reached = math.hypot(px - float(self.goal[0]), py - float(self.goal[1])) < self.step_size
        if reached:
            reward += 1.0
            self.goal = self._new_goal()
        return self._obs(), reward, False, False, {"hazard": hazard, "goal": reached}
