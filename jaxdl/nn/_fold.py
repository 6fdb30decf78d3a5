"""Fold and Unfold, as torch.nn's: parameterless shells over jaxdl.functional.fold / unfold."""
from __future__ import annotations

from typing import Any

from jaxdl import functional as F
from jaxdl.nn._module import module
from jaxdl.nn._pooling import _Pool


@module
class Unfold(_Pool):  # _Pool: list arguments become tuples (a hashable spec)
    """torch.nn.Unfold(kernel_size, dilation=1, padding=0, stride=1): (N, C, H, W) -> (N, C·kh·kw, L)."""

    kernel_size: Any
    dilation: Any = 1
    padding: Any = 0
    stride: Any = 1

    def apply(self, params, state, input, *, training=False, key=None):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride), state


@module
class Fold(_Pool):
    """torch.nn.Fold(output_size, kernel_size, dilation=1, padding=0, stride=1): (N, C·kh·kw, L) -> (N, C, H, W),
    overlapping blocks summed."""

    output_size: Any
    kernel_size: Any
    dilation: Any = 1
    padding: Any = 0
    stride: Any = 1

    def apply(self, params, state, input, *, training=False, key=None):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride), state
