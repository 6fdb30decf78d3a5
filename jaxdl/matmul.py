"""torch.set_float32_matmul_precision for every jaxdl matmul, einsum, dot and convolution: the one place they run.

Every product in jaxdl goes through this module (``matmul.matmul``, ``matmul.einsum``, ``matmul.dot_general``,
``matmul.conv_general_dilated``), which passes ``precision=lax_precision()``, the ``jax.lax.Precision`` of the
setting in force (torch's names, torch's default "highest"):

    "highest"  Precision.HIGHEST  float32 products and sums (GPU: no TF32; TPU: 6 bfloat16 passes)
    "high"     Precision.HIGH     GPU: TensorFloat32 (10 mantissa bits); TPU: 3 bfloat16 passes (bf16_3x)
    "medium"   Precision.DEFAULT  GPU: TensorFloat32 as XLA's default; TPU: 1 bfloat16 pass

On CPU XLA computes float32 at every setting (as torch's CPU matmuls), so the setting only shows in the HLO's
``precision_config``. It applies to float32 operands; bfloat16/float16 (autocast) and float64 products ignore it.
torch applies its setting to matmuls only and lets cuDNN convolutions use TF32 (``torch.backends.cudnn.allow_tf32
= True``); jaxdl applies it to convolutions too, so a jaxdl conv at "highest" is at least as precise as torch's.

The setting is a ``jax.make_user_context`` value read while tracing: it is part of ``jax.jit``'s cache key, so a
function jitted under one setting is retraced (not reused) after ``set_float32_matmul_precision`` changes it, and
what was traced holds the precision it was traced with (pure: nothing is read at run time).
A new product op calls these functions instead of jnp.matmul / jnp.einsum / lax.conv_general_dilated.
"""
from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
from jax import lax

SETTINGS = ("highest", "high", "medium")  # torch.get_float32_matmul_precision's values
_LAX = {"highest": lax.Precision.HIGHEST, "high": lax.Precision.HIGH, "medium": lax.Precision.DEFAULT}

_SETTING = jax.make_user_context("highest")  # torch's default


def _check(precision) -> str:
    if precision not in SETTINGS:
        raise ValueError(f"float32 matmul precision must be one of {SETTINGS}; got {precision!r} "
                         "(torch warns and keeps its setting)")
    return precision


def set_float32_matmul_precision(precision: str) -> None:
    """``torch.set_float32_matmul_precision(precision)``: the internal precision of every float32 matmul, einsum
    and convolution jaxdl traces from now on ("highest", "high" or "medium"; see the module doc). An unknown name
    raises (torch warns and ignores it)."""
    _SETTING.set_global(_check(precision))


def get_float32_matmul_precision() -> str:
    """``torch.get_float32_matmul_precision()``: the setting in force ("highest" unless changed)."""
    return _SETTING.value


@contextlib.contextmanager
def float32_matmul_precision(precision: str):
    """The setting ``precision`` inside a ``with`` block (and for what is traced there), the previous one after."""
    with _SETTING(_check(precision)):
        yield


def lax_precision() -> lax.Precision:
    """The ``jax.lax.Precision`` of the setting in force, as every jaxdl product passes it."""
    return _LAX[_SETTING.value]


def matmul(a, b, preferred_element_type=None):
    """``jnp.matmul(a, b)`` at the float32 matmul precision in force."""
    return jnp.matmul(a, b, precision=lax_precision(), preferred_element_type=preferred_element_type)


def einsum(spec: str, *operands, preferred_element_type=None):
    """``jnp.einsum(spec, *operands)`` at the float32 matmul precision in force."""
    return jnp.einsum(spec, *operands, precision=lax_precision(), preferred_element_type=preferred_element_type)


def dot_general(a, b, dimension_numbers, preferred_element_type=None):
    """``lax.dot_general(a, b, dimension_numbers)`` at the float32 matmul precision in force."""
    return lax.dot_general(a, b, dimension_numbers, precision=lax_precision(),
                           preferred_element_type=preferred_element_type)


def conv_general_dilated(lhs, rhs, window_strides, padding, **kwargs):
    """``lax.conv_general_dilated(lhs, rhs, window_strides, padding, **kwargs)`` at the float32 matmul precision
    in force (torch leaves cuDNN convolutions at TF32; see the module doc)."""
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, precision=lax_precision(), **kwargs)
