"""EP for GP classification on MNIST NNGP kernels: ours vs GPy 1.15, the fast schedule, n = 10^4.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sgd_bayes_ep.py --threads 2
    .venv/bin/python benchmarks/sgd_bayes_ep.py --skip-gpy --big 0 --scaling "" --huge 10000
    .venv/bin/python benchmarks/sgd_bayes_ep.py --device cuda --skip-gpy --huge 10000

1. n = 1,000, probit likelihood: GPy's EP (its defaults: sequential, epsilon 1e-6) against
   ours (parallel updates), side by side; prints both times, the speed-up (target >= 20x)
   and the relative difference of log P(S) (target <= 1e-4).
2. n = ``--big`` (5,000), Heaviside: the old schedule (variances by an n-right-hand-side
   solve, stop when log Z changes < 1e-9) against the new (variances by the triangular
   inverse, ``FAST``: log Z by Aitken's extrapolation, stop when it or log Z's estimated
   distance to its limit moves < 1e-7): sweeps
   (target <= 10), seconds per sweep, their ratio to one Cholesky of the same B measured in
   the same run, and the relative difference of log Z (target <= 1e-6).
3. n = ``--huge`` (10,000), Heaviside, the new schedule only: time (target <= 10 minutes on
   2 cores), sweeps, seconds per sweep / one Cholesky, and the peak memory of the process.
4. n = 500 ... 4,000: time of the new schedule and the exponent of a log-log fit on n.
The kernel is the NNGP of a depth-3 ReLU FCN (sigma_w 1, sigma_b 0.0357) on the first n
MNIST training images, labels 5-9 -> +1. Not a timed test.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: GPy's BLAS, one thread

import numpy as np  # noqa: E402
import torch  # noqa: E402

from occam.sgd_bayes import FCNArch, run_ep  # noqa: E402
from occam.sgd_bayes.ep import FAST  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from sgd_bayes_data import mnist  # noqa: E402

ARCH = FCNArch(784, (512, 512, 512), sigma_w=1.0, sigma_b=0.0357)
OLD: dict[str, Any] = {"marginals": "solve"}  # today's EP before this change: tol 1e-9


def problem(n: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    X, labels = mnist(n)
    K = ARCH.nngp(torch.from_numpy(X).to(device))
    return K, torch.from_numpy(np.where(labels >= 5, 1.0, -1.0)).to(device)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def ours(K: torch.Tensor, y: torch.Tensor, likelihood: str, **kw: Any) -> tuple[Any, float]:
    sync(str(K.device))
    t = time.perf_counter()
    r = run_ep(K, y, likelihood, **kw)  # type: ignore[arg-type]
    sync(str(K.device))
    dt = time.perf_counter() - t
    assert r.converged, "EP did not converge"
    return r, dt


def cholesky_time(K: torch.Tensor, tau: torch.Tensor, reps: int = 2) -> float:
    """Seconds for one Cholesky of the matrix EP factorises, B = I + S^1/2 K S^1/2."""
    sw = tau.sqrt()
    B = K * sw[:, None]
    B.mul_(sw[None, :]).diagonal().add_(1.0)
    best = math.inf
    for _ in range(reps):
        sync(str(K.device))
        t = time.perf_counter()
        torch.linalg.cholesky(B)
        sync(str(K.device))
        best = min(best, time.perf_counter() - t)
    return best


def peak_memory_gib(device: str) -> str:
    if device.startswith("cuda"):
        return f"GPU peak {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    return f"process peak RSS {rss:.2f} GiB"


def gpy(K: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    import GPy

    n = len(y)
    t = time.perf_counter()
    model = GPy.core.GP(
        X=np.arange(float(n))[:, None],
        Y=((y.cpu().numpy() + 1) / 2)[:, None],
        kernel=GPy.kern.Fixed(1, K.cpu().numpy()),
        likelihood=GPy.likelihoods.Bernoulli(),  # probit
        inference_method=GPy.inference.latent_function_inference.expectation_propagation.EP(),
    )
    lz = float(model.log_likelihood())
    return lz, time.perf_counter() - t


def report(tag: str, r: Any, t: float, t_chol: float) -> None:
    print(
        f"{tag}: {t:.1f} s, {r.sweeps} sweeps, {t / r.sweeps:.2f} s per sweep = "
        f"{t / r.sweeps / t_chol:.2f} Choleskys (one: {t_chol:.2f} s), "
        f"log P(S) = {float(r.log_z):.8f}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--big", type=int, default=5000, help="n of section 2 (0: skip)")
    ap.add_argument("--skip-old", action="store_true", help="section 2: the new schedule only")
    ap.add_argument("--huge", type=int, default=0, help="n of section 3 (0: skip)")
    ap.add_argument("--scaling", default="500,1000,2000,4000")
    ap.add_argument("--skip-gpy", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = args.device
    print(
        f"torch {torch.__version__}, device {dev}, {args.threads} thread(s); "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}",
        flush=True,
    )
    ours(*problem(300, dev), "probit")  # warm-up: first-call costs of the linear algebra

    # 1. GPy at n = 1,000, probit
    if not args.skip_gpy:
        import GPy

        K, y = problem(1000, dev)
        lz_gpy, t_gpy = gpy(K, y)
        r, t = ours(K, y, "probit")
        print(
            f"\n[1] n = 1000, probit: GPy {GPy.__version__} EP {t_gpy:.2f} s, log P(S) = "
            f"{lz_gpy:.6f} | ours (parallel) {t:.2f} s, {r.sweeps} sweeps, "
            f"log P(S) = {float(r.log_z):.6f}"
        )
        rel = abs(float(r.log_z) - lz_gpy) / abs(lz_gpy)
        print(f"    speed-up {t_gpy / t:.1f}x, relative difference {rel:.1e}", flush=True)

    # 2. old vs new schedule, Heaviside
    if args.big:
        K, y = problem(args.big, dev)
        print(f"\n[2] n = {args.big}, Heaviside, parallel updates", flush=True)
        new, t_new = ours(K, y, "heaviside", **FAST)
        t_chol = cholesky_time(K, new.tau)
        report("    new (inverse marginals, FAST)", new, t_new, t_chol)
        if not args.skip_old:
            old, t_old = ours(K, y, "heaviside", **OLD)
            report("    old (solve marginals, tol 1e-9)", old, t_old, t_chol)
            rel = abs(float(new.log_z - old.log_z)) / abs(float(old.log_z))
            dmu = float(((new.mu - old.mu).abs() / old.var.sqrt()).max())
            print(
                f"    sweeps {old.sweeps} -> {new.sweeps}; time ratio new/old {t_new / t_old:.2f}; "
                f"log Z relative difference {rel:.1e}; largest change of a posterior mean "
                f"{dmu:.1e} sd",
                flush=True,
            )
        del K

    # 3. n = 10^4
    if args.huge:
        t = time.perf_counter()
        K, y = problem(args.huge, dev)
        print(f"\n[3] n = {args.huge}: kernel {time.perf_counter() - t:.1f} s", flush=True)
        new, t_new = ours(K, y, "heaviside", **FAST)
        t_chol = cholesky_time(K, new.tau, reps=1)
        report(f"    Heaviside, FAST, n = {args.huge}", new, t_new, t_chol)
        print(f"    {peak_memory_gib(dev)}", flush=True)
        del K

    # 4. scaling in n
    if args.scaling:
        ns = [int(v) for v in args.scaling.split(",")]
        rows = []
        for n in ns:
            K, y = problem(n, dev)
            r, t = ours(K, y, "heaviside", **FAST)
            rows.append((n, t, r.sweeps))
            print(f"\n[4] n = {n}: {t:.2f} s, {r.sweeps} sweeps, {t / r.sweeps:.3f} s per sweep")
        logn = np.log([row[0] for row in rows])
        slope_t = np.polyfit(logn, np.log([row[1] for row in rows]), 1)[0]
        slope_s = np.polyfit(logn, np.log([row[1] / row[2] for row in rows]), 1)[0]
        print(
            f"\nscaling exponent (Heaviside, FAST, n = {args.scaling}): "
            f"time ~ n^{slope_t:.2f}; time per sweep ~ n^{slope_s:.2f}"
        )


if __name__ == "__main__":
    main()
