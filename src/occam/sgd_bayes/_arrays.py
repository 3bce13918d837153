"""Boundary helpers: accept numpy or torch, compute in torch float64, return the caller's type."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor


def to_f64(x: Any, name: str) -> Tensor:
    """``x`` (numpy array, torch tensor or nested list) as a CPU-or-same-device float64 tensor."""
    if isinstance(x, Tensor):
        return x.detach().to(torch.float64)
    try:
        return torch.as_tensor(np.asarray(x, dtype=np.float64))
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected an array of numbers, got {type(x).__name__}") from err


def like(template: Any, value: Tensor) -> Any:
    """``value`` as a numpy array when ``template`` is not a torch tensor, else as a tensor."""
    if isinstance(template, Tensor):
        return value
    return value.detach().cpu().numpy()


def as_pm1(y: Any, name: str) -> Tensor:
    """Labels in {-1, +1} (also accepts {0, 1} and bit strings) as a float64 tensor."""
    if isinstance(y, str):
        y = [int(c) for c in y]
    elif isinstance(y, list | tuple) and y and isinstance(y[0], str):
        y = [[int(c) for c in s] for s in y]
    t = to_f64(y, name)
    vals = torch.unique(t)
    if not bool(torch.isin(vals, torch.tensor([-1.0, 0.0, 1.0], dtype=t.dtype)).all()):
        raise ValueError(f"{name}: labels must be in {{-1, +1}} or {{0, 1}}, got {vals.tolist()}")
    if bool((t == 0).any()) and bool((t == -1).any()):
        raise ValueError(f"{name}: mixes 0 and -1 labels")
    return torch.where(t == 0, -1.0, t)
