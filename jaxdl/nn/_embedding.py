"""Embedding, as torch.nn.Embedding."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class Embedding(Module):
    """torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None); weight ~ N(0, 1), padding row 0.

    Differs from flax.linen.Embed: N(0, 1) init (flax: std 1/√features).
    """

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None = None

    def __post_init__(self):
        if self.padding_idx is not None and not -self.num_embeddings <= self.padding_idx < self.num_embeddings:
            raise ValueError(f"Embedding: padding_idx must be within num_embeddings, in [{-self.num_embeddings}, "
                             f"{self.num_embeddings}); got {self.padding_idx}")

    def init(self, key, dtype=jnp.float32):
        weight = jax.random.normal(key, (self.num_embeddings, self.embedding_dim), dtype)
        if self.padding_idx is not None:
            weight = weight.at[self.padding_idx].set(0)
        return {"weight": weight}, {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.embedding(input, params["weight"], self.padding_idx), state
