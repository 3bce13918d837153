"""P_B(f|S): the Bayesian posterior probability of a function f on a test set E, given S.

With the 0-1 likelihood of the paper, P_B(f|S) = P(S, f) / P(S) (§2 of the paper), where both
probabilities are orthant probabilities of the NNGP Gaussian process. Two EP recipes,
both in log space throughout:

* **joint** (the paper's, ``analyze_perceptron_sgd_vs_bayes.py``):
      log P_B(f|S) = log Z_EP(S u (E, f)) - log Z_EP(S),
  a joint EP over the m + k sites, warm-started from the S-only sites.
* **fast**: EP on S once; the EP posterior predictive N(mu_E, Sigma_E) on E; then a small EP
  with Heaviside sites on the k test points under that non-zero-mean prior:
      log P_B(f|S) = log Z_EP(f; N(mu_E, Sigma_E)).
  Equivalent to the joint recipe with the S sites frozen; all functions run as one batch.

Rows and columns of ``K_full`` are the m training points, then the k test points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from occam.sgd_bayes._arrays import as_pm1, like, to_f64
from occam.sgd_bayes.ep import EPResult, Likelihood, run_ep

Recipe = Literal["joint", "fast"]
_BATCH_DOUBLES = 2**24  # largest (batch, n, n) tensor a batched EP may allocate (128 MiB)


def _split(K_full: Any, y_train: Any, functions: Any) -> tuple[Tensor, Tensor, Tensor]:
    """Validate the three inputs; returns K (m+k, m+k), y (m,), F (n_functions, k) as +-1."""
    K = to_f64(K_full, "K_full")
    y = as_pm1(y_train, "y_train")
    F = as_pm1(functions, "functions")
    if F.ndim == 1:
        F = F.unsqueeze(0)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K_full: expected a square matrix, got shape {tuple(K.shape)}")
    if y.ndim != 1:
        raise ValueError(f"y_train: expected shape (m,), got {tuple(y.shape)}")
    m, k = y.shape[0], K.shape[0] - y.shape[0]
    if k < 1 or F.ndim != 2 or F.shape[1] != k:
        raise ValueError(
            f"functions: expected shape (n_functions, {k}) = K_full size {K.shape[0]} minus "
            f"{m} training points, got {tuple(F.shape)}"
        )
    return K, y, F


def _chunks(n_items: int, n: int) -> range:
    return range(0, n_items, max(1, _BATCH_DOUBLES // (n * n)))


@dataclass
class TrainEP:
    """EP on the training set alone: log P(S) and the S sites (reused by both recipes)."""

    log_p_train: float
    result: EPResult


def train_ep(K_train: Tensor, y_train: Tensor, likelihood: Likelihood, **ep_kw: Any) -> TrainEP:
    r = run_ep(K_train, y_train, likelihood, **ep_kw)
    return TrainEP(float(r.log_z), r)


def predictive(K_full: Tensor, train: TrainEP) -> tuple[Tensor, Tensor]:
    """EP posterior predictive on the test points: mean (k,) and covariance (k, k).

    With sites (tau, nu) on S, B = I + S^1/2 K_SS S^1/2 = L L^T (R&W Alg. 3.6):
        mu_E    = K_ES (nu - S^1/2 B^-1 S^1/2 K_SS nu)
        Sigma_E = K_EE - W^T W,   W = L^-1 S^1/2 K_SE
    """
    m = train.result.tau.shape[-1]
    Kss, Kse, Kee = K_full[:m, :m], K_full[:m, m:], K_full[m:, m:]
    tau, nu = train.result.tau, train.result.nu
    sw = tau.sqrt()
    B = Kss * sw[:, None]  # one m x m buffer (8 m^2 bytes: 800 MB at m = 10^4), scaled in place
    B.mul_(sw[None, :]).diagonal().add_(1.0)
    L = torch.linalg.cholesky(B)
    del B
    alpha = nu - sw * torch.cholesky_solve((sw * (Kss @ nu))[:, None], L)[:, 0]
    W = torch.linalg.solve_triangular(L, sw[:, None] * Kse, upper=False)
    Sigma = Kee - W.T @ W
    return Kse.T @ alpha, 0.5 * (Sigma + Sigma.T)


def log_pb_fast(
    K_full: Tensor,
    F: Tensor,
    train: TrainEP,
    likelihood: Likelihood = "heaviside",
    **ep_kw: Any,
) -> Tensor:
    """The fast recipe for validated inputs; returns (n_functions,) log P_B(f|S)."""
    mu_e, Sigma_e = predictive(K_full, train)
    chunks = _chunks(F.shape[0], F.shape[1])
    out = [
        run_ep(Sigma_e, F[i : i + chunks.step], likelihood, mean=mu_e, **ep_kw).log_z.reshape(-1)
        for i in chunks
    ]
    return torch.cat(out)


def log_pb_joint(
    K_full: Tensor,
    y: Tensor,
    F: Tensor,
    train: TrainEP,
    likelihood: Likelihood = "heaviside",
    **ep_kw: Any,
) -> Tensor:
    """The paper's recipe for validated inputs; returns (n_functions,) log P_B(f|S)."""
    m, k = y.shape[0], F.shape[1]
    n = m + k
    tau0 = torch.cat([train.result.tau, torch.zeros(k, dtype=K_full.dtype)])
    nu0 = torch.cat([train.result.nu, torch.zeros(k, dtype=K_full.dtype)])
    chunks = _chunks(F.shape[0], n)
    out = []
    for i in chunks:
        Fi = F[i : i + chunks.step]
        Y = torch.cat([y.expand(Fi.shape[0], m), Fi], dim=1)
        r = run_ep(K_full, Y, likelihood, init=(tau0, nu0), **ep_kw)
        out.append(r.log_z.reshape(-1) - train.log_p_train)
    return torch.cat(out)


