"""The reading paragraph of a deep-cheap run: what the figures and verdicts say.

Any claim left inconclusive or uninformative gets a sentence saying why.
"""

from __future__ import annotations

from typing import Any

from occam.claims import Claim
from occam.deep_cheap.config import DEPTH_SEPARATION, DEPTH_SEPARATION_RELU

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
    text += "\n\n" + _rt_protocol(m, claims) + "\n\n" + _shallow_taylor(m, claims)
    text += "\n\n" + _open_questions(m, claims)
    open_claims = [c for c in claims if c.verdict in ("inconclusive", "uninformative")]
    for claim in open_claims:
        text += " " + _why_open(claim)
    return text


def _why_open(claim: Claim) -> str:
    """One sentence on why a claim is inconclusive or uninformative."""
    if claim.spec.id in (DEPTH_SEPARATION.id, DEPTH_SEPARATION_RELU.id):
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


def _fmt(v: float | None, spec: str = ".2f") -> str:
    return "n/a" if v is None else format(v, spec)


def _open_questions(m: dict[str, Any], claims: list[Claim]) -> str:
    """The bit-product neuron and the newsletter's two questions, with their numbers."""
    verdict = {c.spec.id: c for c in claims}
    bits, probe, bumps = m["bits"]["replicates"][0], m["probe"], m["bumps"]
    reps = probe["replicates"]
    frac = [r["gate_like_fraction"] for r in reps]
    ctrl = [r["control_target_fraction"] for r in reps]
    fitted = sum(r["fitted"] for r in reps)
    nets = sum(r["nets"] for r in reps)
    ratios = [r["bump_ratio"] for r in bumps["replicates"]]
    gate = verdict["dc.probe_not_gate_like"]
    text = (
        f"Binary inputs (LTR eq. 13): {int(bits['neurons'])} bit-product neurons and a linear "
        f"layer give a random {m['bits']['n']}-bit log-posterior on all strings to "
        f"{bits['error_units_derived']:.2g} x 10^-D sum|c_K| at beta = 2 D ln 10 = "
        f"{bits['beta_derived']:.1f}, but {bits['error_units_printed']:.3g} x 10^-D at the "
        f"printed beta = D ln 10 = {bits['beta_printed']:.1f}: the neuron errs by "
        f"sigma(-beta/2), so D places need twice the printed beta. "
        f"Peering into trained nets: {fitted} of {nets} softplus nets trained on products "
        f"fitted, and the fraction of them that is gate-like per replicate is "
        f"{', '.join(_fmt(f) for f in frac)} (claim dc.probe_not_gate_like "
        f"{gate.verdict}); on x1 + x2 the detector finds gates in "
        f"{', '.join(_fmt(f) for f in ctrl)} of nets, and in LTR's own constructions in "
        f"{', '.join(_fmt(r['compiled_fraction']) for r in reps)}. "
    )
    text += (
        "So the newsletter's guess fails for these low-order Hamiltonians: the fitted nets "
        "carry the product on units along (1,1) and (1,-1) with the gate's signs, though at "
        "pre-activation ranges of order 1 rather than the gate's small lambda; "
        if gate.verdict == "fails"
        else "So the newsletter's guess holds here: most fitted nets do not carry the "
        "product on the construction's units; "
        if gate.verdict == "holds"
        else "The probe does not decide the newsletter's guess in this run; "
    )
    smallest = probe["smallest_fitted_neurons"]
    stops = ", ".join(
        f"{name}: {'never in the grid' if r is None else format(r, 'g')}"
        for name, r in bumps["compiled_exceeds_trained_from_R"].items()
    )
    text += (
        f"the smallest fully fitted nets use {smallest.get('x1*x2/depth1')} neurons for x1x2 "
        f"(gate: 4) and {smallest.get('x1*x2*x3*x4/depth1')} for x1x2x3x4 at depth 1 "
        f"(eq. A4: 16; tree: 12). "
        f"Far-vanishing functions: at R = {bumps['r_max']:g} the bump's compiled Taylor "
        f"network needs {', '.join(_fmt(r, '.3g') for r in ratios)} times the neurons of the "
        f"smallest trained net within 1% RMS (claim dc.bump_polynomial_cost "
        f"{verdict['dc.bump_polynomial_cost'].verdict}); compiled neurons first exceed "
        f"trained ones at R = {stops}; the logistic's "
        "Taylor series has radius pi, so beyond R = pi no truncation reaches 1%, while "
        "x1*x2 stays one 4-neuron gate at every R."
    )
    return text


