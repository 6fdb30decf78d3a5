"""grid_sample and affine_grid, as torch.nn.functional's (torch's grid_sampler_2d/3d and affine_grid_generator).

grid_sample reads input (N, C, *S) at the normalised coordinates grid (N, *O, n) (grid[..., 0] is x along the
last axis W, grid[..., 1] y along H, grid[..., 2] z along D), n = 2 or 3:
- unnormalise: ((g + 1)/2)·(size − 1) with align_corners, else ((g + 1)·size − 1)/2;
- padding_mode: zeros (taps outside read 0), border (clamped to [0, size − 1]), reflection (reflected about
  the edge pixels' centres with align_corners, about their outer edges without, then clamped);
- bilinear: the 2ⁿ corners around the point, weights Π (1 − |c − corner|); nearest: the tap at round(c)
  (half to even, torch's nearbyint; the grid's gradient 0); bicubic (4-D only): Keys' cubic convolution,
  A = −0.75, over the 4×4 taps around ⌊c⌋, each tap's position mapped by padding_mode.
Gradients are torch's: of input, the scatter-add of the weights; of grid, through the weights and the
coordinate maps, where torch's clip has gradient 1 strictly inside [0, size − 1] and 0 at and beyond the bounds
(clip_coordinates_set_grad) and reflect ±1 (reflect_coordinates_set_grad), not JAX's ½ at a tie of min/max.
"""
from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np

