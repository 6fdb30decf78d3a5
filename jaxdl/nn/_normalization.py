"""LayerNorm, as torch.nn.LayerNorm."""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_positive_int, check_size
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
        for n in self.normalized_shape:
            check_size("LayerNorm", "normalized_shape", n)

    def init(self, key, dtype=jnp.float32):
        if not self.elementwise_affine:
            return {}, {}
        params = {"weight": jnp.ones(self.normalized_shape, dtype)}
        if self.bias:
            params["bias"] = jnp.zeros(self.normalized_shape, dtype)
        return params, {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.layer_norm(input, self.normalized_shape, params.get("weight"), params.get("bias"), self.eps), state


@module
class GroupNorm(Module):
    """torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, *, bias=True): params weight (ones)
    and bias (zeros, unless bias=False) of shape (num_channels,) when affine. Input (N, C, *)."""

    num_groups: int
    num_channels: int
    eps: float = 1e-5
    affine: bool = True
    _: dataclasses.KW_ONLY
    bias: bool = True

    def __post_init__(self):
        check_positive_int("GroupNorm: num_groups", self.num_groups)
        check_size("GroupNorm", "num_channels", self.num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups; got num_channels="
                             f"{self.num_channels}, num_groups={self.num_groups}")

    def init(self, key, dtype=jnp.float32):
        if not self.affine:
            return {}, {}
        params = {"weight": jnp.ones((self.num_channels,), dtype)}
        if self.bias:
            params["bias"] = jnp.zeros((self.num_channels,), dtype)
        return params, {}

    def apply(self, params, state, input, *, training=False, key=None):
        if jnp.ndim(input) < 2 or jnp.shape(input)[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input (N, "
                             f"{self.num_channels}, *); got shape {jnp.shape(input)}")
        return F.group_norm(input, self.num_groups, params.get("weight"), params.get("bias"), self.eps), state
