"""The GPT's pre-LayerNorm decoder block and its parts: CausalSelfAttention, MLP, TransformerBlock.

Parameter names are the lecture's GPTModel's (att.W_query/W_key/W_value/out_proj, ff.layers.{0,2}, norm1, norm2),
so a block's params joined with '.' are its torch state_dict keys. Inside a block the residual stream is
(B·T, E): XLA:CPU runs the gradient of a 2-D matmul ~1.4x faster than a 3-D one (benchmarks/README.md).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import promote
from jaxdl.nn._linear import Linear
from jaxdl.nn._module import Module, module, split_keys
from jaxdl.nn._normalization import LayerNorm

ACTIVATIONS = ("gelu", "gelu_tanh")  # torch's nn.GELU() (erf) and nn.GELU(approximate="tanh") (GPT-2's)


def _linear(p, x):
    return F.linear(x, p["weight"], p.get("bias"))


@module
class CausalSelfAttention(Module):
    """Causal multi-head self-attention: out_proj(concat_h softmax(q_h k_hᵀ/√d + causal) v_h), q/k/v = W_query/
    W_key/W_value(x), dropout on the attention weights. Torch counterpart: the lecture's MultiHeadAttention
    (its ``mask`` buffer is not a parameter here: the causal mask is built from the shapes).
    ``qkv_bias``: biases in W_query/W_key/W_value; ``bias``: in out_proj (nanoGPT's bias=False has none).
    """

    emb_dim: int
    n_heads: int
    drop_rate: float = 0.0
    qkv_bias: bool = False
    bias: bool = True

    def init(self, key, dtype=jnp.float32):
        E = self.emb_dim
        keys = jax.random.split(key, 4)
        params = {name: Linear(E, E, self.qkv_bias).init(k, dtype)[0]
                  for name, k in zip(("W_query", "W_key", "W_value"), keys[:3])}
        params["out_proj"] = Linear(E, E, self.bias).init(keys[3], dtype)[0]
        return params, {}

    def apply(self, params, state, input, *, training=False, key=None):
        """input (B, T, E) -> (B, T, E)."""
        B, T, E = jnp.shape(input)
        return self.forward(params, input.reshape(B * T, E), (B, T), training, key)[0].reshape(B, T, E), state

    def forward(self, p, x, shape, training=False, key=None, cache=None, pos=None):
        """x (B·T, E) -> ((B·T, E), cache). With ``cache`` ({"k", "v"}: (B, C, H, d)) the T new keys/values are
        written at positions pos..pos+T−1 and the queries attend to every cached position ≤ their own."""
        B, T = shape
        E, H = self.emb_dim, self.n_heads
        # separate q/k/v projections (no slicing of a fused qkv) straight into the (B, T, H, d) layout
        q, k, v = (_linear(p[n], x).reshape(B, T, H, E // H) for n in ("W_query", "W_key", "W_value"))
        if cache is None:
            mask = jnp.tril(jnp.ones((T, T), bool))[None, None]
        else:
            k = jax.lax.dynamic_update_slice_in_dim(cache["k"], k.astype(cache["k"].dtype), pos, axis=1)
            v = jax.lax.dynamic_update_slice_in_dim(cache["v"], v.astype(cache["v"].dtype), pos, axis=1)
            cache = {"k": k, "v": v}
            C = k.shape[1]
            mask = (jnp.arange(C)[None, :] <= pos + jnp.arange(T)[:, None])[None, None]  # (1, 1, T, C)
        # with a causal mask every row keeps its diagonal, so torch's "safe" softmax is the plain one here
        ctx, _ = F.attention(q, k, v, mask, scale=1.0 / math.sqrt(E // H), layout="bthd", safe=False,
                             dropout_p=self.drop_rate if training else 0.0, dropout_key=key)
        return _linear(p["out_proj"], ctx.reshape(B * T, E)), cache


@module
class MLP(Module):
    """Linear(E, 4E) → GELU → Linear(4E, E) under the names layers.0 and layers.2, as the lecture's FeedForward.
    ``activation``: "gelu_tanh" (GPT-2, the lecture) or "gelu" (exact erf form: nanoGPT's nn.GELU())."""

    emb_dim: int
    activation: str = "gelu_tanh"
    bias: bool = True

    def init(self, key, dtype=jnp.float32):
        E = self.emb_dim
        k0, k2 = jax.random.split(key)
        return {"layers": {"0": Linear(E, 4 * E, self.bias).init(k0, dtype)[0],
                           "2": Linear(4 * E, E, self.bias).init(k2, dtype)[0]}}, {}

    def apply(self, params, state, input, *, training=False, key=None):
        approximate = "tanh" if self.activation == "gelu_tanh" else "none"
        h = F.gelu(_linear(params["layers"]["0"], input), approximate=approximate)
        return _linear(params["layers"]["2"], h), state


@module
class TransformerBlock(Module):
    """x += drop(att(LN1(x))); x += drop(ff(LN2(x))): the lecture's TransformerBlock (pre-LayerNorm GPT-2).
    LayerNorms are F.layer_norm with eps ``layer_norm_eps``, without bias when ``bias=False`` (nanoGPT)."""

    emb_dim: int
    n_heads: int
    drop_rate: float = 0.0
    qkv_bias: bool = False
    bias: bool = True
    activation: str = "gelu_tanh"
    layer_norm_eps: float = 1e-5

    @property
    def att(self):
        return CausalSelfAttention(self.emb_dim, self.n_heads, self.drop_rate, self.qkv_bias, self.bias)

    @property
    def ff(self):
        return MLP(self.emb_dim, self.activation, self.bias)

    def init(self, key, dtype=jnp.float32):
        ka, kf = jax.random.split(key)
        return {"att": self.att.init(ka, dtype)[0], "ff": self.ff.init(kf, dtype)[0],
                "norm1": self.norm_params(dtype), "norm2": self.norm_params(dtype)}, {}

    @property
    def ln(self):
        """The block's LayerNorm (norm1, norm2, and the GPT's final_norm)."""
        return LayerNorm(self.emb_dim, self.layer_norm_eps, bias=self.bias)

    def norm_params(self, dtype):
        """A fresh LayerNorm's params (LayerNorm.init makes new arrays each call: a shared buffer can't be donated)."""
        return self.ln.init(None, dtype)[0]

    def norm(self, p, x):
        return self.ln.apply(p, {}, x)[0]

    def apply(self, params, state, input, *, training=False, key=None):
        """input (B, T, E) -> (B, T, E)."""
        B, T, E = jnp.shape(input)
        return self.forward(params, input.reshape(B * T, E), (B, T), training, key)[0].reshape(B, T, E), state

    def forward(self, p, x, shape, training=False, key=None, cache=None, pos=None):
        """x (B·T, E) -> ((B·T, E), cache); see CausalSelfAttention.forward for ``cache``/``pos``."""
        ka, k1, k2 = split_keys(key, 3)
        drop = lambda h, k: F.dropout(h, self.drop_rate, training, key=k)
        h, cache = self.att.forward(p["att"], self.norm(p["norm1"], x), shape, training, ka, cache, pos)
        x = _residual(x, drop(h, k1))
        return _residual(x, drop(self.ff.apply(p["ff"], {}, self.norm(p["norm2"], x))[0], k2)), cache


def _residual(x, h):
    """x + h in their promoted dtype, as torch's add: under autocast h comes out of a Linear in bfloat16 while the
    residual stream x stays float32, and the sum is float32."""
    x, h = promote(x, h)
    return x + h
