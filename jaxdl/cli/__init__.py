"""The ``jaxdl`` command: argparse wiring only; each subcommand is a small ``main(argv)`` in this package.

The command modules import only argparse and jaxdl.config at load time, and the library (JAX, the recipes in
jaxdl.experiment, jaxdl.parity) inside their ``main``: a config, path or argument error is reported before JAX
loads. The cli imports downward only; nothing in jaxdl imports it.
"""
from __future__ import annotations

import sys

from jaxdl.cli import _compare, _gpt, _parity, _train
from jaxdl.cli._errors import ArgumentParser, ctrl_c_reaches_the_command, error, os_error

__all__ = ["COMMANDS", "main", "error", "os_error"]

# command: (function(argv) -> exit code, help)
COMMANDS = {
    "train": (_train.main,
              "train a model from a TOML config: jaxdl train CONFIG [--set k=v] [--out DIR] [--resume]"),
    "compare": (_compare.main,
                "compare optimizers over learning rates and seeds: jaxdl compare CONFIG [--out DIR]"),
    "parity": (_parity.main, "compare jaxdl with PyTorch (values and gradients) on this device"),
    "sample": (_gpt.run_sample, "generate text from a trained language model's checkpoint (GPT or char-LSTM)"),
    "params": (_gpt.run_params, "print the layers and parameter count of a model config"),
}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = ArgumentParser(prog="jaxdl", description="jaxdl: PyTorch's deep-learning basics in pure JAX.")
    parser.add_argument("command", choices=sorted(COMMANDS),
                        help="; ".join(f"{k}: {v[1]}" for k, v in COMMANDS.items()))
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        parser.error(f"unknown command {argv[0]!r}; choose from {', '.join(sorted(COMMANDS))}")
    function, _ = COMMANDS[argv[0]]
    with ctrl_c_reaches_the_command():
        return function(argv[1:])
