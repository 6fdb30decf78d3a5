"""``jaxdl sample CHECKPOINT`` and ``jaxdl params CONFIG``: the GPT's command-line glue."""
from __future__ import annotations

import argparse
import os

from jaxdl.cli import error
from jaxdl.config import ConfigError, load_config


def load_gpt(checkpoint: str):
    """(model, params, vocab) from a checkpoint ``jaxdl train`` wrote for a GPT config.

    The model's config and the vocabulary come from the checkpoint's metadata, read (like the arrays) through
    jaxdl.train's one checked reader: a missing, truncated or bit-flipped file is a CheckpointError naming it.
    """
    from jaxdl.data import CharVocab  # noqa: PLC0415
    from jaxdl.nn import GPT  # noqa: PLC0415
    from jaxdl.train import CheckpointError, load_checkpoint_model, read_checkpoint_metadata  # noqa: PLC0415

    meta = read_checkpoint_metadata(checkpoint)
    if not isinstance(meta.get("model"), dict) or not isinstance(meta.get("vocab"), str):
        raise CheckpointError(f"checkpoint {checkpoint} holds no GPT config and vocabulary in its metadata: "
                              "it was not written by `jaxdl train` for a GPT config (e.g. configs/gpt_char.toml)")
    model = GPT.from_config(meta["model"])
    params, _ = load_checkpoint_model(checkpoint, model)
    return model, params, CharVocab(meta["vocab"])


def run_sample(argv) -> int:
    """``jaxdl sample CHECKPOINT --prompt TEXT --temperature T --top-k K --max-new-tokens N --seed S``."""
    p = argparse.ArgumentParser(prog="jaxdl sample", description="generate text from a trained GPT checkpoint")
    p.add_argument("checkpoint", help="checkpoint.msgpack or best.msgpack of a GPT run (jaxdl train)")
    p.add_argument("--prompt", default="def ")
    p.add_argument("--max-new-tokens", type=int, default=200)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not os.path.exists(args.checkpoint):
        return error(f"checkpoint {args.checkpoint} not found")
    import jax  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    from jaxdl.generate import generate  # noqa: PLC0415

    try:
        model, params, vocab = load_gpt(args.checkpoint)
    except ValueError as err:  # CheckpointError, or metadata that does not make a GPT
        return error(str(err), 1)
    try:
        ids = vocab.encode(args.prompt)
        out = generate(model, params, ids, args.max_new_tokens, key=jax.random.key(args.seed),
                       temperature=args.temperature, top_k=args.top_k)
    except ValueError as err:
        return error(str(err).removeprefix("generate: "))
    print(vocab.decode(np.asarray(out)))
    return 0


def run_params(argv) -> int:
    """``jaxdl params CONFIG.toml``: the parameter count of the [model] table's GPT, untied and tied."""
    p = argparse.ArgumentParser(prog="jaxdl params", description="count the parameters of a GPT config "
                                "(vocab_size from the config, or from its [data] text)")
    p.add_argument("config")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (Python literal), e.g. --set model.n_layers=2; repeatable")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, args.set)
        if cfg.model.kind != "gpt":
            raise ConfigError(f"jaxdl params counts GPT configs; {args.config} has model.kind = {cfg.model.kind!r}")
        from jaxdl.experiment._gpt import build_gpt, build_text_data  # noqa: PLC0415
        from jaxdl.nn import GPT, count_parameters  # noqa: PLC0415

        vocab_size = build_text_data(cfg)[0].size if cfg.data is not None else None
        model = build_gpt(cfg, vocab_size)
    except ConfigError as err:
        return error(str(err))
    untied = count_parameters(GPT(**{**model.config(), "tie_weights": False}))
    tied = count_parameters(GPT(**{**model.config(), "tie_weights": True}))
    print(f"{args.config}: {count_parameters(model):,} parameters (tie_weights={str(model.tie_weights).lower()}"
          + (f", vocab_size={vocab_size} from the [data] text" if vocab_size is not None else "") + ")")
    print(f"  untied output head: {untied:,}; tied to tok_emb: {tied:,}")
    return 0
