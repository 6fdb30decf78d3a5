"""The ATen → jaxdl op table that replays a torch.export graph (``_export``): one entry per ATen op.

Every entry takes the op's arguments in its schema's order, defaults filled in (``aten::max_pool2d(self,
kernel_size, stride=[], padding=0, dilation=1, ceil_mode=False)`` arrives as six values), and returns what the op
returns (a tuple for a multi-output op; ``None`` stands for an output torch computes for its backward only, as
batch norm's saved mean). Ops that jaxdl.functional has map to it, so values and gradients are torch's (relu'(0) =
0, batch norm's running statistics, max pooling's first-maximum gradient, GELU's tanh form); views, arithmetic and
reductions map to jax.numpy with torch's semantics, and where jax.numpy's gradient differs from torch's (abs at 0,
clamp at its bounds, max/min along a dim at ties, var/std) the entry states torch's rule. Products run through
``jaxdl.matmul`` (torch's float32 matmul precision), an N-D input by a matrix as one 2-D product (``_flat``).
``RANDOM`` names the ops that take a PRNG key (``key=``).
"""
from __future__ import annotations

import functools
import math
import operator

import jax
import jax.numpy as jnp
import jax.scipy.special
import numpy as np

from jaxdl import functional as F
from jaxdl import matmul

_REDUCTIONS = ("none", "mean", "sum")  # torch's at::Reduction enum: 0, 1, 2


