"""max_unpool1d/2d/3d, as torch.nn.functional: the inverse of max pooling's (values, indices).

Each (sample, channel) plane of the output is zeros with ``input[i]`` written at its flat index ``indices[i]``
(h·W + w, as max_pool returns it); at a repeated index the last write wins (torch's CPU loop). The gradient is
torch's: each input element receives the output gradient at its index (a gather), repeated indices included.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax

from jaxdl.checks import ntuple


def _output_size(name, spatial, k, s, p, output_size):
    """torch's _unpool_output_size: (L − 1)·s + k − 2p per dim, or ``output_size`` ((*S) or (N, C, *S)) within
    ±stride of it, exclusive."""
    n = len(k)
    default = [(L - 1) * si + ki - 2 * pi for L, si, ki, pi in zip(spatial, s, k, p)]
    if output_size is None:
        out = default
    else:
        out = list(output_size)[2:] if len(list(output_size)) == n + 2 else list(output_size)
        if len(out) != n:
            raise ValueError(f"{name}: output_size should be a sequence of {n} or {n + 2} elements, but it has "
                             f"{len(list(output_size))}")
        for d in range(n):
            if not default[d] - s[d] < out[d] < default[d] + s[d]:
                raise ValueError(f"{name}: invalid output_size {list(output_size)} (dim {d} must be between "
                                 f"{default[d] - s[d]} and {default[d] + s[d]}, exclusive)")
    if any(o < 0 for o in out):
        raise ValueError(f"{name}: output_size must be non-negative in every dim; got {out}")
    return tuple(out)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _scatter(x, idx, size):
    """(B, K) values written at (B, K) flat indices into (B, size) zeros; an index equal to size is dropped."""
    rows = lax.broadcasted_iota(jnp.int32, idx.shape, 0)
    return jnp.zeros((x.shape[0], size), x.dtype).at[rows, idx].set(x, mode="drop")


@_scatter.defjvp
def _scatter_jvp(size, primals, tangents):
    """Tangent written with scatter-add, whose transpose (the VJP) is the gather torch's backward is: each input
    gets the output's cotangent at its index even where indices repeat."""
    x, idx = primals
    rows = lax.broadcasted_iota(jnp.int32, idx.shape, 0)
    tangent = jnp.zeros((x.shape[0], size), x.dtype).at[rows, idx].add(tangents[0], mode="drop")
    return _scatter(x, idx, size), tangent


def _max_unpool(name, n, input, indices, kernel_size, stride, padding, output_size):
    x, idx = jnp.asarray(input), jnp.asarray(indices)
    if not jnp.issubdtype(idx.dtype, jnp.integer):
        raise TypeError(f"{name}: indices must be integers (torch: int64); got {idx.dtype}")
    if x.ndim not in (n + 1, n + 2) or 0 in x.shape[-n - 1:]:
        raise ValueError(f"{name}: expected a {n + 1}D or {n + 2}D input with non-zero non-batch dims, but got "
                         f"input of shape {x.shape}")
    if idx.shape != x.shape:
        raise ValueError(f"{name}: indices must have the input's shape {x.shape}; got {idx.shape}")
    k = ntuple("kernel_size", kernel_size, n, name)
    s = k if stride is None else ntuple("stride", stride, n, name)
    p = ntuple("padding", padding, n, name)
    if any(v <= 0 for v in s):
        raise ValueError(f"{name}: stride should be greater than zero, but got stride={s}")
    out = _output_size(name, x.shape[-n:], k, s, p, output_size)
    size = math.prod(out)
    if not isinstance(idx, jax.core.Tracer):  # a concrete index is checked as torch's kernel does
        bad = (idx < 0) | (idx >= size)
        if bool(jnp.any(bad)):
            raise ValueError(f"{name}: found an invalid max index {int(idx[bad][0])} (output plane of size {size} "
                             f"= {' x '.join(map(str, out))})")
    lead = x.shape[:-n]
    idx = jnp.where((idx < 0) | (idx >= size), size, idx).astype(jnp.int32)  # traced: an invalid index is dropped
    per_plane = math.prod(x.shape[-n:])
    flat = _scatter(jnp.reshape(x, (-1, per_plane)), jnp.reshape(idx, (-1, per_plane)), size)
    return jnp.reshape(flat, lead + out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d, as torch.nn.functional.max_unpool1d: (N, C, L) values and max_pool1d's
    indices into (N, C, L_out), L_out = (L − 1)·s + k − 2p or ``output_size``; zeros elsewhere.

    Example:
      >>> max_unpool1d(jnp.array([[2.0, 4.0]]), jnp.array([[1, 2]]), 2).tolist()
      [[0.0, 2.0, 4.0, 0.0]]
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d, as torch.nn.functional.max_unpool2d: values written at their flat indices
    h·W_out + w of each (N, C) plane of size (H − 1)·s + k − 2p (or ``output_size``, (H, W) or (N, C, H, W));
    an index outside the plane raises when indices are concrete, and is dropped under jit (torch raises)."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d, as torch.nn.functional.max_unpool3d (see max_unpool2d; flat indices
    (d·H_out + h)·W_out + w)."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
