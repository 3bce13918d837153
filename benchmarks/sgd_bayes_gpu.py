"""Exact P_B by rejection at |S| = 16-32 and P_SGD at 10^5 runs, on one GPU (or a CPU, small).

Two measurements on 7x7 MNIST (labels 0-4 vs 5-9), the FCN 49-32-32-1 of the quick profile:

1. the finite net's exact P_B(f|S) by rejection sampling of its prior: ``--prior-nets``
   random nets from the trainer's own initialiser (``arch.init_stacked``), batched on the
   device, accepted when they fit |S| = ``--prior-n-train`` images; prints nets/s, the
   accepted count, log P(S) against EP, and r(log P_B rejection, log P_B EP) over E;
2. P_SGD: ``--sgd-runs`` nets trained by the library's batched trainer
   (:func:`occam.nets.ensemble.train_ensemble`) on |S| = ``--sgd-n-train`` images until each
   first fits S; prints nets/s, the fraction unfitted and r(log P_SGD, log P_B EP).

Both print their achieved FLOP/s as a fraction of the device's fp32 matmul peak, measured
first in the same run (TF32 off); the CPU figures are ``benchmarks/sgd_bayes_engines.py``.
   (The paper's full MNIST setting, 784-512-512-1 on 10,000 images, is
   ``benchmarks/sgd_bayes_full_fcn.py``.)

Data are read from ``--data-dir`` (or $OCCAM_DATA_DIR): ``mnist/*-ubyte.gz``; nothing is
downloaded. The defaults finish in about 4 minutes on one H200:

    PYTHONPATH=src python3 benchmarks/sgd_bayes_gpu.py --device cuda --data-dir DATA
    PYTHONPATH=src python3 benchmarks/sgd_bayes_gpu.py --device cpu --data-dir DATA \\
        --prior-nets 20000 --prior-n-train 8 --sgd-runs 200          # a CPU check, ~1 min
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter

import numpy as np
import torch

from occam import data
from occam.nets.ensemble import TrainSpec, bits_to_strings, train_ensemble
from occam.sgd_bayes.agreement import counts_vector, ep_distribution, point_metrics
from occam.sgd_bayes.arch import FCNArch
from occam.sgd_bayes.prior import chunk_flops, stacked_outputs


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device) -> float:
    """fp32 FLOP/s of the best of a few square matmuls on ``device`` (TF32 off: the fp32
    peak the issue's fractions are quoted against)."""
    allow = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    best = 0.0
    sizes = (2048, 4096, 8192) if device.type == "cuda" else (256, 512, 1024)
    for n in sizes:
        a = torch.randn(n, n, device=device)
        b = torch.randn(n, n, device=device)
        a @ b
        sync(device)
        t = time.perf_counter()
        for _ in range(5):
            a @ b
        sync(device)
        best = max(best, 2 * n**3 * 5 / (time.perf_counter() - t))
    torch.backends.cuda.matmul.allow_tf32 = allow
    return best


def load(data_dir: str, n_train: int, n_test: int, seed: int) -> tuple[torch.Tensor, ...]:
    """S (a seeded draw of the training split) and E (the first test images), 7x7, 0/1."""
    Xtr, ytr = data.load_mnist("train", data_dir=data_dir, quiet=True)
    Xte, yte = data.load_mnist("test", data_dir=data_dir, quiet=True)
    idx = np.random.default_rng(seed).permutation(len(Xtr))[:n_train]
    f = lambda a: torch.tensor(np.ascontiguousarray(a), dtype=torch.float32)  # noqa: E731
    return (
        f(data.avg_pool_images(Xtr[idx], size=7)),
        f(data.binarize(ytr[idx], "threshold")),
        f(data.avg_pool_images(Xte[:n_test], size=7)),
        f(data.binarize(yte[:n_test], "threshold")),
    )


def rejection(
    arch: FCNArch,
    Xs: torch.Tensor,
    ys: torch.Tensor,
    Xe: torch.Tensor,
    n: int,
    batch: int,
    device: torch.device,
    seed: int,
) -> tuple[Counter[str], float]:
    """Accepted functions on E of ``n`` prior nets, and the seconds it took."""
    X = torch.cat([Xs, Xe]).to(device)
    want = ys.to(device).bool()
    m = len(Xs)
    g = torch.Generator(device=device).manual_seed(seed)
    template = arch.build(torch.Generator())
    shapes = {k: tuple(p.shape) for k, p in template.named_parameters()}
    stds = {
        k: (arch.sigma_w / math.sqrt(s[1]) if k.endswith("weight") else arch.sigma_b)
        for k, s in shapes.items()
    }  # the rule of init_paper_stacked, drawn on the device
    keys: list[torch.Tensor] = []
    sync(device)
    t = time.perf_counter()
    done = 0
    while done < n:
        b = min(batch, n - done)
        params = {
            k: torch.randn((b, *s), generator=g, device=device).mul_(stds[k])
            for k, s in shapes.items()
        }
        out = stacked_outputs(arch, params, X)
        ok = ((out[:, :m] > 0) == want).all(dim=1)
        keys.append((out[ok][:, m:] > 0).to(torch.uint8))
        done += b
    sync(device)
    dt = time.perf_counter() - t
    funcs = torch.cat(keys).cpu().numpy()
    return Counter(bits_to_strings(funcs)), dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--data-dir", default=os.environ.get("OCCAM_DATA_DIR"))
    ap.add_argument("--prior-nets", type=float, default=1e8)
    ap.add_argument("--prior-n-train", type=int, default=16)
    ap.add_argument("--prior-batch", type=int, default=200_000)
    ap.add_argument("--n-test", type=int, default=8)
    ap.add_argument("--sgd-runs", type=float, default=1e5)
    ap.add_argument("--sgd-n-train", type=int, default=100)
    ap.add_argument("--sgd-chunk", type=int, default=25_000, help="nets trained at once")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not args.data_dir or not os.path.isdir(os.path.join(args.data_dir, "mnist")):
        sys.exit(f"--data-dir: no folder mnist/ in {args.data_dir!r} (or set OCCAM_DATA_DIR)")
    device = torch.device(args.device)
    arch = FCNArch(49, (32, 32), 1.41, 0.1)
    k = args.n_test
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = matmul_peak(device)
    print(
        f"device {device} ({name}), torch {torch.__version__}, "
        f"fp32 matmul peak {peak / 1e12:.2f} TFLOP/s"
    )

    # 1. the exact posterior by rejection
    Xs, ys, Xe, ye = load(args.data_dir, args.prior_n_train, k, args.seed)
    n_prior = int(args.prior_nets)
    acc, dt = rejection(arch, Xs, ys, Xe, n_prior, args.prior_batch, device, args.seed)
    n_acc = sum(acc.values())
    K = arch.nngp(torch.cat([Xs, Xe]).double())
    log_ep, log_ps_ep = ep_distribution(K, ys, k)
    m = point_metrics(counts_vector(acc, k), None, log_ep, 5)
    rej = counts_vector(acc, k)
    ok = rej >= 5
    r = float(np.corrcoef(np.log(rej[ok] / n_acc), log_ep[ok])[0, 1]) if ok.sum() >= 3 else math.nan
    print(
        f"prior: {n_prior:,} nets in {dt:.1f} s = {n_prior / dt:,.0f} nets/s "
        f"({n_prior * chunk_flops(arch, len(Xs) + k) / dt / peak:.2f} of peak); |S| = "
        f"{args.prior_n_train}: {n_acc:,} accepted, log P(S) rejection "
        f"{math.log(max(n_acc, 1) / n_prior):.3f} vs EP {log_ps_ep:.3f}; "
        f"r(log P_B rejection, EP) = {r:.3f} over {int(ok.sum())} functions; "
        f"TV(rejection, EP) = {m['tv_sgd_ep']:.3f}"
    )

    # 2. P_SGD at |S| = sgd_n_train
    Xs, ys, Xe, ye = load(args.data_dir, args.sgd_n_train, k, args.seed + 1)
    spec = TrainSpec(lr=0.2, batch_size=25, max_epochs=300)
    n_runs = int(args.sgd_runs)
    g = torch.Generator().manual_seed(args.seed)
    counts: Counter[str] = Counter()
    unfitted = 0
    flops = 0.0
    sync(device)
    t = time.perf_counter()
    for start in range(0, n_runs, args.sgd_chunk):
        b = min(args.sgd_chunk, n_runs - start)
        out = train_ensemble(
            arch.build, Xs, ys, Xe, b, spec, g, device=device, init_stacked=arch.init_stacked
        )
        counts.update(bits_to_strings(out.functions))
        unfitted += out.n_unfitted
        flops += out.flops
    sync(device)
    dt = time.perf_counter() - t
    K = arch.nngp(torch.cat([Xs, Xe]).double())
    log_ep, _ = ep_distribution(K, ys, k)
    m = point_metrics(counts_vector(counts, k), None, log_ep, 5)
    print(
        f"SGD: {n_runs:,} runs in {dt:.1f} s = {n_runs / dt:,.0f} nets/s "
        f"({flops / dt / peak:.2f} of peak); |S| = "
        f"{args.sgd_n_train}: {unfitted / n_runs:.2%} unfitted; {len(counts)} functions; "
        f"r(log P_SGD, log P_B EP) = {m['pearson_sgd_ep']:.3f}, TV = {m['tv_sgd_ep']:.3f}, "
        f"top-1 ratio = {m['top1_ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
