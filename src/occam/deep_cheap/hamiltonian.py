"""The Hamiltonian/softmax argument: a network of gates that computes the Bayes posterior.

LTR §II A–B (eq. 2, 3, 8): with H_y(x) = −ln p(x|y) and μ_y = −ln p(y), Bayes' rule is
p(y|x) = softmax_y(−H_y(x) − μ_y): a network that computes the Hamiltonians H_y needs only a
softmax layer whose bias is the log prior. For Gaussian class conditionals (LTR eq. 14)::

    H_y(x) = ½ (x − m_y)ᵀ Σ_y⁻¹ (x − m_y) + ½ ln det(2π Σ_y)

is a quadratic polynomial, so the polynomial compiler builds it from squaring and product
gates (shared across classes: every class uses the same monomials x_i x_j). With unequal
covariances the logits are quadratic (QDA); a logistic regression on the raw inputs has
affine logits (LDA-like) and cannot represent the posterior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp
import torch
from torch import Tensor, nn

from occam.deep_cheap.polynomial import PolynomialNetwork, compile_polynomials

__all__ = [
    "GaussianClasses",
    "HamiltonianNetwork",
    "bayes_log_posterior",
    "MixtureClasses",
    "fit_gaussian_classes",
    "fit_logistic_regression",
    "make_mixture_classes",
    "parameter_count",
    "shared_covariance",
    "make_gaussian_classes",
    "mean_kl",
]


@dataclass
class GaussianClasses:
    """K Gaussian classes in d dims: priors (K,), means (K, d), covariances (K, d, d)."""

    priors: Tensor
    means: Tensor
    covs: Tensor

    @property
    def dims(self) -> int:
        return int(self.means.shape[1])

    def sample(self, count: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """x (count, d) float64 and labels y (count,) int64 from the mixture."""
        y = torch.multinomial(self.priors, count, replacement=True, generator=generator)
        z = torch.randn(count, self.dims, generator=generator, dtype=torch.float64)
        chol = torch.linalg.cholesky(self.covs)  # (K, d, d)
        x = self.means[y] + torch.einsum("nij,nj->ni", chol[y], z)
        return x, y

    def hamiltonians(self, x: Tensor) -> Tensor:
        """Exact H_y(x) = −ln N(x; m_y, Σ_y): (batch, d) → (batch, K), float64."""
        chol = torch.linalg.cholesky(self.covs)
        diff = x[:, None, :] - self.means[None]  # (batch, K, d)
        sol = torch.linalg.solve_triangular(
            chol[None].expand(x.shape[0], -1, -1, -1), diff[..., None], upper=False
        ).squeeze(-1)
        logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        return 0.5 * (sol**2).sum(-1) + 0.5 * (logdet + self.dims * math.log(2 * math.pi))


def make_gaussian_classes(
    classes: int, dims: int, generator: torch.Generator, mean_scale: float = 1.0
) -> GaussianClasses:
    """Random classes with unequal covariances: Σ_y = Q diag(s²) Qᵀ, s ∈ [0.25, 2] log-uniform.

    Priors ∝ 1 + U[0, 1]; means ~ N(0, mean_scale² I); Q a random rotation (QR of a Gaussian).
    """
    f64 = torch.float64
    priors = 1.0 + torch.rand(classes, generator=generator, dtype=f64)
    priors = priors / priors.sum()
    means = mean_scale * torch.randn(classes, dims, generator=generator, dtype=f64)
    covs = []
    for _ in range(classes):
        q, _ = torch.linalg.qr(torch.randn(dims, dims, generator=generator, dtype=f64))
        log_s = math.log(0.25) + (math.log(2.0) - math.log(0.25)) * torch.rand(
            dims, generator=generator, dtype=f64
        )
        covs.append(q @ torch.diag(torch.exp(2 * log_s)) @ q.T)
    return GaussianClasses(priors, means, torch.stack(covs))


def fit_gaussian_classes(x: Tensor, y: Tensor, classes: int) -> GaussianClasses:
    """Maximum-likelihood Gaussian classes (class frequencies, means, covariances) from samples.

    The fitted Hamiltonians Ĥ_y(x) = −ln N(x; m̂_y, Σ̂_y) are quadratic (LTR eq. 14); the
    network built from them is what a learner can have, as opposed to the true parameters.
    """
    d = x.shape[1]
    priors = torch.stack([(y == k).double().mean() for k in range(classes)])
    means = torch.stack([x[y == k].mean(dim=0) for k in range(classes)])
    covs = torch.stack([torch.cov(x[y == k].T, correction=0).reshape(d, d) for k in range(classes)])
    return GaussianClasses(priors, means, covs)


def parameter_count(classes: int, dims: int) -> int:
    """Free parameters of K Gaussian classes: K − 1 priors, K d means, K d(d+1)/2 covariances."""
    return classes - 1 + classes * (dims + dims * (dims + 1) // 2)


def shared_covariance(model: GaussianClasses) -> GaussianClasses:
    """The same classes with every covariance replaced by the first one (LDA: affine logits)."""
    k = model.priors.shape[0]
    return GaussianClasses(model.priors, model.means, model.covs[:1].expand(k, -1, -1).clone())


@dataclass
class MixtureClasses:
    """Each class y a mixture ½N(m_y + δ_y, Σ_y) + ½N(m_y − δ_y, Σ_y): H_y is not quadratic."""

    base: GaussianClasses
    offsets: Tensor  # (K, d)

    def sample(self, count: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        x, y = self.base.sample(count, generator)
        side = torch.randint(0, 2, (count,), generator=generator).double() * 2.0 - 1.0
        return x + side[:, None] * self.offsets[y], y

    def log_posterior(self, x: Tensor) -> Tensor:
        """Exact ln p(y|x): (batch, d) → (batch, K)."""
        b = self.base
        h_plus = GaussianClasses(b.priors, b.means + self.offsets, b.covs).hamiltonians(x)
        h_minus = GaussianClasses(b.priors, b.means - self.offsets, b.covs).hamiltonians(x)
        log_px = torch.logsumexp(torch.stack([-h_plus, -h_minus]), dim=0) - math.log(2.0)
        return torch.log_softmax(log_px + torch.log(b.priors), dim=1)


def make_mixture_classes(
    model: GaussianClasses, separation: float, generator: torch.Generator
) -> MixtureClasses:
    """Split each class of ``model`` into two components ± δ_y, |δ_y| = separation, random δ."""
    k, d = model.means.shape
    delta = torch.randn(k, d, generator=generator, dtype=torch.float64)
    return MixtureClasses(model, separation * delta / delta.norm(dim=1, keepdim=True))


def bayes_log_posterior(model: GaussianClasses, x: Tensor) -> Tensor:
    """ln p(y|x) = log_softmax_y(−H_y(x) + ln p(y)) (LTR eq. 8): (batch, d) → (batch, K)."""
    return torch.log_softmax(-model.hamiltonians(x) + torch.log(model.priors), dim=1)


def _hamiltonian_polynomial(mean: Tensor, cov: Tensor, centre: Tensor, scale: float) -> sp.Expr:
    """H(x) with x = centre + scale·u, as a SymPy quadratic in u = (x1..xd)."""
    d = mean.shape[0]
    prec = torch.linalg.inv(cov)
    u = sp.symbols(f"x1:{d + 1}")
    shift = (centre - mean).tolist()
    xs = [shift[i] + scale * u[i] for i in range(d)]
    quad = sum(float(prec[i, j]) * xs[i] * xs[j] for i in range(d) for j in range(d))
    logdet = float(torch.logdet(2 * math.pi * cov))
    return sp.expand(sp.Rational(1, 2) * quad + 0.5 * logdet)


class HamiltonianNetwork(nn.Module):
    """x (batch, d) → ln p(y|x) (batch, K): compiled Hamiltonians, then softmax with bias ln p(y).

    The input layer is affine, u = (x − centre)/scale (no neurons), so that the data lie in
    [−1,1]^d where the gates are accurate; the compiled network computes H_y as a polynomial
    in u; the last layer is log_softmax(−H + ln p(y)) (LTR: "the μ-vector simply becomes the
    bias term in this final layer").
    """

    def __init__(
        self,
        model: GaussianClasses,
        centre: Tensor,
        scale: float,
        activation: str = "softplus",
        lam: float | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        polys = [
            _hamiltonian_polynomial(model.means[y], model.covs[y], centre, scale)
            for y in range(model.priors.shape[0])
        ]
        self.hamiltonian: PolynomialNetwork = compile_polynomials(
            polys, activation, lam, n_vars=model.dims, squaring=True, dtype=dtype
        )
        self.centre: Tensor
        self.log_prior: Tensor
        self.register_buffer("centre", centre.clone())
        self.register_buffer("log_prior", torch.log(model.priors))
        self.scale = float(scale)
        self.neuron_count = self.hamiltonian.neuron_count
        self.classes = model  # the class model whose Hamiltonians the network computes

    def logits(self, x: Tensor) -> Tensor:
        """−H_y(x) + ln p(y): (batch, d) → (batch, K)."""
        u = (x.double() - self.centre) / self.scale
        return -self.hamiltonian(u).double() + self.log_prior

    def forward(self, x: Tensor) -> Tensor:
        return torch.log_softmax(self.logits(x), dim=1)


def fit_logistic_regression(
    x: Tensor, y: Tensor, classes: int, l2: float = 1e-6, max_iter: int = 500
) -> nn.Linear:
    """Multinomial logistic regression (affine logits W x + b) by full-batch L-BFGS, float64."""
    lin = nn.Linear(x.shape[1], classes, dtype=torch.float64)
    nn.init.zeros_(lin.weight)
    nn.init.zeros_(lin.bias)
    opt = torch.optim.LBFGS(
        lin.parameters(),
        lr=1.0,
        max_iter=max_iter,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
    )

    def closure() -> Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(lin(x), y) + l2 * (lin.weight**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lin


def mean_kl(log_p: Tensor, log_q: Tensor) -> float:
    """Mean over rows of KL(p ‖ q) = Σ_y p (ln p − ln q), from log-probabilities (nats)."""
    with torch.no_grad():
        return float((log_p.exp() * (log_p - log_q)).sum(dim=1).mean())
