"""MultiheadAttention, as torch.nn.MultiheadAttention: a shell over F.multi_head_attention_forward."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_positive_int, check_probability
from jaxdl.nn import init
from jaxdl.nn._module import Module, module, uniform


@module
class MultiheadAttention(Module):
    """torch.nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False).

    out = concat_h(softmax(Q_h K_hᵀ/√d + mask) V_h) W_outᵀ + b_out (F.multi_head_attention_forward). Parameters
    as torch: in_proj_weight (3E, E) ~ xavier_uniform, or q/k/v_proj_weight (E, E|kdim|vdim) each ~ xavier_uniform
    when kdim or vdim ≠ E; in_proj_bias (3E,) = 0; out_proj.weight (E, E) ~ U(±1/√E), out_proj.bias = 0;
    bias_k, bias_v (1, 1, E) ~ xavier_normal. batch_first=False means (L, N, E) inputs, as torch.
    Differs from torch: the forward's key/value arguments are named ``keys``/``values`` (``key`` is the PRNG key of
    every jaxdl apply); eval has no separate fast path (torch's, under no_grad with batched self-attention, gives
    NaN instead of 0 for a fully padded sequence when need_weights=False).
    """

    embed_dim: int
    num_heads: int
    dropout: float = 0.0
    bias: bool = True
    add_bias_kv: bool = False
    add_zero_attn: bool = False
    kdim: int | None = None
    vdim: int | None = None
    batch_first: bool = False

    def __post_init__(self):
        check_positive_int("MultiheadAttention: embed_dim", self.embed_dim)
        check_positive_int("MultiheadAttention: num_heads", self.num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be a multiple of num_heads; got "
                             f"embed_dim={self.embed_dim}, num_heads={self.num_heads}")
        for name in ("kdim", "vdim"):
            if getattr(self, name) is not None:
                check_positive_int(f"MultiheadAttention: {name}", getattr(self, name))
        check_probability("MultiheadAttention dropout", self.dropout)

    @property
    def _qkv_same_embed_dim(self) -> bool:
        """torch's flag: one packed in_proj_weight when kdim == vdim == embed_dim."""
        return self.kdim in (None, self.embed_dim) and self.vdim in (None, self.embed_dim)

    def init(self, key, dtype=jnp.float32):
        E = self.embed_dim
        keys = jax.random.split(key, 6)
        if self._qkv_same_embed_dim:
            params = {"in_proj_weight": init.xavier_uniform_(keys[0], (3 * E, E), dtype=dtype)}
        else:
            dims = (E, self.kdim or E, self.vdim or E)
            params = {f"{n}_proj_weight": init.xavier_uniform_(k, (E, D), dtype=dtype)
                      for n, k, D in zip("qkv", keys[:3], dims)}
        if self.bias:
            params["in_proj_bias"] = jnp.zeros((3 * E,), dtype)
        if self.add_bias_kv:
            params["bias_k"] = init.xavier_normal_(keys[3], (1, 1, E), dtype=dtype)
            params["bias_v"] = init.xavier_normal_(keys[4], (1, 1, E), dtype=dtype)
        params["out_proj"] = {"weight": uniform(keys[5], (E, E), 1.0 / math.sqrt(E), dtype)}
        if self.bias:
            params["out_proj"]["bias"] = jnp.zeros((E,), dtype)
        return params, {}

    def apply(self, params, state, query, keys=None, values=None, *, key_padding_mask=None, need_weights=True,
              attn_mask=None, average_attn_weights=True, is_causal=False, training=False, key=None):
        """Return ``((attn_output, attn_weights or None), state)``, as torch's forward(query, key, value, ...).

        ``keys`` defaults to ``query`` and ``values`` to ``keys`` (self-attention: apply(p, s, x)). Masks follow
        torch: boolean True = NOT allowed (the opposite of F.scaled_dot_product_attention), float masks are added.

        Args:
          query: (N, L, E) (batch_first) or (L, N, E) or unbatched (L, E). keys, values: (N, S, kdim|vdim) likewise.
          key_padding_mask: (N, S) or (S,). attn_mask: (L, S) or (N·num_heads, L, S).
          key: PRNG key for the attention dropout when training with dropout > 0.
        Returns:
          attn_output like query; attn_weights (N, L, S) averaged over heads, or (N, num_heads, L, S).
        """
        if training and self.dropout > 0.0 and key is None:
            raise ValueError("MultiheadAttention: training with dropout > 0 needs a PRNG key: "
                             "apply(params, state, x, training=True, key=jax.random.key(0))")
        keys = query if keys is None else keys
        values = keys if values is None else values
        batched = jnp.ndim(query) == 3
        if self.batch_first and batched:  # one array stays one (torch's transpose keeps `query is key is value`)
            swapped = {id(x): jnp.swapaxes(x, 0, 1) if jnp.ndim(x) == 3 else x for x in (query, keys, values)}
            query, keys, values = (swapped[id(x)] for x in (query, keys, values))
        out_proj = params["out_proj"]
        out, weights = F.multi_head_attention_forward(
            query, keys, values, self.embed_dim, self.num_heads, params.get("in_proj_weight"),
            params.get("in_proj_bias"), params.get("bias_k"), params.get("bias_v"), self.add_zero_attn, self.dropout,
            out_proj["weight"], out_proj.get("bias"), training=training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=params.get("q_proj_weight"), k_proj_weight=params.get("k_proj_weight"),
            v_proj_weight=params.get("v_proj_weight"), average_attn_weights=average_attn_weights,
            is_causal=is_causal, dropout_key=key)
        if self.batch_first and batched:
            out = jnp.swapaxes(out, 0, 1)
        return (out, weights), state
