"""Padding modules, as torch.nn's ZeroPad / ConstantPad / ReflectionPad / ReplicationPad / CircularPad 1d-3d:
thin shells over F.pad, ``padding`` an int (the same on every side) or a tuple in F.pad's order (last dim first).

As torch's ``_ntuple``, an int is repeated 2, 4 or 6 times and a sequence is kept as given (F.pad checks it);
the input ranks are F.pad's (CircularPadNd also checks for an (N, C, ...) or (C, ...) input, as torch does).
"""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class _PadNd(Module):
    """torch's padding modules: ``padding``, an int or a tuple; a subclass sets F.pad's ``_mode`` and ``_dims``,
    its number of padded (last) dims."""

    padding: int | tuple

    _mode = "constant"
    _dims = 1

    def __post_init__(self):  # torch's _ntuple(2·dims)
        padding = self.padding
        padding = tuple(padding) if isinstance(padding, (list, tuple)) else (padding,) * (2 * self._dims)
        object.__setattr__(self, "padding", padding)

    def _fill(self):
        return None

    def apply(self, params, state, input, *, training=False, key=None):
        return F.pad(input, self.padding, self._mode, self._fill()), state


@module
class _ConstantPadNd(_PadNd):
    """torch's _ConstantPadNd(padding, value)."""

    value: float

    def _fill(self):
        return self.value


@module
class _CircularPadNd(_PadNd):
    """torch's _CircularPadNd: checks for a (dims + 1)- or (dims + 2)-D input, then F.pad(mode='circular')."""

    _mode = "circular"

    def apply(self, params, state, input, *, training=False, key=None):
        ndim, dims = input.ndim, self._dims
        if ndim not in (dims + 1, dims + 2):
            raise ValueError(f"{type(self).__name__}: expected a {dims + 1}-D or {dims + 2}-D input; got a {ndim}-D "
                             "input")
        return super().apply(params, state, input)


@module
class ZeroPad1d(_PadNd):
    """torch.nn.ZeroPad1d(padding): pads the last 1 dim of (N, C, W) / (C, W)
    with zeros; padding (left, right)."""

    _dims = 1


@module
class ZeroPad2d(_PadNd):
    """torch.nn.ZeroPad2d(padding): pads the last 2 dims of (N, C, H, W) / (C, H, W)
    with zeros; padding (left, right, top, bottom)."""

    _dims = 2


@module
class ZeroPad3d(_PadNd):
    """torch.nn.ZeroPad3d(padding): pads the last 3 dims of (N, C, D, H, W) / (C, D, H, W)
    with zeros; padding (left, right, top, bottom, front, back)."""

    _dims = 3


@module
class ConstantPad1d(_ConstantPadNd):
    """torch.nn.ConstantPad1d(padding, value): pads the last 1 dim of (N, C, W) / (C, W)
    with ``value``; padding (left, right)."""

    _dims = 1


@module
class ConstantPad2d(_ConstantPadNd):
    """torch.nn.ConstantPad2d(padding, value): pads the last 2 dims of (N, C, H, W) / (C, H, W)
    with ``value``; padding (left, right, top, bottom)."""

    _dims = 2


@module
class ConstantPad3d(_ConstantPadNd):
    """torch.nn.ConstantPad3d(padding, value): pads the last 3 dims of (N, C, D, H, W) / (C, D, H, W)
    with ``value``; padding (left, right, top, bottom, front, back)."""

    _dims = 3


@module
class ReflectionPad1d(_PadNd):
    """torch.nn.ReflectionPad1d(padding): pads the last 1 dim of (N, C, W) / (C, W)
    with the reflection of the input (edge not repeated); padding (left, right)."""

    _dims = 1
    _mode = "reflect"


@module
class ReflectionPad2d(_PadNd):
    """torch.nn.ReflectionPad2d(padding): pads the last 2 dims of (N, C, H, W) / (C, H, W)
    with the reflection of the input (edge not repeated); padding (left, right, top, bottom)."""

    _dims = 2
    _mode = "reflect"


@module
class ReflectionPad3d(_PadNd):
    """torch.nn.ReflectionPad3d(padding): pads the last 3 dims of (N, C, D, H, W) / (C, D, H, W)
    with the reflection of the input (edge not repeated); padding (left, right, top, bottom, front, back)."""

    _dims = 3
    _mode = "reflect"


@module
class ReplicationPad1d(_PadNd):
    """torch.nn.ReplicationPad1d(padding): pads the last 1 dim of (N, C, W) / (C, W)
    with copies of the edge; padding (left, right)."""

    _dims = 1
    _mode = "replicate"


@module
class ReplicationPad2d(_PadNd):
    """torch.nn.ReplicationPad2d(padding): pads the last 2 dims of (N, C, H, W) / (C, H, W)
    with copies of the edge; padding (left, right, top, bottom)."""

    _dims = 2
    _mode = "replicate"


@module
class ReplicationPad3d(_PadNd):
    """torch.nn.ReplicationPad3d(padding): pads the last 3 dims of (N, C, D, H, W) / (C, D, H, W)
    with copies of the edge; padding (left, right, top, bottom, front, back)."""

    _dims = 3
    _mode = "replicate"


@module
class CircularPad1d(_CircularPadNd):
    """torch.nn.CircularPad1d(padding): pads the last 1 dim of (N, C, W) / (C, W)
    with the input wrapped around; padding (left, right)."""

    _dims = 1


@module
class CircularPad2d(_CircularPadNd):
    """torch.nn.CircularPad2d(padding): pads the last 2 dims of (N, C, H, W) / (C, H, W)
    with the input wrapped around; padding (left, right, top, bottom)."""

    _dims = 2


@module
class CircularPad3d(_CircularPadNd):
    """torch.nn.CircularPad3d(padding): pads the last 3 dims of (N, C, D, H, W) / (C, D, H, W)
    with the input wrapped around; padding (left, right, top, bottom, front, back)."""

    _dims = 3
