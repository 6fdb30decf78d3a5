"""Upsample, UpsamplingNearest2d and UpsamplingBilinear2d, as torch.nn's: parameterless shells over
jaxdl.functional.interpolate (torch's Upsampling*2d are Upsample with mode fixed, no deprecation warning)."""
from __future__ import annotations

from typing import Any

from jaxdl import functional as F
from jaxdl.nn._module import module
from jaxdl.nn._pooling import _Pool


@module
class Upsample(_Pool):  # _Pool: list arguments become tuples (a hashable spec)
    """torch.nn.Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None,
    recompute_scale_factor=None): F.interpolate with these arguments."""

    size: Any = None
    scale_factor: Any = None
    mode: str = "nearest"
    align_corners: bool | None = None
    recompute_scale_factor: bool | None = None

    def apply(self, params, state, input, *, training=False, key=None):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor), state


@module
class UpsamplingNearest2d(Upsample):
    """torch.nn.UpsamplingNearest2d(size=None, scale_factor=None): Upsample(mode='nearest') on (N, C, H, W)."""

    mode: str = "nearest"


@module
class UpsamplingBilinear2d(Upsample):
    """torch.nn.UpsamplingBilinear2d(size=None, scale_factor=None): Upsample(mode='bilinear',
    align_corners=True) on (N, C, H, W)."""

    mode: str = "bilinear"
    align_corners: bool | None = True
