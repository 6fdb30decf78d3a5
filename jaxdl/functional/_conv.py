"""conv1d/2d/3d, conv_transpose1d/2d/3d and conv_tbc, as torch.nn.functional: NC(D)(H)W layout, torch's weight
layouts, 'same'/'valid' padding, and torch's shape checks (raised at call or trace time)."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl import amp, matmul
from jaxdl.checks import check_operand_dtypes, check_positive_int, ntuple

_SPATIAL = {1: "L", 2: "HW", 3: "DHW"}


def same_padding(kernel_size, dilation) -> tuple:
    """torch's padding='same': total d·(k−1) per dim, split (total // 2, total − total // 2): an even kernel
    puts the extra element on the right/bottom (as torch's ``_conv_forward`` and ATen's conv_padding_same)."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel_size, dilation))


def _check_batch(name: str, x, n: int):
    if x.ndim not in (n + 1, n + 2):
        raise ValueError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {name}, but got input of "
                         f"shape {x.shape}")
    return x.ndim == n + 1


def _check_common(name, x, w, n, stride, dilation, groups):
    if w.ndim != n + 2:
        raise ValueError(f"{name}: expected a {n + 2}D weight "
                         f"(channels, channels, {', '.join('k' + s for s in _SPATIAL[n])}), "
                         f"but got weight of shape {w.shape}")
    if any(s <= 0 for s in stride):
        raise ValueError(f"{name}: non-positive stride is not supported; got stride={stride}")
    if any(d <= 0 for d in dilation):
        raise ValueError(f"{name}: dilation should be greater than zero, but got {list(dilation)}")
    check_positive_int(f"{name}: groups", groups)


def _check_bias(name, bias, channels, w):
    if bias is not None and jnp.shape(bias) != (channels,):
        raise ValueError(f"{name}: bias must have shape ({channels},) for weight {w.shape}; got bias of shape "
                         f"{jnp.shape(bias)}")


def _add_bias(out, bias, n):
    return out if bias is None else out + jnp.reshape(bias, (1, -1) + (1,) * n)  # (N, C_out, *S) + (1, C_out, 1, ..)


def _dimension_numbers(n):
    s = _SPATIAL[n]
    return (f"NC{s}", f"OI{s}", f"NC{s}")


