"""Pooling modules, as torch.nn: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d.

Thin shells over jaxdl.functional's pools (no parameters, no state); fields are torch's constructor
arguments, stride defaulting to kernel_size. With ``return_indices=True`` the output is (values, indices).
"""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


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
        fn = F.max_pool1d if self._n == 1 else F.max_pool2d
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
class AvgPool2d(_Pool):
    """torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None); see F.avg_pool2d."""

    kernel_size: int | tuple
    stride: int | tuple | None = None
    padding: int | tuple = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None

    def apply(self, params, state, input, *, training=False, key=None):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override), state


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
