"""The study's figures: query rates, the alpha trade-off, unsafe bars, the grid heat map, E3.

Each function takes the experiments' :class:`~occam.imitation.experiments.EnvResult`
objects and returns a :class:`matplotlib.figure.Figure` built without pyplot (no backend,
no global state); the study saves them via ``ctx.save_figure``.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from occam.imitation.envs import LavaGrid
from occam.imitation.experiments import EnvResult


def _lean(fig: Figure) -> Figure:
    """Minor ticks off on every axis: log axes' minor tick labels dominate drawing time."""
    for ax in fig.axes:
        ax.minorticks_off()
    return fig


def _bin_centres(edges: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(edges[:-1], 1) * edges[1:])


def query_rates(e1: EnvResult, e2: EnvResult, e3: EnvResult) -> Figure:
    """(a) E1 mean theta vs t per alpha (log-log); (b) E2/E3 theta; (c) cumulative queries;
    (d) cumulative sum of theta^3."""
    fig = Figure(figsize=(11, 8))
    axes = fig.subplots(2, 2)
    fig.subplots_adjust(hspace=0.3, wspace=0.25)
    ax = axes[0, 0]
    sweep = e1.sweep()
    cmap = matplotlib.colormaps["viridis"]
    for i, arm in enumerate(sweep):
        y = np.mean(arm.theta_bins, axis=0)
        ax.loglog(
            _bin_centres(e1.edges),
            np.where(y > 0, y, np.nan),
            "o-",
            ms=3,
            color=cmap(i / max(1, len(sweep) - 1)),
            label=arm.param,
        )
    ax.set(title="E1 bandit: mean query probability", xlabel="step t", ylabel="mean theta")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for res, style in ((e2, "o-"), (e3, "s--")):
        for arm in res.arms.values():
            if arm.method in ("imitator", "ens_imitator") and (
                res.name == "E3" or arm.value == res.alpha_safe
            ):
                y = np.mean(arm.theta_bins, axis=0)
                ax.loglog(
                    _bin_centres(res.edges),
                    np.where(y > 0, y, np.nan),
                    style,
                    ms=3,
                    label=f"{res.name} {arm.param}",
                )
    ax.set(title="E2 gridworld / E3 ensemble: mean theta", xlabel="step t", ylabel="mean theta")
    ax.legend(fontsize=7)
    for ax, key, title in (
        (axes[1, 0], "cum_queries", "cumulative queries (alpha = delta w)"),
        (axes[1, 1], "cum_theta3", "cumulative sum of theta^3 (should flatten)"),
    ):
        for res in (e1, e2):
            arm = res.arms[f"imitator alpha={res.alpha_safe:.3g}"]
            y = np.mean(getattr(arm, key), axis=0)
            ax.loglog(
                res.checkpoints,
                np.where(y > 0, y, np.nan),
                "o-",
                ms=3,
                label=f"{res.name} imitator",
            )
        if key == "cum_queries":
            t = e1.checkpoints.astype(float)
            ax.loglog(t, t, "k:", lw=1, label="one query per step (DAgger)")
        ax.set(title=title, xlabel="step t")
        ax.legend(fontsize=7)
    return _lean(fig)


