"""The ``jaxdl`` command's one-line errors: ``jaxdl: error: ...`` on stderr and an exit code."""
from __future__ import annotations

import sys

INTERRUPTED = 130  # a shell's code for a process stopped by SIGINT (128 + 2)


def error(message: str, code: int = 2) -> int:
    """Print ``jaxdl: error: message`` (one line) to stderr and return ``code`` (2: usage, 1: the run failed)."""
    print(f"jaxdl: error: {message}", file=sys.stderr)
    return code


def os_error(err: OSError) -> int:
    """A file system error met while running (no space, permission, a vanished folder): one line, exit 1."""
    where = f" ({err.filename})" if err.filename else ""
    return error(f"{err.strerror or err}{where}; the run stopped, files written before stay as they were", 1)


def interrupted(saved: str) -> int:
    """Ctrl-C: one line saying what was ``saved`` and how to go on, no traceback; exit 130."""
    print(f"jaxdl: interrupted (Ctrl-C): {saved}", file=sys.stderr)
    return INTERRUPTED
