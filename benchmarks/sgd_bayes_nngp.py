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
side by side, interleaved. Each side's CPU seconds (process time: on one thread, the work
itself, less sensitive to load than wall time) and peak memory above the resident set before
the call (``VmHWM``, reset per call through ``/proc/self/clear_refs``) are printed too.

Max-pooling: neural-tangents 0.6.5 has no max-pool layer in ``stax`` (``neural_tangents/
stax.py`` exports ``AvgPool``, ``SumPool``, ``GlobalAvgPool``, ``GlobalSumPool``; its
``_Pooling`` enum is ``AVG``/``SUM``), so it has no max-pool kernel; its generic tool is
``nt.monte_carlo_kernel_fn`` over whole random networks. The last section times ours
(:func:`occam.sgd_bayes.maxpool.maxpool_cnn_nngp`, channels sampled at the pooling layer)
against that on conv 5x5 VALID -> ReLU -> max-pool 2 -> Flatten -> dense (``--maxpool-n``
MNIST images), both errors measured against a reference of ``--maxpool-ref`` channels, and
the time each needs for the same error (error ~ 1/sqrt(samples), so t * (e / e0)^2).
(Peak memory is reset per call, so ``/usr/bin/time``'s maximum resident set is the last
call's, not the run's.)

Measured (neural-tangents 0.6.5, jax 0.5.3, torch 2.13.0 CPU, 1 thread, default flags, the
shared 2-core machine at load average 7-10; ours/nt, wall and CPU): paper CNN on 200 images
0.55 / 0.54, on 1,000 images 0.43 / 0.44 (33.7 s vs 77.6 s wall, 11.7 s vs 26.7 s CPU; peak
+220 MiB vs +10.4 GiB), kernels equal to 2.5e-15; FCN 0.39 / 0.40; max-pool on 100 images
0.63 / 0.67 at 1,024 sampled channels each, RMS error 1.9e-2 vs 7.1e-2, so 0.049x nt's CPU
for equal error.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _vm_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        m = re.search(rf"{field}:\s+(\d+)", f.read())
    return int(m.group(1)) if m else 0


