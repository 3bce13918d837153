"""Baselines: behavioural cloning, DAgger, an EnsembleDAgger-style rule, an entropy rule.

Every agent answers the same question as the imitator: at observation ``key`` (tabular) or
``obs`` (E3), with what probability does it take each action itself (``own``, shape (A,)),
and with what probability ``theta`` does the demonstrator act instead. The online loop in
:mod:`occam.imitation.runner` samples from that split, counts a query whenever the
demonstrator is consulted, and calls ``observe`` with the demonstrator's action.

Tabular (E1, E2), on a :class:`~occam.imitation.models.TabularClass`:

* :class:`CountsBC` -- tabular BC: action counts with add-one smoothing, fitted on n_demo
  demonstrator steps before the run, then frozen. Unseen states get the uniform policy.
* :class:`BayesBC` -- BC as the Bayes posterior predictive of the model class after the demos.
* :class:`DAgger` -- the learner (counts or Bayes predictive) acts with probability
  ``1 - beta_t``, the expert with ``beta_t = max(0, 1 - t / beta_steps)``; the expert labels
  *every* step (Ross et al. 2011; ``imitation``'s ``LinearBetaSchedule``).
* :class:`EnsembleDAgger` -- the K heaviest posterior models form the ensemble; the novice
  (their mean) acts iff the doubt ``max_a std_k p_k(a)`` is at most chi, else the expert acts
  and labels (Menda et al. 2019, the doubt rule only: the discrepancy rule needs the expert's
  action at every step, i.e. a query per step).
* :class:`SafeDAgger` -- SafeDAgger's safety policy (Zhang & Cho 2017) made tabular: the
  novice (the posterior predictive) acts iff, at this key, it has at least ``n_min``
  demonstrator labels and the novice is within ``tau`` (total variation) of their empirical
  distribution; otherwise the expert acts and labels. The paper's safety policy is a
  classifier predicting "the novice deviates from the reference by more than tau" from
  held-out data; with a finite key set the per-key estimate is that classifier, with no
  generalisation error.
* :class:`EntropyQuery` -- query iff the posterior's epistemic entropy at key (the mutual
  information ``H(sum_m w_m p_m) - sum_m w_m H(p_m)``) exceeds tau, else act with the
  predictive. (Raw predictive entropy would also count the demonstrator's own randomness and
  never stop asking in its genuinely random states.)

E3 (MLP ensembles, :class:`~occam.imitation.models.MLPEnsemble`): :class:`NavBC`,
:class:`NavDAgger` and :class:`NavEnsembleDAgger`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from occam.imitation.models import MLPEnsemble, TabularClass

FloatArray = NDArray[np.float64]


def beta_schedule(t: int, beta_steps: int) -> float:
    """DAgger's mixing weight on the expert: linear from 1 at t = 0 to 0 at ``beta_steps``."""
    return max(0.0, 1.0 - t / beta_steps) if beta_steps > 0 else 0.0


class _Posterior:
    """Bayes posterior over a tabular class, updated on demonstrator labels only."""

    def __init__(self, tc: TabularClass) -> None:
        self.tc = tc
        self.log_weights = tc.log_prior.copy()
        self.version = 0
        self._w: FloatArray | None = None

    def weights(self) -> FloatArray:
        """Normalised posterior weights, shape (M,)."""
        if self._w is None:
            w = np.exp(self.log_weights - self.log_weights.max())
            self._w = w / w.sum()
        return self._w

    def predictive(self, key: int) -> FloatArray:
        """``sum_m w_m p_m(. | key)``, shape (A,)."""
        return self.weights() @ self.tc.probs[:, key]

    def observe(self, key: int, action: int) -> None:
        self.log_weights = self.log_weights + self.tc.log_probs[:, key, action]
        self._w = None
        self.version += 1


