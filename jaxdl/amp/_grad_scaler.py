"""torch.amp.GradScaler: float16 loss scaling as pure functions over a GradScalerState, and as an optax wrapper.

torch's recipe                                 jaxdl (state in, state out, jittable)
    scaler = GradScaler()                          scaler = amp.GradScaler(); tx = scaler.wrap(optimizer)
    scaler.scale(loss).backward()                  grads = jax.grad(lambda p: scaler.scale(loss(p), opt_state))(params)
    scaler.unscale_(opt); clip_grad_norm_(...)     clipping inside the wrapped chain sees unscaled gradients
    scaler.step(opt); scaler.update()              updates, opt_state = tx.update(grads, opt_state, params)

Formulas (torch's ``_amp_foreach_non_finite_check_and_unscale_`` and ``_amp_update_scale_`` kernels):
    scale(loss) = loss · s;  unscale: g ← g · float32(1 / float64(s)), found_inf = any(g is inf or NaN)
    found_inf:  s ← s · backoff_factor, tracker ← 0                (the optimizer step is skipped)
    otherwise:  tracker + 1 == growth_interval ? (s ← s · growth_factor if that is finite; tracker ← 0)
                                               : tracker ← tracker + 1
A skipped step leaves the params (zero updates) and the whole optimizer state unchanged, as torch's skipped
``optimizer.step()``; that state includes a jaxdl lr schedule's count, which a torch scheduler stepped after a
skipped step advances (torch warns about that order). The factors are float32 (exact for torch's 2 and 0.5).
"""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class GradScalerState(NamedTuple):
    """torch's ``_scale`` (float32 ()) and ``_growth_tracker`` (int32 (): unskipped steps since the last change)."""

    scale: jax.Array
    growth_tracker: jax.Array


class ScaledState(NamedTuple):
    """The state of ``GradScaler.wrap(tx)``: tx's state, the scaler's, and whether the last step was skipped."""

    inner: Any
    scaler: GradScalerState
    found_inf: jax.Array  # bool (): torch's found_inf of the last step (its optimizer.step() skipped)


def _scaler_state(state) -> GradScalerState:
    return state.scaler if isinstance(state, ScaledState) else state


class LossScaledTransformation(optax.GradientTransformationExtraArgs):
    """What ``GradScaler.wrap`` returns: an optax transform that ``is_loss_scaled`` recognises."""


def is_loss_scaled(tx_or_state) -> bool:
    """Whether this is a ``GradScaler.wrap``-ped optimizer or its state (what "fp16-mixed" trains with)."""
    return isinstance(tx_or_state, (LossScaledTransformation, ScaledState))


def training_optimizer(tx, precision: str):
    """``tx`` as a training ``precision`` runs it: for "fp16-mixed" ``GradScaler().wrap(tx)`` (torch's defaults)
    unless tx is wrapped already (a scaler of your own: pass ``GradScaler(...).wrap(tx)``); else tx itself."""
    return GradScaler().wrap(tx) if precision == "fp16-mixed" and not is_loss_scaled(tx) else tx


