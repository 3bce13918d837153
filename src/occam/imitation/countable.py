"""A countable model class, enumerated lazily: the lag-k policies on a two-action task.

The paper's model class is countable (Cohen, Hutter & Nanda 2022, sec. 2: a countable class
with a prior, "initially totally ignorant"); E1-E3 use finite ones. Here the imitator runs
over an infinite class through :class:`~occam.imitation.imitator.LazyImitator`, which only
ever enumerates a finite prefix of it.

The class. Two actions, no observations: the history is the sequence of actions taken so
far (the demonstrator's and the imitator's alike). Model ``(k, p)``, for every lag
``k = 0, 1, 2, ...`` and every ``p`` in a finite grid ``P``:

* ``k = 0``: i.i.d., ``nu(a_t = 1) = p``;
* ``k >= 1``: a k-th order Markov policy that repeats the action taken k steps earlier with
  probability p, ``nu(a_t = a_{t-k} | h) = p``, and is uniform while ``t < k``.

Index ``i = k * |P| + j`` (p = ``P[j]``), prior ``w_i = 2^-(k+1) / |P|``: non-increasing in i,
summing to 1, with tail mass ``sum_{i >= n} w_i = (|P| - j_n) w_n + 2^-(k_n+1)``. The
demonstrator is one model ``(k*, p*)``, so the setting is realizable with
``w(pi_d) = 2^-(k*+1) / |P|``; the lazy enumeration stops at the first n whose tail mass is
below ``alpha`` times the heaviest posterior weight (see ``LazyImitator``), a finite number
that grows with the log-likelihood of the data, i.e. only while queries are being made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from occam.imitation.imitator import LazyImitator, sample_own_or_query
from occam.imitation.runner import query_summary

FloatArray = NDArray[np.float64]


@dataclass
class LagClass:
    """The countable class of lag-k policies over a shared, growing action history.

    ``grid``: the repeat probabilities P. ``actions``: the history (the loop calls
    :meth:`append` after every step).
    """

    grid: tuple[float, ...]

    def __post_init__(self) -> None:
        self.actions: list[int] = []
        self._hist = np.zeros(1024, dtype=np.int64)  # the same history, as a growing array
        self._p = np.array(self.grid, dtype=np.float64)

    def append(self, action: int) -> None:
        """Add the action just taken (by the demonstrator or the imitator) to the history."""
        n = len(self.actions)
        if n == self._hist.size:
            self._hist = np.concatenate([self._hist, np.zeros_like(self._hist)])
        self._hist[n] = action
        self.actions.append(action)

    def lag_p(self, i: int) -> tuple[int, float]:
        """Model i's ``(k, p)``."""
        k, j = divmod(i, len(self.grid))
        return k, self.grid[j]

    def index(self, k: int, p: float) -> int:
        return k * len(self.grid) + self.grid.index(p)

    def log_prior(self, i: int) -> float:
        """``log w_i = -(k+1) log 2 - log |P|``."""
        return -(i // len(self.grid) + 1) * math.log(2.0) - math.log(len(self.grid))

    def tail_mass(self, n: int) -> float:
        """``sum_{i >= n} w_i``: the rest of n's lag block plus every larger lag."""
        k, j = divmod(n, len(self.grid))
        return (len(self.grid) - j) * math.exp(self.log_prior(n)) + 2.0 ** -(k + 1)

    def probs(self, i: int, t: int) -> FloatArray:
        """Model i's ``(P(a_t = 0), P(a_t = 1))`` given the first t actions of the history."""
        k, p = self.lag_p(i)
        if k == 0:
            return np.array([1.0 - p, p])
        if t < k:
            return np.array([0.5, 0.5])
        prev = self.actions[t - k]
        return np.array([p, 1.0 - p]) if prev == 0 else np.array([1.0 - p, p])

    def batch_probs(self, n: int, t: int) -> FloatArray:
        """:meth:`probs` of models ``0 .. n-1`` at step t: shape (n, 2)."""
        g = len(self.grid)
        idx = np.arange(n)
        k, p = idx // g, self._p[idx % g]
        hist = self._hist
        seen = (k >= 1) & (k <= t)
        prev = np.zeros(n, dtype=np.int64)
        prev[seen] = hist[t - k[seen]]
        p1 = np.where(k == 0, p, np.where(seen, np.where(prev == 1, p, 1.0 - p), 0.5))
        return np.stack([1.0 - p1, p1], axis=1)


@dataclass
class LazyTrace:
    """Per-step record of one run over the countable class (arrays of shape (T,))."""

    theta: FloatArray
    queried: NDArray[np.bool_]
    over: NDArray[np.bool_]
    truth_in_top: NDArray[np.bool_]
    n_models: NDArray[np.int64]


def run_lazy(
    grid: tuple[float, ...],
    truth: tuple[int, float],
    alpha: float,
    horizon: int,
    seed: int,
    learn: bool = True,
    max_models: int = 100_000,
) -> LazyTrace:
    """The imitator over the lag class for ``horizon`` steps; the model ``truth`` demonstrates.

    At every step: ``own, theta = LazyImitator.step(t)``; one uniform picks an own action or a
    query, on which the demonstrator acts and (if ``learn``) the imitator updates and
    enumerates further. ``learn=False`` is the frozen-posterior control.
    """
    lag = LagClass(grid)
    lazy = LazyImitator(
        lag.log_prior,
        lag.tail_mass,
        lag.probs,
        alpha,
        max_models=max_models,
        batch_probs=lag.batch_probs,
    )
    i_truth = lag.index(*truth)
    rng = np.random.default_rng(seed)
    u = rng.random((horizon, 2))
    tr = LazyTrace(
        theta=np.zeros(horizon),
        queried=np.zeros(horizon, dtype=bool),
        over=np.zeros(horizon, dtype=bool),
        truth_in_top=np.zeros(horizon, dtype=bool),
        n_models=np.zeros(horizon, dtype=np.int64),
    )
    for t in range(horizon):
        own, theta, top = lazy.step(t)
        pd = lag.probs(i_truth, t)
        a = sample_own_or_query(own.tolist(), float(u[t, 0]))
        if a == own.size:  # query: the demonstrator acts
            a = int(u[t, 1] >= pd[0])
            tr.queried[t] = True
            if learn:
                lazy.observe_demonstrator(t, a)
        tr.theta[t] = theta
        tr.over[t] = bool((own > pd).any())
        tr.truth_in_top[t] = bool((top == i_truth).any())
        tr.n_models[t] = lazy.n_models
        lag.append(a)
    return tr


def summarise_lazy(tr: LazyTrace) -> dict[str, float]:
    """Scalar summaries of one run (JSON-ready floats): :func:`query_summary`'s and the
    over-threshold actions taken with the truth in the top set, whether the truth ever left
    it, and the models enumerated."""
    return {
        **query_summary(tr),
        "over_in_top": float((tr.over & tr.truth_in_top).sum()),
        "truth_ever_left": float((~tr.truth_in_top).any()),
        "models_enumerated": float(tr.n_models[-1]),
    }
