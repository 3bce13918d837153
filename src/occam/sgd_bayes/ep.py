"""Expectation propagation (EP) for binary Gaussian-process classification.

Model: latent ``z ~ N(m, K)`` over n points, labels ``y_i in {-1, +1}`` with
    Heaviside   P(y_i | z_i) = Theta(y_i z_i)      (the network outputs class 1 iff its logit > 0)
    probit      P(y_i | z_i) = Phi(y_i z_i)        (GPy's default Bernoulli)
Both are ``Phi(y z / s)`` with noise s^2 = 0 (Heaviside) or 1 (probit). EP replaces each
likelihood by a Gaussian site ``N(z_i; nu_i / tau_i, 1 / tau_i)`` (natural parameters tau, nu)
and returns the EP estimate of the log marginal likelihood log P(y) = log P(S).

The loop (:func:`run_ep`) follows Rasmussen & Williams (2006), Alg. 3.5 and 3.6 and eq. 3.65, in
the numerically stable form of GPML's ``infEP.m``:

    repeat
        cavity:   tau_c = 1/var_i - tau_i,  nu_c = mu_i/var_i - nu_i
        tilted:   moments of N(z; nu_c/tau_c, 1/tau_c) Phi(y z / s)           (site_update)
        sites:    tau_i, nu_i <- match them (damped by ``step``)
        posterior Sigma = (K^-1 + diag tau)^-1, mu = Sigma (K^-1 m + nu)        (posterior)
           sequential: a rank-1 update after each site, full recompute after each sweep;
           parallel:   all sites from the same posterior, then one recompute.
    until |change of log Z| and the change of mu (in posterior standard deviations) are small.

Numerical care (cf. GPy PR #492 and GPML):
* log Phi is ``torch.special.log_ndtr`` (accurate to z ~ -1e150), and the ratio phi/Phi is
  exp(log phi - log Phi), never a quotient of underflowed numbers.
* The tilted variance ratio 1 - r (z + r) cancels catastrophically for z << 0; beyond z = -20
  its asymptotic series is used (:func:`trunc_var_ratio`).
* Site precisions stay >= 0 (log-concave likelihoods give tau >= 0 exactly; rounding can
  flip the sign), cavity precisions stay > 0.
* The posterior is computed through B = I + S^1/2 K S^1/2 (eigenvalues >= 1), so it needs no
  inverse of K and stays finite when K is singular, as deep NNGP kernels nearly are.
* A jitter of 1e-10 x mean(diag K) is added to K: without it, posterior variances computed as
  K_ii - |v_i|^2 cancel to rounding noise (even below zero) when K is near-singular.

Cost per sweep (parallel EP). Between sweeps EP needs only the marginal variances, the means
and log Z, never the full Sigma. ``marginals="solve"`` gets the variances from
V = L^-1 S^1/2 K (a triangular solve with n right-hand sides, ~n^3 flops: about 3 Choleskys);
``marginals="inverse"`` from the inverse of the triangular factor, C = L^-1 (LAPACK ``trtri``,
n^3/3 flops: about one Cholesky), through S^1/2 Sigma S^1/2 = I - B^-1, i.e.
    var_i = (1 - |C e_i|^2) / tau_i,
which is exact but cancels when tau_i var_i is small (a site that barely constrains its
point, or an empty one): those few columns are recomputed as K_ii - |L^-1 S^1/2 K e_i|^2.
Means and log Z need only triangular solves with one right-hand side. The default
``"auto"`` takes ``"inverse"`` from n = 256 on, so a sweep costs about two Choleskys.

Stopping. ``stop="change"`` (the default) stops when a sweep changes log Z by < ``tol``.
Parallel EP converges linearly, log Z changes shrinking by a ratio rho per sweep (measured
0.2-0.45 on MNIST NNGP kernels), so the distance to the fixed point is about
|Delta| rho / (1 - rho); ``stop="tail"`` stops when that estimate (rho from the last two
changes) is < ``tol``: with ``tol=1e-7`` it stops several sweeps earlier than the change
rule at ``tol=1e-9`` with log Z within ~1e-7 relative of its limit. ``stop="aitken"`` (the
fast setting, :data:`FAST`) also returns Aitken's Delta^2 extrapolation of log Z,
    log Z_inf = log Z_k + Delta_k rho / (1 - rho),   rho = Delta_k / Delta_{k-1} in (0, 1),
the limit of a linearly converging sequence (Aitken 1926; Brezinski & Redivo Zaglia 1991,
ch. 1), and stops when that extrapolated value changes by < ``tol`` from one sweep to the
next (the change rule, applied to the accelerated sequence), or by the tail rule, whichever
comes first. Only log Z is extrapolated: the sites, means and variances are the last
sweep's (extrapolating the sites, i.e. over-relaxing the step by 1 / (1 - rho), excites
EP's oscillating modes and diverges on MNIST NNGP kernels).

Batching: K may be (n, n) or (B, n, n) and y (n,) or (B, n); B problems (e.g. many labellings
of the same test set) then run together on batched Cholesky factorisations.

References
----------
Minka (2001), "Expectation propagation for approximate Bayesian inference".
Rasmussen & Williams (2006), "Gaussian Processes for Machine Learning", §3.6.
Kuss & Rasmussen (2005), "Assessing approximate inference for binary GP classification".
GPML ``infEP.m``; GPy ``expectation_propagation.py`` (its Heaviside site: GPy issue #742).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from occam.sgd_bayes._arrays import as_pm1, to_f64

Likelihood = Literal["heaviside", "probit"]
NOISE_VAR: dict[str, float] = {"heaviside": 0.0, "probit": 1.0}


class ConvergenceWarning(UserWarning):
    """EP stopped at its sweep limit (``max_sweeps``) without meeting its convergence rule.

    Its estimate is then the last sweep's (``EPResult.converged`` is False). To silence it:
    ``warnings.simplefilter("ignore", ConvergenceWarning)``; to make it an error: ``"error"``.
    """


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_MIN_VAR_RATIO = 1e-12  # caps a Heaviside site precision at 1e12 / cavity variance
# Asymptotic series of 1 - r (z + r) in t = 1/z^2 for z -> -inf (coefficients from the
# Mills-ratio expansion; relative error < 2e-11 for z <= -20).
_TAIL = (1.0, -6.0, 50.0, -518.0, 6354.0, -89782.0, 1435330.0)


def trunc_var_ratio(z: Tensor, r: Tensor) -> Tensor:
    """``1 - r (z + r)`` with ``r = phi(z) / Phi(z)``: the variance of N(0, 1) truncated to
    (-z, inf), in (0, 1]. Uses the asymptotic series where the direct form cancels."""
    direct = 1.0 - r * (z + r)
    t = 1.0 / z.clamp(max=-20.0).square()
    tail = torch.zeros_like(z)
    for c in reversed(_TAIL):
        tail = tail * t + c
    return torch.where(z < -20.0, tail * t, direct).clamp(_MIN_VAR_RATIO, 1.0)


def site_update(
    mu_c: Tensor, var_c: Tensor, y: Tensor, noise_var: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Moment-match one site (all inputs broadcast; any shape).

    Cavity N(mu_c, var_c), likelihood Phi(y z / s) with s^2 = ``noise_var``. With
    z = y mu_c / sqrt(s^2 + var_c), r = phi(z)/Phi(z) and v = 1 - r (z + r):
        log Z_hat = log Phi(z)
        tau_site  = (1 - v) / (s^2 + v var_c)
        nu_site   = (y r sqrt(s^2 + var_c) + mu_c (1 - v)) / (s^2 + v var_c)
    (the site whose product with the cavity has the tilted mean and variance; these
    forms avoid 1/var_hat - 1/var_c, which cancels). Returns (log Z_hat, tau_site, nu_site).
    """
    st2 = var_c + noise_var
    st = st2.sqrt()
    z = y * mu_c / st
    log_z = torch.special.log_ndtr(z)
    r = torch.exp(-0.5 * z.square() - _LOG_SQRT_2PI - log_z)
    v = trunc_var_ratio(z, r)
    denom = noise_var + v * var_c
    return log_z, (1.0 - v) / denom, (y * r * st + mu_c * (1.0 - v)) / denom


