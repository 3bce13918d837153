"""deep-cheap figures: builders of ``matplotlib.figure.Figure`` objects.

No pyplot state and no backend switching: a :class:`~matplotlib.figure.Figure` needs no
backend, so building these in a notebook leaves its backend alone. The study saves them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from occam.deep_cheap import depth as dp
from occam.deep_cheap import gates as gt
from occam.deep_cheap import hamiltonian as hm
from occam.deep_cheap.config import DeepCheapConfig


def _plain_log(ax: Axes, which: str) -> None:
    """Plain '1e-4' tick labels, no minor ticks: mathtext labels make saving ~3x slower."""
    fmt = FuncFormatter(lambda v, _: f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e"))
    axes: dict[str, list[Any]] = {"x": [ax.xaxis], "y": [ax.yaxis], "both": [ax.xaxis, ax.yaxis]}
    for axis in axes[which]:
        axis.set_major_formatter(fmt)
        axis.set_minor_locator(NullLocator())


def gates_figure(
    act: str,
    scan: np.ndarray,
    err64: np.ndarray,
    err32: np.ndarray,
    rows: list[dict[str, Any]],
) -> Figure:
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    ax.loglog(scan, err64, "o-", ms=3, label=f"{act}, float64")
    ax.loglog(scan, err32, "s-", ms=3, label=f"{act}, float32")
    ref = err64[np.argmin(np.abs(scan - 0.1))]
    ax.loglog(scan, ref * (scan / 0.1) ** 2, "k--", lw=1, label="∝ λ²")
    pred32 = [gt.predicted_gate_error(act, float(s), torch.float32) for s in scan]
    ax.loglog(scan, [a + b for a, b in pred32], ":", color="C1", label="float32 model")
    for name in gt.ACTIVATIONS:
        if name == act:
            continue
        pts = [
            (r["lam"], r["max_error"])
            for r in rows
            if r["activation"] == name and r["dtype"] == "float64"
        ]
        ax.loglog(*zip(*pts, strict=True), "x", alpha=0.6, label=f"{name}, float64")
    ax.set_ylim(max(err64.min() * 0.3, 1e-14), 2.0)
    ax.set_xlabel("input scale λ")
    ax.set_ylabel("max |m(u,v) − uv| on [−1,1]²")
    _plain_log(ax, "both")
    ax.set_title("4-neuron multiplication gate (LTR eq. 11)")
    ax.legend(fontsize=7)
    return fig


def neurons_figure(rows: list[dict[str, Any]]) -> Figure:
    n = [r["n"] for r in rows]
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    ax.semilogy(n, [r["shallow_neurons"] for r in rows], "o-", label="1 hidden layer: 2ⁿ")
    ax.semilogy(
        n,
        [r["shallow_lower_bound"] for r in rows],
        ":",
        color="C0",
        label="RT lower bound C(n, ⌊n/2⌋)",
    )
    ax.semilogy(n, [r["k2_neurons"] for r in rows], "s-", label="2 hidden layers (RT eq. 10)")
    ax.semilogy(n, [r["k3_neurons"] for r in rows], "^-", label="3 hidden layers (RT eq. 10)")
    ax.semilogy(
        n, [r["tree_neurons"] for r in rows], "d-", label="binary tree, ⌈log₂ n⌉ layers: 4(n−1)"
    )
    ax.set_xlabel("number of inputs n")
    ax.set_ylabel("neurons to compute x1⋯xn")
    _plain_log(ax, "y")
    ax.set_title("Shallow vs deep product networks")
    ax.legend(fontsize=7)
    return fig


def trained_figure(
    results: list[dp.TrainResult],
    minimal: dict[int, int | None],
    config: DeepCheapConfig,
    activation: str = "tanh",
) -> Figure:
    depths = [r.depth for r in results]
    widths = list(config.train_widths)
    grid = np.array([r.errors.min(axis=0) for r in results]).T  # (widths, depths)
    fig = Figure(figsize=(5.5, 4.2))
    ax = fig.subplots()
    im = ax.imshow(
        np.log10(grid),
        origin="lower",
        aspect="auto",
        cmap="viridis_r",
        extent=(depths[0] - 0.5, depths[-1] + 0.5, -0.5, len(widths) - 0.5),
    )
    fig.colorbar(im, ax=ax, label="log10 relative L1 error (best seed)")
    ks = np.linspace(depths[0], depths[-1], 100)
    curve = [dp.rt_width_curve(config.train_n, float(k)) for k in ks]
    pos = np.interp(
        np.log2(curve), np.log2(widths), np.arange(len(widths)), left=-0.5, right=len(widths) - 0.5
    )
    ax.plot(ks, pos, "r-", lw=2, label="RT: n^((k−1)/k)·2^(n^(1/k))")
    reached = [(k, widths.index(w)) for k, w in minimal.items() if w is not None]
    missed = [(k, len(widths) - 0.6) for k, w in minimal.items() if w is None]
    style: dict[str, Any] = {"color": "w", "mec": "k", "ls": "none"}
    if reached:
        ax.plot(
            *zip(*reached, strict=True),
            marker="*",
            ms=14,
            **style,
            label=f"minimal width, error ≤ {config.error_threshold:g}",
        )
    if missed:
        ax.plot(
            *zip(*missed, strict=True),
            marker="^",
            ms=10,
            **style,
            label=f"not reached up to width {widths[-1]}",
        )
    ax.set_xticks(depths)
    ax.set_yticks(range(len(widths)), [str(w) for w in widths])
    ax.set_xlabel("hidden layers k")
    ax.set_ylabel("width per layer")
    ax.set_title(f"Learning x1⋯x{config.train_n}, {activation} (RT Fig. 2)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    return fig


def hamiltonian_figure(
    model: hm.GaussianClasses,
    net: hm.HamiltonianNetwork,
    logistic: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    log_bayes: torch.Tensor,
    log_net: torch.Tensor,
    log_logistic: torch.Tensor,
) -> Figure:
    panels = 4 if model.dims == 2 else 1
    fig = Figure(figsize=(4 * panels, 3.8))
    axes = fig.subplots(1, panels, squeeze=False)
    shown = slice(0, 1500)
    if model.dims == 2:
        lo, hi = x.min(dim=0).values, x.max(dim=0).values
        g0, g1 = torch.meshgrid(
            torch.linspace(float(lo[0]), float(hi[0]), 120, dtype=torch.float64),
            torch.linspace(float(lo[1]), float(hi[1]), 120, dtype=torch.float64),
            indexing="xy",
        )
        grid = torch.stack([g0.reshape(-1), g1.reshape(-1)], dim=1)
        with torch.no_grad():
            regions = [hm.bayes_log_posterior(model, grid), net(grid), logistic(grid)]
        for ax, lp, title in zip(
            axes[0], regions, ("Bayes (exact)", "gate network", "logistic regression"), strict=False
        ):
            ax.contourf(
                g0,
                g1,
                lp.argmax(dim=1).reshape(g0.shape).numpy(),
                levels=[-0.5, 0.5, 1.5, 2.5],
                alpha=0.3,
                cmap="brg",
            )
            ax.scatter(x[shown, 0], x[shown, 1], c=y[shown], s=2, cmap="brg", rasterized=True)
            ax.set_title(title)
    ax = axes[0, -1]
    pb = log_bayes.exp()[:, 0].numpy()
    ax.plot(
        pb[:3000],
        log_logistic.exp()[:3000, 0].numpy(),
        ".",
        ms=2,
        alpha=0.5,
        label="logistic",
        rasterized=True,
    )
    ax.plot(
        pb[:3000], log_net.exp()[:3000, 0].numpy(), ".", ms=2, label="gate network", rasterized=True
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set_xlabel("Bayes p(y=0|x)")
    ax.set_ylabel("model p(y=0|x)")
    ax.set_title("Posterior on held-out data")
    ax.legend(fontsize=7)
    return fig


def probe_figure(summary: list[dict[str, Any]], depths: tuple[int, ...]) -> Figure:
    """Fraction of fitted nets that are gate-like, against width, per target and depth."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    targets = sorted({s["target"] for s in summary}, key=[s["target"] for s in summary].index)
    for i, t in enumerate(targets):
        for j, d in enumerate(depths):
            rows = [s for s in summary if s["target"] == t and s["depth"] == d]
            x = [s["width"] for s in rows]
            y = [s["gate_like"] / s["fitted"] if s["fitted"] else np.nan for s in rows]
            ax.semilogx(
                x,
                y,
                ["o-", "s--", "^:", "d-."][j % 4],
                color=f"C{i}",
                label=f"{t}, depth {d}",
                base=2,
            )
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("width per hidden layer")
    ax.set_ylabel("fraction of fitted nets that are gate-like")
    ax.set_title("Do trained nets multiply with LTR's gates?")
    ax.legend(fontsize=6, ncol=2)
    return fig


