"""What IMDb costs and carries at a given size: label signal and the LSTM trainer's rate.

Mingard et al. (2021, §3) train an LSTM on IMDb with |E| = 50. Whether a CPU-sized IMDb
problem says anything about the paper depends on two numbers, measured here per size
(tokens per review x reviews in S):

* label signal: a bag-of-words logistic regression (binary word presence over the study's
  vocabulary, first ``max_len`` tokens, scikit-learn's L2 default C = 1) trained on |S|
  random training reviews and scored on 5,000 test reviews; mean test error and a 95%
  bootstrap interval over independent draws of S. 0.5 is a coin.
* the batched LSTM trainer (:func:`occam.nets.ensemble.train_ensemble`, the study's IMDb
  setting: LSTM(16) on fixed random 16-d embeddings, Adam lr 0.01, batch 25): nets/s and
  epochs to fit S for a small ensemble, with the wall and CPU seconds of that training.

    PYTHONPATH=src python benchmarks/sgd_bayes_imdb.py                     # ~5-10 minutes
    PYTHONPATH=src python benchmarks/sgd_bayes_imdb.py --sizes 12x100 --lstm-nets 4
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from occam import data
from occam.nets.ensemble import TrainSpec, train_ensemble
from occam.sgd_bayes.imdb import IMDbLSTMArch, word_presence


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bow_error(
    texts: list[str],
    labels: np.ndarray,
    test_ids: np.ndarray,
    test_labels: np.ndarray,
    vocab: list[str],
    max_len: int,
    n_train: int,
    draws: int,
) -> tuple[float, tuple[float, float], list[float]]:
    """Test error of BoW logistic regression on ``draws`` draws of S: (mean, 95% CI, values)."""
    errs = []
    x_test = word_presence(test_ids, len(vocab))
    for r in range(draws):
        s = np.random.default_rng(1000 + r).permutation(len(texts))[:n_train]
        ids, _ = data.encode([texts[i] for i in s], vocab, max_len)
        clf = LogisticRegression(max_iter=2000).fit(word_presence(ids, len(vocab)), labels[s])
        errs.append(float((clf.predict(x_test) != test_labels).mean()))
    a = np.array(errs)
    boots = np.random.default_rng(0).choice(a, size=(2000, len(a))).mean(axis=1)
    ci = (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)))
    return float(a.mean()), ci, errs


def lstm_rate(
    texts: list[str],
    labels: np.ndarray,
    vocab: list[str],
    max_len: int,
    n_train: int,
    n_nets: int,
    max_epochs: int,
) -> dict[str, float]:
    """The study's IMDb trainer on |S| = ``n_train`` reviews of ``max_len`` tokens."""
    s = np.random.default_rng(0).permutation(len(texts))[:n_train]
    ids, _ = data.encode([texts[i] for i in s], vocab, max_len)
    g = torch.Generator().manual_seed(4242)
    table = torch.randn(len(vocab), 16, generator=g) / math.sqrt(16)
    table[data.PAD] = 0.0
    X = table[torch.as_tensor(ids)]
    y = torch.tensor(labels[s], dtype=torch.float32)
    arch = IMDbLSTMArch(16, 16, 1.41, 0.1)
    spec = TrainSpec(optimizer="adam", lr=0.01, batch_size=25, max_epochs=max_epochs)
    t, c = time.perf_counter(), cpu_seconds()
    out = train_ensemble(arch.build, X, y, X[:10], n_nets, spec, torch.Generator().manual_seed(1))
    wall, cpu = time.perf_counter() - t, cpu_seconds() - c
    epochs = out.epochs.astype(float)
    return {
        "nets": n_nets,
        "fitted": int(len(epochs)),
        "median_epochs": float(np.median(epochs)) if len(epochs) else float("nan"),
        "wall": wall,
        "cpu": cpu,
        "nets_per_s": n_nets / wall,
        # epoch-nets per second: the rate at which the trainer does one epoch of one net
        "epoch_nets_per_s": (epochs.sum() + out.n_unfitted * max_epochs) / wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="12x100,100x100,12x1000,100x1000", help="TOKENSxREVIEWS")
    ap.add_argument("--draws", type=int, default=5, help="draws of S for the BoW error")
    ap.add_argument("--vocab", type=int, default=2000, help="vocabulary size (the study's)")
    ap.add_argument("--lstm-nets", type=int, default=8, help="nets in the timed ensemble")
    ap.add_argument("--lstm-sizes", default="12x100,100x1000", help="sizes to time the LSTM at")
    ap.add_argument("--max-epochs", type=int, default=300, help="epoch cap of the LSTM")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    texts, labels = data.load_imdb("train", quiet=True)
    test_texts, test_labels = data.load_imdb("test", quiet=True)
    vocab = data.imdb_vocab(
        [texts[i] for i in np.random.default_rng(7).permutation(len(texts))[:5000]],
        max_words=args.vocab,
    )
    e = np.random.default_rng(708).permutation(len(test_texts))[:5000]
    print(f"{'tokens':>6} {'|S|':>6} {'BoW test error [95% CI]':>26}  per draw")
    for size in args.sizes.split(","):
        max_len, n_train = (int(v) for v in size.split("x"))
        test_ids, _ = data.encode([test_texts[i] for i in e], vocab, max_len)
        m, (lo, hi), vals = bow_error(
            texts, labels, test_ids, test_labels[e], vocab, max_len, n_train, args.draws
        )
        per = " ".join(f"{v:.3f}" for v in vals)
        print(f"{max_len:>6} {n_train:>6} {m:>10.3f} [{lo:.3f}, {hi:.3f}]  {per}")
    print(
        f"\n{'tokens':>6} {'|S|':>6} {'nets':>5} {'fitted':>6} {'med ep':>6} {'wall s':>7} "
        f"{'CPU s':>7} {'nets/s':>8} {'epoch-nets/s':>12}"
    )
    for size in [s for s in args.lstm_sizes.split(",") if s]:
        max_len, n_train = (int(v) for v in size.split("x"))
        r = lstm_rate(texts, labels, vocab, max_len, n_train, args.lstm_nets, args.max_epochs)
        print(
            f"{max_len:>6} {n_train:>6} {r['nets']:>5} {r['fitted']:>6} {r['median_epochs']:>6.0f} "
            f"{r['wall']:>7.1f} {r['cpu']:>7.1f} {r['nets_per_s']:>8.3f} "
            f"{r['epoch_nets_per_s']:>12.2f}"
        )


if __name__ == "__main__":
    main()
