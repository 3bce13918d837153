"""RT Fig. 2 at the paper's protocol: what U[0, 2] does, and what the ``full`` grid costs.

Prints (1) the distribution of y = x1⋯xn for x ~ U[0, 2]^n (and U[0.5, 1.5]) at
n = 8, 12, 20: mean, spread, quantiles, the tail's share of the mean, and the relative L1
error of the best constant (RT's L1 loss is minimised by the median); (2) the time of one
representative cell at the full protocol (n = 20, AdaDelta, L1, tanh, depth 3, width 128,
one seed) and of one optimiser step of a whole depth of the full grid (all six widths of
one seed batched, as ``train_product_nets`` runs them), and from those an *extrapolation*
of the full profile's trained grids (not a measurement of them).
Run: ``python benchmarks/deep_cheap_rt_protocol.py [steps]`` (about a minute).
"""

from __future__ import annotations

import resource
import sys
import time

import torch

from occam.deep_cheap import depth as dp
from occam.deep_cheap.config import PROFILES

torch.set_num_threads(1)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def step_time(depth: int, widths: tuple[int, ...], steps: int, act: str = "tanh") -> float:
    """CPU seconds per AdaDelta step of one seed's nets of ``depth`` (batch 256, n = 20)."""
    g = torch.Generator().manual_seed(0)
    tx, ty = dp.sample_product(1024, 20, 0.0, 2.0, g)
    kw = dict(batch=256, lr=1.0, low=0.0, high=2.0, optimizer="adadelta", activation=act)
    dp.train_product_nets(20, depth, widths, steps=2, test_x=tx, test_y=ty, generators=[g], **kw)
    c = cpu()
    dp.train_product_nets(
        20, depth, widths, steps=steps, test_x=tx, test_y=ty, generators=[g], **kw
    )
    return (cpu() - c) / steps


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    print("== y = x1...xn, x ~ U[low, high]^n (2^20 draws)")
    for n in (8, 12, 20):
        for low, high in ((0.0, 2.0), (0.5, 1.5)):
            d = dp.product_distribution(n, low, high, 1 << 20, torch.Generator().manual_seed(n))
            print(
                f"n={n:2d} U[{low:g},{high:g}]: mean {d['mean']:.3g} std {d['std']:6.3g} "
                f"median {d['median']:.3g} q90 {d['q90']:.3g} q99 {d['q99']:.3g} "
                f"top-1% share {d['top1pct_share_of_mean']:.2f} "
                f"best-constant rel. L1 {d['median_predictor_relative_l1']:.4f}"
            )
    full = PROFILES["full"]
    t0 = time.perf_counter()
    one = step_time(3, (128,), steps)
    print(
        f"== one cell (n=20, depth 3, width 128, 1 seed, AdaDelta, batch 256): "
        f"{one * 1e3:.2f} ms CPU per step -> {one * full.train_steps:.0f} s CPU for "
        f"{full.train_steps} steps"
    )
    per_depth = {k: step_time(k, full.train_widths, steps) for k in (1, 3, 5)}
    relu = step_time(3, full.train_widths, steps, "relu")
    print(
        "== one depth of the full grid (widths "
        f"{list(full.train_widths)} batched, 1 seed), CPU s per step: "
        + ", ".join(f"depth {k}: {t:.3f}" for k, t in per_depth.items())
        + f"; ReLU depth 3: {relu:.3f}"
    )

    def t(k: int) -> float:  # linear in the number of hidden-to-hidden layers
        return per_depth[1] + (per_depth[5] - per_depth[1]) * (k - 1) / 4

    depths = full.train_depths
    ends = (min(depths), max(depths))
    grids = {
        "tanh, n = 20": depths,
        "tanh, n = 2 control": ends,
        "ReLU, n = 20": full.relu_depths,
        "ReLU, n = 2 control": (min(full.relu_depths), max(full.relu_depths)),
        "sum control": full.sum_depths,
    }
    total = 0.0
    for name, ks in grids.items():
        cost = sum(t(k) for k in ks) * full.train_steps * full.replicates * full.train_seeds
        total += cost
        print(f"   {name:20s} depths {list(ks)}: ~{cost / 3600:.1f} CPU h (extrapolated)")
    print(
        f"== full profile trained grids, extrapolated: ~{total / 3600:.1f} CPU hours "
        f"({full.replicates} seeds x {full.train_steps} steps); benchmark took "
        f"{time.perf_counter() - t0:.0f} s wall"
    )


if __name__ == "__main__":
    main()
