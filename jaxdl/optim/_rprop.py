"""Rprop with torch.optim.Rprop's per-element step sizes (etas, step_sizes)."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer


class RpropState(NamedTuple):
    count: jax.Array
    prev: optax.Updates
    step_size: optax.Updates


def scale_by_torch_rprop(etas, step_sizes):
    """Rprop's update, as torch/optim/rprop.py ``_single_tensor_rprop`` (an ``applies_lr`` direction):

    s = sign(g·g_prev) → η+ (> 0), η- (< 0), 1 (= 0);  Δ ← clamp(Δ·s, min, max);  g ← 0 where s = η-;
    θ ← θ - sign(g)·Δ;  g_prev ← g. Δ starts at the lr of the first step; later lrs are not used (as torch).
    """
    etaminus, etaplus = etas
    lo, hi = step_sizes

    def init_fn(params):
        return RpropState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params), optax.tree.zeros_like(params))

    def update_fn(updates, state, params=None, *, lr):
        del params

        def step(g, prev, size):
            size = jnp.where(state.count == 0, lr.astype(g.dtype), size)
            s = jnp.sign(g * prev)
            factor = jnp.where(s > 0, etaplus, jnp.where(s < 0, etaminus, jnp.where(s == 0, 1.0, s))).astype(g.dtype)
            size = jnp.clip(size * factor, lo, hi)
            g = jnp.where(factor == etaminus, 0.0, g).astype(g.dtype)
            return -jnp.sign(g) * size, g, size

        triples = jax.tree.map(step, updates, state.prev, state.step_size)
        pick = lambda k: jax.tree.map(lambda _, t: t[k], updates, triples)  # noqa: E731
        return pick(0), RpropState(optax.safe_increment(state.count), pick(1), pick(2))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def rprop(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False) -> optax.GradientTransformation:
    """Rprop, as ``torch.optim.Rprop`` (resilient backpropagation: sign of g, adaptive per-element steps).

    The update is ``scale_by_torch_rprop``'s; the lr is each step size's initial value. Differs from
    ``optax.rprop`` in the zero-product case (torch multiplies by 1) and in where the initial step size comes
    from (torch: the group's lr at the first step; the state's lr here).

    Args:
      lr: float, 0-d array or schedule: the initial step size. etas: (η-, η+) with 0 < η- < 1 < η+.
      step_sizes: (min, max) step size. maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.rprop(lr=0.1)
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
      >>> round(float(updates["w"][0]), 4)
      -0.1
    """
    em, ep = (V.concrete(e) for e in etas)
    if em is not None and ep is not None and not 0.0 < em < 1.0 < ep:
        raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
    return torch_optimizer(lr, scale_by_torch_rprop(etas, step_sizes), maximize=maximize, applies_lr=True)
