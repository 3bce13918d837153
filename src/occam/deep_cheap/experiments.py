"""deep-cheap experiments: pure functions of a config and generators to numbers.

No files, no figures: each function returns a small result holding its metrics, its table
rows and the arrays or objects a figure needs. The mathematics lives in :mod:`gates`,
:mod:`polynomial`, :mod:`depth` and :mod:`hamiltonian`; this module measures it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import torch

from occam.deep_cheap import bits as bt
from occam.deep_cheap import bumps as bm
from occam.deep_cheap import depth as dp
from occam.deep_cheap import gates as gt
from occam.deep_cheap import hamiltonian as hm
from occam.deep_cheap import polynomial as pl
from occam.deep_cheap import probe as pr
from occam.deep_cheap import taylor as tl
from occam.deep_cheap.config import (
    EXAMPLE_POLYNOMIAL,
    FIXED_SUITE,
    TAYLOR_SUITE,
    DeepCheapConfig,
)

T = TypeVar("T")
Progress = Callable[[Iterable[T], str], Iterable[T]]

Row = dict[str, Any]


def _no_progress(items: Iterable[T], _description: str) -> Iterable[T]:
    return items


@dataclass
class Measured:
    """What one experiment gives back: metrics, table rows, and what its figure needs."""

    metrics: dict[str, Any]
    tables: dict[str, list[Row]]
    figure: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def random_polynomial(
    generator: torch.Generator, max_vars: int, max_terms: int, max_degree: int
) -> str:
    """A random sparse polynomial string: 2..max_vars variables, 1..max_terms monomials."""

    def randint(lo: int, hi: int) -> int:  # inclusive
        return int(torch.randint(lo, hi + 1, (1,), generator=generator))

    n = randint(2, max_vars)
    parts = []
    for _ in range(randint(1, max_terms)):
        degree = randint(1, max_degree)
        factors = sorted(randint(1, n) for _ in range(degree))
        coeff = round(float(torch.rand(1, generator=generator)) * 4.0 - 2.0, 2) or 1.0
        monomial = "*".join(f"x{i}" for i in factors)
        parts.append(f"{coeff}*{monomial}")
    if float(torch.rand(1, generator=generator)) < 0.5:
        parts.append(f"{round(float(torch.rand(1, generator=generator)) * 2 - 1, 2)}")
    return " + ".join(parts).replace("+ -", "- ")


def _multiplications(terms: list[pl.Term]) -> int:
    return sum(max(sum(e) - 1, 0) for e, _ in terms)


def _depth_points(n: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` uniform points of [−1,1]^n plus min(2^n, 256) corners (the worst case)."""
    x = torch.rand(count, n, generator=generator, dtype=torch.float64) * 2.0 - 1.0
    if 2**n <= 256:
        corners = torch.cartesian_prod(*[torch.tensor([-1.0, 1.0], dtype=torch.float64)] * n)
    else:
        corners = torch.randint(0, 2, (256, n), generator=generator).double() * 2.0 - 1.0
    return torch.cat([x, corners.reshape(-1, n)])


def _max_err(net: torch.nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float((net(x).double() - x.prod(dim=1)).abs().max())


def _dtype(name: str) -> torch.dtype:
    return torch.float64 if name == "float64" else torch.float32


def _product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(1, n + 1))


def _shallow_prediction(act: str, n: int, config: DeepCheapConfig) -> float:
    """Leading error of eq. A4 at the corners: λ² n |σ^(n+2)(b) / (6 σ^(n)(b))| (derived)."""
    c = gt.taylor_coefficients(act, config.shallow_bias, n + 2)
    ratio = c[n + 2] * math.factorial(n + 2) / (c[n] * math.factorial(n))
    return float(config.depth_lam**2 * n * abs(ratio) / 6.0)


# --------------------------------------------------------------------------------------
# (1) Gates: LTR eq. 11, Fig. 2
# --------------------------------------------------------------------------------------


def gate_errors(config: DeepCheapConfig, act: str) -> Measured:
    """The product, squaring and copy gates' max errors against λ, float64 and float32."""
    biases = {name: gt.gate_bias(name) for name in gt.ACTIVATIONS}
    metrics: dict[str, Any] = {
        "gate_bias": biases,
        "copy_bias": {name: gt.copy_bias(name) for name in gt.ACTIVATIONS},
    }
    rows: list[Row] = []
    for name in gt.ACTIVATIONS:
        b = biases[name]
        s2 = gt.derivatives(name, b, 2)[2]
        for lam in config.gate_lams:
            err = gt.gate_error("product", name, lam, torch.float64, config.gate_grid)
            trunc, rnd = gt.predicted_gate_error(name, lam, torch.float64)
            rows.append(
                {
                    "activation": name,
                    "dtype": "float64",
                    "lam": lam,
                    "bias_b": b,
                    "sigma2_b": s2,
                    "max_error": err,
                    "predicted": trunc + rnd,
                }
            )
    scan = np.logspace(-4, 0, config.gate_scan)
    err64 = np.array(
        [gt.gate_error("product", act, lam, torch.float64, config.gate_grid) for lam in scan]
    )
    err32 = np.array(
        [gt.gate_error("product", act, lam, torch.float32, config.gate_grid) for lam in scan]
    )
    for lam, e32 in zip(scan, err32, strict=True):
        trunc, rnd = gt.predicted_gate_error(act, float(lam), torch.float32)
        rows.append(
            {
                "activation": act,
                "dtype": "float32",
                "lam": float(lam),
                "bias_b": biases[act],
                "sigma2_b": gt.derivatives(act, biases[act], 2)[2],
                "max_error": float(e32),
                "predicted": trunc + rnd,
            }
        )
    in_range = (scan >= config.slope_lam_min * 0.999) & (scan <= config.slope_lam_max * 1.001)
    slope = gt.fit_loglog_slope(scan[in_range], err64[in_range])
    square_slope = gt.fit_loglog_slope(
        scan[in_range],
        [
            gt.gate_error("square", act, float(lam), points=config.gate_grid)
            for lam in scan[in_range]
        ],
    )
    opt32 = float(scan[int(np.argmin(err32))])
    metrics["gates"] = {
        "activation": act,
        "slope_float64": slope,
        "square_slope_float64": square_slope,
        "error_lam_0.1": gt.gate_error("product", act, 0.1, torch.float64, config.gate_grid),
        "square_error_lam_0.1": gt.gate_error("square", act, 0.1, points=config.gate_grid),
        "copy_error_lam_0.1": gt.gate_error("copy", act, 0.1, points=config.gate_grid),
        "copy_error_lam_0.01": gt.gate_error("copy", act, 0.01, points=config.gate_grid),
        "float32_optimum_lam": opt32,
        "float32_optimum_error": float(err32.min()),
        "float32_predicted_optimum_lam": gt.predicted_optimal_lambda(act, torch.float32),
        "reference_float64": {
            str(r["lam"]): r["max_error"]
            for r in rows
            if r["activation"] == act and r["dtype"] == "float64"
        },
    }
    return Measured(
        metrics,
        {"gate_error_vs_lambda": rows},
        {"act": act, "scan": scan, "err64": err64, "err32": err32, "rows": rows},
    )


