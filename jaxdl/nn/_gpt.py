"""A GPT-2 style language model built from the lecture's config keys (GPT_CONFIG_124M)."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_positive_int, check_probability
from jaxdl.nn._embedding import Embedding
from jaxdl.nn._linear import Linear
from jaxdl.nn._module import Module, module, split_keys
from jaxdl.nn._transformer import ACTIVATIONS, TransformerBlock

CONFIG_KEYS = ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias")
OPTIONAL_KEYS = ("tie_weights", "activation", "layer_norm_eps", "bias")


@module
class GPT(Module):
    """GPT-2 style decoder: logits = out_head(LN(blocks(drop(tok_emb[idx] + pos_emb[0:T])))).

    Each of n_layers pre-LayerNorm TransformerBlocks (jaxdl/nn/_transformer.py) computes
    x += drop(att(LN1(x))); x += drop(ff(LN2(x))) where att is causal multi-head self-attention (dropout on its
    weights) and ff = Linear(E, 4E) → GELU → Linear(4E, E).
    Torch counterpart: the lecture's GPTModel, reproduced in jaxdl/parity/_torch_gpt.py with the same
    state_dict names (tok_emb, pos_emb, trf_blocks.{i}.att.W_query/W_key/W_value/out_proj, ff.layers.{0,2},
    norm1, norm2, final_norm, out_head); LayerNorms are torch.nn.LayerNorm (weight/bias).
    jaxdl.interop.load_gpt/export_gpt move weights from/to the book's GPTModel, nanoGPT and Hugging Face GPT-2.

    Options beyond the lecture's keys: ``tie_weights`` (no out_head: tok_emb.weight is the output projection),
    ``activation`` ("gelu_tanh", GPT-2's and the lecture's default; "gelu" is the exact erf form, torch's
    nn.GELU() default and nanoGPT's), ``layer_norm_eps`` (1e-5) and ``bias`` (False: no bias in any Linear or
    LayerNorm, as nanoGPT's bias=False; then qkv_bias must be False too).

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
    activation: str = "gelu_tanh"
    layer_norm_eps: float = 1e-5
    bias: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers"):
            check_positive_int(f"GPT: {name}", getattr(self, name))
        if self.emb_dim % self.n_heads:
            raise ValueError(f"GPT: emb_dim must be divisible by n_heads; got emb_dim={self.emb_dim}, "
                             f"n_heads={self.n_heads}")
        check_probability("GPT drop_rate", self.drop_rate)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"GPT: activation must be one of {list(ACTIVATIONS)}; got {self.activation!r}")
        if not (isinstance(self.layer_norm_eps, (int, float)) and self.layer_norm_eps > 0):
            raise ValueError(f"GPT: layer_norm_eps must be a positive number; got {self.layer_norm_eps!r}")
        if self.qkv_bias and not self.bias:
            raise ValueError("GPT: qkv_bias=True needs bias=True (bias=False removes every bias, as nanoGPT's)")

    @classmethod
    def from_config(cls, cfg: dict) -> "GPT":
        """GPT(**cfg) with exactly the lecture's keys (+ optional ones); unknown or missing keys raise."""
        unknown = sorted(set(cfg) - set(CONFIG_KEYS) - set(OPTIONAL_KEYS))
        missing = [k for k in CONFIG_KEYS if k not in cfg]
        if unknown or missing:
            raise ValueError(f"GPT config: unknown keys {unknown}, missing keys {missing}; expected "
                             f"{list(CONFIG_KEYS)} (+ optional {list(OPTIONAL_KEYS)})")
        return cls(**cfg)

    def config(self) -> dict:
        """The config dict this model was built from (inverse of from_config)."""
        return dataclasses.asdict(self)

    @property
    def block(self) -> TransformerBlock:
        """The spec of each of the n_layers blocks."""
        return TransformerBlock(self.emb_dim, self.n_heads, self.drop_rate, self.qkv_bias, self.bias,
                                self.activation, self.layer_norm_eps)

    # --- parameters -----------------------------------------------------------------------
    def init(self, key, dtype=jnp.float32):
        E, V = self.emb_dim, self.vocab_size
        keys = iter(jax.random.split(key, 3 + self.n_layers))
        params = {"tok_emb": Embedding(V, E).init(next(keys), dtype)[0],
                  "pos_emb": Embedding(self.context_length, E).init(next(keys), dtype)[0],
                  "trf_blocks": {str(i): self.block.init(next(keys), dtype)[0] for i in range(self.n_layers)}}
        params["final_norm"] = self.block.norm_params(dtype)
        if not self.tie_weights:
            params["out_head"] = Linear(E, V, bias=False).init(next(keys), dtype)[0]
        return params, {}

    # --- forward --------------------------------------------------------------------------
    def apply(self, params, state, input, *, training=False, key=None):
        T = self._check_input(input)
        if training and 0.0 < self.drop_rate < 1.0 and key is None:
            raise ValueError("GPT: training with drop_rate > 0 needs a PRNG key: "
                             "model.apply(params, state, idx, training=True, key=jax.random.key(0))")
        if T > self.context_length:
            raise ValueError(f"GPT: sequence length {T} exceeds context_length={self.context_length}")
        keys = split_keys(key, 1 + self.n_layers)
        return self._forward(params, input, params["pos_emb"]["weight"][None, :T], training, keys)[0], state

    def init_cache(self, batch_size: int, length: int | None = None, dtype=jnp.float32) -> dict:
        """A zero key/value cache for ``decode``: per block {"k", "v"} of shape (batch_size, length, H, E/H);
        ``length`` (default context_length) is the most positions it holds."""
        length = self.context_length if length is None else length
        if not 1 <= length <= self.context_length:
            raise ValueError(f"GPT.init_cache: length must be in [1, context_length={self.context_length}]; "
                             f"got {length}")
        shape = (batch_size, length, self.n_heads, self.emb_dim // self.n_heads)
        return {str(i): {"k": jnp.zeros(shape, dtype), "v": jnp.zeros(shape, dtype)} for i in range(self.n_layers)}

    def decode(self, params, state, input, cache, pos):
        """Eval-mode logits of the T tokens ``input`` (B, T) at positions pos..pos+T−1 given the keys/values
        of positions < pos in ``cache`` (from init_cache or an earlier decode): ``(logits (B, T, V), cache)``.
        Equal to apply's logits at those positions (prefill with pos=0, then one token per call). ``pos`` may be
        traced; pos + T must not exceed the cache length (not checked when traced)."""
        T = self._check_input(input)
        C = cache["0"]["k"].shape[1]
        if T > C:
            raise ValueError(f"GPT.decode: {T} tokens do not fit a cache of length {C}")
        pos_emb = jax.lax.dynamic_slice_in_dim(params["pos_emb"]["weight"], pos, T, axis=0)[None]
        return self._forward(params, input, pos_emb, False, split_keys(None, 1 + self.n_layers), cache, pos)

    def _check_input(self, input) -> int:
        if jnp.ndim(input) != 2 or not jnp.issubdtype(jnp.asarray(input).dtype, jnp.integer):
            raise ValueError(f"GPT: input must be (batch, time) integer token ids; got shape {jnp.shape(input)} "
                             f"dtype {jnp.asarray(input).dtype}")
        return jnp.shape(input)[1]

    def _forward(self, params, input, pos_emb, training, keys, cache=None, pos=None):
        B, T = jnp.shape(input)
        x = F.embedding(input, params["tok_emb"]["weight"]) + pos_emb  # (B, T, E)
        # The residual stream is kept as (B·T, E): XLA:CPU runs the gradient of a 2-D matmul ~1.4x faster than 3-D.
        x = F.dropout(x.reshape(B * T, self.emb_dim), self.drop_rate, training, key=keys[0])
        new_cache = None if cache is None else {}
        for i in range(self.n_layers):
            x, c = self.block.forward(params["trf_blocks"][str(i)], x, (B, T), training, keys[1 + i],
                                      None if cache is None else cache[str(i)], pos)
            if cache is not None:
                new_cache[str(i)] = c
        x = self.block.norm(params["final_norm"], x)
        head = params["tok_emb"]["weight"] if self.tie_weights else params["out_head"]["weight"]
        return F.linear(x, head).reshape(B, T, self.vocab_size), new_cache  # (B, T, V)


def lm_loss(logits, target, ignore_index: int = -100):
    """Next-token loss: F.cross_entropy over (B·T, V), as the lecture's calc_loss_batch; targets equal to
    ``ignore_index`` (torch's default −100; nanoGPT pads with −1) take no part in the mean.

    Args:
      logits: (B, T, V). target: (B, T) integer ids.
    """
    if jnp.ndim(logits) != 3 or jnp.shape(target) != jnp.shape(logits)[:2]:
        raise ValueError(f"lm_loss: expected logits (B, T, V) and target (B, T); got {jnp.shape(logits)} "
                         f"and {jnp.shape(target)}")
    return F.cross_entropy(jnp.reshape(logits, (-1, jnp.shape(logits)[-1])), jnp.reshape(target, (-1,)),
                           ignore_index=ignore_index)
