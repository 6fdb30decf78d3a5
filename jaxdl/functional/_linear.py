"""linear, embedding and one_hot, as torch.nn.functional defines them."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp, matmul
from jaxdl.checks import check_operand_dtypes, check_traced, concrete_values, is_concrete
from jaxdl.functional._distance import value_with_gradient_of, vector_norm


def linear(input, weight, bias=None):
    """y = x Wᵀ + b, as torch.nn.functional.linear (under jaxdl.amp.autocast: in its low dtype, summed in float32).

    input, weight and bias must share one dtype, not bool, as torch's (JAX would promote a float16 input to the
    float32 weight's dtype); under autocast after its casts.

    Args:
      input: (*, in_features).
      weight: (out_features, in_features) — torch's layout, not flax's (in, out).
      bias: (out_features,) or None.
    """
    if jnp.ndim(weight) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features); got shape {jnp.shape(weight)}")
    if jnp.ndim(input) < 1 or jnp.shape(input)[-1] != jnp.shape(weight)[1]:
        raise ValueError(f"linear: input's last dimension must be in_features={jnp.shape(weight)[1]} "
                         f"(weight shape {jnp.shape(weight)}); got input shape {jnp.shape(input)}")
    if bias is not None and jnp.shape(bias) != (jnp.shape(weight)[0],):
        raise ValueError(f"linear: bias must have shape ({jnp.shape(weight)[0]},); got {jnp.shape(bias)}")
    check_operand_dtypes("linear", **dict(zip(("input", "weight", "bias"), amp.cast("linear", input, weight, bias))))
    return amp.bilinear("linear", _matmul_transposed, input, weight, bias, _add_bias)


def _matmul_transposed(x, w, preferred_element_type):
    return matmul.matmul(x, w.T, preferred_element_type)  # (*, in) @ (in, out) -> (*, out)


def _add_bias(out, bias):
    return out + jnp.reshape(bias, (1,) * (out.ndim - 1) + (-1,))  # (out,) -> (1, ..., out): no rank promotion


def embedding_renorm(weight, input, max_norm: float, norm_type: float = 2.0):
    """``weight`` with each row that ``input`` indexes and whose ``norm_type``-norm exceeds ``max_norm`` scaled by
    max_norm/(norm + 1e-7): the weight torch's ``embedding_renorm_`` leaves behind (in place, under no_grad), as a
    new array; F.embedding(..., max_norm=) looks up in it."""
    norms = vector_norm(weight, float(norm_type), -1, True)  # (num_embeddings, 1)
    used = jnp.zeros(jnp.shape(weight)[0], bool).at[jnp.ravel(input)].set(True, mode="drop")[:, None]
    scale = (max_norm / (norms + 1e-7)).astype(jnp.result_type(weight))
    return jnp.where(used & (norms > max_norm), weight * scale, weight)


def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """weight[input], as torch.nn.functional.embedding; the padding_idx row gets no gradient.

    ``scale_grad_by_freq=True`` divides each row's gradient by how often its index occurs in ``input``, as
    torch. ``sparse`` only changes the layout of torch's gradient: JAX's is dense, with the same values.
    Indices outside [0, num_embeddings) raise IndexError when ``input`` is concrete; under jit they cannot be
    read in Python and give NaN rows, unless the function runs under ``jaxdl.checks.validated``, which raises.
    ``max_norm``: each row of ``weight`` that ``input`` looks up and whose ``norm_type``-norm exceeds max_norm is
    scaled by max_norm/(norm + 1e-7) before the lookup, as torch's embedding_renorm_. torch also writes those rows
    into ``weight`` in place (under no_grad: the next call sees them); jaxdl returns the same output and leaves
    ``weight`` as it was (to keep torch's state, store ``embedding_renorm(weight, input, max_norm, norm_type)``).
    The gradient is torch's: the lookup's, not through the scaling.

    Args:
      input: integer indices of any shape.
      weight: (num_embeddings, embedding_dim).
    """
    if not jnp.issubdtype(jnp.asarray(input).dtype, jnp.integer):
        raise TypeError(f"embedding: input must hold integer indices; got dtype {jnp.asarray(input).dtype}")
    if jnp.ndim(weight) != 2:
        raise ValueError("embedding: weight must be 2-D (num_embeddings, embedding_dim); "
                         f"got shape {jnp.shape(weight)}")
    num = jnp.shape(weight)[0]
    values = concrete_values(input)
    if values is not None and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo < 0 or hi >= num:
            raise IndexError(f"embedding: indices must be in [0, {num}); got values in [{lo}, {hi}]")
    elif values is None and jnp.size(input):  # traced: checked only under jaxdl.checks.validated
        check_traced((jnp.min(input) >= 0) & (jnp.max(input) < num),
                     f"embedding: indices must be in [0, {num}); got values in [{{}}, {{}}]", jnp.min(input),
                     jnp.max(input))
    if max_norm is not None:
        weight = value_with_gradient_of(embedding_renorm(weight, input, max_norm, norm_type), weight)
    # (*input.shape, embedding_dim); a traced index outside [0, num) gives NaN (jnp.take's fill), negative ones
    # included (jnp.take would wrap −1 to the last row, where torch raises)
    out = jnp.take(weight, jnp.where(input < 0, num, input), axis=0)
    if scale_grad_by_freq:
        with jax.numpy_dtype_promotion("standard"):  # counts in the weight's float dtype, at least float32
            count_dtype = jnp.promote_types(jnp.result_type(weight), jnp.float32)
        counts = jnp.zeros(num, count_dtype)
        counts = counts.at[jnp.ravel(input)].add(1, mode="drop")
        out = _scale_grad(out, 1 / jnp.take(counts, input, mode="fill", fill_value=1)[..., None])
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings, in [{-num}, {num}); "
                             f"got {padding_idx}")
        padding_idx = padding_idx % num
        out = jnp.where((input == padding_idx)[..., None], jax.lax.stop_gradient(out), out)
    return out


@jax.custom_vjp
def _scale_grad(x, scale):
    """x, with its cotangent multiplied by ``scale`` (broadcast to x) on the way back."""
    return x


def _scale_grad_fwd(x, scale):
    return x, scale


def _scale_grad_bwd(scale, g):
    return (g * scale).astype(g.dtype), jnp.zeros_like(scale)


_scale_grad.defvjp(_scale_grad_fwd, _scale_grad_bwd)


def one_hot(tensor, num_classes: int = -1):
    """Integer one-hot encoding with a trailing class axis, as torch.nn.functional.one_hot.

    Returns integers (torch: int64; here the default JAX integer, int32 or int64 under x64, whatever the
    input's integer type). num_classes=-1 infers max+1, which needs concrete values (not possible under jit).
    """
    if not jnp.issubdtype(jnp.asarray(tensor).dtype, jnp.integer):
        raise TypeError(f"one_hot is only applicable to index tensor; got dtype {jnp.asarray(tensor).dtype}")
    if num_classes == -1:
        if not is_concrete(tensor):
            raise ValueError("one_hot: num_classes=-1 needs concrete values; pass num_classes under jit")
        if not np.size(tensor):
            raise ValueError("one_hot: Can not infer total number of classes from empty tensor; pass num_classes")
        num_classes = int(np.asarray(tensor).max()) + 1
    values = concrete_values(tensor)
    if values is not None and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"one_hot: class values must be in [0, {num_classes}); got values in [{lo}, {hi}]")
    out = jax.dtypes.canonicalize_dtype(jnp.int64)
    tensor = jnp.asarray(tensor).astype(out)  # int8/uint8 indices compared as the output's int (values checked above)
    classes = jnp.arange(num_classes, dtype=out).reshape((1,) * tensor.ndim + (num_classes,))  # (1, ..., 1, C)
    return (tensor[..., None] == classes).astype(out)
