"""Where SGD's solutions sit in the zero-training-error region, against the exact posterior.

SGD stops at its first epoch with 100% training accuracy, so it stops near the edge of the
region of parameters that fit S; rejection sampling draws from the whole region, weighted by
the prior. The normalised margin on S,

    gamma = min_i y_i f(x_i) / ||theta||_2^D   (D weight layers; :mod:`prior`),

measures how far inside the region a net is. :func:`sgd_margins` trains FCNs exactly as the
study's trainer does when the whole of S fits in one minibatch (full-batch SGD from
``arch.init_stacked``, stopping rule of :func:`occam.nets.ensemble.train_ensemble`, including
``epochs_after_fit``) and returns each net's function on E *and* its margin, which the
trainer does not expose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from occam.nets.ensemble import StackedMLP, TrainSpec, bits_to_strings
from occam.sgd_bayes.arch import FCNArch
from occam.sgd_bayes.prior import weight_layers


@dataclass
class SgdMargins:
    """functions: '0'/'1' strings on E of the fitted nets; log10_margin: (n_fitted,), NaN
    for a net that no longer fits S when read (possible after ``epochs_after_fit``, as in
    the trainer); n_unfitted: nets that never fitted S within ``max_epochs``."""

    functions: list[str]
    log10_margin: np.ndarray
    n_unfitted: int


def sgd_margins(
    arch: FCNArch,
    X: Tensor,
    y: Tensor,
    X_test: Tensor,
    n_nets: int,
    spec: TrainSpec,
    generator: torch.Generator,
) -> SgdMargins:
    """Train ``n_nets`` FCNs by full-batch SGD (``spec.batch_size >= len(X)``); read each
    net's function on E and normalised margin on S when the trainer would record it.

    X (m, d), y (m,) in {0, 1}, X_test (k, d). Nets keep stepping after they are recorded
    (their recorded values are kept), which leaves every net's trajectory its own.
    """
    if spec.optimizer != "sgd" or spec.batch_size < len(X) or spec.loss != "ce":
        raise ValueError("sgd_margins: plain SGD, cross-entropy, batch_size >= |S| only")
    template = arch.build(torch.Generator())
    layers = StackedMLP.layer_names(template)
    if layers is None:
        raise ValueError("sgd_margins: arch must be a ReLU MLP with one output")
    net = StackedMLP(arch.init_stacked(n_nets, generator), layers, "cpu")
    params = net.params
    m = len(X)
    idx = torch.arange(m).expand(n_nets, m)
    target = y > 0.5
    fit_epoch = torch.full((n_nets,), -1, dtype=torch.long)
    recorded = torch.zeros(n_nets, dtype=torch.bool)
    margin = torch.full((n_nets,), float("nan"), dtype=torch.float64)
    funcs = torch.zeros((n_nets, len(X_test)), dtype=torch.uint8)
    depth = weight_layers(arch)
    lr = spec.learning_rate
    for epoch in range(1, spec.max_epochs + 1):
        net.grads(params, X, y, idx, "ce")
        with torch.no_grad():
            for p in params:
                p.sub_(lr * p.grad)  # type: ignore[operator]
        out = net.predict(params, X)  # (N, m)
        acc_ok = ((out > 0) == target).all(dim=1)
        fit_epoch[acc_ok & (fit_epoch < 0)] = epoch
        rec = ~recorded & (fit_epoch >= 0) & (epoch - fit_epoch >= spec.epochs_after_fit)
        if spec.epochs_after_fit > 0:
            rec &= acc_ok | (epoch - fit_epoch > spec.epochs_after_fit)
        if rec.any():
            signed = torch.where(target, out[rec], -out[rec]).min(dim=1).values.double()
            norm = sum(p.detach()[rec].flatten(1).double().pow(2).sum(1) for p in params)
            margin[rec] = signed / norm.sqrt().pow(depth)  # type: ignore[union-attr]
            funcs[rec] = (net.predict([p.detach()[rec] for p in params], X_test) > 0).to(
                torch.uint8
            )
            recorded |= rec
        if bool(recorded.all()):
            break
    ok = recorded.numpy()
    gam = margin.numpy()[ok]
    return SgdMargins(
        functions=bits_to_strings(funcs.numpy()[ok]),
        log10_margin=np.log10(np.where(gam > 0, gam, np.nan)),
        n_unfitted=int((~recorded).sum()),
    )
