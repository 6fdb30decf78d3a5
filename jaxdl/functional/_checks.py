"""Argument checks shared by the functional ops (all run in Python, at call or trace time)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
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


def check_floating(name: str, x, what: str = "input") -> None:
    """Raise TypeError for an integer or bool array where torch's kernel is float-only.

    torch raises there (e.g. '"log_softmax_lastdim_kernel_impl" not implemented for 'Long''); JAX would
    silently promote the integers to float and return a value torch never gives.
    """
    dtype = jnp.result_type(x)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"{name}: {what} must be a floating-point array (torch raises for integer and bool "
                        f"tensors here); got dtype {dtype}")


def promote_to_float(x):
    """Integer/bool -> float32, as torch's unary float ops (sigmoid, tanh) promote to the default dtype."""
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)


def upcast_half(x):
    """``(x32, restore)``: torch's kernels compute float16/bfloat16 inputs in float32 ("opmath") and round the
    result once, back to the input's dtype (also when the parameters are float32: torch's CPU "mixed type").

    For other dtypes ``x32`` is ``x`` and ``restore`` the identity (the usual promotion applies).
    """
    dtype = jnp.result_type(x)
    if dtype not in (jnp.float16, jnp.bfloat16):
        return x, lambda out: out
    return x.astype(jnp.float32), lambda out: out.astype(dtype)


def check_size(owner: str, name: str, value) -> None:
    """A layer size (in_features, out_features, ...): a Python int ≥ 0, as torch's constructors need.

    torch fails later, inside ``torch.empty`` ("Trying to create tensor with negative dimension -1"); JAX
    would fail in MLIR. This names the argument instead: 'Linear: in_features must be an int ≥ 0; got -1'.
    """
    if not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{owner}: {name} must be an int ≥ 0; got {value!r}")
