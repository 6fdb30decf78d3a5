"""Adagrad with torch.optim.Adagrad's eps placement, initial accumulator and lr_decay."""
from __future__ import annotations

import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import scale_by_torch_adagrad


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False
            ) -> optax.GradientTransformation:
    """Adagrad, as ``torch.optim.Adagrad``.

    g ← ±g + λθ;  S ← S + g²;  θ ← θ - lr/(1 + (t-1)·lr_decay) · g/(√S + eps).
    Differs from ``optax.adagrad``: eps 1e-10 outside the sqrt (optax 1e-7 inside), accumulator starts
    at 0 (optax 0.1), and lr_decay exists.

    Args:
      lr: float, 0-d array or schedule. lr_decay: ≥ 0. weight_decay: λ ≥ 0.
      initial_accumulator_value: S₀ ≥ 0. eps: ≥ 0. maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.adagrad(lr=0.1)
      >>> updates, _ = tx.update({"w": jnp.full(1, 2.0)}, tx.init({"w": jnp.zeros(1)}))
      >>> [round(float(u), 4) for u in updates["w"]]
      [-0.1]
    """
    V.check_nonneg("lr_decay", lr_decay)
    V.check_nonneg("initial_accumulator_value", initial_accumulator_value)
    V.check_eps(eps)
    direction = scale_by_torch_adagrad(lr_decay, initial_accumulator_value, eps)
    return torch_optimizer(lr, direction, weight_decay=weight_decay, maximize=maximize)
