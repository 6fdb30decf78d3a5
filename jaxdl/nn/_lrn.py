"""LocalResponseNorm and CrossMapLRN2d, as torch.nn's.

CrossMapLRN2d is not F.local_response_norm: torch computes it with its own autograd Function
(torch/nn/modules/_functions.py, a port of Lua Torch's SpatialCrossMapLRN), reproduced here step for step:
the forward keeps a running sum of squares over the channels that never drops channel 0 (its loop removes
channel c − pre_pad only for c > pre_pad), and the backward is that Function's own formula, not the forward's
derivative. Both are torch's values, in torch's order of rounding.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_floating
from jaxdl.nn._module import Module, module


@module
class LocalResponseNorm(Module):
    """torch.nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0): F.local_response_norm."""

    size: int
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def apply(self, params, state, input, *, training=False, key=None):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k), state


def _scale(x, size, alpha, k):
    """torch's CrossMapLRN2d.forward ``scale``: k + alpha/size · the running channel sum of x²."""
    channels = x.shape[1]
    sq = x * x
    pre_pad = int((size - 1) / 2 + 1)
    first = sq[:, 0]
    for c in range(1, min(pre_pad, channels)):
        first = first + sq[:, c]
    scales = [first]
    for c in range(1, channels):
        cur = scales[-1]
        if c < channels - pre_pad + 1:
            cur = cur + sq[:, c + pre_pad - 1]
        if c > pre_pad:
            cur = cur - sq[:, c - pre_pad]
        scales.append(cur)
    return jnp.stack(scales, 1) * (alpha / size) + k


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
def cross_map_lrn2d(x, size: int, alpha: float, beta: float, k: float):
    """x · scale^(−beta), scale from ``_scale``: torch's CrossMapLRN2d Function."""
    return _scale(x, size, alpha, k) ** -beta * x


def _forward(x, size, alpha, beta, k):
    scale = _scale(x, size, alpha, k)
    out = scale ** -beta * x
    return out, (x, out, scale)


def _backward(size, alpha, beta, k, residuals, g):
    """torch's CrossMapLRN2d.backward: scale^(−beta)·g − (2·alpha·beta/size)·x·Σ_window g·out/scale."""
    x, out, scale = residuals
    channels = x.shape[1]
    cache_ratio_value = 2 * alpha * beta / size
    inverse_pre_pad = int(size - (size - 1) / 2)
    grad = scale ** -beta * g
    ratio = g * out / scale
    padded = jnp.pad(ratio, [(0, 0), (inverse_pre_pad, size - 1 - inverse_pre_pad)] + [(0, 0)] * (x.ndim - 2))
    accum = padded[:, 0] * 0
    for i in range(size - 1):
        accum = accum + padded[:, i]
    rows = []
    for c in range(channels):
        accum = accum + padded[:, c + size - 1]
        rows.append(grad[:, c] + -cache_ratio_value * x[:, c] * accum)
        accum = accum - padded[:, c]
    return (jnp.stack(rows, 1),)


cross_map_lrn2d.defvjp(_forward, _backward)


@module
class CrossMapLRN2d(Module):
    """torch.nn.CrossMapLRN2d(size, alpha=1e-4, beta=0.75, k=1) on (N, C, H, W): torch's own forward and backward
    (module docstring), which differ from LocalResponseNorm's."""

    size: int
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1

    def apply(self, params, state, input, *, training=False, key=None):
        check_floating("CrossMapLRN2d", input)
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: expected a 4-D (N, C, H, W) input; got a {input.ndim}-D input")
        return cross_map_lrn2d(input, self.size, float(self.alpha), float(self.beta), float(self.k)), state
