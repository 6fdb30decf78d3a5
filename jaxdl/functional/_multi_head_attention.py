"""Multi-head attention, as torch.nn.functional.multi_head_attention_forward (the body of nn.MultiheadAttention)."""
from __future__ import annotations

import math

import jax.numpy as jnp

from jaxdl.checks import check_probability
from jaxdl.functional._attention import attention
from jaxdl.functional._linear import linear

MISSING_KEY_MSG = ("multi_head_attention_forward needs dropout_key when training with dropout_p > 0: pass "
                   "dropout_key=jax.random.key(0), or training=False / dropout_p=0.0")


def canonical_mask(mask, name: str, dtype):
    """torch's ``_canonical_mask``: a boolean mask (True = masked out) becomes 0 / −inf in ``dtype``; a float mask
    is added as it is (cast to ``dtype``); any other dtype is refused."""
    if mask is None:
        return None
    mask = jnp.asarray(mask)
    if mask.dtype == jnp.bool_:
        return jnp.where(mask, -jnp.inf, 0.0).astype(dtype)
    if not jnp.issubdtype(mask.dtype, jnp.floating):
        raise TypeError(f"{name} must be boolean (True = masked out) or float (added to the scores); "
                        f"got dtype {mask.dtype}")
    return mask.astype(dtype)


def _check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's ``_mha_shape_check``: whether the input is batched (3-D query) or not (2-D); raise otherwise."""
    nd = jnp.ndim(query)
    if nd not in (2, 3):
        raise ValueError(f"multi_head_attention_forward: query must be 2-D (unbatched) or 3-D (batched); "
                         f"got shape {jnp.shape(query)}")
    if jnp.ndim(key) != nd or jnp.ndim(value) != nd:
        raise ValueError(f"multi_head_attention_forward: key and value must be {nd}-D like query; got shapes "
                         f"{jnp.shape(key)} and {jnp.shape(value)}")
    if key_padding_mask is not None and jnp.ndim(key_padding_mask) != nd - 1:
        raise ValueError(f"multi_head_attention_forward: key_padding_mask must be {nd - 1}-D for a {nd}-D query; "
                         f"got shape {jnp.shape(key_padding_mask)}")
    if attn_mask is not None and jnp.ndim(attn_mask) not in (2, 3):
        raise ValueError(f"multi_head_attention_forward: attn_mask must be 2-D or 3-D; got shape "
                         f"{jnp.shape(attn_mask)}")
    return nd == 3


def _pad_last(mask):
    """One more key column that takes part (0 added): torch's ``pad(mask, (0, 1))`` for bias_k and the zero key."""
    return None if mask is None else jnp.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, 1)])


