"""PixelShuffle, PixelUnshuffle and ChannelShuffle, as torch.nn's: parameterless shells over jaxdl.functional."""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class PixelShuffle(Module):
    """torch.nn.PixelShuffle(upscale_factor): (*, C·r², H, W) -> (*, C, H·r, W·r)."""

    upscale_factor: int

    def apply(self, params, state, input, *, training=False, key=None):
        return F.pixel_shuffle(input, self.upscale_factor), state


@module
class PixelUnshuffle(Module):
    """torch.nn.PixelUnshuffle(downscale_factor): (*, C, H·r, W·r) -> (*, C·r², H, W)."""

    downscale_factor: int

    def apply(self, params, state, input, *, training=False, key=None):
        return F.pixel_unshuffle(input, self.downscale_factor), state


@module
class ChannelShuffle(Module):
    """torch.nn.ChannelShuffle(groups): channels regrouped as F.channel_shuffle."""

    groups: int

    def apply(self, params, state, input, *, training=False, key=None):
        return F.channel_shuffle(input, self.groups), state