@dataclass
class Posterior:
    """The Gaussian EP posterior for given sites. Shapes: (..., n) or (..., n, n)."""

    mu: Tensor
    var: Tensor
    L: Tensor  # Cholesky factor of B = I + S^1/2 K S^1/2
    V: Tensor | None  # L^-1 S^1/2 K, so Sigma = K - V^T V (None: not formed)
    Sigma: Tensor | None


Marginals = Literal["auto", "solve", "inverse"]
_INVERSE_MIN_N = 256  # below this the n-right-hand-side solve is cheap and batches better
_MIN_SITE_SHARE = 1e-3  # tau_i var_i below this: variance by the direct (solve) formula


def tri_inverse(L: Tensor) -> Tensor:
    """The inverse of a lower-triangular matrix (..., n, n), lower-triangular.

    On CPU in float64: LAPACK ``dtrtri`` through scipy (n^3/3 flops, about one Cholesky),
    run with torch's thread count (via threadpoolctl when installed). Elsewhere (CUDA):
    ``solve_triangular(L, I)`` (n^3 flops; torch exposes no triangular inverse).
    """
    if L.device.type != "cpu" or L.dtype != torch.float64:
        eye = torch.eye(L.shape[-1], dtype=L.dtype, device=L.device)
        return torch.linalg.solve_triangular(L, eye.expand_as(L), upper=False)
    from scipy.linalg.lapack import dtrtri

    flat = L.reshape(-1, *L.shape[-2:])
    out = torch.empty_like(flat)
    with _blas_threads(torch.get_num_threads()):
        for b in range(flat.shape[0]):
            c, info = dtrtri(flat[b].numpy().T, lower=0, overwrite_c=0)  # L^T is upper, F-order
            if info != 0:
                raise FloatingPointError(f"dtrtri failed (info={info})")
            out[b] = torch.from_numpy(c.T)
    return out.reshape(L.shape)


