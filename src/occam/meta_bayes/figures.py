"""The study's figures, drawn from its JSON metrics (so a results folder can be re-plotted).

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot, so drawing
needs no backend and never changes a notebook's.
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

DISSIMILARITIES = (
    "ds_agent_to_bayes",
    "ds_bayes_to_agent",
    "do_agent_to_bayes",
    "do_bayes_to_agent",
)
DISSIMILARITY_LABELS = ("D_s A->B", "D_s B->A", "D_o A->B", "D_o B->A")


def _log_steps(steps: list[int]) -> list[float]:
    return [max(s, 0.5) for s in steps]  # step 0 (untrained) drawn at 0.5 on a log axis


def kl_learning_curves(prediction: dict[str, Any], threshold: float) -> Figure:
    """KL(Bayes || agent) over meta-training (left) and per episode step at the end (right)."""
    fig = Figure(figsize=(10, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    for name, m in prediction.items():
        curve = m["curve"]
        ax1.plot(
            _log_steps([c["step"] for c in curve]),
            [c["kl"] for c in curve],
            marker="o",
            ms=3,
            label=name,
        )
        ax2.plot(np.arange(len(m["kl_per_step"])), m["kl_per_step"], marker=".", label=name)
    ax1.axhline(threshold, color="k", ls=":", lw=1, label=f"claim threshold {threshold:g}")
    ax1.set(xscale="log", yscale="log", xlabel="meta-training step (untrained at 0.5)")
    ax1.set(ylabel="KL(Bayes || agent), nats/step", title="Learning curves (held-out episodes)")
    ax2.set(yscale="log", xlabel="step t of the episode", ylabel="KL at step t, nats")
    ax2.set_title("Final agents, per step")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    return fig


def coin_example(coins: dict[str, dict[str, dict[str, list[float]]]]) -> Figure:
    """P(next = heads | history) along fixed histories: Bayes (lines) and agent (dots)."""
    fig = Figure(figsize=(4 * len(coins), 3.6))
    axes = fig.subplots(1, len(coins), sharey=True, squeeze=False)
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (task, per_history) in zip(axes[0], coins.items(), strict=True):
        for (history, c), col in zip(per_history.items(), colors, strict=False):
            t = np.arange(len(c["bayes"]))
            ax.plot(t, c["bayes"], color=col, lw=1.5, label=f"{history}: Bayes")
            ax.plot(
                t, c["agent"], color=col, ls="none", marker="o", ms=4, label=f"{history}: agent"
            )
        ax.set(title=f"prior {task}", xlabel="observations so far", ylim=(0, 1))
    axes[0][0].set_ylabel("P(next = heads | history)")
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.suptitle("The coin example: lines = Bayes-optimal, dots = meta-trained agent")
    fig.tight_layout()
    return fig


def bandit_returns(bandit: dict[str, Any]) -> Figure:
    """Return over training against V* and Thompson (left); final returns, same tasks (right)."""
    fig = Figure(figsize=(10, 3.6 * len(bandit)))
    axes = fig.subplots(len(bandit), 2, squeeze=False)
    for row, (arms, m) in zip(axes, bandit.items(), strict=True):
        v_star, thompson = m["v_star"], m["baselines"]["Thompson sampling"]
        ax = row[0]
        steps = _log_steps([c["step"] for c in m["curve"]])
        ax.plot(
            steps,
            [c["return"] for c in m["curve"]],
            marker="o",
            ms=3,
            label="agent (sampled actions)",
        )
        ax.axhline(v_star, color="k", lw=1, label=f"Bayes-optimal V* = {v_star:.3f}")
        ax.axhline(
            thompson, color="tab:red", ls="--", lw=1, label=f"Thompson (MC) = {thompson:.3f}"
        )
        ax.set(xscale="log", xlabel="actor-critic update", ylabel="return per episode")
        ax.set_title(f"{arms}-armed bandit, T = {m['horizon']}" if arms.isdigit() else arms)
        ax.legend(fontsize=7)
        ax = row[1]
        names = ["agent (sampled)", "agent (greedy)", *m["baselines"]]
        vals = [
            m["agent_sampled"]["mean_return"],
            m["agent_greedy"]["mean_return"],
            *m["baselines"].values(),
        ]
        ax.barh(names, vals, color=["tab:blue"] * 2 + ["tab:gray"] * len(m["baselines"]))
        ax.axvline(v_star, color="k", lw=1, label="V* (exact)")
        ax.set(xlim=(min(vals) - 0.3, v_star + 0.3), xlabel="return per episode (same tasks)")
        ax.set_title("Against V* and reference policies")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def dissimilarity(rows: list[dict[str, Any]]) -> Figure:
    """State and output dissimilarity: untrained vs trained (bars) and over checkpoints."""
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig = Figure(figsize=(11, 3.6 * len(tasks)))
    axes = fig.subplots(len(tasks), 2, squeeze=False)
    xs = np.arange(len(DISSIMILARITIES))
    for row, task in zip(axes, tasks, strict=True):
        rs = [r for r in rows if r["task"] == task]
        first, last = rs[0], rs[-1]
        ax = row[0]
        for shift, r, col, label in (
            (-0.2, first, "tab:gray", "untrained"),
            (0.2, last, "tab:blue", "trained"),
        ):
            vals = [max(r[k], 1e-6) for k in DISSIMILARITIES]
            ax.bar(xs + shift, vals, 0.4, color=col, label=f"{label} (step {r['step']})")
        ax.set_xticks(xs, DISSIMILARITY_LABELS)
        ax.set(yscale="log", ylabel="dissimilarity", title=f"{task}: state-machine simulation")
        ax.legend(fontsize=7)
        ax = row[1]
        for k, label in zip(DISSIMILARITIES, DISSIMILARITY_LABELS, strict=True):
            ax.plot(
                _log_steps([r["step"] for r in rs]),
                [max(r[k], 1e-6) for r in rs],
                marker="o",
                ms=3,
                label=label,
            )
        ax.set(xscale="log", yscale="log", xlabel="training step of the checkpoint")
        ax.set_title("Over training checkpoints (step 0 = untrained)")
        ax.legend(fontsize=7)
    fig.text(
        0.01,
        0.0,
        "A = meta-trained agent, B = Bayes-optimal agent. D_s: normalised held-out MSE; "
        "D_o: KL in nats (predictors) or action disagreement (bandits).",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def probes(rows: list[dict[str, Any]]) -> Figure:
    """Linear probes for the posterior's statistics: unexplained variance 1 - R^2 (held out).

    On a log axis, since even untrained memories reach R^2 ~ 0.9 (the inputs drive them)."""
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig = Figure(figsize=(5 * len(tasks), 3.8))
    axes = fig.subplots(1, len(tasks), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        rs = [r for r in rows if r["task"] == task]
        xs = np.arange(len(rs))
        for shift, key, col, label in (
            (-0.2, "r2_untrained", "tab:gray", "untrained"),
            (0.2, "r2_trained", "tab:blue", "trained"),
        ):
            ax.bar(xs + shift, [max(1.0 - r[key], 1e-6) for r in rs], 0.4, color=col, label=label)
        ax.set_xticks(xs, [r["target"] for r in rs], rotation=30, ha="right", fontsize=7)
        ax.set(yscale="log", ylabel="1 - R^2 of a linear probe (held out)")
        ax.set_title(f"{task}: the posterior decoded from memory")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fixed_point(
    curve: list[dict[str, Any]], control: list[dict[str, Any]], threshold: float = 1e-3
) -> Figure:
    """KL to Bayes during distillation and continued meta-training (left) and the drift from
    the distilled predictor (right), for a Bayes start and for the wrong-prior control."""
    fig = Figure(figsize=(11, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    for rows, name, col in (
        (curve, "distilled onto Bayes", "tab:blue"),
        (control, "distilled onto the wrong prior", "tab:red"),
    ):
        for phase, ls in (("distil", ":"), ("meta-train", "-")):
            c = [r for r in rows if r["phase"] == phase]
            ax1.plot(
                [r["step"] for r in c],
                [r["kl"] for r in c],
                ls=ls,
                marker="o",
                ms=3,
                color=col,
                label=f"{name}: {phase}",
            )
        c = [r for r in rows if r["phase"] == "meta-train"]
        ax2.plot(
            [r["step"] for r in c],
            [max(r["drift"], 1e-7) for r in c],
            marker="o",
            ms=3,
            color=col,
            label=name,
        )
    for ax in (ax1, ax2):
        ax.axhline(threshold, color="k", ls=":", lw=1, label=f"{threshold:g}")
        ax.set(yscale="log", xlabel="step: distillation, then log-loss meta-training")
        ax.legend(fontsize=7)
    ax1.set(ylabel="KL(Bayes || agent), nats/step", title="Distance to the Bayes predictive")
    ax2.set(ylabel="KL(q_distilled || q_now), nats/step", title="Drift: fixed points do not move")
    fig.tight_layout()
    return fig


def simulation_controls(rows: list[dict[str, Any]]) -> Figure:
    """The simulation's controls at the trained checkpoint, per task: agent -> Bayes D_s of
    the real map, the untrained network's and the shuffled-pairing map's (left); the
    commutation error of condition (i) for the real and the shuffled map (right)."""
    trained = [r for r in rows if "ds_shuffled" in r]
    untrained = {r["task"]: r for r in rows if r["step"] == 0}
    fig = Figure(figsize=(11, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    xs = np.arange(len(trained))
    names = [r["task"] for r in trained]
    for shift, vals, col, label in (
        (-0.27, [r["ds_agent_to_bayes"] for r in trained], "tab:blue", "trained"),
        (0.0, [untrained[n]["ds_agent_to_bayes"] for n in names], "tab:gray", "untrained"),
        (0.27, [r["ds_shuffled"] for r in trained], "tab:red", "trained, shuffled pairing"),
    ):
        ax1.bar(xs + shift, [max(v, 1e-6) for v in vals], 0.27, color=col, label=label)
    ax1.axhline(0.05, color="k", ls=":", lw=1, label="claim threshold 0.05")
    ax1.set_xticks(xs, names, fontsize=7)
    ax1.set(yscale="log", ylabel="held-out D_s(agent -> Bayes)", title="State dissimilarity")
    ax1.legend(fontsize=7)
    for shift, key, col, label in (
        (-0.2, "commutation", "tab:blue", "fitted map"),
        (0.2, "commutation_shuffled", "tab:red", "shuffled-pairing map"),
    ):
        ax2.bar(xs + shift, [max(r[key], 1e-6) for r in trained], 0.4, color=col, label=label)
    ax2.axhline(0.25, color="k", ls=":", lw=1, label="claim threshold 0.25")
    ax2.set_xticks(xs, names, fontsize=7)
    ax2.set(yscale="log", ylabel="||phi(s') - tau_B(phi(s), x)||^2 / ||b' - b||^2")
    ax2.set_title("Condition (i): the map commutes with the transitions")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def dissimilarity_vs_kl(rows: list[dict[str, Any]], tasks: list[str]) -> Figure:
    """Both dissimilarities against the behavioural KL over training checkpoints (one panel
    per task; the arrow of time runs from the untrained checkpoint, ringed)."""
    tasks = [t for t in tasks if any(r["task"] == t for r in rows)]
    fig = Figure(figsize=(4.2 * max(len(tasks), 1), 3.8))
    axes = fig.subplots(1, max(len(tasks), 1), squeeze=False)[0]
    for ax, task in zip(axes, tasks, strict=False):
        rs = [r for r in rows if r["task"] == task]
        kl = [max(r["kl"], 1e-6) for r in rs]
        for k, label in zip(DISSIMILARITIES, DISSIMILARITY_LABELS, strict=True):
            vals = [max(r[k], 1e-6) for r in rs]
            line = ax.plot(kl, vals, marker="o", ms=3, label=label)[0]
            ax.plot(kl[:1], vals[:1], marker="o", ms=8, mfc="none", color=line.get_color())
        bandit = "bandit" in task
        ax.set(xscale="log", yscale="log", title=task)
        ax.set_xlabel("policy KL(pi_Bayes || pi_agent)" if bandit else "KL(Bayes || agent)")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("dissimilarity (D_s normalised MSE; D_o nats or disagreement)")
    fig.suptitle("Dissimilarities over training against behaviour (ring: untrained)")
    fig.tight_layout()
    return fig


def coarse_statistic(coarse: dict[str, Any]) -> Figure:
    """Decoding the needed count c_0 and the unneeded split c_1 - c_2 from memory."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.subplots()
    xs = np.arange(2)
    for shift, name, col, label in (
        (-0.27, "coarse", "tab:blue", "loss needs c_0 only"),
        (0.0, "full", "tab:green", "full categorical loss"),
        (0.27, "untrained", "tab:gray", "untrained"),
    ):
        vals = [max(coarse[f"ds_{w}_{name}"], 1e-6) for w in ("needed", "unneeded")]
        ax.bar(xs + shift, vals, 0.27, color=col, label=label)
    ax.set_xticks(xs, ["needed: c_0", "unneeded: c_1 - c_2"])
    ax.set(yscale="log", ylabel="held-out D_s(memory -> statistic)")
    ax.set_title(f"{coarse['task']}: is the whole posterior kept?")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
