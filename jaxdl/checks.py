"""Argument checks shared by every package (all run in Python, at call or trace time, never in traced code).

Array arguments of the functional ops and nn modules (dtype, probability, size), and optimizer and schedule
hyperparameters with torch.optim's wording. Values that are traced (an lr swept under ``jax.vmap``) or
schedules cannot be checked in Python and are let through; everything concrete is checked before any ``jnp``
work.
"""
from __future__ import annotations

import functools
import threading
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._rules import LR_ALLOWED, is_int, is_positive_int, is_valid_lr


def is_concrete(x) -> bool:
    """True when ``x`` holds values we can inspect now (not a tracer inside jit/grad/vmap)."""
    return not isinstance(x, jax.core.Tracer)


def concrete_values(x):
    """``x`` as a host numpy array when its values are known now, else None (a tracer).

    np.asarray, not np.min(x): a concrete jax.Array captured by a jitted function is still
    concrete, but jnp-style methods on it would be staged into the trace and fail.
    """
    return np.asarray(x) if is_concrete(x) else None


_validating = threading.local()  # on while ``validated`` traces its function


def check_traced(pred, message: str, *args, **kwargs) -> None:
    """A check of traced values (class indices under jit) that only ``validated`` can make: there it is
    ``jax.experimental.checkify.check(pred, message, *args, **kwargs)``; elsewhere it does nothing (the op's
    documented fallback, NaN, stands). ``message`` formats the traced ``args``/``kwargs`` as str.format."""
    if getattr(_validating, "on", False):
        from jax.experimental import checkify  # noqa: PLC0415

        checkify.check(pred, message, *args, **kwargs)


def validated(fn):
    """``fn`` jitted, with the value checks that jit cannot make in Python compiled in (jax.experimental.checkify):
    a class index out of range in cross_entropy/nll_loss or an embedding index out of [0, num_embeddings) then
    raises ``checkify.JaxRuntimeError`` (a ValueError) naming it, as the eager call raises, where plain
    ``jax.jit(fn)`` gives NaN. ``fn``'s arguments are traced: bind options first,
    ``validated(lambda x, y: F.cross_entropy(x, y, reduction="sum"))``. The checks cost a reduction per call.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxdl import functional as F
      >>> loss = validated(F.cross_entropy)
      >>> round(float(loss(jnp.zeros((2, 3)), jnp.array([0, 2]))), 4)
      1.0986
      >>> loss(jnp.zeros((2, 3)), jnp.array([0, 3]))  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      jax._src.checkify.JaxRuntimeError: cross_entropy: Target 3 is out of bounds: class indices must be in [0, 3) ...
    """
    from jax.experimental import checkify  # noqa: PLC0415

    def traced(*args, **kwargs):
        before = getattr(_validating, "on", False)
        _validating.on = True
        try:
            return fn(*args, **kwargs)
        finally:
            _validating.on = before

    checked = jax.jit(checkify.checkify(traced))

    @functools.wraps(fn)
    def run(*args, **kwargs):
        err, out = checked(*args, **kwargs)
        err.throw()
        return out

    return run


def check_probability(name: str, p, what: str = "probability") -> None:
    """A probability in [0, 1], as torch checks: 'dropout probability must be in [0, 1]; got 1.5'."""
    if is_concrete(p) and not (0.0 <= float(np.asarray(p)) <= 1.0):
        raise ValueError(f"{name} {what} must be in [0, 1]; got {float(np.asarray(p))}")


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