_THREADPOOLS: list[Any] = []  # one threadpoolctl controller (scanning the libraries costs ms)


def _blas_threads(n: int) -> Any:
    """A context that runs scipy's BLAS/LAPACK on ``n`` threads (a no-op without threadpoolctl)."""
    import contextlib

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    if not _THREADPOOLS:
        _THREADPOOLS.append(ThreadpoolController())
    return _THREADPOOLS[0].limit(limits=n, user_api="blas")


def posterior(
    K: Tensor,
    tau: Tensor,
    nu: Tensor,
    mean: Tensor,
    full: bool = False,
    *,
    marginals: Marginals = "solve",
) -> Posterior:
    """Sigma = (K^-1 + diag tau)^-1 and mu = Sigma (K^-1 m + nu), via B (R&W eq. 3.67-3.68).

    K: (..., n, n); tau, nu, mean: (..., n). O(n^3): one Cholesky, then the marginal variances
    by ``marginals`` (see the module docstring: ``"solve"`` forms V = L^-1 S^1/2 K,
    ``"inverse"`` forms L^-1 instead and leaves ``V`` None; ``"auto"`` picks by n). ``full``
    also forms Sigma (and needs V).
    """
    n = K.shape[-1]
    if marginals == "auto":
        marginals = "inverse" if n >= _INVERSE_MIN_N else "solve"
    if full:
        marginals = "solve"
    sw = tau.sqrt()
    B = K * sw.unsqueeze(-1)  # one n x n buffer, scaled in place (memory: 8 n^2 bytes each)
    B.mul_(sw.unsqueeze(-2))
    B.diagonal(dim1=-2, dim2=-1).add_(1.0)
    L = torch.linalg.cholesky(B)
    del B
    b = sw * ((K @ nu.unsqueeze(-1)).squeeze(-1) + mean)
    alpha = nu - sw * torch.cholesky_solve(b.unsqueeze(-1), L).squeeze(-1)
    mu = (K @ alpha.unsqueeze(-1)).squeeze(-1) + mean
    Kdiag = torch.diagonal(K, dim1=-2, dim2=-1)
    if marginals == "solve":
        V = torch.linalg.solve_triangular(L, sw.unsqueeze(-1) * K, upper=False)
        var = Kdiag - torch.linalg.vector_norm(V, dim=-2).square()
        Sigma = K - V.transpose(-2, -1) @ V if full else None
        return Posterior(mu=mu, var=var, L=L, V=V, Sigma=Sigma)
    share = 1.0 - torch.linalg.vector_norm(tri_inverse(L), dim=-2).square()  # tau_i var_i
    var = share / tau.clamp_min(1e-300)
    low = share < _MIN_SITE_SHARE  # cancellation: recompute these columns directly
    if bool(low.any()):
        flat_low = low.reshape(-1, n)
        flat_L, flat_K = L.reshape(-1, n, n), K.expand(*L.shape).reshape(-1, n, n)
        flat_sw, flat_var = sw.reshape(-1, n), var.reshape(-1, n).clone()
        for i in range(flat_low.shape[0]):
            idx = flat_low[i].nonzero().squeeze(-1)
            if idx.numel() == 0:
                continue
            Vi = torch.linalg.solve_triangular(
                flat_L[i], flat_sw[i].unsqueeze(-1) * flat_K[i][:, idx], upper=False
            )
            flat_var[i, idx] = flat_K[i].diagonal()[idx] - Vi.square().sum(0)
        var = flat_var.reshape(var.shape)
    return Posterior(mu=mu, var=var, L=L, V=None, Sigma=None)


