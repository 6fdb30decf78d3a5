"""linear, embedding and one_hot, as torch.nn.functional defines them."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.functional._checks import is_concrete


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
        out = out + bias
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
    if is_concrete(input) and np.size(input):
        lo, hi = int(np.min(input)), int(np.max(input))
        if lo < 0 or hi >= num:
            raise IndexError(f"embedding: indices must be in [0, {num}); got values in [{lo}, {hi}]")
    out = jnp.take(weight, input, axis=0)  # (*input.shape, embedding_dim)
    if padding_idx is not None:
        padding_idx = padding_idx % num
        out = jnp.where((input == padding_idx)[..., None], jax.lax.stop_gradient(out), out)
    return out


def one_hot(tensor, num_classes: int = -1):
    """Integer one-hot encoding with a trailing class axis, as torch.nn.functional.one_hot.

    Returns integers (torch: int64; here the default JAX integer). num_classes=-1 infers max+1, which
    needs concrete values (not possible under jit).
    """
    if not jnp.issubdtype(jnp.asarray(tensor).dtype, jnp.integer):
        raise TypeError(f"one_hot is only applicable to index tensor; got dtype {jnp.asarray(tensor).dtype}")
    if num_classes == -1:
        if not is_concrete(tensor):
            raise ValueError("one_hot: num_classes=-1 needs concrete values; pass num_classes under jit")
        num_classes = int(np.max(tensor)) + 1
    if is_concrete(tensor) and np.size(tensor):
        lo, hi = int(np.min(tensor)), int(np.max(tensor))
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"one_hot: class values must be in [0, {num_classes}); got values in [{lo}, {hi}]")
    return (jnp.asarray(tensor)[..., None] == jnp.arange(num_classes)).astype(jnp.asarray(tensor).dtype)
