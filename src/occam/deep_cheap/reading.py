"""The reading paragraph of a deep-cheap run: what the figures and verdicts say.

Any claim left inconclusive or uninformative gets a sentence saying why.
"""

from __future__ import annotations

from typing import Any

from occam.claims import Claim
from occam.deep_cheap.config import DEPTH_SEPARATION

__all__ = ["reading"]


def reading(m: dict[str, Any], claims: list[Claim]) -> str:
    """What the figures and the verdicts say, with the reason for any claim left open."""
    gm, dc, hmt, rep = m["gates"], m["depth_constructive"], m["hamiltonian"], m["replicates"]
    minimal = rep["depth_trained"][0]["minimal_width"]
    widths = ", ".join(
        f"k={k}: {'>' + str(max(m['depth_trained']['widths'])) if w is None else w}"
        for k, w in minimal.items()
    )
    text = (
        f"The {gm['activation']} multiplication gate's error falls with slope "
        f"{gm['slope_float64']:.2f} in log-log (O(lambda^2)); at lambda = 0.1 it is "
        f"{gm['error_lam_0.1']:.2g}, and in float32 round-off takes over below lambda ~ "
        f"{gm['float32_optimum_lam']:.2g}. At lambda = 0.1 compiled polynomials err by at most "
        f"{max(r['ratio'] for r in rep['compiler_practical']):.2f} times the sum of their gates' "
        f"predicted errors (the example polynomial: "
        f"{m['compiler']['example_polynomial']['neurons']} neurons). One hidden layer of "
        f"prod(r_i+1) neurons computes a monomial with error "
        f"slope >= {min(r['min_slope'] for r in rep['shallow_monomials']):.2f}; with one neuron "
        f"fewer the best fit stops converging. Multiplying n = {dc['n_max']} inputs takes "
        f"{dc['shallow_neurons']} neurons in one hidden layer but {dc['tree_neurons']} in a "
        f"binary tree. Trained tanh nets on x1...x{m['depth_trained']['n']} reach relative error "
        f"{m['depth_trained']['threshold']:g} at minimal widths {widths} in replicate 0 (cf. the "
        f"curve n^((k-1)/k) 2^(n^(1/k))). The gate network of Hamiltonians fitted from "
        f"{hmt['train']} samples is {hmt['network_kl_units']:.2f} p/n from the Bayes posterior "
        f"(KL {hmt['kl_network']:.1e} nats), logistic regression {hmt['logistic_kl_units']:.1f} "
        f"p/n."
    )
    open_claims = [c for c in claims if c.verdict in ("inconclusive", "uninformative")]
    for claim in open_claims:
        text += " " + _why_open(claim)
    return text


def _why_open(claim: Claim) -> str:
    """One sentence on why a claim is inconclusive or uninformative."""
    if claim.spec.id == DEPTH_SEPARATION.id:
        if claim.missing:
            return (
                f"{claim.spec.id} is {claim.verdict}: in {claim.missing} replicate(s) no net "
                "of depth 1 or of the deepest depth reached the error threshold, so the "
                "width saving is unmeasured (train longer or wider, e.g. --profile quick)."
            )
        return (
            f"{claim.spec.id} is {claim.verdict}: the width saving differs between "
            f"replicates ({', '.join(f'{v:g}' for v in claim.replicates)} steps); the grid "
            "is too coarse or training too short to separate the depths in every seed."
        )
    if claim.verdict == "uninformative":
        control = claim.control.name if claim.control else ""
        return (
            f"{claim.spec.id} is uninformative: its control ({control}) "
            "passed the same test, so this run cannot tell the claim from its negation."
        )
    return (
        f"{claim.spec.id} is inconclusive: its interval "
        f"[{claim.interval[0]:.3g}, {claim.interval[1]:.3g}] straddles the threshold."
        if claim.interval
        else f"{claim.spec.id} is inconclusive: no replicate gave a value."
    )