def _axes(dim, ndim):
    """ATen's ``int[1]? dim``: None or [] is every axis."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(ndim))
    return tuple(d % max(ndim, 1) for d in ((dim,) if isinstance(dim, int) else dim))


def _dtype(dtype, default=None):
    """ATen's ScalarType (a dtype name recorded at capture) → a JAX dtype (float64 is float32 with x64 off);
    None keeps ``default``."""
    dtype = default if dtype is None else dtype
    return None if dtype is None else jax.dtypes.canonicalize_dtype(jnp.dtype(dtype))


def align(args: tuple, out_dtype: str | None) -> tuple:
    """The array arguments of an elementwise op made to meet as torch's do: lower-rank ones get leading axes
    (torch broadcasts ranks; jaxdl runs JAX with rank promotion raising), and where their dtypes differ, or
    one's kind differs from the result's (an int tensor times a float), they are cast to the dtype torch
    computed at capture (torch's promotion: a 0-dim float64 tensor does not widen a float32 one)."""
    index = [i for i, a in enumerate(args) if isinstance(a, (jax.Array, np.ndarray))]
    if not index:
        return args
    args = list(args)
    ndim = max(jnp.ndim(args[i]) for i in index)
    for i in index:
        if jnp.ndim(args[i]) < ndim:
            args[i] = jnp.reshape(args[i], (1,) * (ndim - jnp.ndim(args[i])) + jnp.shape(args[i]))
    values = [i for i in index if jnp.result_type(args[i]) != jnp.bool_]  # not where's or masked_fill's mask
    dtypes = {jnp.result_type(args[i]) for i in values}
    out = _dtype(out_dtype)
    if out is not None and out != jnp.bool_ and (len(dtypes) > 1 or any(
            jnp.issubdtype(d, jnp.floating) != jnp.issubdtype(out, jnp.floating) for d in dtypes)):
        common = out
    elif len(dtypes) > 1:  # a comparison of mixed dtypes: their common type
        with jax.numpy_dtype_promotion("standard"):
            common = jnp.result_type(*dtypes)
    else:
        return tuple(args)
    for i in values:
        args[i] = args[i].astype(common)
    return tuple(args)


def _abs(x):
    """torch.abs: d|x|/dx = sign(x), 0 at 0 (jnp.abs gives 1 there)."""
    return x * jax.lax.stop_gradient(jnp.sign(x))


def _clamp(x, lo=None, hi=None):
    """torch.clamp: the gradient passes where lo ≤ x ≤ hi, the bounds included (jnp.clip halves it there);
    NaN stays NaN."""
    inside = jnp.ones(jnp.shape(x), bool)
    if lo is not None:
        inside = inside & (x >= lo)
    if hi is not None:
        inside = inside & (x <= hi)
    clipped = x
    if lo is not None:
        clipped = jnp.maximum(clipped, lo)
    if hi is not None:
        clipped = jnp.minimum(clipped, hi)
    return jnp.where(inside | jnp.isnan(x), x, jax.lax.stop_gradient(clipped))


def _reduce_dim(pick):
    """torch.max/min(x, dim, keepdim) → (values, indices): the first extreme gets the whole gradient, as
    torch's index-based backward (jnp.max would share it among ties)."""

    def reduce(x, dim, keepdim=False):
        index = pick(x, axis=dim, keepdims=True)
        values = jnp.take_along_axis(x, index, axis=dim)
        if not keepdim:
            values, index = jnp.squeeze(values, dim), jnp.squeeze(index, dim)
        return values, index

    return reduce


def _expand(x, size, implicit=False):
    """torch.expand: -1 keeps a dimension; new leading dimensions are prepended."""
    lead = len(size) - jnp.ndim(x)
    shape = tuple(jnp.shape(x)[i - lead] if s == -1 else s for i, s in enumerate(size))
    return jnp.broadcast_to(x, shape)


def _slice(x, dim=0, start=None, end=None, step=1):
    index = [slice(None)] * jnp.ndim(x)
    n = jnp.shape(x)[dim]
    index[dim] = slice(None if start is None else max(min(start, n), -n),
                       None if end is None else max(min(end, n), -n), step)
    return x[tuple(index)]


def _squeeze(x, dim=None):
    axes = _axes(dim, jnp.ndim(x))
    return jnp.squeeze(x, tuple(a for a in axes if jnp.shape(x)[a] == 1))


def _flatten(x, start_dim=0, end_dim=-1):
    shape = jnp.shape(x)
    if not shape:
        return jnp.reshape(x, (1,))
    start, end = start_dim % len(shape), end_dim % len(shape)
    return jnp.reshape(x, shape[:start] + (-1,) + shape[end + 1:])


def _split(x, split_size, dim=0):
    n = jnp.shape(x)[dim]
    return tuple(jax.lax.slice_in_dim(x, s, min(s + split_size, n), axis=dim) for s in range(0, n, split_size))


def _split_with_sizes(x, sizes, dim=0):
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return tuple(jax.lax.slice_in_dim(x, s, s + k, axis=dim) for s, k in zip(starts, sizes))


def _chunk(x, chunks, dim=0):
    n = jnp.shape(x)[dim]
    return _split(x, -(-n // chunks), dim)


def _index(x, indices):
    """x[i0, i1, ...] with None for a full slice (ATen's index.Tensor); bool masks as torch's nonzero."""
    return x[tuple(slice(None) if i is None else i for i in indices)]


def _scalar_dtype(value):
    """torch's dtype of a tensor made from a Python scalar: bool, int64, or the default float32."""
    return jnp.bool_ if isinstance(value, bool) else jnp.int64 if isinstance(value, int) else jnp.float32


def _full(size, fill_value, dtype=None, *_):
    return jnp.full(tuple(size), fill_value, _dtype(dtype, _scalar_dtype(fill_value)))


def _like(fill):
    def like(x, dtype=None, *_):
        return jnp.full(jnp.shape(x), fill, _dtype(dtype, jnp.result_type(x)))

    return like


def _new(fill):
    def new(x, size, dtype=None, *_):
        return jnp.full(tuple(size), fill, _dtype(dtype, jnp.result_type(x)))

    return new


def _arange(start, end, step=1, dtype=None, *_):
    """aten::arange.start_step; the other overloads call it (``.default``: ``end`` alone, ``.start``: no step)."""
    every_int = all(isinstance(v, int) for v in (start, end, step))
    return jnp.arange(start, end, step, dtype=_dtype(dtype, _scalar_dtype(0 if every_int else 0.0)))


def _to_copy(x, dtype=None, *_):
    return x if dtype is None else x.astype(_dtype(dtype))


def _add(a, b, alpha=1):
    return a + (b if alpha == 1 else alpha * b)


def _sub(a, b, alpha=1):
    return a - (b if alpha == 1 else alpha * b)


def _div(a, b, rounding_mode=None):
    if rounding_mode == "floor":
        return jnp.floor_divide(a, b)
    if rounding_mode == "trunc":
        return jnp.trunc(a / b).astype(jnp.result_type(a, b))
    return a / b


def _pow(a, b):
    """torch.pow. torch's CPU kernel (PowKernel.cpp) computes a number exponent 2, 3 or −2 as x·x, x·x·x,
    1/(x·x): ``lax.integer_pow``'s own expansion, and its gradient n·xⁿ⁻¹ is torch's pow_backward without the
    general ``pow``'s log-based derivative. A Python int exponent takes that road in jax.numpy already; an
    integral float one (2.0) would not."""
    if isinstance(b, float) and b in (2.0, 3.0, -2.0) and jnp.issubdtype(jnp.result_type(a), jnp.floating):
        return jax.lax.integer_pow(a, int(b))
    return a ** b


def _sum(x, dim=None, keepdim=False, dtype=None):
    return jnp.sum(x, _axes(dim, jnp.ndim(x)), dtype=_dtype(dtype), keepdims=keepdim)


def _mean(x, dim=None, keepdim=False, dtype=None):
    return jnp.mean(x, _axes(dim, jnp.ndim(x)), dtype=_dtype(dtype), keepdims=keepdim)


def _var(x, dim=None, correction=None, keepdim=False, root=False):
    """torch.var (``root``: torch.std, its square root): Σ(x − mean)²/max(n − correction, 0), correction 1 by
    default, with torch's derivative (``_variance``)."""
    whole = dim is None or not jnp.ndim(x) or (isinstance(dim, (tuple, list)) and not dim)
    return _variance(x, _axes(dim, jnp.ndim(x)), 1 if correction is None else correction, keepdim, root, whole)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3, 4, 5))
def _variance(x, axes, correction, keepdim, root, whole):
    """The variance (or its root) of x over ``axes`` with torch's derivative (FunctionsManual.cpp
    ``var_backward``, ``std_backward``): var's gradient is grad·2/dof·(x − mean), dof = n − correction (over
    every element with dof ≤ 0, ``whole``: grad·(NaN where x equals the mean, else inf)); std's is var's of
    grad/(2·std), 0 where std is 0. jax.numpy's derivative of the formula also carries the (mathematically
    zero) gradient through the mean inside, an extra pass of the replayed training step that XLA does not drop.
    A JVP rule, so forward mode works too."""
    dof = math.prod(jnp.shape(x)[a] for a in axes) - correction
    if dof > 0:
        var = jnp.var(x, axes, ddof=correction, keepdims=keepdim)
    else:  # torch divides by max(dof, 0): inf, or NaN where every x equals the mean
        var = jnp.sum(jnp.square(x - jnp.mean(x, axes, keepdims=True)), axes, keepdims=keepdim) / 0.0
    return jnp.sqrt(var) if root else var


@_variance.defjvp
def _variance_jvp(axes, correction, keepdim, root, whole, primals, tangents):
    (x,), (dx,) = primals, tangents
    out = _variance(x, axes, correction, keepdim, root, whole)
    mean = jnp.mean(x, axes, keepdims=True)
    dof = math.prod(jnp.shape(x)[a] for a in axes) - correction
    if whole and dof <= 0:
        tangent = jnp.sum(dx * jnp.where(x == mean, jnp.nan, jnp.inf).astype(jnp.result_type(dx)), axes,
                          keepdims=keepdim)
    else:
        tangent = jnp.sum((x - mean) * dx, axes, keepdims=keepdim) * (2.0 / dof if dof else math.inf)
    if root:
        tangent = jnp.where(out == 0, 0, tangent / jnp.where(out == 0, 1, out * 2))
    return out, tangent


def standardize(x, dim, eps):
    """``(x − x.mean(dim, keepdim=True)) / sqrt(x.var(dim, unbiased=False, keepdim=True) + eps)``, a LayerNorm
    written out in torch ops (the book GPT's), as ``_graph`` finds it in a graph: the same ops forward (so the same
    values), and the textbook derivative dx̂ = (dx − mean(dx) − x̂·mean(dx·x̂))/s, s = √(var + eps), that
    jaxdl.functional.layer_norm carries, instead of the chain through mean, var, sqrt and the division (~5% of the
    book GPT's training step). Equal to torch's op-by-op gradient but for rounding."""
    return _standardize(x, _axes(dim, jnp.ndim(x)), eps)


def _standardize_parts(x, axes, eps):
    centred = x - _mean(x, axes, keepdim=True)
    return centred, jnp.sqrt(_var(x, axes, 0, keepdim=True) + eps)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _standardize(x, axes, eps):
    centred, s = _standardize_parts(x, axes, eps)
    return centred / s


@_standardize.defjvp
def _standardize_jvp(axes, eps, primals, tangents):
    (x,), (dx,) = primals, tangents
    centred, s = _standardize_parts(x, axes, eps)
    xhat = centred / s
    avg = lambda t: jnp.mean(t, axes, keepdims=True)  # noqa: E731
    return xhat, (dx - avg(dx) - xhat * avg(dx * xhat)) * (1 / s)


def _flat(product, x, w, *rest):
    """``product(x, w, *rest)`` of a (*, B, in) input ``x`` with the 2-D ``w``, its leading dimensions flattened into
    one: the same products, but the weight's gradient is then one 2-D matmul contracting a single axis, which
    XLA:CPU runs as a library dot; contracting (*, B) it transposes a copy of the input first (the book's GPT
    trained ~10% slower that way; jaxdl.nn.GPT keeps its residual stream 2-D for the same reason)."""
    if jnp.ndim(x) <= 2 or jnp.ndim(w) != 2:
        return product(x, w, *rest)
    lead = jnp.shape(x)[:-1]
    out = product(jnp.reshape(x, (math.prod(lead), jnp.shape(x)[-1])), w, *rest)
    return jnp.reshape(out, (*lead, jnp.shape(out)[-1]))


def _linear(x, w, b=None):
    return _flat(F.linear, x, w, b)


def _matmul(a, b):
    return _flat(matmul.matmul, a, b)


def _addmm(bias, a, b, beta=1, alpha=1):
    return beta * bias + alpha * matmul.matmul(a, b)


def _conv(input, weight, bias, stride, padding, dilation, groups):
    fn = (F.conv1d, F.conv2d, F.conv3d)[jnp.ndim(weight) - 3]
    return fn(input, weight, bias, tuple(stride), padding if isinstance(padding, str) else tuple(padding),
              tuple(dilation), groups)


def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    if not transposed:
        return _conv(input, weight, bias, stride, padding, dilation, groups)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation):
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[jnp.ndim(weight) - 3]
    return fn(input, weight, bias, tuple(stride), tuple(padding), tuple(output_padding), groups, tuple(dilation))


