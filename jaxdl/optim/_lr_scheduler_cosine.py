"""Cosine schedules, as ``torch.optim.lr_scheduler``'s: CosineAnnealingLR, CosineAnnealingWarmRestarts and
OneCycleLR. Re-exported by jaxdl.optim.lr_scheduler."""
from __future__ import annotations

import math

import jax.numpy as jnp

from jaxdl import checks as V
from jaxdl.optim._lr_scheduler_common import as_float, check_common, epoch, epoch_index, frozen


@frozen
class CosineAnnealingLR:
    """η_min + (lr - η_min)(1 + cos(πt/T_max))/2, as ``CosineAnnealingLR``.

    Past T_max it keeps following the cosine back up, as torch does (``optax.cosine_decay_schedule``
    stays at its floor instead).
    """

    lr: float
    T_max: int
    eta_min: float = 0.0
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("T_max", self.T_max)

    def __call__(self, count):
        t = epoch(count, self.steps_per_epoch)
        return self.eta_min + (self.lr - self.eta_min) * (1 + jnp.cos(math.pi * t / self.T_max)) / 2


@frozen
class CosineAnnealingWarmRestarts:
    """η_min + (lr - η_min)(1 + cos(π·T_cur/T_i))/2, as ``CosineAnnealingWarmRestarts`` (SGDR).

    The first cycle lasts T_0 epochs and each next one T_mult times longer; T_cur counts the epochs since
    the last restart. Computed in closed form from the integer epoch (the cycle is found by comparing it
    with the exact restart epochs), equal to torch's step-by-step ``step()`` without an epoch argument. For
    torch's fractional ``step(epoch + i / iters)`` use, count T_0 in updates with steps_per_epoch=1.
    """

    lr: float
    T_0: int
    T_mult: int = 1
    eta_min: float = 0.0
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("T_0", self.T_0)
        V.check_positive_int("T_mult", self.T_mult)
        if isinstance(self.eta_min, bool) or not isinstance(self.eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {self.eta_min} of type {type(self.eta_min)}")

    def _restarts(self):
        """Epochs at which cycles start (0 first) and their lengths, up to the int32 range of the count."""
        starts, lengths = [0], [self.T_0]
        while self.T_mult > 1 and starts[-1] + lengths[-1] < 2**31 - 1:
            starts.append(starts[-1] + lengths[-1])
            lengths.append(lengths[-1] * self.T_mult)
        return starts, lengths

    def __call__(self, count):
        t = epoch_index(count, self.steps_per_epoch)
        if self.T_mult == 1:
            t_cur, t_i = t % self.T_0, self.T_0
        else:
            starts, lengths = self._restarts()
            cycle = sum((t >= s).astype(jnp.int32) for s in starts[1:])
            t_cur = t - jnp.asarray(starts, t.dtype)[cycle]
            t_i = jnp.asarray(lengths, jnp.result_type(float))[cycle]
        return self.eta_min + (self.lr - self.eta_min) * (1 + jnp.cos(math.pi * as_float(t_cur) / t_i)) / 2


@frozen
class OneCycleLR:
    """The 1cycle policy per update, as ``OneCycleLR``, with torch's phase boundaries.

    Warm-up from max_lr/div_factor to max_lr ends at step pct_start·T - 1, annealing to
    max_lr/(div_factor·final_div_factor) ends at T - 1 (``three_phase`` inserts a symmetric way back
    down to the initial lr first). ``momentum(count)`` gives the cycled momentum / β1 (max → base → max),
    which torch (cycle_momentum=True, the default) writes into the param group before every step. To
    train as torch does, pass it on: ``adam(lr=s, betas=(s.momentum, 0.999))`` (or adamw), and for SGD or
    RMSprop ``optax.inject_hyperparams(optim.sgd, static_args="lr")(lr=s, momentum=s.momentum)``; with a
    fixed momentum the trajectory differs from torch's. Differs from ``optax.cosine_onecycle_schedule`` (boundaries
    int(pct·T) and T, no momentum).
    Torch raises past total_steps; here counts past it keep the value at total_steps.
    """

    max_lr: float
    total_steps: int | None = None
    epochs: int | None = None
    steps_per_epoch: int | None = None
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    cycle_momentum: bool = True
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False

    def __post_init__(self):
        V.check_lr(self.max_lr, "max_lr")
        if self.total_steps is not None:
            V.check_positive_int("total_steps", self.total_steps)
        elif self.epochs is not None and self.steps_per_epoch is not None:
            V.check_positive_int("epochs", self.epochs)
            V.check_positive_int("steps_per_epoch", self.steps_per_epoch)
            object.__setattr__(self, "total_steps", self.epochs * self.steps_per_epoch)
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(self.pct_start, float) or not 0 <= self.pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {self.pct_start}")
        if self.anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {self.anneal_strategy}")
        start = 0.0
        for end, *_ in self._phases():
            if end == start:  # torch divides by zero here on its first step
                raise ValueError(f"OneCycleLR phase ending at step {end} has zero length: raise total_steps "
                                 f"({self.total_steps}) or pct_start ({self.pct_start})")
            start = end

    def _phases(self):
        """(end_step, start_lr, end_lr, start_momentum, end_momentum) per phase, as torch's _schedule_phases."""
        init = self.max_lr / self.div_factor
        low = init / self.final_div_factor
        top, base, T, p = self.max_momentum, self.base_momentum, self.total_steps, self.pct_start
        if self.three_phase:
            return [(float(p * T) - 1, init, self.max_lr, top, base),
                    (float(2 * p * T) - 2, self.max_lr, init, base, top),
                    (T - 1, init, low, top, top)]
        return [(float(p * T) - 1, init, self.max_lr, top, base), (T - 1, self.max_lr, low, base, top)]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (jnp.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _value(self, count, lo: int, hi: int):
        t = as_float(jnp.minimum(jnp.asarray(count), self.total_steps))
        phases = self._phases()
        conds, values, start = [], [], 0.0
        for end, *ends in phases:
            conds.append(t <= end)
            values.append(self._anneal(ends[lo], ends[hi], (t - start) / (end - start)))
            start = end
        conds[-1] = jnp.ones_like(conds[-1])  # torch: the last phase takes everything after
        return jnp.select(conds, values)

    def __call__(self, count):
        return self._value(count, 0, 1)

    def momentum(self, count):
        """The momentum (SGD, RMSprop) or β1 (Adam) torch sets for this count (needs cycle_momentum)."""
        if not self.cycle_momentum:
            raise ValueError("OneCycleLR.momentum needs cycle_momentum=True")
        return self._value(count, 2, 3)
