"""The sgd-bayes figures, as ``matplotlib.figure.Figure`` objects (no pyplot, no backend).

Each builder takes numbers computed elsewhere and returns a figure; the study saves it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from occam.sgd_bayes.boolean import DirectCheck
from occam.sgd_bayes.compare import Comparison


def _scatter(fig: Figure, ax: Axes, comp: Comparison, title: str) -> None:
    lp10, lb10 = comp.log_psgd / math.log(10), comp.log_pb / math.log(10)
    sc = ax.scatter(lb10, lp10, c=comp.errors, cmap="viridis", s=14 + 0 * lp10, vmin=0)
    lo = min(lp10.min(), lb10.min()) - 0.3
    ax.plot([lo, 0], [lo, 0], "k--", lw=1, label="P_SGD = P_B")
    ax.set_xlabel("log10 P_B(f|S)  (NNGP + EP)")
    ax.set_ylabel("log10 P_SGD(f|S)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    fig.colorbar(sc, ax=ax, label="error on E")


def psgd_vs_pb(comp: Comparison, description: str) -> Figure:
    """Scatter of log P_SGD against log P_B, the rank plot, and the weighted error (Fig. 1)."""
    fig = Figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 3)
    r, rho, n = comp.correlations()
    _scatter(fig, axes[0], comp, f"{description}\nPearson {r:.2f}, Spearman {rho:.2f} ({n} f)")
    ranks = np.arange(1, len(comp.functions) + 1)
    axes[1].loglog(ranks, comp.counts / comp.n_fitted, "o-", ms=3, label="P_SGD")
    axes[1].loglog(ranks, np.exp(comp.log_pb), "s-", ms=3, label="P_B (EP)")
    axes[1].set_xlabel("rank of f under P_SGD")
    axes[1].set_ylabel("probability")
    axes[1].legend()
    axes[1].set_title("rank plot")
    w_b = np.exp(comp.log_pb - comp.log_pb.max())
    bins = np.linspace(0, max(comp.errors.max(), 0.05) + 0.05, 12)
    axes[2].hist(
        comp.errors, bins=bins, weights=comp.counts / comp.n_fitted, alpha=0.6, label="P_SGD"
    )
    axes[2].hist(
        comp.errors, bins=bins, weights=w_b / w_b.sum(), alpha=0.6, label="P_B (renormalised)"
    )
    axes[2].set_xlabel("error on E")
    axes[2].set_ylabel("probability")
    axes[2].legend()
    axes[2].set_title("probability-weighted error")
    fig.tight_layout()
    return fig


def variants(reps: list[dict[str, Any]]) -> Figure:
    """Correlation with P_B per optimiser / hyper-parameter variant: the mean over the draws
    of S as a bar, each draw as a dot, and the mismatched-P_B control."""
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.subplots()
    settings = [k for k in reps[0] if k != "shuffled_nets"]
    for i, setting in enumerate(settings):
        vals = [rep[setting]["pearson_log"] for rep in reps if setting in rep]
        vals = [v for v in vals if v is not None and np.isfinite(v)]
        color = "#999999" if setting == "mismatched_pb" else "#4c72b0"
        ax.bar(i, float(np.mean(vals)) if vals else 0.0, color=color, alpha=0.7)
        ax.plot([i] * len(vals), vals, "ko", ms=3)
    ax.set_xticks(range(len(settings)), settings)
    ax.set_ylabel("Pearson of log P_SGD with log P_B")
    ax.set_ylim(-1, 1)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_title("variants on the same draws of S (dots: draws; grey: control)", fontsize=9)
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    return fig


def boolean_direct(comp: Comparison, check: DirectCheck) -> Figure:
    """P_SGD, P_B by direct sampling and P_B by EP on one figure (Boolean n = 7)."""
    fig = Figure(figsize=(6, 4.5))
    ax = fig.subplots()
    ln10 = math.log(10)
    log_sampled = check.log_sampled
    ax.scatter(comp.log_pb / ln10, comp.log_psgd / ln10, s=16, label="P_SGD vs P_B (EP)")
    seen = ~np.isnan(log_sampled)
    r_txt = "n/a" if check.r_ep is None else f"{check.r_ep:.2f}"
    ax.scatter(
        comp.log_pb[seen] / ln10,
        log_sampled[seen] / ln10,
        s=16,
        marker="x",
        label=f"P_B by sampling vs P_B (EP), r = {r_txt}",
    )
    lo = float(np.nanmin(comp.log_pb / ln10)) - 0.3
    ax.plot([lo, 0], [lo, 0], "k--", lw=1)
    ax.set_xlabel("log10 P_B(f|S), NNGP + EP")
    ax.set_ylabel("log10 probability")
    ax.set_title(
        f"Boolean n = 7: {check.n_prior:.0e} prior nets, {check.n_accepted} fit S", fontsize=9
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def double_descent(
    rows: list[dict[str, Any]], problem: str, n_train: int, label_noise: int
) -> Figure:
    """Test error against width: SGD, exact finite-width P_B and the NNGP limit."""
    gp = rows[-1]["gp_test_error"]
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    finite = [r for r in rows if isinstance(r["width"], int)]
    for key, fmt, label, min_accepted in (
        ("sgd", "o-", "SGD (first fit)", 0),
        ("pb", "s-", "P_B, exact (rejection sampling)", 10),
    ):
        pts = [
            r
            for r in finite
            if r[f"{key}_test_error"] is not None and r["pb_accepted"] >= min_accepted
        ]
        if pts:
            ax.errorbar(
                [r["width"] for r in pts],
                [r[f"{key}_test_error"] for r in pts],
                yerr=[r[f"{key}_test_error_se"] for r in pts],
                fmt=fmt,
                capsize=3,
                label=f"{label}, +- 1 s.e.",
            )
    ax.set_xscale("log")
    ax.set_ylim(0, 0.55)
    ax.axhline(gp, color="k", ls="--", label="P_B, infinite width (NNGP + EP)")
    ax2 = ax.twinx()
    ax2.semilogx(
        [r["width"] for r in finite], [r["fraction_fitted"] for r in finite], "r:", alpha=0.6
    )
    ax2.set_ylabel("fraction of SGD runs that fit S", color="r")
    ax2.set_ylim(0, 1.05)
    ax.set_xlabel("width of the hidden layer")
    ax.set_ylabel("expected test error")
    ax.legend(fontsize=8, loc="lower right")
    noise = f", {label_noise} noisy label(s)" if problem == "boolean" else ""
    ax.set_title(f"double descent? {problem}, |S| = {n_train}{noise}", fontsize=9)
    fig.tight_layout()
    return fig


def three_way(p: dict[str, Any]) -> Figure:
    """P_SGD, the exact P_B (rejection) and EP over the labellings of E on one exact problem:
    log-log scatters against the exact P_B, and the margins of the accepted prior draws."""
    from occam.sgd_bayes.prior import bin_centre

    sgd, rej, log_ep = p["sgd"], p["rej"], p["log_ep"]
    p_sgd = sgd / max(sgd.sum(), 1)
    p_rej = rej / max(rej.sum(), 1)
    p_ep = np.exp(log_ep - log_ep.max())
    p_ep /= p_ep.sum()
    fig = Figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 3)
    floor = 0.5 / max(sgd.sum(), rej.sum(), 1)
    ok = rej > 0
    axes[0].scatter(np.log10(p_rej[ok]), np.log10(p_ep[ok]), s=12, label="EP")
    axes[0].scatter(np.log10(p_rej[ok]), np.log10(np.maximum(p_sgd[ok], floor)), s=12, label="SGD")
    lo = math.log10(floor)
    axes[0].plot([lo, 0], [lo, 0], "k--", lw=1)
    axes[0].set_xlabel("log10 P_B(f|S), exact (rejection)")
    axes[0].set_ylabel("log10 probability (SGD: 0 hits at the floor)")
    axes[0].set_title(p["title"], fontsize=9)
    axes[0].legend(fontsize=7)
    order = np.argsort(-p_rej)[:30]
    x = np.arange(len(order))
    axes[1].bar(x - 0.27, p_rej[order], 0.27, label="exact P_B")
    axes[1].bar(x, p_ep[order], 0.27, label="EP")
    axes[1].bar(x + 0.27, p_sgd[order], 0.27, label="P_SGD")
    axes[1].set_xlabel("function, by exact P_B rank")
    axes[1].set_ylabel("probability")
    axes[1].legend(fontsize=7)
    axes[1].set_title("the 30 most probable functions")
    hist: dict[float, int] = {}
    for (_, b), c in p["margins"].items():
        hist[bin_centre(b)] = hist.get(bin_centre(b), 0) + c
    if hist:
        xs = sorted(hist)
        axes[2].bar(xs, [hist[v] for v in xs], width=0.09)
    axes[2].set_xlabel("log10 normalised margin on S of accepted prior draws")
    axes[2].set_ylabel("draws")
    axes[2].set_title("where the exact posterior's nets sit")
    fig.tight_layout()
    return fig


def s_sweep(rows: list[dict[str, Any]]) -> Figure:
    """Agreement, concentration and error against |S| (means and 95% intervals over draws)."""
    fig = Figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 3)
    n = np.array([r["n_train"] for r in rows], dtype=float)

    def band(ax: Axes, key: str, label: str) -> None:
        mean = np.array([r[key] for r in rows], dtype=float)
        ci = [r.get(f"{key}_ci") or [m, m] for r, m in zip(rows, mean, strict=True)]
        lo = mean - np.array([c[0] for c in ci])
        hi = np.array([c[1] for c in ci]) - mean
        ax.errorbar(n, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)

    band(axes[0], "pearson_log", "Pearson log P_SGD vs log P_B (EP)")
    band(axes[0], "control_pearson_log", "same, P_B of shuffled labels")
    band(axes[1], "tv", "TV(P_SGD, P_B)")
    band(axes[1], "top1_ratio", "top-1 ratio P_SGD / P_B")
    band(axes[2], "sgd_error", "SGD error on E")
    band(axes[2], "gp_error", "GP expected error on E")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("|S|")
        ax.legend(fontsize=7)
    axes[0].set_title("agreement against |S|")
    axes[1].set_title("distance and over-concentration")
    axes[2].set_title("error")
    fig.tight_layout()
    return fig
