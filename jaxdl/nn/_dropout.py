"""Dropout, Dropout1d and Dropout2d, as torch.nn's; the mode is an argument of apply, not module state."""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.checks import check_inplace, check_probability
from jaxdl.nn._module import Module, module


@module
class _DropoutNd(Module):
    """torch's _DropoutNd(p=0.5, inplace=False); a subclass names its functional form in ``_fn``."""

    p: float = 0.5
    inplace: bool = False  # no effect: the output is a new array (checks.check_inplace)

    _fn = staticmethod(F.dropout)

    def __post_init__(self):
        check_probability("dropout", self.p)
        check_inplace(type(self).__name__, self.inplace)

    def apply(self, params, state, input, *, training=False, key=None):
        return self._fn(input, self.p, training, self.inplace, key=key), state


@module
class Dropout(_DropoutNd):
    """torch.nn.Dropout(p=0.5, inplace=False): inverted dropout when training (needs ``key``), identity in eval."""


@module
class Dropout1d(_DropoutNd):
    """torch.nn.Dropout1d(p=0.5, inplace=False): zeroes whole channels of (N, C, L) / (C, L) when training."""

    _fn = staticmethod(F.dropout1d)


@module
class Dropout2d(_DropoutNd):
    """torch.nn.Dropout2d(p=0.5, inplace=False): zeroes whole channels of (N, C, H, W) when training."""

    _fn = staticmethod(F.dropout2d)


@module
class Dropout3d(_DropoutNd):
    """torch.nn.Dropout3d(p=0.5, inplace=False): zeroes whole channels of (N, C, D, H, W) / (C, D, H, W) when
    training."""

    _fn = staticmethod(F.dropout3d)


@module
class AlphaDropout(_DropoutNd):
    """torch.nn.AlphaDropout(p=0.5, inplace=False): alpha dropout (keeps a SELU network's mean and variance) when
    training (needs ``key``), identity in eval."""

    _fn = staticmethod(F.alpha_dropout)


@module
class FeatureAlphaDropout(_DropoutNd):
    """torch.nn.FeatureAlphaDropout(p=0.5, inplace=False): alpha dropout of whole channels when training."""

    _fn = staticmethod(F.feature_alpha_dropout)
