"""Parity cases for attention and the GPT: F.scaled_dot_product_attention, nn.MultiheadAttention, nn.GPT.

Each mask kind (none, causal, boolean, additive, key_padding) is compared with torch's SDPA / MHA, and a whole
GPT (tied and untied) is compared with the torch reference in _torch_gpt.py, with weights moved by name.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.interop import load_state_dict
from jaxdl.parity._core import Comparison, compare_function, register, to_numpy
from jaxdl.parity._torch_gpt import torch_gpt, torch_state_dict_to_jax

L, S, E, HEADS = 5, 6, 8, 2


def _masks(env, kind):
    """(jax mask, torch mask, is_causal) for one SDPA mask kind; masks include one fully-masked query row."""
    if kind == "none":
        return None, None, False
    if kind == "causal":
        return None, None, True
    keep = env.uniform(L, S) > 0.3
    keep[:, 0] = True
    keep[2] = False  # a query row with no visible key: torch returns zeros there
    if kind == "boolean":
        return jnp.asarray(keep), env.torch.as_tensor(keep, device=env.device), False
    add = np.where(keep, env.randn(L, S), -np.inf).astype(env.np_dtype)
    return jnp.asarray(add), env.to_torch(add), False


def _sdpa_case(kind):
    def case(env):
        q, k, v = env.randn(2, HEADS, L, E), env.randn(2, HEADS, S, E), env.randn(2, HEADS, S, E)
        jmask, tmask, causal = _masks(env, kind)
        return compare_function(
            env,
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=jmask, is_causal=causal),
            lambda q, k, v: env.torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=tmask,
                                                                                 is_causal=causal),
            [q, k, v], diff_argnums=(0, 1, 2))
    return case


for _kind in ("none", "causal", "boolean", "additive"):
    register(f"F.scaled_dot_product_attention[{_kind}]", "functional", mixed=True)(_sdpa_case(_kind))


@register("F.scaled_dot_product_attention[broadcast batch]", "functional", mixed=True)
def _sdpa_broadcast(env):
    """query (4, 3, 8) against key/value (4, 4, 6, 8): the batch dims broadcast to (4, 4), as torch's."""
    q, k, v = env.randn(4, 3, 8), env.randn(4, 4, 6, 8), env.randn(4, 4, 6, 8)
    return compare_function(env, F.scaled_dot_product_attention,
                            env.torch.nn.functional.scaled_dot_product_attention, [q, k, v], diff_argnums=(0, 1, 2))


def _mha_case(kind):
    def case(env):
        torch = env.torch
        ref = torch.nn.MultiheadAttention(E, HEADS, batch_first=True).to(device=env.device, dtype=env.torch_dtype)
        with torch.no_grad():  # torch zeroes the biases at init; random ones test them too
            ref.in_proj_bias.normal_()
            ref.out_proj.bias.normal_()
        params = {"in_proj_weight": ref.in_proj_weight, "in_proj_bias": ref.in_proj_bias,
                  "out_proj": {"weight": ref.out_proj.weight, "bias": ref.out_proj.bias}}
        params = jax.tree_util.tree_map(jnp.asarray, to_numpy(params))
        params = jax.tree_util.tree_map(lambda p: p.astype(env.np_dtype), params)
        kw_j, kw_t = {}, {}
        if kind in ("attn_mask_bool", "attn_mask_float"):
            blocked = env.uniform(L, S) > 0.7
            blocked[:, 0] = False
            if kind == "attn_mask_bool":  # MHA's boolean convention: True = NOT allowed
                kw_j["attn_mask"], kw_t["attn_mask"] = jnp.asarray(blocked), torch.as_tensor(blocked, device=env.device)
            else:
                add = np.where(blocked, -np.inf, env.randn(L, S)).astype(env.np_dtype)
                kw_j["attn_mask"], kw_t["attn_mask"] = jnp.asarray(add), env.to_torch(add)
        if kind in ("key_padding", "need_weights_false"):
            pad = np.zeros((2, S), bool)
            pad[0, -2:] = True
            kw_j["key_padding_mask"] = jnp.asarray(pad)
            kw_t["key_padding_mask"] = torch.as_tensor(pad, device=env.device)
        if kind == "need_weights_false":
            kw_j["need_weights"] = kw_t["need_weights"] = False
        if kind == "per_head_weights":
            kw_j["average_attn_weights"] = kw_t["average_attn_weights"] = False
        mha = nn.MultiheadAttention(E, HEADS, batch_first=True)
        return compare_function(  # outputs (attn_output, attn_weights or None); gradients w.r.t. q, k, v
            env, lambda q, k, v: mha.apply(jax.tree_util.tree_map(lambda p: p.astype(q.dtype), params), {}, q, k, v,
                                           **kw_j)[0], lambda q, k, v: ref(q, k, v, **kw_t),
            [env.randn(2, L, E), env.randn(2, S, E), env.randn(2, S, E)], diff_argnums=(0, 1, 2))
    return case