def bump_figure(table: list[dict[str, Any]]) -> Figure:
    """Neurons against the domain half-width R: compiled Taylor networks vs trained nets."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    for i, t in enumerate(sorted({r["target"] for r in table})):
        rows = [r for r in table if r["target"] == t]
        radius = [r["radius"] for r in rows]
        exact = [
            (r["radius"], r["compiled_neurons"]) for r in rows if not r["compiled_lower_bound"]
        ]
        bound = [(r["radius"], r["compiled_neurons"]) for r in rows if r["compiled_lower_bound"]]
        if exact:
            ax.semilogy(
                *zip(*exact, strict=True), "o-", color=f"C{i}", label=f"{t}: compiled Taylor"
            )
        if bound:
            ax.semilogy(
                *zip(*bound, strict=True),
                "^",
                mfc="none",
                color=f"C{i}",
                label=f"{t}: no truncation within 1% (lower bound)",
            )
        trained = [r["trained_neurons_median"] for r in rows]
        ax.semilogy(
            radius,
            [np.nan if v is None else v for v in trained],
            "x--",
            color=f"C{i}",
            label=f"{t}: trained (median)",
        )
    ax.set_xlabel("domain [−R, R]²: R")
    ax.set_ylabel("neurons for RMS error ≤ 1% of the range")
    _plain_log(ax, "y")
    ax.set_title("Where the polynomial view stops paying")
    ax.legend(fontsize=6)
    return fig


def bits_figure(betas: np.ndarray, errors: list[float], decimals: int) -> Figure:
    """The bit-product neuron's max error over all strings and subsets against β."""
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    ax.semilogy(betas, errors, "o-", ms=3, label="max error, all strings and subsets")
    ax.semilogy(betas, 1 / (1 + np.exp(betas / 2)), "k:", label="σ(−β/2)")
    ln10 = np.log(10.0)
    ax.axvline(decimals * ln10, color="C3", ls="--", label=f"LTR's β = D ln 10 (D = {decimals})")
    ax.axvline(2 * decimals * ln10, color="C2", ls="--", label="β = 2 D ln 10")
    ax.axhline(10.0**-decimals, color="0.5", lw=1, label=f"10^-{decimals}")
    ax.set_xlabel("β")
    ax.set_ylabel("max |σ(−β(k − ½ − Σx_K)) − ∏x_K|")
    _plain_log(ax, "y")
    ax.set_title("Bit-product neuron (LTR eq. 13)")
    ax.legend(fontsize=7)
    return fig


