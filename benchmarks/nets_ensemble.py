"""Batched-ensemble trainer against a per-network PyTorch loop (issue: sgd-bayes 2 of 2).

Problem: sklearn digits, |S| = 100 (labels y >= 5), |E| = 20, FCN 64-32-32-1 ReLU
(sigma_w = 1.41, sigma_b = 0.1), cross-entropy, plain SGD lr 0.2, batch 25, each net trained
until its first epoch with 100% training accuracy. Prints trained networks per second for
both, their ratio, and the batched loop's achieved FLOP/s against this machine's fp32 matmul
peak measured in the same run.

    python benchmarks/nets_ensemble.py [--nets 1000] [--loop-nets 50] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch
from sklearn.datasets import load_digits
from torch import nn

from occam.nets.ensemble import TrainSpec, make_optimizer, train_ensemble
from occam.sgd_bayes.arch import FCNArch


def matmul_peak(n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t)


def per_net_loop(arch, X, y, XE, n_nets, spec, seed) -> float:
    """Train nets one at a time (the straightforward baseline); return nets per second."""
    g = torch.Generator().manual_seed(seed)
    t = time.perf_counter()
    for _ in range(n_nets):
        net = arch.build(generator=g)
        opt = make_optimizer(list(net.parameters()), spec)
        for _epoch in range(spec.max_epochs):
            perm = torch.randperm(len(X), generator=g)
            for s in range(0, len(X), spec.batch_size):
                idx = perm[s : s + spec.batch_size]
                loss = nn.functional.binary_cross_entropy_with_logits(
                    net(X[idx]).squeeze(-1), y[idx]
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                if ((net(X).squeeze(-1) > 0) == (y > 0.5)).all():
                    (net(XE).squeeze(-1) > 0).tolist()
                    break
    return n_nets / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", type=int, default=1000)
    ap.add_argument("--loop-nets", type=int, default=50)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float32)
    y = torch.tensor(y >= 5, dtype=torch.float32)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    S, E = perm[:100], perm[100:120]
    arch = FCNArch(64, (32, 32), sigma_w=1.41, sigma_b=0.1)
    spec = TrainSpec(optimizer="sgd", lr=0.2, batch_size=25, max_epochs=500)

    peak = matmul_peak()
    t = time.perf_counter()
    out = train_ensemble(
        arch.build,
        X[S],
        y[S],
        X[E],
        args.nets,
        spec,
        torch.Generator().manual_seed(1),
        init_stacked=arch.init_stacked,
    )
    dt = time.perf_counter() - t
    batched = args.nets / dt
    loop = per_net_loop(arch, X[S], y[S], X[E], args.loop_nets, spec, seed=2)
    print(f"threads: {args.threads}")
    print(
        f"batched ensemble: {args.nets} nets in {dt:.1f} s = {batched:.1f} nets/s "
        f"({out.n_unfitted} unfitted, mean {out.epochs.mean():.1f} epochs to fit)"
    )
    print(f"per-net loop:     {loop:.2f} nets/s (over {args.loop_nets} nets)")
    print(f"ratio batched / loop: {batched / loop:.1f}x   (target >= 10x)")
    print(
        f"batched training FLOP/s: {out.flops / dt / 1e9:.2f} GFLOP/s; "
        f"fp32 matmul peak (2048^2) {peak / 1e9:.1f} GFLOP/s; "
        f"fraction {out.flops / dt / peak:.3f}"
    )


if __name__ == "__main__":
    main()
