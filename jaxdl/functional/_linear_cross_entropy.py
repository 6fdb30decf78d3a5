"""linear_cross_entropy, as torch.nn.functional defines it (torch 2.13): cross_entropy of a linear head's logits.
torch: ``torch/nn/functional.py`` (the reference path, ``options=None``)."""
from __future__ import annotations

import math

import jax.numpy as jnp

from jaxdl.functional._linear import linear
from jaxdl.functional._loss import cross_entropy


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction: str = "mean",
                         ignore_index: int | None = None, label_smoothing: float = 0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...), as
    torch.nn.functional.linear_cross_entropy; a (C, d1, ..., dK, in) weight gives (N, C, d1, ..., dK) logits.

    torch's ``options`` select its chunked kernel (less memory, the same values and gradients: in float64 they
    equal the reference formula's to 1e-10 on every OpInfo sample of its chunked variants); jaxdl computes the
    reference formula and refuses options (under jit, XLA fuses the head and the loss itself). ignore_index None is −100
    for class-index targets; it must stay None for probability targets (input's logits' shape), as torch's.

    Args:
      input: (in,) or (N, in). linear_weight: (C, in) or (C, d1, ..., dK, in) (K ≥ 1 needs an (N, in) input).
      target: class indices (), (N,) or (N, d1, ..., dK), or probabilities of the logits' shape.
      linear_bias: (C,) or (C, d1, ..., dK), or None.
    """
    if options is not None:
        raise ValueError("linear_cross_entropy: options (torch's chunked kernel) is not supported; pass None, "
                         "jaxdl computes the reference formula")
    if jnp.ndim(input) not in (1, 2):
        raise ValueError(f"linear_cross_entropy: input must be (in_features,) or (N, in_features); got "
                         f"{jnp.shape(input)}")
    if jnp.ndim(linear_weight) < 2:
        raise ValueError(f"linear_cross_entropy: linear_weight must have at least 2 dims; got "
                         f"{jnp.shape(linear_weight)}")
    batch, in_features = tuple(jnp.shape(input)[:-1]), jnp.shape(input)[-1]
    if jnp.shape(linear_weight)[-1] != in_features:
        raise ValueError(f"linear_cross_entropy: input and linear_weight must end in the same in_features; got "
                         f"{jnp.shape(input)} and {jnp.shape(linear_weight)}")
    num_classes, out_features = jnp.shape(linear_weight)[0], tuple(jnp.shape(linear_weight)[1:-1])
    if linear_bias is not None and tuple(jnp.shape(linear_bias)) != (num_classes, *out_features):
        raise ValueError(f"linear_cross_entropy: linear_bias must have shape {(num_classes, *out_features)}; got "
                         f"{tuple(jnp.shape(linear_bias))}")
    if out_features and not batch:
        raise ValueError(f"linear_cross_entropy: a K-dimensional loss (linear_weight {jnp.shape(linear_weight)}) "
                         f"needs a batched (N, {in_features}) input; got {jnp.shape(input)}")
    logits_shape = (*batch, num_classes, *out_features)
    if tuple(jnp.shape(target)) == logits_shape and ignore_index is not None:
        raise ValueError("linear_cross_entropy: ignore_index must be None when target holds probabilities")
    rows = math.prod(out_features, start=num_classes)
    w = jnp.reshape(linear_weight, (rows, in_features))
    b = None if linear_bias is None else jnp.reshape(linear_bias, (rows,))
    logits = jnp.reshape(linear(input, w, b), logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index, label_smoothing=label_smoothing)
