"""RMSprop with torch.optim.RMSprop's defaults, eps placement and momentum buffer."""
from __future__ import annotations

import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
            ) -> optax.GradientTransformation:
    """RMSprop, as ``torch.optim.RMSprop``.

    g ← ±g + λθ;  v ← αv + (1-α)g²;  a = √(v - ḡ²) (centered) or √v, + eps;  b ← μb + g/a;  θ ← θ - lr·b.
    Differs from ``optax.rmsprop``: alpha 0.99 (optax decay 0.9), eps outside the sqrt, and the
    momentum buffer holds g/a *before* the lr, so a schedule scales it as torch does.

    Args:
      lr: float, 0-d array or schedule. alpha: smoothing ≥ 0. eps: ≥ 0. weight_decay: λ ≥ 0.
      momentum: μ ≥ 0. centered: normalise by the variance estimate. maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.rmsprop(lr=0.01)
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
      >>> [round(float(u), 4) for u in updates["w"]]
      [-0.1]
    """
    V.check_eps(eps)
    V.check_nonneg("momentum", momentum)
    V.check_nonneg("alpha", alpha)
    scale = optax.scale_by_stddev if centered else optax.scale_by_rms
    direction = [scale(decay=alpha, eps=eps, eps_in_sqrt=False)]
    if not V.is_zero(momentum):
        direction.append(optax.trace(momentum))
    return torch_optimizer(lr, *direction, weight_decay=weight_decay, maximize=maximize)
