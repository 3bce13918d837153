"""meta-bayes: do the bandit agents reach their claims' thresholds with more training?

Trains, at the ``full`` profile's sizes otherwise, each of

* ``thompson``: the Thompson-sampling template (Ortega et al. 2019, sec. 4), printing
  KL(pi_TS || pi_agent) per step (mb.thompson_kl asks <= 1e-3);
* ``q``: the value-based (Q-learning) template, printing greedy agreement with pi_Bayes on
  visited non-tie beliefs (mb.q_agreement asks >= 0.95);
* ``bandit``: the actor-critic agent on sampled 0/1 rewards (Mikulik et al. 2020, sec. 4),
  printing agreement (mb.bandit_agreement, >= 0.95) and policy KL (mb.bandit_policy_kl,
  <= 0.12),

at each of ``--updates`` (episodes per update ``--batch``), for ``--replicates`` replicates
from ``--first`` with the study's seeds (``RunContext.seed_for``, run seed 0: replicate r
here is the study's replicate r at that budget), with the CPU seconds of each training run.
Figures are printed, not asserted.

Usage: python benchmarks/meta_bayes_budget.py thompson --updates 250 1000 2000 --batch 256
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch

from occam.meta_bayes import experiments as ex
from occam.meta_bayes.config import PROFILES
from occam.study import RunContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("thompson", "q", "bandit"))
    parser.add_argument("--updates", type=int, nargs="+", required=True)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--replicates", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="first replicate")
    parser.add_argument("--profile", default="full", choices=sorted(PROFILES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = PROFILES[args.profile]
    ctx = RunContext(out=Path(tempfile.mkdtemp()), seed=0, device=torch.device("cpu"), quiet=True)
    print(f"{args.which}: profile {args.profile} sizes, batch {args.batch}")
    print(f"{'updates':>8} {'episodes':>10} {'rep':>4}  metrics  (CPU s)")
    for updates in args.updates:
        for r in range(args.first, args.first + args.replicates):
            streams = ex.Streams(lambda label, r=r: ctx.seed_for(label, r))
            t0 = time.process_time()
            if args.which == "bandit":
                config = dataclasses.replace(
                    base, bandit_arms=(2,), bandit_updates=updates, bandit_batch=args.batch
                )
                run = ex.meta_train_bandit(config, streams, 2)
                s, c = run.sampled, run.controls
                out = (
                    f"agreement {s.agreement:.4f} (>= 0.95; greedy {c['greedy'].agreement:.3f}) "
                    f"policy_kl {s.policy_kl:.4f} (<= 0.12; Thompson "
                    f"{c['thompson'].policy_kl:.3f})"
                )
            else:
                config = dataclasses.replace(
                    base, template_updates=updates, template_batch=args.batch
                )
                if args.which == "thompson":
                    th = ex.thompson_template(config, streams)
                    out = (
                        f"kl {th['kl_trained']:.2e} (<= 1e-3; untrained {th['kl_untrained']:.3g}, "
                        f"wrong prior {th['kl_mismatched_prior']:.3g})"
                    )
                else:
                    sol = ex.bayes.solve_bandit(
                        [base.bandit_prior[0]] * 2,
                        [base.bandit_prior[1]] * 2,
                        base.bandit_horizon,
                        keep_q=True,
                    )
                    vb = ex.value_template(config, streams, sol)
                    out = (
                        f"agreement {vb['agreement']:.4f} (>= 0.95; greedy "
                        f"{vb['greedy_agreement']:.3f}) q_rmse {vb['q_rmse']:.3f}"
                    )
            cpu = time.process_time() - t0
            print(f"{updates:>8} {updates * args.batch:>10} {r:>4}  {out}  ({cpu:.0f})", flush=True)


if __name__ == "__main__":
    main()
