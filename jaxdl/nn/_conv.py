"""Conv1d/2d/3d and ConvTranspose1d/2d/3d, as torch.nn: torch's arguments, weight layouts
(conv: (out, in/groups, *k); transposed: (in, out/groups, *k)), padding_mode and initialisation."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_positive_int, check_size, ntuple
from jaxdl.nn._module import Module, module, uniform

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _init_uniform(key, weight_shape, fan_in, bias_shape, dtype):
    """torch's reset_parameters: kaiming_uniform_(a=√5) → U(±1/√fan_in) for the weight, U(±1/√fan_in) bias."""
    wkey, bkey = jax.random.split(key)
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    params = {"weight": uniform(wkey, weight_shape, bound, dtype)}
    if bias_shape is not None:
        params["bias"] = uniform(bkey, bias_shape, bound, dtype)
    return params


class _ConvNd(Module):
    """Shared checks of torch's _ConvNd.__init__ (the n-tuples, groups, padding strings and modes)."""

    _n = 0

    def _normalize(self, *names):
        cls = type(self).__name__
        for name in ("kernel_size", "stride", "dilation") + names:
            object.__setattr__(self, name, ntuple(name, getattr(self, name), self._n, cls))
        if not isinstance(self.padding, str):
            object.__setattr__(self, "padding", ntuple("padding", self.padding, self._n, cls))
        check_size(cls, "in_channels", self.in_channels)
        check_size(cls, "out_channels", self.out_channels)
        if not all(k >= 1 for k in self.kernel_size):  # torch builds it, then its forward fails in the kernel
            raise ValueError(f"{cls}: kernel_size must be ints ≥ 1; got {self.kernel_size}")
        check_positive_int(f"{cls}: groups", self.groups)
        if self.in_channels % self.groups:
            raise ValueError(f"{cls}: in_channels must be divisible by groups; got in_channels={self.in_channels}, "
                             f"groups={self.groups}")
        if self.out_channels % self.groups:
            raise ValueError(f"{cls}: out_channels must be divisible by groups; got out_channels={self.out_channels}, "
                             f"groups={self.groups}")
        if self.padding_mode not in PADDING_MODES:
            raise ValueError(f"{cls}: padding_mode must be one of {set(PADDING_MODES)}, but got "
                             f"padding_mode={self.padding_mode!r}")


@module
class _Conv(_ConvNd):
    in_channels: int
    out_channels: int
    kernel_size: int | tuple
    stride: int | tuple = 1
    padding: int | tuple | str = 0
    dilation: int | tuple = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"

    def __post_init__(self):
        self._normalize()
        cls = type(self).__name__
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise ValueError(f"{cls}: Invalid padding string {self.padding!r}, "
                                 "should be one of {'valid', 'same'}")
            if self.padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{cls}: padding='same' is not supported for strided convolutions; got "
                                 f"stride={self.stride}")

    def init(self, key, dtype=jnp.float32):
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
        return _init_uniform(key, shape, fan_in, (self.out_channels,) if self.bias else None, dtype), {}

    def _pad_input(self, x):
        """padding_mode != 'zeros': torch pads with F.pad(mode) first, then convolves with padding 0."""
        if self.padding == "valid":
            return x, 0
        pairs = (F.same_padding(self.kernel_size, self.dilation) if self.padding == "same"
                 else tuple((p, p) for p in self.padding))
        flat = tuple(v for pair in reversed(pairs) for v in pair)  # torch's _reversed_padding_repeated_twice
        return F.pad(x, flat, mode=self.padding_mode), 0

    def apply(self, params, state, input, *, training=False, key=None):
        x, padding = (input, self.padding) if self.padding_mode == "zeros" else self._pad_input(input)
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._n - 1]
        return conv(x, params["weight"], params.get("bias"), self.stride, padding, self.dilation, self.groups), state


@module
class Conv1d(_Conv):
    """torch.nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True, padding_mode='zeros') on (N, C_in, L) or (C_in, L); see F.conv1d.

    weight (out, in/groups, k) and bias ~ U(±1/√(in/groups·k)), torch's init.
    """

    _n = 1


