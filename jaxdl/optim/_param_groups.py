"""Parameter groups (torch's ``param_groups``) on ``optax.multi_transform``, and the no-decay mask."""
from __future__ import annotations

from typing import Mapping

import jax
import optax


def _name(path) -> str:
    last = path[-1] if path else None
    return str(getattr(last, "key", getattr(last, "name", getattr(last, "idx", ""))))


def weight_decay_mask(params):
    """True for leaves named 'weight' with ndim ≥ 2 (Linear/Embedding matrices), False for biases and norm weights.

    The usual "no weight decay on biases and norm weights" rule: pass to ``decay_labels`` or use as an
    ``optax.masked`` mask. Torch itself decays every parameter of a group.
    """
    return jax.tree_util.tree_map_with_path(lambda path, p: _name(path) == "weight" and p.ndim >= 2, params)


def decay_labels(params, decay: str = "decay", no_decay: str = "no_decay"):
    """'decay' / 'no_decay' per leaf (from ``weight_decay_mask``), the labels for ``param_groups``."""
    return jax.tree.map(lambda m: decay if m else no_decay, weight_decay_mask(params))


def param_groups(transforms: Mapping[str, optax.GradientTransformation], param_labels) -> optax.GradientTransformation:
    """One optimizer per group of leaves, as torch's ``param_groups`` (each group its own lr, weight_decay…).

    Torch counterpart: ``torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
    {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)``. Each group keeps its own step count and lr
    (``optim.get_lrs(state)`` lists them, in label order).

    Args:
      transforms: label -> optimizer, e.g. ``{"decay": adamw(weight_decay=0.1), "no_decay": adamw(weight_decay=0.0)}``.
      param_labels: a tree of labels like the params (e.g. ``decay_labels(params)``), or a function of params.

    Example:
      >>> import jax, jax.numpy as jnp, jaxdl.optim as optim
      >>> params = {"weight": jnp.ones((2, 2)), "bias": jnp.ones(2)}
      >>> tx = optim.param_groups({"decay": optim.sgd(0.1, weight_decay=0.5), "no_decay": optim.sgd(0.1)},
      ...                         optim.decay_labels(params))
      >>> upd, _ = tx.update(jax.tree.map(jnp.zeros_like, params), tx.init(params), params)
      >>> round(float(upd["weight"][0, 0]), 4), round(abs(float(upd["bias"][0])), 4)
      (-0.05, 0.0)
    """
    if not isinstance(transforms, Mapping) or not transforms:
        raise TypeError(f"param_groups expects a non-empty dict label -> GradientTransformation, got {transforms!r}")
    if not callable(param_labels):
        used = set(jax.tree.leaves(param_labels))
        missing = used - set(transforms)
        if missing:
            raise ValueError(f"param_groups: labels {sorted(missing)} have no transform; transforms are given "
                             f"for {sorted(transforms)}")
    return optax.multi_transform(dict(transforms), param_labels)
