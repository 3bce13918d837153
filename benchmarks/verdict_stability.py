"""Do the verdicts depend on the seed? Run every study at several base seeds and compare.

Each (study, seed) is one ``occam run`` in its own process (one torch thread each), run in
parallel on ``--workers`` processes. The script prints, per claim, the verdict at every seed
and the measured value with its interval, and flags a claim whose verdict *flips* between
holds and fails (a seed-dependent result should come out inconclusive instead). It also
prints each run's wall time.

    python benchmarks/verdict_stability.py --seeds 0,1,2 --profile quick --workers 12 \\
        --out /tmp/stability

Exit code 0 when no claim flips, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

STUDIES = ("deep-cheap", "sgd-bayes", "meta-bayes", "imitation")


def run_one(
    study: str, seed: int, profile: str, out: Path, timeout: float
) -> tuple[str, int, float, int]:
    folder = out / f"{study}-s{seed}"
    cmd = [
        sys.executable,
        "-m",
        "occam",
        "run",
        study,
        "--profile",
        profile,
        "--seed",
        str(seed),
        "--out",
        str(folder),
        "--threads",
        "1",
        "--quiet",
    ]
    t0 = time.perf_counter()
    log = (out / f"{study}-s{seed}.log").open("w")
    try:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = 124
    return study, seed, time.perf_counter() - t0, rc


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--studies", default=",".join(STUDIES))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    ap.add_argument("--out", type=Path, default=Path("results/stability"))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    studies = [s for s in args.studies.split(",") if s]
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(st, sd) for st in studies for sd in seeds]
    with ThreadPoolExecutor(args.workers) as pool:
        done = list(
            pool.map(lambda j: run_one(j[0], j[1], args.profile, args.out, args.timeout), jobs)
        )
    print("run                      seconds  exit")
    for study, seed, secs, rc in done:
        print(f"{study + ' seed ' + str(seed):24s} {secs:8.1f}  {rc}")
    flips = 0
    for study in studies:
        table: dict[str, dict[int, dict]] = {}
        for seed in seeds:
            path = args.out / f"{study}-s{seed}" / "claims.json"
            if not path.exists():
                continue
            for c in json.loads(path.read_text())["claims"]:
                table.setdefault(c["id"], {})[seed] = c
        print(f"\n{study}")
        for cid, by_seed in table.items():
            verdicts = {c["verdict"] for c in by_seed.values()}
            flip = {"holds", "fails"} <= verdicts
            flips += flip
            cells = []
            for seed in seeds:
                c = by_seed.get(seed)
                if c is None:
                    cells.append("—")
                    continue
                iv = c.get("interval") or [None, None]
                m = c.get("measured")
                ctl = (c.get("control") or {}).get("verdict", "-")
                val = "—" if m is None else f"{m:.3g}"
                rng = "" if iv[0] is None else f"[{iv[0]:.3g},{iv[1]:.3g}]"
                cells.append(f"{c['verdict']}({val}{rng}; ctl {ctl})")
            print(f"  {'FLIP ' if flip else '     '}{cid}: " + " | ".join(cells))
    print(f"\n{flips} claim(s) flip between holds and fails across seeds {seeds}")
    return 1 if flips else 0


if __name__ == "__main__":
    raise SystemExit(main())
