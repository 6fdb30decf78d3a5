"""Parity cases for the Transformer family and the complete MultiheadAttention, and their module_db counterparts.

Cases build torch's module, load its state_dict into jaxdl's (jaxdl.interop), and compare outputs and gradients
with respect to the inputs and every parameter. Sweeps (every option) run in CI in a stratified part.
"""
from __future__ import annotations

import itertools
import warnings

import jax
import numpy as np

from jaxdl import nn
from jaxdl.interop import load_state_dict, spec_from_torch
from jaxdl.parity._core import compare_function, register
from jaxdl.parity._module_db import counterpart


# --- module_db counterparts: torch's constructor arguments (a layer module, F.gelu) as jaxdl's ------------------
def _adapt(args, kwargs):
    """A torch module (a TransformerEncoder's layer, its norm) or activation (F.gelu) among the constructor
    arguments as jaxdl's, read by from_torch's converter (interop.spec_from_torch)."""
    convert = lambda x: x if isinstance(x, (int, float, bool, str, type(None), np.ndarray)) else spec_from_torch(x)
    return tuple(convert(a) for a in args), {k: convert(v) for k, v in kwargs.items()}


for _name in ("TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder",
              "Transformer"):
    counterpart(_name, getattr(nn, _name), _adapt)


# --- parity cases ------------------------------------------------------------------------------------------------
def _module_case(env, torch_module, jaxdl_module, inputs, kwargs_fn, no_grad=False):
    """torch's module in eval (dropout off), its state_dict in jaxdl's; outputs and gradients w.r.t. the float
    inputs and every parameter. ``kwargs_fn(to_array)`` builds the mask arguments on each side. ``no_grad``:
    outputs only, torch's under torch.no_grad() (its eval fast paths) and jaxdl's with no_grad=True."""
    torch = env.torch
    tm = torch_module.to(device=env.device, dtype=env.torch_dtype).eval()
    sd = {k: v.detach().cpu().numpy().astype(env.np_dtype) for k, v in tm.state_dict().items()}
    tm.load_state_dict({k: env.to_torch(v) for k, v in sd.items()})
    names = [n for n, _ in tm.named_parameters()]
    params, _ = load_state_dict(jaxdl_module, {k: env.to_jax(v) for k, v in sd.items()})
    n_in = len(inputs)
    jkw, tkw = kwargs_fn(env.to_jax), kwargs_fn(lambda a: env.to_torch(a) if a.dtype != bool else
                                               torch.as_tensor(a, device=env.device))

    def jax_fn(*a):
        p = jax.tree_util.tree_map_with_path(
            lambda path, leaf: dict(zip(names, a[n_in:])).get(".".join(k.key for k in path), leaf), params)
        return jaxdl_module.apply(p, {}, *a[:n_in], **jkw, **({"no_grad": True} if no_grad else {}))[0]

    def torch_fn(*a):
        with torch.set_grad_enabled(not no_grad), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The PyTorch API of nested tensors is in prototype stage")
            return torch.func.functional_call(tm, dict(zip(names, a[n_in:])), tuple(a[:n_in]), tkw)

    values = [*inputs, *(sd[n] for n in names)]
    return compare_function(env, jax_fn, torch_fn, values, diff_argnums=() if no_grad else tuple(range(len(values))))


N, L, S, D, H = 2, 5, 4, 8, 2


def _padding(length, batch=N):
    pad = np.zeros((batch, length), bool)
    pad[1, -2:] = True  # the second sequence ends two steps early (left-aligned padding)
    return pad


def _encoder_case(norm_first, batch_first, activation, masks, stack):
    def case(env):
        torch = env.torch
        act = {"relu": torch.nn.functional.relu, "gelu": torch.nn.functional.gelu}[activation]
        layer = torch.nn.TransformerEncoderLayer(D, H, 16, 0.0, act, 1e-5, batch_first, norm_first)
        tm = layer if not stack else torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(D),
                                                                 enable_nested_tensor=False)
        jl = nn.TransformerEncoderLayer(D, H, 16, 0.0, activation, 1e-5, batch_first, norm_first)
        jm = nn.TransformerEncoder(jl, 2, nn.LayerNorm(D), enable_nested_tensor=False) if stack else jl
        x = env.randn(N, L, D) if batch_first else env.randn(L, N, D)
        mask_name = "mask" if stack else "src_mask"

        def kwargs(to):
            kw = {}
            if "causal" in masks:
                kw[mask_name] = to(np.triu(np.ones((L, L), bool), 1))  # bool as the padding (torch warns if mixed)
            if "padding" in masks:
                kw["src_key_padding_mask"] = to(_padding(L))
            return kw
        return _module_case(env, tm, jm, [x], kwargs)
    return case


for (_nf, _act), _bf, _masks, _stack in itertools.product(((False, "relu"), (True, "gelu")), (True, False),
                                                           ("", "causal", "padding", "causal+padding"), (False, True)):
    _name = (f"nn.TransformerEncoder{'' if _stack else 'Layer'}[{'pre' if _nf else 'post'}-norm, "
             f"{'batch_first' if _bf else 'seq_first'}, {_act}{', ' + _masks if _masks else ''}]")
    register(_name, "transformer", sweep=True)(_encoder_case(_nf, _bf, _act, _masks, _stack))


