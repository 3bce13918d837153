"""The Hamiltonian network reproduces the Bayes posterior; logistic regression cannot."""

from __future__ import annotations

import math

import pytest
import torch

from occam.deep_cheap import hamiltonian as hm


def _setup(dims: int, seed: int = 0, train: int = 3000, test: int = 5000):
    g = torch.Generator().manual_seed(seed)
    model = hm.make_gaussian_classes(3, dims, g)
    x_train, y_train = model.sample(train, g)
    x_test, y_test = model.sample(test, g)
    return model, x_train, y_train, x_test, y_test


def test_hamiltonians_are_gaussian_log_densities() -> None:
    model, _, _, x, _ = _setup(3)
    h = model.hamiltonians(x[:50])
    for y in range(3):
        dist = torch.distributions.MultivariateNormal(model.means[y], model.covs[y])
        assert torch.allclose(h[:, y], -dist.log_prob(x[:50]), atol=1e-10)
    post = hm.bayes_log_posterior(model, x).exp()
    assert torch.allclose(post.sum(1), torch.ones(len(x), dtype=torch.float64))


@pytest.mark.parametrize("dims", [2, 3, 4])
def test_network_equals_bayes_posterior(dims: int) -> None:
    model, x_train, y_train, x_test, _ = _setup(dims)
    centre = x_train.mean(0)
    net = hm.HamiltonianNetwork(model, centre, float((x_train - centre).abs().max()))
    # shared monomials: d squaring gates (3 neurons) + d(d-1)/2 product gates (4 neurons)
    assert net.neuron_count == 3 * dims + 4 * dims * (dims - 1) // 2
    with torch.no_grad():
        log_bayes = hm.bayes_log_posterior(model, x_test)
        log_net = net(x_test)
        log_logistic = torch.log_softmax(
            hm.fit_logistic_regression(x_train, y_train, 3)(x_test), dim=1
        )
    kl_net = hm.mean_kl(log_bayes, log_net)
    assert kl_net <= 1e-4
    assert (log_net.argmax(1) == log_bayes.argmax(1)).double().mean() >= 0.999
    kl_logistic = hm.mean_kl(log_bayes, log_logistic)
    assert kl_logistic >= 1e-3
    assert kl_logistic >= 10 * max(kl_net, 1e-4)


def test_shared_covariance_makes_logistic_enough() -> None:
    # LDA case: with one covariance for all classes the logits are affine (LTR eq. 14)
    model, *_ = _setup(2)
    shared = hm.GaussianClasses(model.priors, model.means, model.covs[:1].expand(3, 2, 2).clone())
    g = torch.Generator().manual_seed(5)
    x_train, y_train = shared.sample(20000, g)
    x_test, _ = shared.sample(5000, g)
    with torch.no_grad():
        log_bayes = hm.bayes_log_posterior(shared, x_test)
        log_logistic = torch.log_softmax(
            hm.fit_logistic_regression(x_train, y_train, 3)(x_test), dim=1
        )
    assert hm.mean_kl(log_bayes, log_logistic) < 2e-3


def test_mean_kl() -> None:
    p = torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]], dtype=torch.float64))
    q = torch.log(torch.tensor([[0.5, 0.5], [0.5, 0.5]], dtype=torch.float64))
    expected = 0.5 * (0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5))
    assert hm.mean_kl(p, q) == pytest.approx(expected)
    assert hm.mean_kl(p, p) == 0.0


def test_fitted_classes_recover_the_model_and_mixtures_normalise() -> None:
    g = torch.Generator().manual_seed(4)
    model = hm.make_gaussian_classes(3, 2, g)
    x, y = model.sample(200_000, g)
    fit = hm.fit_gaussian_classes(x, y, 3)
    assert torch.allclose(fit.priors, model.priors, atol=0.01)
    assert torch.allclose(fit.means, model.means, atol=0.03)
    assert torch.allclose(fit.covs, model.covs, atol=0.05)
    assert hm.parameter_count(3, 2) == 2 + 3 * (2 + 3)
    shared = hm.shared_covariance(model)
    assert torch.equal(shared.covs[2], model.covs[0])
    mix = hm.make_mixture_classes(model, 2.0, g)
    lp = mix.log_posterior(x[:100])
    assert torch.allclose(lp.exp().sum(1), torch.ones(100, dtype=torch.float64))
    assert torch.allclose(mix.offsets.norm(dim=1), torch.full((3,), 2.0, dtype=torch.float64))
