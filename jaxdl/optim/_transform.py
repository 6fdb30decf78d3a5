"""The few transforms whose formula in Optax differs from torch.optim's; each names the torch lines it copies.

They produce a *direction* (no lr): ``with_lr`` in ``_lr.py`` multiplies by ``-lr``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax



def standard_promotion(tx: optax.GradientTransformation) -> optax.GradientTransformation:
    """``tx`` whose update is traced under JAX's standard dtype promotion, for optax transforms written for it:
    ``scale_by_adam``'s bias correction raises the float β to the int32 count, ``MultiSteps`` mixes its int32
    step with a bool; ``jax_numpy_dtype_promotion="strict"`` refuses both. With this, jaxdl's optimizers work when
    a user (or jaxdl's tests) turns strict promotion on. The numbers are unchanged."""

    def update_fn(updates, state, params=None):
        with jax.numpy_dtype_promotion("standard"):
            return tx.update(updates, state, params)

    return optax.GradientTransformation(tx.init, update_fn)

class TorchMomentumState(NamedTuple):
    count: jax.Array  # int32 scalar: 0 until the first update, when the buffer is a clone of the gradient
    momentum_buffer: optax.Updates


def torch_momentum(momentum: float, dampening: float = 0.0, nesterov: bool = False):
    """SGD's momentum buffer with dampening, as torch/optim/sgd.py ``_single_tensor_sgd``.

    Reproduces ``buf = clone(grad)`` on the first step, then ``buf.mul_(momentum).add_(grad, alpha=1 -
    dampening)``, and ``grad = grad.add(buf, alpha=momentum) if nesterov else buf``. Differs from
    ``optax.trace``: its buffer starts at 0 and has no dampening (equal only when dampening == 0).
    """

    def init_fn(params):
        return TorchMomentumState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params
        first = state.count == 0
        buf = jax.tree.map(lambda g, b: jnp.where(first, g, momentum * b + (1 - dampening) * g),
                           updates, state.momentum_buffer)
        out = jax.tree.map(lambda g, b: g + momentum * b, updates, buf) if nesterov else buf
        return out, TorchMomentumState(optax.safe_increment(state.count), buf)

    return optax.GradientTransformation(init_fn, update_fn)


class TorchAdamState(NamedTuple):
    count: jax.Array
    exp_avg: optax.Updates
    exp_avg_sq: optax.Updates
    max_exp_avg_sq: optax.Updates  # () per leaf when amsgrad is off


def _bias_correction(beta, step: jax.Array, dtype) -> jax.Array:
    """1 - beta**step, with log(beta) taken in float64 Python so float32 runs do not round beta first.

    ``beta`` may also be an array (a scheduled β1): then log is taken in ``dtype`` (log 0 = -inf gives 1).
    """
    if isinstance(beta, jax.Array):
        return -jnp.expm1(step.astype(dtype) * jnp.log(beta.astype(dtype)))
    if beta == 0.0:
        return jnp.ones([], dtype)
    return -jnp.expm1(step.astype(dtype) * jnp.asarray(math.log(beta), dtype))


def scale_by_torch_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, amsgrad: bool = False):
    """Adam's direction m̂ / (√v_max/√(1-β2ᵗ) + eps), as torch/optim/adam.py ``_single_tensor_adam``.

    Reproduces ``torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=...)`` (the max over the *raw* v)
    then ``denom = (max_exp_avg_sqs[i].sqrt() / bias_correction2_sqrt).add_(eps)``; optax.amsgrad takes
    the max over bias-corrected v̂ instead (off by ~0.1 on a toy problem, optax#1389). Its bias
    corrections are computed from float64 log(β) so float32 matches torch's float64 ``beta ** step``.

    ``b1`` may be a schedule of the update count (``OneCycleLR.momentum``): update k uses β1 = b1(k) in
    both ``exp_avg.lerp_(grad, 1 - beta1)`` and ``bias_correction1 = 1 - beta1 ** step``, as torch does
    when OneCycleLR (cycle_momentum=True) rewrites ``param_group['betas']`` before each step.
    """

    def init_fn(params):
        # three separate buffers: a donated state must not hold one buffer twice
        vmax = optax.tree.zeros_like(params) if amsgrad else jax.tree.map(lambda p: jnp.zeros([], p.dtype), params)
        return TorchAdamState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params), optax.tree.zeros_like(params),
                              vmax)

    def update_fn(updates, state, params=None):
        del params
        step = optax.safe_increment(state.count)
        beta1 = jnp.asarray(b1(state.count), jnp.result_type(float)) if callable(b1) else b1
        m = jax.tree.map(lambda g, m: m + ((1 - beta1) * (g - m)).astype(m.dtype), updates, state.exp_avg)  # lerp_
        v = jax.tree.map(lambda g, v: b2 * v + (1 - b2) * g * g, updates, state.exp_avg_sq)
        vmax = jax.tree.map(jnp.maximum, state.max_exp_avg_sq, v) if amsgrad else state.max_exp_avg_sq

        def direction(m, v):
            bc1, bc2 = _bias_correction(beta1, step, m.dtype), _bias_correction(b2, step, m.dtype)
            return (m / bc1) / (jnp.sqrt(v) / jnp.sqrt(bc2) + eps)

        out = jax.tree.map(direction, m, vmax if amsgrad else v)
        return out, TorchAdamState(step, m, v, vmax)

    return optax.GradientTransformation(init_fn, update_fn)


class TorchAdagradState(NamedTuple):
    count: jax.Array
    sum: optax.Updates


def scale_by_torch_adagrad(lr_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10):
    """Adagrad's direction g / (√S + eps) / (1 + (t-1)·lr_decay), as torch/optim/adagrad.py.

    Reproduces ``clr = lr / (1 + (step - 1) * lr_decay)``, ``state_sum.addcmul_(grad, grad, value=1)``,
    ``std = state_sum.sqrt().add_(eps)``. Differs from ``optax.scale_by_rss``: eps there is inside the
    sqrt (default 1e-7), the accumulator starts at 0.1, and there is no lr_decay.
    """

    def init_fn(params):
        return TorchAdagradState(jnp.zeros([], jnp.int32), optax.tree.full_like(params, initial_accumulator_value))

    def update_fn(updates, state, params=None):
        del params
        step = optax.safe_increment(state.count)
        s = jax.tree.map(lambda g, s: s + g * g, updates, state.sum)

        def direction(g, s):
            decay = 1 + (step - 1).astype(g.dtype) * lr_decay
            return g / (jnp.sqrt(s) + eps) / decay

        return jax.tree.map(direction, updates, s), TorchAdagradState(step, s)

    return optax.GradientTransformation(init_fn, update_fn)


def torch_lerp(start, end, weight):
    """``start.lerp_(end, weight)`` as torch's CPU kernel rounds it: ``start + w·(end - start)`` for |w| < 0.5,
    else ``end - (end - start)·(1 - w)`` (so weight 1 gives ``end`` exactly, e.g. Adafactor's first step), w in
    the tensor's dtype."""
    diff = end - start
    weight = jnp.asarray(weight, diff.dtype)  # the kernel's weight is in the tensor's dtype: 1 - w rounds there
    return jnp.where(jnp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))


def scalar_dtype():
    """The dtype torch's Python-float step arithmetic is done in here: float64 under x64, else float32."""
    return jnp.result_type(float)


TORCH_STATE_SCALAR = jnp.float32  # torch's _get_scalar_dtype(): float32 unless the default dtype is float64
