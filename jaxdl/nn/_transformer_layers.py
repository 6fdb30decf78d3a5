"""TransformerEncoderLayer and TransformerDecoderLayer, as torch.nn (torch/nn/modules/transformer.py).

Parameter names are torch's (self_attn.in_proj_weight, multihead_attn.*, linear1, linear2, norm1..norm3), so a
layer's params joined with '.' are its state_dict keys. Masks follow nn.MultiheadAttention: True = masked out.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_positive_int, promote
from jaxdl.nn._activation import GELU, ReLU
from jaxdl.nn._attention import MultiheadAttention
from jaxdl.nn._linear import Linear
from jaxdl.nn._module import Module, module, split_keys
from jaxdl.nn._normalization import LayerNorm

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def activation_fn(activation) -> Callable:
    """torch's ``_get_activation_fn`` widened to jaxdl: "relu", "gelu", a jaxdl module, or a function of x."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation should be relu/gelu or a callable, not {activation!r}")
        return _ACTIVATIONS[activation]
    if isinstance(activation, Module):
        return lambda x: activation.apply({}, {}, x)[0]
    if not callable(activation):
        raise TypeError(f"activation should be relu/gelu or a callable; got {activation!r}")
    return activation


def is_relu_or_gelu(activation) -> bool:
    """torch's ``activation_relu_or_gelu`` (the condition of its eval fast paths)."""
    return (activation in ("relu", "gelu", F.relu, F.gelu) if not isinstance(activation, Module)
            else isinstance(activation, (ReLU, GELU)))


def _residual(x, h):
    """x + h in their promoted dtype, as torch's add (under autocast a bf16 branch joins a float32 stream)."""
    x, h = promote(x, h)
    return x + h


class _Layer(Module):
    """The parts the encoder and decoder layers share (their fields are torch's constructor arguments): the
    attention and feed-forward blocks, the norms, dropout and the residual order."""

    def _validate(self):
        check_positive_int(f"{type(self).__name__}: dim_feedforward", self.dim_feedforward)
        activation_fn(self.activation)
        self.attention()  # checks d_model, nhead, dropout

    def attention(self) -> MultiheadAttention:
        return MultiheadAttention(self.d_model, self.nhead, dropout=self.dropout, bias=self.bias,
                                  batch_first=self.batch_first)

    @property
    def norm(self) -> LayerNorm:
        return LayerNorm(self.d_model, eps=self.layer_norm_eps, bias=self.bias)

    def _init_common(self, key, dtype, attentions: tuple[str, ...], norms: int) -> dict:
        keys = jax.random.split(key, len(attentions) + 2)
        params = {name: self.attention().init(k, dtype)[0] for name, k in zip(attentions, keys)}
        params["linear1"] = Linear(self.d_model, self.dim_feedforward, self.bias).init(keys[-2], dtype)[0]
        params["linear2"] = Linear(self.dim_feedforward, self.d_model, self.bias).init(keys[-1], dtype)[0]
        for i in range(1, norms + 1):
            params[f"norm{i}"] = self.norm.init(None, dtype)[0]
        return params

    def _drop(self, x, training, key):
        return F.dropout(x, self.dropout, training, key=key)

    def _norm(self, p, x):
        return self.norm.apply(p, {}, x)[0]

    def _ff_block(self, p, x, training, keys):
        """linear2(dropout(activation(linear1(x)))), then dropout: torch's _ff_block."""
        h = activation_fn(self.activation)(F.linear(x, p["linear1"]["weight"], p["linear1"].get("bias")))
        h = F.linear(self._drop(h, training, keys[0]), p["linear2"]["weight"], p["linear2"].get("bias"))
        return self._drop(h, training, keys[1])

    def _attn_block(self, p, x, mem, mask, kpm, is_causal, training, keys):
        """Attention with need_weights=False (torch's SDPA path), then dropout: torch's _sa_block / _mha_block."""
        (h, _), _ = self.attention().apply(p, {}, x, mem, mem, attn_mask=mask, key_padding_mask=kpm,
                                           need_weights=False, is_causal=is_causal, training=training, key=keys[0])
        return self._drop(h, training, keys[1])

    def _sublayers(self, params, x, blocks):
        """Each (norm, block) as torch: x + block(norm(x)) when norm_first, else norm(x + block(x))."""
        for norm, block in blocks:
            if self.norm_first:
                x = _residual(x, block(self._norm(params[norm], x)))
            else:
                x = self._norm(params[norm], _residual(x, block(x)))
        return x


