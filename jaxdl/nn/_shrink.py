"""Threshold, Hardshrink, Softshrink, Tanhshrink and RReLU, as torch.nn's: thin shells over jaxdl.functional.

``inplace=`` is accepted and has no effect, as in jaxdl.functional (checks.check_inplace, run when built).
"""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.checks import check_inplace
from jaxdl.nn._module import Module, module


@module
class Threshold(Module):
    """torch.nn.Threshold(threshold, value, inplace=False): value where x ≤ threshold, else x."""

    threshold: float
    value: float
    inplace: bool = False  # no effect (module docstring)

    def __post_init__(self):
        check_inplace("Threshold", self.inplace)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.threshold(input, self.threshold, self.value, self.inplace), state


@module
class Hardshrink(Module):
    """torch.nn.Hardshrink(lambd=0.5)."""

    lambd: float = 0.5

    def apply(self, params, state, input, *, training=False, key=None):
        return F.hardshrink(input, self.lambd), state


@module
class Softshrink(Module):
    """torch.nn.Softshrink(lambd=0.5)."""

    lambd: float = 0.5

    def apply(self, params, state, input, *, training=False, key=None):
        return F.softshrink(input, self.lambd), state


@module
class Tanhshrink(Module):
    """torch.nn.Tanhshrink: x − tanh(x)."""

    def apply(self, params, state, input, *, training=False, key=None):
        return F.tanhshrink(input), state


@module
class RReLU(Module):
    """torch.nn.RReLU(lower=1/8, upper=1/3, inplace=False): random negative slopes from ``key`` when training,
    (lower + upper)/2 in eval."""

    lower: float = 1.0 / 8
    upper: float = 1.0 / 3
    inplace: bool = False  # no effect (module docstring)

    def __post_init__(self):
        check_inplace("RReLU", self.inplace)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.rrelu(input, self.lower, self.upper, training, self.inplace, key=key), state
