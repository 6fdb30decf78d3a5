"""RAdam with torch.optim.RAdam's rectification rule (ρₜ > 5) and decoupled weight decay."""
from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import _bias_correction, scalar_dtype, torch_lerp


class RAdamState(NamedTuple):
    count: jax.Array
    exp_avg: optax.Updates
    exp_avg_sq: optax.Updates


def _h(y):
    """y/expm1(y) - 1 + y/2 without its cancellation: the series y²/12 - y⁴/720 + y⁶/30240 for |y| < 1/2."""
    small = jnp.abs(y) < 0.5
    ys = jnp.where(small, y, 1.0)
    direct = jnp.where(small, 1.0, y) / jnp.expm1(jnp.where(small, 1.0, y)) - 1 + jnp.where(small, 1.0, y) / 2
    y2 = ys * ys
    return jnp.where(small, y2 / 12 - y2 * y2 / 720 + y2 * y2 * y2 / 30240, direct)


def _rho(b2: float, rho_inf: float, step, bc2):
    """ρₜ = ρ∞ - 2tβ2ᵗ/(1-β2ᵗ). In float64 (x64) as torch's Python floats; in float32 rewritten as
    t + (2/c)(h(-c) - h(tc)), c = -log β2, because the direct form loses ~2/c·eps32 to cancellation."""
    if b2 == 0.0:
        return rho_inf - jnp.zeros_like(step)
    if step.dtype == jnp.float64:
        return rho_inf - 2 * step * jnp.exp(step * math.log(b2)) / bc2
    c = -math.log(b2)
    return step + (2 / c) * (_h_host(-c) - _h(step * c))


def _h_host(y: float) -> float:
    """``_h`` at a Python float, in float64."""
    return y / math.expm1(y) - 1 + y / 2 if abs(y) >= 0.5 else y * y / 12 - y ** 4 / 720 + y ** 6 / 30240


def scale_by_torch_radam(b1: float, b2: float, eps: float):
    """RAdam's direction, as torch/optim/radam.py ``_single_tensor_radam``:

    m ← lerp(m, g, 1-β1);  v ← β2v + (1-β2)g²;  ρ∞ = 2/(1-β2) - 1;  ρₜ = ρ∞ - 2tβ2ᵗ/(1-β2ᵗ);
    d = m̂ · √(1-β2ᵗ)/(√v + eps) · r(ρₜ) if ρₜ > 5, else m̂ (m̂ = m/(1-β1ᵗ), r torch's rectification).
    """
    rho_inf = 2 / (1 - b2) - 1

    def init_fn(params):
        return RAdamState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params), optax.tree.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        step = count.astype(scalar_dtype())
        bc2 = _bias_correction(b2, count, step.dtype)
        rho_t = _rho(b2, rho_inf, step, bc2)
        rect = jnp.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        m = jax.tree.map(lambda g, m: torch_lerp(m, g, 1 - b1), updates, state.exp_avg)
        v = jax.tree.map(lambda g, v: v * b2 + (1 - b2) * (g * g), updates, state.exp_avg_sq)

        def direction(m, v):
            m_hat = m / _bias_correction(b1, count, m.dtype)
            adaptive = jnp.sqrt(bc2).astype(v.dtype) / (jnp.sqrt(v) + eps)
            return jnp.where(rho_t > 5.0, m_hat * adaptive * rect.astype(m.dtype), m_hat)

        return jax.tree.map(direction, m, v), RAdamState(count, m, v)

    return optax.GradientTransformation(init_fn, update_fn)


def radam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, *, maximize=False
          ) -> optax.GradientTransformation:
    """RAdam, as ``torch.optim.RAdam`` (Adam whose adaptive step is rectified once its variance is tractable).

    g ← ±g + λθ (or θ ← θ(1 - lr·λ) with decoupled_weight_decay);  θ ← θ - lr·d, d as ``scale_by_torch_radam``.
    Differs from ``optax.radam``: torch's threshold ρₜ > 5 (optax: 5 too, but a configurable one) and torch's
    eps placement √v + eps after the bias correction is taken out; weight decay as torch.

    Args:
      lr: float, 0-d array or schedule. betas: (β1, β2) in [0, 1). eps: ≥ 0. weight_decay: λ ≥ 0.
      decoupled_weight_decay: AdamW-style decay. maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.radam(lr=0.1)
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
      >>> round(float(updates["w"][0]), 4)
      -0.1
    """
    V.check_eps(eps)
    V.check_betas(betas)
    return torch_optimizer(lr, scale_by_torch_radam(*betas, eps), weight_decay=weight_decay, maximize=maximize,
                           decoupled_weight_decay=decoupled_weight_decay)