@dataclasses.dataclass(frozen=True)
class GradScaler:
    """``torch.amp.GradScaler(device, init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``: the hyperparameters; the arrays live in a GradScalerState.

    Its methods are torch's, made pure: ``init()``, ``scale(loss, state)``, ``unscale(grads, state)`` (torch's
    ``unscale_``, returns the found_inf flag), ``update(state, found_inf)``, ``get_scale(state)`` and
    ``wrap(tx)``: the optax transform that is torch's ``scaler.step(optimizer); scaler.update()`` around tx.
    ``enabled=False`` makes each a no-op (scale 1.0, steps never skipped), as torch. torch's ``device`` argument
    is not taken: JAX places the arrays.
    """

    init_scale: float = 2.0**16
    growth_factor: float = 2.0
    backoff_factor: float = 0.5
    growth_interval: int = 2000
    enabled: bool = True

    def __post_init__(self):
        if self.enabled and not self.growth_factor > 1.0:  # torch's two checks, only when enabled (as torch)
            raise ValueError(f"GradScaler: growth_factor must be > 1.0; got {self.growth_factor}")
        if self.enabled and not self.backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be < 1.0; got {self.backoff_factor}")

    def init(self) -> GradScalerState:
        """scale = init_scale (1.0 when disabled: torch's get_scale), growth tracker 0."""
        scale = self.init_scale if self.enabled else 1.0
        return GradScalerState(jnp.asarray(scale, jnp.float32), jnp.zeros((), jnp.int32))

    def get_scale(self, state) -> jax.Array:
        """torch's ``get_scale()``: the current scale (of a GradScalerState or a wrapped optimizer's state)."""
        return _scaler_state(state).scale

    def scale(self, outputs, state):
        """``outputs · scale`` (torch's promotion: a 0-d float16 loss times the float32 scale is float32, a
        float16 tensor stays float16); ``state``: a GradScalerState or a wrapped optimizer's state."""
        if not self.enabled:
            return outputs
        return scale_loss(outputs, state)

    def unscale(self, grads, state):
        """torch's ``unscale_``: ``(grads · float32(1/scale), found_inf)``, found_inf a bool () that is True when
        a (scaled) gradient holds an inf or NaN. float16 gradients are refused, as torch does."""
        state = _scaler_state(state)
        leaves = jax.tree.leaves(grads)
        if any(jnp.result_type(g) == jnp.float16 for g in leaves):
            raise ValueError("GradScaler.unscale: float16 gradients cannot be unscaled (torch: 'Attempting to unscale "
                             "FP16 gradients.'): keep float32 parameters and let autocast cast them")
        if not self.enabled:
            return grads, jnp.zeros((), jnp.bool_)
        found_inf = jnp.zeros((), jnp.bool_)
        for g in leaves:
            found_inf = found_inf | ~jnp.all(jnp.isfinite(g))
        inv_scale = jnp.reciprocal(state.scale.astype(jnp.float64) if jax.config.jax_enable_x64 else state.scale)
        inv_scale = inv_scale.astype(jnp.float32)  # torch: scale.double().reciprocal().float()
        return jax.tree.map(lambda g: g * inv_scale.astype(g.dtype), grads), found_inf

    def update(self, state, found_inf) -> GradScalerState:
        """torch's ``update()``: back off on found_inf, else grow after growth_interval unskipped steps."""
        if not self.enabled:
            return state
        tracker = state.growth_tracker + 1
        grow = tracker == self.growth_interval
        grown = state.scale * jnp.float32(self.growth_factor)
        scale = jnp.where(found_inf, state.scale * jnp.float32(self.backoff_factor),
                          jnp.where(grow & jnp.isfinite(grown), grown, state.scale))
        tracker = jnp.where(found_inf | grow, 0, tracker).astype(jnp.int32)
        return GradScalerState(scale, tracker)

    def wrap(self, tx) -> LossScaledTransformation:
        """``tx`` under loss scaling: its update takes the *scaled* gradients, unscales them, runs ``tx`` when
        all are finite and otherwise returns zero updates and tx's state unchanged, then updates the scale
        (torch's ``scaler.step(optimizer); scaler.update()``). State: ScaledState(tx's, GradScalerState, found_inf).
        Put gradient clipping inside ``tx`` (``optax.chain(clip, opt)``): it then sees unscaled gradients, as
        torch's ``unscale_`` before ``clip_grad_norm_``."""
        tx = optax.with_extra_args_support(tx)

        def init_fn(params):
            return ScaledState(tx.init(params), self.init(), jnp.zeros((), jnp.bool_))

        def update_fn(grads, state, params=None, **extra_args):
            grads, found_inf = self.unscale(grads, state.scaler)

            def step(_):
                return tx.update(grads, state.inner, params, **extra_args)

            def skip(_):  # torch skips optimizer.step(): nothing moves
                shapes = jax.eval_shape(step, None)[0]
                return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes), state.inner

            updates, inner = jax.lax.cond(found_inf, skip, step, None)
            return updates, ScaledState(inner, self.update(state.scaler, found_inf), found_inf)

        return LossScaledTransformation(init_fn, update_fn)


def scale_loss(loss, state):
    """``loss · scale`` of a GradScalerState or a wrapped optimizer's state, in torch's result dtype."""
    scale = _scaler_state(state).scale
    loss = jnp.asarray(loss)
    wider = max(loss.dtype, scale.dtype, key=lambda d: jnp.finfo(d).bits)  # two floats: the wider (no strict error)
    dtype = wider if loss.ndim == 0 else loss.dtype
    return loss.astype(dtype) * scale.astype(dtype)
