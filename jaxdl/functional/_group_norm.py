"""group_norm and instance_norm, as torch.nn.functional defines them (aten/src/ATen/native/group_norm.cpp,
Normalization.cpp ``instance_norm``)."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.checks import check_channel_vectors, check_floating, check_positive_int, upcast_half
from jaxdl.functional._normalization import batch_norm, corrected_mean


def _check_channels(name: str, input, **vectors) -> int:
    if jnp.ndim(input) < 2:
        raise ValueError(f"{name}: Expected at least 2 dimensions for input tensor but received {jnp.ndim(input)}")
    check_floating(name, input)
    return check_channel_vectors(name, input, **vectors)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """(x − E[x])/√(Var[x] + eps) over each group of C/num_groups channels and all spatial positions (biased
    variance), then ·weight + bias per channel, as torch.nn.functional.group_norm.

    Args:
      input: (N, C, *) with C divisible by num_groups.
      weight, bias: (C,) or None.

    Example:
      >>> x = jnp.array([[[1.0], [3.0], [5.0], [9.0]]])  # (N=1, C=4, L=1), two groups
      >>> [round(v, 3) for v in group_norm(x, 2).reshape(-1).tolist()]
      [-1.0, 1.0, -1.0, 1.0]
    """
    input, weight, bias = amp.cast("group_norm", input, weight, bias)
    c = _check_channels("group_norm", input, weight=weight, bias=bias)
    shape = tuple(jnp.shape(input))
    check_positive_int("group_norm: num_groups", num_groups)
    if c % num_groups:
        raise ValueError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but got "
                         f"input of shape {list(shape)} and num_groups={num_groups}")
    n = shape[0]
    if n * (c // num_groups) * int(np.prod(shape[2:])) == 1:  # torch's _verify_batch_size on the grouped view
        raise ValueError(f"group_norm: needs at least 2 values per group to take a variance; got input size "
                         f"{list(shape)} with num_groups={num_groups}")
    x, restore = upcast_half(input)
    g = jnp.reshape(x, (n, num_groups, (c // num_groups) * int(np.prod(shape[2:]))))  # (N, G, C/G · spatial)
    mean = corrected_mean(g, -1)
    var = jnp.mean(jnp.square(g - mean), axis=-1, keepdims=True)
    out = jnp.reshape((g - mean) * jnp.reciprocal(jnp.sqrt(var + eps)), shape)
    bshape = (1, c) + (1,) * (len(shape) - 2)  # a (C,) vector against (N, C, *)
    if weight is not None:
        out = out * jnp.reshape(weight, bshape)
    if bias is not None:
        out = out + jnp.reshape(bias, bshape)
    return restore(out)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5):
    """batch_norm of each (sample, channel) over its spatial positions, as torch.nn.functional.instance_norm.

    Computed as torch does: the input viewed as (1, N·C, *) through batch_norm with the running stats repeated
    N times, and the updated running stats averaged over N. use_input_stats=False normalises with the running
    stats (InstanceNorm's eval with track_running_stats). Returns ``(output, running_mean, running_var)``
    (unchanged when None or not use_input_stats), as jaxdl's batch_norm.

    Args:
      input: (N, C, *) with at least 2 spatial elements when use_input_stats.
      running_mean, running_var, weight, bias: (C,) or None.
    """
    c = _check_channels("instance_norm", input, running_mean=running_mean, running_var=running_var, weight=weight,
                        bias=bias)
    shape = tuple(jnp.shape(input))
    if use_input_stats and int(np.prod(shape[2:])) == 1:  # torch's _verify_spatial_size
        raise ValueError(f"instance_norm: using input statistics needs at least 2 spatial elements; got input size "
                         f"{list(shape)}")
    n = shape[0]

    def repeat(v):  # (C,) -> (N·C,)
        return None if v is None else jnp.tile(v, n)

    out, rm, rv = batch_norm(jnp.reshape(input, (1, n * c) + shape[2:]), repeat(running_mean), repeat(running_var),
                             repeat(weight), repeat(bias), use_input_stats, momentum, eps)
    if running_mean is not None:
        running_mean = jnp.mean(jnp.reshape(rm, (n, c)), axis=0).astype(jnp.result_type(running_mean))
    if running_var is not None:
        running_var = jnp.mean(jnp.reshape(rv, (n, c)), axis=0).astype(jnp.result_type(running_var))
    return jnp.reshape(out, shape), running_mean, running_var
