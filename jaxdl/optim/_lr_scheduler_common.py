"""What every lr schedule shares: the frozen-dataclass form, torch's epoch index of an update count, the checks."""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from jaxdl import checks as V

frozen = dataclasses.dataclass(frozen=True)


def as_float(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def epoch_index(count, steps_per_epoch: int):
    """Torch's integer epoch t (scheduler steps taken) at update ``count``."""
    return jnp.asarray(count) // steps_per_epoch


def epoch(count, steps_per_epoch: int):
    """``epoch_index`` as a float."""
    return as_float(epoch_index(count, steps_per_epoch))


def check_common(lr, steps_per_epoch):
    """The base lr (as torch's optimizers check it) and a positive-int steps_per_epoch."""
    V.check_lr(lr)
    V.check_positive_int("steps_per_epoch", steps_per_epoch)


def check_lambda(scheduler: str, lr_lambda) -> None:
    """LambdaLR's and MultiplicativeLR's ``lr_lambda``: a function of the epoch."""
    if not callable(lr_lambda):
        raise TypeError(f"{scheduler}: lr_lambda must be a function of the epoch, got {lr_lambda!r}")
