"""P_SGD, the exact P_B and NNGP + EP side by side, over every function on a small E.

With |E| = k small (8 here), all 2^k labellings of E can be scored: EP gives log P_B(f|S)
for each, so P_B is a whole distribution and distances between distributions (total
variation, KL) are defined, not only correlations over the functions SGD happened to find.
Functions are indexed by the integer whose binary digits (most significant first) are the
labels on E, i.e. ``int('0110...', 2)``.

Every number comes with a 95% bootstrap interval: SGD's and the rejection sampler's counts
are resampled (multinomially, with their own totals), EP's probabilities held fixed.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import torch
from scipy import stats

from occam.sgd_bayes.pb import log_pb, train_ep


def all_functions(k: int) -> np.ndarray:
    """(2^k, k) array of every labelling of k points in {-1, +1}, row i = binary digits of i."""
    idx = np.arange(2**k)
    bits = (idx[:, None] >> np.arange(k - 1, -1, -1)[None, :]) & 1
    return np.where(bits == 1, 1.0, -1.0)


def counts_vector(counts: Counter[str], k: int) -> np.ndarray:
    """SGD or rejection counts keyed by '0'/'1' strings -> (2^k,) float array."""
    out = np.zeros(2**k)
    for f, c in counts.items():
        out[int(f, 2)] += c
    return out


def ep_distribution(K: torch.Tensor, y_train: torch.Tensor, k: int) -> tuple[np.ndarray, float]:
    """EP's log P_B(f|S) for all 2^k labellings of E (the fast recipe), and log P(S) by EP.

    K: (m + k, m + k) NNGP kernel, S first; y_train (m,) in {0, 1}. The EP values are
    separate approximations and need not sum to one; :func:`compare` normalises them.
    """
    y = y_train.double() * 2 - 1
    lp = log_pb(K, y, torch.tensor(all_functions(k)), recipe="fast")
    m = y.shape[0]
    log_ps = train_ep(K[:m, :m].double(), y, "heaviside").log_p_train
    return np.asarray(lp, dtype=np.float64), float(log_ps)


def _pearson_spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan, math.nan
    return float(stats.pearsonr(a, b)[0]), float(stats.spearmanr(a, b)[0])


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


def _kl_shared(p: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    """KL(p || q) over the functions both put mass on (each renormalised there), and the
    mass of p outside q's support."""
    both = (p > 0) & (q > 0)
    if not both.any():
        return math.nan, float(p.sum())
    ps, qs = p[both] / p[both].sum(), q[both] / q[both].sum()
    return float((ps * np.log(ps / qs)).sum()), float(p[~both].sum())


def point_metrics(
    sgd: np.ndarray, rej: np.ndarray | None, log_ep: np.ndarray, min_hits: int
) -> dict[str, float]:
    """The comparison for counts ``sgd`` (2^k,), ``rej`` (2^k,) or None, EP log probs (2^k,).

    Correlations are of natural-log probabilities over the functions resolved by the
    sampled side: SGD's with at least ``min_hits`` hits (against the exact P_B, whose counts
    get half a draw each so that zero counts are scored), the exact P_B's with at least
    ``min_hits`` accepted draws against EP.
    ``top1_ratio`` is max_f P_SGD / max_f P_B (the exact P_B where there is one, else EP):
    how much more SGD concentrates on its top function than the posterior does.
    """
    p_ep = np.exp(log_ep - log_ep.max())
    p_ep /= p_ep.sum()
    p_sgd = sgd / max(sgd.sum(), 1)
    ok_sgd = sgd >= min_hits
    out: dict[str, float] = {}
    r, rho = _pearson_spearman(np.log(p_sgd[ok_sgd]), np.log(p_ep[ok_sgd]))
    out |= {"pearson_sgd_ep": r, "spearman_sgd_ep": rho, "tv_sgd_ep": _tv(p_sgd, p_ep)}
    out["kl_sgd_ep"] = _kl_shared(p_sgd, p_ep)[0]
    out["top1_sgd"] = float(p_sgd.max())
    out["top1_ep"] = float(p_ep.max())
    ref = p_ep
    if rej is not None and rej.sum() > 0:
        p_rej = rej / rej.sum()
        ok_rej = rej >= min_hits
        # over SGD's resolved functions (as sb.a_correlation), the exact P_B with half a
        # draw added to every count, so a function the posterior never drew is scored, not
        # dropped (log P_B = log(0.5 / n_accepted) at most)
        p_half = (rej[ok_sgd] + 0.5) / (rej.sum() + 0.5 * len(rej))
        r, rho = _pearson_spearman(np.log(p_sgd[ok_sgd]), np.log(p_half))
        out |= {"pearson_sgd_rej": r, "spearman_sgd_rej": rho, "tv_sgd_rej": _tv(p_sgd, p_rej)}
        r, rho = _pearson_spearman(np.log(p_rej[ok_rej]), np.log(p_ep[ok_rej]))
        out |= {"pearson_rej_ep": r, "spearman_rej_ep": rho, "tv_rej_ep": _tv(p_rej, p_ep)}
        out["kl_sgd_rej"], out["sgd_mass_off_rej"] = _kl_shared(p_sgd, p_rej)
        out["top1_rej"] = float(p_rej.max())
        out["top1_same"] = float(np.argmax(p_sgd) == np.argmax(p_rej))
        ref = p_rej
    out["top1_ratio"] = float(p_sgd.max() / ref.max())
    return out


