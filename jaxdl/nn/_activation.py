"""Activation modules: thin shells over jaxdl.functional, with torch.nn's constructor arguments.

``inplace=`` is accepted and has no effect, as in jaxdl.functional: the output is a new array with torch's values
(checks.check_inplace, run when the module is built).
"""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_inplace, check_size
from jaxdl.nn._module import Module, module


class _Inplace:
    """Mixin of the modules with torch's ``inplace`` field: checks it when built, by F's rule."""

    def __post_init__(self):
        check_inplace(type(self).__name__, self.inplace)


@module
class ReLU(_Inplace, Module):
    """torch.nn.ReLU(inplace=False)."""

    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.relu(input, self.inplace), state


@module
class LeakyReLU(_Inplace, Module):
    """torch.nn.LeakyReLU(negative_slope=0.01, inplace=False)."""

    negative_slope: float = 0.01
    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.leaky_relu(input, self.negative_slope, self.inplace), state


@module
class GELU(Module):
    """torch.nn.GELU(approximate='none'); differs from jax.nn.gelu, whose default is the tanh form."""

    approximate: str = "none"

    def apply(self, params, state, input, *, training=False, key=None):
        return F.gelu(input, self.approximate), state


@module
class SiLU(_Inplace, Module):
    """torch.nn.SiLU(inplace=False)."""

    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.silu(input, self.inplace), state


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


@module
class ELU(_Inplace, Module):
    """torch.nn.ELU(alpha=1.0, inplace=False)."""

    alpha: float = 1.0
    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.elu(input, self.alpha, self.inplace), state


@module
class SELU(_Inplace, Module):
    """torch.nn.SELU(inplace=False)."""

    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.selu(input, self.inplace), state


@module
class CELU(_Inplace, Module):
    """torch.nn.CELU(alpha=1.0, inplace=False)."""

    alpha: float = 1.0
    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.celu(input, self.alpha, self.inplace), state


@module
class Softplus(Module):
    """torch.nn.Softplus(beta=1.0, threshold=20.0)."""

    beta: float = 1.0
    threshold: float = 20.0

    def apply(self, params, state, input, *, training=False, key=None):
        return F.softplus(input, self.beta, self.threshold), state


@module
class Softsign(Module):
    """torch.nn.Softsign."""

    def apply(self, params, state, input, *, training=False, key=None):
        return F.softsign(input), state


@module
class Hardtanh(_Inplace, Module):
    """torch.nn.Hardtanh(min_val=-1.0, max_val=1.0, inplace=False); max_val must exceed min_val, as torch."""

    min_val: float = -1.0
    max_val: float = 1.0
    inplace: bool = False  # no effect (module docstring)

    def __post_init__(self):
        super().__post_init__()
        if not self.max_val > self.min_val:
            raise ValueError(f"Hardtanh: max_val must be greater than min_val; got min_val={self.min_val}, "
                             f"max_val={self.max_val}")

    def apply(self, params, state, input, *, training=False, key=None):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace), state


@module
class ReLU6(_Inplace, Module):
    """torch.nn.ReLU6(inplace=False)."""

    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.relu6(input, self.inplace), state


@module
class Hardsigmoid(_Inplace, Module):
    """torch.nn.Hardsigmoid(inplace=False)."""

    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.hardsigmoid(input, self.inplace), state


@module
class Hardswish(_Inplace, Module):
    """torch.nn.Hardswish(inplace=False)."""

    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.hardswish(input, self.inplace), state


@module
class LogSigmoid(Module):
    """torch.nn.LogSigmoid."""

    def apply(self, params, state, input, *, training=False, key=None):
        return F.logsigmoid(input), state


@module
class Mish(_Inplace, Module):
    """torch.nn.Mish(inplace=False)."""

    inplace: bool = False  # no effect (module docstring)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.mish(input, self.inplace), state


@module
class GLU(Module):
    """torch.nn.GLU(dim=-1)."""

    dim: int = -1

    def apply(self, params, state, input, *, training=False, key=None):
        return F.glu(input, self.dim), state


@module
class PReLU(Module):
    """torch.nn.PReLU(num_parameters=1, init=0.25): params ``weight`` of shape (num_parameters,), filled with init.

    torch's ``init`` argument is stored as the field ``init_value`` (``init`` is the module's method).
    """

    num_parameters: int = 1
    init_value: float = 0.25

    def __init__(self, num_parameters: int = 1, init: float = 0.25, *, init_value: float | None = None):
        # init_value= is what dataclasses.replace passes back; torch's name is init=
        object.__setattr__(self, "num_parameters", num_parameters)
        object.__setattr__(self, "init_value", init if init_value is None else init_value)
        check_size("PReLU", "num_parameters", num_parameters)

    def init(self, key, dtype=jnp.float32):
        return {"weight": jnp.full((self.num_parameters,), self.init_value, dtype)}, {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.prelu(input, params["weight"]), state
