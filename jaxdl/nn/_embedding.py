"""Embedding, as torch.nn.Embedding."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_size
from jaxdl.nn._module import Module, module


@module
class Embedding(Module):
    """torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
    scale_grad_by_freq=False, sparse=False); weight ~ N(0, 1), padding row 0. See F.embedding for the arguments
    (max_norm is not supported: torch renormalises the weight in place).

    Differs from flax.linen.Embed: N(0, 1) init (flax: std 1/√features).
    """

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None = None
    max_norm: float | None = None
    norm_type: float = 2.0
    scale_grad_by_freq: bool = False
    sparse: bool = False

    def __post_init__(self):
        check_size("Embedding", "num_embeddings", self.num_embeddings)
        check_size("Embedding", "embedding_dim", self.embedding_dim)
        if self.padding_idx is not None and not -self.num_embeddings <= self.padding_idx < self.num_embeddings:
            raise ValueError(f"Embedding: padding_idx must be within num_embeddings, in [{-self.num_embeddings}, "
                             f"{self.num_embeddings}); got {self.padding_idx}")
        if self.max_norm is not None:
            raise NotImplementedError(f"Embedding: max_norm={self.max_norm!r} renormalises rows of the weight in "
                                      "place in torch; jaxdl's modules are pure, so it is not supported")

    def init(self, key, dtype=jnp.float32):
        weight = jax.random.normal(key, (self.num_embeddings, self.embedding_dim), dtype)
        if self.padding_idx is not None:
            weight = weight.at[self.padding_idx].set(0)
        return {"weight": weight}, {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.embedding(input, params["weight"], self.padding_idx,
                           scale_grad_by_freq=self.scale_grad_by_freq, sparse=self.sparse), state
