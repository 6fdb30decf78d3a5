"""interpolate (and the deprecated upsample, upsample_nearest, upsample_bilinear), as torch.nn.functional's.

Every mode is separable: per spatial axis, from the last to the first (torch's CPU kernels interpolate the
innermost axis first), output position i reads input positions ``idx[i, k]`` with weights ``w[i, k]``:
y[i] = Σ_k w[i, k]·x[idx[i, k]]. The tables depend only on the sizes, so they are numpy constants built at trace
time with torch's formulas and torch's arithmetic (aten/src/ATen/native/UpSample.h): the gradient is the
scatter-add of the same weights (torch's upsample_*_backward), nearest's accumulating over repeated sources.

- scale (compute_scales_value): 1/scale_factor when one is given and > 0, else in/out; with align_corners
  (area_pixel_compute_scale) (in−1)/(out−1), 0 for out = 1.
- nearest: src = min(⌊dst·scale⌋, in−1) in float32 (torch's float kernel arithmetic for every dtype), the
  source itself when out = in and dst//2 when out = 2·in; nearest-exact: min(⌊(dst + ½)·scale⌋, in−1).
- linear/bilinear/trilinear: src = scale·dst (align_corners) or max(scale·(dst + ½) − ½, 0); i0 = min(⌊src⌋,
  in−1), i1 = i0 + (i0 < in−1), λ1 = clamp(src − i0, 0, 1), λ0 = 1 − λ1 (the identity when out = in).
- bicubic: src = scale·(dst + ½) − ½ (unclamped), t = clamp(src − ⌊src⌋) as above, Keys' cubic convolution with
  A = −0.75 over i0−1 … i0+2, indices clamped to [0, in−1].
- antialias (bilinear, bicubic; 4-D): torch's separable AA filter (PIL's): support = r·max(scale, 1) (r = 1
  bilinear, 2 bicubic with A = −0.5), center = scale·(dst + ½), taps ⌊center ± support + ½⌋, weights
  filter((j − center + ½)/max(scale, 1)) normalised to sum 1; an axis whose size does not change is left as is.
- area: adaptive average pooling to the output size (torch calls adaptive_avg_pool{1,2,3}d).
Weights are in the input's dtype (torch's float32 kernels compute them in float32).
"""
from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np

from jaxdl.checks import check_choice, upcast_half
from jaxdl.functional._pooling import _adaptive_avg

MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_LINEAR_NDIM = {"linear": 3, "bilinear": 4, "trilinear": 5}
CUBIC_A = -0.75  # torch's get_cubic_upsample_coefficients
AA_CUBIC_A = -0.5  # torch's antialiased bicubic filter (PIL's)


def _scale(dtype, in_size, out_size, align_corners, scale):
    """torch's area_pixel_compute_scale in ``dtype`` (compute_scales_value without align_corners)."""
    if align_corners:
        return dtype.type(in_size - 1) / dtype.type(out_size - 1) if out_size > 1 else dtype.type(0)
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(in_size) / dtype.type(out_size)


def _nearest(in_size, out_size, scale, exact):
    f32 = np.dtype(np.float32)
    s = _scale(f32, in_size, out_size, False, scale)
    dst = np.arange(out_size)
    if exact:
        src = np.floor(((dst + 0.5) * np.float64(s)).astype(np.float32))
    elif out_size == in_size:
        src = dst
    elif out_size == 2 * in_size:
        src = dst // 2
    else:
        src = np.floor(dst.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), in_size - 1)[:, None], None


def _source(dtype, in_size, out_size, align_corners, scale, cubic):
    """torch's area_pixel_compute_source_index for every output position, with guard_index_and_lambda:
    (i0, λ) in ``dtype``."""
    s = _scale(dtype, in_size, out_size, align_corners, scale)
    dst = np.arange(out_size).astype(dtype)
    if align_corners:
        src = s * dst
    else:
        src = s * (dst + dtype.type(0.5)) - dtype.type(0.5)
        if not cubic:
            src = np.maximum(src, dtype.type(0))
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(dtype), dtype.type(0), dtype.type(1))
    return i0, lam


