"""``run_train``: the run lifecycle around a recipe — output folder, resume check, metadata — then the recipe."""
from __future__ import annotations

import json
import os

from jaxdl.config import TEXT_MODELS, Config, ConfigError
from jaxdl.experiment._run_dir import RUN_FILES, prepare_run_dir


def run_train(cfg: Config, out_dir: str | None = None, resume: bool = False, progress: bool = True, *,
              overwrite: bool = False, log=print) -> dict:
    """Train as the config says; returns {"history", "val_acc", "test_acc", ...} (test_acc None without a test split).

    ``out_dir`` (else ``train.out_dir``; neither: nothing is written) must not hold a run unless ``resume``
    (continue it; settings that may change mid-run are applied and each ``log``ged in one line, the others
    refused) or ``overwrite``. A GPT config also returns "unigram_entropy", the validation text's loss for a
    model that ignores context, and "vocab".
    """
    missing = [f"[{t}]" for t in ("data", "train") if t not in cfg.tables]
    if cfg.model.kind in TEXT_MODELS and missing:
        raise ConfigError(f"this {cfg.model.kind.upper()} config has no {' or '.join(missing)} table: it describes "
                          f"a model only (see `jaxdl params CONFIG`); configs/{cfg.model.kind}_char.toml is one "
                          "that trains")
    if "compare" in cfg.tables:
        raise ConfigError("this config has a [compare] table, which jaxdl train would ignore: run it with "
                          "`jaxdl compare CONFIG`, or remove [compare] (and give an [optim] table) to train once")
    if out_dir == "":
        raise ConfigError("--out '': expected a folder name (without --out and train.out_dir nothing is written)")
    out_dir = out_dir or cfg.train.out_dir or None
    if out_dir is None and (resume or overwrite):
        raise ConfigError(f"--{'resume' if resume else 'overwrite'} needs an output folder: pass --out DIR "
                          "(or set train.out_dir)")
    from jaxdl.experiment._resume import Start  # noqa: PLC0415

    start = Start(cfg.train.seed)
    if out_dir is not None:
        prepare_run_dir(out_dir, resume=resume, overwrite=overwrite)
        if resume:
            start = _check_resume(cfg, os.path.join(out_dir, RUN_FILES[0]), log)
    log(precision_line(cfg.train.precision))
    fit_kwargs = {"out_dir": out_dir, "resume": resume, "progress": progress, "metadata": {"config": cfg.to_dict()}}
    if cfg.model.kind in TEXT_MODELS:
        from jaxdl.experiment._gpt import run_gpt  # noqa: PLC0415

        return run_gpt(cfg, fit_kwargs, start)
    from jaxdl.experiment._mlp import run_mlp  # noqa: PLC0415

    return run_mlp(cfg, fit_kwargs, start)


PRECISION_WORDS = {"fp32": "float32 weights and compute",
                   "bf16-mixed": "torch.autocast(bfloat16) over float32 weights: bfloat16 matmuls and convolutions "
                                 "(jaxdl.amp)"}


def precision_line(precision: str) -> str:
    """What ``jaxdl train`` prints first: the train.precision in force, and JAX's float32 matmul precision
    (``jax_default_matmul_precision``: unset is XLA's DEFAULT, full float32 on CPU, TF32 on NVIDIA GPUs that
    have it; set it with ``JAX_DEFAULT_MATMUL_PRECISION=highest``)."""
    import jax  # noqa: PLC0415

    matmul = jax.config.jax_default_matmul_precision
    device = jax.local_devices()[0]
    return (f"precision: train.precision = {precision!r} ({PRECISION_WORDS.get(precision, 'see jaxdl.amp')}); "
            f"float32 matmul precision: " + (repr(matmul) if matmul else "XLA's default (full float32 on CPU, "
                                             "TF32 on NVIDIA GPUs that have it)")
            + f"; device: {device.platform} ({device.device_kind})")


def _check_resume(cfg: Config, checkpoint: str, log):
    """Compare this config with the one saved in ``checkpoint`` (when there is one), log what changes, and
    return where fit starts (``_resume.Start``): that checkpoint's state, with the config's lr if it changed."""
    from jaxdl.experiment._resume import Start, changed_lr, resume_changes  # noqa: PLC0415

    if not os.path.exists(checkpoint):
        return Start(cfg.train.seed)  # nothing to resume yet: fit starts at epoch 1
    from jaxdl.train import read_checkpoint  # noqa: PLC0415

    ckpt = read_checkpoint(checkpoint)
    saved = ckpt.metadata.get("config")
    if saved is None:  # a checkpoint from before configs were saved: fit's structure check is all there is
        return Start(cfg.train.seed, checkpoint)
    now = json.loads(json.dumps(cfg.to_dict()))  # as the checkpoint holds it (lists, not tuples)
    for line in resume_changes(saved, now, ckpt.extra.get("epoch", 0) + 1):
        log(line)
    return Start(cfg.train.seed, checkpoint, changed_lr(saved, now))
