"""Margin and embedding losses, as torch.nn.functional defines them: hinge_embedding_loss,
margin_ranking_loss, multi_margin_loss, cosine_embedding_loss, triplet_margin_loss,
triplet_margin_with_distance_loss.
torch: ``aten/src/ATen/native/Loss.cpp`` and ``LossMultiMargin.cpp``.

Each max(0, ·) is torch's clamp_min: the gradient passes at the tie (· = 0), except in multi_margin_loss,
whose kernel counts only terms > 0. hinge_embedding_loss and margin_ranking_loss broadcast their arguments, as
torch's; integer inputs compute in float32 where torch's do (torch's default dtype). The deprecated
``size_average``/``reduce`` arguments are not supported.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.checks import broadcast, check_floating, check_reduction, check_same_shape, is_concrete, promote, \
    promote_to_float
from jaxdl.functional._distance import clamp_min, pairwise_distance
from jaxdl.functional._loss import LOSS_CPP_EPSILON
from jaxdl.functional._reduction import reduce



def hinge_embedding_loss(input, target, margin: float = 1.0, reduction: str = "mean"):
    """x where y = 1, max(0, margin − x) where y = −1 (their sum elsewhere), as
    torch.nn.functional.hinge_embedding_loss.

    Args:
      input: any shape. target: values ±1, broadcast against input.

    Example:
      >>> round(float(hinge_embedding_loss(jnp.array([0.3, 2.0]), jnp.array([-1.0, -1.0]), reduction="sum")), 4)
      0.7
    """
    input, target = amp.cast("hinge_embedding_loss", input, target)
    check_reduction("hinge_embedding_loss", reduction)
    check_floating("hinge_embedding_loss", input)
    input, target = broadcast("hinge_embedding_loss", input=input, target=target)
    zeros = jnp.zeros_like(input)
    loss = jnp.where(target != 1, clamp_min(margin - input, 0.0), zeros) + jnp.where(target != -1, input, zeros)
    return reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean"):
    """max(0, −y·(x1 − x2) + margin), as torch.nn.functional.margin_ranking_loss.

    Args:
      input1, input2, target: the same number of dims, broadcast against each other; target values ±1.
        Integer arguments compute in float32, as torch's (the float margin promotes them).
    """
    input1, input2, target = amp.cast("margin_ranking_loss", input1, input2, target)
    check_reduction("margin_ranking_loss", reduction)
    ndims = {jnp.ndim(input1), jnp.ndim(input2), jnp.ndim(target)}
    if len(ndims) > 1:
        raise ValueError(f"margin_ranking_loss: input1, input2, target must have the same number of dims; got "
                         f"{jnp.shape(input1)}, {jnp.shape(input2)}, {jnp.shape(target)}")
    input1, input2, target = (promote_to_float(a) for a in promote(input1, input2, target))
    input1, input2, target = broadcast("margin_ranking_loss", input1=input1, input2=input2, target=target)
    return reduce(clamp_min(-target * (input1 - input2) + margin, 0.0), reduction)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"):
    """Σ_{j≠y} max(0, margin − x_y + x_j)^p · w_y / C per sample, as torch.nn.functional.multi_margin_loss
    (the multi-class SVM hinge). Terms ≤ 0 contribute nothing, also their gradient (torch's kernel: z > 0).

    Args:
      input: (N, C), (C,) or () (one class). target: (N,) class indices (() or (1,) for a (C,) or () input).
      p: 1 or 2. weight: (C,) class weights or None.

    Example:
      >>> round(float(multi_margin_loss(jnp.array([[0.1, 0.2, 0.4, 0.8]]), jnp.array([3]))), 4)
      0.325
    """
    input, target, weight = amp.cast("multi_margin_loss", input, target, weight)
    check_reduction("multi_margin_loss", reduction)
    check_floating("multi_margin_loss", input)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2; got {p}")
    ishape, tshape = tuple(jnp.shape(input)) or (1,), tuple(jnp.shape(target))  # torch: a 0-d input is (1,)
    if len(ishape) not in (1, 2) or ishape[-1] == 0:
        raise ValueError(f"multi_margin_loss: Expected non-empty vector or matrix with optional 0-dim batch size, "
                         f"but got: {ishape}")
    x = jnp.reshape(input, (-1, ishape[-1]))  # (N, C)
    n, c = jnp.shape(x)
    if len(tshape) > 1 or int(np.prod(tshape)) != n:
        raise ValueError(f"multi_margin_loss: inconsistent target size, expected {n} but got {tshape}")
    if not jnp.issubdtype(jnp.asarray(target).dtype, jnp.integer):
        raise TypeError(f"multi_margin_loss: target must hold integer class indices; got {jnp.asarray(target).dtype}")
    if weight is not None and (jnp.ndim(weight) != 1 or jnp.size(weight) != c):
        raise ValueError(f"multi_margin_loss: inconsistent weight size, expected {c} but got {jnp.shape(weight)}")
    if is_concrete(target) and np.size(target) and not np.all((np.asarray(target) >= 0) & (np.asarray(target) < c)):
        raise ValueError(f"multi_margin_loss: target out of range: class indices must be in [0, {c})")
    y = jnp.reshape(target, (n, 1))
    z = margin - jnp.take_along_axis(x, y, axis=1) + x  # (N, C)
    keep = (z > 0) & (jnp.arange(c)[None, :] != y)
    z = jnp.where(keep, z, 0.0)  # a NaN term left out must not give 0·NaN in the gradient
    h = z if p == 1 else z * z
    if weight is not None:
        h = h * jnp.take(weight, y)
    per_sample = jnp.sum(jnp.where(keep, h, 0.0), axis=1) / c  # (N,)
    return reduce(jnp.reshape(per_sample, tshape), reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean"):
    """1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1, as
    torch.nn.functional.cosine_embedding_loss (cos = Σx1x2 / √((Σx1² + ε)(Σx2² + ε)), ε = float32 1e-12, torch's own
    formula here, not cosine_similarity's).

    Args:
      input1, input2: (N, D) with target (N,), or (D,) with target (). Integer inputs compute in float32, as
        torch's (the float ε promotes them).
    """
    input1, input2, target = amp.cast("cosine_embedding_loss", input1, input2, target)
    check_reduction("cosine_embedding_loss", reduction)
    input1, input2 = (promote_to_float(a) for a in promote(input1, input2))
    check_same_shape("cosine_embedding_loss", input1=input1, input2=input2)
    tdim = jnp.ndim(target)
    if tdim not in (0, 1):
        raise ValueError("cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported")
    if jnp.ndim(input1) != tdim + 1 or jnp.shape(input1)[:tdim] != jnp.shape(target):
        raise ValueError(f"cosine_embedding_loss: {tdim}D target tensor expects {tdim + 1}D inputs of shape "
                         f"({'N, ' if tdim else ''}D); got inputs {jnp.shape(input1)} and target {jnp.shape(target)}")
    prod = jnp.sum(input1 * input2, axis=tdim)
    mag1 = jnp.sum(input1 * input1, axis=tdim) + LOSS_CPP_EPSILON
    mag2 = jnp.sum(input2 * input2, axis=tdim) + LOSS_CPP_EPSILON
    cos = prod / jnp.sqrt(mag1 * mag2)
    zeros = jnp.zeros_like(cos)
    loss = jnp.where(target == 1, 1 - cos, zeros) + jnp.where(target == -1, clamp_min(cos - margin, 0.0), zeros)
    return reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, reduction: str = "mean"):
    """max(0, margin + d(a, p) − d(a, n)) with d = pairwise_distance(·, ·, p, eps), as
    torch.nn.functional.triplet_margin_loss; swap=True uses min(d(a, n), d(p, n)) (Balntas et al.).

    Args:
      anchor, positive, negative: (N, D) or (D,), the same shape. margin: > 0.
    """
    anchor, positive, negative = amp.cast("triplet_margin_loss", anchor, positive, negative)
    check_reduction("triplet_margin_loss", reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be > 0; got {margin}")
    check_same_shape("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = jnp.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce(clamp_min(margin + d_pos - d_neg, 0.0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean"):
    """max(0, margin + d(a, p) − d(a, n)) with any distance d (default pairwise_distance), as
    torch.nn.functional.triplet_margin_with_distance_loss; swap=True uses min(d(a, n), d(p, n)).

    Args:
      anchor, positive, negative: the same number of dims. distance_function: ``d(x1, x2) -> distances``, a
        JAX function (None: pairwise_distance). margin: > 0.
    """
    check_reduction("triplet_margin_with_distance_loss", reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be > 0; got {margin}")
    if not jnp.ndim(anchor) == jnp.ndim(positive) == jnp.ndim(negative):
        raise ValueError(f"triplet_margin_with_distance_loss: anchor, positive and negative must have the same "
                         f"number of dims; got {jnp.ndim(anchor)}, {jnp.ndim(positive)}, {jnp.ndim(negative)}")
    d = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = jnp.minimum(d_neg, d(positive, negative))
    return reduce(clamp_min(margin + d_pos - d_neg, 0.0), reduction)
