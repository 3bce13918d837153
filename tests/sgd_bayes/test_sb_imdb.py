"""The IMDb LSTM written out step by step equals torch's fused nn.LSTM, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from occam.nets.ensemble import TrainSpec, train_ensemble
from occam.sgd_bayes.imdb import IMDbLSTMArch, ScanLSTMReadout


def test_scan_lstm_equals_nn_lstm():
    g = torch.Generator().manual_seed(0)
    scan = IMDbLSTMArch(5, hidden=7).build(g, dtype=torch.float64)
    ref = nn.LSTM(5, 7, batch_first=True, dtype=torch.float64)
    head = nn.Linear(7, 1, dtype=torch.float64)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(scan.w_ih)
        ref.weight_hh_l0.copy_(scan.w_hh)
        ref.bias_ih_l0.copy_(scan.b)
        ref.bias_hh_l0.zero_()
        head.load_state_dict(scan.readout.state_dict())
    x = torch.randn(4, 9, 5, dtype=torch.float64, generator=g, requires_grad=True)
    out = scan(x)
    want = head(ref(x)[1][0][-1])
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)
    (gx,) = torch.autograd.grad(out.sum(), x)
    (gx_ref,) = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-10, atol=1e-12)
    assert isinstance(scan, ScanLSTMReadout)


def test_lstm_ensemble_fits_a_token_rule():
    """Sequences labelled by the sign of their first feature summed over time: nets fit S."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(24, 6, 3, generator=g)
    y = (X[:, :, 0].sum(1) > 0).float()
    arch = IMDbLSTMArch(3, hidden=8)
    out = train_ensemble(arch.build, X, y, X[:5], 8, TrainSpec(lr=0.5, batch_size=8), g)
    assert out.n_runs == 8 and out.n_unfitted <= 2


def test_word_presence_marks_each_word_once_without_padding():
    """Word presence by hand: repeated words count once, <pad> and <unk> are off."""
    from occam import data
    from occam.sgd_bayes.imdb import word_presence

    ids = np.array([[5, 5, 3, data.PAD], [data.UNK, 2, 4, 4]])
    want = np.zeros((2, 6), dtype=np.float32)
    want[0, [3, 5]] = 1.0
    want[1, [2, 4]] = 1.0
    np.testing.assert_array_equal(word_presence(ids, 6), want)


def test_bow_signal_grows_with_tokens_and_reviews(monkeypatch):
    """On IMDb, 1,000 reviews of 100 tokens carry label signal (a linear bag-of-words model
    is the classic IMDb baseline, ~0.12 error on the full data; here well below a coin),
    and more than 100 reviews of 12 tokens do."""
    from conftest import SHARED_DATA

    from occam.sgd_bayes.config import SgdBayesConfig
    from occam.sgd_bayes.imdb import bow_test_error

    if not (SHARED_DATA / "imdb").is_dir():
        pytest.skip("IMDb is not in OCCAM_DATA_DIR")
    monkeypatch.setenv("OCCAM_DATA_DIR", str(SHARED_DATA))
    small = bow_test_error(SgdBayesConfig(imdb_n_train=100, imdb_max_len=12), 3, n_eval=1000)
    large = bow_test_error(SgdBayesConfig(imdb_n_train=1000, imdb_max_len=100), 3, n_eval=1000)
    assert large < 0.4 and large < small - 0.1