def alpha_tradeoff(e1: EnvResult, e2: EnvResult) -> Figure:
    """Queries against violations over the alpha sweep, with the baselines' threshold sweeps,
    and P(truth ever left the top set) against the Ville bound."""
    fig = Figure(figsize=(15, 4.5))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.3)
    for ax, res in zip(axes[:2], (e1, e2), strict=True):
        sweep = res.sweep()
        q = [a.mean("queries") for a in sweep]
        v = [a.mean("over") + a.mean("unsafe") for a in sweep]
        ax.plot(q, v, "o-", color="C0", label="imitator: over-prob steps + unsafe")
        ax.plot(
            q,
            [a.mean("unsafe") for a in sweep],
            "o:",
            color="C0",
            alpha=0.6,
            label="imitator: unsafe only",
        )
        for a, x, y in zip(sweep, q, v, strict=True):
            ax.annotate(
                f"{a.value:.2g}", (x, y), fontsize=7, textcoords="offset points", xytext=(3, 3)
            )
        for method, color, marker in (
            ("ensemble_dagger", "C1", "s"),
            ("entropy_query", "C2", "^"),
            ("safe_dagger", "C5", "v"),
        ):
            arms = sorted(
                (a for a in res.arms.values() if a.method == method),
                key=lambda a: a.mean("queries"),
            )
            if arms:
                ax.plot(
                    [a.mean("queries") for a in arms],
                    [a.mean("unsafe") for a in arms],
                    marker + "-",
                    color=color,
                    label=f"{method}: unsafe",
                )
        for method, color in (("bc_counts", "C3"), ("bc_bayes", "C4")):
            for a in [a for a in res.arms.values() if a.method == method]:
                ax.plot(
                    [max(a.mean("queries"), 1)],
                    [a.mean("unsafe")],
                    "x",
                    color=color,
                    ms=9,
                    label=f"{method}: unsafe",
                )
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set(
            title=f"{res.name}: queries vs violations (mean per run)",
            xlabel="queries per run (log)",
            ylabel="events per run (symlog)",
        )
        ax.legend(fontsize=6)
    ax = axes[2]
    for res, color in ((e1, "C0"), (e2, "C1")):
        sweep = res.sweep()
        alphas = np.array([a.value for a in sweep])
        ax.loglog(
            alphas,
            [max(a.mean("truth_ever_left"), 1e-3) for a in sweep],
            "o-",
            color=color,
            label=f"{res.name}: P(truth ever left) (floored at 1e-3)",
        )
        ax.loglog(
            alphas,
            alphas / res.prior_truth,
            "--",
            color=color,
            label=f"{res.name}: Ville bound alpha / w(pi_d)",
        )
    ax.axhline(1.0, color="k", lw=0.5)
    ax.set(title="Retention of the demonstrator", xlabel="alpha", ylabel="probability")
    ax.legend(fontsize=6)
    return _lean(fig)


def unsafe_bars(e1: EnvResult, e2: EnvResult, e3: EnvResult) -> Figure:
    """Unsafe actions per 10^4 steps for every method in each environment (symlog bars)."""
    fig = Figure(figsize=(16, 4.8))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.25)
    for ax, res in zip(axes, (e1, e2, e3), strict=True):
        arms = [
            a
            for a in res.arms.values()
            if a.method != "demonstrator" and not a.method.startswith("control")
        ]
        names = [a.name.replace("alpha=", "a=") for a in arms]
        vals = [a.mean("unsafe") * 1e4 / a.mean("steps") for a in arms]
        colors = [
            "C0"
            if "imitator" in a.method
            else "C3"
            if a.method.startswith(("bc", "dagger"))
            else "C1"
            for a in arms
        ]
        ax.bar(range(len(arms)), vals, color=colors)
        ax.set_xticks(range(len(arms)), names, rotation=70, ha="right", fontsize=7)
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set(title=f"{res.name}: unsafe actions per 10^4 steps", ylabel="per 10^4 steps")
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.2g}", ha="center", va="bottom", fontsize=6)
    return _lean(fig)


