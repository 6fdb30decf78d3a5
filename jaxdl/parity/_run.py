"""Select and run the parity cases (``jaxdl parity`` is their command line, in jaxdl.cli)."""
from __future__ import annotations

from jaxdl.parity._core import ALL_DTYPES, CASES, Result, run_case, torch_device


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
