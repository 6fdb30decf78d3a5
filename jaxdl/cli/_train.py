"""``jaxdl train CONFIG [--set k=v ...] [--out DIR] [--resume | --overwrite]``."""
from __future__ import annotations

import os
import shlex

from jaxdl.cli._errors import ArgumentParser, error, interrupted, is_out_of_memory, os_error, out_of_memory
from jaxdl.config import ConfigError, load_config


def parser() -> ArgumentParser:
    p = ArgumentParser(prog="jaxdl train", description="train a model as a TOML config describes")
    p.add_argument("config", help="a TOML file, e.g. configs/digits_mlp.toml")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (as TOML spells it, or a Python literal), "
                        "e.g. --set optim.lr=0.1; repeatable")
    p.add_argument("--out", default=None,
                   help="output folder (metrics.jsonl, curves.png, checkpoints); default: the config's "
                        "train.out_dir; without either nothing is written")
    p.add_argument("--resume", action="store_true",
                   help="continue the output folder's run (lr, epochs, patience... may change; each change is "
                        "printed; model, data, batch size, optimizer and seed may not)")
    p.add_argument("--overwrite", action="store_true", help="replace the run the output folder holds")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def main(argv) -> int:
    args = parser().parse_args(argv)
    try:
        cfg = load_config(args.config, args.set)
        from jaxdl.experiment import run_train  # noqa: PLC0415  (imports JAX: after the config is known good)
        from jaxdl.train import CheckpointError, NonFiniteLossError  # noqa: PLC0415

        try:
            res = run_train(cfg, args.out, args.resume, not args.no_progress, overwrite=args.overwrite)
        except (CheckpointError, NonFiniteLossError) as err:  # a bad --resume file, a diverged run
            return error(str(err), 1)
        except OSError as err:
            return os_error(err)
        except Exception as err:
            if not is_out_of_memory(err):
                raise
            return out_of_memory(err)
        except KeyboardInterrupt:
            return interrupted(lambda: _saved(args, args.out or cfg.train.out_dir or None))
    except ConfigError as err:
        return error(str(err))
    if "unigram_entropy" in res:  # a language model: its loss per epoch beside the no-context baseline
        for h in res["history"]:
            print(f"epoch {h['epoch']}: train_loss {h['train_loss']:.4f}  val_loss {h['val_loss']:.4f}  "
                  f"(unigram entropy of the validation text: {res['unigram_entropy']:.4f} nats)")
    last = res["history"][-1]
    print(f"epoch {last['epoch']}: train_loss {last['train_loss']:.4f}  val_loss {last['val_loss']:.4f}  "
          f"val_acc {res['val_acc']:.4f}" + ("" if res["test_acc"] is None else f"  test_acc {res['test_acc']:.4f}"))
    return 0


def _saved(args, out_dir) -> str:
    """What an interrupted run left in ``out_dir`` (the last checkpoint's epoch) and the command that resumes it."""
    if out_dir is None:
        return "nothing was saved (no --out or train.out_dir); rerun with --out DIR to keep checkpoints"
    from jaxdl.experiment import RUN_FILES  # noqa: PLC0415
    from jaxdl.train import CheckpointError, read_checkpoint  # noqa: PLC0415

    path = os.path.join(out_dir, RUN_FILES[0])
    try:
        epoch = read_checkpoint(path).extra.get("epoch") if os.path.exists(path) else None
    except CheckpointError:
        epoch = None
    if epoch is None:
        return f"no epoch finished, so {out_dir} holds no checkpoint; rerun the command (with --overwrite)"
    sets = sum((["--set", s] for s in args.set), [])
    command = shlex.join(["jaxdl", "train", args.config, *sets, "--out", out_dir, "--resume"])
    return f"{path} holds epoch {epoch} (metrics.jsonl beside it); continue with: {command}"
