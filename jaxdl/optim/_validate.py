"""Hyperparameter checks with torch.optim's wording, run when an optimizer or schedule is built.

Values that are traced (an lr swept under ``jax.vmap``) or schedules cannot be checked in Python and are
let through; everything concrete is checked before any ``jnp`` work.
"""
from __future__ import annotations

import math
from typing import Any


def concrete(x: Any) -> float | None:
    """``float(x)`` for a concrete number or 0-d array; None for a tracer, a schedule or an array."""
    if callable(x):
        return None
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"expected a number, got {type(x).__name__} {x!r}")
    try:
        return float(x)
    except TypeError:  # tracers (ConcretizationTypeError is a TypeError) and non-scalar arrays
        return None


def is_zero(x: Any) -> bool:
    """True only for a Python 0, whose transform can be left out of the chain.

    Arrays keep it (as a no-op), so the chain's structure never depends on array values: with
    ``optax.inject_hyperparams`` init sees concrete arrays and update sees tracers of the same values.
    """
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0


def check_nonneg(name: str, value: Any, label: str | None = None) -> None:
    """torch's ``if not 0.0 <= value: raise ValueError(f"Invalid {label}: {value}")``."""
    v = concrete(value)
    if v is not None and not 0.0 <= v:
        raise ValueError(f"Invalid {label or name + ' value'}: {value}")


def check_lr(lr: Any) -> None:
    check_nonneg("lr", lr, "learning rate")


def check_eps(eps: Any) -> None:
    check_nonneg("eps", eps, "epsilon value")


def check_betas(betas: Any) -> None:
    """torch adam.py: each beta in [0, 1), message names the index."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        v = concrete(b)
        if v is not None and not 0.0 <= v < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


def check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Expected positive integer {name}, but got {value!r}")


def check_finite(name: str, value: Any) -> None:
    v = concrete(value)
    if v is not None and not math.isfinite(v):
        raise ValueError(f"Invalid {name} value: {value}")