def measured(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(wall s, CPU s of this process, peak MiB above the resident set before the call)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident set
    except OSError:
        pass
    rss0 = _vm_kib("VmRSS")
    t, c = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return wall, cpu, max(0, _vm_kib("VmHWM") - rss0) / 1024


def side_by_side(
    ours: Callable[[], object], theirs: Callable[[], object], reps: int
) -> tuple[list[float], list[float], str]:
    """Interleaved runs; medians of wall and CPU time, largest peak. Returns a summary."""
    o, t = [], []
    for _ in range(reps):  # interleaved, so that load on the machine hits both alike
        o.append(measured(ours))
        t.append(measured(theirs))
    med = [statistics.median(v) for v in zip(*o, strict=True)]
    med_t = [statistics.median(v) for v in zip(*t, strict=True)]
    peak, peak_t = max(r[2] for r in o), max(r[2] for r in t)
    text = (
        f"ours {med[0]:.3f} s wall, {med[1]:.3f} s CPU, peak +{peak:.0f} MiB | nt {med_t[0]:.3f}"
        f" s wall, {med_t[1]:.3f} s CPU, peak +{peak_t:.0f} MiB | ratio ours/nt: wall "
        f"{med[0] / med_t[0]:.2f}, CPU {med[1] / med_t[1]:.2f}"
    )
    return med, med_t, text


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
    ap.add_argument("--maxpool-n", type=int, default=100, help="images; 0 skips max-pool")
    ap.add_argument("--maxpool-s", type=int, default=1024, help="channels sampled, each side")
    ap.add_argument("--maxpool-ref", type=int, default=16384, help="channels of the reference")
    ap.add_argument("--maxpool-width", type=int, default=128, help="nt: channels per net")
    ap.add_argument("--maxpool-out", type=int, default=32, help="nt: readout units per net")
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
    _, _, text = side_by_side(ours, theirs, args.reps)
    rel = float(np.abs(K.numpy() - K_nt).max() / np.abs(K_nt).max())
    print(
        f"  {text} | max relative difference {rel:.2e}  (median of {args.reps}, nt "
        f"{nt.__version__}, interleaved)",
        flush=True,
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
        _, _, text = side_by_side(ours_c, theirs_c, args.cnn_reps)
        rel = float(np.abs(Kc - Kc_nt).max() / np.abs(Kc_nt).max())
        print(
            f"paper CNN (5x5 VALID, 2x2 SAME, Flatten) on {n_img} MNIST images: {text} | max "
            f"relative difference {rel:.2e}  (median of {args.cnn_reps}, interleaved)",
            flush=True,
        )
        del Kc, Kc_nt
    if args.maxpool_n > 0:
        maxpool_vs_monte_carlo(X, args, jax, nt)


def maxpool_vs_monte_carlo(X: np.ndarray, args: argparse.Namespace, jax: Any, nt: Any) -> None:
    """Our max-pool kernel estimator against neural-tangents' Monte Carlo kernel (whole nets)."""
    import torch
    from jax.example_libraries import stax as jstax
    from jax.nn.initializers import normal

    from occam.sgd_bayes.maxpool import MaxPoolCNNArch, maxpool_cnn_nngp

    n, sw, sb = args.maxpool_n, 1.0, 0.1
    arch = MaxPoolCNNArch((1, 28, 28), 1, (5, 5), "VALID", pool=2, sigma_w=sw, sigma_b=sb)
    Xc = torch.from_numpy(X[:n].reshape(-1, 1, 28, 28))
    ref = maxpool_cnn_nngp(arch, Xc, n_samples=args.maxpool_ref, seed=1000)
    scale = float(ref.K.abs().max())

    def rms_rel(K: torch.Tensor) -> float:
        return float((K - ref.K).square().mean().sqrt()) / scale

    width, k_out = args.maxpool_width, args.maxpool_out
    n_nets = max(1, args.maxpool_s // width)  # the same number of sampled channels
    init_fn, apply_fn = jstax.serial(
        jstax.Conv(width, (5, 5), padding="VALID", W_init=normal(sw / 5.0), b_init=normal(sb)),
        jstax.Relu,
        jstax.MaxPool((2, 2), strides=(2, 2)),
        jstax.Flatten,
        jstax.Dense(k_out, W_init=normal(sw / math.sqrt(width * 144)), b_init=normal(sb)),
    )
    Xj = jax.numpy.asarray(Xc.numpy().transpose(0, 2, 3, 1))

    def mc_fn(key: int) -> Any:
        return nt.monte_carlo_kernel_fn(
            init_fn, apply_fn, jax.random.PRNGKey(key), n_nets, device_count=0, trace_axes=(-1,)
        )

    # errors: RMS over independent seeds (entries of one estimate share their samples)
    reps = args.cnn_reps
    errs = [
        rms_rel(maxpool_cnn_nngp(arch, Xc, n_samples=args.maxpool_s, seed=r).K) for r in range(reps)
    ]
    errs_t = [rms_rel(torch.tensor(np.asarray(mc_fn(r)(Xj, None, "nngp")))) for r in range(reps)]
    e_ours = math.sqrt(statistics.mean(e * e for e in errs))
    e_nt = math.sqrt(statistics.mean(e * e for e in errs_t))
    fixed = mc_fn(0)  # compiled by the call above with key 0

    def ours() -> Any:
        return maxpool_cnn_nngp(arch, Xc, n_samples=args.maxpool_s, seed=0)

    def theirs() -> Any:
        return fixed(Xj, None, "nngp").block_until_ready()

    theirs()  # compiles this kernel_fn
    (w_o, c_o, _), (w_t, c_t, _), text = side_by_side(ours, theirs, reps)
    e_ref = float(ref.stderr.square().mean().sqrt()) / scale
    # CPU seconds each would need for the same error (error ~ 1 / sqrt(samples))
    eq_o, eq_t = c_o * (e_ours / e_nt) ** 2, c_t
    print(
        f"max-pool CNN (5x5 VALID -> ReLU -> max-pool 2 -> Flatten) on {n} MNIST images, no "
        f"max-pool kernel in neural-tangents {nt.__version__}: ours ({args.maxpool_s} channels "
        f"sampled at the pooling layer) vs nt.monte_carlo_kernel_fn ({n_nets} nets x {width} "
        f"channels, {k_out} outputs traced): {text}\n  RMS error / max|K| vs a reference of "
        f"{args.maxpool_ref} channels (its own {e_ref:.1e}), RMS over {reps} seeds: ours "
        f"{e_ours:.2e}, nt {e_nt:.2e};"
        f" CPU for equal error ours/nt = {eq_o / eq_t:.3f}",
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
