"""Adam and AdamW with torch.optim's defaults, coupled/decoupled weight decay and AMSGrad."""
from __future__ import annotations

import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import scale_by_torch_adam


def _direction(betas, eps, amsgrad):
    V.check_eps(eps)
    V.check_betas(betas)
    b1, b2 = betas
    if callable(b2):
        raise TypeError(f"betas[1] must be a number, got the callable {b2!r} (only β1 may be a schedule)")
    # not optax.scale_by_adam: its 1 - β2ᵗ rounds β2 to float32 first (1 - 0.999 loses 4 digits), torch's does not
    return scale_by_torch_adam(b1, b2, eps, amsgrad=amsgrad)


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, *,
         decoupled_weight_decay=False) -> optax.GradientTransformation:
    """Adam, as ``torch.optim.Adam``: weight_decay is L2 added to the gradient (not AdamW's decay).

    ``decoupled_weight_decay=True`` is AdamW (torch: ``Adam(decoupled_weight_decay=True)`` ≡ ``AdamW``).

    g ← ±g + λθ;  m ← β1m + (1-β1)g;  v ← β2v + (1-β2)g²;  θ ← θ - lr·(m/(1-β1ᵗ)) / (√v̂max/√(1-β2ᵗ) + eps).

    Args:
      lr: float, 0-d array or schedule. betas: (β1, β2) in [0, 1); β1 may be a schedule of the update count
        (``OneCycleLR.momentum``, what torch's OneCycleLR writes into ``betas``). eps: added outside the sqrt.
      weight_decay: λ ≥ 0. amsgrad: use the running max of the raw v (torch's rule, not optax.amsgrad's).
      maximize: ascend instead. decoupled_weight_decay: decay θ by lr·λ instead of adding λθ to g.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.adam(lr=0.1)
      >>> updates, _ = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.zeros(2)}))
      >>> [round(float(u), 4) for u in updates["w"]]
      [-0.1, -0.1]
    """
    if decoupled_weight_decay:
        return adamw(lr, betas, eps, weight_decay, amsgrad, maximize)
    return torch_optimizer(lr, _direction(betas, eps, amsgrad), weight_decay=weight_decay, maximize=maximize)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False
          ) -> optax.GradientTransformation:
    """AdamW, as ``torch.optim.AdamW``: θ ← θ(1 - lr·λ), then the Adam step (decay scaled by the current lr).

    Differs from ``optax.adamw``: default weight_decay is 1e-2 (optax: 1e-4).

    Args:
      lr: float, 0-d array or schedule. betas: (β1, β2); β1 may be a schedule (``OneCycleLR.momentum``).
      eps: outside the sqrt. weight_decay: λ ≥ 0,
      decoupled. amsgrad: torch's max over the raw v. maximize: ascend instead (decay still shrinks θ).

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.adamw(lr=0.1, weight_decay=0.5)
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.ones(1)}), {"w": jnp.ones(1)})
      >>> [round(float(u), 4) for u in updates["w"]]
      [-0.15]
    """
    V.check_nonneg("weight_decay", weight_decay)  # the lr: torch_optimizer checks it
    direction = [_direction(betas, eps, amsgrad)]
    if not V.is_zero(weight_decay):
        direction.append(optax.add_decayed_weights(weight_decay))  # -lr·(adam + λθ) = torch's two lines
    return torch_optimizer(lr, *direction, maximize=maximize)
