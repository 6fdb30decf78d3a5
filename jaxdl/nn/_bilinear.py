"""Bilinear, as torch.nn.Bilinear."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_size
from jaxdl.nn._module import Module, module, uniform


@module
class Bilinear(Module):
    """torch.nn.Bilinear(in1_features, in2_features, out_features, bias=True): y = x1ᵀ A x2 + b (F.bilinear);
    weight (out_features, in1_features, in2_features) and bias ~ U(±1/√in1_features), as torch."""

    in1_features: int
    in2_features: int
    out_features: int
    bias: bool = True

    def __post_init__(self):
        for name in ("in1_features", "in2_features", "out_features"):
            check_size("Bilinear", name, getattr(self, name))

    def init(self, key, dtype=jnp.float32):
        wkey, bkey = jax.random.split(key)
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0  # torch's reset_parameters
        params = {"weight": uniform(wkey, (self.out_features, self.in1_features, self.in2_features), bound, dtype)}
        if self.bias:
            params["bias"] = uniform(bkey, (self.out_features,), bound, dtype)
        return params, {}

    def apply(self, params, state, input1, input2, *, training=False, key=None):
        """input1 (*, in1_features), input2 (*, in2_features) -> (*, out_features)."""
        return F.bilinear(input1, input2, params["weight"], params.get("bias")), state