class _Counts:
    """Tabular action counts with add-one smoothing: ``(n(key, a) + 1) / (n(key) + A)``."""

    def __init__(self, n_keys: int, n_actions: int) -> None:
        self.counts = np.zeros((n_keys, n_actions))
        self.version = 0

    def predictive(self, key: int) -> FloatArray:
        c = self.counts[key] + 1.0
        return c / c.sum()

    def observe(self, key: int, action: int) -> None:
        self.counts[key, action] += 1.0
        self.version += 1


def _learner(kind: str, tc: TabularClass) -> _Posterior | _Counts:
    if kind == "bayes":
        return _Posterior(tc)
    if kind == "counts":
        return _Counts(tc.probs.shape[1], tc.probs.shape[2])
    raise ValueError(f"unknown learner {kind!r} (choose 'bayes' or 'counts')")


class TabularAgent(ABC):
    """Base class: ``policy(key, t) -> (own, theta)``; ``observe(key, a)`` on demonstrator data."""

    labels_every_step = False  # DAgger: the expert labels every visited state

    def cache_version(self) -> int | None:
        """A number that changes whenever ``policy`` may change (None: it changes every step).

        The online loop caches ``policy(key)`` per key while this number stays the same.
        """
        return 0

    @abstractmethod
    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        """``(own action probabilities, query probability)`` at context/state ``key``."""

    @abstractmethod
    def observe(self, key: int, action: int) -> None:
        """Learn from the demonstrator's ``action`` at ``key`` (called on queried steps)."""

    def truth_in_top(self) -> bool:
        """Whether the demonstrator's model is in the agent's top set (imitator only)."""
        return True

    def pretrain(self, demos: list[tuple[int, int]]) -> None:
        for key, a in demos:
            self.observe(key, a)


class CountsBC(TabularAgent):
    """Tabular BC with add-one smoothing, frozen after :meth:`pretrain`."""

    def __init__(self, tc: TabularClass) -> None:
        self.learner: _Posterior | _Counts = _Counts(tc.probs.shape[1], tc.probs.shape[2])

    def pretrain(self, demos: list[tuple[int, int]]) -> None:
        for key, a in demos:
            self.learner.observe(key, a)

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        return self.learner.predictive(key), 0.0

    def observe(self, key: int, action: int) -> None:  # never queried
        pass


class BayesBC(CountsBC):
    """BC as the posterior predictive of the model class after the demos, then frozen."""

    def __init__(self, tc: TabularClass) -> None:
        self.learner: _Posterior | _Counts = _Posterior(tc)


class DAgger(TabularAgent):
    """DAgger: the expert acts with probability beta_t, the learner otherwise; the expert
    labels every step and the learner is refitted on all labels (here: updated online)."""

    labels_every_step = True

    def __init__(self, tc: TabularClass, beta_steps: int, learner: str = "counts") -> None:
        self.learner = _learner(learner, tc)
        self.beta_steps = beta_steps

    def cache_version(self) -> int | None:
        return None  # beta_t changes every step

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        beta = beta_schedule(t, self.beta_steps)
        return (1.0 - beta) * self.learner.predictive(key), beta

    def observe(self, key: int, action: int) -> None:
        self.learner.observe(key, action)


