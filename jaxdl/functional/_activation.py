"""Activations and softmax, as torch.nn.functional defines them (values and gradients).

``inplace=`` (relu, leaky_relu, silu, and the elu and hardtanh families) is accepted and has no effect: the
result is a new array with torch's values (checks.check_inplace).
Gradients at kinks follow torch: relu'(0) = 0, leaky_relu'(0) = negative_slope, relu'(NaN) = 1.
More activations: _smooth_activation.py (elu, softplus, mish, ...) and _hard_activation.py (hardtanh, ...).
"""
from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp

from jaxdl import amp
from jaxdl.checks import (check_choice, check_dim, check_floating, check_inplace, check_operand_dtypes,
                          promote_to_float, upcast_half)


def elementwise(name: str, forward, derivative, input):
    """``forward(input)`` whose derivative is ``derivative(input)``: torch's forward kernel and its
    ``*_backward`` formula written side by side, so values and gradients at kinks, NaN and ±inf are torch's
    (autodiff of a ``where`` would give 0·inf = NaN in the branch not taken). float16/bfloat16 are computed
    in float32 and rounded once, as torch's kernels do.
    """
    check_floating(name, input)
    x, restore = upcast_half(input)

    @jax.custom_jvp
    def fn(x):
        return forward(x)

    @fn.defjvp
    def _jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return fn(x), t * derivative(x)

    return restore(fn(x))


