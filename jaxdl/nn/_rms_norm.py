"""RMSNorm, as torch.nn.RMSNorm."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class RMSNorm(Module):
    """torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True): y = x/√(mean(x²) + eps)·weight over
    the trailing normalized_shape axes (F.rms_norm); weight = 1 of shape normalized_shape. eps=None is the
    computation dtype's machine epsilon, as torch. Differs from flax.linen.RMSNorm: eps (flax 1e-6)."""

    normalized_shape: int | tuple
    eps: float | None = None
    elementwise_affine: bool = True

    def __post_init__(self):
        shape = self.normalized_shape
        object.__setattr__(self, "normalized_shape", (shape,) if isinstance(shape, int) else tuple(shape))

    def init(self, key, dtype=jnp.float32):
        return ({"weight": jnp.ones(self.normalized_shape, dtype)} if self.elementwise_affine else {}), {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.rms_norm(input, self.normalized_shape, params.get("weight"), self.eps), state
