"""pixel_shuffle, pixel_unshuffle, channel_shuffle and native_channel_shuffle, as torch.nn.functional's.

Pure rearrangements (reshape and transpose, torch's ``_refs`` decompositions): every dtype passes through and the
gradient is the inverse rearrangement.
"""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl.checks import check_positive_int


def _check_3d(name: str, x) -> None:
    if x.ndim < 3:
        raise ValueError(f"{name} expects input to have at least 3 dimensions; got shape {x.shape}")


def pixel_shuffle(input, upscale_factor: int):
    """(*, C·r², H, W) -> (*, C, H·r, W·r), as torch.nn.functional.pixel_shuffle:
    out[..., c, h·r + i, w·r + j] = in[..., c·r² + i·r + j, h, w].

    Example:
      >>> pixel_shuffle(jnp.arange(4.0).reshape(1, 4, 1, 1), 2)[0, 0].tolist()
      [[0.0, 1.0], [2.0, 3.0]]
    """
    x = jnp.asarray(input)
    _check_3d("pixel_shuffle", x)
    check_positive_int("pixel_shuffle: upscale_factor", upscale_factor)
    r, (c, h, w), batch = upscale_factor, x.shape[-3:], x.shape[:-3]
    if c % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                         f"upscale_factor; got {c} channels and upscale_factor={r}")
    n = len(batch)
    y = x.reshape(*batch, c // (r * r), r, r, h, w).transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of pixel_shuffle, as torch.nn.functional.pixel_unshuffle.

    Example:
      >>> pixel_unshuffle(jnp.arange(4.0).reshape(1, 1, 2, 2), 2)[0, :, 0, 0].tolist()
      [0.0, 1.0, 2.0, 3.0]
    """
    x = jnp.asarray(input)
    _check_3d("pixel_unshuffle", x)
    check_positive_int("pixel_unshuffle: downscale_factor", downscale_factor)
    r, (c, h, w), batch = downscale_factor, x.shape[-3:], x.shape[:-3]
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor; got "
                         f"height {h}, width {w} and downscale_factor={r}")
    n = len(batch)
    y = x.reshape(*batch, c, h // r, r, w // r, r).transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input, groups: int):
    """(N, C, *) with C = g·k: channel i·k + j moves to j·g + i, as torch.nn.functional.channel_shuffle.

    Example:
      >>> channel_shuffle(jnp.arange(4.0).reshape(1, 4, 1), 2)[0, :, 0].tolist()
      [0.0, 2.0, 1.0, 3.0]
    """
    x = jnp.asarray(input)
    if x.ndim <= 2:
        raise ValueError(f"channel_shuffle expects input with > 2 dims; got shape {x.shape}")
    check_positive_int("channel_shuffle: groups", groups)
    n, c = x.shape[:2]
    if c % groups:
        raise ValueError(f"channel_shuffle: the number of channels must be divisible by groups; got {c} channels "
                         f"and groups={groups}")
    return x.reshape(n, groups, c // groups, *x.shape[2:]).swapaxes(1, 2).reshape(x.shape)


def native_channel_shuffle(input, groups: int):
    """torch.nn.functional.native_channel_shuffle: channel_shuffle's values (torch's native kernel). torch has no
    derivative for it (backward raises); jaxdl's gradient is channel_shuffle's, the inverse rearrangement."""
    return channel_shuffle(input, groups)
