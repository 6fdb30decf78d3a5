"""Run the parity cases and print the table (the ``jaxdl parity`` command)."""
from __future__ import annotations

import argparse
import sys

import jax

from jaxdl.cli import error
from jaxdl.parity._core import ALL_DTYPES, CASES, Result, format_table, run_case, torch_device


def select(groups=None, match: str | None = None) -> list:
    """The cases in ``groups`` (all when None) whose name contains ``match`` (case-insensitive; all when None)."""
    return [case for case in CASES if (not groups or case.group in groups)
            and (not match or match.lower() in case.name.lower())]


def run(groups=None, dtypes=ALL_DTYPES, match: str | None = None) -> list[Result]:
    """Run every case (optionally filtered by group or case-insensitive name substring) in each dtype."""
    import torch  # noqa: PLC0415

    device = torch_device(torch)
    return [run_case(case, dtype, torch, device) for case in select(groups, match)
            for dtype in dtypes if dtype in case.dtypes]


def main(argv=None) -> int:
    groups = sorted({case.group for case in CASES})
    parser = argparse.ArgumentParser(prog="jaxdl parity",
                                     description="Compare jaxdl with PyTorch, values and gradients, on this device.")
    parser.add_argument("--group", action="append", help=f"only this group ({', '.join(groups)}); repeatable")
    parser.add_argument("--dtype", action="append", choices=ALL_DTYPES, help="only this dtype; repeatable")
    parser.add_argument("-k", dest="match", help="only cases whose name contains this text (case-insensitive)")
    args = parser.parse_args(argv)
    unknown = [g for g in args.group or () if g not in groups]
    if unknown:
        return error(f"unknown group {unknown[0]!r}; groups: {', '.join(groups)}")
    if not select(args.group, args.match):
        return error(f"no parity case matches -k {args.match!r}"
                     + (f" in group(s) {', '.join(args.group)}" if args.group else ""))
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        print("jaxdl parity needs PyTorch: pip install torch==2.13.0 (CPU) or a CUDA build", file=sys.stderr)
        return 2
    print(f"jaxdl parity on JAX {jax.default_backend()} ({jax.devices()[0].device_kind}), "
          f"torch {torch.__version__} on {torch_device(torch)}; matmul precision pinned to 'highest'")
    results = run(args.group, tuple(args.dtype or ALL_DTYPES), args.match)
    print(format_table(results))
    return 0 if all(r.passed for r in results) else 1
