"""Schedules of schedules and products, as ``torch.optim.lr_scheduler``'s: SequentialLR, MultiplicativeLR and
ChainedScheduler. Re-exported by jaxdl.optim.lr_scheduler."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl import checks as V
from jaxdl.optim._lr_scheduler_common import as_float, check_common, check_lambda, epoch_index, frozen
from jaxdl.optim._lr_scheduler_decay import (ConstantLR, ExponentialLR, LinearLR, MultiStepLR, PolynomialLR,
                                             StepLR)


@frozen
class SequentialLR:
    """Schedule i from milestone i-1 on, restarted at 0 there, as ``SequentialLR``.

    Milestones count scheduler steps (epochs when steps_per_epoch > 1); each sub-schedule receives the
    update count since its own start, so give sub-schedules the same steps_per_epoch.
    """

    schedulers: tuple
    milestones: tuple
    steps_per_epoch: int = 1

    def __post_init__(self):
        object.__setattr__(self, "schedulers", tuple(self.schedulers))
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))
        V.check_positive_int("steps_per_epoch", self.steps_per_epoch)
        if not self.schedulers:
            raise ValueError("SequentialLR expects at least one scheduler, but got no scheduler.")
        if len(self.milestones) != len(self.schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be one more than "
                             f"the number of milestone points, but got number of schedulers {len(self.schedulers)} "
                             f"and the number of milestones to be equal to {len(self.milestones)}")
        for i, s in enumerate(self.schedulers):
            if not callable(s):
                raise TypeError(f"SequentialLR scheduler {i} must be a schedule (callable of the count), got {s!r}")
        if list(self.milestones) != sorted(self.milestones):
            raise ValueError(f"SequentialLR milestones must be increasing, got {self.milestones}")

    def __call__(self, count):
        count = jnp.asarray(count)
        t = count // self.steps_per_epoch
        starts = (0,) + self.milestones
        values = [as_float(s(count - m * self.steps_per_epoch)) for s, m in zip(self.schedulers, starts)]
        conds = [t >= m for m in starts]
        return jnp.select(conds[::-1], values[::-1])


@dataclasses.dataclass(frozen=True)
class MultiplicativeLR:
    """lr·Π_{k=1..t} lr_lambda(k), as ``torch.optim.lr_scheduler.MultiplicativeLR`` (each step multiplies the
    lr by lr_lambda(epoch); t = count // steps_per_epoch).

    ``lr_lambda`` receives the epoch as a traced integer (write it with jnp). The product is a loop of t
    steps per call (jax.lax.fori_loop): for a constant factor γ use ExponentialLR(lr, γ), which is closed-form.
    """

    lr: float
    lr_lambda: object
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        check_lambda("MultiplicativeLR", self.lr_lambda)

    def _factor(self, t):
        return jax.lax.fori_loop(1, t + 1, lambda k, acc: acc * jnp.asarray(self.lr_lambda(k), acc.dtype),
                                 as_float(1.0))

    def __call__(self, count):
        t = epoch_index(count, self.steps_per_epoch)
        return self.lr * jnp.vectorize(self._factor)(t)  # elementwise in count, as every schedule


# Torch chains schedulers through their recursive ("chainable") forms, each multiplying the group's current
# lr by its own step ratio; for these that is lr · Π_i (schedule_i(t) / lr), computed here in closed form.
_MULTIPLICATIVE = (StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR,
                   MultiplicativeLR)


@dataclasses.dataclass(frozen=True)
class ChainedScheduler:
    """Every schedule stepped together, their factors multiplied, as ``torch.optim.lr_scheduler.ChainedScheduler``
    (e.g. a ConstantLR warm-up with ExponentialLR decay): lr(t) = lr · Π_i schedule_i(t)/lr.

    The schedules must share one base lr (torch: one optimizer) and be multiplicative (StepLR, MultiStepLR,
    ConstantLR, LinearLR, ExponentialLR, PolynomialLR, MultiplicativeLR). Torch's recursive CosineAnnealingLR,
    and the closed-form LambdaLR/OneCycleLR/CyclicLR that overwrite the lr, do not chain as a product: they
    raise TypeError here.
    """

    schedulers: tuple

    def __post_init__(self):
        object.__setattr__(self, "schedulers", tuple(self.schedulers))
        if not self.schedulers:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, but got no scheduler.")
        for i, s in enumerate(self.schedulers):
            if not isinstance(s, _MULTIPLICATIVE):
                raise TypeError(f"ChainedScheduler: scheduler {i} ({type(s).__name__}) is not multiplicative; "
                                f"expected one of {', '.join(c.__name__ for c in _MULTIPLICATIVE)}")
        lrs = [s.lr for s in self.schedulers]
        if all(isinstance(v, (int, float)) for v in lrs) and len(set(lrs)) > 1:
            raise ValueError(f"ChainedScheduler expects all schedulers to share one base lr (one optimizer), got {lrs}")

    def __call__(self, count):
        factors = [dataclasses.replace(s, lr=1.0)(count) for s in self.schedulers]  # each schedule's own factor
        out = self.schedulers[0].lr * factors[0]
        for f in factors[1:]:
            out = out * f
        return out
