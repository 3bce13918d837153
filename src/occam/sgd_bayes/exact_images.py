"""Exact ground truth on real images, replicated over draws of S, and the |S| sweep.

For small |S| (8-12 images) the finite network's P_B(f|S) is reachable exactly by rejection
(:mod:`occam.sgd_bayes.prior`): about one random net in 10^3 fits 8 images. On such problems
this module puts three distributions over the 2^|E| labellings of E side by side
(:mod:`occam.sgd_bayes.agreement`): P_SGD (trained nets), the exact P_B (accepted prior
draws) and NNGP + EP; each on ``exact_replicates`` independent draws of S (S seeds apart from
the nets' seeds), for both binarisations of the labels, with two negative controls from the
same draws: the exact posterior and EP given S with its labels shuffled.

Protocol per dataset and draw r: a permutation of the training split seeded by
``seed_for("exact S <dataset>", r)``; S of size n is its first n images (so the sweep's
training sets are nested within a draw); E is the first |E| test images; images pooled to
``pool`` x ``pool``. One prior sample per architecture serves every problem (the nets are
evaluated once on all the draws' images), so the replicates share prior draws: their exact
P_B estimates have correlated Monte Carlo error, not correlated S.

The |S| sweep (MNIST, FCN, first binarisation) trains SGD at each |S| of ``sweep_n_train`` on
the same draws and scores it against EP's P_B over all labellings of E (and against the exact
P_B where rejection reaches, |S| = ``exact_n_train``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from occam import data
from occam.executors.sampler import FunctionCounts, job_key, run_chunks
from occam.nets.chunk import EnsembleChunk
from occam.sgd_bayes.agreement import compare, counts_vector, ep_distribution, margin_link
from occam.sgd_bayes.arch import CNNArch, FCNArch
from occam.sgd_bayes.boundary import sgd_margins
from occam.sgd_bayes.compare import function_errors
from occam.sgd_bayes.config import SgdBayesConfig, names
from occam.sgd_bayes.pb import predictive_error
from occam.sgd_bayes.prior import (
    Conditioning,
    PriorChunk,
    accepted_for,
    bin_centre,
    split_counts,
)
from occam.sgd_bayes.problems import Problem
from occam.sgd_bayes.settings import train_spec
from occam.study import RunContext


def exact_problems(cfg: SgdBayesConfig) -> list[tuple[str, str]]:
    """(dataset, arch) pairs of ``cfg.exact_problems`` ('mnist:fcn,fashion-mnist:cnn')."""
    return [tuple(p.split(":")) for p in names(cfg.exact_problems)]  # type: ignore[misc]


def image_arch(cfg: SgdBayesConfig, arch: str) -> FCNArch | CNNArch:
    """The exact section's FCN or CNN on exact_pool x exact_pool images (the study's
    initialisation scales; the paper's CNN family, :meth:`CNNArch.paper`)."""
    if arch == "cnn":
        return CNNArch.paper(
            (1, cfg.exact_pool, cfg.exact_pool),
            n_layers=len(cfg.exact_widths),
            width=cfg.exact_cnn_channels,
            sigma_w=cfg.sigma_w,
            sigma_b=cfg.sigma_b,
        )
    return FCNArch(cfg.exact_pool**2, cfg.exact_widths, cfg.sigma_w, cfg.sigma_b)


@dataclass
class Images:
    """One dataset's images for the exact section: per draw the permutation of the training
    split (S = its first n), the pooled images of the largest S, and E."""

    dataset: str
    perms: list[np.ndarray]  # per draw, the first max |S| indices
    X_s: list[np.ndarray]  # per draw, (max |S|, pool * pool)
    digits_s: list[np.ndarray]  # per draw, the class labels 0-9
    X_e: np.ndarray  # (|E|, pool * pool)
    digits_e: np.ndarray

    def labels(self, r: int, n: int, binarization: str) -> np.ndarray:
        return data.binarize(self.digits_s[r][:n], binarization)


