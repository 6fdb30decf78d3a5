"""Learning-rate schedules that mirror ``torch.optim.lr_scheduler``, as Optax schedules.

Each is a frozen, hashable dataclass; ``schedule(count)`` is the lr of the update with that index (the
optimizer's count starts at 0), i.e. torch's ``get_last_lr()`` after ``count`` calls to ``step()``.
Torch takes the base lr from the optimizer; here it is the first field. Per-epoch schedules take
``steps_per_epoch=``: with k updates per epoch, torch's epoch t is ``count // k``.

    >>> from jaxdl.optim.lr_scheduler import StepLR
    >>> [round(float(StepLR(0.1, step_size=2, gamma=0.5)(t)), 6) for t in range(5)]
    [0.1, 0.1, 0.05, 0.05, 0.025]
"""
from __future__ import annotations

import dataclasses
import math
import jax.numpy as jnp

from jaxdl import checks as V

__all__ = ["LambdaLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
           "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "SequentialLR",
           "MultiplicativeLR", "CyclicLR", "ChainedScheduler"]

_frozen = dataclasses.dataclass(frozen=True)


def _float(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _epoch_index(count, steps_per_epoch: int):
    """Torch's integer epoch t (scheduler steps taken) at update ``count``."""
    return jnp.asarray(count) // steps_per_epoch


def _epoch(count, steps_per_epoch: int):
    return _float(_epoch_index(count, steps_per_epoch))


def _check_common(lr, steps_per_epoch):
    V.check_lr(lr)
    V.check_positive_int("steps_per_epoch", steps_per_epoch)


@_frozen
class LambdaLR:
    """lr·lr_lambda(t), as ``torch.optim.lr_scheduler.LambdaLR``.

    ``lr_lambda`` receives the epoch t as a traced integer array, so write it with jnp / operators
    (``lambda t: jnp.minimum(1.0, (t + 1) / 10)``, not Python's ``min``). One function for all parameters:
    torch's per-param-group list of lambdas has no counterpart here (build one schedule per group instead).
    """

    lr: float
    lr_lambda: object
    steps_per_epoch: int = 1

    def __post_init__(self):
        _check_common(self.lr, self.steps_per_epoch)
        if not callable(self.lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got {self.lr_lambda!r}")

    def __call__(self, count):
        t = _epoch_index(count, self.steps_per_epoch)
        return self.lr * _float(self.lr_lambda(t))


@_frozen
class StepLR:
    """lr·γ^⌊t/step_size⌋, as ``torch.optim.lr_scheduler.StepLR`` (t = count // steps_per_epoch)."""

    lr: float
    step_size: int
    gamma: float = 0.1
    steps_per_epoch: int = 1

    def __post_init__(self):
        _check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("step_size", self.step_size)

    def __call__(self, count):
        return self.lr * jnp.power(self.gamma, jnp.floor(_epoch(count, self.steps_per_epoch) / self.step_size))


@_frozen
class MultiStepLR:
    """lr·γ^(number of milestones ≤ t), as ``MultiStepLR`` (a repeated milestone counts twice, as torch's Counter)."""

    lr: float
    milestones: tuple
    gamma: float = 0.1
    steps_per_epoch: int = 1

    def __post_init__(self):
        _check_common(self.lr, self.steps_per_epoch)
        object.__setattr__(self, "milestones", tuple(sorted(int(m) for m in self.milestones)))

    def __call__(self, count):
        t = _epoch(count, self.steps_per_epoch)
        passed = sum((t >= m).astype(t.dtype) for m in self.milestones) if self.milestones else 0.0
        return self.lr * jnp.power(self.gamma, passed)


@_frozen
class ExponentialLR:
    """lr·γ^t, as ``ExponentialLR``."""

    lr: float
    gamma: float
    steps_per_epoch: int = 1

    def __post_init__(self):
        _check_common(self.lr, self.steps_per_epoch)

    def __call__(self, count):
        return self.lr * jnp.power(self.gamma, _epoch(count, self.steps_per_epoch))


@_frozen
class PolynomialLR:
    """lr·(1 - min(t, total_iters)/total_iters)^power, as ``PolynomialLR`` (defaults total_iters = 5, power = 1)."""

    lr: float
    total_iters: int = 5
    power: float = 1.0
    steps_per_epoch: int = 1

    def __post_init__(self):
        _check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("total_iters", self.total_iters)

    def __call__(self, count):
        t = jnp.minimum(_epoch(count, self.steps_per_epoch), self.total_iters)
        # (T - t)/T rather than 1 - t/T: XLA turns /T into ·(1/T), and in float32 1 - T·(1/T) can be -1e-8,
        # which a fractional power makes NaN; T - t is an exact integer, 0 at the end as torch's.
        return self.lr * jnp.power((self.total_iters - t) / self.total_iters, self.power)


@_frozen
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
        _check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("T_max", self.T_max)

    def __call__(self, count):
        t = _epoch(count, self.steps_per_epoch)
        return self.eta_min + (self.lr - self.eta_min) * (1 + jnp.cos(math.pi * t / self.T_max)) / 2


@_frozen
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
        _check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("T_0", self.T_0)
        if isinstance(self.T_mult, bool) or not isinstance(self.T_mult, int) or self.T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {self.T_mult}")
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
        t = _epoch_index(count, self.steps_per_epoch)
        if self.T_mult == 1:
            t_cur, t_i = t % self.T_0, self.T_0
        else:
            starts, lengths = self._restarts()
            cycle = sum((t >= s).astype(jnp.int32) for s in starts[1:])
            t_cur = t - jnp.asarray(starts, t.dtype)[cycle]
            t_i = jnp.asarray(lengths, jnp.result_type(float))[cycle]
        return self.eta_min + (self.lr - self.eta_min) * (1 + jnp.cos(math.pi * _float(t_cur) / t_i)) / 2


@_frozen
class ConstantLR:
    """lr·factor for t < total_iters, then lr, as ``ConstantLR`` (defaults factor = 1/3, total_iters = 5)."""

    lr: float
    factor: float = 1.0 / 3
    total_iters: int = 5
    steps_per_epoch: int = 1

    def __post_init__(self):
        _check_common(self.lr, self.steps_per_epoch)
        if not 0.0 <= self.factor <= 1.0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        if isinstance(self.total_iters, bool) or not isinstance(self.total_iters, int) or self.total_iters < 0:
            raise ValueError(f"Expected non-negative integer total_iters, but got {self.total_iters!r}")

    def __call__(self, count):
        t = _epoch(count, self.steps_per_epoch)
        return self.lr * jnp.where(t < self.total_iters, self.factor, 1.0)


@_frozen
class LinearLR:
    """lr·(s + (e - s)·min(t, total_iters)/total_iters), as ``LinearLR`` (defaults s = 1/3, total_iters = 5)."""

    lr: float
    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5
    steps_per_epoch: int = 1

    def __post_init__(self):
        _check_common(self.lr, self.steps_per_epoch)
        if self.start_factor > 1.0 or self.start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if self.end_factor > 1.0 or self.end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        V.check_positive_int("total_iters", self.total_iters)

    def __call__(self, count):
        frac = jnp.minimum(_epoch(count, self.steps_per_epoch), self.total_iters) / self.total_iters
        return self.lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


@_frozen
class OneCycleLR:
    """The 1cycle policy per update, as ``OneCycleLR``, with torch's phase boundaries.

    Warm-up from max_lr/div_factor to max_lr ends at step pct_start·T - 1, annealing to
    max_lr/(div_factor·final_div_factor) ends at T - 1 (``three_phase`` inserts a symmetric way back
    down to the initial lr first). ``momentum(count)`` gives the cycled momentum / β1 (max → base → max),
    which torch (cycle_momentum=True, the default) writes into the param group before every step. To
    train as torch does, pass it on: ``adam(lr=s, betas=(s.momentum, 0.999))`` (or adamw), and for SGD or
    RMSprop ``optax.inject_hyperparams(optim.sgd)(lr=s, momentum=s.momentum)``; with a fixed momentum the
    trajectory differs from torch's. Differs from ``optax.cosine_onecycle_schedule`` (boundaries
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
        V.check_lr(self.max_lr)
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
        t = _float(jnp.minimum(jnp.asarray(count), self.total_steps))
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


@_frozen
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
        values = [_float(s(count - m * self.steps_per_epoch)) for s, m in zip(self.schedulers, starts)]
        conds = [t >= m for m in starts]
        return jnp.select(conds[::-1], values[::-1])



# Defined in their own files (they use the helpers above), re-exported here under torch's module path.
from jaxdl.optim._lr_scheduler_chained import ChainedScheduler, MultiplicativeLR  # noqa: E402
from jaxdl.optim._lr_scheduler_cyclic import CyclicLR  # noqa: E402