def rt_curve_figure(
    curves: dict[str, list[tuple[float | None, list[dict[str, Any]]]]], config: DeepCheapConfig
) -> Figure:
    """Minimal widths per depth (every replicate) against RT's n^((k−1)/k)·2^(n^(1/k))."""
    fig = Figure(figsize=(5.5, 4.0))
    ax = fig.subplots()
    depths = sorted({r["depth"] for fits in curves.values() for _, rows in fits for r in rows})
    ks = np.linspace(min(depths), max(depths), 100)
    ax.plot(
        ks,
        [dp.rt_width_curve(config.train_n, float(k)) for k in ks],
        "r-",
        lw=2,
        label="RT: n^((k−1)/k)·2^(n^(1/k))",
    )
    styles = {"product": ("C0", "o"), "relu": ("C1", "s"), "sum": ("C2", "^")}
    labels = {
        "product": f"∏x_i, {config.train_activation}",
        "relu": "∏x_i, ReLU",
        "sum": "control: Σx_i",
    }
    big = 2 * max(config.train_widths)
    for name, fits in curves.items():
        color, marker = styles[name]
        for r, (slope, rows) in enumerate(fits):
            shift = (list(curves).index(name) - 1) * 0.08
            xs = [row["depth"] + shift for row in rows]
            ys = [big if row["censored"] else row["minimal_width"] for row in rows]
            text = "n/a" if slope is None else f"{slope:.2f}"
            ax.plot(
                xs,
                ys,
                color=color,
                marker=marker,
                ls="-",
                alpha=0.7,
                mfc="none",
                label=f"{labels[name]} (slope {text})" if r == 0 else None,
            )
    ax.axhline(big, color="k", ls=":", lw=1, label=f"not reached (censored at {big})")
    ax.set_yscale("log", base=2)
    ax.set_xticks(depths)
    ax.set_xlabel("hidden layers k")
    ax.set_ylabel(f"minimal width, error ≤ {config.error_threshold:g}")
    ax.set_title(f"Minimal width vs RT Thm III.1, n = {config.train_n}")
    ax.legend(fontsize=7)
    return fig


