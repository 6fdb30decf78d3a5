"""A character-level LSTM language model: Embedding → LSTM (batch_first) → Linear head (configs/lstm_char.toml)."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl.checks import check_positive_int
from jaxdl.nn._embedding import Embedding
from jaxdl.nn._linear import Linear
from jaxdl.nn._module import Module, module
from jaxdl.nn._rnn import LSTM


@module
class CharLSTM(Module):
    """logits = head(lstm(embedding[idx])[0]): torch's nn.Embedding(vocab_size, emb_dim) →
    nn.LSTM(emb_dim, hidden_size, num_layers, batch_first=True, dropout=dropout) → nn.Linear(hidden_size,
    vocab_size), with those state_dict names (embedding.weight, lstm.weight_ih_l0, ..., head.weight, head.bias)
    and inits; the LSTM starts from zero states. ``context_length`` is not a limit of the model: it is the
    training window and the window ``jaxdl.generate`` recomputes per new token (as for the GPT without a cache).

    Args (apply):
      input: (B, T) integer token ids. Returns logits (B, T, vocab_size).

    Examples:
      >>> import jax, jax.numpy as jnp, jaxdl.nn as nn
      >>> model = nn.CharLSTM(vocab_size=65, context_length=16, emb_dim=8, hidden_size=32, num_layers=2)
      >>> params, state = model.init(jax.random.key(0))
      >>> model.apply(params, state, jnp.zeros((2, 10), jnp.int32))[0].shape
      (2, 10, 65)
    """

    vocab_size: int
    context_length: int
    emb_dim: int
    hidden_size: int
    num_layers: int = 1
    dropout: float = 0.0              # between LSTM layers (torch's LSTM dropout)

    def __post_init__(self):
        for name in ("vocab_size", "context_length", "emb_dim", "hidden_size", "num_layers"):
            check_positive_int(f"CharLSTM: {name}", getattr(self, name))
        self.lstm  # noqa: B018  (nn.LSTM checks dropout)

    @classmethod
    def from_config(cls, cfg: dict) -> "CharLSTM":
        """CharLSTM(**cfg); unknown or missing keys raise (TypeError's message, as a ValueError)."""
        try:
            return cls(**cfg)
        except TypeError as err:
            raise ValueError(f"CharLSTM config {sorted(cfg)}: {err}") from None

    def config(self) -> dict:
        """The config dict this model was built from (inverse of from_config)."""
        return dataclasses.asdict(self)

    @property
    def embedding(self) -> Embedding:
        return Embedding(self.vocab_size, self.emb_dim)

    @property
    def lstm(self) -> LSTM:
        return LSTM(self.emb_dim, self.hidden_size, self.num_layers, batch_first=True, dropout=self.dropout)

    @property
    def head(self) -> Linear:
        return Linear(self.hidden_size, self.vocab_size)

    def init(self, key, dtype=jnp.float32):
        keys = jax.random.split(key, 3)
        return {name: getattr(self, name).init(k, dtype)[0]
                for name, k in zip(("embedding", "lstm", "head"), keys)}, {}

    def apply(self, params, state, input, *, training=False, key=None):
        if jnp.ndim(input) != 2 or not jnp.issubdtype(jnp.asarray(input).dtype, jnp.integer):
            raise ValueError(f"CharLSTM: input must be (batch, time) integer token ids; got shape "
                             f"{jnp.shape(input)} dtype {jnp.asarray(input).dtype}")
        x = self.embedding.apply(params["embedding"], {}, input)[0]  # (B, T, E)
        (out, _), _ = self.lstm.apply(params["lstm"], {}, x, training=training, key=key)  # (B, T, H)
        return self.head.apply(params["head"], {}, out)[0], state  # (B, T, V)