class EnsembleDAgger(TabularAgent):
    """The K heaviest posterior models vote; the novice acts iff their doubt is at most chi.

    Doubt = ``max_a`` of the posterior-weighted standard deviation of ``p_k(a | key)`` over
    the K heaviest models (weights renormalised over them). Unweighted, a fixed-size
    committee never agrees once its lighter members are wrong models, and the rule would
    query forever; weighted, the doubt shrinks as the posterior concentrates, as an
    ensemble's variance does with data. The novice plays the weighted mean.
    """

    def __init__(self, tc: TabularClass, k: int, chi: float) -> None:
        self.post = _Posterior(tc)
        self.k, self.chi = k, chi
        self._members = self._top_k()
        self._set_weights()

    def _top_k(self) -> NDArray[np.int64]:
        return np.argsort(-self.post.log_weights, kind="stable")[: self.k]

    def cache_version(self) -> int | None:
        return self.post.version

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        p = self.post.tc.probs[self._members, key]  # (K, A)
        mean = self._w @ p
        doubt = float(np.sqrt(self._w @ (p - mean) ** 2).max())
        if doubt > self.chi:
            return np.zeros(p.shape[1]), 1.0
        return mean, 0.0

    def observe(self, key: int, action: int) -> None:
        self.post.observe(key, action)
        self._members = self._top_k()
        self._set_weights()

    def _set_weights(self) -> None:
        lw = self.post.log_weights[self._members]
        w = np.exp(lw - lw.max())
        self._w = w / w.sum()


def safe_to_act(novice: FloatArray, label_counts: FloatArray, tau: float, n_min: int) -> bool:
    """SafeDAgger's gate at one key: trust the novice iff it has seen ``n_min`` labels there
    and ``TV(novice, empirical labels) = 0.5 * sum_a |novice(a) - n(a) / n| <= tau``.

    ``novice``: shape (A,), its action probabilities; ``label_counts``: shape (A,), the
    demonstrator's labels at this key so far.
    """
    n = float(label_counts.sum())
    if n < n_min or n == 0.0:
        return False
    return 0.5 * float(np.abs(novice - label_counts / n).sum()) <= tau


class SafeDAgger(TabularAgent):
    """SafeDAgger (Zhang & Cho 2017), tabular: the Bayes novice acts where the gate
    :func:`safe_to_act` trusts it, the expert acts (a query, labelled) elsewhere."""

    def __init__(self, tc: TabularClass, tau: float, n_min: int) -> None:
        self.post = _Posterior(tc)
        self.tau, self.n_min = tau, n_min
        self.counts = np.zeros(tc.probs.shape[1:])  # (K, A) demonstrator labels per key

    def cache_version(self) -> int | None:
        return self.post.version

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        novice = self.post.predictive(key)
        if safe_to_act(novice, self.counts[key], self.tau, self.n_min):
            return novice, 0.0
        return np.zeros(novice.size), 1.0

    def observe(self, key: int, action: int) -> None:
        self.post.observe(key, action)
        self.counts[key, action] += 1.0


class Demonstrator(TabularAgent):
    """The demonstrator itself (theta = 1 at every step): the reference for task utility."""

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        return np.zeros(self.n_actions), 1.0

    def __init__(self, tc: TabularClass) -> None:
        self.n_actions = tc.probs.shape[2]

    def observe(self, key: int, action: int) -> None:
        pass


class EntropyQuery(TabularAgent):
    """Query iff the epistemic entropy (mutual information) at key exceeds tau."""

    def __init__(self, tc: TabularClass, tau: float) -> None:
        self.post = _Posterior(tc)
        self.tau = tau
        with np.errstate(invalid="ignore"):
            plogp = np.where(tc.probs > 0, tc.probs * tc.log_probs, 0.0)
        self._model_entropy = -plogp.sum(axis=2)  # (M, K)

    def cache_version(self) -> int | None:
        return self.post.version

    def policy(self, key: int, t: int) -> tuple[FloatArray, float]:
        w = self.post.weights()
        pred = w @ self.post.tc.probs[:, key]
        h_pred = -float(sum(p * math.log(p) for p in pred if p > 0))
        mutual_info = h_pred - float(w @ self._model_entropy[:, key])
        if mutual_info > self.tau:
            return np.zeros(pred.size), 1.0
        return pred, 0.0

    def observe(self, key: int, action: int) -> None:
        self.post.observe(key, action)


# ---------------------------------------------------------------------------------------
# E3: neural baselines on an MLP ensemble
# ---------------------------------------------------------------------------------------


