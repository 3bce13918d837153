"""Boolean n = 7: P_B(f|S) by direct sampling of >= 10^7 random 7-40-40-1 nets vs GP-EP vs Gibbs.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sgd_bayes_boolean.py \
        --n-samples 10000000 --m 16,32 --targets msb,lsb1,and2

Prints the sampling rate, the prior check (log P(f) of the commonest functions: sampled,
EP, GHK on the NNGP), and for each (target, m): log P(S) by the three methods and the top
functions on E with log P_B(f|S) by sampling (rejection), EP (joint and fast recipes) and
Gibbs (the exact GP posterior); once with E = all other inputs (the paper's), once with a
small E (8 inputs), where the accepted draws estimate every P_B(f|S) well. Sampling is of
width-40 nets, EP and Gibbs of their NNGP: sampled-Gibbs is the finite-width gap, Gibbs-EP
the EP error. Not a timed test.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

from occam.sgd_bayes.boolean import PAPER_ARCH, compare_boolean, prior_check
from occam.sgd_bayes.exact import (
    PriorCounts,
    boolean_inputs,
    orthant_log_prob,
    sample_functions,
)


def report(c, title: str) -> dict:
    print(f"\n{title}: accepted {c.n_accepted:,} of {c.n_samples:,}")
    print(
        f"  log P(S): sampled {c.log_ps_sampled:.3f} | EP {c.log_ps_ep:.3f} | "
        f"GHK {c.log_ps_ghk:.3f}"
    )
    print("  count  log P_B(f|S): sampled |  EP joint |  EP fast |  Gibbs    f on E")
    for r in c.rows:
        print(
            f"  {r.count:5d}  {r.log_sampled:20.3f} | {r.log_ep_joint:9.3f} | "
            f"{r.log_ep_fast:8.3f} | {r.log_gibbs:8.3f}   {r.bits[:32]}"
        )
    s = c.summary()
    print(
        f"  rows with >= 30 draws: {s['rows']:.0f}; mean |log ratio| sampled-EP "
        f"{s['sampled_vs_ep']:.3f}, sampled-Gibbs {s['sampled_vs_gibbs']:.3f}, Gibbs-EP joint "
        f"{s['gibbs_vs_ep']:.3f}, Gibbs-EP fast {s['gibbs_vs_fast']:.3f}, joint-fast "
        f"{s['joint_vs_fast']:.3f}"
    )
    print(
        f"  listed rows hold {s['mass_sampled']:.3f} of the sampled mass; half-L1 distance "
        f"sampled-EP {s['tv_sampled_ep']:.3f}, sampled-Gibbs {s['tv_sampled_gibbs']:.3f}"
    )
    return {
        "title": title,
        "accepted": c.n_accepted,
        "log_ps": [c.log_ps_sampled, c.log_ps_ep, c.log_ps_ghk],
        "rows": [r.__dict__ for r in c.rows],
        "summary": s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-samples", type=int, default=10_000_000)
    ap.add_argument("--m", default="16,32", help="training-set sizes, comma-separated")
    ap.add_argument("--targets", default="msb,lsb1,and2")
    ap.add_argument("--small-e", type=int, default=8, help="size of the small test set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--save-prior", default=None, help="save the prior counts (torch.save)")
    ap.add_argument("--load-prior", default=None, help="reuse saved prior counts")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    X = boolean_inputs(7)
    t0 = time.perf_counter()
    if args.load_prior:
        prior = PriorCounts(**torch.load(args.load_prior))
        print(f"loaded {prior.n_samples:,} prior draws from {args.load_prior}")
    else:
        prior = sample_functions(
            PAPER_ARCH, X, args.n_samples, seed=args.seed, device=args.device, batch=args.batch
        )
        dt = time.perf_counter() - t0
        print(
            f"sampled {args.n_samples:,} nets of {PAPER_ARCH} in {dt:.1f} s "
            f"({args.n_samples / dt:,.0f} nets/s, {args.threads} thread(s), {args.device})"
        )
        if args.save_prior:
            torch.save(prior.__dict__, args.save_prior)
    print(f"{len(prior.counts):,} distinct functions in {prior.n_samples:,} draws")
    K = PAPER_ARCH.nngp(X.double())

    print("\nprior check, log P(f) over all 128 inputs: sampled | EP | GHK on the NNGP")
    out: dict = {"n_samples": prior.n_samples, "distinct": len(prior.counts), "prior": []}
    for bits, ls, le in prior_check(prior, K, top=3):
        y = torch.tensor([2.0 * int(c) - 1.0 for c in bits])
        lg, se = orthant_log_prob(K, y, 200_000, seed=args.seed)
        print(f"  {bits[:24]}...  {ls:8.3f} | {le:8.3f} | {lg:8.3f} +- {se:.3f}")
        out["prior"].append({"bits": bits, "sampled": ls, "ep": le, "ghk": lg})

    g = torch.Generator().manual_seed(args.seed)
    out["comparisons"] = []
    for m in (int(v) for v in args.m.split(",")):
        for target in args.targets.split(","):
            perm = torch.randperm(128, generator=g)
            tr = perm[:m]
            c = compare_boolean(prior, K, target, tr, top=args.top, seed=args.seed)
            out["comparisons"].append(
                report(c, f"target {target}, m = {m}, E = the other {128 - m}")
            )
            te = perm[m : m + args.small_e]
            c = compare_boolean(
                prior, K, target, tr, test_idx=te, top=2**args.small_e, seed=args.seed
            )
            out["comparisons"].append(
                report(c, f"target {target}, m = {m}, E = {args.small_e} inputs")
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, default=lambda v: None if not math.isfinite(v) else v)


if __name__ == "__main__":
    main()
