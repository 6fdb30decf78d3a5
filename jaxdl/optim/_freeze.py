"""Freezing parameters by state_dict name or prefix (torch's ``requires_grad_(False)``) on ``optax.multi_transform``."""
from __future__ import annotations

from collections.abc import Iterable

import jax
import optax

FROZEN, TRAINABLE = "frozen", "trainable"


def _path_name(path) -> str:
    return ".".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path)


def _matches(name: str, pattern: str) -> bool:
    return name == pattern or name.startswith(pattern + ".")


def frozen_mask(params, names: Iterable[str]):
    """True for every leaf whose state_dict name is in ``names`` or under one of them ("first" → "first.weight", ...).

    Args:
      params: the params tree (nested dicts, torch's state_dict names when '.'-joined).
      names: state_dict names or prefixes (whole components: "fc" matches "fc.weight", not "fc2.weight").
    Raises:
      ValueError: a name that matches no parameter (never ignored silently), listing the names there are.
    """
    if isinstance(names, str):
        raise TypeError(f"frozen_mask: names must be a list of state_dict names or prefixes; got the string "
                        f"{names!r} (write [{names!r}])")
    names = list(names)
    leaves = [_path_name(p) for p, _ in jax.tree_util.tree_leaves_with_path(params)]
    unknown = [n for n in names if not any(_matches(leaf, n) for leaf in leaves)]
    if unknown:
        raise ValueError(f"freeze: {unknown} match no parameter; parameters are {leaves}")
    return jax.tree_util.tree_map_with_path(lambda p, _: any(_matches(_path_name(p), n) for n in names), params)


def freeze(tx: optax.GradientTransformation, params, names: Iterable[str]) -> optax.GradientTransformation:
    """``tx`` for every parameter except those named (or under a prefix in) ``names``, which never change.

    Torch counterpart: ``model.first.requires_grad_(False)`` (or ``p.requires_grad = False``) before building the
    optimizer: those parameters get no grad, so no update, no weight decay and no optimizer state. Here they go
    to ``optax.set_to_zero()`` under ``optax.multi_transform``: their update is 0, ``tx`` never sees them (no
    decay, no momentum) and ``tx``'s state holds nothing for them (``optax.MaskedNode``; set_to_zero's state
    is empty). Gradients are still computed for them; wrap the loss's params in ``jax.lax.stop_gradient`` to
    skip that work. Put clipping inside: ``freeze(optax.chain(optim.clip_grad_norm(1.0), tx), ...)`` leaves the
    frozen gradients out of the norm, as torch's ``clip_grad_norm_`` skips parameters without a grad.

    Args:
      tx: the optimizer for the trainable parameters, e.g. ``optim.sgd(0.1, momentum=0.9)``.
      params: the params tree (only its names are read, to build and check the labels).
      names: state_dict names or prefixes, e.g. ``["first", "2.weight"]``; each must match a parameter.

    Example:
      >>> import jax, jax.numpy as jnp, optax, jaxdl.optim as optim
      >>> params = {"first": {"weight": jnp.ones((2, 2)), "bias": jnp.ones(2)}, "second": {"weight": jnp.ones((1, 2))}}
      >>> tx = optim.freeze(optim.sgd(0.1, momentum=0.9), params, ["first"])
      >>> state = tx.init(params)
      >>> upd, state = tx.update(jax.tree.map(jnp.ones_like, params), state, params)
      >>> float(abs(upd["first"]["weight"]).max()), round(float(upd["second"]["weight"][0, 0]), 4)
      (0.0, -0.1)
    """
    mask = frozen_mask(params, names)
    labels = jax.tree.map(lambda m: FROZEN if m else TRAINABLE, mask)
    return optax.multi_transform({TRAINABLE: tx, FROZEN: optax.set_to_zero()}, labels)
