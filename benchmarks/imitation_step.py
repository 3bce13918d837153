"""Imitator steps per second at |M| = 10^4 models, |A| = 5 actions, on one CPU thread.

Two measurements, each against a straightforward per-model Python loop (the definition of
the top set and the minimum, one model at a time), printed as a ratio:

1. the stateless public entry point ``imitator_step(log_weights, model_probs, alpha)`` on
   posteriors of three shapes (uniform prior, a concentrated posterior, a broad one);
2. an online run: E1-style bandit with a table of 10^4 models, where the posterior (and so
   the top set) only changes at queries -- the way the study runs the imitator.

Target (issue): >= 10^4 imitator steps per second. Not a timed test: run it by hand,
``python benchmarks/imitation_step.py``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from occam.imitation import imitator_step
from occam.imitation.envs import ContextualBandit
from occam.imitation.models import TabularClass
from occam.imitation.runner import TabularImitator, run_bandit

M, A = 10_000, 5


def naive_step(log_weights: list[float], probs: list[list[float]], alpha: float):
    lmax = max(log_weights)
    w = [math.exp(lw - lmax) for lw in log_weights]
    order = sorted(range(len(w)), key=lambda j: (-log_weights[j], j))
    top, running = [], 0.0
    for j in order:
        running += w[j]
        if w[j] < alpha * running:
            break
        top.append(j)
    own = [min(probs[j][a] for j in top) for a in range(len(probs[0]))]
    return own, 1.0 - sum(own), top


def rate(fn, min_time: float = 1.0) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_time:
        fn()
        n += 1
    return n / (time.perf_counter() - t0)


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(A), size=M)
    probs_list = probs.tolist()
    print(f"imitator_step, |M| = {M}, |A| = {A}")
    print(
        f"{'posterior':>14} {'alpha':>7} {'|top|':>6} {'steps/s':>10} {'naive/s':>9} {'ratio':>7}"
    )
    for name, lw in (
        ("uniform", np.zeros(M)),
        ("concentrated", rng.normal(0.0, 20.0, M)),
        ("broad", rng.normal(0.0, 2.0, M)),
    ):
        for alpha in (1e-2, 1e-5):
            top = imitator_step(lw, probs, alpha)[2]
            fast = rate(lambda lw=lw, alpha=alpha: imitator_step(lw, probs, alpha))
            lw_list = lw.tolist()
            slow = rate(
                lambda lw_list=lw_list, alpha=alpha: naive_step(lw_list, probs_list, alpha),
                min_time=2.0,
            )
            print(
                f"{name:>14} {alpha:>7.0e} {top.size:>6} {fast:>10.0f} {slow:>9.1f} "
                f"{fast / slow:>7.0f}x"
            )

    # Online: a bandit with 20 contexts and a class of 10^4 models (truth = model 0).
    n_ctx, horizon = 20, 200_000
    table = rng.dirichlet(np.ones(A), size=(M, n_ctx))
    tc = TabularClass(table, np.full(M, -math.log(M)), 0, ["model"] * M)
    env = ContextualBandit(rng.uniform(size=(n_ctx, A)), (), A - 1)
    alpha = 0.1 / M
    t0 = time.perf_counter()
    tr = run_bandit(env, tc, TabularImitator(tc, alpha), horizon, seed=0)
    online = horizon / (time.perf_counter() - t0)
    # The naive online loop: the per-model step at every step, a per-model update at queries.
    lw, n_naive, t0 = [-math.log(M)] * M, 0, time.perf_counter()
    u = np.random.default_rng(1).random(10**6)
    while time.perf_counter() - t0 < 5.0:
        s = n_naive % n_ctx
        own, theta, _ = naive_step(lw, table[:, s].tolist(), alpha)
        if u[n_naive] < theta:
            a = int(np.argmax(table[0, s]))
            lw = [w + math.log(table[j, s, a]) for j, w in enumerate(lw)]
        n_naive += 1
    naive_online = n_naive / (time.perf_counter() - t0)
    print(
        f"\nonline E1-style run, alpha = 0.1 / |M|: {horizon} steps, "
        f"{int(tr.queried.sum())} queries"
    )
    print(
        f"  vectorised: {online:,.0f} steps/s   naive loop: {naive_online:,.1f} steps/s   "
        f"ratio {online / naive_online:,.0f}x   (target >= 10,000 steps/s)"
    )


if __name__ == "__main__":
    main()
