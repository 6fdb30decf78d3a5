"""ReduceLROnPlateau as a pure step function over an explicit state, as torch.optim.lr_scheduler's."""
from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl import checks as V


class PlateauState(NamedTuple):
    lr: jax.Array                # current lr, scalar or one per group (set it with optim.set_lr)
    best: jax.Array              # best metric so far
    num_bad_epochs: jax.Array    # int32
    cooldown_counter: jax.Array  # int32
    last_epoch: jax.Array        # int32: number of step() calls


@dataclasses.dataclass(frozen=True)
class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when the metric stops improving, as ``torch.optim.lr_scheduler.ReduceLROnPlateau``.

    Improvement (mode 'min', threshold_mode 'rel'): metric < best·(1 - threshold) ('abs': best - threshold;
    'max' mirrors). After more than ``patience`` bad steps: lr ← max(lr·factor, min_lr) if that changes lr
    by more than eps (each group on its own, with its own min_lr when min_lr is a list), then ``cooldown``
    steps during which bad steps are not counted.
    optax.contrib.reduce_on_plateau differs (it scales updates, counts every update, has no min_lr/eps
    on the lr), so this is jaxdl's own. Pure: ``state = plateau.step(state, metric)`` under jit/scan; then
    ``opt_state = optim.set_lr(opt_state, state.lr)`` (start from ``plateau.init(optim.get_lrs(opt_state))``
    as a (groups,) array, or a scalar lr). Use it with a constant lr: a schedule would overwrite it.

    Example:
      >>> import jaxdl.optim as optim
      >>> plateau = optim.ReduceLROnPlateau(patience=0)
      >>> s = plateau.init(0.1)
      >>> for loss in [1.0, 1.0, 1.0]:
      ...     s = plateau.step(s, loss)
      >>> round(float(s.lr), 6)
      0.001
    """

    mode: str = "min"
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    threshold_mode: str = "rel"
    cooldown: int = 0
    min_lr: float | tuple = 0.0  # or one per param group (a list/tuple, as torch's), matching init's lr
    eps: float = 1e-8

    def __post_init__(self):
        if self.factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if self.mode not in ("min", "max"):
            raise ValueError("mode " + str(self.mode) + " is unknown!")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError("threshold mode " + str(self.threshold_mode) + " is unknown!")
        for name in ("patience", "cooldown"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Expected non-negative integer {name}, but got {value!r}")
        if isinstance(self.min_lr, (list, tuple)):
            object.__setattr__(self, "min_lr", tuple(float(v) for v in self.min_lr))
            for v in self.min_lr:
                V.check_nonneg("min_lr", v)
        else:
            V.check_nonneg("min_lr", self.min_lr)

    def init(self, lr) -> PlateauState:
        """State before the first ``step``; ``lr`` is the optimizer's (``optim.get_lr`` / ``get_lrs``)."""
        dtype = jnp.result_type(float)
        if isinstance(self.min_lr, tuple) and jnp.shape(lr) != (len(self.min_lr),):
            raise ValueError(f"expected {jnp.size(lr)} min_lrs, got {len(self.min_lr)} (min_lr={list(self.min_lr)} "
                             f"needs one lr per param group, e.g. plateau.init(jnp.stack(optim.get_lrs(state))))")
        zero = jnp.zeros([], jnp.int32)
        worse = math.inf if self.mode == "min" else -math.inf
        return PlateauState(jnp.asarray(lr, dtype), jnp.asarray(worse, dtype), zero, zero, zero)

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, state: PlateauState, metric) -> PlateauState:
        """One ``scheduler.step(metric)``: returns the new state (its ``lr`` is the lr to use next)."""
        metric = jnp.asarray(metric, state.best.dtype)
        if metric.ndim != 0:
            raise ValueError(f"ReduceLROnPlateau.step expects a scalar metric, got shape {metric.shape}")
        better = self._is_better(metric, state.best)
        best = jnp.where(better, metric, state.best)
        bad = jnp.where(better, 0, state.num_bad_epochs + 1)
        in_cooldown = state.cooldown_counter > 0
        cooldown = jnp.where(in_cooldown, state.cooldown_counter - 1, state.cooldown_counter)
        bad = jnp.where(in_cooldown, 0, bad)
        reduce = bad > self.patience
        new_lr = jnp.maximum(state.lr * self.factor, jnp.asarray(self.min_lr, state.lr.dtype))  # per group
        lr = jnp.where(reduce & (state.lr - new_lr > self.eps), new_lr, state.lr)
        cooldown = jnp.where(reduce, self.cooldown, cooldown)
        bad = jnp.where(reduce, 0, bad)
        return PlateauState(lr, best, bad.astype(jnp.int32), cooldown.astype(jnp.int32), state.last_epoch + 1)
