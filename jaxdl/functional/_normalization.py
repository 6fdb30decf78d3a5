"""batch_norm and layer_norm, as torch.nn.functional defines them."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.checks import check_channel_vectors, check_floating, promote, upcast_half


def corrected_mean(x, axis):
    """mean(x) over ``axis`` (kept), refined by one correction pass m + mean(x − m).

    XLA divides by the element count as a multiply by its reciprocal, so the plain mean of a constant slice
    can be off by an ulp; with variance 0, eps then amplifies that ulp by 1/√eps (a constant group in
    group_norm: 3e-5 in float32). torch's mean is exact there; the correction pass makes ours so too.
    """
    m = jnp.mean(x, axis=axis, keepdims=True)
    return m + jnp.mean(x - m, axis=axis, keepdims=True)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalise over every axis but the channel axis 1, as torch.nn.functional.batch_norm.

    y = (x − μ)/√(σ² + eps)·weight + bias. Training uses the batch mean and the biased batch variance and
    returns running stats updated as r ← (1−momentum)·r + momentum·s with the *unbiased* variance
    (torch's convention; flax's momentum is 1 − this one). Eval uses the running stats. float16/bfloat16 inputs
    are normalised in float32 and the output rounded back to their dtype (torch), float32 buffers or not.
    Returns ``(output, new_running_mean, new_running_var)`` (the running stats unchanged in eval or when None).

    An empty input gives an empty output and unchanged running stats, as torch (a 1-D empty input has 0
    channels, so its stats are empty too).

    Args:
      input: (N, C), (N, C, L) or (N, C, H, W) (any (N, C, *) works).
      running_mean, running_var: (C,) or None (None in training: batch stats only).
    """
    empty = jnp.ndim(input) == 1 and jnp.size(input) == 0
    if jnp.ndim(input) < 2 and not empty:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *); got shape {jnp.shape(input)}")
    check_floating("batch_norm", input)
    c = check_channel_vectors("batch_norm", input, running_mean=running_mean, running_var=running_var,
                              weight=weight, bias=bias)
    if jnp.size(input) == 0:  # torch: nothing to normalise, the running stats stay as they are
        return input, running_mean, running_var
    axes = (0,) + tuple(range(2, jnp.ndim(input)))
    bshape = (1, c) + (1,) * (jnp.ndim(input) - 2)  # broadcast a (C,) vector against (N, C, *)
    x, restore = upcast_half(input)  # float16/bfloat16: statistics and affine in float32, rounded once (torch)
    if training:
        n = int(np.prod([jnp.shape(input)[a] for a in axes]))
        if n <= 1:
            raise ValueError(f"batch_norm: training needs at least 2 values per channel to take a variance; "
                             f"got input size {tuple(jnp.shape(input))}")
        mean = corrected_mean(x, axes).reshape(c)
        var = jnp.mean(jnp.square(x - mean.reshape(bshape)), axis=axes)  # biased, for normalising
        if running_mean is not None:  # the buffers keep their dtype, as torch's in-place update
            running_mean = _running(running_mean, jax.lax.stop_gradient(mean), momentum)
        if running_var is not None:
            running_var = _running(running_var, jax.lax.stop_gradient(var) * (n / (n - 1)), momentum)  # unbiased
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given when training=False")
        mean, var = running_mean, running_var
    x, mean, var, weight, bias = promote(x, mean, var, weight, bias)  # e.g. float32 buffers with a float64 input
    out = (x - mean.reshape(bshape)) * jax.lax.rsqrt(var.reshape(bshape) + eps)
    if weight is not None:
        out = out * weight.reshape(bshape)
    if bias is not None:
        out = out + bias.reshape(bshape)
    return restore(out), running_mean, running_var


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """(x − E[x])/√(Var[x] + eps)·weight + bias over the trailing ``normalized_shape`` axes (biased
    variance), as torch.nn.functional.layer_norm. Differs from flax.linen.LayerNorm: eps is 1e-5 (flax 1e-6).
    float16/bfloat16 inputs are normalised in float32 and rounded once, as torch does. The normalisation
    carries the textbook derivative as a custom JVP (see _normalize): the same values and gradients as
    differentiating the formula, with a shorter backward pass.
    """
    input, weight, bias = amp.cast("layer_norm", input, weight, bias)
    check_floating("layer_norm", input)
    normalized_shape, axes = normalized_axes("layer_norm", input, normalized_shape, weight=weight, bias=bias)
    k = len(normalized_shape)
    x, restore = upcast_half(input)  # float16/bfloat16: statistics and affine in float32, rounded once (torch)
    out = _normalize(x, axes, float(eps))
    lead = (1,) * (jnp.ndim(input) - k)  # weight/bias (*normalized_shape) -> (1, ..., *normalized_shape)
    if weight is not None:  # a half weight is used in float32 too (torch's opmath)
        out = out * jnp.reshape(weight, lead + normalized_shape).astype(out.dtype)
    if bias is not None:
        out = out + jnp.reshape(bias, lead + normalized_shape).astype(out.dtype)
    return restore(out)  # a float16/bfloat16 input gives its own dtype, even with float32 weight (torch)


def normalized_axes(name: str, input, normalized_shape, **vectors) -> tuple[tuple, tuple]:
    """``(normalized_shape as a tuple, the trailing axes it names)``; raise where input's trailing shape or a given
    weight/bias differs from it (torch's layer_norm/rms_norm checks)."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(jnp.shape(input)[jnp.ndim(input) - k:]) != normalized_shape or jnp.ndim(input) < k:
        raise ValueError(f"{name}: given normalized_shape={list(normalized_shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, normalized_shape))}], "
                         f"but got input of size {list(jnp.shape(input))}")
    for vname, v in vectors.items():
        if v is not None and tuple(jnp.shape(v)) != normalized_shape:
            raise ValueError(f"{name}: {vname} must have shape {normalized_shape}; got {jnp.shape(v)}")
    return normalized_shape, tuple(range(jnp.ndim(input) - k, jnp.ndim(input)))


def _running(buffer, stat, momentum):
    """(1 − momentum)·buffer + momentum·stat, computed in the promoted dtype and stored in the buffer's."""
    b, x, m = promote(buffer, stat, momentum)
    return ((1 - m) * b + m * x).astype(jnp.result_type(buffer))


def _moments(x, axes, eps):
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)  # biased, as torch
    return mean, jax.lax.rsqrt(var + eps)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _normalize(x, axes, eps):
    """x̂ = (x − mean)/√(var + eps) over ``axes``, with the textbook derivative as a custom JVP:
    dx̂ = rstd·(dx − mean(dx) − x̂·mean(dx·x̂)). It is shorter than the chain XLA derives through
    mean/var/rsqrt (~3% of the GPT training step on CPU, benchmarks/README.md). A JVP rule (not a VJP)
    keeps forward mode (jax.jvp, jacfwd) working; reverse mode transposes it.
    """
    mean, rstd = _moments(x, axes, eps)
    return (x - mean) * rstd


@_normalize.defjvp
def _normalize_jvp(axes, eps, primals, tangents):
    (x,), (dx,) = primals, tangents
    mean, rstd = _moments(x, axes, eps)
    xhat = (x - mean) * rstd
    avg = lambda t: jnp.mean(t, axis=axes, keepdims=True)
    return xhat, rstd * (dx - avg(dx) - xhat * avg(dx * xhat))
