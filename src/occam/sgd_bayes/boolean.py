"""The Boolean n = 7 exact check: P_B(f|S) by direct sampling, EP and Gibbs.

The paper's Boolean appendix compares SGD with direct ("ABI") sampling of the prior.

The 7-40-40-1 ReLU FCN with sigma_w = sigma_b = 1 on all 128 bit vectors. Direct sampling
draws random networks from the prior once; each (target, S) pair then conditions the same
draws by rejection. The Bayesian side uses the NNGP of the same architecture description:
EP (both recipes of :mod:`occam.sgd_bayes.pb`) and the exact GP posterior by Gibbs sampling.
Direct sampling is of the finite width-40 network, the other two of its infinite-width
limit, so their gap mixes finite-width effects with EP error; Gibbs against EP isolates EP.

``compare_boolean`` is what ``benchmarks/sgd_bayes_boolean.py`` prints and what the tests
run at a smaller scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from occam import data
from occam.sgd_bayes.arch import FCNArch
from occam.sgd_bayes.compare import Comparison
from occam.sgd_bayes.config import SgdBayesConfig
from occam.sgd_bayes.ep import ep_log_marginal, run_ep
from occam.sgd_bayes.exact import (
    PriorCounts,
    gibbs_functions,
    orthant_log_prob,
    sample_functions,
)
from occam.sgd_bayes.pb import compare_recipes
from occam.sgd_bayes.problems import Problem, boolean_split

PAPER_ARCH = FCNArch(input_dim=7, widths=(40, 40), sigma_w=1.0, sigma_b=1.0)


def target_function(name: str, n_bits: int = 7) -> Tensor:
    """A target as a (2^n_bits,) 0/1 tensor over :func:`boolean_inputs` order.

    ``"one"``: constant 1. ``"msb"``: the first input bit. ``"and2"``: first AND second bit.
    ``"lsb1"``: the second-lowest bit, the pattern 0011...0011 of the paper's targets.
    ``"parity"``: the XOR of all bits. Any other string of 0/1 of length 2^n_bits is taken
    as the target itself.
    """
    idx = torch.arange(2**n_bits)
    named = {
        "one": torch.ones_like(idx),
        "msb": (idx >> (n_bits - 1)) & 1,
        "and2": (idx >> (n_bits - 1)) & (idx >> (n_bits - 2)) & 1,
        "lsb1": (idx >> 1) & 1,
        "parity": torch.tensor([bin(i).count("1") % 2 for i in range(2**n_bits)]),
    }
    if name in named:
        return named[name]
    if len(name) == 2**n_bits and set(name) <= {"0", "1"}:
        return torch.tensor([int(c) for c in name])
    raise ValueError(f"unknown target {name!r}: use {', '.join(named)} or a 0/1 string")


@dataclass
class FunctionRow:
    """One function on E: its bits, and log P_B(f|S) by each method (nan = not estimated)."""

    bits: str
    count: int
    log_sampled: float
    log_ep_joint: float
    log_ep_fast: float
    log_gibbs: float


@dataclass
class BooleanComparison:
    """P(S) and P_B(f|S) on E for one (target, S) by sampling, EP and Gibbs.

    log_ps_*: log P(S) by direct sampling (acceptance rate), EP, and GHK on the NNGP (exact
    for the GP). rows: the most frequent functions among the accepted draws.
    """

    target: str
    m: int
    n_samples: int
    n_accepted: int
    log_ps_sampled: float
    log_ps_ep: float
    log_ps_ghk: float
    rows: list[FunctionRow] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """Mean |log ratio| over rows with >= 30 accepted draws: sampling vs EP (joint),
        Gibbs vs EP (joint), joint vs fast, sampling vs Gibbs; the number of such rows; and
        over all rows, the sampled mass they cover and the total variation distance of the
        sampled probabilities from EP (joint) and from Gibbs."""
        good = [r for r in self.rows if r.count >= 30]

        def mad(a: str, b: str) -> float:
            vals = [abs(getattr(r, a) - getattr(r, b)) for r in good]
            vals = [v for v in vals if math.isfinite(v)]
            return sum(vals) / len(vals) if vals else math.nan

        def half_l1(b: str) -> float:
            # exact total variation once the rows hold every sampled function, else a lower
            # bound: the functions not listed are lumped together
            ps = [math.exp(r.log_sampled) for r in self.rows]
            pb = [math.exp(getattr(r, b)) for r in self.rows]
            listed = sum(abs(x - z) for x, z in zip(ps, pb, strict=True))
            return 0.5 * (listed + abs(sum(pb) - sum(ps)))

        return {
            "rows": float(len(good)),
            "sampled_vs_ep": mad("log_sampled", "log_ep_joint"),
            "sampled_vs_gibbs": mad("log_sampled", "log_gibbs"),
            "gibbs_vs_ep": mad("log_gibbs", "log_ep_joint"),
            "gibbs_vs_fast": mad("log_gibbs", "log_ep_fast"),
            "joint_vs_fast": mad("log_ep_joint", "log_ep_fast"),
            "mass_sampled": sum(math.exp(r.log_sampled) for r in self.rows),
            "tv_sampled_ep": half_l1("log_ep_joint"),
            "tv_sampled_gibbs": half_l1("log_gibbs"),
        }


def compare_boolean(
    prior: PriorCounts,
    K: Tensor,
    target: str,
    train_idx: Tensor,
    *,
    test_idx: Tensor | None = None,
    top: int = 10,
    gibbs_chains: int = 2000,
    gibbs_sweeps: int = 200,
    ghk_samples: int = 200_000,
    seed: int = 0,
) -> BooleanComparison:
    """Condition the prior draws on (target, S) and compare with EP and Gibbs on the NNGP.

    prior: counts of functions on all 2^n inputs (:func:`sample_functions`). K: the NNGP
    kernel on those inputs. train_idx: the inputs of S. test_idx: E (default: all others).
    """
    n_points = prior.n_points
    t = target_function(target, int(math.log2(n_points)))
    tr = torch.as_tensor(train_idx, dtype=torch.long)
    if test_idx is None:
        mask = torch.ones(n_points, dtype=torch.bool)
        mask[tr] = False
        te = torch.arange(n_points)[mask]
    else:
        te = torch.as_tensor(test_idx, dtype=torch.long)
    y = 2.0 * t[tr].double() - 1.0
    post = prior.condition(tr, t[tr], te)
    order = torch.cat([tr, te])
    K_full = K[order][:, order]
    ps_ep = compare_recipes(K_full, y, torch.ones(1, len(te))).log_p_train
    ps_ghk, _ = orthant_log_prob(K[tr][:, tr], y, ghk_samples, seed=seed)
    out = BooleanComparison(
        target=target,
        m=len(tr),
        n_samples=prior.n_samples,
        n_accepted=post.n_samples,
        log_ps_sampled=math.log(post.n_samples / prior.n_samples) if post.n_samples else -math.inf,
        log_ps_ep=ps_ep,
        log_ps_ghk=ps_ghk,
    )
    if post.n_samples == 0:
        return out
    best = post.top(top)
    F = torch.tensor([[2.0 * int(c) - 1.0 for c in bits] for bits, _ in best])
    rec = compare_recipes(K_full, y, F)
    gibbs = gibbs_functions(K_full, y, n_chains=gibbs_chains, n_sweeps=gibbs_sweeps, seed=seed)
    gibbs_freq = dict(gibbs.top(len(gibbs.counts)))
    for i, (bits, count) in enumerate(best):
        g = gibbs_freq.get(bits, 0)
        out.rows.append(
            FunctionRow(
                bits=bits,
                count=count,
                log_sampled=math.log(count / post.n_samples),
                log_ep_joint=float(rec.joint[i]),
                log_ep_fast=float(rec.fast[i]),
                log_gibbs=math.log(g / gibbs.n_samples) if g else -math.inf,
            )
        )
    return out


def prior_check(prior: PriorCounts, K: Tensor, top: int = 5) -> list[tuple[str, float, float]]:
    """The ICLR 2019 check: for the most frequent prior functions, (bits, log P sampled,
    log P by EP over all inputs)."""
    rows = []
    for bits, count in prior.top(top):
        y = torch.tensor([2.0 * int(c) - 1.0 for c in bits])
        rows.append((bits, math.log(count / prior.n_samples), float(run_ep(K, y).log_z)))
    return rows


@dataclass
class DirectCheck:
    """The study's direct-sampling check on its Boolean problem.

    metrics: the JSON-able numbers. log_sampled: log P_B(f|S) by rejection for each function
    of the comparison (NaN where no accepted sample expressed it), indexed like ``comp``.
    """

    metrics: dict[str, Any]
    log_sampled: np.ndarray
    r_ep: float | None
    n_prior: int
    n_accepted: int


def direct_sampling_check(
    cfg: SgdBayesConfig,
    problem: Problem,
    comp: Comparison,
    K: Tensor,
    s_seed: int,
    prior_seed: int,
    device: Any = "cpu",
) -> DirectCheck:
    """The paper's direct ("ABI") check on the Boolean problem (Appendix, Boolean n = 7):
    sample random networks of the same architecture on all 128 inputs, keep those that fit S
    (rejection), and count their functions on E, beside P_SGD and P_B by EP.

    s_seed: the seed that drew S and E of ``problem`` (to find them among the 128 inputs);
    prior_seed: the seed of the random nets."""
    m = len(problem.X_train)
    X_all = data.boolean_inputs(7).astype(np.float32)
    s_idx, e_idx = boolean_split(len(X_all), len(problem.X_train), len(problem.X_test), s_seed)
    prior = sample_functions(
        problem.arch, X_all, cfg.boolean_prior_samples, seed=prior_seed, device=device
    )
    post = prior.condition(s_idx, problem.y_train.numpy(), e_idx)
    sampled = dict(post.top(len(post.counts))) if post.n_samples else {}
    log_sampled = np.array(
        [
            math.log(sampled[f] / post.n_samples) if sampled.get(f) else np.nan
            for f in comp.functions
        ]
    )
    ok = ~np.isnan(log_sampled) & np.array(
        [sampled.get(f, 0) >= cfg.min_hits for f in comp.functions]
    )
    r_ep = float(np.corrcoef(log_sampled[ok], comp.log_pb[ok])[0, 1]) if ok.sum() >= 3 else None
    r_sgd = float(np.corrcoef(log_sampled[ok], comp.log_psgd[ok])[0, 1]) if ok.sum() >= 3 else None
    metrics = {
        "prior_samples": prior.n_samples,
        "accepted": post.n_samples,
        "log_ps_sampled": math.log(post.n_samples / prior.n_samples) if post.n_samples else None,
        "log_ps_ep": ep_log_marginal(K[:m, :m], problem.y_train.double() * 2 - 1),
        "n_compared": int(ok.sum()),
        "pearson_log_sampled_vs_ep": r_ep,
        "pearson_log_sampled_vs_sgd": r_sgd,
    }
    return DirectCheck(metrics, log_sampled, r_ep, prior.n_samples, post.n_samples)