def relu(input, inplace: bool = False):
    """max(x, 0), as torch.nn.functional.relu: relu'(0) = 0 and relu'(NaN) = 1 (torch's threshold_backward
    zeroes the gradient only where x ≤ 0; jax.nn.relu gives 0 at NaN)."""
    check_inplace("relu", inplace)
    check_operand_dtypes("relu", input=input)  # torch: 'Boolean inputs not supported for relu'
    return jnp.where(input <= 0, jnp.zeros_like(input), input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x if x > 0 else negative_slope·x, as torch.nn.functional.leaky_relu.

    Differs from ``jax.nn.leaky_relu``: the derivative at 0 is negative_slope (torch), not 1.
    """
    check_inplace("leaky_relu", inplace)
    check_floating("leaky_relu", input)
    x, restore = upcast_half(input)  # float16/bfloat16: the slope product in float32, rounded once (torch)
    return restore(jnp.where(x > 0, x, x * negative_slope))


def gelu(input, approximate: str = "none"):
    """0.5·x·(1 + erf(x/√2)), or the tanh form when approximate='tanh', as torch.nn.functional.gelu.

    Differs from ``jax.nn.gelu``: the default is the exact erf form (jax defaults to tanh).
    float16/bfloat16 inputs are computed in float32 and rounded back, as torch's kernels do (in float16,
    x³ overflows for |x| ≳ 40 and x² for |x| ≥ 256, which made the tanh form's gradient NaN there).
    """
    check_choice("approximate", approximate, ("none", "tanh"))
    check_floating("gelu", input)
    x, restore = upcast_half(input)
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
        out = 0.5 * x * (1.0 + jnp.tanh(inner))
    else:
        out = 0.5 * x * (1.0 + jax.lax.erf(x * (1.0 / math.sqrt(2.0))))
    return restore(out)


def silu(input, inplace: bool = False):
    """x·σ(x), as torch.nn.functional.silu."""
    check_inplace("silu", inplace)
    check_floating("silu", input)
    x, restore = upcast_half(input)  # float16/bfloat16: computed in float32 and rounded once (torch's kernel)
    return restore(x * jax.nn.sigmoid(x))


def from_output(forward, tangent, input):
    """``forward(input)`` whose JVP is ``tangent(y, t)``, linear in t, of its *output* y, as torch's backward
    formulas of sigmoid, tanh, softmax and log_softmax take the output: for float16/bfloat16 the forward is
    computed in float32 and rounded once, and the gradient is computed in float32 from the rounded output and
    rounded once, so both equal torch's bit for bit (autodiff would use the unrounded float32 output).
    """
    @jax.custom_jvp
    def fn(x):
        x32, restore = upcast_half(x)
        return restore(forward(x32))

    @fn.defjvp
    def _jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        y = fn(x)
        y32, restore = upcast_half(y)
        return y, restore(tangent(y32, t.astype(y32.dtype)))

    return fn(input)


def sigmoid(input):
    """1 / (1 + e^-x), as torch.sigmoid; integer/bool inputs give float32, as in torch. Derivative y(1 − y)."""
    return from_output(jax.nn.sigmoid, lambda y, t: t * (y * (1 - y)), promote_to_float(input))


def tanh(input):
    """tanh(x), as torch.tanh; integer/bool inputs give float32, as in torch. Derivative 1 − y².

    For |x| ≥ 0.55, 1 − 2/(e^{2|x|} + 1) with x's sign: ≤ 1.5 float32 ulps where 1 − y² cancels (XLA's float32
    tanh is off by up to 4.5 ulps, torch's by 0.5; a saturated RNN's gradient shows the difference). Below 0.55,
    float32 takes the odd polynomial x + x³·P(x²) (``_TANH_P``: ≤ 0.8 ulps, and cheaper than XLA's rational
    tanh, which every element would compute beside the exponential), other dtypes XLA's tanh.
    """
    return from_output(_tanh, lambda y, t: t * (1 - y * y), promote_to_float(input))


# P(s), s = x², of tanh(x) ≈ x + x³·P(s) on |x| < 0.55: a minimax fit of the relative error (1e-9 in exact
# arithmetic; evaluated in float32 by Horner, ≤ 0.77 ulps over every 7th float32 of [0, 0.55])
_TANH_P = (-0.33333316445350647, 0.13332587480545044, -0.05385241657495499, 0.021072136238217354,
           -0.006274911109358072)


def _tanh(x):
    ax = jnp.abs(x)
    if x.dtype == jnp.float32:
        s = x * x
        p = functools.reduce(lambda acc, c: acc * s + c, _TANH_P[-2::-1], _TANH_P[-1])
        small = jnp.where(ax < 2.0 ** -12, x, x + x * s * p)  # tanh(x) rounds to x; XLA flushes x·s·p's subnormals
    else:
        small = jnp.tanh(x)
    return jnp.where(ax < 0.55, small, jnp.sign(x) * (1 - 2 / (jnp.exp(2 * ax) + 1)))


def _softmax_dim(name: str, ndim: int, dim):
    if dim is None:
        # torch's deprecated implicit choice (torch/nn/functional.py `_get_softmax_dim`), and its warning
        dim = 0 if ndim in (0, 1, 3) else 1
        warnings.warn(f"{name}: dim=None takes dim={dim} for a {ndim}-D input by torch's old rule, which torch "
                      "deprecates; pass dim= explicitly", UserWarning, stacklevel=4)
        return dim
    return check_dim(name, ndim, dim)


def softmax(input, dim: int | None = None, dtype=None):
    """exp(x_i) / Σ_j exp(x_j) along ``dim``, as torch.nn.functional.softmax (dim=None: torch's legacy rule).

    float16/bfloat16 inputs are computed in float32 and rounded once, as torch does.
    """
    return _normalized_exp("softmax", jax.nn.softmax, _softmax_jvp, input, dim, dtype)


def log_softmax(input, dim: int | None = None, dtype=None):
    """x_i − log Σ_j exp(x_j) along ``dim``, as torch.nn.functional.log_softmax (float16/bfloat16 computed in
    float32 and rounded once, as torch does)."""
    return _normalized_exp("log_softmax", jax.nn.log_softmax, lambda axis, _: _log_softmax_jvp(axis), input, dim,
                           dtype)


# JVPs from the output y along ``axis``, whose transposes are torch's backward formulas
def _softmax_jvp(axis, dtype):
    """u − y·Σu with u = y·t, i.e. y·(t − Σ t·y): symmetric, so also torch's softmax backward y·(g − Σ g·y). Written
    with y applied first so that its transpose (reverse mode) multiplies by y last, y·(g − Σ g·y), as torch rounds
    it; y·(t − Σ t·y) transposes to y·g − y·Σ g·y, which rounds differently where the two terms cancel.

    For a float32 ``dtype`` the projection v ↦ v − y·Σv is applied twice (equal in exact arithmetic, as
    Σy = 1): the backward is y·(δ − Σ δ·y) with δ = g − Σ g·y. Where a row nearly saturates (y_m ≈ 1) g_m − Σ g·y
    cancels to a few ulps of g_m, so the one-pass form keeps only rounding noise there (torch's float32 as well,
    to its luck); δ_m is exact and Σ δ·y sums small terms, which gives that difference to a few ulps of itself.
    A row that holds a weight of exactly 1 (the others below 2⁻²⁴) keeps torch's one pass: there the other
    weights' part of Σ g·y lies below float64's rounding too, and torch's gradient (also in float64) drops it.
    float64 keeps torch's one pass, as it is compared with torch's float64 element by element; float16/bfloat16
    too: their rounded y sums to 1 only within 2⁻⁸, and torch's gradient is the one-pass formula on that y.
    """
    twice = jnp.dtype(dtype) == jnp.float32

    def jvp(y, t):
        u = y * t
        u = u - y * jnp.sum(u, axis, keepdims=True)
        if not twice:
            return u
        saturated = jnp.any(y == 1, axis, keepdims=True)
        return u - jnp.where(saturated, 0, y) * jnp.sum(u, axis, keepdims=True)
    return jvp


def _log_softmax_jvp(axis):
    """t − Σ e^y·t, transposed torch's log_softmax backward g − e^y·Σ g."""
    return lambda y, t: t - jnp.sum(jnp.exp(y) * t, axis, keepdims=True)


def _normalized_exp(name, fn, jvp, input, dim, dtype):
    """softmax's and log_softmax's shared frame: ``fn`` (jax.nn's) along ``dim`` with torch's dtype rules, its
    derivative ``jvp(axis, dtype)`` (dtype: the computation's, after torch's casts) taken from the rounded output
    (from_output)."""
    if dtype is not None:
        input = input.astype(dtype)
    else:  # torch's fp32_set_opt_dtype: under autocast("cuda") computed in float32 unless dtype is given
        input, = amp.cast(name, input)
    check_floating(name, input)
    axis = _softmax_dim(name, jnp.ndim(input), dim)
    if jnp.ndim(input) == 0:  # torch treats a 0-d input as a single element along dim 0 or -1
        return _normalized_exp(name, fn, jvp, input[None], 0, None)[0]
    return from_output(functools.partial(fn, axis=axis), jvp(axis, input.dtype), input)
