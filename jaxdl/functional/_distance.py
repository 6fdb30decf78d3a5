"""Norms and distances, as torch.nn.functional defines them: normalize, pairwise_distance, cosine_similarity.

``vector_norm`` carries torch's own gradient (``norm_backward`` in FunctionsManual.cpp): 0 where the norm is 0
(jnp.linalg.norm's is NaN there), split evenly among the ties (and NaNs) of the ±∞-norms, 0 for the 0-"norm"
(the count of non-zeros), and for p < 1 (negative p included) sgn(x)·|x|^(p−1)·‖x‖^(1−p), 0 where x = 0.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.checks import broadcast, check_dim, check_floating, promote, promote_to_float


def value_with_gradient_of(value, like):
    """``value``'s values with ``like``'s gradient: torch's in-place edits under ``no_grad`` (e.g. a norm
    clamped with ``clamp_min_`` inside NoGradGuard, whose gradient is still the unclamped one's)."""
    return jax.lax.stop_gradient(value) + (like - jax.lax.stop_gradient(like))


def _check_ord(p) -> float:
    """torch's norm order: any real number, ±inf included (not NaN)."""
    p = float(p)
    if math.isnan(p):
        raise ValueError("vector norm order p must be a number or ±inf; got nan")
    return p


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def vector_norm(x, p: float = 2.0, axis: int = -1, keepdims: bool = False):
    """‖x‖_p along ``axis`` (any p: 0 counts the non-zeros, -inf is min|x|), as torch.linalg.vector_norm, with
    torch's gradient."""
    a = jnp.abs(x)
    if p == math.inf:
        return jnp.max(a, axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return jnp.min(a, axis=axis, keepdims=keepdims)
    if p == 0:
        return jnp.sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    if p == 1:
        return jnp.sum(a, axis=axis, keepdims=keepdims)
    if p == 2:
        return jnp.sqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=keepdims))
    return jnp.sum(a ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


@vector_norm.defjvp
def _vector_norm_jvp(p, axis, keepdims, primals, tangents):
    (x,), (t,) = primals, tangents
    n = vector_norm(x, p, axis, True)
    a, s = jnp.abs(x), jnp.sign(x)
    if math.isinf(p):
        mask = ((a == n) | jnp.isnan(a)).astype(x.dtype)
        d = s * mask / jnp.sum(mask, axis=axis, keepdims=True)
    elif p == 0:
        d = jnp.zeros_like(x)
    elif p == 1:
        d = s
    elif p == 2:
        d = jnp.where(n == 0, 0.0, x / jnp.where(n == 0, 1.0, n))
    elif p < 1:
        d = s * jnp.where(x == 0, 0.0, a ** (p - 1)) * n ** (1 - p)
    else:
        d = jnp.where(n == 0, 0.0, s * a ** (p - 1) / jnp.where(n == 0, 1.0, n ** (p - 1)))
    out = n if keepdims else jnp.squeeze(n, axis)
    dn = jnp.sum(d * t, axis=axis, keepdims=keepdims)
    return out, dn


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """x / max(‖x‖_p, eps) along ``dim``, as torch.nn.functional.normalize (the gradient is torch's: the
    clamped denominator is constant where ‖x‖_p < eps).

    Example:
      >>> normalize(jnp.array([[3.0, 4.0]])).tolist()
      [[0.6000000238418579, 0.800000011920929]]
    """
    check_floating("normalize", input)
    axis = check_dim("normalize", jnp.ndim(input), dim)
    if jnp.ndim(input) == 0:
        input = input[None]
        return (input / clamp_min(vector_norm(input, _check_ord(p), 0, True), eps))[0]
    return input / clamp_min(vector_norm(input, _check_ord(p), axis, True), eps)


def clamp_min(x, lo):
    """torch.clamp_min: NaN stays NaN; the gradient passes where x ≥ lo (the tie included), else 0."""
    return jnp.where(x >= lo, x, jnp.maximum(jax.lax.stop_gradient(x), lo))


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """‖x1 − x2 + eps‖_p over the last dim, as torch.nn.functional.pairwise_distance (eps inside the norm; any
    norm order p, see vector_norm).

    Args:
      x1, x2: (N, D) or (D,), broadcast against each other as torch's; integers compute in float32, as torch's
        (the float eps promotes them).
    """
    x1, x2 = (promote_to_float(a) for a in promote(x1, x2))
    x1, x2 = broadcast("pairwise_distance", x1=x1, x2=x2)
    if jnp.ndim(x1) == 0:
        raise ValueError("pairwise_distance: inputs must have at least 1 dimension; got 0-d arrays")
    return vector_norm(x1 - x2 + eps, _check_ord(p), -1, keepdim)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """Σ (x1/max(‖x1‖, eps))·(x2/max(‖x2‖, eps)) along ``dim``, as torch.nn.functional.cosine_similarity.

    torch's current formula (aten/src/ATen/native/Distance.cpp): each input is divided by its own clamped
    norm before the product, so |result| ≤ 1 (older torch clamped the product of the norms at eps). The
    clamp is made under no_grad in torch, so the gradient is that of the unclamped norms; so here.
    x1 and x2 broadcast against each other, as in torch.

    Example:
      >>> float(cosine_similarity(jnp.array([1.0, 0.0]), jnp.array([1.0, 1.0]), dim=0))
      0.7071067690849304
    """
    x1, x2 = promote(*amp.cast("cosine_similarity", x1, x2))  # torch computes in the promoted dtype
    check_floating("cosine_similarity", x1, "the promoted dtype of x1 and x2")
    try:
        shape = np.broadcast_shapes(jnp.shape(x1), jnp.shape(x2))
    except ValueError:
        raise ValueError(f"cosine_similarity: x1 {jnp.shape(x1)} and x2 {jnp.shape(x2)} do not broadcast") from None
    axis = check_dim("cosine_similarity", len(shape), dim)
    x1, x2 = jnp.broadcast_to(x1, shape), jnp.broadcast_to(x2, shape)
    if len(shape) == 0:
        x1, x2 = x1[None], x2[None]
    n1, n2 = vector_norm(x1, 2.0, axis, True), vector_norm(x2, 2.0, axis, True)
    n1 = value_with_gradient_of(jnp.maximum(n1, eps), n1)
    n2 = value_with_gradient_of(jnp.maximum(n2, eps), n2)
    out = jnp.sum((x1 / n1) * (x2 / n2), axis=axis)
    return out
