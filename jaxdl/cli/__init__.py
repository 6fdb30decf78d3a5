"""The ``jaxdl`` command: argparse wiring only; each subcommand is a small run_* function, imported when run.

Nothing here imports JAX: a config, path or argument error is reported before it loads.
"""
from __future__ import annotations

import argparse
import importlib
import sys


# command: (module, function(argv) -> exit code, help); the module is imported only when its command runs
COMMANDS = {
    "train": ("jaxdl.cli._train", "main",
              "train a model from a TOML config: jaxdl train CONFIG [--set k=v] [--out DIR] [--resume]"),
    "compare": ("jaxdl.compare", "main",
                "compare optimizers over learning rates and seeds: jaxdl compare CONFIG [--out DIR]"),
    "parity": ("jaxdl.parity", "main", "compare jaxdl with PyTorch (values and gradients) on this device"),
    "sample": ("jaxdl.cli._gpt", "run_sample", "generate text from a trained GPT checkpoint"),
    "params": ("jaxdl.cli._gpt", "run_params", "print the parameter count of a GPT config"),
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
                        help="; ".join(f"{k}: {v[2]}" for k, v in COMMANDS.items()))
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        parser.error(f"unknown command {argv[0]!r}; choose from {', '.join(sorted(COMMANDS))}")
    module, function, _ = COMMANDS[argv[0]]
    return getattr(importlib.import_module(module), function)(argv[1:])
