"""Argument checks shared by the functional ops (all run in Python, at call or trace time)."""
from __future__ import annotations

import jax
import numpy as np


def is_concrete(x) -> bool:
    """True when ``x`` holds values we can inspect now (not a tracer inside jit/grad/vmap)."""
    return not isinstance(x, jax.core.Tracer)


def concrete_values(x):
    """``x`` as a host numpy array when its values are known now, else None (a tracer).

    np.asarray, not np.min(x): a concrete jax.Array captured by a jitted function is still
    concrete, but jnp-style methods on it would be staged into the trace and fail.
    """
    return np.asarray(x) if is_concrete(x) else None


def check_probability(name: str, p, what: str = "probability") -> None:
    """torch's wording: 'dropout probability has to be between 0 and 1, but got 1.5'."""
    if is_concrete(p) and not (0.0 <= float(np.asarray(p)) <= 1.0):
        raise ValueError(f"{name} {what} has to be between 0 and 1, but got {float(np.asarray(p))}")


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")
