"""`jaxdl.nn.init`: torch.nn.init's initialisers as pure functions of a key.

Each ``name_(key, shape, ..., dtype=jnp.float32)`` returns a NEW array of ``shape`` drawn as torch's in-place
``torch.nn.init.name_(tensor, ...)`` fills one (the trailing underscore is kept so the names read as torch's).
Fans follow torch's layout, not JAX's: for a weight of shape (out, in, *kernel),
fan_in = in·∏kernel and fan_out = out·∏kernel (``_calculate_fan_in_and_fan_out``).
Keys come first, as in ``jax.nn.initializers``; ``zeros_``/``ones_``/``constant_`` ignore theirs (None is fine).
torch and JAX draw different random streams: the distributions are torch's, the values are not.
A shape with a zero dim gives an empty array (torch warns "Initializing zero-element tensors is a no-op").

Example:
  >>> import jax, math
  >>> from jaxdl.nn import init
  >>> w = init.kaiming_uniform_(jax.random.key(0), (8, 4, 3, 3), a=math.sqrt(5))  # torch's Conv2d weight init
  >>> w.shape, bool(abs(w).max() <= 1 / math.sqrt(4 * 3 * 3))
  ((8, 4, 3, 3), True)
  >>> round(init.calculate_gain("leaky_relu", 0.2), 4)
  1.3868
"""
from __future__ import annotations

import math
import numbers
import warnings

import jax
import jax.numpy as jnp

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_FAN_MODES = ("fan_in", "fan_out")


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain.

    linear/conv*/sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2/(1 + slope²)) with slope = param
    (default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}; expected one of "
                     f"{[*_LINEAR_FNS, 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu']}")


def _shape(shape) -> tuple[int, ...]:
    return tuple(shape.shape) if hasattr(shape, "shape") else tuple(shape)


def _calculate_fan_in_and_fan_out(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a torch-layout weight shape (out, in, *kernel): (in·∏kernel, out·∏kernel).

    Accepts a shape or an array. Raises for fewer than 2 dims, as torch does.
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {shape})")
    receptive_field_size = math.prod(shape[2:])
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def _calculate_correct_fan(shape, mode: str) -> int:
    mode = mode.lower()
    if mode not in _FAN_MODES:
        raise ValueError(f"Mode {mode} not supported, please use one of {list(_FAN_MODES)}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(key, shape, a=0.0, b=1.0, dtype=jnp.float32):
    """U(a, b), as torch.nn.init.uniform_ (defaults a=0, b=1)."""
    return jax.random.uniform(key, _shape(shape), dtype, minval=a, maxval=b)


def normal_(key, shape, mean=0.0, std=1.0, dtype=jnp.float32):
    """N(mean, std²), as torch.nn.init.normal_ (defaults mean=0, std=1)."""
    return mean + std * jax.random.normal(key, _shape(shape), dtype)


def trunc_normal_(key, shape, mean=0.0, std=1.0, a=-2.0, b=2.0, dtype=jnp.float32):
    """N(mean, std²) truncated to [a, b], as torch.nn.init.trunc_normal_.

    a and b are absolute cut-offs, not multiples of std (jax.random.truncated_normal's bounds are in std units:
    this converts). Differs from flax/jax's truncated initialisers: no variance correction, as torch.
    """
    if all(isinstance(v, numbers.Real) for v in (mean, std, a, b)) and (mean < a - 2 * std or mean > b + 2 * std):
        warnings.warn(f"trunc_normal_: mean={mean} lies more than 2·std={2 * std} outside [a, b] = [{a}, {b}]; "
                      "the values drawn may not follow the truncated normal", stacklevel=2)
    z = jax.random.truncated_normal(key, (a - mean) / std, (b - mean) / std, _shape(shape), dtype)
    return jnp.clip(mean + std * z, a, b)  # rounding in mean + std·z must not step outside [a, b]


def constant_(key, shape, val, dtype=jnp.float32):
    """Every entry ``val``, as torch.nn.init.constant_ (``key`` is unused)."""
    return jnp.full(_shape(shape), val, dtype)


def ones_(key, shape, dtype=jnp.float32):
    """Ones, as torch.nn.init.ones_ (``key`` is unused)."""
    return constant_(key, shape, 1, dtype)


def zeros_(key, shape, dtype=jnp.float32):
    """Zeros, as torch.nn.init.zeros_ (``key`` is unused)."""
    return constant_(key, shape, 0, dtype)


def xavier_uniform_(key, shape, gain=1.0, dtype=jnp.float32):
    """U(−bound, bound) with bound = gain·√3·√(2/(fan_in + fan_out)), as torch.nn.init.xavier_uniform_."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(key, shape, -bound, bound, dtype)


def xavier_normal_(key, shape, gain=1.0, dtype=jnp.float32):
    """N(0, std²) with std = gain·√(2/(fan_in + fan_out)), as torch.nn.init.xavier_normal_ (a plain normal)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
    return normal_(key, shape, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), dtype)


def _kaiming_std(shape, a, mode, nonlinearity) -> float:
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(shape, mode))


def kaiming_uniform_(key, shape, a=0, mode="fan_in", nonlinearity="leaky_relu", dtype=jnp.float32):
    """U(−bound, bound) with bound = √3·gain/√fan, as torch.nn.init.kaiming_uniform_.

    gain = calculate_gain(nonlinearity, a); fan = fan_in or fan_out (``mode``). ``a=√5`` is torch's
    Linear/Conv weight default: bound = 1/√fan_in.
    """
    shape = _shape(shape)
    if 0 in shape:
        return jnp.zeros(shape, dtype)
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)
    return uniform_(key, shape, -bound, bound, dtype)


def kaiming_normal_(key, shape, a=0, mode="fan_in", nonlinearity="leaky_relu", dtype=jnp.float32):
    """N(0, std²) with std = gain/√fan, as torch.nn.init.kaiming_normal_ (a plain normal, unlike jax's he_normal)."""
    shape = _shape(shape)
    if 0 in shape:
        return jnp.zeros(shape, dtype)
    return normal_(key, shape, 0.0, _kaiming_std(shape, a, mode, nonlinearity), dtype)


def orthogonal_(key, shape, gain=1, dtype=jnp.float32):
    """A (semi-)orthogonal matrix times gain, as torch.nn.init.orthogonal_; trailing dims flattened.

    Q of the QR of a (rows, numel/rows) standard normal (transposed when rows < cols), columns multiplied
    by sign(diag(R)) so Q is Haar-distributed.
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported (got shape {shape})")
    if math.prod(shape) == 0:
        return jnp.zeros(shape, dtype)
    rows = shape[0]
    cols = math.prod(shape) // rows
    flat = jax.random.normal(key, (rows, cols), dtype)
    if rows < cols:
        flat = flat.T  # (cols, rows)
    q, r = jnp.linalg.qr(flat)
    q = q * jnp.sign(jnp.diag(r))[None, :]
    if rows < cols:
        q = q.T  # (rows, cols)
    return (gain * q).reshape(shape).astype(dtype)
