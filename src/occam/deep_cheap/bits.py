"""Binary inputs: LTR eq. 13's bit-product neuron and the 3-layer net it builds.

For bits x_i ∈ {0, 1} and a set K of k indices (LTR eq. 13, logistic σ)::

    ∏_{i∈K} x_i = lim_{β→∞} σ[−β(k − ½ − Σ_{i∈K} x_i)].

The argument is β/2 when every bit of K is on and at most −β/2 otherwise, so the neuron's
error on every input is at most σ(−β/2) = 1/(1 + e^{β/2}) < e^{−β/2}, attained when all k
bits are on or exactly k − 1 are. Correct to D decimal places therefore needs
e^{−β/2} ≤ 10^{−D}, i.e. **β ≥ 2 D ln 10** (≈ 46 for D = 10). LTR write "β > D ln 10 ≈ 23",
which gives e^{−D ln 10 / 2} = 10^{−D/2}: five places for D = 10, not ten (our derivation;
the measurement below decides).

Any function of n bits is a multilinear polynomial, f(x) = Σ_K c_K ∏_{i∈K} x_i, with
c_K = Σ_{J⊆K} (−1)^{|K|−|J|} f(1_J) (the Möbius transform over the subset lattice). LTR's
3-layer net for p(y|x) over bit strings: one bit-product neuron per non-zero c_K, a linear
layer summing c_K ∏x_K into the logits (−H_y(x) + ln p(y)), and a softmax. Its error is at
most σ(−β/2) Σ_K |c_K| per logit.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "all_bit_strings",
    "beta_for_decimals",
    "bit_network",
    "bit_product",
    "mobius",
]


def beta_for_decimals(decimals: float, printed: bool = False) -> float:
    """β for D decimal places: 2 D ln 10 (derived), or LTR's printed D ln 10."""
    return (1.0 if printed else 2.0) * decimals * math.log(10.0)


def all_bit_strings(n: int) -> Tensor:
    """All 2^n bit strings, (2^n, n) float64, row i the binary digits of i (x1 the lowest)."""
    i = torch.arange(2**n)
    return ((i[:, None] >> torch.arange(n)) & 1).double()


def bit_product(x: Tensor, subset: Tensor, beta: float) -> Tensor:
    """LTR eq. 13 for many subsets: x (batch, n) bits, subset (m, n) 0/1 → (batch, m)."""
    subset = subset.to(x.dtype)
    k = subset.sum(dim=1)  # (m,)
    return torch.sigmoid(-beta * (k - 0.5 - x @ subset.T))


def mobius(values: Tensor) -> Tensor:
    """Coefficients c_K of the multilinear polynomial through f on {0,1}^n.

    values: (2^n, ...) with row i = f(bits of i) (:func:`all_bit_strings` order); returns the
    same shape with row K = c_K (K as a bit mask). The fast subset-lattice transform:
    for each bit, subtract the value without the bit from the value with it.
    """
    c = values.clone()
    size = c.shape[0]
    n = size.bit_length() - 1
    for bit in range(n):
        step = 1 << bit
        with_bit = torch.arange(size)[(torch.arange(size) & step) != 0]
        c[with_bit] -= c[with_bit - step]
    return c


def bit_network(table: Tensor, beta: float) -> tuple[Tensor, Tensor, Tensor, int]:
    """The 3-layer net for a table of logits over bit strings, evaluated on every string.

    table: (2^n, classes) target logits (e.g. ln p(y|x) up to a constant per x). Returns
    (network logits (2^n, classes), the exact table, Σ_K max_y |c_K,y| (the error scale),
    hidden neurons = number of subsets K ≠ ∅ with a non-zero coefficient).
    """
    n = table.shape[0].bit_length() - 1
    coef = mobius(table.double())  # (2^n, classes)
    keep = coef.abs().amax(dim=1) > 0
    keep[0] = False  # the empty product is the output bias
    masks = all_bit_strings(n)[keep]  # (m, n): the subsets K as 0/1 rows
    x = all_bit_strings(n)
    hidden = bit_product(x, masks, beta)  # (2^n, m)
    out = coef[0][None, :] + hidden @ coef[keep]
    scale = coef[keep].abs().amax(dim=1).sum()
    return out, table.double(), scale, int(keep.sum())
