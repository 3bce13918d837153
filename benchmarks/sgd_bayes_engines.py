"""The exact section's engines on a CPU: the prior sampler and the SGD trainer against peak.

Measured side by side in one run, at 1 and at 2 threads and in 2 processes (ratios, not
absolute times, are what survive a shared machine):

* the fp32 matmul peak (a square product, the best of a few sizes);
* the rejection sampler (:class:`occam.sgd_bayes.prior.PriorChunk`, the trainer's own
  initialiser): nets/s and its achieved forward FLOP/s as a fraction of that peak, for the
  FCN 49-32-32-1 on the quick profile's input pool (96 images) and the CNN (48 images);
* the SGD trainer (:func:`occam.nets.ensemble.train_ensemble`) on the quick MNIST setting
  (|S| = 100, batch 25, lr 0.2): nets/s and its FLOP/s fraction (3x forward FLOPs);
* "draws only": the rate if drawing each net's parameters were the sampler's only cost
  (one normal per parameter, torch's CPU generator), and the "ceiling" it puts on the prior
  sampler's fraction: the fraction reached if the forward pass ran at the full matmul peak;
* "SGD step products": the trainer's seven batched products of one step alone (500 nets;
  its "nets/s" are net-steps/s; FLOPs counted as the trainer counts them, 3x forward),
  whose fraction is the trainer's "ceiling": the fraction it would reach if nothing but its
  products took time, at the speed MKL's batched GEMM reaches on those shapes;
* "P procs": the way the study uses P cores (``executor=processes``, ``workers=P``, one
  torch thread per worker): P spawned processes run the same engine at once, started
  together; nets/s is all their nets over the wall time from the common start to the last
  finish, and the fraction is of the P-thread peak.

Every engine is warmed up once and timed ``--repeats`` times; the median is printed. The
peak is the best of a measurement before and after the engines.

    PYTHONPATH=src python benchmarks/sgd_bayes_engines.py            # ~2 minutes
    PYTHONPATH=src python benchmarks/sgd_bayes_engines.py --scale 0.2  # a quick look
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

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


#: What one timed call of an engine did: (nets, FLOPs, start, end), times in seconds on the
#: system-wide monotonic clock (``time.perf_counter``), so that processes can be compared.
Timed = tuple[float, float, float, float]


def prior_rate(arch: FCNArch | CNNArch, n_inputs: int, nets: int) -> Timed:
    """The rejection sampler on ``n_inputs`` random inputs (forward FLOPs)."""
    shape = (arch.input_dim,) if isinstance(arch, FCNArch) else arch.in_shape
    X = torch.rand(n_inputs, *shape)
    cond = Conditioning("p", tuple(range(8)), (1, 0) * 4, tuple(range(8, 16)))
    task = PriorChunk(arch, X, (cond,), nets)
    t = time.perf_counter()
    task(0, 1)
    return nets, nets * chunk_flops(arch, n_inputs), t, time.perf_counter()


def draw_rate(arch: FCNArch | CNNArch, n_inputs: int, nets: int) -> Timed:
    """The nets and their forward FLOPs as if drawing the parameters (``arch.init_stacked``, torch's
    normal_ on the CPU generator, in the sampler's batches) were the sampler's only cost:
    the ceiling that random-number generation puts on the prior sampler."""
    g = torch.Generator().manual_seed(0)
    batch = 256 if isinstance(arch, FCNArch) else 200
    t = time.perf_counter()
    for _ in range(max(1, nets // batch)):
        arch.init_stacked(batch, g)
    end = time.perf_counter()
    done = max(1, nets // batch) * batch
    return done, done * chunk_flops(arch, n_inputs), t, end


def sgd_rate(nets: int) -> Timed:
    """The trainer on the quick MNIST-like setting (training FLOPs: 3x forward)."""
    arch = FCNArch(49, (32, 32), 1.41, 0.1)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(100, 49, generator=g)
    y = (X[:, :10].sum(1) > X[:, 10:20].sum(1)).float()  # a learnable labelling
    XE = torch.rand(20, 49, generator=g)
    spec = TrainSpec(lr=0.2, batch_size=25, max_epochs=300)
    t = time.perf_counter()
    out = train_ensemble(arch.build, X, y, XE, nets, spec, g, init_stacked=arch.init_stacked)
    return nets, out.flops, t, time.perf_counter()


def sgd_products_rate(nets: int, steps: int = 20) -> Timed:
    """The SGD trainer's matrix products alone, as it runs them in one step (minibatch 25,
    49-32-32-1, ``nets`` nets): the forward's three ``baddbmm`` and the backward's four
    ``bmm``, on random data. The ceiling that MKL's batched GEMM puts on the trainer at
    these shapes (its "nets" are net-steps)."""
    n, b, d, w = nets, 25, 49, 32
    r = torch.randn
    x, W0, W1, wo = r(n, b, d), r(n, d, w), r(n, w, w), r(n, 1, w)
    b0, b1, bo = r(n, 1, w), r(n, 1, w), r(n, 1, 1)
    h1, h2, o, g1, g2 = r(n, b, w), r(n, b, w), r(n, b, 1), r(n, b, w), r(n, b, w)
    gW0, gW1, gwo = r(n, d, w), r(n, w, w), r(n, 1, w)
    t = time.perf_counter()
    for _ in range(steps):
        torch.baddbmm(b0, x, W0, out=h1)
        torch.baddbmm(b1, h1, W1, out=h2)
        torch.baddbmm(bo, h2, wo.transpose(1, 2), out=o)
        torch.bmm(o.transpose(1, 2), h2, out=gwo)
        torch.bmm(h1.transpose(1, 2), g2, out=gW1)
        torch.bmm(g2, W1.transpose(1, 2), out=g1)
        torch.bmm(x.transpose(1, 2), g1, out=gW0)
    end = time.perf_counter()
    # counted as the trainer counts its work (3x forward FLOPs), so that the fractions compare;
    # the seven products do 2 n b (2 d w + 3 w^2 + 2 w), 0.8 of that (no input gradient of the
    # first layer)
    flops = 3 * 2 * n * b * (d * w + w * w + w) * steps
    return n * steps, flops, t, end


FCN = FCNArch(49, (32, 32), 1.41, 0.1)
CNN = CNNArch.paper((1, 7, 7), n_layers=2, width=16, sigma_w=1.41, sigma_b=0.1)


def engines(scale: float) -> dict[str, Callable[[], Timed]]:
    """The engines by row name, each a timed call."""
    n_fcn, n_cnn, n_sgd = (max(200, int(v * scale)) for v in (200_000, 40_000, 1000))
    return {
        "prior FCN, 96 inputs": lambda: prior_rate(FCN, 96, n_fcn),
        "FCN draws only": lambda: draw_rate(FCN, 96, n_fcn),
        "prior CNN, 48 inputs": lambda: prior_rate(CNN, 48, n_cnn),
        "CNN draws only": lambda: draw_rate(CNN, 48, n_cnn),
        "SGD trainer |S|=100": lambda: sgd_rate(n_sgd),
        "SGD step products": lambda: sgd_products_rate(500),
    }


_WARM: set[str] = set()  # in a worker: the engines it has run once


def _proc_engine(job: tuple[str, float, Any]) -> Timed:
    """In a worker: one torch thread, an untimed warm-up the first time, then engine
    ``name`` timed once all workers are ready (a barrier)."""
    name, scale, barrier = job
    torch.set_num_threads(1)
    fn = engines(scale)[name]
    if name not in _WARM:
        fn()
        _WARM.add(name)
    barrier.wait()
    return fn()


def procs_rate(name: str, scale: float, procs: int, repeats: int) -> tuple[float, float]:
    """The median (nets/s, FLOP/s) of ``repeats`` runs of ``procs`` one-thread processes
    running engine ``name`` at once, each over the wall time from the processes' common
    start to the last one's end."""
    ctx = multiprocessing.get_context("spawn")
    rates = []
    with ctx.Manager() as manager, ProcessPoolExecutor(procs, mp_context=ctx) as pool:
        barrier = manager.Barrier(procs)
        for _ in range(repeats):
            runs = list(pool.map(_proc_engine, [(name, scale, barrier)] * procs))
            wall = max(r[3] for r in runs) - min(r[2] for r in runs)
            rates.append((sum(r[0] for r in runs) / wall, sum(r[1] for r in runs) / wall))
    return sorted(rates)[repeats // 2]


def median_rate(fn: Callable[[], Timed], repeats: int) -> tuple[float, float]:
    """The median (nets/s, FLOP/s) of ``repeats`` timed calls, after one untimed warm-up."""
    fn()
    runs = sorted((n / (end - t), f / (end - t)) for n, f, t, end in (fn() for _ in range(repeats)))
    return runs[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every size")
    ap.add_argument("--threads", default="1,2", help="thread counts to measure")
    ap.add_argument(
        "--procs", default="2", help="process counts to measure ('' for none), one thread each"
    )
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per engine (median)")
    args = ap.parse_args()
    print(
        f"{'cores':>7} {'peak GFLOP/s':>12} {'engine':>22} {'nets/s':>10} {'fraction':>8}"
        f" {'ceiling':>8}"
    )
    modes = [("threads", int(t)) for t in args.threads.split(",") if t] + [
        ("procs", int(p)) for p in args.procs.split(",") if p
    ]
    for mode, cores in modes:
        torch.set_num_threads(cores)
        peak = matmul_peak()
        if mode == "threads":
            rows = [
                (name, *median_rate(fn, args.repeats)) for name, fn in engines(args.scale).items()
            ]
        else:  # the process pool's way; every process warms up before the common start
            rows = [
                (name, *procs_rate(name, args.scale, cores, args.repeats))
                for name in engines(args.scale)
            ]
        peak = max(peak, matmul_peak())  # the best of before and after (a shared machine)
        draws = {name.split()[0]: flops / peak for name, _, flops in rows if "draws" in name}
        products = next(flops for name, _, flops in rows if name == "SGD step products")
        label = f"{cores} {'thr' if mode == 'threads' else 'procs'}"
        for name, rate, flops in rows:
            # a prior sampler's ceiling: its forward at the full peak plus the parameter draws
            # (each draw costs 1/draw-fraction of a peak-speed forward): 1 / (1 + 1/d)
            arch = name.split()[1].rstrip(",") if name.startswith("prior") else ""
            ceiling = f"{1 / (1 + 1 / draws[arch]):8.2f}" if arch in draws else f"{'':>8}"
            if name.startswith("SGD trainer"):  # the trainer at its products' own speed
                ceiling = f"{products / peak:8.2f}"
            print(
                f"{label:>7} {peak / 1e9:>12.1f} {name:>22} {rate:>10.0f}"
                f" {flops / peak:>8.2f} {ceiling}"
            )


if __name__ == "__main__":
    main()