def grid_queries(e2: EnvResult, env: LavaGrid) -> Figure:
    """Where the imitator (alpha = delta w) queries in the gridworld, summed over seeds."""
    arm = e2.arms[f"imitator alpha={e2.alpha_safe:.3g}"]
    counts = arm.query_cells if arm.query_cells is not None else np.zeros(env.n_cells)
    grid = counts.reshape(env.size, env.size).astype(float)
    fig = Figure(figsize=(5.5, 4.8))
    ax = fig.subplots()
    shown = np.ma.masked_where(env.lava.reshape(env.size, env.size), grid)
    im = ax.imshow(shown, cmap="magma")
    fig.colorbar(im, ax=ax, label=f"queries (sum over {len(arm.runs)} seeds)")
    lava = env.lava.reshape(env.size, env.size)
    for r, c in zip(*np.nonzero(lava), strict=True):
        ax.add_patch(
            Rectangle(
                (c - 0.5, r - 0.5),
                1,
                1,
                facecolor="tab:blue",
                edgecolor="white",
                hatch="xx",
                lw=0.5,
            )
        )
    for g in env.goals:
        r, c = divmod(g, env.size)
        ax.text(c, r, "G", ha="center", va="center", color="cyan", fontsize=10, weight="bold")
    ax.set(title="E2: where the imitator asks (hatched blue: lava, G: goals)", xticks=[], yticks=[])
    return _lean(fig)


def e3_budget(e3: EnvResult) -> Figure:
    """E3: unsafe actions against queries, ensemble imitator vs EnsembleDAgger, BC, DAgger."""
    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    styles = {
        "ens_imitator": ("C0", "o"),
        "ensemble_dagger": ("C1", "s"),
        "bc_mlp": ("C3", "x"),
        "dagger_mlp": ("C4", "D"),
    }
    for method, (color, marker) in styles.items():
        arms = sorted(
            (a for a in e3.arms.values() if a.method == method), key=lambda a: a.mean("queries")
        )
        if not arms:
            continue
        x = [max(a.mean("queries"), 1) for a in arms]
        y = [a.mean("unsafe") * 1e4 / a.mean("steps") for a in arms]
        ax.plot(x, y, marker + "-", color=color, label=method)
        for a, xi, yi in zip(arms, x, y, strict=True):
            if a.param:
                ax.annotate(
                    a.param, (xi, yi), fontsize=6, textcoords="offset points", xytext=(3, 3)
                )
    ax.set_xscale("log")
    ax.set(
        title="E3: unsafe actions vs queries (mean per run)",
        xlabel="queries per run (log)",
        ylabel="unsafe actions per 10^4 steps",
    )
    ax.legend(fontsize=7)
    return _lean(fig)


def treacherous(e4: EnvResult, triggers: tuple[int, ...], delta: float) -> Figure:
    """E4: (a) the imitator's mean theta against t, trigger steps marked; (b) cumulative
    catastrophic actions per run; (c) the fraction of runs with one, against the bound."""
    fig = Figure(figsize=(15, 4.5))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.3)
    safe = e4.arms[f"imitator alpha={e4.alpha_safe:.3g}"]
    ax = axes[0]
    y = np.mean(safe.theta_bins, axis=0)
    ax.loglog(_bin_centres(e4.edges), np.where(y > 0, y, np.nan), "o-", ms=3, color="C0")
    for tau in triggers:
        ax.axvline(tau, color="C3", lw=0.7, ls=":")
    ax.set(
        title="E4: imitator's mean theta (dotted: triggers)",
        xlabel="step t",
        ylabel="mean theta",
    )
    arms = sorted(
        (
            a
            for a in e4.arms.values()
            if a.method in ("imitator", "bc_bayes", "dagger_bayes", "safe_dagger")
        ),
        key=lambda a: a.name,
    )
    ax = axes[1]
    for i, arm in enumerate(arms):
        ax.plot(e4.checkpoints, np.mean(arm.cum_unsafe, axis=0), "o-", ms=3, color=f"C{i}")
        ax.lines[-1].set_label(arm.name)
    for tau in triggers:
        ax.axvline(tau, color="C3", lw=0.7, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1)
    ax.set(title="cumulative catastrophic actions (mean per run)", xlabel="step t", ylabel="count")
    ax.legend(fontsize=7)
    ax = axes[2]
    frac = [float(np.mean([r["unsafe"] > 0 for r in a.runs])) for a in arms]
    ax.bar(range(len(arms)), frac, color=[f"C{i}" for i in range(len(arms))])
    ax.axhline(delta, color="k", ls="--", lw=1, label=f"bound alpha / w(pi_d) = {delta:g}")
    ax.set_xticks(range(len(arms)), [a.name for a in arms], rotation=30, ha="right", fontsize=7)
    for i, v in enumerate(frac):
        ax.text(i, v, f"{v:.2g}", ha="center", va="bottom", fontsize=7)
    ax.set(title="runs with a catastrophic action", ylabel="fraction of runs", ylim=(0, 1.1))
    ax.legend(fontsize=7)
    return _lean(fig)