@module
class Conv2d(_Conv):
    """torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True, padding_mode='zeros') on (N, C_in, H, W) or (C_in, H, W); see F.conv2d.

    weight (out, in/groups, kH, kW) and bias ~ U(±1/√(in/groups·kH·kW)), torch's init. padding_mode
    'reflect'/'replicate'/'circular' pads with F.pad first. Differs from flax.linen.Conv: NCHW, torch's weight
    layout and padding=0 (flax: NHWC, (kH, kW, in, out), 'SAME').
    Example:
      >>> params, state = Conv2d(1, 4, 3, padding=1).init(jax.random.key(0))
      >>> Conv2d(1, 4, 3, padding=1).apply(params, state, jnp.ones((2, 1, 8, 8)))[0].shape
      (2, 4, 8, 8)
    """

    _n = 2


@module
class Conv3d(_Conv):
    """torch.nn.Conv3d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True, padding_mode='zeros') on (N, C_in, D, H, W) or (C_in, D, H, W); see F.conv3d.

    weight (out, in/groups, kD, kH, kW) and bias ~ U(±1/√(in/groups·kD·kH·kW)), torch's init; padding_mode as Conv2d.
    """

    _n = 3


@module
class _ConvTranspose(_ConvNd):
    in_channels: int
    out_channels: int
    kernel_size: int | tuple
    stride: int | tuple = 1
    padding: int | tuple = 0
    output_padding: int | tuple = 0
    groups: int = 1
    bias: bool = True
    dilation: int | tuple = 1
    padding_mode: str = "zeros"

    def __post_init__(self):
        cls = type(self).__name__
        if isinstance(self.padding, str):
            raise ValueError(f"{cls}: padding must be an int or a tuple of ints, got {self.padding!r}")
        self._normalize("output_padding")
        if self.padding_mode != "zeros":
            raise ValueError(f'{cls}: Only "zeros" padding mode is supported for {cls}; got {self.padding_mode!r}')

    def init(self, key, dtype=jnp.float32):
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        # torch's fan_in reads weight.size(1): out/groups · ∏k for the transposed layout
        fan_in = self.out_channels // self.groups * math.prod(self.kernel_size)
        return _init_uniform(key, shape, fan_in, (self.out_channels,) if self.bias else None, dtype), {}

    def apply(self, params, state, input, *, training=False, key=None, output_size=None):
        """``output_size`` (torch's forward argument): the spatial size wanted, (*S) or (N, C, *S); it picks the
        output_padding, which must come out in [0, stride)."""
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._n - 1]
        output_padding = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return conv(input, params["weight"], params.get("bias"), self.stride, self.padding, output_padding,
                    self.groups, self.dilation), state

    def _output_padding(self, input, output_size):
        """torch's _ConvTransposeNd._output_padding: output_size minus the smallest output size, range-checked."""
        n, shape, cls = self._n, jnp.shape(input), type(self).__name__
        non_spatial = 2 if len(shape) == n + 2 else 1
        size = tuple(output_size)[non_spatial:] if len(tuple(output_size)) == n + non_spatial else tuple(output_size)
        if len(size) != n:
            raise ValueError(f"{cls}: output_size must have {n} or {n + non_spatial} elements for a {len(shape)}-D "
                             f"input; got {len(tuple(output_size))}")
        low = [(shape[non_spatial + d] - 1) * self.stride[d] - 2 * self.padding[d]
               + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        high = [lo + s - 1 for lo, s in zip(low, self.stride)]
        if any(not lo <= o <= hi for o, lo, hi in zip(size, low, high)):
            raise ValueError(f"{cls}: output_size {list(size)} must lie between {low} and {high} for an input of "
                             f"{list(shape[non_spatial:])} (the stride leaves that much choice)")
        return tuple(o - lo for o, lo in zip(size, low))


@module
class ConvTranspose1d(_ConvTranspose):
    """torch.nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1) on (N, C_in, L); weight (in, out/groups, k); see F.conv_transpose1d."""

    _n = 1


@module
class ConvTranspose2d(_ConvTranspose):
    """torch.nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1) on (N, C_in, H, W); see F.conv_transpose2d.

    weight (in, out/groups, kH, kW) and bias ~ U(±1/√(out/groups·kH·kW)) (torch's fan_in reads weight.size(1)).
    Only padding_mode='zeros', as torch. ``apply(..., output_size=(H, W))`` picks output_padding as torch's forward.
    """

    _n = 2


@module
class ConvTranspose3d(_ConvTranspose):
    """torch.nn.ConvTranspose3d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1) on (N, C_in, D, H, W); weight (in, out/groups, kD, kH, kW); see
    F.conv_transpose3d and ConvTranspose2d (init, output_size)."""

    _n = 3