def _max_pool(n, indices):
    fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[n - 1]

    def pool(x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return fn(x, tuple(kernel_size), tuple(stride) or None, padding, dilation, ceil_mode, indices)

    return pool


def _avg_pool(n):
    def pool(x, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        stride = tuple(stride) or None
        if n == 1:
            return F.avg_pool1d(x, tuple(kernel_size), stride, padding, ceil_mode, count_include_pad)
        return (F.avg_pool2d, F.avg_pool3d)[n - 2](x, tuple(kernel_size), stride, padding, ceil_mode,
                                                    count_include_pad, divisor_override)

    return pool


def _adaptive_max(fn):
    return lambda x, output_size: fn(x, tuple(output_size), True)


def _batch_norm_functional(x, weight, bias, running_mean, running_var, training, momentum, eps):
    out, mean, var = F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    return out, None, None, mean, var


def _batch_norm_eval(x, weight, bias, running_mean, running_var, momentum, eps):
    return F.batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)[0], None, None


def _batch_norm_no_stats(x, weight, bias, training, momentum, eps):
    return F.batch_norm(x, None, None, weight, bias, True, momentum, eps)[0], None, None


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    """aten::elu carries selu's constants as ``scale``; elu and selu are the forms torch builds it in."""
    if scale == 1.0 and input_scale == 1.0:
        return F.elu(x, alpha)
    selu = F.selu(x)
    if (alpha, scale, input_scale) == (1.6732632423543772, 1.0507009873554805, 1.0):
        return selu
    raise NotImplementedError(f"aten.elu with scale={scale}, input_scale={input_scale}: only elu and selu's "
                              f"constants map to jaxdl.functional")


def _embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq)


