"""fractional_max_pool2d and fractional_max_pool3d (and their ``*_with_indices`` names), as torch.nn.functional.

Window i along a dim of input size L, output size o and kernel k starts at torch's (aten's generate_intervals)
  start_i = ⌊(i + u)·α⌋ − ⌊u·α⌋, α = (L − k)/(o − 1), for i < o − 1, and start_{o−1} = L − k,
computed in the input's dtype, u the (sample, channel)'s random number for that dim: ``_random_samples`` (N, C, n)
in torch's order (2-D: u[..., 0] for W, u[..., 1] for H; 3-D: T, H, W), or drawn from ``key`` when not given.
The windows are gathered as one trailing axis and the maximum picked by max pooling's rule (the first maximum,
a NaN wins, the last NaN if several), which is also torch's fractional kernel's.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl.checks import ntuple
from jaxdl.functional._pooling import _select_max

_MISSING_KEY = ("{name} needs _random_samples or a PRNG key (it draws each window's offsets): pass "
                "key=jax.random.key(0)")


def _starts(u, L, o, k):
    """aten's generate_intervals for a (..., ) array of samples ``u``: (..., o) int32 window starts."""
    i = jnp.arange(o - 1, dtype=u.dtype)
    if o > 1:
        alpha = jnp.asarray(L - k, u.dtype) / jnp.asarray(o - 1, u.dtype)
        i = jnp.reshape(i, (1,) * u.ndim + (-1,))
        head = (jnp.floor((i + u[..., None]) * alpha) - jnp.floor(u * alpha)[..., None]).astype(jnp.int32)
    else:
        head = jnp.zeros(u.shape + (0,), jnp.int32)
    return jnp.concatenate([head, jnp.full(u.shape + (1,), L - k, jnp.int32)], axis=-1)


