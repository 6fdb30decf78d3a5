"""TransformerEncoder, TransformerDecoder and Transformer, as torch.nn (torch/nn/modules/transformer.py).

state_dict names as torch's: layers.0.self_attn.in_proj_weight, layers.1.linear1.weight, norm.weight;
encoder.layers.0..., decoder.norm.bias for Transformer.
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxdl.checks import check_positive_int
from jaxdl.nn import init as nn_init
from jaxdl.nn._module import Module, module, split_keys
from jaxdl.nn._normalization import LayerNorm
from jaxdl.nn._transformer_layers import TransformerDecoderLayer, TransformerEncoderLayer, is_relu_or_gelu


def _map(fn, tree):
    """fn on every array of nested dicts, keeping each dict's order (torch's state_dict order; tree_map sorts)."""
    return {k: _map(fn, v) for k, v in tree.items()} if isinstance(tree, dict) else fn(tree)


def _clones(layer, num_layers: int, key, dtype) -> dict:
    """torch's ``_get_clones``: num_layers deep copies of one initialised layer (equal values, separate arrays)."""
    params = layer.init(key, dtype)[0]
    return {str(i): _map(jnp.copy, params) for i in range(num_layers)}


def _stack_init(layer, num_layers, norm, key, dtype) -> dict:
    params = {"layers": _clones(layer, num_layers, key, dtype)}
    if norm is not None:
        norm_params = norm.init(key, dtype)[0]
        if norm_params:
            params["norm"] = norm_params
    return params


def _final_norm(norm, params, x):
    return x if norm is None else norm.apply(params.get("norm", {}), {}, x)[0]


def _left_aligned(padded):
    """torch's ``_nested_tensor_from_mask_left_aligned``: every row's padding (True) comes after all its tokens."""
    return jnp.all(padded[:, 1:] >= padded[:, :-1])


@module
class TransformerEncoder(Module):
    """torch.nn.TransformerEncoder(encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True).

    num_layers copies of ``encoder_layer`` (initialised equal, as torch's deep copies), then ``norm`` if given.
    torch's eval output at padded positions depends on torch's grad mode, which a pure function cannot see, so
    ``apply`` takes it as ``no_grad``. With gradients enabled (torch's default, and every forward whose gradient
    torch computes) torch runs the layers on the padded tensor: padded positions keep the layers' values, the
    default here. Under ``torch.no_grad()`` / ``inference_mode()`` (or with nothing requiring grad) torch's eval
    takes its nested-tensor fast path when use_nested_tensor (enable_nested_tensor, and a post-norm, batch_first,
    biased, relu/gelu layer with an even nhead) holds, src is batched, src_key_padding_mask is given, mask is None,
    autocast is off, and the padding is left-aligned (each row's padding after its tokens; not checked when
    mask_check=False): the layers see only each row's tokens and the output is 0 at padded positions (before
    ``norm``, so ``norm`` of 0 there). ``no_grad=True`` (with training=False, outside autocast) returns the same.
    """

    encoder_layer: Module
    num_layers: int
    norm: Module | None = None
    enable_nested_tensor: bool = True
    mask_check: bool = True

    def __post_init__(self):
        check_positive_int("TransformerEncoder: num_layers", self.num_layers)

    @property
    def use_nested_tensor(self) -> bool:
        """torch's use_nested_tensor, decided at construction from the layer."""
        layer = self.encoder_layer
        return (self.enable_nested_tensor and isinstance(layer, TransformerEncoderLayer) and not layer.norm_first
                and layer.batch_first and layer.bias and is_relu_or_gelu(layer.activation)
                and layer.nhead % 2 == 0)

    def init(self, key, dtype=jnp.float32):
        return _stack_init(self.encoder_layer, self.num_layers, self.norm, key, dtype), {}

    def apply(self, params, state, src, mask=None, src_key_padding_mask=None, is_causal=None, *, training=False,
              key=None, no_grad=False):
        """src as the layer's; mask (S, S) or (N·nhead, S, S); src_key_padding_mask (N, S): True = padding.
        is_causal=None: torch detects a causal mask by value; the result is the same as using the mask.
        no_grad: torch's output under torch.no_grad() (its nested-tensor fast path; see the class docstring)."""
        x = src
        for i, k in enumerate(split_keys(key, self.num_layers)):
            x = self.encoder_layer.apply(params["layers"][str(i)], {}, x, mask, src_key_padding_mask,
                                         bool(is_causal), training=training, key=k)[0]
        if (no_grad and self.use_nested_tensor and not training and jnp.ndim(src) == 3
                and src_key_padding_mask is not None and mask is None):
            kpm = jnp.asarray(src_key_padding_mask)
            padded = kpm if kpm.dtype == jnp.bool_ else kpm != 0  # (N, S); torch: logical_not of the float mask
            zero = padded if not self.mask_check else padded & _left_aligned(padded)
            x = jnp.where(zero[:, :, None], jnp.zeros((), x.dtype), x)
        return _final_norm(self.norm, params, x), state


