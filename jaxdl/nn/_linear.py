"""Linear, Identity, Flatten and Unflatten, as torch.nn defines them."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.nn import init
from jaxdl.checks import check_size
from jaxdl.nn._module import Module, module, uniform


@module
class Linear(Module):
    """y = x Wᵀ + b, as torch.nn.Linear; weight (out_features, in_features), W and b ~ U(±1/√in_features).

    Differs from flax.linen.Dense: torch's layout and initialisation (flax: (in, out), lecun_normal, zero bias).
    """

    in_features: int
    out_features: int
    bias: bool = True

    def __post_init__(self):
        check_size("Linear", "in_features", self.in_features)
        check_size("Linear", "out_features", self.out_features)

    def init(self, key, dtype=jnp.float32):
        wkey, bkey = jax.random.split(key)
        shape = (self.out_features, self.in_features)
        params = {"weight": init.kaiming_uniform_(wkey, shape, a=math.sqrt(5), dtype=dtype)}  # bound 1/√in_features
        if self.bias:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0  # torch's reset_parameters
            params["bias"] = uniform(bkey, (self.out_features,), bound, dtype)
        return params, {}

    def apply(self, params, state, input, *, training=False, key=None):
        return F.linear(input, params["weight"], params.get("bias")), state


@module
class Identity(Module):
    """y = x, as torch.nn.Identity."""

    def apply(self, params, state, input, *, training=False, key=None):
        return input, state


@module
class Flatten(Module):
    """Flatten dims start_dim..end_dim into one, as torch.nn.Flatten (defaults 1 and -1)."""

    start_dim: int = 1
    end_dim: int = -1

    def apply(self, params, state, input, *, training=False, key=None):
        shape = jnp.shape(input)
        rank = max(len(shape), 1)  # torch treats a 0-d tensor as having one dim here
        for d in (self.start_dim, self.end_dim):
            if not -rank <= d < rank:
                raise ValueError(f"Flatten: Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                                 f"but got {d}) for input shape {shape}")
        start, end = self.start_dim % rank, self.end_dim % rank
        if start > end:
            raise ValueError(f"Flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} "
                             f"for shape {shape}")
        new_shape = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
        return jnp.reshape(input, new_shape), state


@module
class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``, as torch.nn.Unflatten (one entry may be -1: inferred)."""

    dim: int
    unflattened_size: tuple

    def __post_init__(self):
        object.__setattr__(self, "unflattened_size", tuple(self.unflattened_size))

    def apply(self, params, state, input, *, training=False, key=None):
        shape, sizes = jnp.shape(input), self.unflattened_size
        if not -len(shape) <= self.dim < len(shape):
            raise ValueError(f"Unflatten: Dimension out of range (expected to be in range of [{-len(shape)}, "
                             f"{len(shape) - 1}], but got {self.dim}) for input shape {shape}")
        d = self.dim % len(shape)
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            raise ValueError("Unflatten: unflattened_size may hold one -1 and otherwise non-negative sizes; "
                             f"got {sizes}")
        if -1 in sizes:
            if known == 0 or shape[d] % known:
                raise ValueError(f"Unflatten: the sizes {list(sizes)} must multiply to dim {self.dim}'s size "
                                 f"({shape[d]}) of the input of shape {shape}")
            sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
        elif known != shape[d]:
            raise ValueError(f"Unflatten: the sizes {list(sizes)} must multiply to dim {self.dim}'s size "
                             f"({shape[d]}) of the input of shape {shape}")
        return jnp.reshape(input, shape[:d] + sizes + shape[d + 1:]), state