def _widths(minimal: dict[str, int | None], widest: int) -> str:
    return ", ".join(f"k={k}: {'>' + str(widest) if w is None else w}" for k, w in minimal.items())


def _rt_protocol(m: dict[str, Any], claims: list[Claim]) -> str:
    """RT Fig. 2's protocol: what the input distribution does, ReLU, the curve comparison."""
    verdict = {c.spec.id: c for c in claims}
    dt = m["depth_trained"]
    widest = max(dt["widths"])
    dist = dt.get("input_distribution")
    text = ""
    if dist is not None:
        text += (
            f"Inputs: the product of {dist['n']} uniform inputs has mean {dist['mean']:.3g} "
            f"and standard deviation {dist['std']:.3g}, but median {dist['median']:.2g} "
            f"(90% quantile {dist['q90']:.2g}, 99% {dist['q99']:.2g}); the top 1% of draws "
            f"carry {dist['top1pct_share_of_mean']:.0%} of the mean. RT's L1 loss is "
            "minimised by the median, so the best constant already has relative L1 error "
            f"{dist['median_predictor_relative_l1']:.3f}, and a 'minimal width reaching "
            f"error {dt['threshold']:g}' is the width at which a net has learnt enough of "
            "the rare large products that carry the L1 mass. "
        )
    fits = m["rt_curve"]

    def slopes(name: str) -> str:
        return ", ".join(_fmt(f["slope"]) for f in fits[name])

    rows = fits["product"][0]["depths"]
    ratios = ", ".join(f"k={r['depth']}: {r['ratio']:.2g}" for r in rows)
    text += (
        f"ReLU nets reach it at minimal widths {_widths(dt['relu_minimal_width'], widest)} "
        f"(claim dc.depth_separation_relu {verdict['dc.depth_separation_relu'].verdict}; RT "
        "report only 'similar results'). Against RT Thm III.1 the minimal widths over the "
        f"curve n^((k-1)/k) 2^(n^(1/k)) are {ratios} in replicate 0 (a censored width "
        f"counts as {2 * widest}); the log-log slope of minimal width on the curve is "
        f"{slopes('product')} per replicate ({slopes('relu')} for ReLU), and "
        f"{slopes('sum')} for the additive control x1 + ... + xn (claim dc.rt_curve_slope "
        f"{verdict['dc.rt_curve_slope'].verdict})."
    )
    measured = [f["slope"] for f in fits["product"] if f["slope"] is not None]
    if measured and max(measured) < 1:
        text += (
            " A slope below 1 means trained widths fall with depth more slowly than the "
            "curve: the grid's smallest width floors the deep nets, and a shallow width not "
            "reached is only a censored lower bound."
        )
    return text


def _shallow_taylor(m: dict[str, Any], claims: list[Claim]) -> str:
    """m1(x^d) = d + 1, the Taylor-matching floor, and the multivariate probe."""
    verdict = {c.spec.id: c for c in claims}
    st = m["shallow_taylor"]
    pw, tp, mv = st["powers"], st["taylor_powers"], st["multivariate"]
    floors = ", ".join(f"x^{r['d']}: {r['residual_d_neurons']:.3g} vs {r['floor']:.3g}" for r in tp)
    multi = ", ".join(
        f"{r['monomial']} (m1 = {r['m1']}): {r['residual_m1_minus_1']:.2g} -> "
        f"{r['residual_m1_minus_1_4x_steps']:.2g} with 4x steps, {r['residual_m1']:.1g} at m1"
        for r in mv
    )
    return (
        f"Univariate counts (RT Prop. II.6): d + 1 neurons compute x^d with error slope "
        f"{min(r['slope'] for r in pw):.2f} or more in lambda (claim dc.power_shallow "
        f"{verdict['dc.power_shallow'].verdict}); with d neurons the best least-squares "
        f"output stalls (slope {min(r['slope_d_neurons'] for r in pw):.2f}). As Taylor "
        "matching through degree d (shared bias, no output bias, input weights |a| <= 1), "
        f"the best residual of d neurons sits on the floor 1/sqrt(C(2d, d)): {floors} "
        f"(claim dc.taylor_floor {verdict['dc.taylor_floor'].verdict}); d + 1 neurons match "
        f"to round-off. Multivariate monomials with m1 - 1 neurons: {multi}. A residual that "
        "keeps falling with the budget (x1^2x2 is the case to watch) is the border-rank "
        "effect: RT's m1 counts exact matches, and with free output weights a limit of "
        "fewer neurons can approach the coefficients (as x^2y = lim ((x + ey)^3 - x^3)/3e); "
        "only the univariate floor is proved here, so the claim covers x^d only."
    )
