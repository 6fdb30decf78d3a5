"""bilinear, as torch.nn.functional.bilinear."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl import matmul


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1ᵀ A_k x2 + b_k, as torch.nn.functional.bilinear.

    Args:
      input1: (*, in1_features). input2: (*, in2_features), the same leading dims.
      weight: (out_features, in1_features, in2_features). bias: (out_features,) or None.
    Returns:
      (*, out_features).
    """
    if jnp.ndim(weight) != 3:
        raise ValueError(f"bilinear: weight must be 3-D (out_features, in1_features, in2_features); got shape "
                         f"{jnp.shape(weight)}")
    _, in1, in2 = jnp.shape(weight)
    s1, s2 = jnp.shape(input1), jnp.shape(input2)
    if len(s1) < 1 or s1[-1] != in1 or len(s2) < 1 or s2[-1] != in2 or s1[:-1] != s2[:-1]:
        raise ValueError(f"bilinear: expected input1 (*, {in1}) and input2 (*, {in2}) with the same leading dims "
                         f"(weight {jnp.shape(weight)}); got {s1} and {s2}")
    if bias is not None and jnp.shape(bias) != (jnp.shape(weight)[0],):
        raise ValueError(f"bilinear: bias must have shape ({jnp.shape(weight)[0]},); got {jnp.shape(bias)}")
    # (*, in1), (out, in1, in2), (*, in2) -> (*, out)
    out = matmul.einsum("...i,kij,...j->...k", input1, weight, input2)
    return out if bias is None else out + jnp.reshape(bias, (1,) * (out.ndim - 1) + (-1,))
