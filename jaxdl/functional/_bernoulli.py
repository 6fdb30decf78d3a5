"""``jax.random.bernoulli(key, p, shape)`` bit for bit, faster on CPU (dropout's mask).

On CPU, JAX lowers the threefry hash as a rolled 5-iteration while loop (to keep compile times short), which
XLA:CPU runs as ~20 small kernels per mask. Here the same hash is written out unrolled with jnp ops, so XLA
fuses it into one elementwise loop. Integer ops count as cheap to XLA's fusion, so it would copy that loop into
every consumer of the mask (dropout's forward multiply and its backward one) and hash twice; ending the mask
in ``sqrt`` (exact on 0/1, and an op XLA will not duplicate) makes it compute the mask once and share it.

The bits are threefry2x32's, exactly as ``jax.random.bernoulli`` draws them (``jax_threefry_partitionable``,
32-bit uniform, ``uniform < p``); any other case (another PRNG impl, raw uint32 keys, a non-float32 or
non-scalar p, the legacy non-partitionable mode, ≥ 2³² elements) calls jax.random.bernoulli itself.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxdl.checks import is_typed_key

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotl(v, r: int):
    return lax.shift_left(v, np.uint32(r)) | lax.shift_right_logical(v, np.uint32(32 - r))


def threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 hash (20 rounds), as jax's unrolled (non-CPU) lowering of ``threefry2x32_p``."""
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    x1, x2 = x1 + ks[0], x2 + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x1 = x1 + x2
            x2 = x1 ^ _rotl(x2, r)
        x1 = x1 + ks[(i + 1) % 3]
        x2 = x2 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x1, x2


def _is_fast_case(key, p, shape) -> bool:
    if not (is_typed_key(key) and jnp.ndim(key) == 0):
        return False
    if str(jax.random.key_impl(key)) != "threefry2x32" or not jax.config.jax_threefry_partitionable:
        return False
    return lax.dtype(p) == jnp.float32 and jnp.ndim(p) == 0 and 0 < math.prod(shape) < 2**32


def bernoulli(key, p, shape):
    """``jax.random.bernoulli(key, p, shape)`` for a scalar p: the same bits, hashed once per mask."""
    shape = tuple(shape)
    if not _is_fast_case(key, p, shape):
        return jax.random.bernoulli(key, p, shape)
    k = jax.random.key_data(key)
    lo = lax.iota(np.uint32, math.prod(shape)).reshape(shape)  # the element's index: iota_2x32_shape's low word
    b1, b2 = threefry2x32(k[0], k[1], jnp.zeros_like(lo), lo)  # high word 0 below 2³² elements
    bits = b1 ^ b2
    floats = lax.bitcast_convert_type(lax.shift_right_logical(bits, np.uint32(9)) | np.uint32(0x3F800000),
                                      jnp.float32) - jnp.float32(1.0)
    keep = floats < lax.convert_element_type(p, jnp.float32)
    return lax.sqrt(keep.astype(jnp.float32)) > 0  # == keep; materialised once (see the module docstring)
