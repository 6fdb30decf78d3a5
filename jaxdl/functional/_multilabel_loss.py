"""Two-class and multi-label margin losses, as torch.nn.functional defines them: soft_margin_loss,
multilabel_margin_loss, multilabel_soft_margin_loss. torch: ``aten/src/ATen/native/Loss.cpp`` (soft margin),
``LossMultiLabelMargin.cpp`` and ``torch/nn/functional.py`` (multilabel soft margin).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.checks import broadcast, check_floating, check_reduction, is_concrete, promote
from jaxdl.functional._reduction import reduce
from jaxdl.functional._smooth_activation import logsigmoid


def soft_margin_loss(input, target, reduction: str = "mean"):
    """log(1 + e^{−y·x}), as torch.nn.functional.soft_margin_loss (torch's formula, so it overflows to inf where
    −y·x > ~88 in float32, as torch's).

    Args:
      input: any shape. target: values ±1, broadcast against input.

    Example:
      >>> round(float(soft_margin_loss(jnp.array([0.0, 2.0]), jnp.array([1.0, -1.0]), reduction="sum")), 4)
      2.8201
    """
    input, target = amp.cast("soft_margin_loss", input, target)
    check_reduction("soft_margin_loss", reduction)
    input, target = promote(input, target)
    check_floating("soft_margin_loss", input, "the promoted dtype of input and target")
    input, target = broadcast("soft_margin_loss", input=input, target=target)
    return reduce(jnp.log1p(jnp.exp(-input * target)), reduction)


def multilabel_margin_loss(input, target, reduction: str = "mean"):
    """Σ_j Σ_{i ∉ targets} max(0, 1 − (x[y_j] − x[i])) / C per sample, as torch.nn.functional.multilabel_margin_loss.

    ``target`` holds each sample's class indices first, ended by the first −1 (the rest is ignored); a class listed
    twice counts twice, as in torch's kernel. Terms ≤ 0 contribute nothing, also their gradient (torch: z > 0).

    Args:
      input: (N, C), (C,) or () (one class). target: integer, input's shape.

    Example:
      >>> round(float(multilabel_margin_loss(jnp.array([[0.1, 0.2, 0.4, 0.8]]), jnp.array([[3, 0, -1, 1]]))), 4)
      0.85
    """
    input, = amp.cast("multilabel_margin_loss", input)
    check_reduction("multilabel_margin_loss", reduction)
    check_floating("multilabel_margin_loss", input)
    ishape, tshape = tuple(jnp.shape(input)), tuple(jnp.shape(target))
    if len(ishape) > 2 or (len(ishape) == 2 and ishape[-1] == 0):
        raise ValueError(f"multilabel_margin_loss: expected a non-empty vector or matrix with an optional 0-dim "
                         f"batch size; got input {ishape}")
    if tshape != ishape:
        raise ValueError(f"multilabel_margin_loss: target must have input's shape {ishape}; got {tshape}")
    if not jnp.issubdtype(jnp.result_type(target), jnp.integer):
        raise TypeError(f"multilabel_margin_loss: target must hold integer class indices; got "
                        f"{jnp.result_type(target)}")
    c = ishape[-1] if ishape else 1
    x, y = jnp.reshape(input, (-1, c)), jnp.reshape(target, (-1, c))  # (N, C)
    if is_concrete(target) and np.size(target) and not np.all((np.asarray(y) >= -1) & (np.asarray(y) < c)):
        raise ValueError(f"multilabel_margin_loss: target out of range: class indices must be in [-1, {c})")
    listed = jnp.cumprod(y >= 0, axis=1).astype(bool)  # (N, C): entries before the first −1
    idx = jnp.where(listed, y, 0)
    classes = jnp.arange(c, dtype=idx.dtype)[None, None, :]
    is_target = jnp.any(listed[:, :, None] & (idx[:, :, None] == classes), axis=1)  # (N, C)
    z = 1 - jnp.take_along_axis(x, idx, axis=1)[:, :, None] + x[:, None, :]  # (N, k, i)
    keep = listed[:, :, None] & ~is_target[:, None, :] & (z > 0)
    per_sample = jnp.sum(jnp.where(keep, z, 0.0), axis=(1, 2)) / c
    return reduce(jnp.reshape(per_sample, ishape[:-1]), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, reduction: str = "mean"):
    """−Σ_c w_c·(y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)) / C over the last dim, as
    torch.nn.functional.multilabel_soft_margin_loss (torch's Python formula, with its logsigmoid).

    Args:
      input: (N, C) or (C,). target: 0/1 labels, broadcast against input. weight: broadcast against input, or None.
    """
    input, target, weight = amp.cast("multilabel_soft_margin_loss", input, target, weight)
    check_reduction("multilabel_soft_margin_loss", reduction)
    check_floating("multilabel_soft_margin_loss", input)
    if jnp.ndim(input) == 0:
        raise ValueError("multilabel_soft_margin_loss: input must have a class dimension; got a 0-d input")
    input, target = promote(input, target)
    input, target = broadcast("multilabel_soft_margin_loss", input=input, target=target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss, weight = promote(loss, weight)
        loss, weight = broadcast("multilabel_soft_margin_loss", loss=loss, weight=weight)
        loss = loss * weight
    c = jnp.shape(loss)[-1]
    return reduce(jnp.sum(loss, axis=-1) / c, reduction)