def check_operand_dtypes(name: str, /, **operands) -> None:
    """The operands of a torch kernel that neither promotes nor takes bool (linear, conv, relu): one dtype, not
    bool (None skipped). Raises TypeError naming each operand's dtype.

    torch: 'mat1 and mat2 must have the same dtype, but got Half and Float', 'Input type (float) and bias type
    (double) should be the same', '"addmm_impl_cpu_" not implemented for 'Bool'', 'Boolean inputs not supported
    for relu'; JAX would promote (float16 input, float32 weight -> float32) or compute on bools. Integer
    operands of one dtype pass: torch computes them (int64 linear and conv on CPU).
    """
    dtypes = {k: jnp.result_type(v) for k, v in operands.items() if v is not None}
    if len(set(dtypes.values())) > 1:
        raise TypeError(f"{name}: {', '.join(dtypes)} must have the same dtype (torch does not promote here); got "
                        + ", ".join(f"{k} {d}" for k, d in dtypes.items()))
    if any(d == jnp.bool_ for d in dtypes.values()):
        raise TypeError(f"{name}: bool {'/'.join(dtypes)} is not supported (torch raises for bool tensors here); "
                        "cast to a floating dtype")


def is_typed_key(x) -> bool:
    """Whether ``x`` is a typed PRNG key array (``jax.random.key``), of any shape."""
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def check_dim(name: str, ndim: int, dim: int) -> int:
    """``dim`` in torch's range [-max(ndim, 1), max(ndim, 1) - 1] (a 0-d input takes 0 and -1); returns it
    as a non-negative axis."""
    n = max(ndim, 1)
    if not is_int(dim):  # torch: "softmax(): argument 'dim' (position 1) must be int, not float"
        raise TypeError(f"{name}: dim must be an int; got {_shown(dim)}")
    if not -n <= dim < n:
        raise ValueError(f"{name}: dim must be in [{-n}, {n - 1}] for a {ndim}-D input; got {dim}")
    return dim % n


def check_same_shape(name: str, /, *, note: str = "", **arrays) -> None:
    """The named arrays have one shape, as torch's elementwise and pairwise losses need (jaxdl never broadcasts
    them): ``check_same_shape("mse_loss", input=x, target=y)`` raises 'mse_loss: input, target must have the
    same shape; got input (4, 1), target (4,)' followed by ``note``."""
    shapes = {k: tuple(jnp.shape(v)) for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"{name}: {', '.join(shapes)} must have the same shape; got "
                         + ", ".join(f"{k} {s}" for k, s in shapes.items()) + note)


def broadcast(name: str, /, **arrays) -> tuple:
    """The named arrays broadcast to one shape, as torch's elementwise ops broadcast (numpy's rule, done here
    explicitly, so JAX's rank_promotion='raise' holds inside): a ValueError naming the shapes where they do not."""
    shapes = {k: tuple(jnp.shape(v)) for k, v in arrays.items()}
    try:
        shape = np.broadcast_shapes(*shapes.values())
    except ValueError:
        raise ValueError(f"{name}: {', '.join(shapes)} must broadcast to one shape; got "
                         + ", ".join(f"{k} {s}" for k, s in shapes.items())) from None
    return tuple(jnp.broadcast_to(v, shape) for v in arrays.values())


REDUCTIONS = ("none", "mean", "sum")  # torch's reduction= values (torch/nn/_reduction.py, get_enum)
KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")  # kl_div's


def check_reduction(name: str, reduction, allowed=REDUCTIONS) -> None:
    """Raise ValueError naming the bad value and the allowed ones (torch: '... is not a valid value for reduction')."""
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; "
                         f"expected one of {', '.join(repr(a) for a in allowed)}")


def ntuple(name: str, value, n: int, what: str = "") -> tuple:
    """An int or an n-sequence of ints as an n-tuple (torch's ``_pair``/``_single``), else a one-line ValueError."""
    if isinstance(value, int):
        return (value,) * n
    out = tuple(value)
    if len(out) == 1:
        out = out * n
    if len(out) != n or not all(isinstance(v, int) for v in out):
        raise ValueError(f"{what or name}: expected {name} to be a single integer value or a list of {n} values to "
                         f"match the {n}d dimensions, but got {name}={value!r}")
    return out


