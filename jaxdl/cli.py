"""The ``jaxdl`` command: argparse wiring only; each subcommand is a small run_* function elsewhere."""
from __future__ import annotations

import argparse
import sys


def _parity(argv):
    from jaxdl.parity import main as parity_main  # noqa: PLC0415  (imports torch lazily)

    return parity_main(argv)


COMMANDS = {
    "parity": (_parity, "compare jaxdl with PyTorch (values and gradients) on this device"),
}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="jaxdl", description="jaxdl: PyTorch's deep-learning basics in pure JAX.")
    parser.add_argument("command", choices=sorted(COMMANDS), help="; ".join(f"{k}: {v[1]}" for k, v in COMMANDS.items()))
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        parser.error(f"unknown command {argv[0]!r}; choose from {', '.join(sorted(COMMANDS))}")
    return COMMANDS[argv[0]][0](argv[1:])
