"""Pooling modules, as torch.nn: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d,
AdaptiveMaxPool1d/2d/3d, LPPool1d/2d/3d, MaxUnpool1d/2d/3d, FractionalMaxPool2d/3d.

Thin shells over jaxdl.functional's pools (no parameters, no state); fields are torch's constructor
arguments, stride defaulting to kernel_size. With ``return_indices=True`` the output is (values, indices).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _nested_tuple(value):
    return tuple(_nested_tuple(v) for v in value) if isinstance(value, list) else value


class _Pool(Module):
    def __post_init__(self):  # lists (torch accepts them) become tuples, so the spec stays hashable
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, _hashable(getattr(self, name)))


@module
class _MaxPool(_Pool):
    kernel_size: int | tuple
    stride: int | tuple | None = None
    padding: int | tuple = 0
    dilation: int | tuple = 1
    return_indices: bool = False
    ceil_mode: bool = False

    def apply(self, params, state, input, *, training=False, key=None):
        fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[self._n - 1]
        return fn(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                  self.return_indices), state


@module
class MaxPool1d(_MaxPool):
    """torch.nn.MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)."""

    _n = 1


@module
class MaxPool2d(_MaxPool):
    """torch.nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False).

    See F.max_pool2d (ties: the first maximum gets the gradient, as torch). Differs from flax.linen.max_pool:
    stride defaults to kernel_size (flax: 1).
    """

    _n = 2


@module
class MaxPool3d(_MaxPool):
    """torch.nn.MaxPool3d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False);
    see F.max_pool3d."""

    _n = 3


@module
class AvgPool1d(_Pool):
    """torch.nn.AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)."""

    kernel_size: int | tuple
    stride: int | tuple | None = None
    padding: int | tuple = 0
    ceil_mode: bool = False
    count_include_pad: bool = True

    def apply(self, params, state, input, *, training=False, key=None):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad), state


@module
class _AvgPool(_Pool):
    kernel_size: int | tuple
    stride: int | tuple | None = None
    padding: int | tuple = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None

    def apply(self, params, state, input, *, training=False, key=None):
        return (F.avg_pool2d, F.avg_pool3d)[self._n - 2](input, self.kernel_size, self.stride, self.padding,
                                                          self.ceil_mode, self.count_include_pad,
                                                          self.divisor_override), state


@module
class AvgPool2d(_AvgPool):
    """torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None); see F.avg_pool2d."""

    _n = 2


@module
class AvgPool3d(_AvgPool):
    """torch.nn.AvgPool3d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None); see F.avg_pool3d."""

    _n = 3


@module
class AdaptiveAvgPool1d(_Pool):
    """torch.nn.AdaptiveAvgPool1d(output_size); see F.adaptive_avg_pool1d."""

    output_size: int

    def apply(self, params, state, input, *, training=False, key=None):
        return F.adaptive_avg_pool1d(input, self.output_size), state


@module
class AdaptiveAvgPool2d(_Pool):
    """torch.nn.AdaptiveAvgPool2d(output_size): an int or (oh, ow), None keeping the input's size."""

    output_size: int | tuple

    def apply(self, params, state, input, *, training=False, key=None):
        return F.adaptive_avg_pool2d(input, self.output_size), state


@module
class AdaptiveAvgPool3d(_Pool):
    """torch.nn.AdaptiveAvgPool3d(output_size): an int or (od, oh, ow), None keeping the input's size."""

    output_size: int | tuple

    def apply(self, params, state, input, *, training=False, key=None):
        return F.adaptive_avg_pool3d(input, self.output_size), state


@module
class AdaptiveMaxPool1d(_Pool):
    """torch.nn.AdaptiveMaxPool1d(output_size, return_indices=False); see F.adaptive_max_pool1d."""

    output_size: int
    return_indices: bool = False

    def apply(self, params, state, input, *, training=False, key=None):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices), state


@module
class AdaptiveMaxPool2d(_Pool):
    """torch.nn.AdaptiveMaxPool2d(output_size, return_indices=False); see F.adaptive_max_pool2d."""

    output_size: int | tuple
    return_indices: bool = False

    def apply(self, params, state, input, *, training=False, key=None):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices), state


@module
class AdaptiveMaxPool3d(_Pool):
    """torch.nn.AdaptiveMaxPool3d(output_size, return_indices=False); see F.adaptive_max_pool3d."""

    output_size: int | tuple
    return_indices: bool = False

    def apply(self, params, state, input, *, training=False, key=None):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices), state


@module
class _LPPool(_Pool):
    norm_type: float
    kernel_size: int | tuple
    stride: int | tuple | None = None
    ceil_mode: bool = False

    def apply(self, params, state, input, *, training=False, key=None):
        return (F.lp_pool1d, F.lp_pool2d, F.lp_pool3d)[self._n - 1](input, self.norm_type, self.kernel_size,
                                                                     self.stride, self.ceil_mode), state


