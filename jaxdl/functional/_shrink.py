"""threshold, hardshrink, softshrink and tanhshrink, as torch.nn.functional defines them (values and gradients).

Gradients at the kinks are torch's: threshold's is 0 where x ≤ threshold (1 at NaN, torch's threshold_backward);
hardshrink's and softshrink's are 1 only where |x| > lambd (0 at |x| == lambd and at NaN, torch's
shrink_backward).
"""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl.checks import check_inplace, promote_to_float
from jaxdl.functional._activation import elementwise, tanh


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """value where x ≤ threshold, else x, as torch.nn.functional.threshold; gradient 0 where x ≤ threshold, 1
    elsewhere (NaN included). Integer inputs compare with int(threshold) and fill int(value), as torch casts both
    to the input's dtype.

    Example:
      >>> threshold(jnp.array([-1.0, 0.5, 2.0]), 0.5, -3.0).tolist()
      [-3.0, -3.0, 2.0]
    """
    check_inplace("threshold", inplace)
    x = jnp.asarray(input)
    if not jnp.issubdtype(x.dtype, jnp.inexact):  # torch's Scalar.to<scalar_t>(): truncated to the integer type
        threshold, value = int(threshold), int(value)
    return jnp.where(x <= threshold, jnp.asarray(value, x.dtype), x)


def _outside(lambd):
    """torch's shrink_backward mask: 1 where |x| > lambd, 0 on [-lambd, lambd] and at NaN."""
    return lambda x: jnp.where((x > lambd) | (x < -lambd), 1.0, 0.0)


def hardshrink(input, lambd: float = 0.5):
    """x where |x| > lambd, else 0, as torch.nn.functional.hardshrink (NaN stays NaN; gradient 0 at |x| == lambd).

    Example:
      >>> hardshrink(jnp.array([-1.0, 0.5, 0.2])).tolist()
      [-1.0, 0.0, 0.0]
    """
    return elementwise("hardshrink", lambda x: jnp.where((x >= -lambd) & (x <= lambd), jnp.zeros_like(x), x),
                       _outside(lambd), input)


def softshrink(input, lambd: float = 0.5):
    """x − lambd for x > lambd, x + lambd for x < −lambd, else 0, as torch.nn.functional.softshrink (NaN stays
    NaN; gradient 0 at |x| == lambd). lambd must be ≥ 0, as torch checks.

    Example:
      >>> softshrink(jnp.array([-1.0, 0.25, 2.0])).tolist()
      [-0.5, 0.0, 1.5]
    """
    if not lambd >= 0:
        raise ValueError(f"softshrink: lambd must be greater or equal to 0; got {lambd}")
    return elementwise("softshrink", lambda x: jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, x * 0)),
                       _outside(lambd), input)


def tanhshrink(input):
    """x − tanh(x), as torch.nn.functional.tanhshrink (torch's ``input - input.tanh()``: integer inputs give
    float32; the gradient is 1 − (1 − tanh²x), through tanh's own)."""
    x = promote_to_float(input)
    return x - tanh(x)
