"""NNGP of a depth-3 ReLU FCN on 2,000 MNIST images (784-d), float64: ours vs neural-tangents.

    PYTHONPATH=src /tmp/ntvenv/bin/python benchmarks/sgd_bayes_nngp.py   # with neural-tangents
    .venv/bin/python benchmarks/sgd_bayes_nngp.py                          # ours only

(a venv with neural-tangents: ``pip install neural-tangents==0.6.5 jax==0.5.3 jaxlib==0.5.3
tf2jax==0.3.6 torch scipy``; occam runs from ``src`` through PYTHONPATH.)

Prints the median wall time of each (after a warm-up, which also compiles the jitted
neural-tangents ``kernel_fn``), the ratio ours / neural-tangents (target <= 1.0), and the
largest relative difference of the two kernels; then the same for the paper's CNN on 200
and 1,000 images (target <= 1.0). Without neural-tangents, the CNN kernel is timed against
a Monte Carlo kernel of wide random nets instead (time ratio and error in standard
errors). Both sides get the same number of threads (``--threads``, default 1), measured
side by side, interleaved. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def median_time(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--sigma-w", type=float, default=1.0)
    ap.add_argument("--sigma-b", type=float, default=0.0357)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cnn-n", default="200,1000", help="CNN image counts, comma-separated")
    ap.add_argument("--cnn-reps", type=int, default=3)
    ap.add_argument("--mc-samples", type=int, default=200, help="without neural-tangents")
    args = ap.parse_args()
    if args.threads == 1:  # before jax is imported: one XLA thread, like torch below
        os.environ.setdefault(
            "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.dirname(__file__))
    from sgd_bayes_data import mnist

    from occam.sgd_bayes import FCNArch

    X, _ = mnist(max(args.n, *(int(v) for v in args.cnn_n.split(","))))
    X_fcn = X[: args.n]
    Xt = torch.from_numpy(X_fcn)
    arch = FCNArch(784, (512,) * args.depth, args.sigma_w, args.sigma_b)
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        import neural_tangents as nt
        from neural_tangents import stax
    except ImportError as err:
        nt = None
        print(f"neural-tangents not importable ({err}); timing ours only")

    ours = lambda: arch.nngp(Xt)  # noqa: E731
    K = ours()
    print(
        f"FCN depth {args.depth}, sigma_w {args.sigma_w}, sigma_b {args.sigma_b}, "
        f"{args.n} MNIST images x 784, float64, {args.threads} thread(s)"
    )
    if nt is None:
        print(f"  ours: {median_time(ours, args.reps):.3f} s (median of {args.reps})")
        cnn_vs_monte_carlo(X, args)
        return
    layers = []
    for w in arch.widths:
        layers += [stax.Dense(w, W_std=arch.sigma_w, b_std=arch.sigma_b), stax.Relu()]
    layers.append(stax.Dense(1, W_std=arch.sigma_w, b_std=arch.sigma_b))
    kernel_fn = jax.jit(stax.serial(*layers)[2], static_argnames="get")
    Xj = jax.numpy.asarray(X_fcn)
    theirs = lambda: kernel_fn(Xj, None, get="nngp").block_until_ready()  # noqa: E731
    K_nt = np.asarray(theirs())  # compiles
    t_ours, t_nt = [], []
    for _ in range(args.reps):  # interleaved, so that load on the machine hits both alike
        t_ours.append(median_time(ours, 1))
        t_nt.append(median_time(theirs, 1))
    a, b = statistics.median(t_ours), statistics.median(t_nt)
    rel = float(np.abs(K.numpy() - K_nt).max() / np.abs(K_nt).max())
    print(
        f"  ours {a:.3f} s | neural-tangents (jitted) {b:.3f} s | ratio ours/nt = {a / b:.2f}"
        f" | max relative difference {rel:.2e}  (median of {args.reps}, nt {nt.__version__})"
    )

    # the paper's CNN (5x5 VALID, 2x2 SAME), Flatten readout
    cnn = paper_cnn()
    layers = []
    for c, k, p in zip(cnn.channels, cnn.filter_sizes, cnn.paddings, strict=True):
        layers += [stax.Conv(c, k, padding=p, W_std=cnn.sigma_w, b_std=cnn.sigma_b), stax.Relu()]
    layers += [stax.Flatten(), stax.Dense(1, W_std=cnn.sigma_w, b_std=cnn.sigma_b)]
    kfc = jax.jit(stax.serial(*layers)[2], static_argnames="get")
    for n_img in [int(v) for v in args.cnn_n.split(",")]:
        Xc = torch.from_numpy(X[:n_img].reshape(-1, 1, 28, 28))
        Xcj = jax.numpy.asarray(Xc.numpy().transpose(0, 2, 3, 1))

        def ours_c(Xc: torch.Tensor = Xc) -> torch.Tensor:
            return cnn.nngp(Xc)

        def theirs_c(Xcj: Any = Xcj) -> Any:
            return kfc(Xcj, None, get="nngp").block_until_ready()

        Kc, Kc_nt = ours_c().numpy(), np.asarray(theirs_c())  # warm-up (and compile)
        reps = args.cnn_reps
        t_ours, t_nt = [], []
        for _ in range(reps):  # interleaved
            t_ours.append(median_time(ours_c, 1))
            t_nt.append(median_time(theirs_c, 1))
        a, b = statistics.median(t_ours), statistics.median(t_nt)
        rel = float(np.abs(Kc - Kc_nt).max() / np.abs(Kc_nt).max())
        print(
            f"paper CNN (5x5 VALID, 2x2 SAME, Flatten) on {n_img} MNIST images: ours {a:.3f} s"
            f" | nt {b:.3f} s | ratio ours/nt = {a / b:.2f} | max relative difference {rel:.2e}"
            f"  (median of {reps}, interleaved)",
            flush=True,
        )


def paper_cnn() -> Any:
    from occam.sgd_bayes import CNNArch

    return CNNArch.paper((1, 28, 28), n_layers=2, width=64, sigma_w=1.0, sigma_b=0.1)


def cnn_vs_monte_carlo(X: np.ndarray, args: argparse.Namespace) -> None:
    """Without neural-tangents: the analytic CNN kernel against a Monte Carlo one (wide nets)."""
    import torch

    from occam.sgd_bayes import empirical_nngp

    cnn = paper_cnn()
    n_img = min(int(v) for v in args.cnn_n.split(","))
    Xc = torch.from_numpy(X[:n_img].reshape(-1, 1, 28, 28))
    t = time.perf_counter()
    K = cnn.nngp(Xc)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    mc = empirical_nngp(cnn, Xc, n_samples=args.mc_samples, seed=0)
    t_mc = time.perf_counter() - t
    z = float(((mc.K - K).abs() / mc.stderr.clamp_min(1e-12)).max())
    rel = float(((mc.K - K).abs()).max() / K.abs().max())
    print(
        f"paper CNN on {n_img} MNIST images: analytic {t_ours:.3f} s | Monte Carlo "
        f"({args.mc_samples} nets of width {cnn.channels[0]}) {t_mc:.3f} s | ratio "
        f"{t_ours / t_mc:.3f} | MC - analytic: max {rel:.2e} relative, max {z:.1f} standard errors"
    )


if __name__ == "__main__":
    main()
