"""Max, average, power-average and adaptive pooling over (N, C, L) / (N, C, H, W) / (N, C, D, H, W), as
torch.nn.functional (the ``*_with_indices`` names too).

Every pool here first cuts its windows out as one trailing axis — ``patches`` (..., *out, K), K the window
elements in torch's scan order (row-major) — with static tables saying which slots lie inside the input
and what their flat input index (h·W + w) is. Max pooling then picks ONE slot per window by torch's CPU
kernel rule (the first maximum in scan order; a NaN wins, the last NaN if several), and gathers it, so the
gradient goes to that slot only, as torch's autograd does. ``lax.reduce_window``'s max VJP matches torch at
finite ties on CPU, but not where a window holds a NaN or only −inf (measured against torch 2.13), and its
select-and-scatter order is backend-defined, hence the patches.
"""
from __future__ import annotations

import functools
import itertools
import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxdl.checks import check_floating, ntuple
from jaxdl.functional._activation import relu
from jaxdl.functional._regression_loss import _abs


def _output_size(L, k, p, s, d, ceil_mode):
    """torch's pooling_output_shape: floor/ceil((L + 2p − d(k−1) − 1) / s) + 1, and with ceil_mode the last
    window must start inside the input or the left padding."""
    out = (L + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= L + p:
        out -= 1
    return out


def _pool_args(name, input, n, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked n-tuples and output sizes, with torch's messages."""
    x = jnp.asarray(input)
    if x.ndim not in (n + 1, n + 2) or 0 in x.shape[-n - 1:]:
        raise ValueError(f"{name}: Expected {n + 1}D (C, {', '.join(_DIMS[n])}) or {n + 2}D (N, C, "
                         f"{', '.join(_DIMS[n])}) input with non-zero non-batch dims, but got input of shape {x.shape}")
    k = ntuple("kernel_size", kernel_size, n, name)
    s = (k if stride is None or (not isinstance(stride, int) and len(tuple(stride)) == 0)
         else ntuple("stride", stride, n, name))
    p, d = ntuple("padding", padding, n, name), ntuple("dilation", dilation, n, name)
    if any(v <= 0 for v in k) or any(v <= 0 for v in s) or any(v <= 0 for v in d):
        raise ValueError(f"{name}: kernel size, stride and dilation should be greater than zero, but got "
                         f"kernel_size={k}, stride={s}, dilation={d}")
    if any(pi < 0 or pi > ((ki - 1) * di + 1) // 2 for pi, ki, di in zip(p, k, d)):
        raise ValueError(f"{name}: pad should be at most half of effective kernel size, but got pad={p}, "
                         f"kernel_size={k} and dilation={d}")
    spatial = x.shape[-n:]
    out = tuple(_output_size(L, ki, pi, si, di, ceil_mode) for L, ki, pi, si, di in zip(spatial, k, p, s, d))
    if any(o < 1 for o in out):
        raise ValueError(f"{name}: Given input size: {spatial}. Calculated output size: {out}. "
                         "Output size is too small")
    return x, k, s, p, d, out


_DIMS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _tables(positions, spatial):
    """Static (valid, flat index) tables (*out, K) from per-dim input positions (out_i, k_i)."""
    n = len(positions)
    grids = []
    for i, pos in enumerate(positions):  # pos (out_i, k_i) -> broadcastable (*out, *k)
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = pos.shape
        grids.append(pos.reshape(shape))
    valid = functools.reduce(np.logical_and, [(g >= 0) & (g < L) for g, L in zip(grids, spatial)])
    flat = sum(g * math.prod(spatial[i + 1:]) for i, g in enumerate(grids))
    out = tuple(p.shape[0] for p in positions)
    return valid.reshape(out + (-1,)), np.broadcast_to(flat, valid.shape).reshape(out + (-1,))


def _regular_windows(x, k, s, p, d, out):
    """patches (..., *out, K) of strided, dilated windows over zero padding, and their static tables."""
    n = len(k)
    lead = x.ndim - n
    spatial = x.shape[lead:]
    high = [max(0, (o - 1) * si + di * (ki - 1) + 1 - (L + pi))
            for o, si, di, ki, L, pi in zip(out, s, d, k, spatial, p)]
    xp = lax.pad(x, jnp.zeros((), x.dtype), [(0, 0, 0)] * lead + [(pi, h, 0) for pi, h in zip(p, high)])
    slices = []
    for offs in itertools.product(*(range(ki) for ki in k)):  # torch's scan order: last dim fastest
        start = [0] * lead + [i * di for i, di in zip(offs, d)]
        limit = list(x.shape[:lead]) + [i * di + (o - 1) * si + 1 for i, di, o, si in zip(offs, d, out, s)]
        slices.append(lax.slice(xp, start, limit, [1] * lead + list(s)))
    patches = jnp.stack(slices, axis=-1)  # (..., *out, K)
    positions = [np.arange(o)[:, None] * si - pi + np.arange(ki)[None, :] * di
                 for o, si, pi, ki, di in zip(out, s, p, k, d)]
    return patches, *_tables(positions, spatial)


def _select_max(patches, valid, flat):
    """Torch's pick per window: the first maximum of the valid slots in scan order, or the last NaN; returns
    (value, flat input index), the value taken from that one slot (so its gradient goes there only)."""
    K = patches.shape[-1]
    lowest = -jnp.inf if jnp.issubdtype(patches.dtype, jnp.inexact) else jnp.iinfo(patches.dtype).min
    valid = jnp.broadcast_to(valid, patches.shape)  # static (*out, K) tables, broadcast explicitly over (N, C)
    masked = jnp.where(valid, patches, jnp.asarray(lowest, patches.dtype))
    best = jnp.max(masked, axis=-1, keepdims=True)  # NaN if any valid slot is NaN
    slot = lax.broadcasted_iota(jnp.int32, patches.shape, patches.ndim - 1)
    # plain min/max reductions over slot numbers (cheaper to compile and run than argmax's variadic reduce)
    choice = jnp.min(jnp.where(valid & (masked == best), slot, K), axis=-1)  # first max (first valid if all -inf)
    if jnp.issubdtype(patches.dtype, jnp.inexact):
        nan = jnp.isnan(masked)
        choice = jnp.where(jnp.any(nan, axis=-1), jnp.max(jnp.where(nan, slot, -1), axis=-1), choice)
    picked = slot == choice[..., None]  # one-hot over the window
    value = jnp.sum(jnp.where(picked, patches, jnp.zeros((), patches.dtype)), axis=-1)
    index = jnp.sum(jnp.where(picked, jnp.broadcast_to(jnp.asarray(flat), patches.shape), 0), axis=-1)
    return value, index


def _max_pool(name, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, k, s, p, d, out = _pool_args(name, input, n, kernel_size, stride, padding, dilation, ceil_mode)
    value, index = _select_max(*_regular_windows(x, k, s, p, d, out))
    return (value, index) if return_indices else value


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, L) or (C, L), as torch.nn.functional.max_pool1d (stride defaults to kernel_size).

    Padding never wins (torch pads with −inf); at ties the first maximum gets the whole gradient; NaN propagates.
    Differs from flax.linen.max_pool: stride defaults to kernel_size (flax: 1).
    Returns:
      (N, C, L_out), and with ``return_indices`` also the int indices into L of each maximum.
    Example:
      >>> max_pool1d(jnp.array([[1.0, 3.0, 3.0, 2.0]]), 2, return_indices=True)[1].tolist()
      [[1, 2]]
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, H, W) or (C, H, W), as torch.nn.functional.max_pool2d (stride defaults to
    kernel_size).

    Padding never wins (torch pads with −inf); at ties the first maximum in row-major order gets the whole
    gradient, as torch's autograd; a NaN in a window is its maximum.
    Returns:
      (N, C, H_out, W_out), and with ``return_indices`` also each maximum's flat index h·W + w (torch's).
    Example:
      >>> max_pool2d(jnp.arange(16.0).reshape(1, 4, 4), 2).tolist()
      [[[5.0, 7.0], [13.0, 15.0]]]
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, D, H, W) or (C, D, H, W), as torch.nn.functional.max_pool3d (stride defaults to
    kernel_size).

    Padding, ties and NaN as max_pool2d (the first maximum in d, h, w scan order gets the gradient).
    Returns:
      (N, C, D_out, H_out, W_out), and with ``return_indices`` also each maximum's flat index (d·H + h)·W + w.
    Example:
      >>> max_pool3d(jnp.arange(8.0).reshape(1, 2, 2, 2), 2, return_indices=True)[1].tolist()
      [[[[7]]]]
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """torch.nn.functional.max_pool1d_with_indices: max_pool1d's (values, indices), whatever ``return_indices``."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """torch.nn.functional.max_pool2d_with_indices: max_pool2d's (values, indices), whatever ``return_indices``."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """torch.nn.functional.max_pool3d_with_indices: max_pool3d's (values, indices), whatever ``return_indices``."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_divisor(spatial, k, s, p, out, count_include_pad):
    """torch's per-window divisor: the window clipped to the padded input (count_include_pad) or to the input."""
    sizes = []
    for L, ki, si, pi, o in zip(spatial, k, s, p, out):
        start = np.arange(o) * si - pi
        end = np.minimum(start + ki, L + pi)
        pool = end - start
        inside = np.minimum(end, L) - np.maximum(start, 0)
        sizes.append(pool if count_include_pad else inside)
    return math.prod(np.ix_(*sizes)) if len(sizes) > 1 else sizes[0]