def log_pb(
    K_full: Any,
    y_train: Any,
    functions: Any,
    *,
    recipe: Recipe = "joint",
    likelihood: Likelihood = "heaviside",
    **ep_kw: Any,
) -> Any:
    """log P_B(f|S) for each labelling f of the test points, by EP.

    K_full: (m + k, m + k) prior covariance (NNGP kernel) over the m training points, then
    the k test points. y_train: (m,) labels in {-1, +1} (or {0, 1}). functions: (n_f, k) or
    (k,) labellings of the test points in {-1, +1} (or {0, 1}, or '0101' bit strings).
    recipe: ``"joint"`` (the paper's: joint EP over S u E minus log P(S)) or ``"fast"`` (EP on
    S, predictive on E, small EP on E). Returns (n_f,) natural logs, numpy unless K_full is a
    torch tensor. Keyword arguments go to :func:`occam.sgd_bayes.ep.run_ep`.
    """
    if recipe not in ("joint", "fast"):
        raise ValueError(f"recipe: expected 'joint' or 'fast', got {recipe!r}")
    K, y, F = _split(K_full, y_train, functions)
    m = y.shape[0]
    train = train_ep(K[:m, :m], y, likelihood, **ep_kw)
    if recipe == "joint":
        out = log_pb_joint(K, y, F, train, likelihood, **ep_kw)
    else:
        out = log_pb_fast(K, F, train, likelihood, **ep_kw)
    return like(K_full, out)


@dataclass
class RecipeComparison:
    """Both recipes on the same functions. Arrays (n_f,); ``diff = joint - fast`` in nats."""

    log_p_train: float
    joint: Tensor
    fast: Tensor

    @property
    def diff(self) -> Tensor:
        return self.joint - self.fast


def compare_recipes(
    K_full: Any,
    y_train: Any,
    functions: Any,
    *,
    likelihood: Likelihood = "heaviside",
    **ep_kw: Any,
) -> RecipeComparison:
    """Run both recipes (sharing one EP on S) and return them side by side."""
    K, y, F = _split(K_full, y_train, functions)
    m = y.shape[0]
    train = train_ep(K[:m, :m], y, likelihood, **ep_kw)
    joint = log_pb_joint(K, y, F, train, likelihood, **ep_kw)
    fast = log_pb_fast(K, F, train, likelihood, **ep_kw)
    return RecipeComparison(train.log_p_train, joint, fast)


def predictive_error(
    K_full: Any, y_train: Any, y_test: Any, *, likelihood: Likelihood = "heaviside", **ep_kw: Any
) -> float:
    """Expected test error of the Bayesian sampler: a function drawn from the EP posterior.

    EP on S, the posterior predictive N(mu_E, Sigma_E) on E, then the mean over test points of
    P(sign z_i != y_i) = Phi(-y_i mu_i / sqrt(Sigma_ii)) (the latent z is thresholded, so the
    Heaviside/probit choice enters only through the EP sites). K_full: (m + k, m + k),
    training points first; y_train (m,), y_test (k,) in {-1, +1} (or {0, 1}).
    """
    K, y, F = _split(K_full, y_train, y_test)
    m = y.shape[0]
    mu, Sigma = predictive(K, train_ep(K[:m, :m], y, likelihood, **ep_kw))
    sd = Sigma.diagonal().clamp_min(1e-300).sqrt()
    return float(torch.special.ndtr(-F[0] * mu / sd).mean())
