"""The exact section's engines on a CPU: the prior sampler and the SGD trainer against peak.

Measured side by side in one run, at 1 and at 2 threads (ratios, not absolute times, are
what survive a shared machine):

* the fp32 matmul peak (a square product, the best of a few sizes);
* the rejection sampler (:class:`occam.sgd_bayes.prior.PriorChunk`, the trainer's own
  initialiser): nets/s and its achieved forward FLOP/s as a fraction of that peak, for the
  FCN 49-32-32-1 on the quick profile's input pool (96 images) and the CNN (48 images);
* the SGD trainer (:func:`occam.nets.ensemble.train_ensemble`) on the quick MNIST setting
  (|S| = 100, batch 25, lr 0.2): nets/s and its FLOP/s fraction (3x forward FLOPs);
* "draws only": the rate if drawing each net's parameters were the sampler's only cost
  (one normal per parameter, torch's CPU generator), and the "ceiling" it puts on the prior
  sampler's fraction: the fraction reached if the forward pass ran at the full matmul peak.

Every engine is warmed up once and timed ``--repeats`` times; the median is printed. The
peak is the best of a measurement before and after the engines.

    PYTHONPATH=src python benchmarks/sgd_bayes_engines.py            # ~1 minute
    PYTHONPATH=src python benchmarks/sgd_bayes_engines.py --scale 0.2  # a quick look
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from occam.nets.ensemble import TrainSpec, train_ensemble
from occam.sgd_bayes.arch import CNNArch, FCNArch
from occam.sgd_bayes.prior import Conditioning, PriorChunk, chunk_flops


def matmul_peak(reps: int = 5) -> float:
    """fp32 FLOP/s of the best of a few square matmuls at the current thread count."""
    best = 0.0
    for n in (256, 512, 1024):
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - t))
    return best


def prior_rate(arch: FCNArch | CNNArch, n_inputs: int, nets: int) -> tuple[float, float]:
    """(nets/s, forward FLOP/s) of the rejection sampler on ``n_inputs`` random inputs."""
    shape = (arch.input_dim,) if isinstance(arch, FCNArch) else arch.in_shape
    X = torch.rand(n_inputs, *shape)
    cond = Conditioning("p", tuple(range(8)), (1, 0) * 4, tuple(range(8, 16)))
    task = PriorChunk(arch, X, (cond,), nets)
    task(0, 0)  # warm-up (allocations)
    t = time.perf_counter()
    task(0, 1)
    dt = time.perf_counter() - t
    return nets / dt, nets * chunk_flops(arch, n_inputs) / dt


def draw_rate(arch: FCNArch | CNNArch, n_inputs: int, nets: int) -> tuple[float, float]:
    """(nets/s, forward FLOP/s) if drawing the parameters (``arch.init_stacked``, torch's
    normal_ on the CPU generator, in the sampler's batches) were the sampler's only cost:
    the ceiling that random-number generation puts on the prior sampler."""
    g = torch.Generator().manual_seed(0)
    batch = 256 if isinstance(arch, FCNArch) else 200
    arch.init_stacked(batch, g)
    t = time.perf_counter()
    for _ in range(max(1, nets // batch)):
        arch.init_stacked(batch, g)
    dt = time.perf_counter() - t
    done = max(1, nets // batch) * batch
    return done / dt, done * chunk_flops(arch, n_inputs) / dt


def sgd_rate(nets: int) -> tuple[float, float]:
    """(nets/s, training FLOP/s) of the trainer on the quick MNIST-like setting."""
    arch = FCNArch(49, (32, 32), 1.41, 0.1)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(100, 49, generator=g)
    y = (X[:, :10].sum(1) > X[:, 10:20].sum(1)).float()  # a learnable labelling
    XE = torch.rand(20, 49, generator=g)
    spec = TrainSpec(lr=0.2, batch_size=25, max_epochs=300)
    t = time.perf_counter()
    out = train_ensemble(arch.build, X, y, XE, nets, spec, g, init_stacked=arch.init_stacked)
    dt = time.perf_counter() - t
    return nets / dt, out.flops / dt


def median_rate(fn: Callable[[], tuple[float, float]], repeats: int) -> tuple[float, float]:
    """The median (nets/s, FLOP/s) of ``repeats`` timed calls, after one untimed warm-up."""
    fn()
    runs = sorted((fn() for _ in range(repeats)), key=lambda r: r[0])
    return runs[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every size")
    ap.add_argument("--threads", default="1,2", help="thread counts to measure")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per engine (median)")
    args = ap.parse_args()
    fcn = FCNArch(49, (32, 32), 1.41, 0.1)
    cnn = CNNArch.paper((1, 7, 7), n_layers=2, width=16, sigma_w=1.41, sigma_b=0.1)
    n_fcn, n_cnn, n_sgd = (max(200, int(v * args.scale)) for v in (200_000, 40_000, 1000))
    print(
        f"{'threads':>7} {'peak GFLOP/s':>12} {'engine':>22} {'nets/s':>10} {'fraction':>8}"
        f" {'ceiling':>8}"
    )
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        engines: list[tuple[str, Callable[[], tuple[float, float]]]] = [
            ("prior FCN, 96 inputs", lambda: prior_rate(fcn, 96, n_fcn)),
            ("FCN draws only", lambda: draw_rate(fcn, 96, n_fcn)),
            ("prior CNN, 48 inputs", lambda: prior_rate(cnn, 48, n_cnn)),
            ("CNN draws only", lambda: draw_rate(cnn, 48, n_cnn)),
            ("SGD trainer |S|=100", lambda: sgd_rate(n_sgd)),
        ]
        peak = matmul_peak()
        rows = [(name, *median_rate(fn, args.repeats)) for name, fn in engines]
        peak = max(peak, matmul_peak())  # the best of before and after (a shared machine)
        draws = {name.split()[0]: flops / peak for name, _, flops in rows if "draws" in name}
        for name, rate, flops in rows:
            # a prior sampler's ceiling: its forward at the full peak plus the parameter draws
            # (each draw costs 1/draw-fraction of a peak-speed forward): 1 / (1 + 1/d)
            arch = name.split()[1].rstrip(",") if name.startswith("prior") else ""
            ceiling = f"{1 / (1 + 1 / draws[arch]):8.2f}" if arch in draws else f"{'':>8}"
            print(
                f"{threads:>7} {peak / 1e9:>12.1f} {name:>22} {rate:>10.0f}"
                f" {flops / peak:>8.2f} {ceiling}"
            )


if __name__ == "__main__":
    main()