def _linear(dtype, in_size, out_size, align_corners, scale):
    if in_size == out_size:
        i = np.arange(out_size)
        return np.stack([i, i], 1), np.stack([np.ones(out_size, dtype), np.zeros(out_size, dtype)], 1)
    i0, lam = _source(dtype, in_size, out_size, align_corners, scale, cubic=False)
    i1 = i0 + (i0 < in_size - 1)
    return np.stack([i0, i1], 1), np.stack([dtype.type(1) - lam, lam], 1)


def _cubic_conv1(x, a):
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_conv2(x, a):
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _cubic(dtype, in_size, out_size, align_corners, scale):
    i0, t = _source(dtype, in_size, out_size, align_corners, scale, cubic=True)
    a, one = dtype.type(CUBIC_A), dtype.type(1)
    w = np.stack([_cubic_conv2(t + one, a), _cubic_conv1(t, a), _cubic_conv1(one - t, a),
                  _cubic_conv2(one - t + one, a)], 1).astype(dtype)
    return np.clip(i0[:, None] - 1 + np.arange(4)[None, :], 0, in_size - 1), w


def _aa_filter(mode):
    if mode == "bilinear":
        return 1, lambda x: max(0.0, 1.0 - abs(x))

    def cubic(x):
        x = abs(x)
        return _cubic_conv1(x, AA_CUBIC_A) if x < 1 else _cubic_conv2(x, AA_CUBIC_A) if x < 2 else 0.0
    return 2, cubic


def _antialias(mode, dtype, in_size, out_size, align_corners, scale):
    """torch's _compute_indices_min_size_weights_aa, position by position (scalar arithmetic in ``dtype``)."""
    if in_size == out_size:
        return np.arange(out_size)[:, None], np.ones((out_size, 1), dtype)
    half, fn = _aa_filter(mode)
    t = dtype.type
    s = _scale(dtype, in_size, out_size, align_corners, scale)
    support = t(half) * s if s >= 1 else t(half)
    width = math.ceil(support) * 2 + 1
    invscale = t(1) / s if s >= 1 else t(1)
    idx, w = np.zeros((out_size, width), np.int64), np.zeros((out_size, width), dtype)
    for i in range(out_size):
        center = s * t(i + 0.5)
        xmin = max(int(center - support + t(0.5)), 0)
        xsize = min(max(min(int(center + support + t(0.5)), in_size) - xmin, 0), width)
        ws = [t(fn(float(t(j + xmin - center + t(0.5)) * invscale))) for j in range(xsize)]
        total = t(0)
        for v in ws:
            total = t(total + v)
        idx[i, :xsize] = np.arange(xmin, xmin + xsize)
        idx[i, xsize:] = min(xmin, in_size - 1)
        w[i, :xsize] = [v / total for v in ws] if total != 0 else ws
    return idx, w


