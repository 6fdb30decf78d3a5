"""pad, as torch.nn.functional.pad: constant, reflect, replicate and circular modes, torch's pad order."""
from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from jaxdl import amp
from jaxdl.checks import check_choice

MODES = ("constant", "reflect", "replicate", "circular")
_JNP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode: str = "constant", value=None):
    """Pad (or, with negative entries, crop) the last ``len(pad) // 2`` dims, as torch.nn.functional.pad.

    ``pad`` lists the last dim first: ``(left, right, top, bottom, front, back)``.
    constant fills ``value`` (default 0); reflect mirrors without repeating the edge (torch's, numpy's
    'reflect'); replicate repeats the edge; circular wraps around. Non-constant modes pad the last 1, 2
    or 3 dims of a batched or unbatched input (torch's rule), and negative entries crop as torch does:
    reflect/replicate index the padded output from the input (pad, then crop), circular crops first.

    Args:
      input: array of any shape (constant) or of ``len(pad) // 2 + 1`` or ``+ 2`` dims (other modes).
      pad: even-length sequence of ints.
    Example:
      >>> pad(jnp.arange(3.0)[None], (1, 2), mode="reflect").tolist()
      [[1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]
    """
    x = jnp.asarray(input)
    pad = tuple(int(p) for p in pad)
    check_choice("pad: mode", mode, MODES)
    if len(pad) % 2:
        raise ValueError(f"pad: Padding length must be divisible by 2; got pad={pad} of length {len(pad)}")
    n = len(pad) // 2
    if n > x.ndim:
        raise ValueError(f"pad: Padding length should be less than or equal to two times the input dimension but "
                         f"got padding length {len(pad)} and input of dimension {x.ndim} (shape {x.shape})")
    # pairs[i] pads dim ndim - n + i (torch lists the last dim first)
    pairs = [(pad[2 * j], pad[2 * j + 1]) for j in reversed(range(n))]
    dims = range(x.ndim - n, x.ndim)
    for d, (lo, hi) in zip(dims, pairs):
        if x.shape[d] + lo + hi < 0:
            raise ValueError(f"pad: padding {(lo, hi)} gives dim {d} of input shape {x.shape} the negative size "
                             f"{x.shape[d] + lo + hi}")
    if mode == "constant":
        fill = jnp.asarray(0 if value is None else value, x.dtype)
        return lax.pad(x, fill, [(0, 0, 0)] * (x.ndim - n) + [(lo, hi, 0) for lo, hi in pairs])
    if mode in ("reflect", "replicate"):  # torch's reflection_padNd / replication_padNd: float32 under autocast("cpu")
        x, = amp.cast(f"{'reflection' if mode == 'reflect' else 'replication'}_pad{n}d", x)
    return _pad_non_constant(x, pad, pairs, dims, mode, value)


def _pad_non_constant(x, pad, pairs, dims, mode, value):
    n = len(pairs)
    if value not in (None, 0):
        raise ValueError(f'pad: Padding mode "{mode}" doesn\'t take in value argument; got value={value!r}')
    if not (1 <= n <= 3 and x.ndim in (n + 1, n + 2)):
        raise ValueError(f"pad: Padding size {len(pad)} is not supported for {x.ndim}D input tensor: mode {mode!r} "
                         f"pads the last 1, 2 or 3 dims of a (batch, channel, ...) or (channel, ...) input; "
                         f"got pad={pad} for input shape {x.shape}")
    for d, (lo, hi) in zip(dims, pairs):
        size = x.shape[d]
        if mode == "reflect" and not (lo < size and hi < size):
            raise ValueError(f"pad: Padding size should be less than the corresponding input dimension, but got: "
                             f"padding ({lo}, {hi}) at dimension {d} of input {list(x.shape)}")
        if mode == "circular" and not (lo <= size and hi <= size):
            raise ValueError(f"pad: Padding value causes wrapping around more than once: padding ({lo}, {hi}) at "
                             f"dimension {d} of input {list(x.shape)}")
        if mode == "replicate" and size == 0 and (lo > 0 or hi > 0):
            raise ValueError(f"pad: replicate needs a non-empty dimension {d} to pad; got input {list(x.shape)}")
    lead = [(0, 0)] * (x.ndim - n)
    crop = lead + [(min(lo, 0), min(hi, 0)) for lo, hi in pairs]
    grow = lead + [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if mode == "circular":  # torch narrows the negative sides first, then wraps what is left
        return jnp.pad(_crop(x, crop), grow, mode="wrap")
    return _crop(jnp.pad(x, grow, mode=_JNP_MODE[mode]), crop)


def _crop(x, crop):
    """Negative (lo, hi) per dim: drop that many elements from each side (lax.pad with negative widths)."""
    if all(lo == 0 and hi == 0 for lo, hi in crop):
        return x
    return lax.pad(x, jnp.zeros((), x.dtype), [(lo, hi, 0) for lo, hi in crop])
