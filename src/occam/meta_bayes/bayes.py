"""Bayes-optimal agents: closed-form posterior predictives and the exact bandit programme.

Prediction (conjugate families; the sufficient statistic is what a Bayes agent remembers):

* Bernoulli(p), p ~ Beta(a, b); statistic (s, f); P(1) = (a + s) / (a + b + n).
* Cat(pi), pi ~ Dirichlet(alpha); counts c; P(k) = (alpha_k + c_k) / (sum alpha + n).
* Exp(lam), lam ~ Gamma(a, rate b); (n, sum x); Lomax(shape a + n, scale b + sum x).
* N(mu, 1/tau), (mu, tau) ~ NormalGamma(mu0, kappa0, a0, b0); (n, sum x, sum x^2);
  Student-t(2 a_n, mu_n, sqrt(b_n (kappa_n + 1) / (a_n kappa_n))).

Bandits: a K-armed Bernoulli bandit with independent Beta(alpha_i, beta_i) priors over
``horizon`` pulls is a finite Markov decision process on the belief b = (s_i, f_i)_i. The
Bayes-optimal policy solves (Duff 2002; Kaelbling, Littman & Moore 1996, sec. 2.2)::

    V_T(b) = 0
    Q_t(b, i) = p_i(b) [1 + V_{t+1}(b + success_i)] + (1 - p_i(b)) V_{t+1}(b + failure_i)
    V_t(b) = max_i Q_t(b, i),        p_i(b) = (alpha_i + s_i) / (alpha_i + beta_i + s_i + f_i)

:func:`solve_bandit` runs this backward induction vectorised over all beliefs of a level;
:func:`bandit_bayes_value` is its value at the prior. Reference policies (Gittins index,
Thompson sampling, greedy) and a Monte-Carlo evaluator for any count-based policy follow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TypeAlias

import numpy as np
from scipy import special, stats

Priors: TypeAlias = Sequence[float] | np.ndarray  # one hyper-parameter per arm

# --------------------------------------------------------------------------------------
# Prediction: closed-form posterior predictives (all vectorised over leading axes)
# --------------------------------------------------------------------------------------


def beta_bernoulli_predictive(alpha: float, beta: float, history: Sequence[int]) -> float:
    """P(next = 1 | history) for a coin with a Beta(alpha, beta) prior on its bias.

    ``history`` is a sequence of 0/1 outcomes (1 = heads). Closed form:
    (alpha + #heads) / (alpha + beta + len(history)).
    """
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"alpha and beta must be > 0, got alpha={alpha}, beta={beta}")
    h = np.asarray(list(history), dtype=np.int64).reshape(-1)
    if h.size and not np.isin(h, (0, 1)).all():
        raise ValueError("history must contain only 0 and 1")
    return float((alpha + h.sum()) / (alpha + beta + h.size))


def counts_before(x: np.ndarray, n_outcomes: int) -> np.ndarray:
    """Counts of each outcome among x_<t, for every t.

    x: (B, T) integer outcomes in [0, n_outcomes). Returns (B, T, n_outcomes) float64; row t
    counts x_0 .. x_{t-1} (row 0 is all zeros: the prior's state).
    """
    onehot = np.eye(n_outcomes)[x]  # (B, T, K)
    c = np.cumsum(onehot, axis=1)
    return np.concatenate([np.zeros_like(c[:, :1]), c[:, :-1]], axis=1)


def dirichlet_categorical_predictive(
    prior: Sequence[float] | np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """P(x_t = k | counts) = (alpha_k + c_k) / (sum alpha + n). counts: (..., K) -> (..., K).

    Beta-Bernoulli is the case K = 2 with outcome order (tails, heads) = (0, 1).
    """
    a = np.asarray(prior, dtype=np.float64)
    num = a + counts
    return num / num.sum(axis=-1, keepdims=True)


def gamma_exponential_predictive(
    a: float, b: float, n: np.ndarray, sum_x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lomax (shape, scale) predictive of an exponential observation under a Gamma(a, rate b) prior.

    After n observations with sum ``sum_x`` the rate's posterior is Gamma(a + n, b + sum_x) and
    p(x) = shape / scale * (1 + x / scale)^-(shape + 1), x >= 0.
    """
    return a + n, b + sum_x


def lomax_logpdf(x: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """log of the Lomax density shape/scale (1 + x/scale)^-(shape+1), elementwise."""
    return np.log(shape) - np.log(scale) - (shape + 1.0) * np.log1p(x / scale)


def lomax_ppf(u: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Quantile function of the Lomax distribution: scale ((1 - u)^(-1/shape) - 1)."""
    return scale * np.expm1(-np.log1p(-u) / shape)


def normal_gamma_predictive(
    prior: Sequence[float], n: np.ndarray, sum_x: np.ndarray, sum_x2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Student-t (df, loc, scale) predictive under a Normal-Gamma(mu0, kappa0, a0, b0) prior.

    Model: tau ~ Gamma(a0, rate b0), mu | tau ~ N(mu0, 1/(kappa0 tau)), x ~ N(mu, 1/tau).
    Posterior: kappa_n = kappa0 + n, mu_n = (kappa0 mu0 + n xbar)/kappa_n, a_n = a0 + n/2,
    b_n = b0 + 0.5 sum (x - xbar)^2 + kappa0 n (xbar - mu0)^2 / (2 kappa_n); predictive
    Student-t(2 a_n, mu_n, sqrt(b_n (kappa_n + 1) / (a_n kappa_n))) (Murphy 2007, eq. 110).
    """
    mu0, k0, a0, b0 = (float(v) for v in prior)
    n = np.asarray(n, dtype=np.float64)
    safe_n = np.maximum(n, 1.0)
    xbar = np.where(n > 0, sum_x / safe_n, 0.0)
    ss = np.maximum(sum_x2 - n * xbar**2, 0.0)  # sum (x - xbar)^2, clipped for round-off
    kn = k0 + n
    mun = (k0 * mu0 + n * xbar) / kn
    an = a0 + n / 2.0
    bn = b0 + 0.5 * ss + k0 * n * (xbar - mu0) ** 2 / (2.0 * kn)
    return 2.0 * an, mun, np.sqrt(bn * (kn + 1.0) / (an * kn))


def student_t_logpdf(
    x: np.ndarray, df: np.ndarray, loc: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """log density of the location-scale Student-t distribution, elementwise."""
    z = (x - loc) / scale
    return (
        special.gammaln((df + 1) / 2)
        - special.gammaln(df / 2)
        - 0.5 * np.log(df * np.pi)
        - np.log(scale)
        - (df + 1) / 2 * np.log1p(z**2 / df)
    )


def student_t_ppf(u: np.ndarray, df: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Quantile function of the location-scale Student-t distribution."""
    return np.asarray(loc + scale * stats.t.ppf(u, df))


# --------------------------------------------------------------------------------------
# Bandits: the exact finite-horizon dynamic programme over Beta counts
# --------------------------------------------------------------------------------------


@dataclass
class BanditSolution:
    """The Bayes-optimal solution of a K-armed Bernoulli bandit with Beta priors.

    ``value`` is V_0 at the prior (expected total reward over ``horizon`` pulls). When solved
    with ``keep_q``, ``q[t]`` holds Q_t for every belief of level t (t pulls made) as an array
    of shape (K, n_1, ..., n_{K-1}, s_1, ..., s_K), each axis of length t + 1: n_i pulls and
    s_i successes of arm i (the last arm's pull count is t - sum n_i). Entries with s_i > n_i
    or sum n_i > t are not beliefs and hold meaningless numbers.
    """

    alphas: np.ndarray
    betas: np.ndarray
    horizon: int
    value: float
    n_states: int
    q: list[np.ndarray] | None = None

    @property
    def arms(self) -> int:
        return len(self.alphas)

    def q_values(self, successes: np.ndarray, failures: np.ndarray) -> np.ndarray:
        """Q_t(b, .) for a batch of beliefs at one level t.

        successes, failures: (B, K) integer counts with the same total t < horizon for every
        row. Returns (B, K) float64.
        """
        if self.q is None:
            raise ValueError("solve the bandit with keep_q=True to look up Q values")
        s = np.asarray(successes, dtype=np.int64)
        n = s + np.asarray(failures, dtype=np.int64)
        t = int(n[0].sum())
        if not (n.sum(axis=1) == t).all():
            raise ValueError("all beliefs in a q_values() call must be at the same level t")
        idx = [n[:, i] for i in range(self.arms - 1)] + [s[:, i] for i in range(self.arms)]
        return np.moveaxis(self.q[t], 0, -1)[tuple(idx)]  # (B, K)

    def greedy_set(
        self, successes: np.ndarray, failures: np.ndarray, tol: float = 1e-9
    ) -> np.ndarray:
        """(B, K) bool: the arms that attain max_i Q_t(b, i) within ``tol`` (ties included)."""
        q = self.q_values(successes, failures)
        return q >= q.max(axis=1, keepdims=True) - tol


def _validate_priors(alphas: Priors, betas: Priors, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(alphas, dtype=np.float64).reshape(-1)
    b = np.asarray(betas, dtype=np.float64).reshape(-1)
    if a.size == 0 or a.shape != b.shape:
        raise ValueError(
            f"alphas and betas must be non-empty and of equal length, got {a.size} and {b.size}"
        )
    if not ((a > 0).all() and (b > 0).all()):
        raise ValueError("alphas and betas must be > 0")
    if int(horizon) != horizon or horizon < 0:
        raise ValueError(f"horizon must be a non-negative integer, got {horizon!r}")
    return a, b


def solve_bandit(
    alphas: Priors, betas: Priors, horizon: int, keep_q: bool = False
) -> BanditSolution:
    """Backward induction over the Beta counts of a K-armed Bernoulli bandit (vectorised).

    Level t holds every belief reachable after t pulls, indexed by (n_1..n_{K-1}, s_1..s_K)
    in a dense array of side t + 1 (dense is simpler and faster than ranking the
    C(t + 2K - 1, 2K - 1) valid beliefs; the invalid entries are never read by valid ones).
    Cost: sum_t (t+1)^(2K-1) entries, e.g. 2.6e7 for K = 2, T = 100 (well under a second).
    """
    a, b = _validate_priors(alphas, betas, horizon)
    K, T = a.size, int(horizon)
    D = 2 * K - 1
    v_next = np.zeros((1,) * D)  # V_T, indexed at level T; only [0, ..., 0] slice shapes matter
    qs: list[np.ndarray] = [np.empty(0)] * T if keep_q else []
    for t in range(T - 1, -1, -1):
        side = t + 1
        ar = np.arange(side, dtype=np.float64)
        shape_of = [[1] * D for _ in range(D)]
        for ax in range(D):
            shape_of[ax][ax] = side
        n_ax = [ar.reshape(shape_of[i]) for i in range(K - 1)]
        s_ax = [ar.reshape(shape_of[K - 1 + i]) for i in range(K)]
        n_last = t - sum(n_ax, np.zeros((1,) * D))
        if v_next.shape[0] < side + 1:  # level T: V = 0 everywhere
            v_next = np.zeros((side + 1,) * D)
        keep, step = slice(0, side), slice(1, side + 1)
        q = np.empty((K,) + (side,) * D)
        for i in range(K):
            if i < K - 1:
                n_i = n_ax[i]
                succ = [step if ax in (i, K - 1 + i) else keep for ax in range(D)]
                fail = [step if ax == i else keep for ax in range(D)]
            else:
                n_i = np.maximum(n_last, 0.0)
                succ = [step if ax == K - 1 + i else keep for ax in range(D)]
                fail = [keep] * D
            p = (a[i] + s_ax[i]) / (a[i] + b[i] + n_i)
            v_s, v_f = v_next[tuple(succ)], v_next[tuple(fail)]
            # Q = p (1 + V_s) + (1 - p) V_f = V_f + p (1 + V_s - V_f)
            np.subtract(v_s, v_f, out=q[i])
            q[i] += 1.0
            q[i] *= p
            q[i] += v_f
        if keep_q:
            qs[t] = q
        v_next = q.max(axis=0)
    value = float(v_next.reshape(-1)[0]) if T > 0 else 0.0
    n_states = math.comb(T + 2 * K, 2 * K)
    return BanditSolution(a, b, T, value, n_states, qs if keep_q else None)


def bandit_bayes_value(alphas: Priors, betas: Priors, horizon: int) -> float:
    """Bayes-optimal expected total reward of a Bernoulli bandit with independent Beta priors.

    Arm i has a Beta(alphas[i], betas[i]) prior on its success probability; ``horizon`` pulls.
    Exact, by the vectorised dynamic programme :func:`solve_bandit`. E.g. two Beta(1, 1) arms:
    6.0218 (horizon 10), 12.4313 (20), 31.9967 (50), 64.9184 (100).
    """
    return solve_bandit(alphas, betas, horizon).value


def bandit_value_memoised(alphas: Priors, betas: Priors, horizon: int) -> float:
    """The same value by a straightforward memoised recursion over (s_1, f_1, ..., s_K, f_K).

    A reference for tests and benchmarks: one Python call per belief.
    """
    a, b = _validate_priors(alphas, betas, horizon)
    K, T = a.size, int(horizon)

    @cache
    def value(state: tuple[int, ...]) -> float:
        if sum(state) == T:
            return 0.0
        best = -math.inf
        for i in range(K):
            s, f = state[2 * i], state[2 * i + 1]
            p = (a[i] + s) / (a[i] + b[i] + s + f)
            win = state[: 2 * i] + (s + 1, f) + state[2 * i + 2 :]
            lose = state[: 2 * i] + (s, f + 1) + state[2 * i + 2 :]
            best = max(best, p * (1.0 + value(win)) + (1.0 - p) * value(lose))
        return best

    result = value((0,) * (2 * K))
    value.cache_clear()
    return float(result)


# --------------------------------------------------------------------------------------
# Reference policies: Gittins index, Thompson sampling, greedy
# --------------------------------------------------------------------------------------


def gittins_index(
    a: np.ndarray, b: np.ndarray, gamma: float, depth: int = 200, iters: int = 40
) -> np.ndarray:
    """Gittins index of a Bernoulli arm with a Beta(a, b) posterior, discount ``gamma``.

    Calibration against a retirement reward (Gittins 1979): the index is the per-step reward
    lambda at which playing on and retiring for lambda / (1 - gamma) are equally good. For each
    lambda the optimal-stopping value is found by backward induction over the Beta counts,
    truncated at ``depth`` future pulls (beyond which the arm is valued at
    max(lambda, mean) / (1 - gamma)); lambda is found by bisection, all arms at once.
    Vectorised over the shapes of ``a`` and ``b``. E.g. nu_0.9(1, 1) = 0.7029.
    """
    a0 = np.asarray(a, dtype=np.float64).reshape(-1, 1)
    b0 = np.asarray(b, dtype=np.float64).reshape(-1, 1)
    lo = (a0 / (a0 + b0))[:, 0]  # the index lies between the posterior mean and 1
    hi = np.ones(a0.shape[0])
    for _ in range(iters):
        lam = (0.5 * (lo + hi))[:, None]
        retire = lam / (1.0 - gamma)
        i = np.arange(depth + 1, dtype=np.float64)[None, :]
        p = (a0 + i) / (a0 + b0 + depth)
        w = np.maximum(retire, p / (1.0 - gamma))  # value at the truncation depth
        for d in range(depth - 1, -1, -1):
            i = np.arange(d + 1, dtype=np.float64)[None, :]
            p = (a0 + i) / (a0 + b0 + d)
            # state (a0 + i, b0 + d - i): success -> i + 1 at depth d + 1, failure -> i
            cont = p * (1.0 + gamma * w[:, 1 : d + 2]) + (1.0 - p) * gamma * w[:, : d + 1]
            w = cont if d == 0 else np.maximum(retire, cont)
        play_on = w[:, 0] >= retire[:, 0]
        lo = np.where(play_on, lam[:, 0], lo)
        hi = np.where(play_on, hi, lam[:, 0])
    return (0.5 * (lo + hi)).reshape(np.shape(a))


# A count-based policy maps (successes, failures, t, rng) -> actions; all arrays (E, K) / (E,).
CountPolicy = Callable[[np.ndarray, np.ndarray, int, np.random.Generator], np.ndarray]


def _argmax_random_ties(
    scores: np.ndarray, rng: np.random.Generator, tol: float = 1e-12
) -> np.ndarray:
    best = scores >= scores.max(axis=1, keepdims=True) - tol
    noise = rng.random(scores.shape)
    return np.argmax(np.where(best, noise, -1.0), axis=1)


def greedy_policy(alphas: np.ndarray, betas: np.ndarray) -> CountPolicy:
    """Pull the arm with the highest posterior mean (ties broken at random)."""

    def act(s: np.ndarray, f: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return _argmax_random_ties((alphas + s) / (alphas + betas + s + f), rng)

    return act


def thompson_policy(alphas: np.ndarray, betas: np.ndarray) -> CountPolicy:
    """Thompson sampling: draw each arm's bias from its posterior, pull the largest."""

    def act(s: np.ndarray, f: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return np.argmax(rng.beta(alphas + s, betas + f), axis=1)

    return act


def gittins_policy(
    alphas: np.ndarray, betas: np.ndarray, horizon: int, gamma: float
) -> CountPolicy:
    """Pull the arm with the largest Gittins index (discount ``gamma``; an infinite-horizon rule).

    The index is tabulated once for every count (s, f) with s + f < horizon (arms with the same
    prior share a table); the calibration depth covers gamma^depth < 1e-3.
    """
    depth = int(min(400, max(50, math.ceil(math.log(1e-3) / math.log(gamma)))))
    s_grid, f_grid = np.meshgrid(np.arange(horizon), np.arange(horizon), indexing="ij")
    reachable = (s_grid + f_grid) < horizon
    cache: dict[tuple[float, float], np.ndarray] = {}
    for a, b in zip(alphas, betas, strict=True):
        if (a, b) not in cache:
            table = np.full((horizon, horizon), np.nan)
            table[reachable] = gittins_index(
                a + s_grid[reachable], b + f_grid[reachable], gamma, depth, iters=24
            )
            cache[(a, b)] = table
    tables = [cache[(a, b)] for a, b in zip(alphas, betas, strict=True)]

    def act(s: np.ndarray, f: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        idx = np.stack([tables[i][s[:, i], f[:, i]] for i in range(s.shape[1])], axis=1)
        return _argmax_random_ties(idx, rng)

    return act


def random_policy(arms: int) -> CountPolicy:
    """Pull an arm uniformly at random."""

    def act(s: np.ndarray, f: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(rng.integers(0, arms, size=s.shape[0]))

    return act


def bayes_policy(solution: BanditSolution) -> CountPolicy:
    """The Bayes-optimal policy from a solved programme (ties broken at random)."""

    def act(s: np.ndarray, f: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return _argmax_random_ties(solution.q_values(s, f), rng, tol=1e-9)

    return act


def sample_bandit_tasks(
    alphas: np.ndarray, betas: np.ndarray, episodes: int, horizon: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw arm biases theta (E, K) from the prior and reward uniforms u (E, T, K).

    A pull of arm i at step t pays 1 when u[e, t, i] < theta[e, i]; sharing (theta, u) between
    policies gives common random numbers, so their return differences have small variance.
    """
    theta = rng.beta(alphas, betas, size=(episodes, len(alphas)))
    u = rng.random((episodes, horizon, len(alphas)))
    return theta, u


def evaluate_count_policy(
    policy: CountPolicy, theta: np.ndarray, u: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Roll out a count-based policy on tasks (theta, u). Returns per-episode returns (E,)."""
    E, T, K = u.shape
    s = np.zeros((E, K), dtype=np.int64)
    f = np.zeros((E, K), dtype=np.int64)
    rows = np.arange(E)
    total = np.zeros(E)
    for t in range(T):
        act = policy(s, f, t, rng)
        r = u[rows, t, act] < theta[rows, act]
        s[rows, act] += r
        f[rows, act] += ~r
        total += r
    return total