class NavAgent(ABC):
    """Base class for E3: ``policy(x, t) -> (own, theta)`` on feature vector x.

    Refit schedule (the same for every agent): after ``refit_every`` labels, then whenever the
    number of labels has grown by ``refit_every`` *and* by a factor ``REFIT_GROWTH`` -- every
    50 labels early on, every ~25% more data later (DAgger-style rounds that grow, so an
    agent with thousands of labels does not spend its time refitting).
    """

    labels_every_step = False
    REFIT_GROWTH = 1.25

    def __init__(self, ens: MLPEnsemble, refit_every: int, fit_steps: int) -> None:
        self.ens = ens
        self.refit_every = refit_every
        self.fit_steps = fit_steps
        self.n_labels = 0
        self.next_refit = refit_every

    @abstractmethod
    def policy(self, x: FloatArray, t: int) -> tuple[FloatArray, float]:
        """``(own action probabilities, query probability)`` at feature vector ``x``."""

    def observe(self, x: FloatArray, action: int) -> None:
        """Add a demonstrator label; refit on the schedule above (warm start)."""
        self.ens.add(x, action)
        self.n_labels += 1
        if self.n_labels >= self.next_refit:
            self.ens.fit(self.fit_steps)
            n = self.n_labels
            self.next_refit = max(n + self.refit_every, math.ceil(n * self.REFIT_GROWTH))

    def pretrain(self, demos: list[tuple[FloatArray, int]], fit_steps: int) -> None:
        for x, a in demos:
            self.ens.add(x, a)
        self.ens.fit(fit_steps)


class NavDemonstrator:
    """E3's demonstrator acting alone (theta = 1): the reference for task utility."""

    labels_every_step = False

    def policy(self, x: FloatArray, t: int) -> tuple[FloatArray, float]:
        return np.zeros(5), 1.0

    def observe(self, x: FloatArray, action: int) -> None:
        pass


class NavBC(NavAgent):
    """BC on n_demo demonstrator steps, frozen: acts with the ensemble's mean softmax."""

    def policy(self, x: FloatArray, t: int) -> tuple[FloatArray, float]:
        return self.ens.probs(x).mean(axis=0), 0.0

    def observe(self, x: FloatArray, action: int) -> None:  # never queried
        pass


class NavDAgger(NavAgent):
    """DAgger with the ensemble mean as learner; the expert labels every step."""

    labels_every_step = True

    def __init__(self, ens: MLPEnsemble, refit_every: int, fit_steps: int, beta_steps: int):
        super().__init__(ens, refit_every, fit_steps)
        self.beta_steps = beta_steps

    def policy(self, x: FloatArray, t: int) -> tuple[FloatArray, float]:
        beta = beta_schedule(t, self.beta_steps)
        return (1.0 - beta) * self.ens.probs(x).mean(axis=0), beta


class NavEnsembleDAgger(NavAgent):
    """EnsembleDAgger's doubt rule: the novice (floored, renormalised ensemble mean) acts iff
    ``max_a std_k p_k(a) <= chi``; otherwise the expert acts and labels.

    The floor is the imitator's (probabilities below it are set to 0), so that the two differ
    only in the decision rule: min-over-top-set plus leftover queries, against a std gate.
    """

    def __init__(
        self, ens: MLPEnsemble, refit_every: int, fit_steps: int, chi: float, floor: float
    ):
        super().__init__(ens, refit_every, fit_steps)
        self.chi, self.floor = chi, floor

    def policy(self, x: FloatArray, t: int) -> tuple[FloatArray, float]:
        p = self.ens.probs(x)
        if float(p.std(axis=0).max()) > self.chi:
            return np.zeros(p.shape[1]), 1.0
        mean = p.mean(axis=0)
        mean = np.where(mean < self.floor, 0.0, mean)
        total = float(mean.sum())
        if total <= 0.0:
            return np.zeros(p.shape[1]), 1.0
        return mean / total, 0.0
