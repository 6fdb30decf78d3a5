"""Gradient clipping by total norm with torch.nn.utils.clip_grad_norm_'s formula."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl import checks as V


def get_total_norm(grads, norm_type: float = 2.0) -> jax.Array:
    """‖(‖g₁‖_p, …, ‖g_k‖_p)‖_p over the leaves, as ``torch.nn.utils.get_total_norm`` (p = inf: max |g|)."""
    leaves = jax.tree.leaves(grads)
    if not leaves:
        return jnp.zeros([], jnp.result_type(float))
    norms = jnp.stack([jnp.linalg.norm(g.ravel(), ord=norm_type) for g in leaves])  # (k,)
    return jnp.linalg.norm(norms, ord=norm_type)


def clip_grads_with_norm(grads, max_norm: float, total_norm):
    """g · min(max_norm / (total_norm + 1e-6), 1), as ``torch.nn.utils.clip_grads_with_norm_``.

    The factor is always applied (slightly below 1 even at total_norm == max_norm), unlike
    ``optax.clip_by_global_norm``, which leaves norms ≤ max_norm untouched and has no 1e-6.
    """
    return jax.tree.map(lambda g: g * jnp.minimum(max_norm / (total_norm + 1e-6), 1.0).astype(g.dtype), grads)


class ClipGradNormState(NamedTuple):
    total_norm: jax.Array  # the pre-clip norm of the last update (what torch's clip_grad_norm_ returns)


def clip_grad_norm(max_norm: float, norm_type: float = 2.0) -> optax.GradientTransformation:
    """Clip the gradient tree by its total p-norm, as ``torch.nn.utils.clip_grad_norm_``.

    coef = min(max_norm / (‖g‖_p + 1e-6), 1);  g ← coef·g. Chain it first, before the optimizer, as torch
    clips ``.grad`` before ``optimizer.step()`` adds weight decay. The pre-clip norm is in the state.

    Args:
      max_norm: the bound, ≥ 0. norm_type: p (float, or ``float('inf')`` for the max norm).

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.clip_grad_norm(1.0)
      >>> g, state = tx.update({"w": jnp.array([3.0, 4.0])}, tx.init({"w": jnp.zeros(2)}))
      >>> [round(float(u), 4) for u in g["w"]], float(state.total_norm)
      ([0.6, 0.8], 5.0)
    """
    V.check_nonneg("max_norm", max_norm)
    p = V.concrete(norm_type)
    if p is None or p < 0:
        raise ValueError(f"norm_type must be a number >= 0 or float('inf'), got {norm_type!r}")

    def init_fn(params):
        del params
        return ClipGradNormState(jnp.zeros([], jnp.result_type(float)))

    def update_fn(updates, state, params=None):
        del params, state
        total = get_total_norm(updates, norm_type)
        return clip_grads_with_norm(updates, max_norm, total), ClipGradNormState(total.astype(jnp.result_type(float)))

    return optax.GradientTransformation(init_fn, update_fn)