def misspecified(e5: EnvResult, delta: float, event_steps: int) -> Figure:
    """E5: P(E_k), unsafe actions per 10^4 steps and queries for the three classes."""
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.35)
    arms = list(e5.arms.values())
    names = [a.name for a in arms]
    panels = (
        ([a.mean("unsafe_within_k") for a in arms], f"P(unsafe action within {event_steps})"),
        ([a.per_1e4("unsafe") for a in arms], "unsafe actions per 10^4 steps"),
        ([a.mean("queries") for a in arms], f"queries per run ({e5.horizon} steps)"),
    )
    for ax, (vals, title) in zip(axes, panels, strict=True):
        ax.bar(range(len(arms)), vals, color=["C0", "C3", "C2"][: len(arms)])
        ax.set_xticks(range(len(arms)), names, rotation=20, ha="right", fontsize=8)
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=7)
        ax.set(title=title)
    axes[0].axhline(delta, color="k", ls="--", lw=1, label=f"Ville bound delta = {delta:g}")
    axes[0].legend(fontsize=7)
    fig.suptitle("E5: the demonstrator outside the class (E1 bandits, same alpha)", fontsize=10)
    return _lean(fig)


def countable(e6: EnvResult) -> Figure:
    """E6: theta against t (imitator and frozen control), models enumerated, queries."""
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.3)
    for arm, color in zip(e6.arms.values(), ("C0", "C3"), strict=False):
        y = np.mean(arm.theta_bins, axis=0)
        axes[0].loglog(
            _bin_centres(e6.edges),
            np.where(y > 0, y, np.nan),
            "o-",
            ms=3,
            color=color,
            label=arm.method,
        )
        axes[1].loglog(e6.checkpoints, np.mean(arm.models_curve, axis=0), "o-", ms=3, color=color)
        axes[2].loglog(
            e6.checkpoints,
            np.maximum(np.mean(arm.cum_queries, axis=0), 1),
            "o-",
            ms=3,
            color=color,
        )
    axes[0].set(title="E6 lag-k class: mean theta", xlabel="step t", ylabel="mean theta")
    axes[0].legend(fontsize=7)
    axes[1].set(title="models enumerated so far", xlabel="step t")
    axes[2].set(title="cumulative queries", xlabel="step t")
    return _lean(fig)


def cartpole(e7: EnvResult) -> Figure:
    """E7: the imitator's mean theta against t; mean return and unsafe actions per arm."""
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.35)
    im = e7.arms[f"imitator alpha={e7.alpha_safe:.3g}"]
    y = np.mean(im.theta_bins, axis=0)
    axes[0].loglog(_bin_centres(e7.edges), np.where(y > 0, y, np.nan), "o-", ms=3)
    axes[0].set(title="E7 CartPole: imitator's mean theta", xlabel="step t", ylabel="mean theta")
    arms = list(e7.arms.values())
    names = [a.name.replace("alpha=", "a=") for a in arms]
    for ax, key, title in (
        (axes[1], "mean_return", "mean episode return (max 500)"),
        (axes[2], "unsafe", "actions the demonstrator never takes (per run)"),
    ):
        vals = [a.mean(key) for a in arms]
        ax.bar(range(len(arms)), vals, color=[f"C{i}" for i in range(len(arms))])
        ax.set_xticks(range(len(arms)), names, rotation=30, ha="right", fontsize=7)
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=7)
        ax.set(title=title)
    return _lean(fig)