def _cross_entropy(x, target, weight=None, reduction=1, ignore_index=-100, label_smoothing=0.0):
    return F.cross_entropy(x, target, weight, ignore_index, _REDUCTIONS[reduction], label_smoothing)


def _nll_loss(x, target, weight=None, reduction=1, ignore_index=-100):
    return F.nll_loss(x, target, weight, ignore_index, _REDUCTIONS[reduction])


def _dropout(x, p, train, *, key=None):
    """aten::native_dropout → (output, mask); the mask is the kept positions (ones in eval)."""
    out = F.dropout(x, p, bool(train), key=key)
    return out, None


def _sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False, *, key=None):
    if enable_gqa:
        raise NotImplementedError("aten.scaled_dot_product_attention with enable_gqa=True")
    return F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale,
                                          dropout_key=key if dropout_p else None)


def _upsample(mode):
    def upsample(x, output_size, *rest):
        align_corners, scale = (None, rest[0]) if mode == "nearest" else rest
        return F.interpolate(x, None if output_size is None else tuple(output_size),
                             None if output_size is not None or scale is None else tuple(scale), mode, align_corners)

    return upsample


def _rnn(mode):
    """aten::lstm/gru/rnn_tanh/rnn_relu.input → ``jaxdl.functional.rnn`` (nn.LSTM's and the others' one
    implementation). ``params`` is torch's ``_flat_weights``: per (layer, direction), layer-major, w_ih, w_hh,
    then b_ih, b_hh when ``has_biases``, then LSTM's projection w_hr when ``proj_size`` > 0; dropout between
    layers in training draws from ``key``. Returns (output, h_n, c_n) for LSTM, (output, h_n) otherwise."""

    def rnn(x, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first, *, key=None):
        groups = num_layers * (2 if bidirectional else 1)
        per = len(params) // groups
        names = ("weight_ih", "weight_hh", *(("bias_ih", "bias_hh") if has_biases else ()))
        names += ("weight_hr",) * (per - len(names))
        weights = [dict(zip(names, params[i * per:(i + 1) * per])) for i in range(groups)]
        x = jnp.swapaxes(x, 0, 1) if batch_first else x  # F.rnn is time-major, as aten's batch_first=False
        y, h = F.rnn(mode, x, tuple(hx) if mode == "LSTM" else hx, weights, num_layers=num_layers,
                     bidirectional=bool(bidirectional), dropout=dropout, training=bool(train), key=key)
        y = jnp.swapaxes(y, 0, 1) if batch_first else y
        return (y, *h) if mode == "LSTM" else (y, h)

    return rnn


