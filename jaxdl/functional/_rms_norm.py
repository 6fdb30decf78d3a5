"""rms_norm, as torch.nn.functional.rms_norm."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl import amp
from jaxdl.checks import check_floating, upcast_half
from jaxdl.functional._normalization import normalized_axes


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None):
    """x / √(mean(x²) + eps) · weight over the trailing ``normalized_shape`` axes, as torch.nn.functional.rms_norm.

    eps=None is the machine epsilon of the computation dtype, as torch: finfo(float32).eps for float32 and the
    half types (computed in float32 and rounded once), finfo(float64).eps for float64. Differs from
    flax.linen.RMSNorm: eps (flax 1e-6).

    Args:
      input: (*, *normalized_shape). weight: normalized_shape or None.
    Returns:
      like input.
    """
    input, weight = amp.cast("rms_norm", input, weight)
    check_floating("rms_norm", input)
    normalized_shape, axes = normalized_axes("rms_norm", input, normalized_shape, weight=weight)
    x, restore = upcast_half(input)
    eps = float(jnp.finfo(x.dtype).eps) if eps is None else float(eps)
    out = x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + jnp.asarray(eps, x.dtype))
    if weight is not None:
        out = out * jnp.reshape(weight, (1,) * (x.ndim - len(normalized_shape)) + normalized_shape).astype(x.dtype)
    return restore(out)
