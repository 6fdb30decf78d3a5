"""Adafactor in torch.optim.Adafactor's formulation (beta2_decay, the eps pair, d, row/column factors)."""
from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl import checks as V
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import scalar_dtype, torch_lerp


class AdafactorState(NamedTuple):
    count: jax.Array
    row_var: optax.Updates  # (..., R, 1) for a ≥2-D param, () otherwise
    col_var: optax.Updates  # (..., 1, C) for a ≥2-D param, () otherwise
    variance: optax.Updates  # the param's shape for a 0-/1-D param, () otherwise


def check_real(name: str, params) -> None:
    """torch's Adafactor and Muon refuse complex params (at their first step; here at init)."""
    if any(jnp.iscomplexobj(p) for p in jax.tree.leaves(params)):
        raise ValueError(f"{name} does not support complex parameters")


def _rms(x):
    return jnp.linalg.norm(x.reshape(-1)) / math.sqrt(max(x.size, 1))


def scale_by_torch_adafactor(beta2_decay: float, eps, d: float, weight_decay: float):
    """Adafactor's update, as torch/optim/_adafactor.py ``_single_tensor_adafactor`` (an ``applies_lr`` direction):

    β̂ₜ = t^beta2_decay;  ρₜ = min(lr, 1/√t);  α = max(eps2, RMS(θ))·ρₜ;  θ ← θ(1 - lr·λ);
    ≥2-D: R ← lerp(R, ‖g‖²_row/C, β̂ₜ), C ← lerp(C, ‖g‖²_col/R, β̂ₜ), V̂ = R·C / max(mean(R), eps1);
    else V̂ ← lerp(V̂, g², β̂ₜ);  u = g/√max(V̂, eps1²);  θ ← θ - α/max(1, RMS(u)/d)·u.
    eps1 None is the param dtype's machine epsilon.
    """
    eps1, eps2 = eps

    def init_fn(params):
        check_real("Adafactor", params)
        none = lambda p: jnp.zeros([], p.dtype)  # noqa: E731
        row = jax.tree.map(lambda p: jnp.zeros((*p.shape[:-1], 1), p.dtype) if p.ndim > 1 else none(p), params)
        col = jax.tree.map(lambda p: jnp.zeros((*p.shape[:-2], 1, p.shape[-1]), p.dtype) if p.ndim > 1 else none(p),
                           params)
        var = jax.tree.map(lambda p: jnp.zeros_like(p) if p.ndim <= 1 else none(p), params)
        return AdafactorState(jnp.zeros([], jnp.int32), row, col, var)

    def update_fn(updates, state, params, *, lr):
        count = optax.safe_increment(state.count)
        step = count.astype(scalar_dtype())
        w = step ** beta2_decay
        lr = lr.astype(step.dtype)
        rho = jnp.minimum(lr, 1 / step ** 0.5)

        def one(g, p, row, col, var):
            e1 = jnp.finfo(p.dtype).eps if eps1 is None else eps1
            alpha = jnp.maximum(eps2, _rms(p).astype(step.dtype)) * rho
            if g.ndim > 1:
                row = torch_lerp(row, jnp.square(jnp.linalg.norm(g, axis=-1, keepdims=True)) / g.shape[-1],
                                 w.astype(g.dtype))
                col = torch_lerp(col, jnp.square(jnp.linalg.norm(g, axis=-2, keepdims=True)) / g.shape[-2],
                                 w.astype(g.dtype))
                v_hat = (row @ col) / jnp.maximum(jnp.mean(row, axis=-2, keepdims=True), e1)
            else:
                var = torch_lerp(var, g * g, w.astype(g.dtype))
                v_hat = var
            u = jax.lax.rsqrt(jnp.maximum(v_hat, e1 * e1)) * g
            denom = jnp.maximum(1.0, _rms(u).astype(step.dtype) / d)
            decay = (-lr * weight_decay).astype(p.dtype) * p if weight_decay else jnp.zeros_like(p)
            return decay - (alpha / denom).astype(p.dtype) * u, row, col, var

        parts = jax.tree.map(one, updates, params, state.row_var, state.col_var, state.variance)
        pick = lambda k: jax.tree.map(lambda _, t: t[k], updates, parts)  # noqa: E731
        return pick(0), AdafactorState(count, pick(1), pick(2), pick(3))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def adafactor(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *, maximize=False
              ) -> optax.GradientTransformation:
    """Adafactor, as ``torch.optim.Adafactor`` (factored second moment for ≥2-D params, no first moment).

    The update is ``scale_by_torch_adafactor``'s: the lr caps the relative step size ρₜ = min(lr, 1/√t) and
    scales the decoupled weight decay. Differs from ``optax.adafactor`` (the paper's/T5's formulation): torch's
    β̂ₜ = t^beta2_decay, its eps pair, its d and its RMS(θ)-relative step.

    Args:
      lr: float, 0-d array or schedule. beta2_decay: ≤ 0. eps: (eps1 or None, eps2), both ≥ 0.
      d: clipping threshold ≥ 1. weight_decay: λ ≥ 0 (decoupled, times lr). maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.adafactor(lr=0.1)
      >>> updates, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.ones(1)}), {"w": jnp.ones(1)})
      >>> round(float(updates["w"][0]), 4)
      -0.1
    """
    b = V.concrete(beta2_decay)
    if b is not None and not 0.0 >= b:
        raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
    if not isinstance(eps, (tuple, list)) or len(eps) != 2:
        raise ValueError(f"eps must be a pair (eps1 or None, eps2), got {eps!r}")
    if eps[0] is not None and not 0.0 <= eps[0]:
        raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
    if not 0.0 <= eps[1]:
        raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
    dv = V.concrete(d)
    if dv is not None and not 1.0 <= dv:
        raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
    V.check_nonneg("weight_decay", weight_decay)
    return torch_optimizer(lr, scale_by_torch_adafactor(beta2_decay, tuple(eps), d, weight_decay), maximize=maximize,
                           applies_lr=True)
