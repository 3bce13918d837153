"""Direct prior sampling of Boolean functions, rejection on S, and agreement with GP-EP/Gibbs."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from occam.sgd_bayes import FCNArch, boolean_inputs, compare_recipes, relu_nngp, sample_functions
from occam.sgd_bayes.boolean import PAPER_ARCH, compare_boolean, target_function
from occam.sgd_bayes.exact import (
    PriorCounts,
    batched_fcn_outputs,
    gibbs_functions,
    orthant_log_prob,
    pack_bits,
    unique_rows,
    unpack_bits,
)

torch.set_num_threads(1)


def test_boolean_inputs_and_bit_packing() -> None:
    X = boolean_inputs(3)
    assert X.tolist()[:3] == [[0, 0, 0], [0, 0, 1], [0, 1, 0]] and X.shape == (8, 3)
    bits = torch.rand(50, 128, generator=torch.Generator().manual_seed(0)) > 0.5
    keys = pack_bits(bits)
    assert keys.shape == (50, 3) and torch.equal(unpack_bits(keys, 128), bits)
    rows, inv = unique_rows(torch.cat([keys, keys[:7]]))
    assert len(rows) == 50 and torch.equal(rows[inv], torch.cat([keys, keys[:7]]))


def test_boolean_inputs_match_the_data_package() -> None:
    data = pytest.importorskip("occam.data")  # the SGD side's inputs: the same order
    assert boolean_inputs(7).tolist() == data.boolean_inputs(7).tolist()


def test_targets() -> None:
    assert target_function("lsb1")[:8].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert int(target_function("msb").sum()) == 64 and int(target_function("and2").sum()) == 32
    assert target_function("01" * 64)[:2].tolist() == [0, 1]
    with pytest.raises(ValueError, match="target"):
        target_function("nope")


def test_rejection_on_a_hand_made_sample() -> None:
    # functions on 4 inputs: 1100 x3, 1101 x1, 0101 x2; condition on input 0 being 1
    bits = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 1], [0, 1, 0, 1]], dtype=torch.bool)
    fc = PriorCounts(pack_bits(bits), torch.tensor([3, 1, 2]), 6, 4)
    post = fc.condition([0], [1], [2, 3])
    assert post.n_samples == 4 and dict(post.top(5)) == {"00": 3, "01": 1}
    assert fc.condition([0, 2], [0, 1], [3]).n_samples == 0


def test_batched_nets_have_the_nngp_covariance() -> None:
    # one hidden layer: E[f(x) f(x')] is the NNGP at any width (no finite-width correction)
    arch = FCNArch(7, (40,), sigma_w=1.0, sigma_b=1.0)
    X = boolean_inputs(7)[::16]
    out = batched_fcn_outputs(arch, X, 40_000, torch.Generator().manual_seed(0)).double()
    emp = out.T @ out / len(out)
    se = (out[:, :, None] * out[:, None, :]).std(0) / math.sqrt(len(out))
    K = relu_nngp(X.double(), depth=1, sigma_w=1.0, sigma_b=1.0)
    assert bool(((emp - K).abs() <= 5 * se).all())


def test_sampling_is_reproducible_and_counts_add_up() -> None:
    X = boolean_inputs(7)
    a = sample_functions(PAPER_ARCH, X, 3000, batch=700, seed=5, merge_every=1000)
    b = sample_functions(PAPER_ARCH, X, 3000, batch=700, seed=5)
    assert int(a.counts.sum()) == 3000 and a.n_samples == 3000 and a.n_points == 128
    assert dict(a.top(10**6)) == dict(b.top(10**6))  # merging in pieces changes nothing
    top = a.top(2)
    assert {top[0][0], top[1][0]} == {"0" * 128, "1" * 128}  # the prior's favourites


def test_boolean_rejection_sampling_agrees_with_gp_ep_and_gibbs() -> None:
    """10^5 random 7-40-40-1 nets; S = 4 inputs of the target x1, E = 3 inputs."""
    X = boolean_inputs(7)
    prior = sample_functions(PAPER_ARCH, X, 100_000, seed=3)
    K = PAPER_ARCH.nngp(X.double())
    perm = torch.randperm(128, generator=torch.Generator().manual_seed(1))
    tr, te = perm[:4], perm[4:7]
    t = target_function("msb")
    post = prior.condition(tr, t[tr], te)
    assert post.n_samples > 1000
    y = 2.0 * t[tr].double() - 1.0
    order = torch.cat([tr, te])
    K_full = K[order][:, order]
    F = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=3)), dtype=torch.float64)
    rec = compare_recipes(K_full, y, F)
    # P(S): width-40 nets against the exact NNGP orthant probability and EP
    log_ps_ghk, _ = orthant_log_prob(K[tr][:, tr], y, 200_000)
    log_ps_sampled = math.log(post.n_samples / prior.n_samples)
    assert log_ps_sampled == pytest.approx(log_ps_ghk, abs=0.15)
    assert rec.log_p_train == pytest.approx(log_ps_ghk, abs=0.05)
    sampled = dict(post.top(8))
    gibbs = gibbs_functions(K_full, y, n_chains=1000, n_sweeps=80)
    gibbs_freq = dict(gibbs.top(8))
    for i, f in enumerate(F):
        bits = "".join("1" if v > 0 else "0" for v in f.tolist())
        p_ep = math.exp(float(rec.joint[i]))
        sd = math.sqrt(p_ep * (1 - p_ep) / post.n_samples)
        # measured |z| <= 2.4 over 24 functions at 10^5 nets: MC error plus width-40 effects
        assert sampled.get(bits, 0) / post.n_samples == pytest.approx(p_ep, abs=4 * sd + 0.02)
        assert gibbs_freq.get(bits, 0) / gibbs.n_samples == pytest.approx(p_ep, abs=0.02)


def test_compare_boolean_report() -> None:
    X = boolean_inputs(7)
    prior = sample_functions(PAPER_ARCH, X, 20_000, seed=0)
    K = PAPER_ARCH.nngp(X.double())
    perm = torch.randperm(128, generator=torch.Generator().manual_seed(0))
    c = compare_boolean(prior, K, "one", perm[:3], test_idx=perm[3:6], top=4,
                        gibbs_chains=200, gibbs_sweeps=20, ghk_samples=20_000)  # fmt: skip
    assert c.n_accepted > 1000 and len(c.rows) == 4
    assert c.rows[0].count >= c.rows[1].count
    s = c.summary()
    assert s["rows"] >= 1 and s["sampled_vs_ep"] < 0.5 and s["gibbs_vs_ep"] < 0.5
