"""GPT checkpoints of other codebases <-> jaxdl.nn.GPT: the book's GPTModel, nanoGPT and Hugging Face GPT-2.

Each source is a table of renames from its state_dict names to jaxdl's ({i} = block index), with the two
changes of layout the sources make: a fused ``c_attn`` (rows [q; k; v] of one (3E, E) Linear) and, in
Hugging Face's GPT-2, Conv1D weights stored transposed ((in, out), not torch.nn.Linear's (out, in)).
Public through jaxdl.interop (load_gpt, export_gpt).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from jaxdl.interop._safetensors import load_safetensors
from jaxdl.interop._state_dict import flatten, match_state_dict, to_numpy
from jaxdl.nn import GPT

SOURCES = ("rasbt", "nanogpt", "huggingface")
_QKV = ("att.W_query", "att.W_key", "att.W_value")


def _rasbt_rules():
    norms = [(f"{n}.scale", f"{n}.weight") for n in ("norm1", "norm2")] + \
            [(f"{n}.shift", f"{n}.bias") for n in ("norm1", "norm2")]
    same = [f"{m}.{p}" for m in (*_QKV, "att.out_proj", "ff.layers.0", "ff.layers.2") for p in ("weight", "bias")]
    block = [(f"trf_blocks.{{i}}.{a}", (f"trf_blocks.{{i}}.{b}",), False) for a, b in [*zip(same, same), *norms]]
    return [("tok_emb.weight", ("tok_emb.weight",), False), ("pos_emb.weight", ("pos_emb.weight",), False),
            *block, ("final_norm.scale", ("final_norm.weight",), False),
            ("final_norm.shift", ("final_norm.bias",), False), ("out_head.weight", ("out_head.weight",), False)]


def _openai_rules(conv1d: bool):
    """nanoGPT's names (GPT-2's, which Hugging Face keeps, there with Conv1D weights: ``conv1d=True``)."""
    block = []
    for p in ("weight", "bias"):
        t = conv1d and p == "weight"
        block += [(f"ln_1.{p}", (f"norm1.{p}",), False), (f"ln_2.{p}", (f"norm2.{p}",), False),
                  (f"attn.c_attn.{p}", tuple(f"{m}.{p}" for m in _QKV), t),
                  (f"attn.c_proj.{p}", (f"att.out_proj.{p}",), t),
                  (f"mlp.c_fc.{p}", (f"ff.layers.0.{p}",), t), (f"mlp.c_proj.{p}", (f"ff.layers.2.{p}",), t)]
    return [("transformer.wte.weight", ("tok_emb.weight",), False),
            ("transformer.wpe.weight", ("pos_emb.weight",), False),
            *[(f"transformer.h.{{i}}.{a}", tuple(f"trf_blocks.{{i}}.{n}" for n in b), t) for a, b, t in block],
            ("transformer.ln_f.weight", ("final_norm.weight",), False),
            ("transformer.ln_f.bias", ("final_norm.bias",), False), ("lm_head.weight", ("out_head.weight",), False)]


# (source name, jaxdl name(s): three = the fused q/k/v rows, transposed: Conv1D layout) for each source
RULES = {"rasbt": _rasbt_rules(), "nanogpt": _openai_rules(False), "huggingface": _openai_rules(True)}
# buffers in the sources' state_dicts that are no parameters: the causal masks (rebuilt from the shapes here)
BUFFERS = {"rasbt": r"trf_blocks\.\d+\.att\.mask", "nanogpt": r"transformer\.h\.\d+\.attn\.bias",
           "huggingface": r"transformer\.h\.\d+\.attn\.(bias|masked_bias)"}
# what each source's code computes where its state_dict cannot tell
DEFAULTS = {"rasbt": {"activation": "gelu_tanh"}, "nanogpt": {"activation": "gelu"},
            "huggingface": {"activation": "gelu_tanh"}}  # HF GPT2Config: activation_function="gelu_new" (tanh)


# the config keys of the metadata that travels with the weights -> jaxdl GPT's: nanoGPT's checkpoint["model_args"]
# (the keys its train.py forces equal on resume; dropout is a training choice there, not read) and Hugging Face's
# config.json (GPT2Config; its dropouts are not read either: drop_rate stays 0.0 unless overridden)
META_KEYS = {"nanogpt": {"n_layer": "n_layers", "n_head": "n_heads", "n_embd": "emb_dim",
                         "block_size": "context_length",
                         "vocab_size": "vocab_size", "bias": "bias"},
             "huggingface": {"n_layer": "n_layers", "n_head": "n_heads", "n_embd": "emb_dim",
                             "n_positions": "context_length", "vocab_size": "vocab_size",
                             "layer_norm_epsilon": "layer_norm_eps", "activation_function": "activation",
                             "tie_word_embeddings": "tie_weights"}}
HF_ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu"}
# GPT2Config settings jaxdl's GPT does not compute otherwise: (key, the value jaxdl computes; None = absent too)
HF_FIXED = (("scale_attn_weights", True), ("scale_attn_by_inverse_layer_idx", False), ("add_cross_attention", False))


def _metadata(source: str, meta: Mapping, where: str, problems: list[str]) -> dict:
    """The jaxdl GPT config that ``meta`` (model_args or config.json) gives; problems for what jaxdl cannot
    compute (another activation, an inner width other than 4·n_embd, unscaled attention)."""
    out = {dst: meta[src] for src, dst in META_KEYS[source].items() if src in meta}
    if source == "nanogpt" and "bias" in out:
        out["qkv_bias"] = out["bias"]  # nanoGPT's bias covers every Linear, c_attn included
    if source == "huggingface":
        if meta.get("model_type", "gpt2") != "gpt2":
            problems.append(f"{where}: model_type must be 'gpt2'; got {meta['model_type']!r}")
        if "activation" in out:
            act = out["activation"]
            if act not in HF_ACTIVATIONS:
                problems.append(f"{where}: activation_function {act!r} is not one jaxdl's GPT computes; expected one "
                                f"of {list(HF_ACTIVATIONS)}")
            out["activation"] = HF_ACTIVATIONS.get(act, act)
        if meta.get("n_inner") not in (None, 4 * meta.get("n_embd", 0)):
            problems.append(f"{where}: n_inner={meta['n_inner']} is not supported (jaxdl's GPT has 4·n_embd)")
        for key, value in HF_FIXED:
            if meta.get(key, value) != value:
                problems.append(f"{where}: {key}={meta[key]!r} is not supported (jaxdl's GPT computes {value!r})")
    return out


def _read_checkpoint(checkpoint, source: str, problems: list[str]):
    """``(state_dict, metadata config, where it came from)`` of load_gpt's first argument."""
    if isinstance(checkpoint, (str, os.PathLike)):
        path = Path(checkpoint)
        weights = path / "model.safetensors" if path.is_dir() else path
        if not weights.is_file() or weights.suffix != ".safetensors":
            raise ValueError(f"load_gpt: {str(checkpoint)!r} must be a .safetensors file or a directory holding "
                             f"model.safetensors (a torch .bin/.pt needs torch.load first: pass its dict)")
        config = weights.parent / "config.json"
        meta, where = {}, None
        if source == "huggingface" and config.is_file():
            try:
                meta, where = json.loads(config.read_text(encoding="utf-8")), str(config)
            except (ValueError, UnicodeDecodeError) as err:
                raise ValueError(f"load_gpt: {config} is not valid JSON: {err}") from None
        return load_safetensors(weights), meta, where
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f"load_gpt: expected a state_dict, a nanoGPT checkpoint dict or a path; got "
                        f"{type(checkpoint).__name__}")
    if "model" in checkpoint and "model_args" in checkpoint:  # nanoGPT's ckpt.pt, as torch.load gives it
        if source != "nanogpt":
            problems.append(f"a nanoGPT checkpoint (model, model_args) given with source={source!r}")
            return checkpoint["model"], {}, None
        return checkpoint["model"], dict(checkpoint["model_args"]), "model_args"
    return checkpoint, {}, None


