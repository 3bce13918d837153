"""IMDb sentiment with an LSTM (the paper's §3): |E| = 50, the empirical NNGP kernel.

Reviews are tokenised, truncated to ``max_len`` tokens over a fixed vocabulary (the most
frequent words of the training split), and mapped through a fixed random embedding table
(seeded; N(0, 1/d) entries) to (T, d) float sequences. The network is a one-layer LSTM with
a dense readout of the last hidden state, initialised as in the authors' code (fan-in
normal weights with sigma_w, normal biases with sigma_b). The authors' Keras model trained its
embedding; here the embedding is fixed so that the finite networks and the Monte Carlo
kernel act on the same inputs.

The LSTM is written out step by step (:class:`ScanLSTMReadout`) rather than with
``nn.LSTM``, because ``torch.func.vmap`` has no batching rule for the fused LSTM kernel and the
ensemble trainer needs one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from occam import data
from occam.sgd_bayes.nngp import empirical_nngp
from occam.sgd_bayes.problems import Problem


class ScanLSTMReadout(nn.Module):
    """LSTM over (B, T, d) sequences (gate order i, f, g, o as in ``nn.LSTM``), then a dense
    readout of the last hidden state: (B, T, d) -> (B, out_dim)."""

    def __init__(self, input_dim: int, hidden: int, out_dim: int = 1) -> None:
        super().__init__()
        self.hidden = hidden
        self.w_ih = nn.Parameter(torch.empty(4 * hidden, input_dim))
        self.w_hh = nn.Parameter(torch.empty(4 * hidden, hidden))
        self.b = nn.Parameter(torch.empty(4 * hidden))
        self.readout = nn.Linear(hidden, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        h = x.new_zeros(x.shape[0], self.hidden)
        c = x.new_zeros(x.shape[0], self.hidden)
        pre_in = x @ self.w_ih.T + self.b  # (B, T, 4h): the input part of every step at once
        # unbind, not pre_in[:, t]: each indexing op's backward would fill a zero tensor of the
        # whole (B, T, 4h) (O(T^2) work); unbind's backward is one stack.
        for pre_t in pre_in.unbind(1):
            gates = pre_t + h @ self.w_hh.T
            i, f, g, o = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.readout(h)


@dataclass(frozen=True)
class IMDbLSTMArch:
    """The IMDb LSTM: ``build`` gives the finite net, ``nngp`` its Monte Carlo kernel."""

    input_dim: int
    hidden: int = 32
    sigma_w: float = 1.41
    sigma_b: float = 0.1
    kernel_samples: int = 2000
    out_dim: int = 1

    def build(
        self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> nn.Module:
        net = ScanLSTMReadout(self.input_dim, self.hidden, self.out_dim).to(dtype)
        with torch.no_grad():
            for w, fan_in in ((net.w_ih, self.input_dim), (net.w_hh, self.hidden)):
                w.normal_(0.0, self.sigma_w / math.sqrt(fan_in), generator=generator)
            net.b.normal_(0.0, self.sigma_b, generator=generator)
            net.readout.weight.normal_(
                0.0, self.sigma_w / math.sqrt(self.hidden), generator=generator
            )
            net.readout.bias.normal_(0.0, self.sigma_b, generator=generator)
        return net

    def nngp(self, X1: Tensor, X2: Tensor | None = None) -> Tensor:
        kern = empirical_nngp(self, X1, X2, n_samples=self.kernel_samples, seed=12345)
        K = kern.K
        # The Monte Carlo kernel is only approximately positive definite: project onto the PSD
        # cone (clip negative eigenvalues), so that EP's Cholesky factorisations exist.
        vals, vecs = torch.linalg.eigh((K + K.T) / 2)
        return (vecs * vals.clamp_min(1e-9 * vals.max())) @ vecs.T


def _draw_s(cfg: Any, seed: int) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """The training texts and labels, the rows of S in them and the vocabulary of draw
    ``seed`` (the vocabulary: the most frequent words of 5,000 random training reviews)."""
    texts, labels = data.load_imdb("train")
    rng = np.random.default_rng(seed)
    s = rng.permutation(len(texts))[: cfg.imdb_n_train]
    vocab = data.imdb_vocab(
        [texts[i] for i in rng.permutation(len(texts))[:5000]], max_words=cfg.imdb_vocab
    )
    return texts, labels, s, vocab


def word_presence(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """(N, max_len) token ids -> (N, vocab_size) 0/1 word presence (padding and <unk> off)."""
    x = np.zeros((len(ids), vocab_size), dtype=np.float32)
    x[np.repeat(np.arange(len(ids)), ids.shape[1]), ids.ravel()] = 1.0
    x[:, [data.PAD, data.UNK]] = 0.0
    return x


def bow_test_error(cfg: Any, seed: int, n_eval: int = 2000) -> float:
    """Label signal in S at this size: the test error of a bag-of-words logistic regression
    (word presence over the vocabulary in each review's first ``imdb_max_len`` tokens;
    scikit-learn's L2 default, C = 1) fitted on the reviews of S of draw ``seed``, on
    ``n_eval`` test reviews (a fixed draw apart from E's). 0.5 is a coin."""
    from sklearn.linear_model import LogisticRegression

    texts, labels, s, vocab = _draw_s(cfg, seed)
    test_texts, test_labels = data.load_imdb("test")
    e = np.random.default_rng(709).permutation(len(test_texts))[:n_eval]
    ids_s, _ = data.encode([texts[i] for i in s], vocab, cfg.imdb_max_len)
    ids_e, _ = data.encode([test_texts[i] for i in e], vocab, cfg.imdb_max_len)
    if len(set(labels[s].tolist())) < 2:  # one class in S: the regression predicts it
        return float((test_labels[e] != labels[s][0]).mean())
    clf = LogisticRegression(max_iter=2000).fit(word_presence(ids_s, len(vocab)), labels[s])
    return float((clf.predict(word_presence(ids_e, len(vocab))) != test_labels[e]).mean())


def imdb_problem(cfg: Any, seed: int) -> Problem:
    """S: ``cfg.imdb_n_train`` random training reviews; E: ``cfg.imdb_n_test`` (default 50)
    test reviews drawn with a fixed seed, balanced by construction of the draw."""
    texts, labels, s, vocab = _draw_s(cfg, seed)
    test_texts, test_labels = data.load_imdb("test")
    e = np.random.default_rng(708).permutation(len(test_texts))[: cfg.imdb_n_test]
    ids_s, _ = data.encode([texts[i] for i in s], vocab, cfg.imdb_max_len)
    ids_e, _ = data.encode([test_texts[i] for i in e], vocab, cfg.imdb_max_len)
    g = torch.Generator().manual_seed(4242)
    table = torch.randn(len(vocab), cfg.imdb_embed, generator=g) / math.sqrt(cfg.imdb_embed)
    table[data.PAD] = 0.0

    def embed(ids: np.ndarray) -> Tensor:
        return table[torch.as_tensor(ids)]

    arch = IMDbLSTMArch(
        cfg.imdb_embed, cfg.imdb_hidden, 1.41, 0.1, kernel_samples=cfg.imdb_kernel_samples
    )
    return Problem(
        "imdb",
        embed(ids_s),
        torch.tensor(labels[s], dtype=torch.float32),
        embed(ids_e),
        torch.tensor(test_labels[e], dtype=torch.float32),
        arch=arch,
        description=(
            f"IMDb, LSTM({cfg.imdb_hidden}) on {cfg.imdb_max_len} tokens, fixed random "
            f"{cfg.imdb_embed}-d embeddings, |S| = {cfg.imdb_n_train}, |E| = {cfg.imdb_n_test}, "
            f"empirical NNGP ({cfg.imdb_kernel_samples} inits)"
        ),
    )
