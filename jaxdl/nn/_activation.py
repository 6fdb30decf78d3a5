"""Activation modules: thin shells over jaxdl.functional, with torch.nn's constructor arguments."""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class ReLU(Module):
    """torch.nn.ReLU(inplace=False)."""

    inplace: bool = False  # accepted for torch compatibility; JAX arrays are immutable, so it changes nothing

    def apply(self, params, state, input, *, training=False, key=None):
        return F.relu(input), state


@module
class LeakyReLU(Module):
    """torch.nn.LeakyReLU(negative_slope=0.01, inplace=False)."""

    negative_slope: float = 0.01
    inplace: bool = False  # accepted for torch compatibility; JAX arrays are immutable, so it changes nothing

    def apply(self, params, state, input, *, training=False, key=None):
        return F.leaky_relu(input, self.negative_slope), state


@module
class GELU(Module):
    """torch.nn.GELU(approximate='none'); differs from jax.nn.gelu, whose default is the tanh form."""

    approximate: str = "none"

    def apply(self, params, state, input, *, training=False, key=None):
        return F.gelu(input, self.approximate), state


@module
class SiLU(Module):
    """torch.nn.SiLU(inplace=False)."""

    inplace: bool = False  # accepted for torch compatibility; JAX arrays are immutable, so it changes nothing

    def apply(self, params, state, input, *, training=False, key=None):
        return F.silu(input), state


@module
class Sigmoid(Module):
    """torch.nn.Sigmoid."""

    def apply(self, params, state, input, *, training=False, key=None):
        return F.sigmoid(input), state


@module
class Tanh(Module):
    """torch.nn.Tanh."""

    def apply(self, params, state, input, *, training=False, key=None):
        return F.tanh(input), state


@module
class Softmax(Module):
    """torch.nn.Softmax(dim=None)."""

    dim: int | None = None

    def apply(self, params, state, input, *, training=False, key=None):
        return F.softmax(input, self.dim), state
