"""Adadelta with torch.optim.Adadelta's defaults (lr=1.0)."""
from __future__ import annotations

import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer


def adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False) -> optax.GradientTransformation:
    """Adadelta, as ``torch.optim.Adadelta``.

    g ← ±g + λθ;  v ← ρv + (1-ρ)g²;  δ = √(u+eps)/√(v+eps)·g;  u ← ρu + (1-ρ)δ²;  θ ← θ - lr·δ.
    Differs from ``optax.adadelta``: lr defaults to 1.0 (optax's None skips the sign flip: ascent).

    Args:
      lr: float, 0-d array or schedule. rho: in [0, 1]. eps: ≥ 0. weight_decay: λ ≥ 0. maximize: ascend.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.adadelta()
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
      >>> [round(float(u), 5) for u in updates["w"]]
      [-0.00316]
    """
    r = V.concrete(rho)
    if r is not None and not 0.0 <= r <= 1.0:
        raise ValueError(f"Invalid rho value: {rho}")
    V.check_eps(eps)
    return torch_optimizer(lr, optax.scale_by_adadelta(rho, eps), weight_decay=weight_decay, maximize=maximize)
