"""EmbeddingBag, as torch.nn.EmbeddingBag."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_choice
from jaxdl.nn._embedding import check_table, init_table
from jaxdl.nn._module import Module, module


@module
class EmbeddingBag(Module):
    """torch.nn.EmbeddingBag(num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
    mode='mean', sparse=False, include_last_offset=False, padding_idx=None): F.embedding_bag over weight ~ N(0, 1)
    (the padding row 0). max_norm is not supported, as nn.Embedding (torch renormalises the weight in place)."""

    num_embeddings: int
    embedding_dim: int
    max_norm: float | None = None
    norm_type: float = 2.0
    scale_grad_by_freq: bool = False
    mode: str = "mean"
    sparse: bool = False
    include_last_offset: bool = False
    padding_idx: int | None = None

    def __post_init__(self):
        check_table("EmbeddingBag", self.num_embeddings, self.embedding_dim, self.padding_idx, self.max_norm)
        check_choice("EmbeddingBag: mode", self.mode, ("sum", "mean", "max"))

    def init(self, key, dtype=jnp.float32):
        return {"weight": init_table(key, self.num_embeddings, self.embedding_dim, self.padding_idx, dtype)}, {}

    def apply(self, params, state, input, offsets=None, per_sample_weights=None, *, training=False, key=None):
        """input (B, L), or (n,) with offsets (B,) -> (B, embedding_dim)."""
        return F.embedding_bag(input, params["weight"], offsets, None, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx), state
