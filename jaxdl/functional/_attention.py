"""Scaled dot-product attention, as torch.nn.functional.scaled_dot_product_attention."""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp, matmul
from jaxdl.checks import check_probability
from jaxdl.functional._activation import _softmax_jvp, from_output
from jaxdl.functional._dropout import dropout

MISSING_KEY_MSG = ("scaled_dot_product_attention needs dropout_key when dropout_p > 0: call "
                   "scaled_dot_product_attention(q, k, v, dropout_p=0.1, dropout_key=jax.random.key(0)), "
                   "or pass dropout_p=0.0 for eval")


def _check_shapes(query, key, value, attn_mask) -> tuple:
    """Raise on shapes torch refuses; return the broadcast batch dims of query, key and value."""
    qs, ks, vs = jnp.shape(query), jnp.shape(key), jnp.shape(value)
    if min(len(qs), len(ks), len(vs)) < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need at least 2 dims (..., L, E); "
                         f"got shapes {qs}, {ks}, {vs}")
    if qs[-1] != ks[-1]:
        raise ValueError(f"scaled_dot_product_attention: query and key must have the same embedding size E; "
                         f"got query {qs} and key {ks}")
    if ks[-2] != vs[-2]:
        raise ValueError(f"scaled_dot_product_attention: key and value must have the same length S; "
                         f"got key {ks} and value {vs}")
    try:
        batch = np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2])
    except ValueError:
        raise ValueError(f"scaled_dot_product_attention: the batch dims of query, key and value must broadcast "
                         f"(as torch's); got {qs[:-2]}, {ks[:-2]}, {vs[:-2]}") from None
    if attn_mask is not None:
        if not (attn_mask.dtype == jnp.bool_ or jnp.issubdtype(attn_mask.dtype, jnp.floating)):
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be boolean (True = takes part) or "
                            f"float (added to the scores); got dtype {attn_mask.dtype}")
        target = batch + (qs[-2], ks[-2])
        ms = jnp.shape(attn_mask)
        ok = len(ms) <= len(target) and all(m in (1, t) for m, t in zip(ms[::-1], target[::-1]))
        if not ok:
            raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {ms} does not broadcast to "
                             f"(..., L, S) = {target}")
    return batch


def softmax_last(scores):
    """softmax over the last axis with torch's backward y·(g − Σ g·y) from the output (F.softmax's rule): where a
    row saturates (y one-hot) the scores' gradient is exactly zero, as torch's; autodiff through JAX's softmax
    (exp, sum, divide) leaves rounding noise there."""
    return from_output(functools.partial(jax.nn.softmax, axis=-1), _softmax_jvp(-1, scores.dtype), scores)


def safe_softmax(scores):
    """softmax over the last axis, with rows that are all −inf giving zeros (value and gradient), as torch's
    ``_safe_softmax`` inside SDPA's math backend."""
    dead = jnp.all(scores == -jnp.inf, axis=-1, keepdims=True)  # (..., L, 1)
    probs = softmax_last(jnp.where(dead, 0.0, scores))
    return jnp.where(dead, 0.0, probs)


# einsum specs of the two layouts: torch's (..., L, E) and the (B, T, H, d) one the GPT and MultiheadAttention
# use, whose einsums read the projections' output directly (no head transposes: faster on XLA:CPU, w4 profile).
_SPECS = {"torch": ("...le,...se->...ls", "...ls,...sv->...lv"),
          "bthd": ("bqhd,bkhd->bhqk", "bhqk,bkhd->bqhd")}


