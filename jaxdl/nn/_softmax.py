"""Softmin, LogSoftmax and Softmax2d, as torch.nn's (Softmax is in _activation.py)."""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class Softmin(Module):
    """torch.nn.Softmin(dim=None): softmax(−x) along dim."""

    dim: int | None = None

    def apply(self, params, state, input, *, training=False, key=None):
        return F.softmin(input, self.dim), state


@module
class LogSoftmax(Module):
    """torch.nn.LogSoftmax(dim=None)."""

    dim: int | None = None

    def apply(self, params, state, input, *, training=False, key=None):
        return F.log_softmax(input, self.dim), state


@module
class Softmax2d(Module):
    """torch.nn.Softmax2d: softmax over the channels (dim −3) of (N, C, H, W) or (C, H, W)."""

    def apply(self, params, state, input, *, training=False, key=None):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input; got a {input.ndim}-D "
                             "input")
        return F.softmax(input, -3), state
