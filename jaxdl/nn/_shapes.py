"""A module's parameter and buffer shapes without allocating them: ``init_shapes`` and ``count_parameters``."""
from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp


def init_shapes(module, dtype=None, *, key=None):
    """``module.init(key, dtype)``'s ``(params, state)`` as ``jax.ShapeDtypeStruct`` trees, in init's key order
    (``dtype=None``: init's own default dtype; ``key=None``: ``jax.random.key(0)``, shapes do not depend on it).

    Found with ``jax.eval_shape``: nothing is computed or allocated, so a 124M-parameter GPT costs nothing.
    The dicts keep init's own order (torch's state_dict order: "2" before "10"), which ``jax.eval_shape``'s
    own output would sort away. Torch counterpart: the names and shapes of ``model.state_dict()``, as
    ``torch.device("meta")`` gives them.

    Example:
      >>> from jaxdl import nn
      >>> params, state = nn.init_shapes(nn.BatchNorm1d(3))
      >>> {k: v.shape for k, v in params.items()}, list(state)
      ({'weight': (3,), 'bias': (3,)}, ['running_mean', 'running_var', 'num_batches_tracked'])
    """
    trees = []

    def init(k):
        out = module.init(k) if dtype is None else module.init(k, dtype)
        trees.append(tuple(_shapes(t) for t in out))
        return out

    jax.eval_shape(init, jax.random.key(0) if key is None else key)
    return trees[0]


def _shapes(tree):
    """Leaves -> ShapeDtypeStruct, keeping dict order (jax.tree_util.tree_map would sort the keys)."""
    if isinstance(tree, Mapping):
        return {k: _shapes(v) for k, v in tree.items()}
    return jax.ShapeDtypeStruct(jnp.shape(tree), jnp.result_type(tree))


def count_parameters(model, dtype=jnp.float32) -> int:
    """Number of scalar parameters of ``model`` (shared tensors counted once, as torch's
    ``sum(p.numel() for p in model.parameters())``), read from ``init_shapes`` so nothing is allocated."""
    params, _ = init_shapes(model, dtype)
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(params))