def prior_posterior(K: Tensor, mean: Tensor) -> Posterior:
    """The posterior when every site is empty (tau = nu = 0): the prior itself, at no cost."""
    n = K.shape[-1]
    batch = torch.broadcast_shapes(K.shape[:-2], mean.shape[:-1])
    eye = torch.eye(n, dtype=K.dtype, device=K.device).expand(*batch, n, n)
    return Posterior(
        mu=mean.expand(*batch, n),
        var=torch.diagonal(K, dim1=-2, dim2=-1).expand(*batch, n),
        L=eye,
        V=None,
        Sigma=K.expand(*batch, n, n),
    )


def _cavity(post_mu: Tensor, post_var: Tensor, tau: Tensor, nu: Tensor) -> tuple[Tensor, Tensor]:
    """Cavity natural parameters; the precision is kept positive (it is, up to rounding)."""
    prec = 1.0 / post_var
    tau_c = torch.maximum(prec - tau, 1e-10 * prec)
    return tau_c, post_mu * prec - nu


def log_marginal(
    K: Tensor,
    y: Tensor,
    tau: Tensor,
    nu: Tensor,
    mean: Tensor,
    post: Posterior,
    noise_var: float,
) -> Tensor:
    """EP's log Z for sites (tau, nu) with posterior ``post`` (GPML ``infEP`` / R&W eq. 3.65).

    With cavities (tau_c, nu_c) from the posterior, p = nu - m tau, q = nu_c - m tau_c:
        log Z = sum log Z_hat(cavity) - sum log diag L + p' Sigma p / 2 - v' p^2 / 2
                + q' ((tau / tau_c q - 2 p) v) / 2 + sum log(1 + tau / tau_c) / 2
    Returns shape (...,).
    """
    v = post.var
    tau_c, nu_c = _cavity(post.mu, v, tau, nu)
    lz, _, _ = site_update(nu_c / tau_c, 1.0 / tau_c, y, noise_var)
    p = nu - mean * tau
    q = nu_c - mean * tau_c
    Kp = (K @ p.unsqueeze(-1)).squeeze(-1)
    if post.V is not None:
        Vp = (post.V @ p.unsqueeze(-1)).squeeze(-1)
    else:  # V p = L^-1 S^1/2 K p: one triangular solve with one right-hand side
        rhs = (tau.sqrt() * Kp).unsqueeze(-1)
        Vp = torch.linalg.solve_triangular(post.L, rhs, upper=False).squeeze(-1)
    pSp = (p * Kp).sum(-1) - Vp.square().sum(-1)
    logdet_half = torch.diagonal(post.L, dim1=-2, dim2=-1).log().sum(-1)
    return (
        lz.sum(-1)
        - logdet_half
        + 0.5 * pSp
        - 0.5 * (v * p.square()).sum(-1)
        + 0.5 * (q * ((tau / tau_c) * q - 2.0 * p) * v).sum(-1)
        + 0.5 * torch.log1p(tau / tau_c).sum(-1)
    )


@dataclass
class EPResult:
    """The EP approximation (check ``converged``). Shapes: (...) for log_z, (..., n) for the rest.

    log_z: EP estimate of log P(y) (``stop="aitken"``: extrapolated). tau, nu: site natural
    parameters (warm-start input). mu, var: posterior means and marginal variances. sweeps:
    sweeps run. converged: every problem of the batch met the convergence rule within
    ``max_sweeps``. last_change: the last sweep's largest change of log Z relative to
    1 + |log Z| (the precision reached).
    """

    log_z: Tensor
    tau: Tensor
    nu: Tensor
    mu: Tensor
    var: Tensor
    sweeps: int
    converged: bool
    last_change: float


