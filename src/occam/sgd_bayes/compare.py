"""Compare P_SGD(f|S) with P_B(f|S) over the functions SGD found (§3 of the paper).

Functions are '0'/'1' strings over the ordered test set E. P_SGD(f|S) is a frequency over
fitted runs; log P_B(f|S) comes from NNGP + EP. All correlations are between the natural
logarithms of the two probabilities, over functions with at least ``min_hits`` SGD hits
(rarer ones have P_SGD resolved no better than 1/N). Each setting's numbers record whether
every EP run behind them converged (``converged``; see :func:`watch_ep`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from scipy import stats

from occam.executors.sampler import FunctionCounts
from occam.sgd_bayes.ep import ConvergenceWarning
from occam.sgd_bayes.pb import log_pb, predictive_error
from occam.sgd_bayes.problems import Problem

T = TypeVar("T")


def watch_ep(fn: Callable[[], T]) -> tuple[T, bool]:
    """``fn()`` and whether every EP run inside it converged (no :class:`ConvergenceWarning`).

    The warnings ``fn`` raises are passed on as they would have been without the watch.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        out = fn()
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return out, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


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
    total: int = 0  # fitted runs in P_SGD's denominator (0: the sum of ``counts``)
    converged: bool = True  # every EP run behind ``log_pb`` converged

    @property
    def n_fitted(self) -> int:
        return self.total or int(self.counts.sum())

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
        """(P_SGD-weighted, P_B-weighted) error on E over these functions, each renormalised
        over them (the figures; the study's numbers are :func:`summarise`'s)."""
        p_sgd = self.counts / self.counts.sum()
        w = np.exp(self.log_pb - self.log_pb.max())
        p_b = w / w.sum()
        return float(p_sgd @ self.errors), float(p_b @ self.errors)


def make_comparison(
    counts: Counter[str],
    log_pb: dict[str, float],
    y_test: np.ndarray,
    min_hits: int,
    n_fitted: int | None = None,
) -> Comparison:
    """Build a :class:`Comparison` from SGD counts and log P_B for (at least) those functions.

    n_fitted: the number of fitted runs P_SGD is a frequency of (default: the sum of
    ``counts``; pass the total when ``counts`` holds only the most frequent functions).
    """
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    functions = [f for f, _ in ranked]
    c = np.array([n for _, n in ranked], dtype=np.float64)
    return Comparison(
        functions=functions,
        counts=c,
        log_psgd=np.log(c / (c.sum() if n_fitted is None else n_fitted)),
        log_pb=np.array([log_pb[f] for f in functions]),
        errors=function_errors(functions, y_test) if functions else np.zeros(0),
        min_hits=min_hits,
        total=int(c.sum()) if n_fitted is None else n_fitted,
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
    log_pb_top, converged = watch_ep(lambda: bayes_log_probs(K, problem, list(top)) if top else {})
    y_test = problem.y_test.numpy()
    comp = make_comparison(top, log_pb_top, y_test, min_hits, n_fitted=counts.n_fitted)
    comp.converged = converged
    return comp


GOOD_ERROR = 0.25  # a "low-error" function: below half the error of a coin on E


def shuffled_labels(problem: Problem, rng: np.random.Generator) -> Problem:
    """The same S and E with the labels of S permuted (class balance kept; E's labels true).

    The negative control's problem: its posterior P_B(f|S_shuffled) is a Bayesian answer to
    the wrong question, and nets trained on it learn nothing about E.
    """
    perm = torch.as_tensor(rng.permutation(len(problem.y_train)))
    return dataclasses.replace(
        problem,
        y_train=problem.y_train[perm].clone(),
        description=problem.description + ", labels of S shuffled",
    )


def summarise(
    comp: Comparison, counts: FunctionCounts, K: torch.Tensor, problem: Problem
) -> dict[str, Any]:
    """The numbers of one setting.

    P_SGD's masses and its weighted error use every fitted run (not only the functions P_B
    was computed for). ``mass_top10_good`` is the P_SGD mass of those of SGD's ten most
    frequent functions whose error on E is below ``GOOD_ERROR`` (half a coin's).
    ``gp_error`` is the expected error on E of a function drawn from the GP posterior given
    S (EP), the Bayesian counterpart of ``weighted_error_sgd``; ``error_ratio`` is the
    larger of the two over 0.5, the error of a coin. ``converged``: every EP run behind
    these numbers (P_B and the GP posterior) met its convergence rule within its sweep limit.
    """
    nan = float("nan")
    pearson, spearman, n_well = comp.correlations()
    n_fit = counts.n_fitted
    ranked = counts.counts.most_common()
    y_test = problem.y_test.numpy()
    if n_fit:
        hits = np.array([c for _, c in ranked], dtype=np.float64)
        errors = function_errors([f for f, _ in ranked], y_test)
        err_sgd = float(hits @ errors / n_fit)
        mass10_sgd = float(hits[:10].sum() / n_fit)
        good10 = float(hits[:10][errors[:10] < GOOD_ERROR].sum() / n_fit)
        top1_psgd = float(hits[0] / n_fit)
    else:
        err_sgd = mass10_sgd = good10 = top1_psgd = nan
    gp_error, gp_converged = watch_ep(
        lambda: predictive_error(
            K, problem.y_train.double() * 2 - 1, problem.y_test.double() * 2 - 1
        )
    )
    return {
        "pearson_log": pearson,
        "spearman_log": spearman,
        "n_well_sampled": n_well,
        "n_functions": len(counts.counts),
        "n_runs": counts.n_runs,
        "n_unfitted": counts.n_unfitted,
        "fraction_unfitted": counts.n_unfitted / max(counts.n_runs, 1),
        "mean_epochs_to_fit": counts.epochs_sum / max(n_fit, 1),
        "top1_agree": comp.top1_agree() if comp.functions else None,
        "mass_top10_sgd": mass10_sgd,
        "mass_top10_good": good10,
        "mass_top10_pb": comp.mass_top(10)[1] if comp.functions else nan,
        "top1_psgd": top1_psgd,
        "top1_pb": float(math.exp(comp.log_pb[0])) if comp.functions else nan,
        "weighted_error_sgd": err_sgd,
        "gp_error": gp_error,
        "error_ratio": max(err_sgd, gp_error) / 0.5,
        "converged": comp.converged and gp_converged,
    }


def function_table(counts: FunctionCounts, comp: Comparison) -> list[dict[str, Any]]:
    """One row per function SGD found: ``function, count, p_sgd, log_p_b`` (P_SGD over all
    fitted runs; ``log_p_b`` empty beyond the ``max_pb_functions`` P_B was computed for)."""
    log_pb_of = dict(zip(comp.functions, comp.log_pb.tolist(), strict=True))
    n_fit = max(counts.n_fitted, 1)
    return [
        {"function": f, "count": c, "p_sgd": c / n_fit, "log_p_b": log_pb_of.get(f)}
        for f, c in sorted(counts.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
