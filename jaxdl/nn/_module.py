"""The module protocol and torch's default initialisers.

A module is a frozen dataclass whose fields are the torch constructor's arguments. It holds no arrays:
  params, state = module.init(key)
  y, state = module.apply(params, state, x, training=False, key=None)
``params`` and ``state`` are nested dicts whose '.'-joined paths are torch's state_dict keys.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl.nn import init


class Module:
    """Base of every jaxdl.nn module: a stateless, parameterless default for init."""

    def init(self, key, dtype=jnp.float32):
        """Return ``(params, state)``; both empty for modules without parameters or buffers."""
        return {}, {}

    def apply(self, params, state, input, *, training: bool = False, key=None):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is a spec, not a function: call "
                        "module.apply(params, state, x, training=..., key=...) "
                        "with (params, state) = module.init(key)")


def module(cls):
    """Class decorator: a frozen, hashable dataclass spec (usable as a static jit argument)."""
    return dataclasses.dataclass(frozen=True)(cls)


def uniform(key, shape, bound, dtype=jnp.float32):
    """U(−bound, bound): ``init.uniform_(key, shape, -bound, bound)``, e.g. torch's bias init (bound = 1/√fan_in)."""
    return init.uniform_(key, shape, -bound, bound, dtype)


def split_keys(key, n: int):
    """n keys from ``key``, or n Nones when key is None (eval, or a model without randomness)."""
    if key is None:
        return [None] * n
    return list(jax.random.split(key, n))