def _compiled(source):
    return [(re.compile(re.escape(src).replace(r"\{i\}", r"(\d+)") + "$"), dst, t) for src, dst, t in RULES[source]]


def _check_source(fn: str, source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"{fn}: source must be one of {list(SOURCES)}; got {source!r}")


def _rename(source: str, state_dict: Mapping[str, Any], problems: list[str]) -> dict[str, np.ndarray]:
    """Source state_dict -> jaxdl's flat names (fused q/k/v split, Conv1D weights transposed)."""
    rules, buffers, out = _compiled(source), re.compile(BUFFERS[source] + "$"), {}
    for name, value in state_dict.items():
        if source == "huggingface" and not name.startswith(("transformer.", "lm_head.")):
            name = "transformer." + name  # a GPT2Model checkpoint (the hub's gpt2 files) has no prefix
        if source == "nanogpt":
            name = name.removeprefix("_orig_mod.")  # nanoGPT's train.py saves the torch.compile wrapper's names
        if buffers.match(name):
            continue
        for pattern, dst, transposed in rules:
            m = pattern.match(name)
            if m:
                break
        else:
            problems.append(f"unexpected key {name!r} for source {source!r}")
            continue
        array = to_numpy(value)
        array = array.T if transposed and array.ndim == 2 else array
        names = [d.replace("{i}", m.group(1)) if m.groups() else d for d in dst]
        if len(names) == 3:
            if array.shape[0] % 3:
                problems.append(f"{name}: a fused q/k/v needs a first dim divisible by 3; got {array.shape}")
                continue
            out.update(zip(names, np.split(array, 3, axis=0)))
        else:
            out[names[0]] = array
    return out