def run_ep(
    K: Any,
    y: Any,
    likelihood: Likelihood = "heaviside",
    *,
    mean: Any = None,
    method: Literal["parallel", "sequential"] = "parallel",
    step: float = 1.0,
    max_sweeps: int = 500,
    tol: float = 1e-9,
    mu_tol: float = 1e-3,
    init: tuple[Tensor, Tensor] | None = None,
    jitter: float = 1e-10,
    seed: int = 0,
    marginals: Marginals = "auto",
    stop: Literal["change", "tail", "aitken"] = "change",
    restore_step: bool = False,
) -> EPResult:
    """Run EP for GP classification; see the module docstring for the model and the loop.

    K: (n, n) or (B, n, n) prior covariance. y: (n,) or (B, n) labels in {-1, +1} (or {0, 1}).
    mean: prior mean, broadcastable to y (default 0). method: ``"parallel"`` (all sites from
    one posterior, one Cholesky per sweep) or ``"sequential"`` (R&W Alg. 3.5: rank-1
    updates in a random order, a full recompute after each sweep). step: fraction of each
    site update taken (1 = undamped; parallel EP halves it automatically whenever log Z
    falls by a tenth of its last rise or more, the sign of an overshoot). Convergence: a
    sweep (after the first) changes log Z by < ``tol`` (1 + |log Z|) and the posterior mean
    by < ``mu_tol`` posterior standard deviations, or log Z stalls at a rounding-noise floor
    (see ``_Monitor``). init: (tau, nu) sites to warm-start from.
    jitter: added to diag K as a fraction of its mean (see the module docstring).
    marginals: how a parallel sweep gets the marginal variances (``"auto"``, ``"solve"``,
    ``"inverse"``; same numbers to rounding, see the module docstring). stop: ``"change"``
    (the rule above), ``"tail"`` (log Z's estimated distance to its limit < ``tol``) or
    ``"aitken"`` (the tail rule, or the Aitken-extrapolated log Z changes < ``tol``; log_z is
    then that extrapolation; see the module docstring).
    restore_step: parallel EP doubles a halved step back (up to ``step``) once log Z rises
    steadily again (rises each under half the one before). The fast setting,
    :data:`FAST`, is ``stop="aitken", tol=1e-7, mu_tol=1e-2, restore_step=True``.

    If the rule is not met within ``max_sweeps`` sweeps, EP warns with a
    :class:`ConvergenceWarning` and the result says ``converged=False``.
    """
    if likelihood not in NOISE_VAR:
        raise ValueError(f"likelihood: expected 'heaviside' or 'probit', got {likelihood!r}")
    if method not in ("parallel", "sequential"):
        raise ValueError(f"method: expected 'parallel' or 'sequential', got {method!r}")
    if not 0.0 < step <= 1.0:
        raise ValueError(f"step: expected 0 < step <= 1, got {step}")
    if marginals not in ("auto", "solve", "inverse"):
        raise ValueError(f"marginals: expected 'auto', 'solve' or 'inverse', got {marginals!r}")
    if stop not in ("change", "tail", "aitken"):
        raise ValueError(f"stop: expected 'change', 'tail' or 'aitken', got {stop!r}")
    Kt = to_f64(K, "K")
    yt = as_pm1(y, "y").to(Kt.device)
    n = Kt.shape[-1]
    if Kt.ndim not in (2, 3) or Kt.shape[-2] != n:
        raise ValueError(f"K: expected shape (n, n) or (B, n, n), got {tuple(Kt.shape)}")
    if yt.shape[-1] != n or yt.ndim > 2:
        raise ValueError(f"y: expected shape ({n},) or (B, {n}), got {tuple(yt.shape)}")
    batch = torch.broadcast_shapes(Kt.shape[:-2], yt.shape[:-1])
    yt = yt.expand(*batch, n)
    m = torch.zeros_like(yt) if mean is None else to_f64(mean, "mean").to(Kt.device)
    m = m.expand(*batch, n)
    diag_mean = torch.diagonal(Kt, dim1=-2, dim2=-1).mean(-1)
    Kj = Kt.clone()  # the one copy of K that EP keeps (8 n^2 bytes)
    Kj.diagonal(dim1=-2, dim2=-1).add_((jitter * diag_mean).unsqueeze(-1))
    noise = NOISE_VAR[likelihood]
    if init is None:
        tau = torch.zeros(*batch, n, dtype=Kt.dtype, device=Kt.device)
        nu = torch.zeros(*batch, n, dtype=Kt.dtype, device=Kt.device)
    else:
        tau = init[0].to(Kt).expand(*batch, n).clone().clamp_min_(0.0)
        nu = init[1].to(Kt).expand(*batch, n).clone()
    problem = _EPProblem(
        Kj, yt, m, noise, step, max_sweeps, tol, mu_tol, seed, marginals, stop, restore_step
    )
    runner = _parallel if method == "parallel" else _sequential
    result = runner(problem, tau, nu)
    if not result.converged:
        warnings.warn(
            f"EP ({method}, {likelihood}, n={n}, batch {tuple(batch)}) stopped at its sweep "
            f"limit max_sweeps={max_sweeps} without converging: the last sweep changed log Z "
            f"by {result.last_change:.3g} (1 + |log Z|), tol={tol:g}; raise max_sweeps or "
            "damp with step < 1",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result


@dataclass(frozen=True)
class _EPProblem:
    """What both EP schedules are given: the (jittered) prior, labels, mean and settings.

    K (..., n, n), y (..., n) in {-1, +1}, m (..., n) the prior mean; noise: the site
    likelihood's noise variance (0 = Heaviside); the rest as in :func:`run_ep`.
    """

    K: Tensor
    y: Tensor
    m: Tensor
    noise: float
    step: float
    max_sweeps: int
    tol: float
    mu_tol: float
    seed: int
    marginals: Marginals = "auto"
    stop: Literal["change", "tail", "aitken"] = "change"
    restore_step: bool = False


FAST: dict[str, Any] = {"stop": "aitken", "tol": 1e-7, "mu_tol": 1e-2, "restore_step": True}
"""The fast stopping setting of :func:`run_ep`: log Z (Aitken-extrapolated) within ~1e-7
(1 + |log Z|) of its limit."""


class _Monitor:
    """The convergence rule, shared by both schedules.

    Converged when a sweep changes log Z by <= tol (1 + |log Z|) and the posterior mean by
    <= mu_tol posterior standard deviations (every problem of a batch), or when the change of
    log Z has stalled at a rounding-noise floor below 1e-5 (1 + |log Z|): no new minimum over
    the last ``patience`` sweeps. Near-singular kernels (deep NNGPs) with Heaviside sites
    reach such a floor: the sites keep moving by rounding error and log Z wobbles at ~1e-6
    relative, so a tight rule alone would run to ``max_sweeps``.

    ``stop="tail"`` replaces the change of log Z by the estimated distance to its limit,
    |Delta| rho / (1 - rho), rho = |Delta| / |Delta_prev| clamped to [0.1, 0.9] (linear
    convergence; the clamp keeps one lucky small ratio from stopping early, and makes a
    non-contracting sequence need |Delta| < tol / 9).

    ``stop="aitken"``: the tail rule, or the change of the Aitken extrapolation
    :attr:`extrapolated` between two sweeps that both extrapolated (Delta of one sign on
    three sweeps in a row, each smaller than the one before: the linear regime) <= tol.
    """

    def __init__(self, tol: float, mu_tol: float, patience: int = 8, stop: str = "change") -> None:
        self.tol, self.mu_tol, self.patience, self.stop = tol, mu_tol, patience, stop
        self.changes: list[float] = []
        self.prev: Tensor | None = None  # the last change of log Z, signed
        self.extrapolated: Tensor | None = None  # Aitken's log Z_inf (stop="aitken")
        self.linear: Tensor | None = None  # whether the last sweep extrapolated

    def __call__(self, lz: Tensor, lz_old: Tensor, mu: Tensor, mu_old: Tensor, var: Tensor) -> bool:
        signed = lz - lz_old
        delta = signed.abs()
        rel = delta / (1.0 + lz.abs())
        if self.stop in ("tail", "aitken") and self.prev is not None:
            rho = (delta / self.prev.abs().clamp_min(1e-300)).clamp(0.1, 0.9)
            rel = rel * rho / (1.0 - rho)
        if self.stop == "aitken":
            rel = torch.minimum(rel, self._aitken(lz, lz_old, signed))
        self.prev = signed
        d_mu = ((mu - mu_old).abs() / var.sqrt()).amax(-1)
        self.changes.append(float(rel.max()))
        if bool(((rel <= self.tol) & (d_mu <= self.mu_tol)).all()):
            return True
        p = self.patience
        if len(self.changes) < 2 * p:
            return False
        recent, before = self.changes[-p:], self.changes[:-p]
        return max(recent) <= 1e-5 and min(recent) >= 0.5 * min(before)

    def _aitken(self, lz: Tensor, lz_old: Tensor, signed: Tensor) -> Tensor:
        """Update :attr:`extrapolated`; return its change relative to 1 + |log Z_inf| where
        this sweep and the one before both extrapolated (inf elsewhere)."""
        prev = self.prev if self.prev is not None else torch.full_like(signed, math.nan)
        rho = signed / prev
        linear = (rho > 0.0) & (rho < 1.0)  # same sign, contracting (NaN compares False)
        rho = torch.where(linear, rho.clamp_max(0.9), torch.zeros_like(rho))
        ext = lz + signed * rho / (1.0 - rho)
        old = self.extrapolated if self.extrapolated is not None else lz_old
        both = linear & (self.linear if self.linear is not None else torch.zeros_like(linear))
        change = (ext - old).abs() / (1.0 + ext.abs())
        self.extrapolated, self.linear = ext, linear
        return torch.where(both, change, torch.full_like(change, math.inf))

    @property
    def last_change(self) -> float:
        return self.changes[-1] if self.changes else math.inf

    def estimate(self, lz: Tensor) -> Tensor:
        """The log Z to return: Aitken's extrapolation where this sweep extrapolated
        (``stop="aitken"``), else the last sweep's."""
        if self.stop != "aitken" or self.extrapolated is None or self.linear is None:
            return lz
        return torch.where(self.linear, self.extrapolated, lz)


def _parallel(p: _EPProblem, tau: Tensor, nu: Tensor) -> EPResult:
    """Damped parallel EP: every site from the same posterior, then one recompute."""
    K, y, m, noise, step, max_sweeps, tol, mu_tol = (
        p.K, p.y, p.m, p.noise, p.step, p.max_sweeps, p.tol, p.mu_tol
    )  # fmt: skip
    mg = p.marginals
    post = prior_posterior(K, m) if not bool(tau.any()) else posterior(K, tau, nu, m, marginals=mg)
    lz = log_marginal(K, y, tau, nu, m, post, noise)
    steps = torch.full_like(lz, step)
    last_rise = torch.full_like(lz, math.inf)
    calm_run, restores = torch.zeros_like(lz), torch.zeros_like(lz)
    monitor = _Monitor(tol, mu_tol, stop=p.stop)
    sweeps, converged = 0, False
    while sweeps < max_sweeps and not converged:
        tau_c, nu_c = _cavity(post.mu, post.var, tau, nu)
        _, tau_new, nu_new = site_update(nu_c / tau_c, 1.0 / tau_c, y, noise)
        s = steps.unsqueeze(-1)
        tau_next = ((1.0 - s) * tau + s * tau_new).clamp_min_(0.0)
        nu_next = (1.0 - s) * nu + s * nu_new
        post_next = posterior(K, tau_next, nu_next, m, marginals=mg)
        lz_next = log_marginal(K, y, tau_next, nu_next, m, post_next, noise)
        sweeps += 1
        converged = monitor(lz_next, lz, post_next.mu, post.mu, post_next.var) and sweeps > 1
        # EP's log Z need not rise monotonically, but a fall of a tenth of the last rise or
        # more is how parallel EP overshoots (e.g. a period-2 cycle on strongly correlated
        # sites): damp that problem harder from now on.
        change = lz_next - lz
        fall = (-change).clamp_min(0.0)
        oscillating = (fall > 0.1 * last_rise) & (fall > 1e-9 * (1.0 + lz.abs())) & (steps > 1e-3)
        steps = torch.where(oscillating, steps / 2, steps)
        if p.restore_step:
            # the overshoot is often a transient of the first sweeps (hard sites from the
            # prior), and a step left halved makes the tail contract at >= 1/2 per sweep. So
            # after calm sweeps (rises, each under half the one before) the step doubles back
            # (<= step): after 1 the first time, 3 the second, 5 ... (no endless ping-pong
            # on a problem that really cycles).
            calm = (change > 0) & (change < 0.5 * last_rise) & ~oscillating
            calm_run = torch.where(calm, calm_run + 1, torch.zeros_like(calm_run))
            back = (calm_run >= 1 + 2 * restores) & (steps < step)
            steps = torch.where(back, (steps * 2).clamp_max(step), steps)
            restores = restores + back.to(restores.dtype)
            calm_run = torch.where(back, torch.zeros_like(calm_run), calm_run)
        last_rise = torch.where(change > 0, change, last_rise)
        tau, nu, post, lz = tau_next, nu_next, post_next, lz_next
    lz = monitor.estimate(lz)
    return EPResult(lz, tau, nu, post.mu, post.var, sweeps, converged, monitor.last_change)


def _sequential(p: _EPProblem, tau: Tensor, nu: Tensor) -> EPResult:
    """R&W Alg. 3.5: sites in a random order, rank-1 posterior updates, recompute per sweep."""
    K, y, m, noise, step, max_sweeps, tol, mu_tol, seed = (
        p.K, p.y, p.m, p.noise, p.step, p.max_sweeps, p.tol, p.mu_tol, p.seed
    )  # fmt: skip
    n = K.shape[-1]
    batch = y.shape[:-1]
    gen = torch.Generator().manual_seed(seed)
    post = prior_posterior(K, m) if not bool(tau.any()) else posterior(K, tau, nu, m, full=True)
    lz = log_marginal(K, y, tau, nu, m, post, noise)
    # work on flat (B, n) / (B, n, n) views; the rank-1 update is one in-place baddbmm
    tau_f, nu_f, y_f = tau.reshape(-1, n), nu.reshape(-1, n), y.reshape(-1, n)
    monitor = _Monitor(tol, mu_tol, stop=p.stop)
    sweeps, converged = 0, False
    while sweeps < max_sweeps and not converged:
        assert post.Sigma is not None
        Sigma = post.Sigma.expand(*batch, n, n).reshape(-1, n, n).clone()
        mu = post.mu.expand(*batch, n).reshape(-1, n).clone()
        for i in torch.randperm(n, generator=gen).tolist():
            s_ii, mu_i = Sigma[:, i, i], mu[:, i]
            prec = 1.0 / s_ii
            tau_c = torch.maximum(prec - tau_f[:, i], 1e-10 * prec)
            nu_c = mu_i * prec - nu_f[:, i]
            _, t_new, n_new = site_update(nu_c / tau_c, 1.0 / tau_c, y_f[:, i], noise)
            t_new = ((1.0 - step) * tau_f[:, i] + step * t_new).clamp_min(0.0)
            n_new = (1.0 - step) * nu_f[:, i] + step * n_new
            d_tau, d_nu = t_new - tau_f[:, i], n_new - nu_f[:, i]
            tau_f[:, i], nu_f[:, i] = t_new, n_new
            col = Sigma[:, :, i].clone()
            denom = 1.0 + d_tau * s_ii
            mu.addcmul_(((d_nu - d_tau * mu_i) / denom).unsqueeze(-1), col)
            Sigma.baddbmm_((col * (-d_tau / denom).unsqueeze(-1)).unsqueeze(-1), col.unsqueeze(-2))
        tau, nu = tau_f.reshape(*batch, n), nu_f.reshape(*batch, n)
        post_next = posterior(K, tau, nu, m, full=True)
        lz_next = log_marginal(K, y, tau, nu, m, post_next, noise)
        sweeps += 1
        converged = monitor(lz_next, lz, post_next.mu, post.mu, post_next.var) and sweeps > 1
        post, lz = post_next, lz_next
    lz = monitor.estimate(lz)
    return EPResult(lz, tau, nu, post.mu, post.var, sweeps, converged, monitor.last_change)


def ep_log_marginal(K: Any, y: Any, likelihood: Likelihood = "heaviside", **kw: Any) -> float:
    """log P(y) under a zero-mean GP with covariance K (n, n), labels y in {-1, +1}^n, by EP.

    ``likelihood``: ``"heaviside"`` (P(y|z) = Theta(y z), the paper's) or ``"probit"``
    (Phi(y z), GPy's default). Keyword arguments go to :func:`run_ep`.
    """
    Kt = to_f64(K, "K")
    if Kt.ndim != 2:
        raise ValueError(f"K: expected shape (n, n), got {tuple(Kt.shape)}")
    return float(run_ep(Kt, y, likelihood, **kw).log_z)
