"""linear, embedding and one_hot, as torch.nn.functional defines them."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.functional._checks import concrete_values, is_concrete


def linear(input, weight, bias=None):
    """y = x Wᵀ + b, as torch.nn.functional.linear.

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
    out = jnp.matmul(input, weight.T)  # (*, in) @ (in, out) -> (*, out)
    if bias is not None:
        if jnp.shape(bias) != (jnp.shape(weight)[0],):
            raise ValueError(f"linear: bias must have shape ({jnp.shape(weight)[0]},); got {jnp.shape(bias)}")
        out = out + jnp.reshape(bias, (1,) * (out.ndim - 1) + (-1,))  # (out,) -> (1, ..., out): no rank promotion
    return out


def embedding(input, weight, padding_idx: int | None = None):
    """weight[input], as torch.nn.functional.embedding; the padding_idx row gets no gradient.

    Args:
      input: integer indices of any shape.
      weight: (num_embeddings, embedding_dim).
    """
    if not jnp.issubdtype(jnp.asarray(input).dtype, jnp.integer):
        raise TypeError(f"embedding: input must hold integer indices; got dtype {jnp.asarray(input).dtype}")
    num = jnp.shape(weight)[0]
    values = concrete_values(input)
    if values is not None and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo < 0 or hi >= num:
            raise IndexError(f"embedding: indices must be in [0, {num}); got values in [{lo}, {hi}]")
    # (*input.shape, embedding_dim); a traced index outside [0, num) gives NaN (jnp.take's fill), negative ones
    # included (jnp.take would wrap −1 to the last row, where torch raises)
    out = jnp.take(weight, jnp.where(input < 0, num, input), axis=0)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings, in [{-num}, {num}); "
                             f"got {padding_idx}")
        padding_idx = padding_idx % num
        out = jnp.where((input == padding_idx)[..., None], jax.lax.stop_gradient(out), out)
    return out


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
    tensor = jnp.asarray(tensor)
    classes = jnp.arange(num_classes).reshape((1,) * tensor.ndim + (num_classes,))  # (1, ..., 1, C)
    return (tensor[..., None] == classes).astype(jax.dtypes.canonicalize_dtype(jnp.int64))