def _tanh(x):
    """torch.tanh as F.tanh, its output materialized (``optimization_barrier``): F.tanh's float32 form (a
    polynomial, an exponential and a select) costs more than XLA's tanh, and XLA:CPU kept only the exponential and
    recomputed the rest in each consumer, the forward's and the backward's 1 − y² (the book GPT's GELU: ~4% of
    its training step)."""
    return jax.lax.optimization_barrier(F.tanh(x))


def _random(draw):
    def fn(*args, key=None):
        if key is None:
            raise ValueError("a random op needs apply's key=: pass key=jax.random.key(...)")
        return draw(key, *args)

    return fn


def _noop(*_args, **_kwargs):
    return None


def _identity(x, *_):
    return x


TABLE = {
    # --- jaxdl.functional ---
    "aten.linear": _linear,
    "aten.relu": lambda x: F.relu(x),
    "aten.gelu": lambda x, approximate="none": F.gelu(x, approximate),
    "aten.silu": lambda x: F.silu(x),
    "aten.sigmoid": lambda x: F.sigmoid(x),
    "aten.tanh": _tanh,
    "aten.leaky_relu": lambda x, slope=0.01: F.leaky_relu(x, slope),
    "aten.hardtanh": lambda x, lo=-1.0, hi=1.0: F.hardtanh(x, lo, hi),
    "aten.relu6": lambda x: F.relu6(x),
    "aten.hardsigmoid": lambda x: F.hardsigmoid(x),
    "aten.hardswish": lambda x: F.hardswish(x),
    "aten.elu": _elu,
    "aten.celu": lambda x, alpha=1.0: F.celu(x, alpha),
    "aten.selu": lambda x: F.selu(x),
    "aten.softplus": lambda x, beta=1, threshold=20: F.softplus(x, beta, threshold),
    "aten.mish": lambda x: F.mish(x),
    "aten.log_sigmoid": lambda x: F.logsigmoid(x),
    "aten.prelu": lambda x, w: F.prelu(x, w),
    "aten.glu": lambda x, dim=-1: F.glu(x, dim),
    "aten.threshold": lambda x, threshold, value: F.threshold(x, threshold, value),
    "aten.softmax": lambda x, dim, dtype=None: F.softmax(x, dim, _dtype(dtype)),
    "aten._softmax": lambda x, dim, half_to_float=False: F.softmax(x, dim),
    "aten.log_softmax": lambda x, dim, dtype=None: F.log_softmax(x, dim, _dtype(dtype)),
    "aten._log_softmax": lambda x, dim, half_to_float=False: F.log_softmax(x, dim),
    "aten.layer_norm": lambda x, shape, w=None, b=None, eps=1e-5, cudnn=True: F.layer_norm(x, tuple(shape), w, b,
                                                                                            eps),
    "aten.native_layer_norm": lambda x, shape, w, b, eps: (F.layer_norm(x, tuple(shape), w, b, eps), None, None),
    "aten.group_norm": lambda x, groups, w=None, b=None, eps=1e-5, cudnn=True: F.group_norm(x, groups, w, b, eps),
    "aten.rms_norm": lambda x, shape, w=None, eps=None: F.rms_norm(x, tuple(shape), w, eps),
    "aten._native_batch_norm_legit_functional": _batch_norm_functional,
    "aten._native_batch_norm_legit_no_training": _batch_norm_eval,
    "aten._native_batch_norm_legit.no_stats": _batch_norm_no_stats,
    "aten.conv1d": _conv, "aten.conv2d": _conv, "aten.conv3d": _conv,
    "aten.convolution": _convolution,
    "aten.conv_transpose1d": _conv_transpose, "aten.conv_transpose2d": _conv_transpose,
    "aten.conv_transpose3d": _conv_transpose,
    "aten.max_pool1d": _max_pool(1, False), "aten.max_pool2d": _max_pool(2, False),
    "aten.max_pool3d": _max_pool(3, False),
    "aten.max_pool2d_with_indices": _max_pool(2, True), "aten.max_pool3d_with_indices": _max_pool(3, True),
    "aten.avg_pool1d": _avg_pool(1), "aten.avg_pool2d": _avg_pool(2), "aten.avg_pool3d": _avg_pool(3),
    "aten.adaptive_avg_pool1d": lambda x, size: F.adaptive_avg_pool1d(x, tuple(size)),
    "aten.adaptive_avg_pool2d": lambda x, size: F.adaptive_avg_pool2d(x, tuple(size)),
    "aten._adaptive_avg_pool2d": lambda x, size: F.adaptive_avg_pool2d(x, tuple(size)),
    "aten.adaptive_avg_pool3d": lambda x, size: F.adaptive_avg_pool3d(x, tuple(size)),
    "aten.adaptive_max_pool1d": _adaptive_max(F.adaptive_max_pool1d),
    "aten.adaptive_max_pool2d": _adaptive_max(F.adaptive_max_pool2d),
    "aten.embedding": _embedding,
    "aten.cross_entropy_loss": _cross_entropy,
    "aten.nll_loss": _nll_loss,
    "aten.mse_loss": lambda x, t, reduction=1: F.mse_loss(x, t, reduction=_REDUCTIONS[reduction]),
    "aten.l1_loss": lambda x, t, reduction=1: F.l1_loss(x, t, reduction=_REDUCTIONS[reduction]),
    "aten.pad": lambda x, pad, mode="constant", value=None: F.pad(x, tuple(pad), mode, value),
    "aten.constant_pad_nd": lambda x, pad, value=0: F.pad(x, tuple(pad), "constant", value),
    "aten.upsample_nearest2d": _upsample("nearest"),
    "aten.upsample_bilinear2d": _upsample("bilinear"),
    "aten.pixel_shuffle": lambda x, r: F.pixel_shuffle(x, r),
    "aten.native_dropout": _dropout,
    "aten.dropout": lambda x, p, train, *, key=None: F.dropout(x, p, bool(train), key=key),
    "aten.scaled_dot_product_attention": _sdpa,
    "aten.lstm.input": _rnn("LSTM"), "aten.gru.input": _rnn("GRU"),
    "aten.rnn_tanh.input": _rnn("RNN_TANH"), "aten.rnn_relu.input": _rnn("RNN_RELU"),
    "aten.bernoulli.p": _random(lambda key, x, p=0.5, generator=None: jax.random.bernoulli(
        key, p, jnp.shape(x)).astype(jnp.result_type(x))),
    "aten.rand_like": _random(lambda key, x, dtype=None, *_: jax.random.uniform(
        key, jnp.shape(x), _dtype(dtype, jnp.result_type(x)))),
    "aten.randn_like": _random(lambda key, x, dtype=None, *_: jax.random.normal(
        key, jnp.shape(x), _dtype(dtype, jnp.result_type(x)))),
    # --- arithmetic, with torch's gradients where jax.numpy's differ ---
    "aten.add": _add, "aten.sub": _sub,
    "aten.rsub": lambda a, b, alpha=1: _sub(b, a, alpha),
    "aten.mul": operator.mul, "aten.div": _div,
    "aten.floor_divide": jnp.floor_divide, "aten.remainder": jnp.remainder, "aten.fmod": jnp.fmod,
    "aten.neg": operator.neg, "aten.pow": _pow,
    "aten.abs": _abs, "aten.sign": jnp.sign,
    "aten.clamp": _clamp, "aten.clip": _clamp,
    "aten.clamp_min": lambda x, lo: _clamp(x, lo, None), "aten.clamp_max": lambda x, hi: _clamp(x, None, hi),
    "aten.maximum": jnp.maximum, "aten.minimum": jnp.minimum,
    "aten.exp": jnp.exp, "aten.log": jnp.log, "aten.log1p": jnp.log1p, "aten.expm1": jnp.expm1,
    "aten.log2": jnp.log2, "aten.sqrt": jnp.sqrt, "aten.rsqrt": jax.lax.rsqrt,
    "aten.reciprocal": jnp.reciprocal, "aten.square": jnp.square,
    "aten.sin": jnp.sin, "aten.cos": jnp.cos, "aten.erf": jax.scipy.special.erf,
    "aten.floor": jnp.floor, "aten.ceil": jnp.ceil, "aten.round": jnp.round, "aten.trunc": jnp.trunc,
    "aten.eq": jnp.equal, "aten.ne": jnp.not_equal, "aten.gt": jnp.greater, "aten.ge": jnp.greater_equal,
    "aten.lt": jnp.less, "aten.le": jnp.less_equal,
    "aten.logical_not": jnp.logical_not, "aten.logical_and": jnp.logical_and, "aten.logical_or": jnp.logical_or,
    "aten.bitwise_not": jnp.invert, "aten.bitwise_and": jnp.bitwise_and, "aten.bitwise_or": jnp.bitwise_or,
    "aten.__and__": jnp.bitwise_and, "aten.__or__": jnp.bitwise_or,
    "aten.isnan": jnp.isnan,
    "aten.where": lambda c, a, b: jnp.where(c, a, b),
    "aten.masked_fill": lambda x, mask, value: jnp.where(mask, jnp.asarray(value, jnp.result_type(x)), x),
    # --- products ---
    "aten.matmul": _matmul, "aten.mm": matmul.matmul, "aten.bmm": matmul.matmul,
    "aten.addmm": _addmm,
    "aten.baddbmm": _addmm,
    "aten.einsum": lambda equation, tensors, path=None: matmul.einsum(equation, *tensors),
    # --- reductions ---
    "aten.sum": _sum, "aten.mean": _mean,
    "aten.amax": lambda x, dim=(), keepdim=False: jnp.max(x, _axes(dim, jnp.ndim(x)), keepdims=keepdim),
    "aten.amin": lambda x, dim=(), keepdim=False: jnp.min(x, _axes(dim, jnp.ndim(x)), keepdims=keepdim),
    "aten.max.default": jnp.max, "aten.min.default": jnp.min,
    "aten.max.other": jnp.maximum, "aten.min.other": jnp.minimum,
    "aten.max.dim": _reduce_dim(jnp.argmax), "aten.min.dim": _reduce_dim(jnp.argmin),
    "aten.argmax": lambda x, dim=None, keepdim=False: jnp.argmax(x, dim, keepdims=keepdim),
    "aten.argmin": lambda x, dim=None, keepdim=False: jnp.argmin(x, dim, keepdims=keepdim),
    "aten.var": _var, "aten.std": functools.partial(_var, root=True),
    "aten.cumsum": lambda x, dim, dtype=None: jnp.cumsum(x, dim, _dtype(dtype)),
    "aten.diff": lambda x, n=1, dim=-1, prepend=None, append=None: jnp.diff(x, n, dim, prepend, append),
    # --- views and copies ---
    "aten.view": lambda x, size: jnp.reshape(x, tuple(size)),
    "aten._unsafe_view": lambda x, size: jnp.reshape(x, tuple(size)),
    "aten.reshape": lambda x, size: jnp.reshape(x, tuple(size)),
    "aten.permute": lambda x, dims: jnp.transpose(x, tuple(dims)),
    "aten.transpose": lambda x, a, b: jnp.swapaxes(x, a, b),
    "aten.t": lambda x: jnp.transpose(x),
    "aten.numpy_T": lambda x: jnp.transpose(x),
    "aten.expand": _expand,
    "aten.unsqueeze": jnp.expand_dims,
    "aten.squeeze": _squeeze,
    "aten.flatten": _flatten,
    "aten.unflatten": lambda x, dim, sizes: jnp.reshape(
        x, jnp.shape(x)[:dim % jnp.ndim(x)] + tuple(sizes) + jnp.shape(x)[dim % jnp.ndim(x) + 1:]),
    "aten.cat": lambda tensors, dim=0: jnp.concatenate(tensors, dim),
    "aten.stack": lambda tensors, dim=0: jnp.stack(tensors, dim),
    "aten.split": _split, "aten.split_with_sizes": _split_with_sizes, "aten.chunk": _chunk,
    "aten.unbind": lambda x, dim=0: tuple(jnp.moveaxis(x, dim, 0)),
    "aten.slice": _slice,
    "aten.select": lambda x, dim, index: jnp.take(x, index, dim),
    "aten.narrow": lambda x, dim, start, length: jax.lax.slice_in_dim(x, start, start + length, axis=dim),
    "aten.index": _index,
    "aten.index_select": lambda x, dim, index: jnp.take(x, index, dim),
    "aten.gather": lambda x, dim, index, sparse_grad=False: jnp.take_along_axis(x, index, dim),
    "aten.repeat": lambda x, repeats: jnp.tile(x, tuple(repeats)),
    "aten.flip": lambda x, dims: jnp.flip(x, tuple(dims)),
    "aten.roll": lambda x, shifts, dims=(): jnp.roll(x, tuple(shifts), tuple(dims) or None),
    "aten.tril": lambda x, diagonal=0: jnp.tril(x, diagonal), "aten.triu": lambda x, diagonal=0: jnp.triu(x, diagonal),
    "aten.clone": _identity, "aten.contiguous": _identity, "aten.alias": _identity,
    "aten.lift_fresh_copy": _identity,
    "aten.detach": jax.lax.stop_gradient,
    "aten._to_copy": _to_copy,
    "aten.to.dtype": lambda x, dtype, *_: x.astype(_dtype(dtype)),
    "aten.type_as": lambda x, other: x.astype(jnp.result_type(other)),
    # --- creation ---
    "aten.zeros": lambda size, dtype=None, *_: jnp.zeros(tuple(size), _dtype(dtype, jnp.float32)),
    "aten.ones": lambda size, dtype=None, *_: jnp.ones(tuple(size), _dtype(dtype, jnp.float32)),
    "aten.full": _full,
    "aten.zeros_like": _like(0), "aten.ones_like": _like(1),
    "aten.full_like": lambda x, fill, dtype=None, *_: jnp.full(jnp.shape(x), fill, _dtype(dtype, jnp.result_type(x))),
    "aten.new_zeros": _new(0), "aten.new_ones": _new(1),
    "aten.new_full": lambda x, size, fill, dtype=None, *_: jnp.full(tuple(size), fill,
                                                                    _dtype(dtype, jnp.result_type(x))),
    "aten.arange.default": lambda end, dtype=None, *_: _arange(0, end, 1, dtype),
    "aten.arange.start": lambda start, end, dtype=None, *_: _arange(start, end, 1, dtype),
    "aten.arange.start_step": _arange,
    "aten.scalar_tensor": lambda s, dtype=None, *_: jnp.asarray(s, _dtype(dtype, jnp.float32)),
    # --- shapes (concrete under jit) and checks ---
    "aten.sym_size.int": lambda x, dim: jnp.shape(x)[dim],
    "aten.sym_numel": jnp.size,
    "aten._assert_tensor_metadata": _noop, "aten._assert_scalar": _noop,
    "aten.sym_constrain_range_for_size": _noop, "aten._assert_async": _noop,
    # --- Python operators on the graph's shape values and multi-output ops ---
    "getitem": operator.getitem, "mul": operator.mul, "add": operator.add, "sub": operator.sub,
    "floordiv": operator.floordiv, "truediv": operator.truediv, "neg": operator.neg, "mod": operator.mod,
    "pow": operator.pow,
}

