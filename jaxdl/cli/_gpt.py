"""``jaxdl sample CHECKPOINT`` and ``jaxdl params CONFIG``: the language models' (GPT, char-LSTM) command line."""
from __future__ import annotations

import os

from jaxdl._rules import SEED_ALLOWED, is_valid_seed
from jaxdl.cli._errors import ArgumentParser, error
from jaxdl.config import TEXT_MODELS, ConfigError, load_config


def load_gpt(checkpoint: str):
    """(model, params, vocab) from a checkpoint ``jaxdl train`` wrote for a language-model config (a GPT, or a
    CharLSTM when its stored config says model.kind = "lstm").

    The model's config and the vocabulary come from the checkpoint's metadata, read (like the arrays) through
    jaxdl.train's one checked reader: a missing, truncated or bit-flipped file is a CheckpointError naming it.
    """
    from jaxdl.data import CharVocab  # noqa: PLC0415
    from jaxdl.experiment import language_model_class  # noqa: PLC0415
    from jaxdl.train import CheckpointError, load_checkpoint_model, read_checkpoint  # noqa: PLC0415

    contents = read_checkpoint(checkpoint)  # read and hashed once, for the metadata and the arrays
    meta = contents.metadata
    if not isinstance(meta.get("model"), dict) or not isinstance(meta.get("vocab"), str):
        raise CheckpointError(f"checkpoint {checkpoint} holds no language-model config and vocabulary in its "
                              "metadata: it was not written by `jaxdl train` for a GPT or LSTM config (e.g. "
                              "configs/gpt_char.toml, configs/lstm_char.toml)")
    kind = ((meta.get("config") or {}).get("model") or {}).get("kind", "gpt")
    model = language_model_class(kind).from_config(meta["model"])
    params, _ = load_checkpoint_model(checkpoint, model, contents=contents)
    return model, params, CharVocab(meta["vocab"])


def run_sample(argv) -> int:
    """``jaxdl sample CHECKPOINT --prompt TEXT --temperature T --top-k K --top-p P --max-new-tokens N --seed S``,
    or ``jaxdl sample --weights FILE.safetensors --source huggingface --n-heads 12 --prompt-ids 464,3290`` for a
    converted checkpoint of another codebase (jaxdl.interop.load_gpt): that prints token ids (no tokenizer)."""
    p = ArgumentParser(prog="jaxdl sample", description="generate text from a trained language model's checkpoint "
                       "(GPT or char-LSTM), or token ids from a GPT state_dict of another codebase (--weights)")
    p.add_argument("checkpoint", nargs="?",
                   help="checkpoint.msgpack or best.msgpack of a GPT or LSTM run (jaxdl train)")
    p.add_argument("--prompt", default=None, help="prompt text for a CHECKPOINT (default: 'def ')")
    p.add_argument("--max-new-tokens", type=int, default=200)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--eos-id", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", help="a .safetensors state_dict of --source's GPT (instead of CHECKPOINT)")
    p.add_argument("--source", choices=("rasbt", "nanogpt", "huggingface"), help="the codebase --weights is from")
    p.add_argument("--n-heads", type=int, help="attention heads of the --weights model (not in the weights)")
    p.add_argument("--prompt-ids", help="comma-separated prompt token ids (instead of --prompt; needed with "
                                        "--weights, which has no tokenizer)")
    args = p.parse_args(argv)
    if (args.weights is None) == (args.checkpoint is None):
        return error("give a CHECKPOINT or --weights FILE (one of them)")
    if args.weights is not None and (args.source is None or args.n_heads is None or args.prompt_ids is None):
        return error("--weights needs --source, --n-heads and --prompt-ids")
    if args.weights is not None and args.prompt is not None:
        return error("--prompt does not apply to --weights (no tokenizer comes with them): give --prompt-ids")
    if args.checkpoint is not None:
        given = [f"--{k.replace('_', '-')}" for k in ("source", "n_heads") if getattr(args, k) is not None]
        if given:
            return error(f"{' and '.join(given)} apply to --weights only: a CHECKPOINT of `jaxdl train` holds its "
                         "model's config; remove them")
        if args.prompt is not None and args.prompt_ids is not None:
            return error("give --prompt or --prompt-ids, not both")
    if not is_valid_seed(args.seed):
        return error(f"--seed {args.seed}: expected {SEED_ALLOWED}")
    path = args.weights or args.checkpoint
    if not os.path.exists(path):
        return error(f"{'weights file' if args.weights else 'checkpoint'} {path} not found")
    ids = None
    if args.prompt_ids is not None:
        try:
            ids = [int(t) for t in args.prompt_ids.split(",")]
        except ValueError:
            return error(f"--prompt-ids {args.prompt_ids!r}: expected comma-separated integers, e.g. 464,3290")
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    from jaxdl.generate import generate  # noqa: PLC0415

    sampling = {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p, "eos_id": args.eos_id}
    try:
        if args.weights is not None:
            from jaxdl.interop import load_gpt as load_foreign_gpt, load_safetensors  # noqa: PLC0415

            try:
                entries = load_safetensors(args.weights)
            except Exception as err:  # noqa: BLE001  (safetensors' own SafetensorError: not a .safetensors file)
                if type(err).__name__ != "SafetensorError":
                    raise
                return error(f"weights file {args.weights} is not a .safetensors file ({err})", 1)
            model, params, _ = load_foreign_gpt(entries, source=args.source, n_heads=args.n_heads)
        else:
            model, params, vocab = load_gpt(args.checkpoint)
    except (ValueError, ImportError, OSError) as err:
        # a bad checkpoint file (CheckpointError) exits 1; weights that do not fit the given --n-heads/--source, 2
        return error(str(err), 2 if args.weights is not None else 1)
    text = "def " if args.prompt is None else args.prompt
    if ids is None:
        try:
            if not text:
                raise ValueError("expected at least one character")
            ids = vocab.encode(text)
        except ValueError as err:  # a character the checkpoint's text never had
            return error(f"--prompt {text!r}{' (the default)' if args.prompt is None else ''}: "
                         f"{str(err).replace('CharVocab.encode: ', '')}; the checkpoint's vocabulary is "
                         f"{vocab.size} characters of its training text")
    try:
        prompt = jnp.asarray(ids, jnp.int32)
        out = np.asarray(generate(model, params, prompt, args.max_new_tokens, key=jax.random.key(args.seed),
                                  **sampling))
    except ValueError as err:
        return error(str(err).removeprefix("generate: "))
    print(",".join(str(t) for t in out.tolist()) if args.weights is not None else vocab.decode(out))
    return 0


