"""meta-bayes performance figures (printed, not asserted).

1. The exact bandit programme (two Beta(1,1) arms): seconds and belief states per second for
   horizons 20, 50 and 100, against a straightforward memoised recursion (as a ratio).
2. Meta-training throughput: sequences per second for the FC -> LSTM -> FC predictor at batch
   128, T = 20 (log loss, BPTT, Adam), with 1 and 2 threads; and actor-critic bandit updates.

Usage: python benchmarks/meta_bayes_bench.py [--memo-max 50] [--steps 100]
The memoised recursion needs ~1 GB and about a minute at horizon 100; it is skipped above
``--memo-max``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from occam.meta_bayes.agents import MemoryAgent
from occam.meta_bayes.bayes import bandit_value_memoised, solve_bandit
from occam.meta_bayes.tasks import parse_task
from occam.meta_bayes.train import (
    ActorCritic,
    Schedule,
    n_bandit_inputs,
    train_bandit,
    train_predictor,
)


def best_of(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_dp(memo_max: int) -> None:
    print("Bandit DP, two Beta(1,1) arms: vectorised backward induction vs memoised recursion")
    head = ("T", "beliefs", "V*", "vectorised s", "states/s", "memoised s", "ratio")
    print("{:>5} {:>10} {:>9} {:>13} {:>11} {:>11} {:>7}".format(*head))
    for T in (20, 50, 100):
        sol = solve_bandit([1, 1], [1, 1], T)
        t_vec = best_of(lambda T=T: solve_bandit([1, 1], [1, 1], T), 3)
        memo, ratio = "skipped", "-"
        if T <= memo_max:
            t_memo = best_of(lambda T=T: bandit_value_memoised([1, 1], [1, 1], T), 1)
            memo, ratio = f"{t_memo:.3f}", f"{t_memo / t_vec:.0f}"
        rate = f"{sol.n_states / t_vec:.3g}"
        row = (T, sol.n_states, f"{sol.value:.4f}", f"{t_vec:.4f}", rate, memo, ratio)
        print("{:>5} {:>10} {:>9} {:>13} {:>11} {:>11} {:>7}".format(*row))


def bench_training(steps: int) -> None:
    task = parse_task("beta_1_1")
    ones = np.ones(2)
    print(f"\nMeta-training throughput, LSTM H=32, batch 128, T=20 ({steps} updates)")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        pred = MemoryAgent(task.n_inputs, task.n_outputs, 32)
        train_predictor(pred, task, Schedule(5, 128, 1e-3), 20, rng)  # warm-up
        t0 = time.perf_counter()
        train_predictor(pred, task, Schedule(steps, 128, 1e-3), 20, rng)
        t = time.perf_counter() - t0
        print(f"  prediction, {threads} thread(s): {steps * 128 / t:8.0f} sequences/s", end="")
        print(f" ({1e3 * t / steps:.1f} ms/update)")
        agent = MemoryAgent(n_bandit_inputs(2, True), 2, 32, value_head=True)
        n = max(steps // 4, 5)
        t0 = time.perf_counter()
        train_bandit(agent, ones, ones, 20, Schedule(n, 128, 3e-3), ActorCritic(), rng)
        t = time.perf_counter() - t0
        print(f"  bandit actor-critic, {threads} thread(s): {n * 128 / t:8.0f} episodes/s", end="")
        print(f" ({1e3 * t / n:.1f} ms/update)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--memo-max", type=int, default=50, help="largest horizon for the memoised recursion"
    )
    parser.add_argument("--steps", type=int, default=100, help="updates timed for throughput")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench_dp(args.memo_max)
    bench_training(args.steps)


if __name__ == "__main__":
    main()
