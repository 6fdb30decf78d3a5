"""The piecewise-linear activations of torch.nn.functional: hardtanh, relu6, hardsigmoid, hardswish, prelu.

Gradients at the corners are torch's (``hardtanh_backward`` and friends): 0 at exactly min_val/max_val,
hardsigmoid' = 0 at ±3, hardswish' = 0 at −3 and 1 at 3. At NaN the gradient is what torch's vectorized
CPU kernels give (hardtanh/relu6/hardsigmoid 0, hardswish NaN); torch's scalar loop, which takes the elements
past the last whole pair of SIMD vectors (all of a tensor smaller than that), gives 1 for hardtanh/relu6/hardswish
instead, so torch's gradient at NaN depends on the element's position and the CPU: no elementwise rule has it.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.functional._activation import elementwise
from jaxdl.checks import check_floating, check_inplace, upcast_half

# torch's hardsigmoid_backward multiplies by the float constant 1.0f/6.0f, in float64 too
_ONE_SIXTH = float(np.float32(1.0) / np.float32(6.0))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """clamp(x, min_val, max_val), as torch.nn.functional.hardtanh; the gradient is 1 for
    min_val < x < max_val and 0 elsewhere (the edges and NaN included, as torch's vectorized kernel).

    Example:
      >>> hardtanh(jnp.array([-2.0, 0.5, 3.0])).tolist()
      [-1.0, 0.5, 1.0]
    """
    check_inplace("hardtanh", inplace)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val must not be greater than max_val; got min_val={min_val}, "
                         f"max_val={max_val}")
    if jnp.issubdtype(jnp.result_type(input), jnp.unsignedinteger) and (min_val < 0 or max_val < 0):
        raise ValueError(f"hardtanh: cannot do hardtanh on an unsigned type with negative limits; got dtype "
                         f"{jnp.result_type(input)}, min_val={min_val}, max_val={max_val}")
    if jnp.issubdtype(jnp.result_type(input), jnp.integer):  # torch clamps integers with integer bounds
        return jnp.clip(input, int(min_val), int(max_val))
    return elementwise("hardtanh", lambda x: jnp.minimum(jnp.maximum(x, min_val), max_val),
                       lambda x: jnp.where((x > min_val) & (x < max_val), 1.0, 0.0), input)


def relu6(input, inplace: bool = False):
    """min(max(x, 0), 6) = hardtanh(x, 0, 6), as torch.nn.functional.relu6 (gradient 0 at 0 and at 6)."""
    check_inplace("relu6", inplace)
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace: bool = False):
    """min(max(x + 3, 0), 6)/6, as torch.nn.functional.hardsigmoid (gradient 1/6 on −3 < x < 3, else 0)."""
    check_inplace("hardsigmoid", inplace)
    return elementwise("hardsigmoid", lambda x: jnp.minimum(jnp.maximum(x + 3, 0.0), 6.0) / 6,
                       lambda x: jnp.where((x > -3) & (x < 3), _ONE_SIXTH, 0.0), input)


def hardswish(input, inplace: bool = False):
    """x·min(max(x + 3, 0), 6)/6, as torch.nn.functional.hardswish (gradient x/3 + 1/2 on −3 < x < 3,
    0 for x ≤ −3, 1 for x ≥ 3, as torch's hardswish_backward)."""
    check_inplace("hardswish", inplace)
    return elementwise("hardswish", lambda x: x * jnp.minimum(jnp.maximum(x + 3, 0.0), 6.0) / 6,
                       lambda x: jnp.where(x <= -3, 0.0, jnp.where(x >= 3, 1.0, x / 3 + 0.5)), input)


def prelu(input, weight):
    """x if x > 0 else weight·x, with one weight per channel (dim 1), as torch.nn.functional.prelu.

    Args:
      input: any shape; channels are dim 1 (a 1-D input has one channel).
      weight: (1,) / () shared, or (C,) with C = input.shape[1].
    """
    input, weight = amp.cast("prelu", input, weight)
    check_floating("prelu", input)
    ndim, numel = jnp.ndim(input), int(jnp.size(weight))
    if jnp.ndim(weight) > 1:
        raise ValueError(f"prelu: weight must be 0-D or 1-D; got a {jnp.ndim(weight)}-D weight")
    if numel != 1:
        if ndim == 0:
            raise ValueError("prelu: Not allow zero-dim input tensor.")
        channels = jnp.shape(input)[1] if ndim > 1 else 1
        if channels != numel:
            raise ValueError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                             f"numbers = {numel} and channel size = {channels}.")
    w = jnp.reshape(weight, [numel if i == 1 else 1 for i in range(ndim)]) if ndim != jnp.ndim(weight) else weight
    x, restore = upcast_half(input)  # float16/bfloat16 (autocast): product and weight gradient summed in float32
    w, _ = upcast_half(w)
    positive = x > 0
    return restore(jnp.where(positive, x, w * jnp.where(positive, 0.0, x)))  # the weight's gradient is 0 where x > 0
