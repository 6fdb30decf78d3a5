"""rrelu, as torch.nn.functional.rrelu: leaky ReLU whose negative slope is drawn from U(lower, upper) per element
when training (from the key) and is (lower + upper)/2 in eval."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.checks import check_floating, check_inplace
from jaxdl.functional._activation import leaky_relu

MISSING_KEY_MSG = ("rrelu needs a PRNG key when training=True (it draws the negative slopes): call "
                   "rrelu(x, lower, upper, training=True, key=jax.random.key(0)), or pass training=False for eval")


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False,
          *, key=None):
    """x for x > 0, else a·x, as torch.nn.functional.rrelu: in training a ~ U(lower, upper) per element, drawn from
    ``key`` (torch's rrelu_with_noise: the gradient is a where x ≤ 0, 1 elsewhere, NaN included); in eval
    a = (lower + upper)/2, torch's leaky_relu (gradient a at 0 and at NaN).

    Differs from torch in the slopes' source only: jax.random.uniform(key) (torch: its global generator).
    Example:
      >>> rrelu(jnp.array([-3.0, 2.0]), 0.1, 0.3).tolist()
      [-0.6000000238418579, 2.0]
    """
    check_inplace("rrelu", inplace)
    if not lower <= upper:
        raise ValueError(f"rrelu: lower must be less than or equal to upper; got lower={lower}, upper={upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    check_floating("rrelu", input)
    if key is None:
        raise ValueError(MISSING_KEY_MSG)
    x = jnp.asarray(input)
    slope = jax.random.uniform(key, x.shape, x.dtype, lower, upper)
    return jnp.where(x <= 0, x * slope, x)