def load_images(
    cfg: SgdBayesConfig, dataset: str, draws: int, n_max: int, ctx: RunContext
) -> Images:
    loader = data.load_mnist if dataset == "mnist" else data.load_fashion_mnist
    Xtr, ytr = loader("train")
    Xte, yte = loader("test")
    perms, xs, ds = [], [], []
    for r in range(draws):
        idx = ctx.rng(f"exact S {dataset}", r).permutation(len(Xtr))[:n_max]
        perms.append(idx)
        xs.append(data.avg_pool_images(Xtr[idx], size=cfg.exact_pool))
        ds.append(ytr[idx])
    X_e = data.avg_pool_images(Xte[: cfg.exact_n_test], size=cfg.exact_pool)
    return Images(dataset, perms, xs, ds, X_e, yte[: cfg.exact_n_test])


def _shape(arch: FCNArch | CNNArch, X: np.ndarray) -> torch.Tensor:
    t = torch.tensor(np.ascontiguousarray(X), dtype=torch.float32)
    return t if isinstance(arch, FCNArch) else t.reshape(len(t), *arch.in_shape)


def make_image_problem(
    images: Images, arch_name: str, arch: FCNArch | CNNArch, r: int, n: int, binarization: str
) -> Problem:
    ys = images.labels(r, n, binarization)
    ye = data.binarize(images.digits_e, binarization)
    return Problem(
        name=images.dataset,
        X_train=_shape(arch, images.X_s[r][:n]),
        y_train=torch.tensor(ys, dtype=torch.float32),
        X_test=_shape(arch, images.X_e),
        y_test=torch.tensor(ye, dtype=torch.float32),
        arch=arch,
        description=f"{images.dataset} {binarization} {arch_name.upper()} draw {r}, |S| = {n}",
    )


