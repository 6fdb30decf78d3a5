"""LayerNorm, as torch.nn.LayerNorm."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class LayerNorm(Module):
    """torch.nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True).

    Differs from flax.linen.LayerNorm: eps 1e-5 (flax 1e-6); weight/bias have shape normalized_shape.
    """

    normalized_shape: int | tuple
    eps: float = 1e-5
    elementwise_affine: bool = True
    bias: bool = True

    def __post_init__(self):
        shape = self.normalized_shape
        object.__setattr__(self, "normalized_shape", (shape,) if isinstance(shape, int) else tuple(shape))

    def init(self, key, dtype=jnp.float32):
        if not self.elementwise_affine:
            return {}, {}
        params = {"weight": jnp.ones(self.normalized_shape, dtype)}
        if self.bias:
            params["bias"] = jnp.zeros(self.normalized_shape, dtype)
        return params, {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.layer_norm(input, self.normalized_shape, params.get("weight"), params.get("bias"), self.eps), state
