"""NAdam with torch.optim.NAdam's momentum schedule (momentum_decay) and its float32 ``mu_product``."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import TORCH_STATE_SCALAR, _bias_correction, scalar_dtype, torch_lerp


class NAdamState(NamedTuple):
    count: jax.Array
    mu_product: jax.Array  # float32, as torch keeps it (its state scalars are float32 whatever the params)
    exp_avg: optax.Updates
    exp_avg_sq: optax.Updates


def scale_by_torch_nadam(b1: float, b2: float, eps: float, momentum_decay: float):
    """NAdam's direction, as torch/optim/nadam.py ``_single_tensor_nadam``:

    μₜ = β1(1 - ½·0.96^(t·ψ));  Πₜ = Πₜ₋₁·μₜ (rounded to float32, as torch's state);  m ← lerp(m, g, 1-β1);
    v ← β2v + (1-β2)g²;  D = √(v/(1-β2ᵗ)) + eps;  d = (1-μₜ)/(1-Πₜ)·g/D + μₜ₊₁/(1-Πₜμₜ₊₁)·m/D.
    """

    def init_fn(params):
        return NAdamState(jnp.zeros([], jnp.int32), jnp.ones([], TORCH_STATE_SCALAR), optax.tree.zeros_like(params),
                          optax.tree.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        step = count.astype(scalar_dtype())
        mu = b1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product = state.mu_product * mu.astype(TORCH_STATE_SCALAR)  # torch: mu_product *= mu, in float32
        prod = mu_product.astype(step.dtype)
        c_grad, c_avg = (1.0 - mu) / (1.0 - prod), mu_next / (1.0 - prod * mu_next)
        m = jax.tree.map(lambda g, m: torch_lerp(m, g, 1 - b1), updates, state.exp_avg)
        v = jax.tree.map(lambda g, v: v * b2 + (1 - b2) * (g * g), updates, state.exp_avg_sq)

        def direction(g, m, v):
            denom = jnp.sqrt(v / _bias_correction(b2, count, v.dtype)) + eps
            return c_grad.astype(g.dtype) * (g / denom) + c_avg.astype(g.dtype) * (m / denom)

        return jax.tree.map(direction, updates, m, v), NAdamState(count, mu_product, m, v)

    return optax.GradientTransformation(init_fn, update_fn)


def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, decoupled_weight_decay=False,
          *, maximize=False) -> optax.GradientTransformation:
    """NAdam, as ``torch.optim.NAdam`` (Nesterov momentum in Adam, with Dozat's momentum schedule).

    g ← ±g + λθ (or θ ← θ(1 - lr·λ) with decoupled_weight_decay);  θ ← θ - lr·d, d as ``scale_by_torch_nadam``.
    Differs from ``optax.nadam``: torch's momentum_decay schedule μₜ and its product Πₜ (optax has neither).

    Args:
      lr: float, 0-d array or schedule. betas: (β1, β2) in [0, 1). eps: added outside the sqrt.
      weight_decay: λ ≥ 0. momentum_decay: ψ ≥ 0. decoupled_weight_decay: NAdamW's decay. maximize: ascend.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.nadam(lr=0.1)
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
      >>> round(float(updates["w"][0]), 4)  # torch.optim.NAdam([w], lr=0.1)'s first step from g = 1
      -0.1056
    """
    V.check_eps(eps)
    V.check_betas(betas)
    V.check_nonneg("momentum_decay", momentum_decay)
    return torch_optimizer(lr, scale_by_torch_nadam(*betas, eps, momentum_decay), weight_decay=weight_decay,
                           maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