@module
class TransformerEncoderLayer(_Layer):
    """torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation='relu',
    layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True).

    x = norm1(x + drop(self_attn(x))); x = norm2(x + drop(linear2(drop(act(linear1(x)))))), or the pre-norm form
    x += drop(self_attn(norm1(x))); x += ff(norm2(x)) when norm_first. activation: "relu", "gelu", a jaxdl module
    (nn.GELU()) or a function (F.gelu). torch's eval fast path computes the same values (rounding aside).
    """

    d_model: int
    nhead: int
    dim_feedforward: int = 2048
    dropout: float = 0.1
    activation: Any = "relu"
    layer_norm_eps: float = 1e-5
    batch_first: bool = False
    norm_first: bool = False
    bias: bool = True

    def __post_init__(self):
        self._validate()

    def init(self, key, dtype=jnp.float32):
        return self._init_common(key, dtype, ("self_attn",), 2), {}

    def apply(self, params, state, src, src_mask=None, src_key_padding_mask=None, is_causal=False, *,
              training=False, key=None):
        """src (N, S, E) if batch_first else (S, N, E), or unbatched (S, E) -> like src. src_mask (S, S) or
        (N·nhead, S, S), src_key_padding_mask (N, S) or (S,): boolean True = masked out, or float (added)."""
        k = split_keys(key, 4)
        sa = lambda x: self._attn_block(params["self_attn"], x, x, src_mask, src_key_padding_mask, is_causal,
                                        training, k[0:2])
        ff = lambda x: self._ff_block(params, x, training, k[2:4])
        return self._sublayers(params, src, (("norm1", sa), ("norm2", ff))), state


@module
class TransformerDecoderLayer(_Layer):
    """torch.nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation='relu',
    layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True).

    x = norm1(x + drop(self_attn(x))); x = norm2(x + drop(multihead_attn(x, memory))); x = norm3(x + ff(x)),
    or the pre-norm form (x += block(norm_i(x))) when norm_first.
    """

    d_model: int
    nhead: int
    dim_feedforward: int = 2048
    dropout: float = 0.1
    activation: Any = "relu"
    layer_norm_eps: float = 1e-5
    batch_first: bool = False
    norm_first: bool = False
    bias: bool = True

    def __post_init__(self):
        self._validate()

    def init(self, key, dtype=jnp.float32):
        return self._init_common(key, dtype, ("self_attn", "multihead_attn"), 3), {}

    def apply(self, params, state, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
              memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False, *, training=False,
              key=None):
        """tgt (N, T, E) / (T, N, E) / (T, E), memory likewise with length S -> like tgt. tgt_mask (T, T),
        memory_mask (T, S) (or per head, 3-D), key padding masks (N, T) and (N, S): True = masked out."""
        k = split_keys(key, 6)
        sa = lambda x: self._attn_block(params["self_attn"], x, x, tgt_mask, tgt_key_padding_mask, tgt_is_causal,
                                        training, k[0:2])
        ca = lambda x: self._attn_block(params["multihead_attn"], x, memory, memory_mask, memory_key_padding_mask,
                                        memory_is_causal, training, k[2:4])
        ff = lambda x: self._ff_block(params, x, training, k[4:6])
        return self._sublayers(params, tgt, (("norm1", sa), ("norm2", ca), ("norm3", ff))), state