def check_channel_vectors(name: str, input, **vectors) -> int:
    """Each (C,) vector (weight, bias, running stats; None skipped) matches the channel axis 1 of ``input``;
    returns C (0 for a 1-D empty input, as torch's batch_norm)."""
    c = 0 if jnp.ndim(input) == 1 and jnp.size(input) == 0 else jnp.shape(input)[1]
    for what, v in vectors.items():
        if v is not None and tuple(jnp.shape(v)) != (c,):
            raise ValueError(f"{name}: {what} must have shape ({c},) for input {tuple(jnp.shape(input))}; "
                             f"got {tuple(jnp.shape(v))}")
    return c


def promote_to_float(x):
    """Integer/bool -> float32, as torch's unary float ops (sigmoid, tanh) promote to the default dtype."""
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)


def promote(*arrays):
    """``arrays`` cast to their common dtype (None and Python numbers passed through: they stay weakly typed), as
    torch's binary ops promote (float32 with an int gives float32; float16 with float32 gives float32). The cast is
    explicit, so the op computes the same when a user turns on ``jax_numpy_dtype_promotion="strict"``; the common
    dtype is JAX's standard lattice."""
    given = [a for a in arrays if a is not None]
    with jax.numpy_dtype_promotion("standard"):
        dtype = jnp.result_type(*given)
    return tuple(a if a is None or isinstance(a, (int, float, complex)) else jnp.asarray(a).astype(dtype)
                 for a in arrays)


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
    """A layer size (in_features, out_features, ...): an int ≥ 0, as torch's constructors need.

    torch fails later, inside ``torch.empty`` ("Trying to create tensor with negative dimension -1"); JAX
    would fail in MLIR. This names the argument instead: 'Linear: in_features must be an int ≥ 0; got -1'.
    """
    if not is_int(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be an int ≥ 0; got {_shown(value)}")


def check_positive_int(name: str, value: Any) -> None:
    """A count that must be at least 1 (batch_size, epochs, groups, num_heads, step_size, ...): an int ≥ 1.

    The one rule for every such argument in jaxdl: a bool is refused (``True`` would otherwise pass as 1),
    as are floats (``2.0``) and values < 1: 'batch_size must be an int ≥ 1; got True (bool)'.
    """
    if not is_positive_int(value):
        raise ValueError(f"{name} must be an int ≥ 1; got {_shown(value)}")


def _shown(value) -> str:
    """``repr(value)``, with its type when that is not a plain int (``True (bool)``, ``2.0 (float)``)."""
    return repr(value) if type(value) is int else f"{value!r} ({type(value).__name__})"


def check_inplace(name: str, inplace) -> None:
    """torch's ``inplace=`` flag, one rule for every F op and nn module that takes it: True or False, no effect.

    JAX arrays are immutable, so the op always returns a new array; its values are those torch's in-place op
    writes (``y = F.relu(x, inplace=True)`` and ``nn.ReLU(inplace=True)`` port unchanged), and ``x`` is left
    as it was (torch code that reads ``x`` after an in-place op must read the result instead).
    """
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"{name}: inplace must be True or False; got {inplace!r} ({type(inplace).__name__})")


# --- optimizer and schedule hyperparameters (torch.optim's messages) -------------------------------------------
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


def check_lr(lr: Any, name: str = "lr") -> None:
    """The one lr rule (``jaxdl._rules``, which the config's optim.lr follows too), in the config's words:
    'lr = -0.1 is not allowed: expected a number ≥ 0 (torch.optim refuses only lr < 0)'."""
    if not callable(lr) and getattr(lr, "ndim", 0) > 0:  # torch: "Tensor lr must be 1-element"
        raise ValueError(f"{name} must be a number or a 0-d array, got an array of shape {tuple(lr.shape)}")
    v = concrete(lr)
    if v is not None and not is_valid_lr(v):
        raise ValueError(f"{name} = {lr} is not allowed: expected {LR_ALLOWED}")


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