def _project(query, key, value, E, in_proj_weight, in_proj_bias, separate, q_w, k_w, v_w, shared: str):
    """The in-projection, as torch's ``_in_projection_packed`` / ``_in_projection``: with the packed (3E, E)
    ``in_proj_weight``, one matmul when query, key and value are one array (``shared="qkv"``: self-attention),
    query's and one for key and value together when key is value (``"kv"``: encoder-decoder attention), else
    three; with ``separate`` (kdim/vdim ≠ E) the three q/k/v_proj_weight. Splitting the packed product keeps
    torch's sums: each output element is the same dot product, but the matmul's shape decides how its kernel
    (MKL's or XLA's) orders and rounds them."""
    b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else jnp.split(in_proj_bias, 3)
    if not separate:
        if in_proj_weight is None:
            raise ValueError("multi_head_attention_forward: in_proj_weight is None and use_separate_proj_weight "
                             "is False")
        q_w, k_w, v_w = jnp.split(in_proj_weight, 3)
    elif q_w is None or k_w is None or v_w is None:
        raise ValueError("multi_head_attention_forward: use_separate_proj_weight=True needs q_proj_weight, "
                         "k_proj_weight and v_proj_weight")
    for name, w, x in (("q_proj_weight", q_w, query), ("k_proj_weight", k_w, key), ("v_proj_weight", v_w, value)):
        if tuple(jnp.shape(w)) != (E, jnp.shape(x)[-1]):
            raise ValueError(f"multi_head_attention_forward: {name} must have shape {(E, jnp.shape(x)[-1])}; "
                             f"got {tuple(jnp.shape(w))}")
    if separate or shared == "":
        return linear(query, q_w, b_q), linear(key, k_w, b_k), linear(value, v_w, b_v)
    if shared == "qkv":
        return tuple(jnp.split(linear(query, in_proj_weight, in_proj_bias), 3, axis=-1))
    kv_b = None if in_proj_bias is None else in_proj_bias[E:]
    return (linear(query, q_w, b_q), *jnp.split(linear(key, in_proj_weight[E:], kv_b), 2, axis=-1))


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float,
                                 out_proj_weight, out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None, use_separate_proj_weight: bool = False,
                                 q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True, is_causal: bool = False, *,
                                 dropout_key=None):
    """concat_h(softmax(Q_h K_hᵀ/√d + mask) V_h) W_outᵀ + b_out: torch.nn.functional.multi_head_attention_forward.

    Sequence-first as torch: query (L, N, E) or (L, E), key/value (S, N, Ek|Ev) or (S, E·). Q, K, V come from the
    packed ``in_proj_weight`` (3E, E) — by one matmul when query is key is value, as torch's
    ``_in_projection_packed`` (torch's unbatched path loses that identity in its unsqueeze and makes three; the
    values agree to rounding) — or, with ``use_separate_proj_weight``, from q/k/v_proj_weight; ``bias_k``/
    ``bias_v`` (1, 1, E) append one key/value, ``add_zero_attn`` one zero key/value after the heads split; static_k/
    static_v (N·H, S, d) replace the projected keys/values. Masks: boolean True = masked out, float added;
    key_padding_mask (N, S), attn_mask (L, S) or (N·H, L, S). ``is_causal`` is torch's hint: it needs attn_mask and,
    without key_padding_mask and need_weights, replaces it by the causal tril(L, S) as torch's SDPA call does.
    need_weights=True is torch's explicit path (plain softmax: a row whose keys are all masked is NaN);
    need_weights=False its SDPA path (such a row is 0). Dropout on the weights when training (``dropout_key``).

    Returns:
      (attn_output like query with last dim E, weights (N, L, S) averaged over heads or (N, H, L, S), unbatched
      without N; None when need_weights=False).
    """
    batched = _check(query, key, value, key_padding_mask, attn_mask, num_heads)
    shared = ("qkv" if query is key else "kv") if key is value else ""  # before reshapes make new arrays
    if not batched:
        query, key, value = query[:, None], key[:, None], value[:, None]  # (T, E) -> (T, 1, E)
        key_padding_mask = None if key_padding_mask is None else key_padding_mask[None]
    L, N, E = jnp.shape(query)
    S = jnp.shape(key)[0]
    H, dtype = num_heads, query.dtype
    if E != embed_dim_to_check:
        raise ValueError(f"multi_head_attention_forward: expected query's embedding dim {embed_dim_to_check}; "
                         f"got {E}")
    if E % H:
        raise ValueError(f"multi_head_attention_forward: embed_dim {E} is not divisible by num_heads {H}")
    d = E // H
    if jnp.shape(key)[:2] != jnp.shape(value)[:2] or jnp.shape(key)[1] != N:
        raise ValueError(f"multi_head_attention_forward: key and value must have query's batch and one length; "
                         f"got query {jnp.shape(query)}, key {jnp.shape(key)}, value {jnp.shape(value)}")
    if not use_separate_proj_weight and jnp.shape(key) != jnp.shape(value):
        raise ValueError(f"multi_head_attention_forward: key shape {jnp.shape(key)} does not match value shape "
                         f"{jnp.shape(value)}")
    check_probability("multi_head_attention_forward: dropout_p", dropout_p)
    dropout_p = dropout_p if training else 0.0
    if dropout_p > 0.0 and dropout_key is None:
        raise ValueError(MISSING_KEY_MSG)
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    if is_causal and attn_mask is None:
        raise ValueError("multi_head_attention_forward: is_causal is a hint that attn_mask is the causal mask and "
                         "needs attn_mask (e.g. nn.Transformer.generate_square_subsequent_mask(L))")
    causal = is_causal and key_padding_mask is None and not need_weights  # torch hands is_causal to SDPA
    attn_mask = None if causal else canonical_mask(attn_mask, "attn_mask", dtype)
    if attn_mask is not None:
        want = (L, S) if attn_mask.ndim == 2 else ((N * H, L, S) if batched else (H, L, S))
        if tuple(attn_mask.shape) != want:
            raise ValueError(f"multi_head_attention_forward: attn_mask must have shape {want}; got "
                             f"{tuple(attn_mask.shape)}")
        attn_mask = attn_mask.reshape(-1, L, S)  # (1 | N·H, L, S)
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != (N, S):
        raise ValueError(f"multi_head_attention_forward: key_padding_mask must have shape {(N, S)}; got "
                         f"{tuple(key_padding_mask.shape)}")

    q, k, v = _project(query, key, value, E, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                       q_proj_weight, k_proj_weight, v_proj_weight, shared)  # (L, N, E), (S, N, E), (S, N, E)
    if (bias_k is None) != (bias_v is None):
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must be given together")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise ValueError("multi_head_attention_forward: bias_k/bias_v cannot be added to static_k/static_v")
        k = jnp.concatenate([k, jnp.broadcast_to(bias_k, (1, N, E)).astype(k.dtype)])  # (S+1, N, E)
        v = jnp.concatenate([v, jnp.broadcast_to(bias_v, (1, N, E)).astype(v.dtype)])
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    heads = lambda x: jnp.swapaxes(x.reshape(x.shape[0], N * H, d), 0, 1)  # (T, N, E) -> (N·H, T, d)
    q = heads(q)
    k = heads(k) if static_k is None else _static(static_k, "static_k", N * H, d)
    v = heads(v) if static_v is None else _static(static_v, "static_v", N * H, d)
    if add_zero_attn:
        k = jnp.concatenate([k, jnp.zeros((N * H, 1, d), k.dtype)], axis=1)
        v = jnp.concatenate([v, jnp.zeros((N * H, 1, d), v.dtype)], axis=1)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    S = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape != (N, S):
            raise ValueError(f"multi_head_attention_forward: key_padding_mask must cover the {S} keys; got shape "
                             f"{tuple(key_padding_mask.shape)}")
        kpm = jnp.broadcast_to(key_padding_mask[:, None, None, :], (N, H, 1, S)).reshape(N * H, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if causal:
        attn_mask = jnp.tril(jnp.ones((L, S), bool))[None]  # SDPA's is_causal: top-left triangle
    # need_weights: torch's explicit path, q·√(1/d) (its scale, not 1/√d: they differ in the last bit for d = 2)
    # before baddbmm(mask, q, kᵀ); otherwise its SDPA kernel, (QKᵀ)·(1/√d) + mask. The order sets the rounding.
    scale = math.sqrt(1.0 / d) if need_weights else 1.0 / math.sqrt(d)
    out, weights = attention(q, k, v, attn_mask, scale=scale, safe=not need_weights, dropout_p=dropout_p,
                             dropout_key=dropout_key, scale_query=need_weights)  # (N·H, L, d), (N·H, L, S)
    out = jnp.transpose(out.reshape(N, H, L, d), (2, 0, 1, 3)).reshape(L, N, E)
    out = linear(out, out_proj_weight, out_proj_bias)  # (L, N, E)
    if not batched:
        out = out[:, 0]
    if not need_weights:
        return out, None
    weights = weights.reshape(N, H, L, S)
    if average_attn_weights:
        weights = jnp.mean(weights, axis=1)  # (N, L, S)
    return out, weights if batched else weights[0]


def _static(x, name, NH, d):
    if jnp.ndim(x) != 3 or jnp.shape(x)[0] != NH or jnp.shape(x)[2] != d:
        raise ValueError(f"multi_head_attention_forward: {name} must have shape (N·num_heads, S, head_dim) = "
                         f"({NH}, S, {d}); got {jnp.shape(x)}")
    return x
