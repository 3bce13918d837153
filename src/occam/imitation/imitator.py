"""The conservative Bayesian imitator of Cohen, Hutter & Nanda (JMLR 23, 2022).

Everything the algorithm is lives in this file, as small pure functions on arrays:

* :func:`top_set` -- the alpha rule. A model is kept if its posterior weight is at least
  ``alpha`` times the total weight of the models at least as likely as itself. Models are
  ordered by log weight (descending), ties broken by index (ascending), so the set is a
  prefix of that order and the heaviest model is always in it.
* :func:`imitator_step` -- the public entry point. The imitator's own-action probabilities
  are the minimum over the top set, ``pi_i(0, a) = min_{nu in top} nu(a)`` (eq. 3), and the
  query probability is the leftover ``theta = 1 - sum_a pi_i(0, a)`` (eq. 4). On a query the
  demonstrator acts.
* :func:`posterior_update` -- Bayes' rule in log space, applied *only* to the demonstrator's
  actions (the imitator's own actions are not evidence about the demonstrator).
* :func:`ville_bound` -- ``P(exists t: pi_d not in top set) <= alpha / w(pi_d)`` (a Ville
  inequality on the non-negative supermartingale ``1 / w(pi_d | h)``, which only moves at
  queries; derived here, and the constant in the paper's own lemma may differ).

:class:`Imitator` keeps the posterior of a finite model class and caches the top set between
queries (it only changes when the posterior does). :class:`LazyModelClass` and
:meth:`Imitator.expand` handle a countable class enumerated lazily in prior order: a model
whose prior weight is below ``alpha`` times the largest unnormalised posterior weight can
never enter the top set, so only a finite prefix of the class is ever needed.

References: M. K. Cohen, M. Hutter, N. Nanda, "Fully General Online Imitation Learning",
JMLR 23 (2022), arXiv:2102.08686: equations (3)-(4) (the imitator's own-action and query
probabilities) and the top-set definition of section 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# A model whose log weight is this far below the candidate threshold log(alpha) can never be
# in the top set; the slack only widens the pre-filter, the exact test is applied afterwards.
_PREFILTER_SLACK = 1e-9
THETA_EPS = 1e-12
_SMALL = 16  # up to this many candidates, the top set is found in plain Python


def top_set(log_weights: FloatArray, alpha: float) -> IntArray:
    """Indices of the top set ``M^alpha``, heaviest first (the alpha rule).

    ``log_weights``: shape (M,), unnormalised log posterior weights (``-inf`` allowed).
    Sort the models by log weight, descending, ties by index ascending: ``w_(1) >= w_(2) >= ...``
    and let ``S_k = w_(1) + ... + w_(k)``. Model ``(k)`` is kept iff ``w_(k) >= alpha * S_k``.
    ``w_(k)`` falls and ``S_k`` grows with k, so the kept models form a prefix; its length is
    at most ``floor(1 / alpha)`` because ``S_k >= k * w_(k)``.

    Cost: only models with ``w >= alpha * w_max`` can pass (``S_k >= w_max``), and only the
    ``floor(1/alpha) + 1`` heaviest of those are needed, so the sort is over at most that many:
    O(M) for the filter, O(C) for a partition of the C candidates, O(K log K) for the sort.
    """
    lmax = float(log_weights.max())
    cand = np.flatnonzero(log_weights >= lmax + math.log(alpha) - _PREFILTER_SLACK)
    if cand.size <= _SMALL:  # a concentrated posterior: plain Python beats numpy's overhead
        top: list[int] = []
        running = 0.0
        for neg_lw, j in sorted(zip((-log_weights[cand]).tolist(), cand.tolist(), strict=True)):
            wj = math.exp(-neg_lw - lmax)
            running += wj
            if wj < alpha * running:
                break
            top.append(j)
        return np.array(top, dtype=np.int64)
    lw = log_weights[cand]
    k_max = int(1.0 / alpha) + 1  # the set never has more than 1/alpha models
    if cand.size > k_max:
        # Keep the k_max heaviest in (weight desc, index asc) order: all strictly heavier
        # than the k_max-th largest value, then the lowest-index ties at that value.
        kth = np.partition(lw, cand.size - k_max)[cand.size - k_max]
        heavier = lw > kth
        ties = np.flatnonzero(lw == kth)[: k_max - int(heavier.sum())]
        heavier[ties] = True
        cand, lw = cand[heavier], lw[heavier]
    order = np.argsort(-lw, kind="stable")  # stable: ties stay in index order
    cand = cand[order]
    w = np.exp(lw[order] - lmax)  # weights relative to the heaviest (the rule is scale-free)
    keep = w >= alpha * np.cumsum(w)
    k = keep.size if bool(keep.all()) else int(np.argmin(keep))
    return cand[:k]


def own_probs(top_probs: FloatArray) -> tuple[FloatArray, float]:
    """``(pi_i(0, .), theta)`` from the top set's action probabilities.

    ``top_probs``: shape (K, A), row k = the k-th top-set model's probabilities.
    Returns the element-wise minimum over rows (shape (A,); eq. 3) and the query probability
    ``theta = 1 - sum_a min_k top_probs[k, a]`` (eq. 4); values below 1e-12 (rounding) are 0.
    """
    if top_probs.shape[0] <= 32:
        m = np.minimum.reduce(top_probs, axis=0)
    else:  # numpy reduces a tall (K, A) array along axis 0 slowly; go through (A, K)
        m = np.ascontiguousarray(top_probs.T).min(axis=1)
    theta = 1.0 - float(m.sum())
    # A single model's probabilities sum to 1 only up to rounding (~1e-16): that is not a
    # query probability, so theta below THETA_EPS is reported as exactly 0.
    return m, theta if theta > THETA_EPS else 0.0


def imitator_step(
    log_weights: FloatArray | Sequence[float],
    model_probs: FloatArray | Sequence[Sequence[float]],
    alpha: float,
) -> tuple[FloatArray, float, IntArray]:
    """One step of the conservative Bayesian imitator: ``(own_probs, theta, top_indices)``.

    Parameters
    ----------
    log_weights : shape (M,)
        Log posterior weights of the M models, unnormalised (``-inf`` for excluded models).
    model_probs : shape (M, A)
        Each model's action probabilities at the current history.
    alpha : float in (0, 1]
        The top-set parameter. ``alpha <= delta * w(pi_d)`` keeps the demonstrator in the top
        set with probability at least ``1 - delta`` (:func:`ville_bound`).

    Returns
    -------
    own_probs : shape (A,)
        ``pi_i(0, a) = min over the top set of nu(a)``: the probability that the imitator
        itself takes action a. It never exceeds any top-set model's probability.
    theta : float
        The query probability ``1 - sum(own_probs)``; with it the demonstrator acts.
    top_indices : shape (K,), int64
        The top set, heaviest model first (ties broken by index).
    """
    lw = np.asarray(log_weights, dtype=np.float64)
    probs = np.asarray(model_probs, dtype=np.float64)
    if lw.ndim != 1 or lw.size == 0:
        raise ValueError(f"log_weights must have shape (M,) with M >= 1, got {lw.shape}")
    if probs.ndim != 2 or probs.shape[0] != lw.size:
        raise ValueError(f"model_probs must have shape (M, A) = ({lw.size}, A), got {probs.shape}")
    if not (0.0 < alpha <= 1.0):
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    lmax = float(lw.max())  # NaN propagates through max
    if math.isnan(lmax) or lmax == -math.inf or lmax == math.inf:
        raise ValueError("log_weights must contain no NaN or +inf and at least one finite weight")
    top = top_set(lw, alpha)
    own, theta = own_probs(probs if top.size == probs.shape[0] else probs[top])
    if not (own >= 0.0).all():  # the min over the top set is negative or NaN iff some entry is
        raise ValueError("model_probs of top-set models must be non-negative numbers")
    return own, theta, top


def posterior_update(log_weights: FloatArray, likelihoods: FloatArray) -> FloatArray:
    """Bayes' rule in log space: ``log w(nu | h, a) = log w(nu | h) + log nu(a | h)`` (+ const).

    ``likelihoods``: shape (M,), each model's probability of the demonstrator's action.
    Call it only on the demonstrator's actions (queried steps). A model that gave the action
    probability 0 gets weight ``-inf`` and is out for good. The weights are not re-centred:
    they stay ``log prior + log likelihood`` (float64 handles sums of -1e5 without loss of
    what matters, since :func:`top_set` only uses differences to the maximum).
    """
    with np.errstate(divide="ignore"):
        return log_weights + np.log(likelihoods)


def ville_bound(alpha: float, prior_weight_truth: float) -> float:
    """``alpha / w(pi_d)``: the bound on P(the demonstrator ever leaves the top set)."""
    return alpha / prior_weight_truth


def safe_alpha(delta: float, prior_weight_truth: float) -> float:
    """The design rule ``alpha = delta * w(pi_d)``, which makes :func:`ville_bound` equal delta."""
    return delta * prior_weight_truth


def sample_own_or_query(own: Sequence[float], u: float) -> int:
    """Turn one uniform ``u`` in [0, 1) into an own action index, or ``len(own)`` for a query.

    The interval [0, 1) is cut into ``own[0], own[1], ...`` and the leftover ``theta``;
    landing in the leftover means the demonstrator acts.
    """
    acc = 0.0
    for a, p in enumerate(own):
        acc += p
        if u < acc:
            return a
    return len(own)


@dataclass
class Imitator:
    """The conservative Bayesian imitator's state for a finite class: posterior and top set.

    ``log_weights``: shape (M,), the log prior at the start. The top set is recomputed only
    when :meth:`observe_demonstrator` changes the posterior.
    """

    log_weights: FloatArray
    alpha: float
    top: IntArray = field(init=False)
    n_queries: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not (0.0 < self.alpha <= 1.0):
            raise ValueError(f"alpha must be in (0, 1], got {self.alpha}")
        self.log_weights = np.array(self.log_weights, dtype=np.float64)
        self.top = top_set(self.log_weights, self.alpha)

    def act(self, model_probs: FloatArray) -> tuple[FloatArray, float]:
        """``(own_probs, theta)`` for ``model_probs`` of shape (M, A) at the current history."""
        return own_probs(model_probs[self.top])

    def observe_demonstrator(self, likelihoods: FloatArray) -> None:
        """Bayes-update on a demonstrator action; ``likelihoods[j] = nu_j(a | h)``, shape (M,)."""
        self.log_weights = posterior_update(self.log_weights, likelihoods)
        self.top = top_set(self.log_weights, self.alpha)
        self.n_queries += 1

    def contains(self, index: int) -> bool:
        """Whether model ``index`` is in the current top set."""
        return bool((self.top == index).any())


@dataclass
class LazyImitator:
    """The imitator over a countable class enumerated lazily, in order of decreasing prior.

    ``log_prior(i)`` is model i's log prior weight, ``tail_mass(n)`` the total prior weight of
    the models with index >= n (e.g. ``2**-n`` for ``w_i = 2**-(i+1)``), and
    ``probs(i, key)`` model i's action probabilities (shape (A,)) at history ``key``.
    ``batch_probs(n, key)``, if given, returns the same for models ``0 .. n-1`` at once (shape
    (n, A)); it must agree with ``probs`` and only saves the per-model Python calls.

    Why a finite prefix suffices: a model with index >= n has unnormalised posterior weight
    ``w_i * nu_i(h) <= tail_mass(n)`` (likelihoods are <= 1), while every top-set member has
    weight ``>= alpha * S_k >= alpha * w_max``. Once ``tail_mass(n) < alpha * w_max`` no
    unenumerated model can be in the top set, nor sit in front of a top-set member in the
    order, so the top set of the first n models is the top set of the whole class.
    """

    log_prior: Callable[[int], float]
    tail_mass: Callable[[int], float]
    probs: Callable[[int, int], FloatArray]
    alpha: float
    max_models: int = 100_000
    batch_probs: Callable[[int, int], FloatArray] | None = None
    log_weights: FloatArray = field(init=False)
    history: list[tuple[int, int]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.log_weights = np.array([self.log_prior(0)], dtype=np.float64)
        self._expand()

    def _log_posterior(self, i: int) -> float:
        """Model i's unnormalised log posterior, replaying the queried history."""
        lw = self.log_prior(i)
        for key, a in self.history:
            p = float(self.probs(i, key)[a])
            if p <= 0.0:
                return -math.inf
            lw += math.log(p)
        return lw

    def _expand(self) -> None:
        n = self.log_weights.size
        bound = math.log(self.alpha) + float(self.log_weights.max())
        extra: list[float] = []
        while (
            n + len(extra) < self.max_models and math.log(self.tail_mass(n + len(extra))) >= bound
        ):
            extra.append(self._log_posterior(n + len(extra)))
        if extra:
            self.log_weights = np.concatenate([self.log_weights, extra])

    @property
    def n_models(self) -> int:
        """How many models have been enumerated so far."""
        return int(self.log_weights.size)

    def _all_probs(self, key: int) -> FloatArray:
        """The enumerated models' action probabilities at ``key``: shape (n_models, A)."""
        if self.batch_probs is not None:
            return self.batch_probs(self.n_models, key)
        return np.stack([self.probs(i, key) for i in range(self.n_models)])

    def step(self, key: int) -> tuple[FloatArray, float, IntArray]:
        """``imitator_step`` over the enumerated prefix at history ``key``."""
        return imitator_step(self.log_weights, self._all_probs(key), self.alpha)

    def observe_demonstrator(self, key: int, action: int) -> None:
        """Bayes-update on the demonstrator's ``action`` at ``key``, then enumerate further."""
        lik = self._all_probs(key)[:, action]
        self.log_weights = posterior_update(self.log_weights, lik)
        self.history.append((key, action))
        self._expand()