@module
class LPPool1d(_LPPool):
    """torch.nn.LPPool1d(norm_type, kernel_size, stride=None, ceil_mode=False); see F.lp_pool1d."""

    _n = 1


@module
class LPPool2d(_LPPool):
    """torch.nn.LPPool2d(norm_type, kernel_size, stride=None, ceil_mode=False); see F.lp_pool2d."""

    _n = 2


@module
class LPPool3d(_LPPool):
    """torch.nn.LPPool3d(norm_type, kernel_size, stride=None, ceil_mode=False); see F.lp_pool3d."""

    _n = 3


@module
class _MaxUnpool(_Pool):
    kernel_size: int | tuple
    stride: int | tuple | None = None
    padding: int | tuple = 0

    def apply(self, params, state, input, indices, output_size=None, *, training=False, key=None):
        """torch's forward(input, indices, output_size=None)."""
        fn = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self._n - 1]
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size), state


@module
class MaxUnpool1d(_MaxUnpool):
    """torch.nn.MaxUnpool1d(kernel_size, stride=None, padding=0); apply(params, state, input, indices,
    output_size=None); see F.max_unpool1d."""

    _n = 1


@module
class MaxUnpool2d(_MaxUnpool):
    """torch.nn.MaxUnpool2d(kernel_size, stride=None, padding=0); apply(params, state, input, indices,
    output_size=None); see F.max_unpool2d."""

    _n = 2


@module
class MaxUnpool3d(_MaxUnpool):
    """torch.nn.MaxUnpool3d(kernel_size, stride=None, padding=0); apply(params, state, input, indices,
    output_size=None); see F.max_unpool3d."""

    _n = 3


@module
class _FractionalMaxPool(Module):
    """torch's FractionalMaxPool2d/3d(kernel_size, output_size=None, output_ratio=None, return_indices=False,
    _random_samples=None). Given ``_random_samples`` it is torch's buffer of that name (state
    ``_random_samples``, in the dtype of ``init``) and the pooling is deterministic; otherwise each apply draws
    the window offsets from ``key`` (required), in training and eval alike (torch: from its global generator)."""

    kernel_size: int | tuple
    output_size: int | tuple | None = None
    output_ratio: float | tuple | None = None
    return_indices: bool = False
    _random_samples: object = None

    def __post_init__(self):
        cls, n = type(self).__name__, self._n
        for name in ("kernel_size", "output_size", "output_ratio"):
            object.__setattr__(self, name, _hashable(getattr(self, name)))
        if self._random_samples is not None:  # an array becomes nested tuples (exact floats): the spec stays hashable
            object.__setattr__(self, "_random_samples", _nested_tuple(np.asarray(self._random_samples).tolist()))
        if self.output_size is None and self.output_ratio is None:
            raise ValueError(f"{cls} requires specifying either an output size, or a pooling ratio")
        if self.output_size is not None and self.output_ratio is not None:
            raise ValueError(f"{cls}: only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None:
            ratio = (self.output_ratio,) * n if isinstance(self.output_ratio, (int, float)) else self.output_ratio
            if len(ratio) != n or not all(0 < r < 1 for r in ratio):
                raise ValueError(f"{cls}: output_ratio must be between 0 and 1 (got {self.output_ratio})")
        kernel = (self.kernel_size,) * n if isinstance(self.kernel_size, int) else self.kernel_size
        if not all(k > 0 for k in kernel):
            raise ValueError(f"{cls}: kernel_size must be greater than 0, but got {self.kernel_size}")

    def init(self, key, dtype=jnp.float32):
        if self._random_samples is None:
            return {}, {}
        return {}, {"_random_samples": jnp.asarray(self._random_samples, dtype)}

    def apply(self, params, state, input, *, training=False, key=None):
        fn = F.fractional_max_pool2d if self._n == 2 else F.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                  state.get("_random_samples"), key=key), state


@module
class FractionalMaxPool2d(_FractionalMaxPool):
    """torch.nn.FractionalMaxPool2d(kernel_size, output_size=None, output_ratio=None, return_indices=False,
    _random_samples=None) on (N, C, H, W); see _FractionalMaxPool and F.fractional_max_pool2d."""

    _n = 2


@module
class FractionalMaxPool3d(_FractionalMaxPool):
    """torch.nn.FractionalMaxPool3d(kernel_size, output_size=None, output_ratio=None, return_indices=False,
    _random_samples=None) on (N, C, T, H, W); see _FractionalMaxPool and F.fractional_max_pool3d."""

    _n = 3