def taylor_figure(
    powers: tuple[dict[str, Any], list[dict[str, Any]]],
    taylor_rows: list[dict[str, Any]],
    multivariate: list[dict[str, Any]],
) -> Figure:
    """(a) x^d with d + 1 and d neurons vs λ; (b) Taylor residual vs floor; (c) multivariate."""
    fig = Figure(figsize=(12, 3.8))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    summary, rows = powers
    lams = summary["lams"]
    for i, row in enumerate(rows):
        c = f"C{i}"
        ax1.loglog(
            lams,
            row["errors"],
            color=c,
            marker="o",
            label=f"x^{row['d']}: {row['d'] + 1} neurons (slope {row['slope']:.2f})",
        )
        ax1.loglog(lams, row["errors_d_neurons"], color=c, marker="x", ls="--")
    ax1.set_xlabel("λ")
    ax1.set_ylabel("max error on [−1, 1]")
    ax1.set_title("m₁(x^d) = d + 1 (dashed: d neurons)")
    ax1.legend(fontsize=6)
    _plain_log(ax1, "both")
    tiny = 1e-16
    d = [r["d"] for r in taylor_rows]
    ax2.semilogy(d, [r["floor"] for r in taylor_rows], "k-", label="floor 1/√C(2d, d)")
    ax2.semilogy(
        d,
        [r["residual_d_neurons"] for r in taylor_rows],
        "o",
        mfc="none",
        label="best fit, d neurons",
    )
    ax2.semilogy(
        d,
        [max(r["residual_d_plus_1"], tiny) for r in taylor_rows],
        "s",
        label="best fit, d + 1 neurons",
    )
    ax2.set_xlabel("d")
    ax2.set_ylabel("Taylor residual ρ")
    ax2.set_title("x^d: Taylor matching through degree d")
    ax2.legend(fontsize=7)
    _plain_log(ax2, "y")
    names = [r["monomial"] for r in multivariate]
    pos = np.arange(len(names))
    for off, key, label in (
        (-0.25, "residual_m1_minus_1", "m₁ − 1 neurons"),
        (0.0, "residual_m1_minus_1_4x_steps", "m₁ − 1, 4× steps"),
        (0.25, "residual_m1", "m₁ neurons"),
    ):
        ax3.bar(pos + off, [max(r[key], tiny) for r in multivariate], width=0.25, label=label)
    ax3.set_yscale("log")
    ax3.set_xticks(pos, [f"{n}\n(m₁={r['m1']})" for n, r in zip(names, multivariate, strict=True)])
    ax3.set_ylabel("best Taylor residual ρ")
    ax3.set_title("Multivariate monomials (RT Thm II.1)")
    ax3.legend(fontsize=7)
    _plain_log(ax3, "y")
    fig.tight_layout()
    return fig
