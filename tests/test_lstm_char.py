"""configs/lstm_char.toml end to end (jaxdl train, then jaxdl sample from its checkpoint) and nn.CharLSTM's
forward against torch's nn.Embedding → nn.LSTM(batch_first=True) → nn.Linear with the same weights."""
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.cli import main
from jaxdl.config import load_config
from jaxdl.experiment import build_vocab
from jaxdl.generate import generate
from jaxdl.interop import load_state_dict

SMALL = ["data.num_chars=20000", "train.epochs=2", "optim.lr=0.01", "model.emb_dim=16", "model.hidden_size=32",
         "model.num_layers=1"]


class TorchCharLSTM(torch.nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size, num_layers):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab_size, emb_dim)
        self.lstm = torch.nn.LSTM(emb_dim, hidden_size, num_layers, batch_first=True)
        self.head = torch.nn.Linear(hidden_size, vocab_size)

    def forward(self, idx):
        return self.head(self.lstm(self.embedding(idx))[0])


def test_char_lstm_forward_equals_torch_float64():
    torch.manual_seed(0)
    tm = TorchCharLSTM(11, 5, 7, 2).double()
    jm = nn.CharLSTM(vocab_size=11, context_length=8, emb_dim=5, hidden_size=7, num_layers=2)
    idx = np.random.default_rng(0).integers(0, 11, size=(3, 8))
    with jax.enable_x64(True):
        params, state = load_state_dict(jm, tm.state_dict())  # torch's names: embedding., lstm.weight_ih_l0, head.
        logits = jm.apply(params, state, jnp.asarray(idx))[0]
        assert logits.dtype == jnp.float64 and logits.shape == (3, 8, 11)
        np.testing.assert_allclose(np.asarray(logits), tm(torch.from_numpy(idx)).detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        with pytest.raises(ValueError, match="use_cache=True needs a model with init_cache/decode"):
            generate(jm, params, jnp.asarray(idx[:, :2]), 2, key=jax.random.key(0), use_cache=True)


def test_train_then_sample_from_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "configs/lstm_char.toml", "--no-progress", "--out", str(out),
                 *sum((["--set", s] for s in SMALL), [])]) == 0
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    chance = math.log(build_vocab(load_config("configs/lstm_char.toml", SMALL)).size)  # uniform over the vocab
    assert abs(history[0]["step_loss"][0] - chance) < 0.1  # an untrained model: about ln(vocab)
    assert history[-1]["val_loss"] < history[0]["val_loss"] < chance
    assert history[-1]["val_loss"] < chance - 0.3, (history[-1]["val_loss"], chance)
    capsys.readouterr()
    assert main(["sample", str(out / "checkpoint.msgpack"), "--prompt", "def ", "--max-new-tokens", "30",
                 "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("def ") and len(text) == 4 + 30 + 1, repr(text)  # print's newline