from jaxdl import matmul
from jaxdl.checks import check_choice, check_floating
from jaxdl.functional._interpolate import CUBIC_A, _cubic_conv1, _cubic_conv2

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _unnormalize(g, size, align_corners):
    return (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def _clip(c, size):
    """torch's clip_coordinates(_set_grad): c clamped to [0, size − 1], gradient 1 strictly inside and 0 at the
    bounds themselves ("borders are considered out of bounds", torch's comment)."""
    return jnp.where(c <= 0, jnp.zeros_like(c), jnp.where(c >= size - 1, jnp.full_like(c, size - 1), c))


def _reflect(c, twice_low, twice_high):
    """torch's reflect_coordinates(_set_grad): c folded into [low, high] (given doubled, as ints)."""
    if twice_low == twice_high:
        return jnp.zeros_like(c)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    c = c - low
    sign = jnp.where(c < 0, -1, 1).astype(c.dtype)  # torch's gradient multiplier: −1 below low, +1 from low on
    c = c * sign
    extra = jnp.fmod(c, span)
    even = jnp.floor(c / span) % 2 == 0
    return jnp.where(even, extra + low, span - extra + low)


def _coordinates(c, size, padding_mode, align_corners):
    """torch's compute_coordinates: the padding_mode's map of an unnormalised coordinate."""
    if padding_mode == "border":
        return _clip(c, size)
    if padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        return _clip(c, size)
    return c


def _gather(x, taps):
    """x (N, C, *S) at integer taps [(N, *O) per spatial axis, first axis first]: (N, C, *O), 0 where a tap is
    outside the input."""
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    valid = jnp.ones(taps[0].shape, bool)
    flat = jnp.zeros(taps[0].shape, jnp.int32)
    for t, size in zip(taps, spatial):
        t = t.astype(jnp.int32)
        valid = valid & (t >= 0) & (t < size)
        flat = flat * size + jnp.clip(t, 0, size - 1)
    out_shape = taps[0].shape[1:]
    vals = jnp.take_along_axis(x.reshape(n, c, -1), flat.reshape(n, 1, -1), axis=2).reshape(n, c, *out_shape)
    return jnp.where(valid[:, None], vals, jnp.zeros((), x.dtype))


def _cubic_weights(t):
    a = CUBIC_A
    return (_cubic_conv2(t + 1, a), _cubic_conv1(t, a), _cubic_conv1(1 - t, a), _cubic_conv2(2 - t, a))


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros", align_corners=None):
    """Sample (N, C, H, W) at grid (N, Ho, Wo, 2), or (N, C, D, H, W) at grid (N, Do, Ho, Wo, 3), as
    torch.nn.functional.grid_sample (the module docstring states the formulas). align_corners=None means False
    with torch's warning.

    Example:
      >>> x = jnp.arange(4.0).reshape(1, 1, 2, 2)
      >>> grid_sample(x, jnp.zeros((1, 1, 1, 2)), align_corners=True).tolist()
      [[[[1.5]]]]
    """
    check_choice("grid_sample: mode", mode, MODES)
    check_choice("grid_sample: padding_mode", padding_mode, PADDING_MODES)
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    x, g = jnp.asarray(input), jnp.asarray(grid)
    check_floating("grid_sample", x)
    if x.dtype != g.dtype:
        raise TypeError(f"grid_sample: input and grid must have the same dtype; got {x.dtype} and {g.dtype}")
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise ValueError(f"grid_sample: expected a 4-D or 5-D input and a grid of the same rank; got input "
                         f"{x.shape} and grid {g.shape}")
    n = x.ndim - 2
    if g.shape[0] != x.shape[0] or g.shape[-1] != n:
        raise ValueError(f"grid_sample: expected grid of shape (N, *out, {n}) with N = {x.shape[0]} for input "
                         f"{x.shape}; got grid {g.shape}")
    if 0 in x.shape[2:]:
        raise ValueError(f"grid_sample: expected an input with non-empty spatial dimensions; got {x.shape}")
    if mode == "bicubic" and n != 2:
        raise ValueError("grid_sample: bicubic interpolation only supports 4-D input")
    spatial = x.shape[2:]
    # the grid's last axis is (x, y[, z]): reversed, the coordinate of each input axis, first axis first
    coords = [_unnormalize(g[..., n - 1 - a], spatial[a], align_corners) for a in range(n)]
    if mode == "bicubic":
        base = [jnp.floor(c) for c in coords]
        (ty, tx), (by, bx) = [c - b for c, b in zip(coords, base)], base
        wy, wx = _cubic_weights(ty), _cubic_weights(tx)

        def tap(c, size):
            return _coordinates(c, size, padding_mode, align_corners)

        rows = []
        for i in range(4):
            yi = tap(by - 1 + i, spatial[0])
            vals = [_gather(x, [yi, tap(bx - 1 + j, spatial[1])]) for j in range(4)]
            rows.append(sum(v * w[:, None] for v, w in zip(vals, wx)))
        return sum(r * w[:, None] for r, w in zip(rows, wy))
    coords = [_coordinates(c, size, padding_mode, align_corners) for c, size in zip(coords, spatial)]
    if mode == "nearest":
        return _gather(x, [jnp.round(c) for c in coords])
    base = [jnp.floor(c) for c in coords]
    out = None
    for corner in np.ndindex(*(2,) * n):
        taps = [b + k for b, k in zip(base, corner)]
        weight = math.prod(c - b if k else b + 1 - c for c, b, k in zip(coords, base, corner))
        term = _gather(x, taps) * weight[:, None]
        out = term if out is None else out + term
    return out


def _linspace(steps, align_corners, dtype):
    """torch's linspace(−a, a, steps) (a = 1 with align_corners, else (steps − 1)/steps; 0 for one step),
    computed as torch's CPU kernel does: from the start for the first half, from the end for the rest."""
    if steps <= 1:
        return np.zeros(max(steps, 1), dtype)
    a = dtype.type(1.0 if align_corners else (steps - 1) / steps)
    step = (a - -a) / dtype.type(steps - 1)
    i = np.arange(steps)
    return np.where(i < steps // 2, -a + step * i.astype(dtype), a - step * (steps - 1 - i).astype(dtype)).astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps theta (N, 2, 3) for size (N, C, H, W), or (N, 3, 4) for
    (N, C, D, H, W), as torch.nn.functional.affine_grid: grid[n, …] = theta[n] @ (x, y[, z], 1) over the base
    grid of normalised pixel centres (linspace(−1, 1) with align_corners, else the centres of a [−1, 1] span).
    align_corners=None means False with torch's warning.

    Example:
      >>> affine_grid(jnp.array([[[1.0, 0, 0], [0, 1, 0]]]), (1, 1, 1, 2), align_corners=False).tolist()
      [[[[-0.5, 0.0], [0.5, 0.0]]]]
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    t = jnp.asarray(theta)
    check_floating("affine_grid", t, "theta")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise ValueError(f"affine_grid: size must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W); got {size}")
    n = len(size) - 2
    if t.ndim != 3 or t.shape != (size[0], n, n + 1):
        raise ValueError(f"affine_grid: expected theta of shape ({size[0]}, {n}, {n + 1}) for size {size}; got "
                         f"{t.shape}")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected a non-zero, positive size; got {size}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    dtype = np.dtype(t.dtype)
    axes = [_linspace(s, align_corners, dtype) for s in size[2:]]  # first spatial axis first
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([*reversed(mesh), np.ones_like(mesh[0])], -1).reshape(-1, n + 1)  # (x, y[, z], 1)
    grid = matmul.matmul(jnp.asarray(base), t.swapaxes(1, 2))  # (N, P, n)
    return grid.reshape(size[0], *size[2:], n)