def shuffled(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation of labels y that changes them (when y is not constant): the control's S."""
    for _ in range(100):
        z = y[rng.permutation(len(y))]
        if not np.array_equal(z, y):
            return z
    return y


@dataclass(frozen=True)
class Bundle:
    """Several sampling jobs as one :func:`run_chunks` job (one process pool, one checkpoint).

    tasks: picklable ``(chunk, seed) -> FunctionCounts`` callables (prior chunks, SGD
    ensembles); owner[i]: the task chunk i runs. Keys are prefixed ``"<task>|"``; each task's
    totals travel as the keys ``"<task>|#runs"`` and ``"<task>|#unfitted"``.
    """

    tasks: tuple[Any, ...]
    owner: tuple[int, ...]

    def __call__(self, chunk: int, seed: int) -> FunctionCounts:
        t = self.owner[chunk]
        c = self.tasks[t](chunk, seed)
        out: Counter[str] = Counter({f"{t}|{f}": n for f, n in c.counts.items()})
        out[f"{t}|#runs"] = c.n_runs
        out[f"{t}|#unfitted"] = c.n_unfitted
        return FunctionCounts(
            out, n_runs=c.n_runs, n_unfitted=c.n_unfitted, epochs_sum=c.epochs_sum
        )


def unbundle(counts: FunctionCounts, n_tasks: int) -> list[FunctionCounts]:
    """The merged counts of a :class:`Bundle`, per task."""
    out = [FunctionCounts() for _ in range(n_tasks)]
    for k, c in counts.counts.items():
        t, f = k.split("|", 1)
        task = out[int(t)]
        if f == "#runs":
            task.n_runs += c
        elif f == "#unfitted":
            task.n_unfitted += c
        else:
            task.counts[f] = c
    return out


def run_bundle(
    cfg: SgdBayesConfig, ctx: RunContext, jobs: list[tuple[Any, int, int]], label: str
) -> list[FunctionCounts]:
    """Run ``jobs`` = [(task, n_chunks, chunk size for the key)] as one resumable job."""
    owner = tuple(t for t, (_, n, _) in enumerate(jobs) for _ in range(n))
    bundle = Bundle(tuple(j[0] for j in jobs), owner)
    seed = ctx.seed_for(label)
    key = job_key([label, seed, owner, [_describe(task) for task, _, _ in jobs]])
    counts = run_chunks(
        bundle,
        len(owner),
        seed=seed,
        checkpoint=ctx.checkpoint(f"{label.replace(' ', '-')}-{key}.json"),
        key=key,
        executor=cfg.executor,
        address=cfg.ray_address or None,
        workers=cfg.workers,
        progress=lambda it, total: ctx.progress(it, label, total=total),
        log=ctx.log.info,
    )
    return unbundle(counts, len(jobs))


def _describe(task: Any) -> Any:
    """A JSON-able fingerprint of a task: its fields, tensors by shape and sum."""
    out = {}
    for f in dataclasses.fields(task):
        v = getattr(task, f.name)
        out[f.name] = (
            [list(v.shape), float(v.double().sum())] if isinstance(v, torch.Tensor) else repr(v)
        )
    return out


def sgd_task(
    problem: Problem, spec: Any, n_runs: int, per_chunk: int, device: str
) -> tuple[EnsembleChunk, int, int]:
    """An SGD job for :func:`run_bundle`: ``n_runs`` nets in equal chunks of <= per_chunk."""
    n_chunks = -(-n_runs // per_chunk)
    task = EnsembleChunk(
        arch=problem.arch,
        X_train=problem.X_train,
        y_train=problem.y_train,
        X_test=problem.X_test,
        spec=spec,
        nets_per_chunk=-(-n_runs // n_chunks),
        device=device,
    )
    return task, n_chunks, task.nets_per_chunk


def sgd_error(counts: FunctionCounts, y_test: np.ndarray) -> float:
    """SGD's error on E averaged over its fitted runs."""
    funcs = list(counts.counts)
    hits = np.array([counts.counts[f] for f in funcs], dtype=float)
    return (
        float(hits @ function_errors(funcs, y_test) / counts.n_fitted)
        if counts.n_fitted
        else float("nan")
    )


@dataclass
class Job:
    """One trained setting: which problem, which trainer, and where its counts land."""

    kind: str  # "exact", "overtrain" or "sweep"
    dataset: str
    arch: str
    binarization: str
    draw: int
    n_train: int
    problem: Problem
    spec: Any
    n_runs: int
    counts: FunctionCounts | None = None


def run_exact(cfg: SgdBayesConfig, ctx: RunContext) -> dict[str, Any]:
    """The exact section and the |S| sweep. Returns ``{"exact": ..., "rows": [...],
    "s_sweep": [...], "plots": ...}``; ``exact[dataset][arch]`` summarises the draws."""
    pairs = exact_problems(cfg)
    bins = names(cfg.exact_binarizations)
    n0, draws = cfg.exact_n_train, cfg.exact_replicates
    sweep_on = bool(cfg.sweep_n_train) and ("mnist", "fcn") in pairs
    n_max = max([n0, *(cfg.sweep_n_train if sweep_on else ())])
    datasets = sorted({d for d, _ in pairs})
    images = {d: load_images(cfg, d, draws, n_max, ctx) for d in datasets}
    archs = {a: image_arch(cfg, a) for a in sorted({a for _, a in pairs})}

    # 1. the prior draws' conditionings: every draw of S (|S| = n0), both label sets, and
    #    the shuffled-label control, on one input pool per architecture
    prior_jobs: list[tuple[Any, int, int]] = []
    for arch_name, arch in archs.items():
        blocks, conds, offset = [], [], 0
        for d in [d for d, a in pairs if a == arch_name]:
            im = images[d]
            e_rows = tuple(range(offset, offset + len(im.X_e)))
            blocks.append(im.X_e)
            offset += len(im.X_e)
            for r in range(draws):
                s_rows = tuple(range(offset, offset + n0))
                blocks.append(im.X_s[r][:n0])
                offset += n0
                for b in bins:
                    y = im.labels(r, n0, b)
                    y_shuf = shuffled(y, ctx.rng(f"exact shuffle {d} {b}", r))
                    conds.append(Conditioning(f"{d}/{b}/{r}", s_rows, tuple(map(int, y)), e_rows))
                    conds.append(
                        Conditioning(
                            f"{d}/{b}/{r}/shuffled", s_rows, tuple(map(int, y_shuf)), e_rows
                        )
                    )
        n_nets = cfg.exact_prior_nets if arch_name == "fcn" else cfg.exact_cnn_prior_nets
        n_chunks = max(1, -(-n_nets // cfg.exact_nets_per_chunk))
        task = PriorChunk(
            arch, _shape(arch, np.concatenate(blocks)), tuple(conds), -(-n_nets // n_chunks)
        )
        prior_jobs.append((task, n_chunks, task.nets_per_chunk))

    # 2. the SGD settings: each exact problem, overtrained on the first binarisation (FCN),
    #    and the sweep's larger training sets (MNIST, FCN, first binarisation)
    jobs: list[Job] = []
    for d, arch_name in pairs:
        for b in bins:
            for r in range(draws):
                problem = make_image_problem(images[d], arch_name, archs[arch_name], r, n0, b)
                spec = train_spec(cfg, problem, None)
                jobs.append(Job("exact", d, arch_name, b, r, n0, problem, spec, cfg.exact_sgd_runs))
                if cfg.exact_overtrain and arch_name == "fcn" and b == bins[0]:
                    ospec = dataclasses.replace(spec, epochs_after_fit=cfg.overtrain_epochs)
                    jobs.append(
                        Job("overtrain", d, arch_name, b, r, n0, problem, ospec, cfg.exact_sgd_runs)
                    )
    if sweep_on:
        for n in cfg.sweep_n_train:
            for r in range(min(cfg.sweep_replicates, draws)):
                if n == n0:
                    continue  # the exact problem of this draw
                problem = make_image_problem(images["mnist"], "fcn", archs["fcn"], r, n, bins[0])
                spec = train_spec(cfg, problem, None)
                jobs.append(
                    Job("sweep", "mnist", "fcn", bins[0], r, n, problem, spec, cfg.sweep_runs)
                )
    sgd_jobs = [
        sgd_task(j.problem, j.spec, j.n_runs, cfg.nets_per_chunk, str(ctx.device)) for j in jobs
    ]
    with ctx.timed("exact_sampling"):  # prior and SGD nets: one pool, one checkpoint
        # the costliest first, so that the pool's workers finish together
        order = sorted(range(len(prior_jobs)), key=lambda i: -prior_jobs[i][1])
        results = run_bundle(cfg, ctx, [prior_jobs[i] for i in order] + sgd_jobs, "exact nets")
    prior = {list(archs)[i]: split_counts(results[k]) for k, i in enumerate(order)}
    n_prior = {list(archs)[i]: results[k].n_runs for k, i in enumerate(order)}
    for j, c in zip(jobs, results[len(prior_jobs) :], strict=True):
        j.counts = c

    # 3. EP over every labelling of E, 4. the comparison with its controls
    k = cfg.exact_n_test
    rows: list[dict[str, Any]] = []
    plots: dict[str, Any] = {}
    overtrained = {
        (j.dataset, j.arch, j.binarization, j.draw): j for j in jobs if j.kind == "overtrain"
    }
    for j in [j for j in jobs if j.kind == "exact"]:
        key = f"{j.dataset}/{j.binarization}/{j.draw}"
        assert j.counts is not None
        acc = accepted_for(prior[j.arch], key, n_prior[j.arch])
        acc_shuf = accepted_for(prior[j.arch], f"{key}/shuffled", n_prior[j.arch])
        with ctx.timed("exact_ep"):
            ep = ep_side(j.problem, images[j.dataset], j.binarization, j.draw, k, ctx, "exact")
        s_vec = counts_vector(j.counts.counts, k)
        rej = counts_vector(acc.functions, k)
        rng = ctx.rng(f"exact bootstrap {key} {j.arch}")
        m = compare(s_vec, rej, ep["log_ep"], cfg.min_hits, rng, cfg.exact_bootstrap)
        ctl_rej = compare(
            s_vec, counts_vector(acc_shuf.functions, k), ep["log_ep_shuf"], cfg.min_hits, rng, 0
        )
        # EP given the shuffled labels, scored against the exact P_B of the true ones
        ctl_ep = compare(rej, None, ep["log_ep_shuf"], cfg.min_hits, rng, 0)
        row = {
            "dataset": j.dataset,
            "arch": j.arch,
            "binarization": j.binarization,
            "draw": j.draw,
            "n_train": n0,
            "n_test": k,
            "n_prior": n_prior[j.arch],
            "n_accepted": acc.n_accepted,
            "log_ps_rejection": acc.log_p_s,
            "log_ps_ep": ep["log_ps_ep"],
            "n_sgd_fitted": j.counts.n_fitted,
            "fraction_unfitted": j.counts.n_unfitted / max(j.counts.n_runs, 1),
            "sgd_error": sgd_error(j.counts, j.problem.y_test.numpy()),
            "gp_error": ep["gp_error"],
            **m,
            "control_pearson_sgd_rej": ctl_rej.get("pearson_sgd_rej", float("nan")),
            "control_tv_sgd_rej": ctl_rej.get("tv_sgd_rej", float("nan")),
            "control_pearson_sgd_ep": ctl_rej["pearson_sgd_ep"],
            "control_pearson_rej_ep": ctl_ep["pearson_sgd_ep"],
            **{
                f"margin_{kk}": v
                for kk, v in margin_link(
                    acc.margins, j.counts.counts, j.counts.n_fitted, cfg.min_hits
                ).items()
            },
        }
        over = overtrained.get((j.dataset, j.arch, j.binarization, j.draw))
        if over is not None and over.counts is not None:
            mo = compare(
                counts_vector(over.counts.counts, k), rej, ep["log_ep"], cfg.min_hits, rng, 0
            )
            row["overtrain_tv_sgd_rej"] = mo["tv_sgd_rej"]
            row["overtrain_pearson_sgd_rej"] = mo.get("pearson_sgd_rej", float("nan"))
            row["overtrain_top1_ratio"] = mo["top1_ratio"]
            row["overtrain_fraction_unfitted"] = over.counts.n_unfitted / max(over.counts.n_runs, 1)
        if cfg.exact_margin_runs and j.arch == "fcn" and j.binarization == bins[0]:
            with ctx.timed("exact_margins"):
                row |= margin_comparison(cfg, ctx, j.problem, j.spec, acc.margins, key)
        rows.append(row)
        if j.draw == 0:
            plots[f"{j.dataset}/{j.binarization}/{j.arch}"] = {
                "sgd": s_vec,
                "rej": rej,
                "log_ep": ep["log_ep"],
                "margins": acc.margins,
                "title": j.problem.description,
            }

    sweep = run_sweep(cfg, ctx, images.get("mnist"), rows, jobs) if sweep_on else []
    return {
        "exact": summarise_exact(rows, pairs, bins),
        "rows": rows,
        "s_sweep": sweep,
        "plots": plots,
    }


def ep_side(
    problem: Problem, images: Images, b: str, r: int, k: int, ctx: RunContext, tag: str
) -> dict[str, Any]:
    """EP's P_B over all labellings of E for S and for S with shuffled labels (the
    control), EP's log P(S), and the GP posterior's expected error on E."""
    K = problem.kernel()
    log_ep, log_ps_ep = ep_distribution(K, problem.y_train, k)
    n = len(problem.y_train)
    rng = ctx.rng(
        f"exact shuffle {problem.name} {b}" if tag == "exact" else f"sweep shuffle {n}", r
    )
    shuf = torch.tensor(shuffled(images.labels(r, n, b), rng), dtype=torch.float32)
    log_ep_shuf, _ = ep_distribution(K, shuf, k)
    gp_err = predictive_error(K, problem.y_train.double() * 2 - 1, problem.y_test.double() * 2 - 1)
    return {
        "log_ep": log_ep,
        "log_ps_ep": log_ps_ep,
        "log_ep_shuf": log_ep_shuf,
        "gp_error": gp_err,
    }


def margin_comparison(
    cfg: SgdBayesConfig,
    ctx: RunContext,
    problem: Problem,
    spec: Any,
    prior_margins: Any,
    key: str,
) -> dict[str, float]:
    """Normalised margins of SGD's solutions (at the fit, and ``overtrain_epochs`` past it)
    against those of the accepted prior draws: medians (log10) and the fraction of SGD
    solutions below the accepted draws' 10th percentile."""
    hist = sorted((bin_centre(b), c) for (_, b), c in prior_margins.items())
    if not hist:
        return {}
    total = sum(c for _, c in hist)
    cum = np.cumsum([c for _, c in hist]) / total
    centres = np.array([v for v, _ in hist])
    p10 = float(centres[np.searchsorted(cum, 0.1)])
    p50 = float(centres[np.searchsorted(cum, 0.5)])
    out = {"margin_prior_median_log10": p50, "margin_prior_p10_log10": p10}
    for tag, eaf in (("fit", 0), ("overtrain", cfg.overtrain_epochs)):
        res = sgd_margins(
            problem.arch,
            problem.X_train,
            problem.y_train,
            problem.X_test,
            cfg.exact_margin_runs,
            dataclasses.replace(spec, epochs_after_fit=eaf),
            ctx.generator(f"exact margins {key} {tag}"),
        )
        lm = res.log10_margin[np.isfinite(res.log10_margin)]
        out[f"margin_sgd_{tag}_median_log10"] = float(np.median(lm)) if len(lm) else float("nan")
        out[f"margin_sgd_{tag}_below_prior_p10"] = (
            float((lm < p10).mean()) if len(lm) else float("nan")
        )
    return out


SUMMARY_KEYS = (
    "log_ps_rejection",
    "log_ps_ep",
    "n_accepted",
    "pearson_rej_ep",
    "spearman_rej_ep",
    "pearson_sgd_rej",
    "spearman_sgd_rej",
    "pearson_sgd_ep",
    "tv_sgd_rej",
    "tv_sgd_ep",
    "tv_rej_ep",
    "kl_sgd_rej",
    "top1_sgd",
    "top1_rej",
    "top1_ratio",
    "sgd_error",
    "gp_error",
    "control_pearson_sgd_rej",
    "control_pearson_rej_ep",
    "margin_spearman_overweight_margin",
    "overtrain_tv_sgd_rej",
    "margin_prior_median_log10",
    "margin_sgd_fit_median_log10",
    "margin_sgd_overtrain_median_log10",
    "margin_sgd_fit_below_prior_p10",
)


def mean_ci(
    values: list[float], rng: np.random.Generator, n_boot: int = 1000
) -> tuple[float, list[float] | None]:
    """Mean over replicates and a 95% percentile bootstrap interval of the mean."""
    a = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if len(a) == 0:
        return float("nan"), None
    if len(a) == 1:
        return float(a[0]), None
    means = rng.choice(a, size=(n_boot, len(a))).mean(axis=1)
    return float(a.mean()), [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def summarise_exact(
    rows: list[dict[str, Any]], pairs: list[tuple[str, str]], bins: list[str]
) -> dict[str, Any]:
    """``{dataset: {arch: summary}}``: the mean and interval over draws of every metric for
    the first binarisation at the top level, and per binarisation under ``by_binarization``."""
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {}

    def summary(sel: list[dict[str, Any]]) -> dict[str, Any]:
        s: dict[str, Any] = {"n_draws": len(sel), "n_prior": sel[0]["n_prior"] if sel else 0}
        for key in SUMMARY_KEYS:
            s[key], s[f"{key}_ci"] = mean_ci([row.get(key, float("nan")) for row in sel], rng)
        return s

    for d, a in pairs:
        per = {
            b: summary(
                [x for x in rows if (x["dataset"], x["arch"], x["binarization"]) == (d, a, b)]
            )
            for b in bins
        }
        out.setdefault(d, {})[a] = {**per[bins[0]], "binarization": bins[0], "by_binarization": per}
    return out


def run_sweep(
    cfg: SgdBayesConfig,
    ctx: RunContext,
    images: Images | None,
    exact_rows: list[dict[str, Any]],
    jobs: list[Job],
) -> list[dict[str, Any]]:
    """The |S| sweep on MNIST with the FCN: one row per |S| with means and intervals over
    the first ``sweep_replicates`` draws (each draw's training sets nested). At |S| =
    ``exact_n_train`` the row is the exact section's (with the exact P_B too)."""
    assert images is not None
    b = names(cfg.exact_binarizations)[0]
    k = cfg.exact_n_test
    rng = np.random.default_rng(1)
    out = []
    for n in cfg.sweep_n_train:
        per: list[dict[str, Any]] = []
        for r in range(min(cfg.sweep_replicates, cfg.exact_replicates)):
            if n == cfg.exact_n_train:
                per += [
                    {**x, "pb_source": "rejection"}
                    for x in exact_rows
                    if (x["dataset"], x["arch"], x["binarization"], x["draw"])
                    == ("mnist", "fcn", b, r)
                ]
                continue
            j = next(j for j in jobs if j.kind == "sweep" and j.n_train == n and j.draw == r)
            assert j.counts is not None
            with ctx.timed("sweep_ep"):
                ep = ep_side(j.problem, images, b, r, k, ctx, "sweep")
            s_vec = counts_vector(j.counts.counts, k)
            m = compare(s_vec, None, ep["log_ep"], cfg.min_hits, rng, 0)
            ctl = compare(s_vec, None, ep["log_ep_shuf"], cfg.min_hits, rng, 0)
            per.append(
                {
                    **m,
                    "log_ps_ep": ep["log_ps_ep"],
                    "sgd_error": sgd_error(j.counts, j.problem.y_test.numpy()),
                    "gp_error": ep["gp_error"],
                    "fraction_unfitted": j.counts.n_unfitted / max(j.counts.n_runs, 1),
                    "control_pearson_sgd_ep": ctl["pearson_sgd_ep"],
                    "pb_source": "EP",
                }
            )
        row: dict[str, Any] = {
            "n_train": n,
            "n_draws": len(per),
            "pb_source": per[0]["pb_source"] if per else "",
        }
        for name, key in (
            ("pearson_log", "pearson_sgd_ep"),
            ("tv", "tv_sgd_ep"),
            ("top1_ratio", "top1_ratio_ep"),
            ("sgd_error", "sgd_error"),
            ("gp_error", "gp_error"),
            ("fraction_unfitted", "fraction_unfitted"),
            ("control_pearson_log", "control_pearson_sgd_ep"),
            ("pearson_log_exact", "pearson_sgd_rej"),
            ("tv_exact", "tv_sgd_rej"),
        ):
            vals = [
                (p["top1_sgd"] / p["top1_ep"])
                if key == "top1_ratio_ep"
                else p.get(key, float("nan"))
                for p in per
            ]
            row[name], row[f"{name}_ci"] = mean_ci(vals, rng)
            row[f"{name}_per_draw"] = vals
        out.append(row)
    return out
