"""A GPT-2 style language model built from the lecture's config keys (GPT_CONFIG_124M)."""
from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.functional._checks import check_probability
from jaxdl.nn._embedding import Embedding
from jaxdl.nn._linear import Linear
from jaxdl.nn._module import Module, module, split_keys
from jaxdl.nn._normalization import LayerNorm

CONFIG_KEYS = ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias")
OPTIONAL_KEYS = ("tie_weights",)


@module
class GPT(Module):
    """GPT-2 style decoder: logits = out_head(LN(blocks(drop(tok_emb[idx] + pos_emb[0:T])))).

    Each of n_layers pre-LayerNorm blocks computes x += drop(att(LN1(x))); x += drop(ff(LN2(x))) where att is
    causal multi-head self-attention (dropout on its weights) and ff = Linear(E, 4E) → GELU(tanh) → Linear(4E, E).
    Torch counterpart: the lecture's GPTModel, reproduced in jaxdl/parity/_torch_gpt.py with the same
    state_dict names (tok_emb, pos_emb, trf_blocks.{i}.att.W_query/W_key/W_value/out_proj, ff.layers.{0,2},
    norm1, norm2, final_norm, out_head); LayerNorms are torch.nn.LayerNorm (weight/bias, eps 1e-5).
    GELU uses the tanh approximation as GPT-2 and the lecture do (torch's nn.GELU default is erf).
    ``tie_weights=True`` drops out_head and uses tok_emb.weight as the output projection.

    Args (apply):
      input: (B, T) integer token ids, T ≤ context_length. Returns logits (B, T, vocab_size).

    Examples:
      >>> import jax, jax.numpy as jnp, jaxdl.nn as nn
      >>> model = nn.GPT(vocab_size=65, context_length=16, emb_dim=32, n_heads=4, n_layers=2)
      >>> params, state = model.init(jax.random.key(0))
      >>> model.apply(params, state, jnp.zeros((2, 10), jnp.int32))[0].shape
      (2, 10, 65)
    """

    vocab_size: int
    context_length: int
    emb_dim: int
    n_heads: int
    n_layers: int
    drop_rate: float = 0.0
    qkv_bias: bool = False
    tie_weights: bool = False

    def __post_init__(self):
        for name in ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"GPT: {name} must be a positive int; got {value!r}")
        if self.emb_dim % self.n_heads:
            raise ValueError(f"GPT: emb_dim must be divisible by n_heads; got emb_dim={self.emb_dim}, "
                             f"n_heads={self.n_heads}")
        check_probability("GPT drop_rate", self.drop_rate)

    @classmethod
    def from_config(cls, cfg: dict) -> "GPT":
        """GPT(**cfg) with exactly the lecture's keys (+ optional tie_weights); unknown or missing keys raise."""
        unknown = sorted(set(cfg) - set(CONFIG_KEYS) - set(OPTIONAL_KEYS))
        missing = [k for k in CONFIG_KEYS if k not in cfg]
        if unknown or missing:
            raise ValueError(f"GPT config: unknown keys {unknown}, missing keys {missing}; expected "
                             f"{list(CONFIG_KEYS)} (+ optional {list(OPTIONAL_KEYS)})")
        return cls(**cfg)

    def config(self) -> dict:
        """The config dict this model was built from (inverse of from_config)."""
        return dataclasses.asdict(self)

    # --- parameters -----------------------------------------------------------------------
    def init(self, key, dtype=jnp.float32):
        E, V = self.emb_dim, self.vocab_size
        keys = iter(jax.random.split(key, 3 + 6 * self.n_layers))
        params = {"tok_emb": Embedding(V, E).init(next(keys), dtype)[0],
                  "pos_emb": Embedding(self.context_length, E).init(next(keys), dtype)[0],
                  "trf_blocks": {}}
        ln = lambda: LayerNorm(E).init(None, dtype)[0]  # fresh arrays each time: a shared buffer can't be donated
        for i in range(self.n_layers):
            att = {name: Linear(E, E, self.qkv_bias).init(next(keys), dtype)[0]
                   for name in ("W_query", "W_key", "W_value")}
            att["out_proj"] = Linear(E, E).init(next(keys), dtype)[0]
            ff = {"layers": {"0": Linear(E, 4 * E).init(next(keys), dtype)[0],
                             "2": Linear(4 * E, E).init(next(keys), dtype)[0]}}
            params["trf_blocks"][str(i)] = {"att": att, "ff": ff, "norm1": ln(), "norm2": ln()}
        params["final_norm"] = ln()
        if not self.tie_weights:
            params["out_head"] = Linear(E, V, bias=False).init(next(keys), dtype)[0]
        return params, {}

    # --- forward --------------------------------------------------------------------------
    def _attention(self, p, x, shape, training, key):
        B, T = shape
        E, H = self.emb_dim, self.n_heads
        # Causal attention written for XLA:CPU (w4 profile, benchmarks/README.md): separate q/k/v projections
        # (no slicing of a fused qkv), einsums straight on the (B, T, H, d) layout (no head transposes), and a
        # plain softmax — with the causal mask every row keeps its diagonal, so torch's "safe" softmax (zeros for
        # all-masked rows) is the plain one here, values and gradients.
        q, k, v = (F.linear(x, p[n]["weight"], p[n]["bias"] if self.qkv_bias else None).reshape(B, T, H, E // H)
                   for n in ("W_query", "W_key", "W_value"))
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) * jnp.asarray(1.0 / math.sqrt(E // H), x.dtype)
        scores = jnp.where(jnp.tril(jnp.ones((T, T), bool))[None, None], scores, -jnp.inf)
        weights = jax.nn.softmax(scores, axis=-1)  # (B, H, T, T)
        if training and self.drop_rate > 0.0:
            weights = F.dropout(weights, self.drop_rate, True, key=key)
        ctx = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(B * T, E)  # (B·T, E)
        return F.linear(ctx, p["out_proj"]["weight"], p["out_proj"]["bias"])

    def _block(self, p, x, shape, training, key):
        ka, k1, k2 = split_keys(key, 3)
        drop = lambda h, k: F.dropout(h, self.drop_rate, training, key=k)
        h = _layer_norm(x, p["norm1"]["weight"], p["norm1"]["bias"])
        x = x + drop(self._attention(p["att"], h, shape, training, ka), k1)
        h = _layer_norm(x, p["norm2"]["weight"], p["norm2"]["bias"])
        l0, l2 = p["ff"]["layers"]["0"], p["ff"]["layers"]["2"]
        h = F.linear(F.gelu(F.linear(h, l0["weight"], l0["bias"]), approximate="tanh"), l2["weight"], l2["bias"])
        return x + drop(h, k2)

    def apply(self, params, state, input, *, training=False, key=None):
        if jnp.ndim(input) != 2 or not jnp.issubdtype(jnp.asarray(input).dtype, jnp.integer):
            raise ValueError(f"GPT: input must be (batch, time) integer token ids; got shape {jnp.shape(input)} "
                             f"dtype {jnp.asarray(input).dtype}")
        T = jnp.shape(input)[1]
        if T > self.context_length:
            raise ValueError(f"GPT: sequence length {T} exceeds context_length={self.context_length}")
        if training and 0.0 < self.drop_rate < 1.0 and key is None:
            raise ValueError("GPT: training with drop_rate > 0 needs a PRNG key: "
                             "model.apply(params, state, idx, training=True, key=jax.random.key(0))")
        keys = split_keys(key, 1 + self.n_layers)
        B = jnp.shape(input)[0]
        x = F.embedding(input, params["tok_emb"]["weight"]) + params["pos_emb"]["weight"][None, :T]  # (B, T, E)
        # The residual stream is kept as (B·T, E): XLA:CPU runs the gradient of a 2-D matmul ~1.4x faster than 3-D.
        x = F.dropout(x.reshape(B * T, self.emb_dim), self.drop_rate, training, key=keys[0])
        for i in range(self.n_layers):
            x = self._block(params["trf_blocks"][str(i)], x, (B, T), training, keys[1 + i])
        x = _layer_norm(x, params["final_norm"]["weight"], params["final_norm"]["bias"])
        head = params["tok_emb"]["weight"] if self.tie_weights else params["out_head"]["weight"]
        return F.linear(x, head).reshape(B, T, self.vocab_size), state  # (B, T, V)


@jax.custom_jvp
def _layer_norm(x, weight, bias):
    """F.layer_norm(x, (E,), weight, bias) over the last axis (eps 1e-5) of the (B·T, E) residual stream, with the
    textbook derivative as a custom JVP: the same values, and a shorter backward pass than the chain XLA derives
    through mean/var/rsqrt (~3% of the w4 training step on CPU, benchmarks/README.md). A JVP rule (not a VJP)
    keeps forward mode (jax.jvp, jacfwd) working; reverse mode transposes it.
    """
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + 1e-5) * weight[None] + bias[None]


@_layer_norm.defjvp
def _layer_norm_jvp(primals, tangents):
    x, weight, bias = primals
    dx, dweight, dbias = tangents
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    rstd = jax.lax.rsqrt(var + 1e-5)
    xhat = (x - mean) * rstd
    # d xhat = rstd·(dx − mean(dx) − xhat·mean(dx·xhat))
    dxhat = rstd * (dx - jnp.mean(dx, axis=-1, keepdims=True) - xhat * jnp.mean(dx * xhat, axis=-1, keepdims=True))
    return xhat * weight[None] + bias[None], dxhat * weight[None] + xhat * dweight[None] + dbias[None]


def count_parameters(model: Module, dtype=jnp.float32) -> int:
    """Number of scalar parameters of ``model`` (shared tensors counted once, as torch's model.parameters()),
    found with jax.eval_shape so nothing is allocated."""
    shapes, _ = jax.eval_shape(lambda k: model.init(k, dtype), jax.random.key(0))
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(shapes))


def lm_loss(logits, target):
    """Next-token loss: F.cross_entropy over (B·T, V), as the lecture's calc_loss_batch.

    Args:
      logits: (B, T, V). target: (B, T) integer ids.
    """
    if jnp.ndim(logits) != 3 or jnp.shape(target) != jnp.shape(logits)[:2]:
        raise ValueError(f"lm_loss: expected logits (B, T, V) and target (B, T); got {jnp.shape(logits)} "
                         f"and {jnp.shape(target)}")
    return F.cross_entropy(jnp.reshape(logits, (-1, jnp.shape(logits)[-1])), jnp.reshape(target, (-1,)))
