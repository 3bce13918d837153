"""Compare P_SGD(f|S) with P_B(f|S) over the functions SGD found (§3 of the paper).

Functions are '0'/'1' strings over the ordered test set E. P_SGD(f|S) is a frequency over
fitted runs; log P_B(f|S) comes from NNGP + EP. All correlations are between the natural
logarithms of the two probabilities, over functions with at least ``min_hits`` SGD hits
(rarer ones have P_SGD resolved no better than 1/N).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats

from occam.run.sampler import FunctionCounts
from occam.sgd_bayes.pb import log_pb
from occam.sgd_bayes.problems import Problem


def strings_to_bits(functions: list[str]) -> np.ndarray:
    """F '0'/'1' strings over E -> (F, |E|) bool array."""
    return np.array([[c == "1" for c in f] for f in functions], dtype=bool).reshape(
        len(functions), -1
    )


def function_errors(functions: list[str], y_test: np.ndarray) -> np.ndarray:
    """Fraction of E each function gets wrong. functions: F strings of length |E|."""
    return (strings_to_bits(functions) != y_test.astype(bool)[None, :]).mean(axis=1)


def strings_to_pm1(functions: list[str]) -> np.ndarray:
    """F strings over E -> (F, |E|) array in {-1, +1} (the labelling P_B is asked about)."""
    return np.where(strings_to_bits(functions), 1.0, -1.0)


@dataclass
class Comparison:
    """P_SGD against P_B on one setting. Arrays are indexed like ``functions``, by SGD rank."""

    functions: list[str]  # sorted by SGD count, most frequent first
    counts: np.ndarray  # SGD hits
    log_psgd: np.ndarray  # log(count / n_fitted)
    log_pb: np.ndarray  # log P_B(f|S), NNGP + EP
    errors: np.ndarray  # error on E
    min_hits: int

    @property
    def n_fitted(self) -> int:
        return int(self.counts.sum())

    def well_sampled(self) -> np.ndarray:
        return self.counts >= self.min_hits

    def correlations(self) -> tuple[float, float, int]:
        """(Pearson, Spearman, number of functions) of the logs over well-sampled functions."""
        mask = self.well_sampled()
        n = int(mask.sum())
        if n < 3:
            return float("nan"), float("nan"), n
        a, b = self.log_psgd[mask], self.log_pb[mask]
        pearson = float(stats.pearsonr(a, b)[0])
        spearman = float(stats.spearmanr(a, b)[0])
        return pearson, spearman, n

    def top1_agree(self) -> bool:
        """SGD's most frequent function is the most probable one under P_B among those found."""
        return bool(int(np.argmax(self.log_pb)) == 0)

    def mass_top(self, k: int) -> tuple[float, float]:
        """(P_SGD mass, P_B mass) of SGD's k most frequent functions."""
        psgd = float(self.counts[:k].sum() / self.n_fitted)
        pb = float(np.exp(self.log_pb[:k]).sum())
        return psgd, pb

    def weighted_error(self) -> tuple[float, float]:
        """(P_SGD-weighted, P_B-weighted) error on E; P_B renormalised over these functions."""
        p_sgd = self.counts / self.n_fitted
        w = np.exp(self.log_pb - self.log_pb.max())
        p_b = w / w.sum()
        return float(p_sgd @ self.errors), float(p_b @ self.errors)


def make_comparison(
    counts: Counter[str], log_pb: dict[str, float], y_test: np.ndarray, min_hits: int
) -> Comparison:
    """Build a :class:`Comparison` from SGD counts and log P_B for (at least) those functions."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    functions = [f for f, _ in ranked]
    c = np.array([n for _, n in ranked], dtype=np.float64)
    return Comparison(
        functions=functions,
        counts=c,
        log_psgd=np.log(c / c.sum()),
        log_pb=np.array([log_pb[f] for f in functions]),
        errors=function_errors(functions, y_test),
        min_hits=min_hits,
    )


def bayes_log_probs(K: torch.Tensor, problem: Problem, functions: list[str]) -> dict[str, float]:
    """log P_B(f|S) for each function (NNGP + EP, the fast recipe)."""
    y_pm1 = problem.y_train.double() * 2 - 1
    values = log_pb(K, y_pm1, torch.tensor(strings_to_pm1(functions)), recipe="fast")
    return {f: float(v) for f, v in zip(functions, values, strict=True)}


def compare_counts(
    counts: FunctionCounts, K: torch.Tensor, problem: Problem, max_pb_functions: int, min_hits: int
) -> Comparison:
    """P_SGD from ``counts`` against P_B (kernel K on S ∪ E) for SGD's most frequent functions."""
    top = Counter(dict(counts.counts.most_common(max_pb_functions)))
    return make_comparison(
        top, bayes_log_probs(K, problem, list(top)), problem.y_test.numpy(), min_hits
    )


def summarise(comp: Comparison, counts: FunctionCounts) -> dict[str, Any]:
    """The numbers of one setting: correlations, top functions, masses and weighted errors."""
    pearson, spearman, n_well = comp.correlations()
    mass10_sgd, mass10_pb = comp.mass_top(10)
    err_sgd, err_pb = comp.weighted_error()
    return {
        "pearson_log": pearson,
        "spearman_log": spearman,
        "n_well_sampled": n_well,
        "n_functions": len(counts.counts),
        "n_runs": counts.n_runs,
        "n_unfitted": counts.n_unfitted,
        "mean_epochs_to_fit": counts.epochs_sum / max(counts.n_fitted, 1),
        "top1_agree": comp.top1_agree(),
        "mass_top10_sgd": mass10_sgd,
        "mass_top10_pb": mass10_pb,
        "top1_psgd": float(comp.counts[0] / comp.n_fitted),
        "top1_pb": float(math.exp(comp.log_pb[0])),
        "weighted_error_sgd": err_sgd,
        "weighted_error_pb": err_pb,
    }