def _resample_axis(x, axis, idx, w):
    """y[..., i, ...] = Σ_k w[i, k]·x[..., idx[i, k], ...] along ``axis`` (a plain gather for nearest)."""
    if w is None:
        return jnp.take(x, jnp.asarray(idx[:, 0]), axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    out = None
    for k in range(idx.shape[1]):
        if not w[:, k].any() and k > 0:
            continue  # the antialias table's padding taps (torch's loop stops at each position's xsize)
        term = jnp.take(x, jnp.asarray(idx[:, k]), axis=axis) * jnp.asarray(w[:, k], x.dtype).reshape(shape)
        out = term if out is None else out + term
    return out


def _output_size(x, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes, the scales the kernel uses or Nones), as torch's interpolate resolves them."""
    dim, spatial = x.ndim - 2, x.shape[2:]
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * dim
        if len(sizes) != dim:
            raise ValueError(f"interpolate: size must have {dim} values for an input with spatial dimensions "
                             f"{list(spatial)}; got size={list(sizes)}")
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in sizes):
            raise TypeError(f"interpolate: size must be an int or a tuple of ints; got {size!r}")
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        return tuple(int(v) for v in sizes), (None,) * dim
    if scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * dim
    if len(scales) != dim:
        raise ValueError(f"interpolate: scale_factor must have {dim} values for an input with spatial dimensions "
                         f"{list(spatial)}; got scale_factor={list(scales)}")
    scales = tuple(float(s) for s in scales)
    if not all(math.isfinite(s) for s in scales):
        raise ValueError(f"interpolate: scale_factor must be finite; got {list(scales)}")
    sizes = tuple(math.floor(n * s) for n, s in zip(spatial, scales))
    if recompute_scale_factor or mode == "area":  # torch: area always recomputes from the integer size
        return sizes, (None,) * dim
    return sizes, scales


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """Resample (N, C, *spatial) to ``size`` or by ``scale_factor``, as torch.nn.functional.interpolate (the
    module docstring states every mode's formula). 3-D input: nearest, nearest-exact, linear, area; 4-D: those
    but linear, bilinear and bicubic (antialias for these two); 5-D: nearest, nearest-exact, trilinear, area.
    torch's "lanczos" mode is not built. Integer inputs: nearest and nearest-exact (a gather); the filtering
    modes are refused (torch's uint8 kernels round their own way).

    Example:
      >>> interpolate(jnp.array([[[1.0, 3.0]]]), scale_factor=2, mode="linear").tolist()
      [[[1.0, 1.5, 2.5, 3.0]]]
    """
    x = jnp.asarray(input)
    check_choice("interpolate: mode", mode, MODES)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners can only be set with the interpolating modes linear, "
                             f"bilinear, bicubic and trilinear; got align_corners={align_corners} with mode {mode!r}")
    elif align_corners is None:
        align_corners = False
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, *spatial); got shape {x.shape}")
    want = _LINEAR_NDIM.get(mode, 4 if mode == "bicubic" else x.ndim)
    if x.ndim != want:
        raise ValueError(f"interpolate: mode {mode!r} needs a {want}-D input; got shape {x.shape}")
    sizes, scales = _output_size(x, size, scale_factor, recompute_scale_factor, mode)
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError(f"interpolate: antialias is restricted to the bilinear and bicubic modes; got mode {mode!r}")
    if min(x.shape[2:]) < 1 or min(sizes) < 1:
        raise ValueError(f"interpolate: input and output sizes must be greater than 0; got input "
                         f"{tuple(x.shape[2:])} and output {sizes}")
    if mode == "area":
        return _adaptive_avg("interpolate", x.ndim - 2, x, sizes)
    if not mode.startswith("nearest") and not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"interpolate: mode {mode!r} needs a floating-point input (torch's uint8 kernels round "
                        f"their own way; cast to float); got dtype {x.dtype}")
    x, restore = upcast_half(x)
    dtype = np.dtype(x.dtype) if jnp.issubdtype(x.dtype, jnp.floating) else None
    for axis in reversed(range(2, x.ndim)):
        n, o, s = x.shape[axis], sizes[axis - 2], scales[axis - 2]
        if mode.startswith("nearest"):
            idx, w = _nearest(n, o, s, exact=mode == "nearest-exact")
        elif antialias:
            idx, w = _antialias(mode, dtype, n, o, align_corners, s)
        elif mode == "bicubic":
            idx, w = _cubic(dtype, n, o, align_corners, s)
        else:
            idx, w = _linear(dtype, n, o, align_corners, s)
        x = _resample_axis(x, axis, idx, w)
    return restore(x)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """torch.nn.functional.upsample (deprecated in torch, with its warning): ``interpolate`` with these
    arguments."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """torch.nn.functional.upsample_nearest (deprecated in torch, with its warning): ``interpolate(mode="nearest")``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """torch.nn.functional.upsample_bilinear (deprecated in torch, with its warning): ``interpolate(
    mode="bilinear", align_corners=True)``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
