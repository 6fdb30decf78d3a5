"""CyclicLR, as ``torch.optim.lr_scheduler.CyclicLR`` (Smith, "Cyclical Learning Rates"), re-exported by
jaxdl.optim.lr_scheduler."""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from jaxdl import checks as V
from jaxdl.optim._lr_scheduler_common import as_float

_MODES = ("triangular", "triangular2", "exp_range")


@dataclasses.dataclass(frozen=True)
class CyclicLR:
    """The lr cycles between base_lr and max_lr, per update, as ``torch.optim.lr_scheduler.CyclicLR``.

    cycle = ⌊1 + t/(up + down)⌋, x = 1 + t/(up + down) − cycle, rising for x ≤ up/(up + down);
    lr = base_lr + (max_lr − base_lr)·height(x)·scale, where scale is 1 ('triangular'), 1/2^(cycle−1)
    ('triangular2') or γ^t ('exp_range'), or ``scale_fn`` (a jnp function of the cycle, or of t when
    scale_mode='iterations'). ``momentum(count)`` is torch's cycled momentum (max → base → max).

    Momentum: torch cycles it by default (cycle_momentum=True) and raises for an optimizer without momentum
    or betas. A jaxdl schedule does not see its optimizer, so to train as torch does pass the momentum on:
    ``adam(lr=s, betas=(s.momentum, 0.999))``, or ``optax.inject_hyperparams(optim.sgd, static_args="lr")(lr=s,
    momentum=s.momentum)``; with an optimizer without momentum use cycle_momentum=False, as torch requires.
    One base_lr/max_lr per schedule: for torch's per-group lists build one schedule per group.
    """

    base_lr: float
    max_lr: float
    step_size_up: int = 2000
    step_size_down: int | None = None
    mode: str = "triangular"
    gamma: float = 1.0
    scale_fn: object = None
    scale_mode: str = "cycle"
    cycle_momentum: bool = True
    base_momentum: float = 0.8
    max_momentum: float = 0.9

    def __post_init__(self):
        V.check_lr(self.base_lr, "base_lr")
        V.check_lr(self.max_lr, "max_lr")
        if self.mode not in _MODES and self.scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if self.scale_fn is not None and not callable(self.scale_fn):
            raise TypeError(f"CyclicLR: scale_fn must be a function, got {self.scale_fn!r}")
        if self.scale_fn is None:  # torch: the mode decides the scale mode
            object.__setattr__(self, "scale_mode", "iterations" if self.mode == "exp_range" else "cycle")
        elif self.scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {self.scale_mode!r}")
        up = float(self.step_size_up)
        down = float(self.step_size_down) if self.step_size_down is not None else up
        if up + down <= 0 or up <= 0:
            raise ValueError(f"CyclicLR: step_size_up must be > 0 (got {self.step_size_up}) and the cycle "
                             f"nonempty (step_size_down={self.step_size_down})")

    def _sizes(self):
        up = float(self.step_size_up)
        total = up + (float(self.step_size_down) if self.step_size_down is not None else up)
        return total, up / total

    def _scale(self, x):
        if self.scale_fn is not None:
            return as_float(self.scale_fn(x))
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / 2.0 ** (x - 1)
        return self.gamma ** x

    def _height(self, count):
        """(scale_factor · scale) at update ``count``: torch's get_lr for last_epoch = count."""
        t = as_float(count)
        total, ratio = self._sizes()
        cycle = jnp.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        if ratio == 1.0:  # no way down: torch's (x - 1)/(ratio - 1) branch is never taken
            factor = x / ratio
        else:
            factor = jnp.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
        return factor * self._scale(cycle if self.scale_mode == "cycle" else t)

    def __call__(self, count):
        return self.base_lr + (self.max_lr - self.base_lr) * self._height(count)

    def momentum(self, count):
        """The momentum (SGD) or β1 (Adam) torch sets for this count (needs cycle_momentum)."""
        if not self.cycle_momentum:
            raise ValueError("CyclicLR.momentum needs cycle_momentum=True")
        return self.max_momentum - (self.max_momentum - self.base_momentum) * self._height(count)
