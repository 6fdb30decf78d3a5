"""softmin and gumbel_softmax: softmax's relatives in torch.nn.functional (gumbel_softmax draws from a key)."""
from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from jaxdl.checks import check_dim, check_floating
from jaxdl.functional._activation import _normalized_exp, _softmax_jvp, softmax


def softmin(input, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """softmax(−x) along ``dim``, as torch.nn.functional.softmin (torch negates first, then casts to ``dtype``;
    dim=None: torch's legacy rule, with its warning). ``_stacklevel`` is torch's and has no effect.

    Example:
      >>> [round(v, 4) for v in softmin(jnp.array([0.0, 1.0]), dim=0).tolist()]
      [0.7311, 0.2689]
    """
    return _normalized_exp("softmin", jax.nn.softmax, _softmax_jvp, -jnp.asarray(input), dim, dtype)


MISSING_KEY_MSG = ("gumbel_softmax draws Gumbel noise and needs a PRNG key: call "
                   "gumbel_softmax(logits, tau, hard, key=jax.random.key(0))")


def gumbel_softmax(logits, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1, *, key=None):
    """softmax((logits + g) / tau) along ``dim`` with g ~ Gumbel(0, 1) drawn from ``key``, as
    torch.nn.functional.gumbel_softmax; ``hard=True`` returns the one-hot of its argmax (the first of ties) with
    the soft sample's gradient (straight-through: y_hard − stop_gradient(y_soft) + y_soft, torch's order).

    Differs from torch in the noise's source only: g = jax.random.gumbel(key) (torch: −log of an exponential
    draw from its global generator); the distribution is the same. ``eps`` is deprecated and unused, as in torch
    (a value other than 1e-10 warns).
    """
    if eps != 1e-10:
        warnings.warn("gumbel_softmax: eps is deprecated and has no effect (as in torch)", UserWarning, stacklevel=2)
    if key is None:
        raise ValueError(MISSING_KEY_MSG)
    check_floating("gumbel_softmax", logits, "logits")
    logits = jnp.asarray(logits)
    gumbels = jax.random.gumbel(key, logits.shape, logits.dtype)
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    axis = check_dim("gumbel_softmax", logits.ndim, dim) if logits.ndim else 0
    index = jnp.argmax(y_soft, axis=axis, keepdims=True) if logits.ndim else jnp.zeros((), jnp.int32)
    positions = jax.lax.broadcasted_iota(index.dtype, logits.shape, axis) if logits.ndim else index
    y_hard = (positions == index).astype(y_soft.dtype)
    return y_hard - jax.lax.stop_gradient(y_soft) + y_soft