# --------------------------------------------------------------------------------------
# (2) Polynomial compiler: LTR Corollary, RT Thm II.1
# --------------------------------------------------------------------------------------


def polynomial_suite(config: DeepCheapConfig, generator: torch.Generator) -> list[str]:
    """The compiler's test suite: ``FIXED_SUITE`` and ``config.poly_random`` random
    polynomials drawn from ``generator`` (up to ``poly_max_vars`` variables,
    ``poly_max_terms`` terms, degree ``poly_max_degree``)."""
    return list(FIXED_SUITE) + [
        random_polynomial(
            generator, config.poly_max_vars, config.poly_max_terms, config.poly_max_degree
        )
        for _ in range(config.poly_random)
    ]


def compiler_suite(
    config: DeepCheapConfig,
    act: str,
    g_suite: torch.Generator,
    g_example: torch.Generator,
    progress: Progress[str] = _no_progress,
) -> Measured:
    """Compile the fixed and random suite; errors on [−1,1]^n and neuron counts."""
    dtype = _dtype(config.dtype)
    suite = polynomial_suite(config, g_suite)
    rows: list[Row] = []
    for i, expr in enumerate(progress(suite, "compiler suite")):
        net = pl.compile_polynomial(expr, act, dtype=dtype)
        net_sq = pl.compile_polynomial(expr, act, squaring=True, dtype=dtype)
        x = pl.cube_points(net.n_vars, config.poly_points, g_suite)
        mults = _multiplications(net.terms[0])
        ratios = [
            pl.count_neurons([(e, 1.0)], net.n_vars, squaring=True) / pl.rt_monomial_bound(e)
            for e, _ in net.terms[0]
            if sum(e) > 0
        ]
        rows.append(
            {
                "id": i,
                "polynomial": expr,
                "n_vars": net.n_vars,
                "degree": max((sum(e) for e, _ in net.terms[0]), default=0),
                "terms": len(net.terms[0]),
                "multiplications": mults,
                "neurons": net.neuron_count,
                "neurons_squaring": net_sq.neuron_count,
                "depth": net.depth,
                "lam": net.lam,
                "max_error": pl.polynomial_error(net, x),
                "predicted_error": net.predicted_error,
                "max_error_squaring": pl.polynomial_error(net_sq, x),
                "neurons_per_multiplication": net.neuron_count / mults if mults else None,
                "max_rt_ratio": max(ratios, default=0.0),
            }
        )
    example: dict[str, Any] = {}
    xe = pl.cube_points(4, config.poly_points, g_example)
    for lam in (0.1, 0.03):
        net = pl.compile_polynomial(EXAMPLE_POLYNOMIAL, act, lam, dtype=dtype)
        example[f"error_lam_{lam}"] = pl.polynomial_error(net, xe)
    example["neurons"] = rows[0]["neurons"]
    example["neurons_squaring"] = rows[0]["neurons_squaring"]
    example["error_auto_lam"] = rows[0]["max_error"]
    example["auto_lam"] = rows[0]["lam"]
    metrics = {
        "suite_size": len(rows),
        "max_error": max(max(r["max_error"], r["max_error_squaring"]) for r in rows),
        "max_neurons_per_multiplication": max(
            (r["neurons_per_multiplication"] or 0.0) for r in rows
        ),
        "max_rt_bound_ratio": max(r["max_rt_ratio"] for r in rows),
        "example_polynomial": example,
    }
    return Measured({"compiler": metrics}, {"polynomial_suite": rows})


# --------------------------------------------------------------------------------------
# (3a) Depth separation, constructive: LTR App. A, RT eq. 10
# --------------------------------------------------------------------------------------