def _avg_pool(name, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, k, s, p, d, out = _pool_args(name, input, n, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{name}: divisor must be not zero; got divisor_override={divisor_override}")
    if x.dtype == jnp.bool_:
        raise TypeError(f"{name}: bool input is not supported (torch raises for bool tensors here); cast it")
    patches, _, _ = _regular_windows(x, k, s, p, d, out)
    total = jnp.sum(patches, axis=-1)  # padded slots are zeros
    if divisor_override is not None:
        divisor = jnp.full(total.shape, divisor_override, x.dtype)
    else:
        divisor = jnp.broadcast_to(jnp.asarray(_avg_divisor(x.shape[-n:], k, s, p, out, count_include_pad),
                                               x.dtype), total.shape)  # static (*out,)
    # integers: torch's CPU kernel divides in the integer type, truncating toward zero (lax.div does too)
    return total / divisor if jnp.issubdtype(x.dtype, jnp.inexact) else lax.div(total, divisor)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of (N, C, L) or (C, L), as torch.nn.functional.avg_pool1d.

    y = Σ_window x / divisor, divisor = the window's size clipped to the padded input (count_include_pad=True)
    or to the input itself (False); integer inputs give integers, the division truncated toward zero (torch's).
    Example:
      >>> avg_pool1d(jnp.array([[1.0, 3.0, 5.0]]), 2, padding=1, count_include_pad=False).tolist()
      [[1.0, 4.0]]
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over windows of (N, C, H, W) or (C, H, W), as torch.nn.functional.avg_pool2d.

    y = Σ_window x / divisor: ``divisor_override`` if given, else the window's area clipped to the padded
    input (count_include_pad=True; with ceil_mode a window past the padding counts only up to it) or to the
    input (False); integer inputs divide truncating toward zero, as torch's. Differs from flax.linen.avg_pool:
    stride defaults to kernel_size.
    Example:
      >>> avg_pool2d(jnp.ones((1, 3, 3)), 2, padding=1).tolist()
      [[[0.25, 0.5], [0.5, 1.0]]]
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over windows of (N, C, D, H, W) or (C, D, H, W), as torch.nn.functional.avg_pool3d; the divisor as
    avg_pool2d's (the window's volume clipped to the padded input or the input, or ``divisor_override``).

    Example:
      >>> avg_pool3d(jnp.ones((1, 2, 2, 2)), 2, padding=1).tolist()
      [[[[0.125, 0.125], [0.125, 0.125]], [[0.125, 0.125], [0.125, 0.125]]]]
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _lp_pool(name, n, input, norm_type, kernel_size, stride, ceil_mode):
    """torch's lp_pool: (sign(a)·relu(|a|)·∏k)^(1/p), a = avg_pool(x^p) without padding; ±inf norms are
    ±max_pool(±|x|). relu's gradient (0 at 0) makes the gradient 0 where the window's sum is 0, and |x|'s is
    torch's sgn(x) (0 at 0), as torch."""
    x = jnp.asarray(input)
    if norm_type in (math.inf, -math.inf):
        sign = 1 if norm_type > 0 else -1
        return sign * _max_pool(name, n, sign * _abs(x), kernel_size, stride, 0, 1, ceil_mode, False)
    out = _avg_pool(name, n, x ** norm_type, kernel_size, stride, 0, ceil_mode, True, None)
    k = ntuple("kernel_size", kernel_size, n, name)
    return (jnp.sign(out) * relu(_abs(out)) * math.prod(k)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, L), as torch.nn.functional.lp_pool1d: (Σ_window x^p)^(1/p) computed as
    torch's (sign(a)·relu(|a|)·k)^(1/p), a = avg_pool1d(x^p); p = inf is max_pool1d(|x|).

    Example:
      >>> lp_pool1d(jnp.array([[3.0, 4.0]]), 2, 2).tolist()
      [[5.0]]
    """
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, H, W), as torch.nn.functional.lp_pool2d (see lp_pool1d; the factor is
    kH·kW, so a ceil_mode window cut by the edge is scaled as torch scales it)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, D, H, W), as torch.nn.functional.lp_pool3d (see lp_pool1d)."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


def _adaptive_ranges(L, o):
    """torch's adaptive windows: start = ⌊i·L/o⌋, end = ⌈(i+1)·L/o⌉."""
    return [(i * L // o, -(-(i + 1) * L // o)) for i in range(o)]


def _adaptive_args(name, input, n, output_size):
    x = jnp.asarray(input)
    if x.ndim not in (n + 1, n + 2) or 0 in x.shape[-n - 1:]:
        raise ValueError(f"{name}(): Expected {n + 1}D or {n + 2}D input with non-zero non-batch dims, but got "
                         f"input of shape {x.shape}")
    sizes = (output_size,) * n if output_size is None or isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != n:
        raise ValueError(f"{name}: output_size must be {n} values (an int, or None for the input's size); "
                         f"got output_size={output_size!r}")
    out = tuple(L if o is None else o for o, L in zip(sizes, x.shape[-n:]))
    if any(not isinstance(o, int) or o < 0 for o in out):
        raise ValueError(f"{name}: output_size must be non-negative ints; got {output_size!r}")
    return x, out


def _adaptive_avg(name, n, input, output_size):
    x, out = _adaptive_args(name, input, n, output_size)
    check_floating(name, x)
    for axis, o in zip(range(x.ndim - n, x.ndim), out):  # a rectangle's mean is the mean of its row means
        L = x.shape[axis]
        x = jnp.stack([jnp.mean(lax.slice_in_dim(x, a, b, axis=axis), axis=axis) for a, b in _adaptive_ranges(L, o)],
                      axis=axis)
    return x


def adaptive_avg_pool1d(input, output_size):
    """Mean over torch's adaptive windows of (N, C, L): window i is [⌊i·L/o⌋, ⌈(i+1)·L/o⌉), as torch.

    Example:
      >>> adaptive_avg_pool1d(jnp.array([[1.0, 2.0, 3.0]]), 2).tolist()
      [[1.5, 2.5]]
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean over torch's adaptive windows of (N, C, H, W): rows [⌊i·H/oh⌋, ⌈(i+1)·H/oh⌉), likewise columns.

    ``output_size`` is an int or (oh, ow), None meaning the input's size, as torch.
    Example:
      >>> adaptive_avg_pool2d(jnp.ones((1, 5, 7)), (2, None)).shape
      (1, 2, 7)
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Mean over torch's adaptive windows of (N, C, D, H, W), per dim as adaptive_avg_pool2d; ``output_size`` an
    int or (od, oh, ow), None keeping the input's size."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(name, n, input, output_size, return_indices):
    x, out = _adaptive_args(name, input, n, output_size)
    spatial = x.shape[-n:]
    positions, gather = [], []
    for i, (L, o) in enumerate(zip(spatial, out)):
        ranges = _adaptive_ranges(L, o)
        width = max((b - a for a, b in ranges), default=0)
        pos = np.array([[a + j if a + j < b else L for j in range(width)] for a, b in ranges]).reshape(o, width)
        positions.append(pos)  # slots past a window's end are marked invalid (position L)
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = pos.shape
        gather.append(np.minimum(pos, L - 1).reshape(shape))
    valid, flat = _tables(positions, spatial)
    patches = x[(..., *gather)]  # (..., *out, *width)
    value, index = _select_max(jnp.reshape(patches, patches.shape[:x.ndim] + (-1,)), valid, flat)
    return (value, index) if return_indices else value


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows of (N, C, L) (see adaptive_avg_pool1d), ties and NaN as max_pool1d."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows of (N, C, H, W), as torch.nn.functional.adaptive_max_pool2d.

    Ties and NaN as max_pool2d (one slot per window gets the gradient); indices are flat h·W + w.
    Example:
      >>> adaptive_max_pool2d(jnp.arange(9.0).reshape(1, 3, 3), 2).tolist()
      [[[4.0, 5.0], [7.0, 8.0]]]
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows of (N, C, D, H, W), ties and NaN as max_pool3d; indices are flat
    (d·H + h)·W + w."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool1d_with_indices: (values, indices), whatever ``return_indices``."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool2d_with_indices: (values, indices), whatever ``return_indices``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool3d_with_indices: (values, indices), whatever ``return_indices``."""
    return adaptive_max_pool3d(input, output_size, True)
