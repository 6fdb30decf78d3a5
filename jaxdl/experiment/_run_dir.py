"""The output folder of a run: a folder that holds a run is never overwritten by accident.

Runs before JAX is imported, so a bad --out fails in a fraction of a second with one line.
"""
from __future__ import annotations

import glob
import os

from jaxdl.config import ConfigError

# fit's file names (jaxdl.train._fit: CHECKPOINT, BEST, METRICS, CURVES; a test keeps them equal), here so that
# this check needs no JAX import
RUN_FILES = ("checkpoint.msgpack", "best.msgpack", "metrics.jsonl", "curves.png")
STALE_TMP = ".tmp-*"  # jaxdl.train's write_atomically: a killed write leaves one behind


def prepare_run_dir(out_dir: str, *, resume: bool, overwrite: bool, files=RUN_FILES, what: str = "a run") -> None:
    """Check ``out_dir`` before anything runs; remove a killed write's temporary files.

    Without ``resume``, a folder already holding any of ``files`` is refused naming the two ways on
    (``--resume`` or ``--overwrite``); ``overwrite`` deletes those files. A path that is a file, or a folder
    that cannot be written, is one ConfigError line.
    """
    if not out_dir:
        raise ConfigError(f"output folder {out_dir!r}: expected a folder name")
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: choose one")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"output folder {out_dir!r} is a file, not a folder: name another --out")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"output folder {out_dir!r} cannot be created: {err.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"output folder {out_dir!r} is not writable: name another --out or fix its permissions")
    held = [name for name in files if os.path.exists(os.path.join(out_dir, name))]
    if held and not resume:
        if not overwrite:
            raise ConfigError(f"output folder {out_dir!r} already holds {what} ({', '.join(held)}): continue it "
                              "with --resume, replace it with --overwrite, or name another --out")
        for name in held:
            os.remove(os.path.join(out_dir, name))
    for tmp in glob.glob(os.path.join(glob.escape(out_dir), STALE_TMP)):
        os.remove(tmp)