for _kind in ("none", "attn_mask_bool", "attn_mask_float", "key_padding", "need_weights_false", "per_head_weights"):
    register(f"nn.MultiheadAttention[{_kind}]", "nn", mixed=True)(_mha_case(_kind))


def _flatten(tree, prefix=""):
    """Nested dict -> {'a.b.c': leaf}, the torch state_dict naming."""
    out = {}
    for k, v in tree.items():
        name = f"{prefix}{k}"
        out.update(_flatten(v, name + ".") if isinstance(v, dict) else {name: v})
    return out


def _load(model, state_dict):
    """torch state_dict (numpy) -> jaxdl params, checked by jaxdl.interop."""
    return load_state_dict(model, state_dict)[0]


def _gpt_case(tie, sdpa=False, **options):
    cfg = {"vocab_size": 13, "context_length": 8, "emb_dim": 16, "n_heads": 2, "n_layers": 2, "drop_rate": 0.1,
           "qkv_bias": tie, "tie_weights": tie, **options}

    def case(env):
        torch = env.torch
        torch.manual_seed(0)
        ref = torch_gpt(cfg, sdpa=sdpa).to(device=env.device, dtype=env.torch_dtype).eval()  # eval: dropout off
        model = nn.GPT.from_config(cfg)
        params = _load(model, torch_state_dict_to_jax(ref, tie))
        idx, tgt = env.randint(0, cfg["vocab_size"], (3, 7)), env.randint(0, cfg["vocab_size"], (3, 7))

        def objective(p, i, t):
            logits = model.apply(p, {}, i)[0]
            return nn.lm_loss(logits, t), logits

        (jloss, jlogits), jgrads = env.jit(jax.value_and_grad(objective, has_aux=True))(
            params, env.to_jax(idx), env.to_jax(tgt))
        with env.autocast():
            tlogits = ref(torch.as_tensor(idx, device=env.device))
            tloss = torch.nn.functional.cross_entropy(tlogits.flatten(0, 1),
                                                      torch.as_tensor(tgt, device=env.device).flatten())
        tloss.backward()
        tgrads = {k: p.grad for k, p in ref.named_parameters()}  # a tied weight appears once, as tok_emb.weight
        return Comparison(values=(to_numpy((jloss, jlogits)), to_numpy((tloss, tlogits))),
                          grads=(to_numpy(_flatten(jgrads)), to_numpy(tgrads)))
    return case


# float64: a 2-layer forward + backward sums in another order than torch's kernels: ~1e-10 relative, so 1e-9.
_GPT_TOL = {"float64": {"rtol": 1e-9, "atol": 1e-11}}
register("nn.GPT forward+grad", "gpt", tolerances=_GPT_TOL, mixed=True)(_gpt_case(False))
register("nn.GPT forward+grad (tied, qkv_bias)", "gpt", tolerances=_GPT_TOL, mixed=True)(_gpt_case(True))
# nanoGPT's options: exact GELU, no bias anywhere (no zero biases that would still get gradients), another eps
register("nn.GPT forward+grad (gelu, bias=False, eps 1e-6)", "gpt", tolerances=_GPT_TOL, mixed=True)(
    _gpt_case(False, activation="gelu", bias=False, layer_norm_eps=1e-6))
# the reference's attention as F.scaled_dot_product_attention (torch's flash kernels, as nanoGPT)
register("nn.GPT forward+grad (torch SDPA reference)", "gpt", tolerances=_GPT_TOL, mixed=True)(
    _gpt_case(True, sdpa=True))
