"""``jaxdl parity [--group G] [--dtype D] [-k TEXT]``: every parity case against torch on this device, one table."""
from __future__ import annotations

import sys

from jaxdl.cli._errors import ArgumentParser, error


def main(argv=None) -> int:
    import jax  # noqa: PLC0415

    from jaxdl.parity import ALL_DTYPES, CASES, format_table, run, select, torch_device  # noqa: PLC0415

    groups = sorted({case.group for case in CASES})
    parser = ArgumentParser(prog="jaxdl parity",
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