def _conv(name, n, input, weight, bias, stride, padding, dilation, groups):
    x, w = jnp.asarray(input), jnp.asarray(weight)
    x, w, bias = amp.cast(name, x, w, bias)  # before the dtype checks: autocast makes float32 weights low-precision
    unbatched = _check_batch(name, x, n)
    stride, dilation = ntuple("stride", stride, n, name), ntuple("dilation", dilation, n, name)
    _check_common(name, x, w, n, stride, dilation, groups)
    x = x[None] if unbatched else x  # (C, *S) -> (1, C, *S)
    if w.shape[0] % groups:
        raise ValueError(f"{name}: weight's dimension 0 must be divisible by groups={groups}; got weight of shape "
                         f"{w.shape}")
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"{name}: Given groups={groups}, weight of shape {w.shape}, expected input{x.shape} to have "
                         f"{w.shape[1] * groups} channels, but got {x.shape[1]} channels instead")
    _check_bias(name, bias, w.shape[0], w)
    check_operand_dtypes(name, input=x, weight=w, bias=bias)
    kernel = w.shape[2:]
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{name}: Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions; got stride={stride}")
        pads = same_padding(kernel, dilation) if padding == "same" else ((0, 0),) * n
    else:
        padding = ntuple("padding", padding, n, name)
        if any(p < 0 for p in padding):
            raise ValueError(f"{name}: negative padding is not supported; got padding={padding}")
        pads = tuple((p, p) for p in padding)
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(x.shape[2:], pads))
    effective = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, effective)):
        raise ValueError(f"{name}: the (dilated) kernel ({' x '.join(map(str, effective))}) must fit in the padded "
                         f"input ({' x '.join(map(str, padded))})")
    conv = lambda a, b, t: matmul.conv_general_dilated(a, b, stride, pads, rhs_dilation=dilation,  # noqa: E731
                                                       dimension_numbers=_dimension_numbers(n),
                                                       feature_group_count=groups, preferred_element_type=t)
    out = amp.bilinear(name, conv, x, w, bias, lambda out, b: _add_bias(out, b, n))
    return out[0] if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation over (N, C_in, L) or (C_in, L), as torch.nn.functional.conv1d.

    y[n, o, l] = b[o] + Σ_{c ∈ group(o), k} w[o, c, k] · x_pad[n, c, l·s + k·d].
    Args:
      weight: (C_out, C_in / groups, kL). bias: (C_out,).
      padding: int, (p,), 'valid' (0) or 'same' (stride 1 only; an even kernel pads one more on the right).
    Example:
      >>> conv1d(jnp.ones((1, 1, 4)), jnp.ones((1, 1, 2))).tolist()
      [[[2.0, 2.0, 2.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation over (N, C_in, H, W) or (C_in, H, W), as torch.nn.functional.conv2d.

    y[n, o, i, j] = b[o] + Σ_{c ∈ group(o), p, q} w[o, c, p, q] · x_pad[n, c, i·s_h + p·d_h, j·s_w + q·d_w].
    Differs from flax.linen.Conv: NCHW, weight (out, in/groups, kH, kW) and padding=0 by default (flax: NHWC,
    (kH, kW, in, out), 'SAME').
    Args:
      weight: (C_out, C_in / groups, kH, kW). bias: (C_out,).
      stride, dilation: int or (h, w). padding: int, (h, w), 'valid' or 'same' (stride 1 only; an even kernel
        pads one more on the bottom/right, as torch).
    Example:
      >>> conv2d(jnp.ones((1, 1, 3, 3)), jnp.ones((2, 1, 2, 2)), padding="same").shape
      (1, 2, 3, 3)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation over (N, C_in, D, H, W) or (C_in, D, H, W), as torch.nn.functional.conv3d.

    y[n, o, i, j, l] = b[o] + Σ_{c ∈ group(o), p, q, r} w[o, c, p, q, r] · x_pad[n, c, i·s_d + p·d_d, j·s_h + q·d_h,
    l·s_w + r·d_w].
    Args:
      weight: (C_out, C_in / groups, kD, kH, kW). bias: (C_out,).
      stride, dilation: int or (d, h, w). padding: int, (d, h, w), 'valid' or 'same' (as conv2d).
    Example:
      >>> conv3d(jnp.ones((1, 1, 3, 3, 3)), jnp.ones((1, 1, 2, 2, 2))).tolist()
      [[[[[8.0, 8.0], [8.0, 8.0]], [[8.0, 8.0], [8.0, 8.0]]]]]
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, w = jnp.asarray(input), jnp.asarray(weight)
    x, w, bias = amp.cast(name, x, w, bias)  # before the dtype checks, as in _conv
    unbatched = _check_batch(name, x, n)
    stride, dilation = ntuple("stride", stride, n, name), ntuple("dilation", dilation, n, name)
    padding, output_padding = ntuple("padding", padding, n, name), ntuple("output_padding", output_padding, n, name)
    _check_common(name, x, w, n, stride, dilation, groups)
    x = x[None] if unbatched else x  # (C_in, *S) -> (1, C_in, *S)
    if any(p < 0 for p in padding) or any(p < 0 for p in output_padding):
        raise ValueError(f"{name}: negative padding is not supported; got padding={padding}, "
                         f"output_padding={output_padding}")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{name}: output padding must be smaller than either stride or dilation, but got "
                         f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    c_in, c_out_g, kernel = w.shape[0], w.shape[1], w.shape[2:]
    if c_in % groups:
        raise ValueError(f"{name}: weight's dimension 0 must be divisible by groups={groups}; got weight of shape "
                         f"{w.shape}")
    if x.shape[1] != c_in:
        raise ValueError(f"{name}: Given transposed=1, weight of shape {w.shape}, expected input{x.shape} to have "
                         f"{c_in} channels, but got {x.shape[1]} channels instead")
    _check_bias(name, bias, c_out_g * groups, w)
    check_operand_dtypes(name, input=x, weight=w, bias=bias)
    out_sizes = [(size - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for size, s, p, d, k, op in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding)]
    if any(o <= 0 for o in out_sizes):
        raise ValueError(f"{name}: output size {tuple(out_sizes)} is too small for input {x.shape}, kernel {kernel}, "
                         f"stride {stride}, padding {padding}, dilation {dilation}")
    # The transpose of conv is a conv of the stride-dilated input with the flipped kernel, in/out swapped per group:
    # (C_in, C_out/g, *k) -> (g, C_in/g, C_out/g, *k) -> (C_out, C_in/g, *k).
    w = jnp.reshape(w, (groups, c_in // groups, c_out_g) + kernel).swapaxes(1, 2)
    w = jnp.flip(jnp.reshape(w, (groups * c_out_g, c_in // groups) + kernel), axis=tuple(range(2, 2 + n)))
    # Each side keeps d(k−1) − p of full padding (negative crops; lax pads and crops alike),
    # + output_padding at the end.
    pads = [(d * (k - 1) - p, d * (k - 1) - p + op) for k, d, p, op in zip(kernel, dilation, padding, output_padding)]
    conv = lambda a, b, t: matmul.conv_general_dilated(a, b, (1,) * n, pads, lhs_dilation=stride,  # noqa: E731
                                                       rhs_dilation=dilation, dimension_numbers=_dimension_numbers(n),
                                                       feature_group_count=groups, preferred_element_type=t)
    out = amp.bilinear(name, conv, x, w, bias, lambda out, b: _add_bias(out, b, n))
    return out[0] if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed (fractionally strided) conv1d over (N, C_in, L), as torch.nn.functional.conv_transpose1d.

    The gradient of conv1d with respect to its input; L_out = (L − 1)·s − 2p + d·(k − 1) + output_padding + 1.
    Args:
      weight: (C_in, C_out / groups, kL) — torch's transposed layout. bias: (C_out,).
    Example:
      >>> conv_transpose1d(jnp.ones((1, 1, 2)), jnp.ones((1, 1, 2)), stride=2).tolist()
      [[[1.0, 1.0, 1.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed (fractionally strided) conv2d over (N, C_in, H, W), as torch.nn.functional.conv_transpose2d.

    The gradient of conv2d with respect to its input; H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1
    (likewise W). Note torch's argument order: ``groups`` comes before ``dilation``.
    Args:
      weight: (C_in, C_out / groups, kH, kW) — torch's transposed layout. bias: (C_out,).
      output_padding: extra rows/cols at the bottom/right; must be smaller than stride or dilation.
    Example:
      >>> conv_transpose2d(jnp.ones((1, 1, 2, 2)), jnp.ones((1, 3, 3, 3)), stride=2, padding=1, output_padding=1).shape
      (1, 3, 4, 4)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed conv3d over (N, C_in, D, H, W), as torch.nn.functional.conv_transpose3d.

    D_out = (D − 1)·s − 2p + d·(k − 1) + output_padding + 1 (likewise H, W); argument order as conv_transpose2d.
    Args:
      weight: (C_in, C_out / groups, kD, kH, kW) — torch's transposed layout. bias: (C_out,).
    Example:
      >>> conv_transpose3d(jnp.ones((1, 1, 2, 2, 2)), jnp.ones((1, 2, 2, 2, 2)), stride=2).shape
      (1, 2, 4, 4, 4)
    """
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_tbc(input, weight, bias, pad=0):
    """A 1-D convolution over a (time, batch, channels) sequence, as torch.conv_tbc (torch.nn.functional.conv_tbc).

    y[t, b, o] = bias[o] + Σ_{k, c} weight[k, c, o] · x_pad[t + k, b, c], x padded by ``pad`` steps on both ends (a
    negative pad crops, as torch); T_out = T + 2·pad − kW + 1. Computed as conv1d on the transposed layouts.
    Args:
      input: (T, B, C_in). weight: (kW, C_in, C_out). bias: (C_out,) (required, as torch).
    Example:
      >>> conv_tbc(jnp.ones((4, 1, 1)), jnp.ones((2, 1, 3)), jnp.zeros(3), pad=1).shape
      (5, 1, 3)
    """
    x, w, b = jnp.asarray(input), jnp.asarray(weight), jnp.asarray(bias)
    if x.ndim != 3:
        raise ValueError(f"conv_tbc: expected a 3D input (time, batch, in_channels), but got input of shape {x.shape}")
    if w.ndim != 3:
        raise ValueError(f"conv_tbc: expected a 3D weight (kernel_width, in_channels, out_channels), but got weight "
                         f"of shape {w.shape}")
    if b.ndim != 1:
        raise ValueError(f"conv_tbc: expected a 1D bias (out_channels,), but got bias of shape {b.shape}")
    if x.shape[2] != w.shape[1]:
        raise ValueError(f"conv_tbc: input's {x.shape[2]} channels (dim 2) differ from weight's in_channels "
                         f"{w.shape[1]} (dim 1); input {x.shape}, weight {w.shape}")
    if b.shape[0] != w.shape[2]:
        raise ValueError(f"conv_tbc: bias of shape {b.shape} must have weight's {w.shape[2]} out_channels (dim 2)")
    check_operand_dtypes("conv_tbc", input=x, weight=w, bias=b)
    t_out = x.shape[0] + 2 * pad - w.shape[0] + 1
    if t_out < 0:
        raise ValueError(f"conv_tbc: output length T + 2·pad − kW + 1 = {t_out} is negative (input {x.shape}, "
                         f"weight {w.shape}, pad={pad})")
    conv = matmul.conv_general_dilated(x, w, (1,), [(pad, pad)], dimension_numbers=("WNC", "WIO", "WNC"))
    return conv + jnp.reshape(b, (1, 1, -1))  # (T_out, B, C_out) + (1, 1, C_out)
