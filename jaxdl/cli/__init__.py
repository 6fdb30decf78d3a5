"""The ``jaxdl`` command: argparse wiring only; each subcommand is a small run_* function, imported when run.

Nothing here imports JAX: a config, path or argument error is reported before it loads.
"""
from __future__ import annotations

import argparse
import sys


def _parity(argv):
    from jaxdl.parity import main as parity_main  # noqa: PLC0415  (imports torch lazily)

    return parity_main(argv)


def _sample(argv):
    from jaxdl.cli._gpt import run_sample  # noqa: PLC0415

    return run_sample(argv)


def _params(argv):
    from jaxdl.cli._gpt import run_params  # noqa: PLC0415

    return run_params(argv)


def _train(argv):
    from jaxdl.cli._train import main as train_main  # noqa: PLC0415

    return train_main(argv)


def _compare(argv):
    from jaxdl.compare import main as compare_main  # noqa: PLC0415

    return compare_main(argv)


COMMANDS = {
    "train": (_train, "train a model from a TOML config: jaxdl train CONFIG [--set k=v] [--out DIR] [--resume]"),
    "compare": (_compare, "compare optimizers over learning rates and seeds: jaxdl compare CONFIG [--out DIR]"),
    "parity": (_parity, "compare jaxdl with PyTorch (values and gradients) on this device"),
    "sample": (_sample, "generate text from a trained GPT checkpoint"),
    "params": (_params, "print the parameter count of a GPT config"),
}


def error(message: str, code: int = 2) -> int:
    """Print ``jaxdl: error: message`` (one line) to stderr and return ``code`` (2: usage, 1: the run failed)."""
    print(f"jaxdl: error: {message}", file=sys.stderr)
    return code


def os_error(err: OSError) -> int:
    """A file system error met while running (no space, permission, a vanished folder): one line, exit 1."""
    where = f" ({err.filename})" if err.filename else ""
    return error(f"{err.strerror or err}{where}; the run stopped, files written before stay as they were", 1)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="jaxdl", description="jaxdl: PyTorch's deep-learning basics in pure JAX.")
    parser.add_argument("command", choices=sorted(COMMANDS),
                        help="; ".join(f"{k}: {v[1]}" for k, v in COMMANDS.items()))
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        parser.error(f"unknown command {argv[0]!r}; choose from {', '.join(sorted(COMMANDS))}")
    return COMMANDS[argv[0]][0](argv[1:])