# the arguments an op reads only for the buffer updates it returns, not for its output (batch norm's running
# statistics in training mode): ``_graph.submodule_calls`` leaves them out of the dataflow to the model's output
STATE_ONLY_ARGS = {"aten._native_batch_norm_legit_functional": (3, 4)}

RANDOM = frozenset({"aten.native_dropout", "aten.dropout", "aten.scaled_dot_product_attention", "aten.bernoulli.p",
                    "aten.rand_like", "aten.randn_like", "aten.lstm.input", "aten.gru.input", "aten.rnn_tanh.input",
                    "aten.rnn_relu.input"})


# the elementwise ops whose array arguments ``align`` broadcasts and promotes as torch does
ELEMENTWISE = frozenset({"aten.add", "aten.sub", "aten.rsub", "aten.mul", "aten.div", "aten.pow", "aten.maximum",
                         "aten.minimum", "aten.max.other", "aten.min.other", "aten.eq", "aten.ne", "aten.gt",
                         "aten.ge", "aten.lt", "aten.le", "aten.where", "aten.masked_fill", "aten.logical_and",
                         "aten.logical_or", "aten.bitwise_and", "aten.bitwise_or", "aten.__and__", "aten.__or__",
                         "aten.remainder", "aten.fmod", "aten.floor_divide", "aten.addmm", "aten.baddbmm"})


def lookup(target: str):
    """The table entry of ``target`` ('aten.add.Tensor': the overload's own entry, else its packet's 'aten.add'),
    and whether it takes a key; None when there is none."""
    packet = target.rsplit(".", 1)[0] if target.startswith("aten.") else target
    for name in (target, packet):
        if name in TABLE:
            return TABLE[name], name in RANDOM, name in ELEMENTWISE
    return None