def run_params(argv) -> int:
    """``jaxdl params CONFIG.toml``: the [model] table's network layer by layer (``jaxdl.nn.summary``, as
    torchinfo prints it) and its parameter count; for a GPT also the count with the head untied and tied."""
    p = ArgumentParser(prog="jaxdl params", description="print the layers and parameter count of a config's "
                       "model (a GPT's vocab_size from the config, or from its [data] text)")
    p.add_argument("config")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (as TOML spells it, or a Python literal), e.g. --set "
                        "model.n_layers=2; repeatable")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, args.set)
        from jaxdl.nn import GPT, count_parameters, summary  # noqa: PLC0415

        if cfg.model.kind in TEXT_MODELS:
            from jaxdl.experiment import build_lm, build_vocab  # noqa: PLC0415

            vocab_size = build_vocab(cfg).size if cfg.data is not None else None
            model = build_lm(cfg, vocab_size)
        else:
            from jaxdl.experiment import build_data, build_model  # noqa: PLC0415

            if cfg.data is None:
                raise ConfigError(f"{args.config} has no [data] table: jaxdl params needs it for the input width")
            in_features = build_data(cfg)[0][0].shape[1]
            model = build_model(cfg, in_features)
    except ConfigError as err:
        return error(str(err))
    if cfg.model.kind not in TEXT_MODELS:
        print(summary(model, (1, in_features)))
        return 0
    import jax.numpy as jnp  # noqa: PLC0415

    from_data = f"vocab_size={vocab_size} from the [data] text" if vocab_size is not None else ""
    if not isinstance(model, GPT):  # the CharLSTM
        print(f"{args.config}: {count_parameters(model):,} parameters" + (f" ({from_data})" if from_data else ""))
    else:
        untied = count_parameters(GPT(**{**model.config(), "tie_weights": False}))
        tied = count_parameters(GPT(**{**model.config(), "tie_weights": True}))
        print(f"{args.config}: {count_parameters(model):,} parameters (tie_weights={str(model.tie_weights).lower()}"
              + (f", {from_data}" if from_data else "") + ")")
        print(f"  untied output head: {untied:,}; tied to tok_emb: {tied:,}")
    print(summary(model, (1, model.context_length), input_dtype=jnp.int32))
    return 0