@module
class TransformerDecoder(Module):
    """torch.nn.TransformerDecoder(decoder_layer, num_layers, norm=None): num_layers copies of ``decoder_layer``
    (initialised equal, as torch's deep copies), then ``norm`` if given."""

    decoder_layer: Module
    num_layers: int
    norm: Module | None = None

    def __post_init__(self):
        check_positive_int("TransformerDecoder: num_layers", self.num_layers)

    def init(self, key, dtype=jnp.float32):
        return _stack_init(self.decoder_layer, self.num_layers, self.norm, key, dtype), {}

    def apply(self, params, state, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
              memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False, *, training=False, key=None):
        """tgt (N, T, E) / (T, N, E) / (T, E), memory likewise -> like tgt; masks as TransformerDecoderLayer."""
        x = tgt
        for i, k in enumerate(split_keys(key, self.num_layers)):
            x = self.decoder_layer.apply(params["layers"][str(i)], {}, x, memory, tgt_mask, memory_mask,
                                         tgt_key_padding_mask, memory_key_padding_mask, bool(tgt_is_causal),
                                         memory_is_causal, training=training, key=k)[0]
        return _final_norm(self.norm, params, x), state


@module
class Transformer(Module):
    """torch.nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
    dropout=0.1, activation='relu', custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
    batch_first=False, norm_first=False, bias=True).

    out = decoder(tgt, encoder(src)); each a stack of layers ending in a LayerNorm. ``apply(..., no_grad=True)``:
    torch's output under torch.no_grad(), whose encoder returns 0 at src's padded positions (TransformerEncoder;
    the decoder attends to them unless memory_key_padding_mask masks them). Initialised as torch: every
    parameter with more than one dim ~ xavier_uniform (independently per layer); biases and norms as the layers'
    (equal across the layers of a stack, as torch's deep copies).
    """

    d_model: int = 512
    nhead: int = 8
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    dim_feedforward: int = 2048
    dropout: float = 0.1
    activation: Any = "relu"
    custom_encoder: Module | None = None
    custom_decoder: Module | None = None
    layer_norm_eps: float = 1e-5
    batch_first: bool = False
    norm_first: bool = False
    bias: bool = True

    def __post_init__(self):
        self.encoder, self.decoder  # noqa: B018  (builds and so checks both)

    def _layer_args(self):
        return (self.d_model, self.nhead, self.dim_feedforward, self.dropout, self.activation, self.layer_norm_eps,
                self.batch_first, self.norm_first, self.bias)

    @property
    def encoder(self) -> Module:
        if self.custom_encoder is not None:
            return self.custom_encoder
        return TransformerEncoder(TransformerEncoderLayer(*self._layer_args()), self.num_encoder_layers,
                                  LayerNorm(self.d_model, eps=self.layer_norm_eps, bias=self.bias))

    @property
    def decoder(self) -> Module:
        if self.custom_decoder is not None:
            return self.custom_decoder
        return TransformerDecoder(TransformerDecoderLayer(*self._layer_args()), self.num_decoder_layers,
                                  LayerNorm(self.d_model, eps=self.layer_norm_eps, bias=self.bias))

    def init(self, key, dtype=jnp.float32):
        ke, kd, kx = jax.random.split(key, 3)
        params = {"encoder": self.encoder.init(ke, dtype)[0], "decoder": self.decoder.init(kd, dtype)[0]}
        keys = iter(jax.random.split(kx, len(jax.tree_util.tree_leaves(params))))
        # torch's _reset_parameters: every parameter with more than one dim redrawn, each with its own key
        return _map(lambda p: nn_init.xavier_uniform_(next(keys), p.shape, dtype=p.dtype) if p.ndim > 1 else p,
                    params), {}

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype=jnp.float32):
        """The causal float mask: −inf above the diagonal, 0 elsewhere, (sz, sz), as torch's."""
        return jnp.triu(jnp.full((sz, sz), -jnp.inf, dtype), k=1)

    def apply(self, params, state, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
              src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None,
              tgt_is_causal=None, memory_is_causal=False, *, training=False, key=None, no_grad=False):
        """src (N, S, E) / (S, N, E) / (S, E), tgt likewise with length T -> like tgt. Masks as the layers'.
        no_grad: torch's output under torch.no_grad() (passed to a TransformerEncoder encoder; see the class doc)."""
        batched = jnp.ndim(src) == 3
        b = 0 if self.batch_first else 1
        if batched and jnp.shape(src)[b] != jnp.shape(tgt)[b]:
            raise ValueError(f"Transformer: src and tgt must have the same batch size; got shapes "
                             f"{jnp.shape(src)} and {jnp.shape(tgt)} (batch_first={self.batch_first})")
        if jnp.shape(src)[-1] != self.d_model or jnp.shape(tgt)[-1] != self.d_model:
            raise ValueError(f"Transformer: the last dim of src and tgt must be d_model={self.d_model}; got shapes "
                             f"{jnp.shape(src)} and {jnp.shape(tgt)}")
        ke, kd = split_keys(key, 2)
        fast = {"no_grad": no_grad} if isinstance(self.encoder, TransformerEncoder) else {}
        memory = self.encoder.apply(params["encoder"], {}, src, src_mask, src_key_padding_mask, src_is_causal,
                                    training=training, key=ke, **fast)[0]
        out = self.decoder.apply(params["decoder"], {}, tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                                 memory_key_padding_mask, tgt_is_causal, memory_is_causal, training=training,
                                 key=kd)[0]
        return out, state
