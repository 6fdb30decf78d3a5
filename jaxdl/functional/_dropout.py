"""Inverted dropout, as torch.nn.functional.dropout, with an explicit PRNG key."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl.functional._bernoulli import bernoulli
from jaxdl.functional._checks import check_probability

MISSING_KEY_MSG = ("dropout needs a PRNG key when training=True and 0 < p < 1: call "
                   "dropout(x, p, training=True, key=jax.random.key(0)), or pass training=False for eval")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, *, key=None):
    """Zero each element with probability p and scale the rest by 1/(1-p), as torch.nn.functional.dropout.

    p=0 and training=False return the input; p=1 returns input·0 (zero values and zero gradients).
    Args:
      input: any shape.
      key: a jax.random key; required when training and 0 < p < 1.
    """
    check_probability("dropout", p)
    if inplace:
        raise ValueError("dropout: inplace=True is not supported; jaxdl is functional (arrays are immutable)")
    if not training or (isinstance(p, (int, float)) and p == 0.0):
        return input
    if isinstance(p, (int, float)) and p == 1.0:
        return input * 0.0
    if key is None:
        raise ValueError(MISSING_KEY_MSG)
    keep = bernoulli(key, 1.0 - p, jnp.shape(input))  # jax.random.bernoulli's bits, fused on CPU
    if isinstance(p, (int, float)):
        scale = jnp.asarray(1.0, input.dtype) / (1.0 - p)
    else:  # a traced p (e.g. vmapped over rates): p = 1 must give zeros, not 0·inf = NaN
        scale = jnp.where(p < 1.0, 1.0 / jnp.where(p < 1.0, 1.0 - p, 1.0), 0.0).astype(input.dtype)
    return input * (keep.astype(input.dtype) * scale)
