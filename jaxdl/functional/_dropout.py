"""Inverted dropout, as torch.nn.functional.dropout / dropout1d / dropout2d, with an explicit PRNG key.

``inplace=`` is accepted and has no effect: the result is a new array with torch's values (checks.check_inplace).
"""
from __future__ import annotations

import warnings

import jax.numpy as jnp

from jaxdl.functional._bernoulli import bernoulli
from jaxdl.checks import check_inplace, check_probability

MISSING_KEY_MSG = ("{name} needs a PRNG key when training=True and 0 < p < 1: call "
                   "{name}(x, p, training=True, key=jax.random.key(0)), or pass training=False for eval")


def _dropout(name: str, input, p, training: bool, inplace: bool, key, mask_shape):
    """Zero with probability p over a mask of ``mask_shape`` (broadcast against the input), scale by 1/(1−p)."""
    check_probability(name, p)
    check_inplace(name, inplace)
    if not training or (isinstance(p, (int, float)) and p == 0.0):
        return input
    if isinstance(p, (int, float)) and p == 1.0:
        return input * 0.0
    if key is None:
        raise ValueError(MISSING_KEY_MSG.format(name=name))
    keep = bernoulli(key, 1.0 - p, mask_shape)  # jax.random.bernoulli's bits, fused on CPU
    if isinstance(p, (int, float)):
        scale = jnp.asarray(1.0, input.dtype) / (1.0 - p)
    else:  # a traced p (e.g. vmapped over rates): p = 1 must give zeros, not 0·inf = NaN
        scale = jnp.where(p < 1.0, 1.0 / jnp.where(p < 1.0, 1.0 - p, 1.0), 0.0).astype(input.dtype)
    return input * (keep.astype(input.dtype) * scale)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, *, key=None):
    """Zero each element with probability p and scale the rest by 1/(1-p), as torch.nn.functional.dropout.

    p=0 and training=False return the input; p=1 returns input·0 (zero values and zero gradients).
    Args:
      input: any shape.
      key: a jax.random key; required when training and 0 < p < 1.
    """
    return _dropout("dropout", input, p, training, inplace, key, jnp.shape(input))


def _channel_mask_shape(shape):
    """torch's feature_dropout: one draw per (sample, channel), shared over the remaining dims."""
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False, *, key=None):
    """Zero whole channels with probability p (one draw per (N, C)), scale by 1/(1−p), as
    torch.nn.functional.dropout1d.

    Args:
      input: (N, C, L), or unbatched (C, L).
      key: a jax.random key; required when training and 0 < p < 1.
    """
    ndim = jnp.ndim(input)
    if ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 3-D (N, C, L) or 2-D (C, L) input (channels with one spatial "
                         f"axis); got a {ndim}-D input")
    shape = jnp.shape(input) if ndim == 3 else (1,) + tuple(jnp.shape(input))
    mask = _channel_mask_shape(shape)
    return _dropout("dropout1d", input, p, training, inplace, key, mask if ndim == 3 else mask[1:])


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False, *, key=None):
    """Zero whole channels with probability p (one draw per (N, C)), scale by 1/(1−p), as
    torch.nn.functional.dropout2d; with torch's warnings for inputs that are not 4-D (a 3-D input is taken
    as (N, C, L), torch's current behaviour).

    Args:
      input: (N, C, H, W).
      key: a jax.random key; required when training and 0 < p < 1.
    """
    ndim = jnp.ndim(input)
    if ndim not in (3, 4):
        warnings.warn(f"dropout2d: expects a 4-D (N, C, H, W) or 3-D input; got a {ndim}-D input, which torch "
                      "deprecates and will refuse (use dropout for element-wise dropout)", UserWarning, stacklevel=2)
    if ndim == 3:
        warnings.warn("dropout2d: a 3-D input is taken as (N, C, L), one draw per (sample, channel), as torch does "
                      "today; torch plans to read it as an unbatched (C, H, W), so call dropout1d for this behaviour",
                      UserWarning, stacklevel=2)
    if ndim < 2:
        raise ValueError(f"dropout2d: expected an input with a channel dimension (N, C, H, W); got shape "
                         f"{jnp.shape(input)}")
    return _dropout("dropout2d", input, p, training, inplace, key, _channel_mask_shape(jnp.shape(input)))


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False, *, key=None):
    """Zero whole channels with probability p, scale by 1/(1−p), as torch.nn.functional.dropout3d: a 5-D
    (N, C, D, H, W) input draws one mask entry per (N, C); any other input is taken as unbatched, channels in
    dim 0 (torch's unsqueeze(0)), with torch's warning when it is not 4-D (C, D, H, W).

    Args:
      input: (N, C, D, H, W) or (C, D, H, W).
      key: a jax.random key; required when training and 0 < p < 1.
    """
    shape, ndim = tuple(jnp.shape(input)), jnp.ndim(input)
    if ndim not in (4, 5):
        warnings.warn(f"dropout3d: expects a 5-D (N, C, D, H, W) or 4-D (C, D, H, W) input; got a {ndim}-D input, "
                      "which torch deprecates and will refuse (use dropout for element-wise dropout)", UserWarning,
                      stacklevel=2)
    if ndim == 0 and training and p not in (0, 1):
        raise ValueError("dropout3d: feature dropout needs at least a channel dimension; got a 0-d input")
    mask = _channel_mask_shape(shape) if ndim == 5 else _channel_mask_shape((1,) + shape)[1:]
    return _dropout("dropout3d", input, p, training, inplace, key, mask)
