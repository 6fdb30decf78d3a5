"""embedding_bag, as torch.nn.functional.embedding_bag."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.checks import check_choice
from jaxdl.functional._linear import embedding


def _bag_ids(input, offsets, include_last_offset: bool):
    """(flat indices, bag id of each, number of bags): the 2-D form's rows, or the 1-D form cut at ``offsets``
    (bag i is input[offsets[i]:offsets[i+1]]; with include_last_offset the last offset ends the last bag)."""
    if jnp.ndim(input) == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None for a 2-D input (each row is a bag); got offsets")
        B, L = jnp.shape(input)
        return jnp.ravel(input), jnp.repeat(jnp.arange(B), L), B
    if jnp.ndim(input) != 1:
        raise ValueError(f"embedding_bag: input must be 1-D (with offsets) or 2-D (B, L); got shape {jnp.shape(input)}")
    if offsets is None or jnp.ndim(offsets) != 1:
        raise ValueError("embedding_bag: a 1-D input needs 1-D offsets (the start of each bag)")
    B = jnp.shape(offsets)[0] - (1 if include_last_offset else 0)
    positions = jnp.arange(jnp.shape(input)[0], dtype=jnp.result_type(offsets))
    ids = jnp.searchsorted(offsets, positions, side="right") - 1  # the bag of each index
    return input, ids, B


def embedding_bag(input, weight, offsets=None, max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False, padding_idx: int | None = None):
    """The sum, mean or max of each bag of embeddings weight[i], as torch.nn.functional.embedding_bag.

    Entries equal to ``padding_idx`` leave their bag (not counted by 'mean'); an empty bag gives zeros in every
    mode. per_sample_weights (input's shape) scale each embedding in mode 'sum'. max_norm renormalises the
    looked-up rows first, as F.embedding (torch also writes them into the weight in place; jaxdl does not).
    'max' sends the gradient to each maximum's row.

    Args:
      input: (B, L) bags of indices, or (n,) with ``offsets`` (B,) (B + 1 with include_last_offset).
      weight: (num_embeddings, embedding_dim).
    Returns:
      (B, embedding_dim).
    """
    check_choice("embedding_bag: mode", mode, ("sum", "mean", "max"))
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: per_sample_weights is only supported for mode='sum'; got mode={mode!r}")
    if per_sample_weights is not None and jnp.shape(per_sample_weights) != jnp.shape(input):
        raise ValueError(f"embedding_bag: per_sample_weights must have input's shape {jnp.shape(input)}; got "
                         f"{jnp.shape(per_sample_weights)}")
    flat, ids, B = _bag_ids(jnp.asarray(input), offsets, include_last_offset)
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq, sparse)  # (n, D)
    keep = jnp.ones(flat.shape, bool)
    if padding_idx is not None:
        num = jnp.shape(weight)[0]
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding_bag: padding_idx must be in [{-num}, {num}); got {padding_idx}")
        keep = flat != padding_idx % num
    zero = jnp.zeros((), rows.dtype)
    count = jax.ops.segment_sum(keep.astype(rows.dtype), ids, B)  # (B,)
    if mode == "max":
        best = jax.ops.segment_max(jnp.where(keep[:, None], rows, -jnp.inf), ids, B)  # (B, D)
        return jnp.where(count[:, None] > 0, best, zero)
    if per_sample_weights is not None:
        rows = rows * jnp.ravel(per_sample_weights).astype(rows.dtype)[:, None]
    total = jax.ops.segment_sum(jnp.where(keep[:, None], rows, zero), ids, B)  # (B, D)
    if mode == "sum":
        return total
    return total / jnp.maximum(count, 1)[:, None]