def _infer(flat: dict, problems: list[str]) -> dict:
    """The GPT config the weights determine."""
    cfg: dict = {}
    for name, keys in (("tok_emb.weight", ("vocab_size", "emb_dim")), ("pos_emb.weight", ("context_length", None))):
        if name not in flat or np.ndim(flat[name]) != 2:
            problems.append(f"{name}: needed (2-D) to infer {[k for k in keys if k]}; "
                            f"got {np.shape(flat[name]) if name in flat else 'nothing'}")
            continue
        cfg.update({k: int(n) for k, n in zip(keys, np.shape(flat[name])) if k})
    blocks = {int(k.split(".")[1]) for k in flat if k.startswith("trf_blocks.")}
    cfg["n_layers"] = max(blocks) + 1 if blocks else 0
    cfg["qkv_bias"] = "trf_blocks.0.att.W_query.bias" in flat
    cfg["bias"] = "final_norm.bias" in flat
    head, emb = flat.get("out_head.weight"), flat.get("tok_emb.weight")
    cfg["tie_weights"] = head is None or (emb is not None and np.array_equal(head, emb))
    return cfg


def load_gpt(checkpoint, *, source: str, n_heads: int | None = None, **config_overrides):
    """A GPT checkpoint of another codebase -> ``(model, params, state)`` of an exactly equal jaxdl.nn.GPT.

    ``checkpoint``: a state_dict (name -> tensor or array); nanoGPT's whole checkpoint dict
    (``torch.load("ckpt.pt")``: its "model" state_dict and its "model_args"); or a path, a .safetensors file or a
    directory holding model.safetensors, with Hugging Face's config.json beside it (``save_pretrained``'s
    layout). The metadata (model_args, config.json) gives n_heads and the rest of the config where it has them
    (see META_KEYS; dropout is not read); a value that contradicts it, or that the weights contradict, is an
    error naming both. A bare state_dict or a file without config.json holds no head count: the weights cannot
    tell it (any n_heads dividing emb_dim fits them and computes something else), so ``n_heads`` is then required.

    ``source``: "rasbt" (the LLMs-from-scratch book's GPTModel, whose config the lecture's GPT_CONFIG_124M is),
    "nanogpt" (karpathy/nanoGPT's GPT; its ckpt.pt's ["model"], "_orig_mod." prefixes and all) or "huggingface"
    (transformers' GPT2LMHeadModel, or a GPT2Model/hub checkpoint without the "transformer." prefix, with or without
    the older attn.bias/masked_bias buffers).
    vocab_size, context_length, emb_dim, n_layers, qkv_bias, bias and tie_weights (no head, or a head equal to
    the token embedding, as nanoGPT's and GPT-2's shared tensor) are read from the weights; ``n_heads`` is not
    in them (see above). ``config_overrides`` give the rest (drop_rate, layer_norm_eps, activation: by default the
    source's own, "gelu" for nanoGPT and "gelu_tanh" for the others); an override that contradicts the
    weights is an error. Every problem (unknown or missing names, shapes, contradictions) is listed in one
    ValueError. dtypes follow load_state_dict's policy.
    """
    _check_source("load_gpt", source)
    problems: list[str] = []
    state_dict, meta, where = _read_checkpoint(checkpoint, source, problems)
    flat = _rename(source, state_dict, problems)
    inferred = _infer(flat, problems)
    given = _metadata(source, meta, where, problems) if where else {}
    for k, v in given.items():  # the metadata against the weights
        if k == "tie_weights" and inferred[k] and not v:
            config_overrides.setdefault(k, v)  # untied in the config, equal in value: untie as an override would
        elif k in inferred and v != inferred[k]:
            problems.append(f"{where} gives {k}={v!r} but the weights give {k}={inferred[k]!r}")
    if n_heads is not None:
        config_overrides["n_heads"] = n_heads
    for k, v in config_overrides.items():  # the caller against the metadata
        if k in given and v != given[k]:
            problems.append(f"{k}={v!r} contradicts {where}, which gives {k}={given[k]!r}")
    if "n_heads" not in given and n_heads is None:
        problems.append("n_heads is needed: the weights cannot tell the head count and "
                        + (f"{where} does not give it" if where else "there is no metadata (model_args or "
                           "config.json) with them"))
    cfg = {"drop_rate": 0.0, "layer_norm_eps": 1e-5, **DEFAULTS[source],
           **{k: v for k, v in given.items() if k not in ("tie_weights",)}, **inferred,
           "n_heads": given.get("n_heads", n_heads)}
    for k, v in config_overrides.items():
        if k not in GPT.__dataclass_fields__:
            problems.append(f"unknown config override {k}={v!r}")
        elif k == "n_heads" or (k in given and v != given[k]):
            continue  # reported above
        elif k == "tie_weights" and inferred[k] and not v:
            cfg[k] = False  # untie: the head starts as a copy of the shared tensor
            flat.setdefault("out_head.weight", flat.get("tok_emb.weight"))
        elif k in inferred and v != inferred[k]:
            problems.append(f"override {k}={v!r} contradicts the weights, which give {k}={inferred[k]!r}")
        else:
            cfg[k] = v
    if cfg["tie_weights"]:
        flat.pop("out_head.weight", None)
    model = params = state = None
    try:  # built from the weights' values even where an override contradicts them, to list their problems too
        model = None if cfg["n_heads"] is None else GPT(**cfg)
    except (ValueError, TypeError) as err:
        problems.append(str(err))
    if model is not None:
        params, state, _, more = match_state_dict(model, flat, strict=True)
        problems += more
    if problems:
        raise ValueError(f"load_gpt(source={source!r}): {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return model, params, state


def export_gpt(model, params: Mapping, *, target: str) -> dict[str, np.ndarray]:
    """jaxdl GPT params -> the state_dict (numpy arrays) that ``target``'s own model class loads with
    ``strict=True`` (convert with torch.from_numpy); ``target`` as load_gpt's source.

    Raises where the target's code computes something else: the book's GPTModel has tanh GELU, eps 1e-5 and
    every bias but the optional qkv one; nanoGPT has exact GELU, eps 1e-5 and a tied head; Hugging Face GPT-2
    has every bias (build its GPT2Config with activation_function "gelu_new" for gelu_tanh or "gelu", and
    layer_norm_epsilon, tie_word_embeddings as the model's). A qkv bias the model lacks is exported as zeros
    where the target always has one (same logits). Includes the book's persistent ``att.mask`` buffers.
    """
    _check_source("export_gpt", target)
    need = {"rasbt": {"activation": "gelu_tanh", "layer_norm_eps": 1e-5, "bias": True},
            "nanogpt": {"activation": "gelu", "layer_norm_eps": 1e-5, "tie_weights": True},
            "huggingface": {"bias": True}}[target]
    wrong = {k: getattr(model, k) for k, v in need.items() if getattr(model, k) != v}
    if wrong:
        raise ValueError(f"export_gpt(target={target!r}): its model needs {need}; this GPT has {wrong}")
    flat = {k: np.asarray(v) for k, v in flatten(params).items()}
    emb = flat["tok_emb.weight"]
    if model.tie_weights:
        flat["out_head.weight"] = emb
    out: dict[str, np.ndarray] = {}
    for src, dst, transposed in RULES[target]:
        for i in (range(model.n_layers) if "{i}" in src else [None]):
            names = [d.replace("{i}", str(i)) for d in dst]
            if not all(n in flat for n in names):
                if names[0].endswith("W_query.bias") and (target != "rasbt" and model.bias):
                    names = None  # the target always has a c_attn bias: zeros
                else:
                    continue
            array = (np.zeros(3 * model.emb_dim, emb.dtype) if names is None
                     else np.concatenate([flat[n] for n in names], axis=0))
            out[src.replace("{i}", str(i))] = np.ascontiguousarray(array.T if transposed else array)
    if target == "rasbt":  # the book's MultiHeadAttention registers triu(ones(T, T), 1) as a persistent buffer
        mask = np.triu(np.ones((model.context_length,) * 2, emb.dtype), k=1)
        out.update({f"trf_blocks.{i}.att.mask": mask.copy() for i in range(model.n_layers)})
    return out
