"""P_B(f|S) at the paper's scale: |S| = 10,000 MNIST images, |E| = 100, 2,000 functions.

    .venv/bin/python benchmarks/sgd_bayes_pb_scale.py --threads 2
    .venv/bin/python benchmarks/sgd_bayes_pb_scale.py --m 2000 --top 2     # a quick look
    .venv/bin/python benchmarks/sgd_bayes_pb_scale.py --device cuda

Mingard et al. compute P_B(f|S) by EP with |S| = 10^4 (§3, Fig. 1). This prints, for the
NNGP of the paper's FCN (depth 3, sigma_w 1, sigma_b 0.0357; labels 5-9 -> +1):
1. the NNGP kernel over S u E: time;
2. one Heaviside EP on S with the fast schedule (``FAST``): time, sweeps, seconds per sweep
   and their ratio to one Cholesky of the same matrix in the same run;
3. the fast recipe (:func:`occam.sgd_bayes.pb.log_pb_fast`) for ``--functions`` labellings of
   E, all in batched EP problems after that one EP: time, and per function;
4. the joint recipe (the paper's) for the ``--top`` most probable of them (one warm-started
   joint EP over S u E each): time per function and joint - fast in nats.
The functions are the true labels of E with each label flipped with probability q, q drawn
from {0, 0.02, 0.05, 0.1, 0.2} per function (seeded): the kind of functions SGD finds.
Not a timed test.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time

import numpy as np
import torch

from occam.sgd_bayes import FCNArch
from occam.sgd_bayes.ep import FAST
from occam.sgd_bayes.pb import log_pb_fast, log_pb_joint, train_ep

sys.path.insert(0, os.path.dirname(__file__))
from sgd_bayes_data import mnist  # noqa: E402

ARCH = FCNArch(784, (512, 512, 512), sigma_w=1.0, sigma_b=0.0357)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def clock(device: str) -> float:
    sync(device)
    return time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--m", type=int, default=10_000, help="|S|")
    ap.add_argument("--k", type=int, default=100, help="|E|")
    ap.add_argument("--functions", type=int, default=2000)
    ap.add_argument("--top", type=int, default=3, help="functions for the joint recipe")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = args.device
    print(f"torch {torch.__version__}, device {dev}, {args.threads} thread(s)", flush=True)
    m, k = args.m, args.k

    t = clock(dev)
    X_train, l_train = mnist(m)
    X_test, l_test = mnist(k, split="test")
    X = torch.from_numpy(np.concatenate([X_train, X_test])).to(dev)
    K = ARCH.nngp(X)
    y = torch.from_numpy(np.where(l_train >= 5, 1.0, -1.0))
    truth = torch.from_numpy(np.where(l_test >= 5, 1.0, -1.0))
    print(f"[1] kernel over |S| + |E| = {m} + {k}: {clock(dev) - t:.1f} s", flush=True)

    t = clock(dev)
    train = train_ep(K[:m, :m], y, "heaviside", **FAST)
    t_ep = clock(dev) - t
    r = train.result
    sw = r.tau.sqrt()
    B = K[:m, :m] * sw[:, None]
    B.mul_(sw[None, :]).diagonal().add_(1.0)
    t = clock(dev)
    torch.linalg.cholesky(B)
    t_chol = clock(dev) - t
    del B
    print(
        f"[2] EP on S (Heaviside, FAST): {t_ep:.1f} s, {r.sweeps} sweeps, "
        f"{t_ep / r.sweeps:.2f} s per sweep = {t_ep / r.sweeps / t_chol:.2f} Choleskys "
        f"(one: {t_chol:.2f} s); log P(S) = {train.log_p_train:.4f}",
        flush=True,
    )

    g = torch.Generator().manual_seed(0)
    q = torch.tensor([0.0, 0.02, 0.05, 0.1, 0.2], dtype=torch.float64)
    qs = q[torch.randint(len(q), (args.functions, 1), generator=g)]
    flips = torch.rand(args.functions, k, generator=g, dtype=torch.float64) < qs
    F = torch.where(flips, -truth, truth)
    t = clock(dev)
    fast = log_pb_fast(K, F, train, "heaviside", **FAST)
    t_fast = clock(dev) - t
    is_truth = (F == truth).all(1)
    lp_truth = float(fast[is_truth].max()) if bool(is_truth.any()) else math.nan
    print(
        f"[3] fast recipe, {args.functions} functions on |E| = {k}: {t_fast:.1f} s "
        f"({1e3 * t_fast / args.functions:.1f} ms per function; EP on S took "
        f"{t_ep / t_fast:.1f}x as long); log P_B of the true labelling {lp_truth:.3f}",
        flush=True,
    )

    if args.top:
        top = torch.topk(fast, args.top).indices
        t = clock(dev)
        joint = log_pb_joint(K, y, F[top], train, "heaviside", **FAST)
        t_joint = clock(dev) - t
        diff = (joint - fast[top]).tolist()
        print(
            f"[4] joint recipe, top {args.top} functions: {t_joint:.1f} s "
            f"({t_joint / args.top:.1f} s per function); joint - fast = "
            + ", ".join(f"{d:+.3f}" for d in diff)
            + " nats",
            flush=True,
        )
    if dev.startswith("cuda"):
        print(f"GPU peak {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"process peak RSS {rss:.2f} GiB")


if __name__ == "__main__":
    main()
