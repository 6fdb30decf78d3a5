"""unfold (im2col) and fold (col2im), as torch.nn.functional's (2-D spatial only, as torch).

unfold gathers every (kh, kw) block of the zero-padded (N, C, H, W) input into a column of (N, C·kh·kw, L); fold
adds the columns back into (N, C, H, W) (overlaps summed), so fold is unfold's transpose and each is the other's
gradient (JAX's gather/scatter-add transposes, torch's im2col/col2im backward).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl.checks import ntuple


def _pairs(name, kernel_size, dilation, padding, stride):
    k, d, p, s = (ntuple(what, v, 2, name) for what, v in
                  (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)))
    for what, v, least in (("kernel_size", k, 1), ("dilation", d, 1), ("padding", p, 0), ("stride", s, 1)):
        if min(v) < least:
            raise ValueError(f"{name}: {what} must be {'≥ 0' if least == 0 else 'greater than zero'}; got {v}")
    return k, d, p, s


def _blocks(name, spatial, k, d, p, s):
    """Per spatial dim the (k, blocks) index table into the padded input: start·s + kernel·d."""
    blocks = tuple((L + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for L, kk, dd, pp, ss in zip(spatial, k, d, p, s))
    if min(blocks) < 1:
        raise ValueError(f"{name}: given spatial size {tuple(spatial)}, kernel_size={k}, dilation={d}, padding={p}, "
                         f"stride={s}, the sliding blocks would be {blocks}; each must be at least one")
    return blocks, [np.arange(kk)[:, None] * dd + np.arange(b)[None, :] * ss for kk, dd, ss, b in zip(k, d, s, blocks)]


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) or (C, H, W) -> (N, C·kh·kw, L) sliding blocks, as torch.nn.functional.unfold: column
    (c·kh·kw + i·kw + j, bh·Bw + bw) is x_padded[c, bh·sh + i·dh, bw·sw + j·dw].

    Example:
      >>> unfold(jnp.arange(9.0).reshape(1, 1, 3, 3), 2).shape
      (1, 4, 4)
    """
    x = jnp.asarray(input)
    k, d, p, s = _pairs("unfold", kernel_size, dilation, padding, stride)
    if x.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise ValueError(f"unfold: expected a 3-D or 4-D (batch mode) input with non-zero channel and spatial "
                         f"sizes; got shape {x.shape}")
    batched = x.ndim == 4
    x = x if batched else x[None]
    (bh, bw), (rows, cols) = _blocks("unfold", x.shape[-2:], k, d, p, s)
    xp = jnp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    # (N, C, kh, bh, kw, bw) -> (N, C, kh, kw, bh, bw)
    patches = xp[:, :, rows[:, :, None, None], cols[None, None, :, :]].transpose(0, 1, 2, 4, 3, 5)
    out = patches.reshape(x.shape[0], x.shape[1] * k[0] * k[1], bh * bw)
    return out if batched else out[0]


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C·kh·kw, L) or (C·kh·kw, L) -> (N, C, H, W): the blocks summed back in place, as
    torch.nn.functional.fold (the transpose of unfold).

    Example:
      >>> fold(jnp.ones((1, 4, 4)), (3, 3), 2)[0, 0].tolist()
      [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    x = jnp.asarray(input)
    size = ntuple("output_size", output_size, 2, "fold")
    k, d, p, s = _pairs("fold", kernel_size, dilation, padding, stride)
    if min(size) < 1:
        raise ValueError(f"fold: output_size must be greater than zero; got {size}")
    if x.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise ValueError(f"fold: expected a 2-D or 3-D (batch mode) input with non-zero sizes; got shape {x.shape}")
    if x.shape[-2] % (k[0] * k[1]):
        raise ValueError(f"fold: the input's size {x.shape[-2]} at dim -2 must be divisible by the product of "
                         f"kernel_size {k}")
    (bh, bw), (rows, cols) = _blocks("fold", size, k, d, p, s)
    if x.shape[-1] != bh * bw:
        raise ValueError(f"fold: given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, "
                         f"stride={s}, expected input.size(-1) to be {bh * bw}; got {x.shape[-1]}")
    batched = x.ndim == 3
    x = x if batched else x[None]
    n, c = x.shape[0], x.shape[1] // (k[0] * k[1])
    blocks = x.reshape(n, c, k[0], k[1], bh, bw).transpose(0, 1, 2, 4, 3, 5)  # (N, C, kh, bh, kw, bw)
    out = jnp.zeros((n, c, size[0] + 2 * p[0], size[1] + 2 * p[1]), x.dtype)
    out = out.at[:, :, rows[:, :, None, None], cols[None, None, :, :]].add(blocks)
    out = out[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
    return out if batched else out[0]
