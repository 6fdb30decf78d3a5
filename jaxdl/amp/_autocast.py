"""Automatic mixed precision as ``torch.autocast``: each op computes in the dtype torch's autocast op lists give it.

Inside ``with jaxdl.amp.autocast(device_type, dtype):`` (traced code: enter it inside the function you jit)
- **lower-precision ops** (torch's ``lower_precision_fp`` list): linear, conv*, conv_transpose*, prelu and
  scaled_dot_product_attention (also the attention inside nn.MultiheadAttention and nn.GPT). Their floating
  inputs, weights included, are cast to ``dtype``; products are summed in float32 and the result (bias added)
  is rounded once to ``dtype``, as torch's oneDNN / cuBLAS / flash-attention kernels do; their gradients are
  computed in ``dtype`` too, as torch's backward of those ops.
- **float32 ops** (torch's ``fp32`` lists, which differ by device, see FP32): floating inputs are cast to
  float32, the result is float32. On "cuda" that is softmax, log_softmax, layer_norm, group_norm, softplus,
  cosine_similarity and the losses; on "cpu" the losses and reflect/replicate padding only.
- **every other op** runs in the dtype its inputs promote to (torch's fallthrough): a float32 residual stream
  stays float32, and a BatchNorm after a bfloat16 Linear normalises in float32 and returns bfloat16 (torch's
  mixed-type kernels).
float64 inputs are never cast (torch: not eligible). Parameters stay float32, "master weights": the casts are
traced inside the step, so gradients come back in float32 and the optimizer updates float32 params and state,
as with torch's autocast on a float32 model.

The active policy is a ``jax.make_user_context`` value, part of jit's cache key: a function traced under one
policy is retraced under another, never reused.

Rounding: jit with ``compiler_options=EXACT_ROUNDING`` (fit does for "bf16-mixed") and every op's output is
rounded where torch rounds it; XLA's default may keep float32 between ops ("excess precision": a little more
accurate than torch, not bit-equal). torch also caches the low-precision copy of a float32 leaf parameter within
an autocast region, so a weight used by several lower-precision ops sums its gradient in the low dtype; jaxdl
casts at each use and sums in float32, as torch's ``cache_enabled=False``. Composite ops torch decomposes into
listed ones (F.normalize, F.pairwise_distance, F.mish, F.gaussian_nll_loss on "cuda") are not special-cased:
they run at the promoted dtype.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from jaxdl._rules import PRECISIONS

DEVICE_TYPES = ("cpu", "cuda")
DEFAULT_DTYPE = {"cpu": "bfloat16", "cuda": "float16"}  # torch.get_autocast_dtype's defaults

# torch/aten/src/ATen/autocast_mode.{h,cpp}: the jaxdl functions on each list (op names as torch's F.*).
LOWER = frozenset({"linear", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "prelu",
                   "scaled_dot_product_attention"})
# The one table of the ops that run in the low dtype (bfloat16 or float16 alike, as torch's lists), per device:
# torch's CUDA list also has the RNN cells (lstm_cell, gru_cell, rnn_tanh_cell, rnn_relu_cell); a jaxdl RNN cell
# passes its op name to ``cast``/``bilinear`` and is lowered on "cuda" only, as torch. torch's CPU runs nn.LSTM
# through mkldnn_rnn_layer, which is on its CPU list (jaxdl.functional.rnn's oneDNN LSTM layer asks for it).
LOWER_BY_DEVICE = {"cuda": LOWER | {"lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"},
                   "cpu": LOWER | {"mkldnn_rnn_layer"}}
_LOSSES = frozenset({"nll_loss", "cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
                     "smooth_l1_loss", "huber_loss", "kl_div", "cosine_embedding_loss", "hinge_embedding_loss",
                     "poisson_nll_loss", "margin_ranking_loss", "triplet_margin_loss", "multi_margin_loss"})
FP32 = {
    "cuda": _LOSSES | {"softmax", "log_softmax", "layer_norm", "group_norm", "softplus", "cosine_similarity"},
    "cpu": _LOSSES | {"binary_cross_entropy", "reflection_pad1d", "reflection_pad2d", "replication_pad1d",
                      "replication_pad2d", "replication_pad3d"},
}
BANNED = {"cuda": {"binary_cross_entropy": (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast (torch raises too): "
    "use binary_cross_entropy_with_logits on the logits, or leave autocast for this op")}}


@dataclasses.dataclass(frozen=True)
class Policy:
    """The op lists of ``device_type`` with lower-precision ops in ``dtype`` (a dtype name)."""

    device_type: str
    dtype: str


class _ThreadLocalContext:
    """jax.make_user_context for a JAX that lacks it: the same interface, but not part of jit's cache key (a
    function jitted outside autocast and called inside it keeps its first trace: enter autocast inside it)."""

    def __init__(self):
        self._local = threading.local()

    @property
    def value(self):
        return getattr(self._local, "value", None)

    @contextlib.contextmanager
    def __call__(self, value):
        previous, self._local.value = self.value, value
        try:
            yield
        finally:
            self._local.value = previous


# the Policy in force while tracing, or None
_ACTIVE = jax.make_user_context(None) if hasattr(jax, "make_user_context") else _ThreadLocalContext()

# XLA may skip a float32 → bfloat16 → float32 round trip ("excess precision"); torch rounds every op's output.
# Compiled with this option, a bf16-mixed step rounds where torch does (bit-equal on CPU in the parity suite).
EXACT_ROUNDING = {"xla_allow_excess_precision": False}


class autocast:
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)`` as a context manager or
    decorator: ops inside compute in the dtypes of torch's op lists for ``device_type`` (see the module doc).

    Args:
      device_type: "cuda" or "cpu": whose op lists apply (not where JAX runs: "cpu" on a GPU reproduces torch's
        CPU autocast). ``default_device_type()`` gives the one matching JAX's backend.
      dtype: the lower precision, jnp.bfloat16 or jnp.float16; None: torch's default for the device (cpu
        bfloat16, cuda float16; float16 training needs loss scaling: jaxdl.amp.GradScaler, or "fp16-mixed").
      enabled: False turns autocast off inside (nested regions included), as torch.
      cache_enabled: accepted for torch's signature; jaxdl casts at each use, torch's ``cache_enabled=False``
        numerics (the default True differs only for a weight used by several lower-precision ops in one region:
        torch then sums that weight's gradient in the low dtype).
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        if device_type not in DEVICE_TYPES:
            raise ValueError(f"autocast: device_type must be one of {DEVICE_TYPES}; got {device_type!r}")
        name = DEFAULT_DTYPE[device_type] if dtype is None else jnp.dtype(dtype).name
        if name not in ("bfloat16", "float16"):
            raise ValueError(f"autocast: dtype must be bfloat16 or float16; got {name}")
        if not isinstance(enabled, bool) or cache_enabled not in (None, True, False):
            raise TypeError(f"autocast: enabled and cache_enabled must be bool; got {enabled!r}, {cache_enabled!r}")
        self.policy = Policy(device_type, name) if enabled else None
        self._contexts = []

    def __enter__(self):
        context = _ACTIVE(self.policy)
        context.__enter__()
        self._contexts.append(context)
        return self

    def __exit__(self, *exc):
        return self._contexts.pop().__exit__(*exc)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


def default_device_type() -> str:
    """"cpu" when JAX runs on CPU, else "cuda" (GPU; also TPU, whose torch-xla lists follow CUDA's)."""
    return "cpu" if jax.default_backend() == "cpu" else "cuda"


# the low dtype of each mixed training precision (PRECISIONS' others are float32)
MIXED_DTYPES = {"bf16-mixed": "bfloat16", "fp16-mixed": "float16"}


def precision_context(precision: str):
    """The context for a training ``precision``: "fp32" adds nothing (an autocast region around it still
    applies, as torch's); "bf16-mixed" / "fp16-mixed" are bfloat16 / float16 autocast with the op lists of
    ``default_device_type()`` (on a GPU torch's CUDA lists; "fp16-mixed" also scales the loss: GradScaler)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    if precision in MIXED_DTYPES:
        return autocast(default_device_type(), MIXED_DTYPES[precision])
    return contextlib.nullcontext()


def compiler_options(precision: str) -> dict | None:
    """``jax.jit(..., compiler_options=)`` for a training ``precision``: EXACT_ROUNDING for the mixed ones."""
    return dict(EXACT_ROUNDING) if precision in MIXED_DTYPES else None


def cast(op: str, *args):
    """``args`` as the active policy gives them to ``op``: floating arrays (not float64) cast to float32 for an
    fp32-list op, to the policy dtype for a lower-precision op; everything else (None, ints, bools) unchanged."""
    policy = _ACTIVE.value
    if policy is None:
        return args
    if op in BANNED.get(policy.device_type, {}):
        raise ValueError(f"{op} under autocast({policy.device_type!r}): {BANNED[policy.device_type][op]}")
    if op in LOWER_BY_DEVICE[policy.device_type]:
        dtype = jnp.dtype(policy.dtype)
    elif op in FP32[policy.device_type]:
        dtype = jnp.dtype(jnp.float32)
    else:
        return args
    return tuple(_cast(a, dtype) for a in args)


def bilinear(op: str, product, x, w, bias=None, add_bias=lambda out, b: out + b):
    """``add_bias(product(x, w, None), bias)`` (no add when bias is None) as ``op`` runs under the active policy.

    Outside autocast, or for an op not on the lower-precision list, exactly that. For a lower-precision op: x, w
    and bias cast to its dtype, the product summed in float32 (``accumulate``), the bias added in float32 and
    the sum rounded once to the low dtype, as torch's fused kernels (the bias gradient is rounded as torch's).
    """
    low, (x, w) = lowered(op, x, w)
    bias, = cast(op, bias)
    if low is None:
        out = product(x, w, None)
        return out if bias is None else add_bias(out, bias)
    out = accumulate(product, x, w)
    if bias is not None:
        out = add_bias(out, bias.astype(jnp.float32))
    return out.astype(low)


def lowered(op: str, *operands):
    """``(low, operands)`` for the product operands of lower-precision ``op``: under the active policy the
    operands cast to its dtype ``low``. ``low`` is None outside autocast or for an op not on the list (operands
    unchanged), and when a float64 operand stays uncast (torch's rule; the others are cast, and the caller runs
    the plain product)."""
    policy = _ACTIVE.value
    if policy is None or op not in LOWER_BY_DEVICE[policy.device_type]:
        return None, operands
    low = jnp.dtype(policy.dtype)
    cast_operands = cast(op, *operands)
    if any(jnp.result_type(a) != low for a in cast_operands):
        return None, cast_operands
    return low, cast_operands


def _cast(x, dtype):
    if x is None or not hasattr(x, "dtype") or not jnp.issubdtype(x.dtype, jnp.floating) or x.dtype == jnp.float64:
        return x
    return jnp.asarray(x).astype(dtype)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def accumulate(product, x, w):
    """``product(x, w, jnp.float32)``: a bilinear product (matmul, einsum, convolution) of low-precision ``x``
    and ``w`` summed in float32, not rounded yet. Its derivative is computed in the inputs' low dtype, as
    torch's backward of a bfloat16 matmul (and, on GPU, at its speed).

    Args:
      product: ``(a, b, preferred_element_type) -> a·b``, bilinear in (a, b); None means the inputs' dtype.
    """
    return product(x, w, jnp.float32)


def _accumulate_jvp(product, primals, tangents):
    (x, w), (dx, dw) = primals, tangents
    out = product(x, w, jnp.float32)
    terms = []  # symbolic zeros (an input that is not differentiated) cost no product
    if not isinstance(dx, SymbolicZero):
        terms.append(product(dx, w, None))
    if not isinstance(dw, SymbolicZero):
        terms.append(product(x, dw, None))
    tangent = sum(terms[1:], terms[0]).astype(jnp.float32) if terms else jnp.zeros_like(out)
    return out, tangent


accumulate.defjvp(_accumulate_jvp, symbolic_zeros=True)