def depth_constructions(
    config: DeepCheapConfig,
    act: str,
    generator: torch.Generator,
    progress: Progress[int] = _no_progress,
) -> Measured:
    """Neurons and max errors of x1⋯xn with 1, 2, 3 hidden layers and a binary tree."""
    rows: list[Row] = []
    for n in progress(range(2, config.depth_n_max + 1), "depth constructions"):
        x = _depth_points(n, config.depth_points, generator)
        k2, k3 = dp.rt_layer_groups(n, 2), dp.rt_layer_groups(n, 3)
        net2 = dp.LayeredProduct(k2, act, config.depth_lam, config.shallow_bias)
        net3 = dp.LayeredProduct(k3, act, config.depth_lam, config.shallow_bias)
        tree = pl.compile_polynomial(_product(n), act, config.depth_lam, skip=True)
        tree_copies = pl.compile_polynomial(_product(n), act, config.depth_lam)
        shallow_err = None
        if n <= config.shallow_eval_max_n:
            shallow_err = _max_err(
                dp.shallow_product(n, act, config.depth_lam, config.shallow_bias), x
            )
        rows.append(
            {
                "n": n,
                "shallow_neurons": 2**n,
                "shallow_lower_bound": math.comb(n, n // 2),
                "k2_neurons": net2.neuron_count,
                "k2_groups": str(k2),
                "k3_neurons": net3.neuron_count,
                "k3_groups": str(k3),
                "tree_neurons": tree.neuron_count,
                "tree_depth": tree.depth,
                "tree_neurons_with_copies": tree_copies.neuron_count,
                "shallow_error": shallow_err,
                "k2_error": _max_err(net2, x),
                "k3_error": _max_err(net3, x),
                "tree_error": _max_err(tree, x),
                "shallow_predicted_error": _shallow_prediction(act, n, config),
            }
        )
    last = rows[-1]
    metrics = {
        "n_max": last["n"],
        "shallow_neurons": last["shallow_neurons"],
        "tree_neurons": last["tree_neurons"],
        "k2_neurons": last["k2_neurons"],
        "k3_neurons": last["k3_neurons"],
        "tree_error": last["tree_error"],
        "shallow_error": {str(r["n"]): r["shallow_error"] for r in rows},
        "counts_match_formulas": all(
            r["shallow_neurons"] == 2 ** r["n"] and r["tree_neurons"] == 4 * (r["n"] - 1)
            for r in rows
        ),
    }
    return Measured({"depth_constructive": metrics}, {"depth_counts": rows}, {"rows": rows})


# --------------------------------------------------------------------------------------
# (3b) Depth separation, trained: RT §III A, Fig. 2
# --------------------------------------------------------------------------------------


def depth_separation_measure(
    minimal: dict[int, int | None], config: DeepCheapConfig
) -> tuple[float | None, str]:
    """Width steps between depth 1 and the deepest depth (None: neither reaches)."""
    widths = sorted(config.train_widths)
    k1, kmax = min(minimal), max(minimal)
    w1, wk = minimal[k1], minimal[kmax]
    if w1 is None and wk is None:
        return None, (
            f"no width up to {widths[-1]} reaches relative error "
            f"{config.error_threshold:g} at depth {k1} or {kmax}"
        )
    i1 = widths.index(w1) if w1 is not None else len(widths)
    ik = widths.index(wk) if wk is not None else len(widths)
    w1_text = str(w1) if w1 is not None else f"> {widths[-1]} (lower bound)"
    wk_text = str(wk) if wk is not None else f"> {widths[-1]}"
    return float(i1 - ik), f"minimal width: depth {k1} {w1_text}, depth {kmax} {wk_text}"


def _monotone(minimal: dict[int, int | None], widths: tuple[int, ...]) -> bool:
    big = 2 * max(widths)
    values = [big if w is None else w for _, w in sorted(minimal.items())]
    return all(b <= a for a, b in zip(values, values[1:], strict=False))


class CellStore(Protocol):
    """Finished cells of the trained grid, kept across an interrupted run (a checkpoint)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryCells:
    """A :class:`CellStore` that forgets everything when the run ends (the default)."""

    def __init__(self) -> None:
        self.cells: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.cells.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.cells[key] = value


def trained_depth_width(
    config: DeepCheapConfig,
    streams: Callable[[str, int], torch.Generator],
    cells: CellStore | None = None,
    progress: Progress[int] = _no_progress,
    *,
    n: int | None = None,
    depths: tuple[int, ...] | None = None,
    device: torch.device | str = "cpu",
    grid: str = "claim",
    activation: str | None = None,
    target: str = "product",
) -> list[Measured]:
    """Train tanh nets of every (depth, width) on x1⋯xn; minimal width reaching the threshold.

    Returns one result per replicate. Replicate r, restart j of depth k draws its
    initialisation and mini-batches from ``streams(f"depth{k}/restart{j}", r)`` and its test
    set from ``streams("test", r)``: the replicates are independent runs that only share
    the batched matrix products (one :class:`depth.BlockNets` per depth). One cell of
    ``cells`` is one depth (every width, replicate and restart) of the grid named ``grid``;
    a cell's numbers do not depend on which cells ran before it, so a run resumed from
    ``cells`` gives the same numbers as one that was never interrupted.

    ``activation`` (default ``config.train_activation``) and ``target`` (``"product"``, or
    ``"sum"`` for the additive control) choose the variant; ``grid`` must name it.
    """
    store: CellStore = cells if cells is not None else MemoryCells()
    act = config.train_activation if activation is None else activation
    n = config.train_n if n is None else n
    depths = config.train_depths if depths is None else depths
    reps, restarts = config.replicates, config.train_seeds
    tests = [
        dp.sample_product(
            config.train_test, n, config.train_low, config.train_high, streams("test", r), target
        )
        for r in range(reps)
    ]
    test_x = torch.stack([tests[r][0] for r in range(reps) for _ in range(restarts)])
    test_y = torch.stack([tests[r][1] for r in range(reps) for _ in range(restarts)])
    per_depth: list[tuple[int, np.ndarray, np.ndarray]] = []
    for k in progress(depths, f"training nets per depth (n = {n})"):
        key = f"{grid}/n={n}/depth={k}"
        done = store.get(key)
        if done is None:
            r = dp.train_product_nets(
                n,
                k,
                config.train_widths,
                steps=config.train_steps,
                batch=config.train_batch,
                lr=config.train_lr,
                low=config.train_low,
                high=config.train_high,
                optimizer=config.train_optimizer,
                test_x=test_x,
                test_y=test_y,
                generators=[
                    streams(f"depth{k}/restart{j}", rep)
                    for rep in range(reps)
                    for j in range(restarts)
                ],
                device=device,
                activation=act,
                target=target,
            )
            done = {"errors": r.errors.tolist(), "final_loss": r.final_loss.tolist()}
            store.put(key, done)
        shape = (reps, restarts, len(config.train_widths))
        per_depth.append(
            (
                k,
                np.asarray(done["errors"], dtype=np.float64).reshape(shape),
                np.asarray(done["final_loss"], dtype=np.float64).reshape(shape),
            )
        )
    return [
        _trained_summary(
            config,
            n,
            [dp.TrainResult(k, list(config.train_widths), e[r], f[r]) for k, e, f in per_depth],
        )
        for r in range(reps)
    ]


def _trained_summary(config: DeepCheapConfig, n: int, results: list[dp.TrainResult]) -> Measured:
    """Tables and metrics of one replicate's grid (``errors[restart, width]`` per depth)."""
    errors = [
        {
            "depth": r.depth,
            "width": w,
            "restart": s,
            "relative_error": float(r.errors[s, j]),
            "final_train_loss": float(r.final_loss[s, j]),
            "rt_curve_width": dp.rt_width_curve(n, r.depth),
        }
        for r in results
        for j, w in enumerate(r.widths)
        for s in range(r.errors.shape[0])
    ]
    minimal = dp.minimal_widths(results, config.error_threshold)
    minimal_rows = [
        {
            "depth": k,
            "minimal_width": w,
            "reached": w is not None,
            "lower_bound": None if w is not None else f"> {max(config.train_widths)}",
            "best_error_at_widest": float(r.errors.min(axis=0)[-1]),
            "rt_curve_width": dp.rt_width_curve(n, k),
        }
        for r, (k, w) in zip(results, minimal.items(), strict=True)
    ]
    steps_between, detail = depth_separation_measure(minimal, config)
    reached = [w for w in minimal.values() if w is not None]
    metrics = {
        "n": n,
        "threshold": config.error_threshold,
        "minimal_width": {str(k): w for k, w in minimal.items()},
        "best_error": {str(r.depth): [float(e) for e in r.errors.min(axis=0)] for r in results},
        "widths": list(config.train_widths),
        "width_steps_saved_by_depth": steps_between,
        "monotone_non_increasing": _monotone(minimal, config.train_widths),
        "any_reached": bool(reached),
    }
    return Measured(
        {"depth_trained": metrics},
        {"trained_errors": errors, "trained_minimal_widths": minimal_rows},
        {"results": results, "minimal": minimal, "detail": detail},
    )


# --------------------------------------------------------------------------------------
# (4) Hamiltonian → softmax: LTR eq. 8, 14
# --------------------------------------------------------------------------------------


def hamiltonian_classifier(
    config: DeepCheapConfig, act: str, generator: torch.Generator
) -> Measured:
    """Gate networks of fitted Gaussian Hamiltonians vs the Bayes posterior and a logistic fit.

    One call is one replicate: a fresh random class model with unequal covariances, its
    samples, the network of the Hamiltonians fitted to them (maximum likelihood) and a
    logistic regression; then the two controls: the same classes with a shared covariance
    (logistic regression is exact there) and with each class split into a two-component
    mixture (no quadratic Hamiltonian is exact there). KLs are also given in units of p/n,
    the scale of a well-specified fit's estimation error (expected KL ≤ p/2n).
    """
    dtype = _dtype(config.dtype)
    k, d, n = config.ham_classes, config.ham_dims, config.ham_train
    p_net, p_logistic = hm.parameter_count(k, d), (k - 1) * (d + 1)
    model = hm.make_gaussian_classes(k, d, generator)
    x_train, y_train = model.sample(n, generator)
    x_test, y_test = model.sample(config.ham_test, generator)

    def fitted_network(x: torch.Tensor, y: torch.Tensor) -> hm.HamiltonianNetwork:
        centre = x.mean(dim=0)
        scale = float((x - centre).abs().max())
        return hm.HamiltonianNetwork(
            hm.fit_gaussian_classes(x, y, k), centre, scale, act, dtype=dtype
        )

    net_h = fitted_network(x_train, y_train)
    logistic = hm.fit_logistic_regression(x_train, y_train, k)
    with torch.no_grad():
        log_bayes = hm.bayes_log_posterior(model, x_test)
        log_net = net_h(x_test).double()
        log_formula = hm.bayes_log_posterior(net_h.classes, x_test)
        log_logistic = torch.log_softmax(logistic(x_test), dim=1)
    kl_net = hm.mean_kl(log_bayes, log_net)
    kl_logistic = hm.mean_kl(log_bayes, log_logistic)

    shared = hm.shared_covariance(model)
    xs, ys = shared.sample(n, generator)
    xs_test, _ = shared.sample(config.ham_test, generator)
    logistic_shared = hm.fit_logistic_regression(xs, ys, k)
    with torch.no_grad():
        kl_logistic_shared = hm.mean_kl(
            hm.bayes_log_posterior(shared, xs_test), torch.log_softmax(logistic_shared(xs_test), 1)
        )
    mixture = hm.make_mixture_classes(model, MIXTURE_SEPARATION, generator)
    xm, ym = mixture.sample(n, generator)
    xm_test, _ = mixture.sample(config.ham_test, generator)
    with torch.no_grad():
        kl_net_mixture = hm.mean_kl(
            mixture.log_posterior(xm_test), fitted_network(xm, ym)(xm_test).double()
        )

    bayes_pred = log_bayes.argmax(dim=1)
    acc = {
        name: float((lp.argmax(dim=1) == y_test).double().mean())
        for name, lp in (("bayes", log_bayes), ("network", log_net), ("logistic", log_logistic))
    }
    metrics = {
        "classes": k,
        "dims": d,
        "train": n,
        "neurons": net_h.neuron_count,
        "lam": net_h.hamiltonian.lam,
        "kl_network": kl_net,
        "kl_network_to_its_formula": hm.mean_kl(log_formula, log_net),
        "kl_logistic": kl_logistic,
        "kl_logistic_shared_covariance": kl_logistic_shared,
        "kl_network_mixture": kl_net_mixture,
        "kl_scale_network": p_net / n,
        "kl_scale_logistic": p_logistic / n,
        "network_kl_units": kl_net / (p_net / n),
        "logistic_kl_units": kl_logistic / (p_logistic / n),
        "mixture_network_kl_units": kl_net_mixture / (p_net / n),
        "shared_logistic_kl_units": kl_logistic_shared / (p_logistic / n),
        "argmax_agreement": float((log_net.argmax(dim=1) == bayes_pred).double().mean()),
        "logistic_agreement": float((log_logistic.argmax(dim=1) == bayes_pred).double().mean()),
        "accuracy": acc,
    }
    rows = [
        {"model": name, "mean_kl_to_bayes": kl, "accuracy": acc[name], "neurons": neurons}
        for name, kl, neurons in (
            ("bayes", 0.0, None),
            ("network", kl_net, net_h.neuron_count),
            ("logistic", kl_logistic, 0),
        )
    ]
    figure = {
        "model": model,
        "net": net_h,
        "logistic": logistic,
        "x": x_test,
        "y": y_test,
        "log_bayes": log_bayes,
        "log_net": log_net,
        "log_logistic": log_logistic,
    }
    return Measured({"hamiltonian": metrics}, {"hamiltonian": rows}, figure)


# --------------------------------------------------------------------------------------
# Replicated measurements behind the claims (one call = one replicate)
# --------------------------------------------------------------------------------------

PRACTICAL_LAM = 0.1  # LTR §II C.1: "reasonably good … already for λ^{-1} ∼ 10"
MIXTURE_SEPARATION = 2.0  # half-distance of a mixture class's two components (control)
F64 = torch.float64


def _gate_max_error(kind: str, act: str, lam: float, dtype: torch.dtype, x: torch.Tensor) -> float:
    """Max |gate − exact| over the rows of x; inputs rounded to ``dtype`` first."""
    xr = x.to(dtype)
    with torch.no_grad():
        if kind == "product":
            got = gt.MultiplicationGate(act, lam, dtype)(xr)
            exact = xr[:, 0].double() * xr[:, 1].double()
        else:
            got = gt.SquaringGate(act, lam, dtype)(xr)
            exact = xr.double() ** 2
    return float((got.double() - exact).abs().max())


def gate_replicate(
    config: DeepCheapConfig, act: str, generator: torch.Generator
) -> dict[str, float]:
    """The gate claims and their controls on fresh uniform points of [−1,1]² and [−1,1].

    ``gate_grid``² points for the product gate, ``gate_grid`` for the squaring gate.
    """
    x2 = torch.rand(config.gate_grid**2, 2, generator=generator, dtype=F64) * 2.0 - 1.0
    x1 = torch.rand(config.gate_grid, generator=generator, dtype=F64) * 2.0 - 1.0
    scan = np.logspace(-4, 0, config.gate_scan)
    err = {
        name: np.array([_gate_max_error("product", act, float(lam), dt, x2) for lam in scan])
        for name, dt in (("float64", torch.float64), ("float32", torch.float32))
    }
    fit = (scan >= config.slope_lam_min * 0.999) & (scan <= config.slope_lam_max * 1.001)
    square = _gate_max_error("square", act, PRACTICAL_LAM, F64, x1)
    # RT's printed factor 1/(2σ''(0)) halves the corrected gate: it computes x²/2.
    with torch.no_grad():
        half = gt.SquaringGate(act, PRACTICAL_LAM, F64)(x1) / 2.0
    return {
        "slope_float64": gt.fit_loglog_slope(scan[fit], err["float64"][fit]),
        "slope_float32": gt.fit_loglog_slope(scan[fit], err["float32"][fit]),
        "error_practical": _gate_max_error("product", act, PRACTICAL_LAM, F64, x2),
        "error_lam_1": _gate_max_error("product", act, 1.0, F64, x2),
        "optimum_float32": float(scan[int(np.argmin(err["float32"]))]),
        "optimum_float64": float(scan[int(np.argmin(err["float64"]))]),
        "square_error": square,
        "square_error_printed_factor": float((half - x1**2).abs().max()),
    }


def compiler_replicate(
    config: DeepCheapConfig, act: str, generator: torch.Generator
) -> tuple[dict[str, float], list[Row]]:
    """Compiled error at λ = 0.1 over predicted, on the cube and on [−1.5, 1.5]^n (control).

    Suite: the fixed suite plus ``poly_random`` fresh random polynomials; the prediction is
    the network's own gate-error sum (:func:`polynomial.choose_lambda`'s model) at λ = 0.1.
    """
    dtype = _dtype(config.dtype)
    suite = polynomial_suite(config, generator)
    rows: list[Row] = []
    for expr in suite:
        net = pl.compile_polynomial(expr, act, PRACTICAL_LAM, dtype=dtype)
        x = pl.cube_points(net.n_vars, config.poly_points, generator)
        rows.append(
            {
                "polynomial": expr,
                "neurons": net.neuron_count,
                "error_practical": pl.polynomial_error(net, x),
                "predicted_practical": net.predicted_error,
                "error_outside_cube": pl.polynomial_error(net, 1.5 * x),
            }
        )
    gated = [r for r in rows if r["predicted_practical"] > 0]  # affine ones are exact
    return {
        "ratio": max(r["error_practical"] / r["predicted_practical"] for r in gated),
        "ratio_outside_cube": max(
            r["error_outside_cube"] / r["predicted_practical"] for r in gated
        ),
    }, rows


def random_monomial(
    generator: torch.Generator, max_vars: int, max_power: int, max_degree: int
) -> tuple[int, ...]:
    """Exponents (r_1, …, r_n): 1 ≤ n ≤ max_vars, 1 ≤ r_i ≤ max_power, Σ r_i ≤ max_degree.

    Powers are drawn uniformly, then the largest is lowered until the degree fits.
    """
    n = int(torch.randint(1, max_vars + 1, (1,), generator=generator))
    exps = [int(r) for r in torch.randint(1, max_power + 1, (n,), generator=generator)]
    while sum(exps) > max(max_degree, n):
        exps[exps.index(max(exps))] -= 1
    return tuple(exps)


def _least_squares_error(
    features: torch.Tensor, y: torch.Tensor, fit: slice, score: slice
) -> float:
    """Max |Hc − y| on rows ``score`` with c the least-squares fit (plus a bias) on ``fit``."""
    h = torch.cat([features, torch.ones(features.shape[0], 1, dtype=F64)], dim=1).numpy()
    scale = np.abs(h).max(axis=0)
    coef, *_ = np.linalg.lstsq(h[fit] / scale, y.numpy()[fit], rcond=None)
    return float(np.abs((h[score] / scale) @ coef - y.numpy()[score]).max())


def monomial_replicate(
    config: DeepCheapConfig, act: str, generator: torch.Generator
) -> tuple[dict[str, float], list[Row]]:
    """RT Thm II.1's shallow count: the error slope with ∏(r_i+1) neurons and with one fewer.

    Degrees stay ≤ ``mono_max_degree`` (6): in float64 the output sums ∏(r_i+1) terms of
    size ~σ(b)/(σ_N λ^N), so at N = 8 and λ = 0.05 the round-off (~1e-2, measured: x1³x2²x3³
    gave slope 1.16) swamps the λ² truncation; every N ≤ 6 monomial measured had slope ≥ 1.94.

    The control keeps the construction's hidden neurons but one (the node t = (1, …, 1))
    and gives the output layer every advantage: weights and a bias fitted by least
    squares on the very points it is scored on.
    """
    lams = [0.2, 0.1, 0.05]
    rows: list[Row] = []
    for _ in range(config.mono_count):
        exps = random_monomial(
            generator, config.mono_max_vars, config.mono_max_power, config.mono_max_degree
        )
        x = pl.cube_points(len(exps), config.mono_points, generator)
        y = (x ** torch.tensor(exps, dtype=F64)).prod(dim=1)
        full, fewer = [], []
        for lam in lams:
            net = dp.ShallowMonomial(exps, act, lam, config.shallow_bias)
            with torch.no_grad():
                full.append(float((net(x) - y).abs().max()))
                h = net.hidden(x)
            everything = slice(None)
            fewer.append(_least_squares_error(h[:, :-1], y, everything, everything))
        rows.append(
            {
                "exponents": "x^" + str(exps).replace(" ", ""),
                "neurons": math.prod(r + 1 for r in exps),
                "slope": gt.fit_loglog_slope(lams, full),
                "error_lam_0.1": full[1],
                "slope_one_fewer": gt.fit_loglog_slope(lams, fewer),
                "error_one_fewer_lam_0.1": fewer[1],
            }
        )
    return {
        "min_slope": min(r["slope"] for r in rows),
        "min_slope_one_fewer": min(r["slope_one_fewer"] for r in rows),
    }, rows


def power_replicate(
    config: DeepCheapConfig, act: str, generator: torch.Generator
) -> tuple[dict[str, float], list[Row]]:
    """RT Prop. II.6, m₁(x^d) = d + 1: error slopes of x^d with d + 1 and with d neurons.

    d + 1 neurons: :class:`depth.ShallowMonomial` for (d,), the nodes t = −1, …, 1 with
    Vandermonde output weights (error O(λ²), λ = 0.2, 0.1, 0.05). d neurons: the same
    hidden layer without the node t = 1, output weights and a bias by least squares on the
    scored points (every advantage). Test points: ``mono_points`` in [−1, 1] plus ±1.
    d ≤ 5 (the knob's range): x^6 measured 1.2e-2, 3.2e-3, 1.9e-2 at λ = 0.2, 0.1, 0.05,
    float64 round-off on output weights ~1/(σ_6 λ^6 6!) overtaking the λ² truncation.
    """
    lams = [0.2, 0.1, 0.05]
    x = pl.cube_points(1, config.mono_points, generator)
    rows: list[Row] = []
    for d in config.taylor_powers:
        y = x[:, 0] ** d
        full, fewer = [], []
        for lam in lams:
            net = dp.ShallowMonomial((d,), act, lam, config.shallow_bias)
            with torch.no_grad():
                full.append(float((net(x) - y).abs().max()))
                h = net.hidden(x)
            everything = slice(None)
            fewer.append(_least_squares_error(h[:, :-1], y, everything, everything))
        rows.append(
            {
                "d": d,
                "neurons": d + 1,
                "errors": full,
                "errors_d_neurons": fewer,
                "slope": gt.fit_loglog_slope(lams, full),
                "slope_d_neurons": gt.fit_loglog_slope(lams, fewer),
                "error_lam_0.1": full[1],
            }
        )
    return {
        "min_slope": min(r["slope"] for r in rows),
        "min_slope_d_neurons": min(r["slope_d_neurons"] for r in rows),
        "lams": lams,  # type: ignore[dict-item]
    }, rows


def taylor_replicate(config: DeepCheapConfig, generator: torch.Generator) -> dict[str, Any]:
    """RT Prop. II.6 as Taylor matching: x^d with d neurons against the floor 1/√C(2d, d).

    For every d of ``taylor_powers``: the best residual ρ (:func:`taylor.fit_taylor_residual`,
    ``taylor_restarts`` restarts of ``taylor_steps`` Adam steps, |a| ≤ 1) with d neurons and
    with d + 1, each over the floor. Returns the minima over d of both ratios and the rows.
    """
    rows = []
    for d in config.taylor_powers:
        fits = [
            tl.fit_taylor_residual(
                (d,),
                m,
                restarts=config.taylor_restarts,
                steps=config.taylor_steps,
                generator=generator,
            )
            for m in (d, d + 1)
        ]
        floor = tl.power_floor(d)
        rows.append(
            {
                "d": d,
                "floor": floor,
                "residual_d_neurons": fits[0].residual,
                "residual_d_plus_1": fits[1].residual,
                "ratio_d_neurons": fits[0].residual / floor,
                "ratio_d_plus_1": fits[1].residual / floor,
            }
        )
    return {
        "min_ratio": min(r["ratio_d_neurons"] for r in rows),
        "min_ratio_d_plus_1": min(r["ratio_d_plus_1"] for r in rows),
        "rows": rows,
    }


def taylor_multivariate(config: DeepCheapConfig, generator: torch.Generator) -> list[Row]:
    """The same fit for the multivariate suite at m₁ − 1 and m₁ = ∏(r_i + 1) neurons.

    m₁ − 1 is fitted at two budgets (``taylor_steps`` and 4×) to show whether the best
    residual has settled: RT's count is about exact matching, and the infimum over bounded
    input weights with free output weights need not be attained (module doc of taylor.py).
    """
    rows: list[Row] = []
    for exps in TAYLOR_SUITE:
        m1 = tl.shallow_count(exps)
        short, long_, full = (
            tl.fit_taylor_residual(
                exps, m, restarts=config.taylor_restarts, steps=steps, generator=generator
            )
            for m, steps in (
                (m1 - 1, config.taylor_steps),
                (m1 - 1, 4 * config.taylor_steps),
                (m1, config.taylor_steps),
            )
        )
        rows.append(
            {
                "monomial": _monomial_name(exps),
                "m1": m1,
                "residual_m1_minus_1": short.residual,
                "residual_m1_minus_1_4x_steps": long_.residual,
                "residual_m1": full.residual,
            }
        )
    return rows


def _monomial_name(exps: tuple[int, ...]) -> str:
    if len(exps) == 1:
        return f"x^{exps[0]}"
    return "".join(f"x{i + 1}" + (f"^{r}" if r > 1 else "") for i, r in enumerate(exps))


def rt_curve_fit(
    minimal: dict[int, int | None], n: int, widths: tuple[int, ...]
) -> tuple[float | None, list[Row]]:
    """Minimal widths against RT Thm III.1's n^{(k−1)/k}·2^{n^{1/k}} over the depths k.

    Per depth: the minimal width (one not reached is censored at twice the widest, a lower
    bound), the curve and their ratio; the slope of log2(minimal width) on log2(curve) by
    least squares over the depths (1: the widths follow the curve up to a constant factor;
    0: depth does not matter). None (unmeasured) unless at least two depths reached the
    threshold (with fewer, the slope would be set by the censoring value, not by measured
    widths) and the curve is not flat.
    """
    big = 2 * max(widths)
    rows = []
    for k, w in sorted(minimal.items()):
        curve = dp.rt_width_curve(n, k)
        width = big if w is None else w
        rows.append(
            {
                "depth": k,
                "minimal_width": w,
                "censored": w is None,
                "rt_curve": curve,
                "ratio": width / curve,
            }
        )
    xs = np.log2([dp.rt_width_curve(n, k) for k in sorted(minimal)])
    ys = np.log2([float(big if w is None else w) for _, w in sorted(minimal.items())])
    if sum(w is not None for w in minimal.values()) < 2 or float(np.ptp(xs)) < 1e-9:
        return None, rows
    dx, dy = xs - xs.mean(), ys - ys.mean()  # equal widths give exactly 0
    return float((dx * dy).sum() / (dx * dx).sum()), rows


def tree_replicate(
    config: DeepCheapConfig, act: str, generator: torch.Generator
) -> dict[str, float]:
    """x1⋯xn (n = depth_n_max): the tree's error over its predicted, and one layer's."""
    n = config.depth_n_max
    x = _depth_points(n, config.depth_points, generator)
    tree = pl.compile_polynomial(_product(n), act, config.depth_lam, skip=True)
    signs = torch.randint(0, 2, (tree.neuron_count, n), generator=generator).double() * 2 - 1
    h = gt.get_activation(act).fn(config.shallow_bias + config.depth_lam * x @ signs.T)
    return {
        "neurons": float(tree.neuron_count),
        "predicted": tree.predicted_error,
        "ratio": _max_err(tree, x) / tree.predicted_error,
        "ratio_one_layer": _least_squares_error(
            h, x.prod(dim=1), slice(0, None, 2), slice(1, None, 2)
        )
        / tree.predicted_error,
    }


# --------------------------------------------------------------------------------------
# (5) Open question: do trained nets compute products with gates? (probe.py)
# --------------------------------------------------------------------------------------

Streams = Callable[[str, int], torch.Generator]


def probe_experiment(config: DeepCheapConfig, act: str, streams: Streams) -> Measured:
    """Train every (target, depth, width, replicate) net; the gate detector on each.

    Per replicate: the fraction of fitted product-target nets that are gate-like, the same
    for the x1 + x2 control target, and for LTR's compiled constructions (the claims'
    control). Also the smallest fitted width per (target, depth) against the construction.
    """
    targets = [*pr.TARGETS, pr.CONTROL_TARGET]
    rows: list[Row] = []
    for depth in config.probe_depths:
        for width in config.probe_widths:
            rows += pr.train_targets(
                targets,
                depth,
                width,
                streams,
                config.replicates,
                steps=config.probe_steps,
                batch=config.probe_batch,
                lr=config.probe_lr,
                test=config.probe_test,
                activation=act,
            )
    compiled: list[Row] = []
    for t in pr.TARGETS:
        need = 4 if len(t.monomial) == 2 else 2 ** len(t.monomial)
        for width in (w for w in config.probe_widths if w >= need):
            for r in range(config.replicates):
                rep = pr.compiled_report(t, width, streams, r, config.probe_test, act)
                compiled.append({"target": t.name, "width": width, "replicate": r, **rep})
    product_names = {t.name for t in pr.TARGETS}

    def fraction(subset: list[Row]) -> float | None:
        fitted = [x for x in subset if x["fitted"]]
        return sum(bool(x["gate_like"]) for x in fitted) / len(fitted) if fitted else None

    per_rep = []
    for r in range(config.replicates):
        mine = [x for x in rows if x["replicate"] == r]
        per_rep.append(
            {
                "gate_like_fraction": fraction([x for x in mine if x["target"] in product_names]),
                "control_target_fraction": fraction(
                    [x for x in mine if x["target"] == pr.CONTROL_TARGET.name]
                ),
                "compiled_fraction": fraction([x for x in compiled if x["replicate"] == r]),
                "fitted": sum(bool(x["fitted"]) for x in mine if x["target"] in product_names),
                "nets": sum(x["target"] in product_names for x in mine),
            }
        )
    summary: list[Row] = []
    for t in targets:
        for depth in config.probe_depths:
            for width in config.probe_widths:
                cell = [
                    x
                    for x in rows
                    if x["target"] == t.name and x["depth"] == depth and x["width"] == width
                ]
                fitted = [x for x in cell if x["fitted"]]
                summary.append(
                    {
                        "target": t.name,
                        "depth": depth,
                        "width": width,
                        "neurons": depth * width,
                        "fitted": len(fitted),
                        "nets": len(cell),
                        "gate_like": sum(bool(x["gate_like"]) for x in fitted),
                        "mean_line_share": float(np.mean([x["line_share"] for x in cell])),
                        "mean_operating_range": float(
                            np.mean([x["operating_range"] for x in cell])
                        ),
                    }
                )
    construction = {"x1*x2": 4, "x1*x2*x3*x4": 16, "gauss_logposterior": 4, "x1+x2": 0}
    smallest = {
        f"{t.name}/depth{d}": min(
            (
                s["neurons"]
                for s in summary
                if s["target"] == t.name and s["depth"] == d and s["fitted"] == s["nets"]
            ),
            default=None,
        )
        for t in targets
        for d in config.probe_depths
    }
    metrics = {
        "replicates": per_rep,
        "smallest_fitted_neurons": smallest,
        "construction_neurons": construction,
        "tree_neurons_x1x2x3x4": 12,
    }
    return Measured(
        {"probe": metrics},
        {"probe_nets": rows, "probe_summary": summary, "probe_compiled": compiled},
        {"summary": summary, "depths": config.probe_depths},
    )


# --------------------------------------------------------------------------------------
# (6) Open question: functions that vanish far away (bumps.py)
# --------------------------------------------------------------------------------------


def bump_experiment(config: DeepCheapConfig, act: str, streams: Streams) -> Measured:
    """Compiled Taylor networks and trained nets on [−R,R]^2 for every R; per replicate the
    ratio compiled / trained neurons at the largest R for the bump and for x1·x2 (control).
    """
    targets = [*bm.BUMP_TARGETS, bm.POLYNOMIAL_CONTROL]
    u = bm.unit_points(config.bump_test, streams("bump/compiled", 0))
    compiled = [
        {
            "target": t.name,
            "radius": rad,
            **bm.compiled_taylor(t, rad, u, config.bump_max_degree, act),
        }
        for t in targets
        for rad in config.bump_radii
    ]
    trained = bm.trained_minimal_widths(
        targets,
        config.bump_radii,
        config.bump_widths,
        streams,
        config.replicates,
        depth=config.bump_depth,
        steps=config.bump_steps,
        batch=config.probe_batch,
        lr=config.bump_lr,
        test=config.bump_test,
        activation=act,
    )
    r_max = max(config.bump_radii)

    def ratio(name: str, r: int) -> float | None:
        w = bm.minimal_width(trained, name, r_max, r)
        c = next(x for x in compiled if x["target"] == name and x["radius"] == r_max)
        return None if w is None else int(c["neurons"] or 0) / (w * config.bump_depth)

    per_rep = [
        {"bump_ratio": ratio("bump", r), "control_ratio": ratio(POLY_CONTROL, r)}
        for r in range(config.replicates)
    ]
    table: list[Row] = []
    for t in targets:
        for rad in config.bump_radii:
            c = next(x for x in compiled if x["target"] == t.name and x["radius"] == rad)
            widths = [bm.minimal_width(trained, t.name, rad, r) for r in range(config.replicates)]
            reached = [w * config.bump_depth for w in widths if w is not None]
            table.append(
                {
                    "target": t.name,
                    "radius": rad,
                    "compiled_degree": c["degree"],
                    "compiled_neurons": c["neurons"],
                    "compiled_lower_bound": c["neurons_lower_bound"],
                    "compiled_error": c["network_error"],
                    "trained_neurons_median": float(np.median(reached)) if reached else None,
                    "trained_reached": len(reached),
                }
            )
    stops = {
        t.name: next(
            (
                row["radius"]
                for row in table
                if row["target"] == t.name
                and row["trained_neurons_median"] is not None
                and row["compiled_neurons"] > row["trained_neurons_median"]
            ),
            None,
        )
        for t in targets
    }
    metrics = {"replicates": per_rep, "r_max": r_max, "compiled_exceeds_trained_from_R": stops}
    return Measured(
        {"bumps": metrics},
        {"bump_compiled_vs_trained": table, "bump_trained": trained},
        {"table": table, "depth": config.bump_depth},
    )


POLY_CONTROL = "x1*x2"


# --------------------------------------------------------------------------------------
# (7) Binary inputs: LTR eq. 13 (bits.py)
# --------------------------------------------------------------------------------------


def bit_replicate(config: DeepCheapConfig, generator: torch.Generator) -> dict[str, float]:
    """A random posterior over n-bit strings (log-probabilities of Dirichlet-ish classes) as
    the 3-layer eq. 13 network: error in units of 10^-D Σ|c_K|, at 2D ln 10 and D ln 10.
    """
    n, k, d = config.bit_n, config.bit_classes, config.bit_decimals
    joint = torch.rand(2**n, k, generator=generator, dtype=F64) + 0.05
    table = torch.log(joint / joint.sum(dim=1, keepdim=True))  # ln p(y|x) per string
    out: dict[str, float] = {}
    for name, printed in (("derived", False), ("printed", True)):
        beta = bt.beta_for_decimals(d, printed)
        net, exact, scale, neurons = bt.bit_network(table, beta)
        out[f"error_units_{name}"] = float((net - exact).abs().max() / scale) / 10.0**-d
        posterior = torch.softmax(net, dim=1)
        out[f"posterior_error_{name}"] = float((posterior - torch.exp(table)).abs().max())
        out["neurons"] = float(neurons)
        out[f"beta_{name}"] = beta
    return out


def bit_scan(config: DeepCheapConfig) -> Measured:
    """The neuron's max error over all strings and every subset against β (the figure)."""
    n = min(config.bit_n, 8)
    x = bt.all_bit_strings(n)
    subsets = bt.all_bit_strings(n)[1:]
    exact = torch.stack([(x[:, s.bool()]).prod(dim=1) for s in subsets], dim=1)
    betas = np.linspace(2.0, 80.0, 40)
    errors = [float((bt.bit_product(x, subsets, float(b)) - exact).abs().max()) for b in betas]
    return Measured(
        {"bits": {"n_scan": n}},
        {
            "bit_error_vs_beta": [
                {"beta": float(b), "max_error": e} for b, e in zip(betas, errors, strict=True)
            ]
        },
        {"betas": betas, "errors": errors, "decimals": config.bit_decimals},
    )