def _decoder_case(norm_first, masks, model):
    def case(env):
        torch = env.torch
        if model:
            tm = torch.nn.Transformer(D, H, 1, 2, 16, 0.0, batch_first=True, norm_first=norm_first)
            jm = nn.Transformer(D, H, 1, 2, 16, 0.0, batch_first=True, norm_first=norm_first)
        else:
            tm = torch.nn.TransformerDecoderLayer(D, H, 16, 0.0, batch_first=True, norm_first=norm_first)
            jm = nn.TransformerDecoderLayer(D, H, 16, 0.0, batch_first=True, norm_first=norm_first)
        tgt, mem = env.randn(N, L, D), env.randn(N, S, D)
        inputs = [mem, tgt] if model else [tgt, mem]

        def kwargs(to):
            kw = {}
            if "causal" in masks:
                kw["tgt_mask"] = to(np.triu(np.ones((L, L), bool), 1))
            if "padding" in masks:
                kw["tgt_key_padding_mask"] = to(_padding(L))
                kw["memory_key_padding_mask"] = to(_padding(S))
                if model:
                    kw["src_key_padding_mask"] = to(_padding(S))
            return kw
        return _module_case(env, tm, jm, inputs, kwargs)
    return case


for _nf, _masks, _model in itertools.product((False, True), ("", "causal", "causal+padding"), (False, True)):
    _name = (f"nn.{'Transformer' if _model else 'TransformerDecoderLayer'}[{'pre' if _nf else 'post'}-norm"
             f"{', ' + _masks if _masks else ''}]")
    register(_name, "transformer", sweep=True)(_decoder_case(_nf, _masks, _model))


def _padded_memory_case(no_grad, float_mask):
    """nn.Transformer in eval with src padding and no memory_key_padding_mask, so the decoder reads the encoder's
    output at src's padded positions: with gradients enabled torch's layers' values there, under torch.no_grad()
    its nested-tensor fast path's zeros (post-norm, batch_first: use_nested_tensor; left-aligned padding)."""
    def case(env):
        torch = env.torch
        tm = torch.nn.Transformer(D, H, 2, 1, 16, 0.0, batch_first=True)
        jm = nn.Transformer(D, H, 2, 1, 16, 0.0, batch_first=True)
        src, tgt = env.randn(N, S, D), env.randn(N, L, D)
        pad = np.where(_padding(S), -np.inf, 0.0).astype(env.np_dtype) if float_mask else _padding(S)
        return _module_case(env, tm, jm, [src, tgt], lambda to: {"src_key_padding_mask": to(pad)}, no_grad)
    return case


for _no_grad, _float in ((False, False), (True, False), (True, True)):
    register(f"nn.Transformer[eval{' under no_grad' if _no_grad else ''}, {'float' if _float else 'bool'} src "
             f"padding, memory unmasked]", "transformer")(_padded_memory_case(_no_grad, _float))


def _mha_case(options):
    def case(env):
        torch = env.torch
        kdim, vdim = (5, 3) if "kdim" in options else (None, None)
        ctor = dict(bias="no_bias" not in options, add_bias_kv="bias_kv" in options,
                    add_zero_attn="zero_attn" in options, kdim=kdim, vdim=vdim, batch_first=True)
        tm, jm = torch.nn.MultiheadAttention(D, H, **ctor), nn.MultiheadAttention(D, H, **ctor)
        q, k, v = env.randn(N, L, D), env.randn(N, S, kdim or D), env.randn(N, S, vdim or D)
        blocked = np.zeros((L, S), bool)
        blocked[:, -1] = True
        added = np.where(np.broadcast_to(blocked, (N * H, L, S)), -np.inf, env.randn(N * H, L, S))

        def kwargs(to):  # called once per side: no draws in here
            kw = {"need_weights": "weights" in options, "average_attn_weights": "per_head" not in options}
            if "mask3d" in options:
                kw["attn_mask"] = to(added.astype(env.np_dtype))
            elif "mask" in options:
                kw["attn_mask"] = to(blocked)
            if "padding" in options:  # float (0 / −inf) beside a float attn_mask: torch warns on mixed types
                pad = _padding(S)
                kw["key_padding_mask"] = to(np.where(pad, -np.inf, 0.0).astype(env.np_dtype) if "mask3d" in options
                                            else pad)
            return kw
        return _module_case(env, tm, jm, [q, k, v], kwargs)
    return case


for _opts in ("weights", "weights,per_head,mask3d,padding", "bias_kv,zero_attn,weights,mask", "bias_kv,padding",
              "kdim,weights,padding", "kdim,no_bias,mask3d", "zero_attn,mask,padding", "no_bias,weights,per_head"):
    register(f"nn.MultiheadAttention[{_opts}]", "transformer", sweep=True)(_mha_case(_opts.split(",")))
