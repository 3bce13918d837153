"""EP for GP classification on MNIST NNGP kernels: ours vs GPy 1.15, n = 5,000, scaling in n.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sgd_bayes_ep.py

1. n = 1,000, probit likelihood: GPy's EP (its defaults: sequential, epsilon 1e-6) against
   ours (parallel updates), side by side; prints both times, the speed-up (target >= 20x)
   and the relative difference of log P(S) (target <= 1e-4).
2. n = 5,000, parallel updates: time and number of sweeps (target <= 10 minutes).
3. n = 500, 1,000, 2,000, 4,000: EP time, and the exponent of a log-log fit of time on n.
The kernel is the NNGP of a depth-3 ReLU FCN (sigma_w 1, sigma_b 0.0357) on the first n
MNIST training images, labels 5-9 -> +1. Not a timed test.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: GPy's BLAS, one thread

import numpy as np  # noqa: E402
import torch  # noqa: E402

from occam.sgd_bayes import FCNArch, run_ep  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from sgd_bayes_data import mnist  # noqa: E402

ARCH = FCNArch(784, (512, 512, 512), sigma_w=1.0, sigma_b=0.0357)


def problem(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    X, labels = mnist(n)
    K = ARCH.nngp(torch.from_numpy(X))
    return K, torch.from_numpy(np.where(labels >= 5, 1.0, -1.0))


def ours(K: torch.Tensor, y: torch.Tensor, likelihood: str) -> tuple[float, int, float]:
    t = time.perf_counter()
    r = run_ep(K, y, likelihood)  # type: ignore[arg-type]
    dt = time.perf_counter() - t
    assert r.converged, "EP did not converge"
    return float(r.log_z), r.sweeps, dt


def gpy(K: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    import GPy

    n = len(y)
    t = time.perf_counter()
    model = GPy.core.GP(
        X=np.arange(float(n))[:, None],
        Y=((y.numpy() + 1) / 2)[:, None],
        kernel=GPy.kern.Fixed(1, K.numpy()),
        likelihood=GPy.likelihoods.Bernoulli(),  # probit
        inference_method=GPy.inference.latent_function_inference.expectation_propagation.EP(),
    )
    lz = float(model.log_likelihood())
    return lz, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--big", type=int, default=5000)
    ap.add_argument("--big-likelihoods", default="heaviside,probit")
    ap.add_argument("--scaling", default="500,1000,2000,4000")
    ap.add_argument("--scaling-likelihood", default="heaviside")
    ap.add_argument("--skip-gpy", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s); "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
    )
    ours(*problem(200), "probit")  # warm-up: first-call costs of the linear algebra

    # 1. GPy at n = 1,000, probit
    K, y = problem(1000)
    if not args.skip_gpy:
        import GPy

        lz_gpy, t_gpy = gpy(K, y)
        lz, sweeps, t = ours(K, y, "probit")
        print(
            f"\n[1] n = 1000, probit: GPy {GPy.__version__} EP {t_gpy:.2f} s, log P(S) = "
            f"{lz_gpy:.6f} | ours (parallel) {t:.2f} s, {sweeps} sweeps, log P(S) = {lz:.6f}"
        )
        rel = abs(lz - lz_gpy) / abs(lz_gpy)
        print(f"    speed-up {t_gpy / t:.1f}x, relative difference {rel:.1e}")

    # 2. n = 5,000
    K, y = problem(args.big)
    for lik in args.big_likelihoods.split(","):
        lz, sweeps, t = ours(K, y, lik)
        print(
            f"\n[2] n = {args.big}, {lik}, parallel updates: {t:.1f} s, {sweeps} sweeps "
            f"({t / sweeps:.2f} s per sweep), log P(S) = {lz:.4f}"
        )
    del K

    # 3. scaling in n
    ns = [int(v) for v in args.scaling.split(",")]
    rows = []
    for n in ns:
        K, y = problem(n)
        lz, sweeps, t = ours(K, y, args.scaling_likelihood)
        rows.append((n, t, sweeps))
        print(f"\n[3] n = {n}: {t:.2f} s, {sweeps} sweeps, {t / sweeps:.3f} s per sweep")
    logn = np.log([r[0] for r in rows])
    slope_t = np.polyfit(logn, np.log([r[1] for r in rows]), 1)[0]
    slope_s = np.polyfit(logn, np.log([r[1] / r[2] for r in rows]), 1)[0]
    print(
        f"\nscaling exponent ({args.scaling_likelihood}, n = {args.scaling}): "
        f"time ~ n^{slope_t:.2f}; time per sweep ~ n^{slope_s:.2f}"
    )
    assert math.isfinite(slope_t)


if __name__ == "__main__":
    main()
