"""SGD with torch.optim.SGD's momentum, dampening and Nesterov rules."""
from __future__ import annotations

import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import torch_momentum


def sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
        ) -> optax.GradientTransformation:
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    g ← ±g + λθ;  b ← g (first step), b ← μb + (1-τ)g;  g ← g + μb (nesterov) or b;  θ ← θ - lr·g.
    Uses ``optax.trace`` when dampening is 0 (same formula), ``torch_momentum`` otherwise.

    Args:
      lr: float, 0-d array, or schedule of the update count (e.g. ``lr_scheduler.StepLR``).
      momentum: μ ≥ 0. dampening: τ. weight_decay: λ ≥ 0 (L2 added to the gradient).
      nesterov: Nesterov momentum (needs μ > 0 and τ = 0). maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.sgd(lr=0.1, momentum=0.9)
      >>> updates, state = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.zeros(2)}))
      >>> [round(float(u), 4) for u in updates["w"]], round(float(optim.get_lr(state)), 4)
      ([-0.1, -0.1], 0.1)
    """
    V.check_nonneg("momentum", momentum)
    m, d = V.concrete(momentum), V.concrete(dampening)
    if nesterov and ((m is not None and m <= 0) or (d is not None and d != 0)):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    direction = []
    if not V.is_zero(momentum):
        direction.append(optax.trace(momentum, nesterov=nesterov) if V.is_zero(dampening)
                         else torch_momentum(momentum, dampening, nesterov))
    return torch_optimizer(lr, *direction, weight_decay=weight_decay, maximize=maximize)
