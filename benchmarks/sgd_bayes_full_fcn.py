"""The paper's full MNIST FCN setting on one device: time for N runs, and FLOP/s against peak.

The setting is `occam run sgd-bayes --profile full`'s MNIST one: |S| = 10,000 training images
(28x28, 0-4 vs 5-9), |E| = 100 test images, a 784-512-512-1 ReLU FCN (sigma_w = 1.0,
sigma_b = 0.0357), plain SGD, learning rate 0.01, batch 128, each net trained until its first
epoch with 100% training accuracy. Nets are trained in chunks of ``--chunk`` by the library's
own batched trainer (`occam.nets.train_ensemble`, the hand-written stacked MLP path).

Prints: the device, its measured fp32 matmul peak (TF32 off), nets per second, the time of
the N runs, the time 10^5 runs would take at that rate, and the training loop's achieved
FLOP/s as a fraction of the peak.

    python benchmarks/sgd_bayes_full_fcn.py --device cuda --runs 100000 --chunk 4096  # a GPU
    python benchmarks/sgd_bayes_full_fcn.py --runs 8 --chunk 8  # a CPU estimate
"""

from __future__ import annotations

import argparse
import time

import torch

from occam.nets.ensemble import TrainSpec, train_ensemble
from occam.sgd_bayes.config import FULL
from occam.sgd_bayes.settings import problem_for


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, n: int, reps: int = 10) -> float:
    """fp32 FLOP/s of an n x n matmul on ``device`` (TF32 disabled: the honest fp32 ceiling)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    sync(device)
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=8, help="nets trained at once")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="stop every net after this many epochs (a FLOP/s estimate on slow devices; the "
        "nets then count as unfitted, so the time per run is not the real one)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    cfg = FULL
    problem = problem_for(cfg, "mnist", args.seed)
    arch = problem.arch
    spec = TrainSpec(
        optimizer=cfg.optimizer,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        max_epochs=args.max_epochs or cfg.max_epochs,
    )
    peak = matmul_peak(device, 8192 if device.type == "cuda" else 2048)
    cuda = device.type == "cuda"
    name = torch.cuda.get_device_name(device) if cuda else f"{args.threads} threads"
    print(f"device: {device} ({name})")
    print(f"setting: {problem.description}; {arch}; {spec}")
    print(f"fp32 matmul peak: {peak / 1e12:.2f} TFLOP/s")

    done = fitted = 0
    flops = 0.0
    epochs = 0.0
    net_epochs = 0.0
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    while done < args.runs:
        n = min(args.chunk, args.runs - done)
        out = train_ensemble(
            arch.build,
            problem.X_train,
            problem.y_train,
            problem.X_test,
            n,
            spec,
            g,
            device=device,
            init_stacked=arch.init_stacked,
        )
        sync(device)
        done += n
        fitted += n - out.n_unfitted
        flops += out.flops
        epochs += float(out.epochs.sum())
        net_epochs += float(out.epochs.sum()) + out.n_unfitted * spec.max_epochs
        dt = time.perf_counter() - t0
        print(f"  {done}/{args.runs} runs, {dt:.1f} s, {done / dt:.2f} nets/s", flush=True)
    dt = time.perf_counter() - t0
    rate = args.runs / dt
    print(f"runs: {args.runs} ({fitted} fitted, mean {epochs / max(fitted, 1):.1f} epochs to fit)")
    if args.max_epochs:  # nets were cut short: only the FLOP/s figures below mean anything
        print(f"time: {dt:.1f} s ({args.max_epochs} epochs per net, cut short)")
    else:
        hours = 1e5 / rate / 3600
        print(f"time: {dt:.1f} s = {rate:.2f} nets/s; 10^5 runs would take {hours:.2f} h")
    print(f"net-epochs: {net_epochs:.0f} = {net_epochs / dt:.3f} net-epochs/s")
    print(
        f"training FLOP/s: {flops / dt / 1e12:.3f} TFLOP/s = {flops / dt / peak:.3f} of the "
        "fp32 matmul peak"
    )


if __name__ == "__main__":
    main()
