"""MultiheadAttention, as torch.nn.MultiheadAttention (fused in_proj_weight, out_proj)."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_positive_int, check_probability
from jaxdl.nn._module import Module, module, uniform


def _float_mask(mask, dtype):
    """torch's _canonical_mask: a boolean mask (True = masked out) becomes 0 / −inf; a float mask is kept."""
    if mask.dtype == jnp.bool_:
        return jnp.where(mask, -jnp.inf, 0.0).astype(dtype)
    return mask.astype(dtype)


@module
class MultiheadAttention(Module):
    """torch.nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False).

    out = concat_h(softmax(Q_h K_hᵀ/√d + mask) V_h) W_outᵀ + b_out, with [Q K V] = [q k v] W_inᵀ + b_in split
    into num_heads heads of d = embed_dim/num_heads. Parameters as torch: in_proj_weight (3E, E) ~
    xavier_uniform, in_proj_bias (3E,) = 0, out_proj.weight (E, E) ~ U(±1/√E), out_proj.bias = 0.
    As torch, batch_first=False means (L, N, E) inputs. Differs from torch: the forward's key/value arguments
    are named ``keys``/``values`` (``key`` is the PRNG key of every jaxdl apply); only embed_dim == kdim == vdim.
    """

    embed_dim: int
    num_heads: int
    dropout: float = 0.0
    bias: bool = True
    batch_first: bool = False

    def __post_init__(self):
        check_positive_int("MultiheadAttention: embed_dim", self.embed_dim)
        check_positive_int("MultiheadAttention: num_heads", self.num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be a positive multiple of num_heads; got "
                             f"embed_dim={self.embed_dim}, num_heads={self.num_heads}")
        check_probability("MultiheadAttention dropout", self.dropout)

    def init(self, key, dtype=jnp.float32):
        E = self.embed_dim
        wkey, okey = jax.random.split(key)
        bound = math.sqrt(6.0 / (E + 3 * E))  # xavier_uniform_ on the fused (3E, E) weight
        params = {"in_proj_weight": uniform(wkey, (3 * E, E), bound, dtype),
                  "out_proj": {"weight": uniform(okey, (E, E), 1.0 / math.sqrt(E), dtype)}}
        if self.bias:
            params["in_proj_bias"] = jnp.zeros((3 * E,), dtype)
            params["out_proj"]["bias"] = jnp.zeros((E,), dtype)
        return params, {}

    def apply(self, params, state, query, keys=None, values=None, *, key_padding_mask=None, need_weights=True,
              attn_mask=None, average_attn_weights=True, is_causal=False, training=False, key=None):
        """Return ``((attn_output, attn_weights or None), state)``, as torch's forward(query, key, value, ...).

        torch's ``key``/``value`` inputs are named ``keys``/``values`` here because ``key`` is jaxdl's PRNG-key
        argument; ``keys`` defaults to ``query`` and ``values`` to ``keys`` (self-attention: apply(p, s, x)).
        Masks follow torch: boolean True = NOT allowed (the opposite of F.scaled_dot_product_attention), float
        masks are added; a row with every key masked is NaN when need_weights=True and zeros otherwise, as torch.

        Args:
          query: (N, L, E) (batch_first) or (L, N, E) or unbatched (L, E). keys, values: (N, S, E) likewise.
          key_padding_mask: (N, S) or (S,), True/−inf = padding. attn_mask: (L, S) or (N·num_heads, L, S).
          is_causal: torch's hint that attn_mask is the causal mask; like torch it needs attn_mask.
          key: PRNG key for the attention dropout when training with dropout > 0.
        Returns:
          attn_output like query; attn_weights (N, L, S) averaged over heads, or (N, num_heads, L, S).
        """
        keys = query if keys is None else keys
        values = keys if values is None else values
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: need attn_mask if specifying the is_causal hint "
                             "(or pass attn_mask=None, is_causal=False)")
        unbatched = jnp.ndim(query) == 2
        q, k, v = (x[None] if unbatched else (x if self.batch_first else jnp.swapaxes(x, 0, 1))
                   for x in (query, keys, values))  # -> (N, L|S, E)
        if unbatched and key_padding_mask is not None:
            key_padding_mask = key_padding_mask[None]  # (S,) -> (1, S)
        self._check(q, k, v, key_padding_mask, attn_mask)
        N, L, E = q.shape
        S, H = k.shape[1], self.num_heads
        w, b = params["in_proj_weight"], params.get("in_proj_bias")
        wq, wk, wv = jnp.split(w, 3)
        bq, bk, bv = (None, None, None) if b is None else jnp.split(b, 3)
        heads = lambda x, W, B, T: F.linear(x, W, B).reshape(N, T, H, E // H)  # (N, T, H, d)
        qh, kh, vh = heads(q, wq, bq, L), heads(k, wk, bk, S), heads(v, wv, bv, S)

        mask = None
        if attn_mask is not None:
            m = _float_mask(attn_mask, q.dtype)
            mask = m[None, None] if m.ndim == 2 else m.reshape(N, H, L, S)  # (N|1, H|1, L, S)
        if key_padding_mask is not None:
            kpm = _float_mask(key_padding_mask, q.dtype)[:, None, None, :]  # (N, 1, 1, S)
            mask = kpm if mask is None else mask + kpm
        # torch's need_weights path uses a plain softmax (NaN rows); its SDPA path the safe one (zero rows).
        out, weights = F.attention(qh, kh, vh, mask, scale=1.0 / math.sqrt(E // H), layout="bthd",
                                   safe=not need_weights, dropout_p=self.dropout if training else 0.0, dropout_key=key)
        out = out.reshape(N, L, E)
        out = F.linear(out, params["out_proj"]["weight"], params["out_proj"].get("bias"))
        out = out[0] if unbatched else (out if self.batch_first else jnp.swapaxes(out, 0, 1))
        if not need_weights:
            return (out, None), state
        weights = jnp.mean(weights, axis=1) if average_attn_weights else weights
        return (out, weights[0] if unbatched else weights), state

    def _check(self, q, k, v, key_padding_mask, attn_mask) -> None:
        E = self.embed_dim
        if q.ndim != 3 or k.ndim != 3 or v.ndim != 3:
            raise ValueError(f"MultiheadAttention: query, keys and values must all be 3-D (batched) or 2-D "
                             f"(unbatched); got shapes {q.shape}, {k.shape}, {v.shape}")
        if q.shape[-1] != E or k.shape[-1] != E or v.shape[-1] != E:
            raise ValueError(f"MultiheadAttention: expected last dim embed_dim={E}; got query {q.shape}, "
                             f"keys {k.shape}, values {v.shape}")
        if k.shape[:2] != v.shape[:2] or q.shape[0] != k.shape[0]:
            raise ValueError(f"MultiheadAttention: batch sizes and key/value lengths must match; got query "
                             f"{q.shape}, keys {k.shape}, values {v.shape} (after batch_first={self.batch_first})")
        N, L, S = q.shape[0], q.shape[1], k.shape[1]
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != (N, S):
            raise ValueError(f"MultiheadAttention: key_padding_mask must have shape (N, S) = {(N, S)}; "
                             f"got {tuple(key_padding_mask.shape)}")
        if attn_mask is not None and tuple(attn_mask.shape) not in ((L, S), (N * self.num_heads, L, S)):
            raise ValueError(f"MultiheadAttention: attn_mask must have shape (L, S) = {(L, S)} or "
                             f"(N*num_heads, L, S) = {(N * self.num_heads, L, S)}; got {tuple(attn_mask.shape)}")
