"""Adamax with torch.optim.Adamax's eps placement (inside the running max)."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import _bias_correction, torch_lerp


class AdamaxState(NamedTuple):
    count: jax.Array
    exp_avg: optax.Updates
    exp_inf: optax.Updates


def scale_by_torch_adamax(b1: float, b2: float, eps: float):
    """Adamax's direction, as torch/optim/adamax.py: m ← lerp(m, g, 1-β1);  u ← max(β2u, |g| + eps);
    d = m/u / (1-β1ᵗ). Differs from ``optax.scale_by_adamax``: eps inside the max (optax adds it after)."""

    def init_fn(params):
        return AdamaxState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params), optax.tree.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        m = jax.tree.map(lambda g, m: torch_lerp(m, g, 1 - b1), updates, state.exp_avg)
        u = jax.tree.map(lambda g, u: jnp.maximum(u * b2, jnp.abs(g) + eps), updates, state.exp_inf)
        out = jax.tree.map(lambda m, u: (m / u) / _bias_correction(b1, count, m.dtype), m, u)
        return out, AdamaxState(count, m, u)

    return optax.GradientTransformation(init_fn, update_fn)


def adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False
           ) -> optax.GradientTransformation:
    """Adamax, as ``torch.optim.Adamax`` (Adam with the infinity norm).

    g ← ±g + λθ;  θ ← θ - lr/(1-β1ᵗ) · m/u, m and u as ``scale_by_torch_adamax``.

    Args:
      lr: float, 0-d array or schedule. betas: (β1, β2) in [0, 1). eps: ≥ 0. weight_decay: λ ≥ 0 (L2).
      maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.adamax(lr=0.1)
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
      >>> round(float(updates["w"][0]), 4)
      -0.1
    """
    V.check_eps(eps)
    V.check_betas(betas)
    return torch_optimizer(lr, scale_by_torch_adamax(*betas, eps), weight_decay=weight_decay, maximize=maximize)
