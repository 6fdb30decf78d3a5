"""Decays and warm-ups, as ``torch.optim.lr_scheduler``'s: LambdaLR, StepLR, MultiStepLR, ExponentialLR,
PolynomialLR, ConstantLR, LinearLR (each a closed form of the epoch t = count // steps_per_epoch).
Re-exported by jaxdl.optim.lr_scheduler."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl import checks as V
from jaxdl.optim._lr_scheduler_common import as_float, check_common, check_lambda, epoch, epoch_index, frozen


@frozen
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
        check_common(self.lr, self.steps_per_epoch)
        check_lambda("LambdaLR", self.lr_lambda)

    def __call__(self, count):
        t = epoch_index(count, self.steps_per_epoch)
        return self.lr * as_float(self.lr_lambda(t))


@frozen
class StepLR:
    """lr·γ^⌊t/step_size⌋, as ``torch.optim.lr_scheduler.StepLR`` (t = count // steps_per_epoch)."""

    lr: float
    step_size: int
    gamma: float = 0.1
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("step_size", self.step_size)

    def __call__(self, count):
        return self.lr * jnp.power(self.gamma, jnp.floor(epoch(count, self.steps_per_epoch) / self.step_size))


@frozen
class MultiStepLR:
    """lr·γ^(number of milestones ≤ t), as ``MultiStepLR`` (a repeated milestone counts twice, as torch's Counter)."""

    lr: float
    milestones: tuple
    gamma: float = 0.1
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        object.__setattr__(self, "milestones", tuple(sorted(int(m) for m in self.milestones)))

    def __call__(self, count):
        t = epoch(count, self.steps_per_epoch)
        passed = sum((t >= m).astype(t.dtype) for m in self.milestones) if self.milestones else 0.0
        return self.lr * jnp.power(self.gamma, passed)


@frozen
class ExponentialLR:
    """lr·γ^t, as ``ExponentialLR``."""

    lr: float
    gamma: float
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)

    def __call__(self, count):
        return self.lr * jnp.power(self.gamma, epoch(count, self.steps_per_epoch))


@frozen
class PolynomialLR:
    """lr·(1 - min(t, total_iters)/total_iters)^power, as ``PolynomialLR`` (defaults total_iters = 5, power = 1)."""

    lr: float
    total_iters: int = 5
    power: float = 1.0
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        V.check_positive_int("total_iters", self.total_iters)

    def __call__(self, count):
        t = jnp.minimum(epoch(count, self.steps_per_epoch), self.total_iters)
        # (T - t)/T rather than 1 - t/T: XLA turns /T into ·(1/T), and in float32 1 - T·(1/T) can be -1e-8,
        # which a fractional power makes NaN; T - t is an exact integer, 0 at the end as torch's.
        return self.lr * jnp.power((self.total_iters - t) / self.total_iters, self.power)


@frozen
class ConstantLR:
    """lr·factor for t < total_iters, then lr, as ``ConstantLR`` (defaults factor = 1/3, total_iters = 5)."""

    lr: float
    factor: float = 1.0 / 3
    total_iters: int = 5
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        if not 0.0 <= self.factor <= 1.0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        if isinstance(self.total_iters, bool) or not isinstance(self.total_iters, int) or self.total_iters < 0:
            raise ValueError(f"Expected non-negative integer total_iters, but got {self.total_iters!r}")

    def __call__(self, count):
        t = epoch(count, self.steps_per_epoch)
        return self.lr * jnp.where(t < self.total_iters, self.factor, 1.0)


@frozen
class LinearLR:
    """lr·(s + (e - s)·min(t, total_iters)/total_iters), as ``LinearLR`` (defaults s = 1/3, total_iters = 5)."""

    lr: float
    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        if self.start_factor > 1.0 or self.start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if self.end_factor > 1.0 or self.end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        V.check_positive_int("total_iters", self.total_iters)

    def __call__(self, count):
        frac = jnp.minimum(epoch(count, self.steps_per_epoch), self.total_iters) / self.total_iters
        return self.lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)
