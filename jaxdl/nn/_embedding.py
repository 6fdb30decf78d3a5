"""Embedding, as torch.nn.Embedding."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_size
from jaxdl.nn._module import Module, module


def check_table(owner: str, num_embeddings, embedding_dim, padding_idx, max_norm) -> None:
    """The checks of an embedding table's constructor (nn.Embedding, nn.EmbeddingBag): sizes ≥ 0, padding_idx in
    [−num_embeddings, num_embeddings), and max_norm refused (torch renormalises the weight's rows in place)."""
    check_size(owner, "num_embeddings", num_embeddings)
    check_size(owner, "embedding_dim", embedding_dim)
    if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{owner}: padding_idx must be within num_embeddings, in [{-num_embeddings}, "
                         f"{num_embeddings}); got {padding_idx}")
    if max_norm is not None:
        raise NotImplementedError(f"{owner}: max_norm={max_norm!r} renormalises rows of the weight in place in "
                                  "torch; jaxdl's modules are pure, so it is not supported")


def init_table(key, num_embeddings: int, embedding_dim: int, padding_idx, dtype):
    """torch's embedding init: weight (num_embeddings, embedding_dim) ~ N(0, 1), the padding_idx row zero."""
    weight = jax.random.normal(key, (num_embeddings, embedding_dim), dtype)
    return weight if padding_idx is None else weight.at[padding_idx].set(0)


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
        check_table("Embedding", self.num_embeddings, self.embedding_dim, self.padding_idx, self.max_norm)

    def init(self, key, dtype=jnp.float32):
        return {"weight": init_table(key, self.num_embeddings, self.embedding_dim, self.padding_idx, dtype)}, {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.embedding(input, params["weight"], self.padding_idx,
                           scale_grad_by_freq=self.scale_grad_by_freq, sparse=self.sparse), state