def _fractional_max(name, n, input, kernel_size, output_size, output_ratio, return_indices, _random_samples, key):
    x = jnp.asarray(input)
    if x.ndim not in (n + 1, n + 2) or 0 in x.shape[-n - 1:]:
        raise ValueError(f"{name}(): Expected {n + 1}D or {n + 2}D input with non-zero non-batch dims, but got "
                         f"input of shape {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{name}: expected a floating input (torch computes no integer fractional pooling); got "
                        f"{x.dtype}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    k = ntuple("kernel_size", kernel_size, n, name)
    spatial = x.shape[-n:]
    if output_size is None:
        ratio = (output_ratio,) * n if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
        ratio = ratio * n if len(ratio) == 1 else ratio
        if len(ratio) != n:
            raise ValueError(f"{name}: output_ratio must be a number or {n} numbers; got {output_ratio!r}")
        out = tuple(int(L * r) for L, r in zip(spatial, ratio))
    else:
        out = ntuple("output_size", output_size, n, name)
    if any(v <= 0 for v in k) or any(o < 0 for o in out):
        raise ValueError(f"{name}: kernel_size must be positive and output_size non-negative; got kernel_size={k}, "
                         f"output_size={out}")
    # torch's bound: o + k − 1 ≤ L in 2-D, and strictly < L in 3-D (aten's FractionalMaxPool3d checks '<')
    if any(o + ki - 1 > L - (n == 3) for o, ki, L in zip(out, k, spatial)):
        raise ValueError(f"{name}: output_size {out} + kernel_size {k} − 1 must be {'<' if n == 3 else '≤'} the "
                         f"input's size {spatial} in every dim (the windows must fit)")
    unbatched = x.ndim == n + 1
    x = x[None] if unbatched else x  # (C, *S) -> (1, C, *S)
    lead = x.shape[:2]
    if _random_samples is None:
        if key is None:
            raise ValueError(_MISSING_KEY.format(name=name))
        u = jax.random.uniform(key, lead + (n,), x.dtype)
    else:
        u = jnp.asarray(_random_samples)
        if u.ndim != 3 or u.shape[0] < lead[0] or u.shape[1:] != (lead[1], n):  # torch reads the first N rows
            raise ValueError(f"{name}: _random_samples must have shape (≥ N, C, {n}) = (≥ {lead[0]}, {lead[1]}, {n}) "
                             f"for input {jnp.shape(input)}; got {u.shape}")
        u = u[:lead[0]]
        if u.dtype != x.dtype:
            raise TypeError(f"{name}: _random_samples must have the input's dtype {x.dtype}; got {u.dtype}")
    if 0 in out:  # torch returns an empty output
        value, index = jnp.zeros(lead + out, x.dtype), jnp.zeros(lead + out, jnp.int32)
        value, index = (value[0], index[0]) if unbatched else (value, index)
        return (value, index) if return_indices else value
    order = (1, 0) if n == 2 else (0, 1, 2)  # which sample each dim reads: 2-D (H ← u[1], W ← u[0])
    # per dim: input positions (N, C, o, k), gathered one dim at a time into (N, C, o_1·k_1, ..., o_n·k_n)
    patches, flat = x, jnp.zeros((), jnp.int32)
    for d, (L, o, kd) in enumerate(zip(spatial, out, k)):
        offsets = jnp.reshape(jnp.arange(kd, dtype=jnp.int32), (1, 1, 1, kd))
        pos = _starts(u[..., order[d]], L, o, kd)[..., None] + offsets  # (N, C, o, k)
        shape = lead + tuple(o * kd if e == d else 1 for e in range(n))
        patches = jnp.take_along_axis(patches, jnp.reshape(pos, shape), axis=2 + d, mode="clip")
        stride = 1
        for L_next in spatial[d + 1:]:
            stride *= L_next
        flat = flat + jnp.reshape(pos, shape) * stride
    split = lead + tuple(v for o, kd in zip(out, k) for v in (o, kd))  # (N, C, o_1, k_1, ..., o_n, k_n)
    perm = (0, 1) + tuple(2 + 2 * d for d in range(n)) + tuple(3 + 2 * d for d in range(n))
    window = lambda a: jnp.reshape(jnp.transpose(jnp.reshape(a, split), perm), lead + out + (math.prod(k),))  # noqa: E731
    flat = jnp.broadcast_to(flat, patches.shape)
    value, index = _select_max(window(patches), True, window(flat))
    if unbatched:
        value, index = value[0], index[0]
    return (value, index) if return_indices else value


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None, *, key=None):
    """Fractional max pooling over (N, C, H, W) or (C, H, W), as torch.nn.functional.fractional_max_pool2d.

    Windows of kernel_size start at pseudo-random steps (module doc) so that exactly output_size (or
    ⌊size·output_ratio⌋) windows fit. Deterministic given ``_random_samples`` (N, C, 2) in the input's dtype;
    otherwise drawn U[0, 1) from ``key`` (torch: its global generator). Returns values, and with
    ``return_indices`` flat indices h·W + w.
    Example:
      >>> u = jnp.full((1, 1, 2), 0.5)
      >>> fractional_max_pool2d(jnp.arange(16.0).reshape(1, 1, 4, 4), 2, output_size=2, _random_samples=u).tolist()
      [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _fractional_max("fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio,
                           return_indices, _random_samples, key)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None, *, key=None):
    """Fractional max pooling over (N, C, T, H, W) or (C, T, H, W), as torch.nn.functional.fractional_max_pool3d;
    ``_random_samples`` (N, C, 3) as (T, H, W); indices flat (t·H + h)·W + w (see fractional_max_pool2d)."""
    return _fractional_max("fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio,
                           return_indices, _random_samples, key)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None, *, key=None):
    """torch.nn.functional.fractional_max_pool2d_with_indices: (values, indices), whatever ``return_indices``."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples, key=key)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None, *, key=None):
    """torch.nn.functional.fractional_max_pool3d_with_indices: (values, indices), whatever ``return_indices``."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples, key=key)