def compare(
    sgd: np.ndarray,
    rej: np.ndarray | None,
    log_ep: np.ndarray,
    min_hits: int,
    rng: np.random.Generator,
    n_boot: int = 200,
) -> dict[str, Any]:
    """:func:`point_metrics` plus ``<metric>_ci``: a 95% percentile bootstrap interval."""
    point = point_metrics(sgd, rej, log_ep, min_hits)
    boots: dict[str, list[float]] = {k: [] for k in point}
    n_sgd = int(sgd.sum())
    n_rej = int(rej.sum()) if rej is not None else 0
    for _ in range(n_boot):
        s = rng.multinomial(n_sgd, sgd / n_sgd) if n_sgd else sgd
        r = rng.multinomial(n_rej, rej / n_rej) if (rej is not None and n_rej) else rej
        for key, v in point_metrics(s.astype(float), r, log_ep, min_hits).items():
            boots[key].append(v)
    out: dict[str, Any] = dict(point)
    for key, vals in boots.items():
        a = np.asarray(vals, dtype=float)
        a = a[np.isfinite(a)]
        out[f"{key}_ci"] = (
            [float(np.percentile(a, 2.5)), float(np.percentile(a, 97.5))] if len(a) else None
        )
    return out


def margin_link(
    margins: Counter[tuple[str, int]], sgd: Counter[str], n_sgd: int, min_hits: int
) -> dict[str, float]:
    """Do the functions SGD over-weights have their accepted prior draws near the boundary?

    For each function with at least ``min_hits`` accepted draws and ``min_hits`` SGD hits:
    the median log10 normalised margin of its accepted draws, and log(P_SGD / P_B). Returns
    their Spearman correlation (negative: SGD over-weights functions whose posterior draws
    sit near the edge of the zero-error region), the number of functions, and the median
    log10 margin over all accepted draws.
    """
    from occam.sgd_bayes.prior import bin_centre

    per_f: dict[str, list[tuple[float, int]]] = {}
    for (f, b), c in margins.items():
        per_f.setdefault(f, []).append((bin_centre(b), c))
    n_acc = sum(margins.values())

    def median(pairs: list[tuple[float, int]]) -> float:
        pairs = sorted(pairs)
        half, run = sum(c for _, c in pairs) / 2, 0
        for v, c in pairs:
            run += c
            if run >= half:
                return v
        return math.nan

    xs, ys = [], []
    for f, pairs in per_f.items():
        n_f = sum(c for _, c in pairs)
        if n_f >= min_hits and sgd.get(f, 0) >= min_hits:
            xs.append(median(pairs))
            ys.append(math.log(sgd[f] / n_sgd) - math.log(n_f / n_acc))
    all_pairs = [(bin_centre(b), c) for (_, b), c in margins.items()]
    rho = _pearson_spearman(np.array(xs), np.array(ys))[1] if len(xs) >= 3 else math.nan
    return {
        "spearman_overweight_margin": rho,
        "n_functions": len(xs),
        "median_log10_margin_prior": median(all_pairs) if all_pairs else math.nan,
    }