def attention(query, key, value, mask=None, *, scale: float, layout: str = "torch", safe: bool = True,
              dropout_p: float = 0.0, dropout_key=None, scale_query: bool = False):
    """``(softmax(Q Kᵀ·scale + mask) V, weights)``: the one attention formula behind
    scaled_dot_product_attention, nn.MultiheadAttention and nn.GPT (no argument checks: the callers check).

    Args:
      query, key, value: (..., L, E), (..., S, E), (..., S, Ev) for layout="torch" (equal batch dims);
        (B, L, H, d), (B, S, H, d), (B, S, H, dv) for layout="bthd".
      mask: None, boolean (True = takes part) or float (added), broadcastable to the scores without rank
        promotion: (..., L, S) for "torch", (B|1, H|1, L, S) for "bthd".
      safe: rows whose keys are all masked give zeros (torch's SDPA ``_safe_softmax``); False is the plain
        softmax (NaN rows), as torch's MultiheadAttention need_weights path, and all a causal mask ever needs.
      scale_query: scale Q before QKᵀ, (Q·scale)Kᵀ + mask, as torch's MultiheadAttention need_weights path
        (q_scaled, then baddbmm(mask, q_scaled, kᵀ)); False scales the scores, (QKᵀ)·scale + mask, as torch's
        SDPA kernels. The values agree to rounding; the order decides how values and gradients round.
    Returns:
      output like query (last dim Ev or dv) and the weights (..., L, S) or (B, H, L, S), after dropout. Under
      jaxdl.amp.autocast: QKᵀ summed and softmaxed in float32, the weights and output in the low dtype.
    """
    to_scores, to_output = (functools.partial(_einsum, spec) for spec in _SPECS[layout])
    low, (query, key, value) = amp.lowered("scaled_dot_product_attention", query, key, value)
    if scale_query:
        query = query * jnp.asarray(scale, query.dtype)
    if low is None:
        scores = to_scores(query, key, None)
    else:  # torch's flash kernels: QKᵀ, mask and softmax in float32, the weights rounded to the low dtype for ·V
        scores = amp.accumulate(to_scores, query, key)
    if not scale_query:
        scores = scores * jnp.asarray(scale, scores.dtype)
    if mask is not None:
        if mask.dtype == jnp.bool_:
            scores = jnp.where(mask, scores, -jnp.inf)
        else:
            scores = scores + mask.astype(scores.dtype)
    weights = safe_softmax(scores) if safe else softmax_last(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True, key=dropout_key)
    if low is None:
        return to_output(weights, value, None), weights
    weights = weights.astype(low)
    return amp.accumulate(to_output, weights, value).astype(low), weights


def _einsum(spec, a, b, preferred_element_type):
    return matmul.einsum(spec, a, b, preferred_element_type=preferred_element_type)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, *, dropout_key=None):
    """softmax(Q Kᵀ · scale + mask) V, as torch.nn.functional.scaled_dot_product_attention.

    ``attn_mask``: boolean (True = takes part) or float (added to the scores), broadcastable to (..., L, S).
    ``is_causal`` masks with the top-left lower triangle tril(ones(L, S)); it cannot be combined with attn_mask.
    ``scale`` defaults to 1/√E. A query row whose keys are all masked gives zeros (and zero gradients), as torch.
    The batch dims of query, key and value broadcast against each other, as torch's.
    Differs from jax.nn.dot_product_attention: torch's (..., L, E) layout (jax: (B, T, N, H)) and zeros for
    fully-masked rows (jax: a mean over the masked keys). Dropout is applied to the attention weights.

    Args:
      query: (..., L, E). key: (..., S, E). value: (..., S, Ev).
      dropout_key: a jax.random key, required when dropout_p > 0.
    Returns:
      (..., L, Ev).

    Examples:
      >>> import jax, jaxdl.functional as F
      >>> q = jax.random.normal(jax.random.key(0), (2, 4, 5, 8))  # (N, heads, L, E)
      >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
      (2, 4, 5, 8)
    """
    check_probability("scaled_dot_product_attention: dropout", dropout_p)
    batch = _check_shapes(query, key, value, attn_mask)
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: explicit attn_mask should not be set when is_causal=True")
    if dropout_p > 0.0 and dropout_key is None:
        raise ValueError(MISSING_KEY_MSG)
    L, S, E = jnp.shape(query)[-2], jnp.shape(key)[-2], jnp.shape(query)[-1]
    query, key, value = (jnp.broadcast_to(x, batch + jnp.shape(x)[-2:]) for x in (query, key, value))
    if is_causal:
        attn_mask = jnp.tril(jnp.ones((L, S), dtype=bool))
    if attn_mask is not None:
        attn_mask = jnp.reshape(attn_mask, (1,) * (len(batch) + 2 - attn_mask.ndim) + jnp.shape(attn_mask))
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    return attention(query, key, value, attn_mask, scale=scale, dropout_p=dropout_p, dropout_key=dropout_key)[0]
