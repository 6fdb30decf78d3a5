"""Sequential, as torch.nn.Sequential: children named "0", "1", ...; one key split per child."""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from jaxdl.nn._module import Module, split_keys


@dataclasses.dataclass(frozen=True, init=False)
class Sequential(Module):
    """Apply modules in order: torch.nn.Sequential(*modules). params/state are {"0": ..., "1": ...}."""

    layers: tuple

    def __init__(self, *modules):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} must be a jaxdl.nn module; got {type(m).__name__}")
        object.__setattr__(self, "layers", tuple(modules))

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def init(self, key, dtype=jnp.float32):
        params, state = {}, {}
        for i, (m, k) in enumerate(zip(self.layers, split_keys(key, len(self.layers)))):
            params[str(i)], state[str(i)] = m.init(k, dtype)
        return params, state

    def apply(self, params, state, input, *, training=False, key=None):
        new_state = {}
        for i, (m, k) in enumerate(zip(self.layers, split_keys(key, len(self.layers)))):
            input, new_state[str(i)] = m.apply(params[str(i)], state[str(i)], input, training=training, key=k)
        return input, new_state
