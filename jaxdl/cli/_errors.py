"""The ``jaxdl`` command's one-line errors: ``jaxdl: error: ...`` on stderr and an exit code."""
from __future__ import annotations

import _thread
import argparse
import contextlib
import signal
import sys
import threading

INTERRUPTED = 130  # a shell's code for a process stopped by SIGINT (128 + 2)
_CAUGHT = threading.Event()  # set by ``interrupted``: a command has the Ctrl-C, stop delivering it


def error(message: str, code: int = 2) -> int:
    """Print ``jaxdl: error: message`` (one line) to stderr and return ``code`` (2: usage, 1: the run failed)."""
    print(f"jaxdl: error: {message}", file=sys.stderr)
    return code


def os_error(err: OSError) -> int:
    """A file system error met while running (no space, permission, a vanished folder): one line, exit 1."""
    where = f" ({err.filename})" if err.filename else ""
    return error(f"{err.strerror or err}{where}; the run stopped, files written before stay as they were", 1)


def interrupted(saved) -> int:
    """Ctrl-C: one line saying what was ``saved`` (a string, or a function giving it, called once the Ctrl-C is
    marked caught) and how to go on, no traceback; exit 130."""
    _CAUGHT.set()
    print(f"jaxdl: interrupted (Ctrl-C): {saved() if callable(saved) else saved}", file=sys.stderr)
    return INTERRUPTED


@contextlib.contextmanager
def ctrl_c_reaches_the_command():
    """Ctrl-C raises KeyboardInterrupt, as Python's default, until a command's handler has it (``interrupted``).
    Python drops an exception raised inside a garbage-collector callback (it prints "Exception ignored in ...";
    JAX registers one), so a single Ctrl-C could be lost there and a run go on: once pressed, it is delivered
    again every second until ``interrupted`` runs."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread
        yield
        return
    redelivery = []

    def redeliver():
        while not _CAUGHT.wait(1.0):
            _thread.interrupt_main()

    def handler(signum, frame):
        if _CAUGHT.is_set():
            return
        if not redelivery:
            redelivery.append(threading.Thread(target=redeliver, daemon=True))
            redelivery[0].start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        _CAUGHT.set()
        for thread in redelivery:
            thread.join()
        signal.signal(signal.SIGINT, previous)
        _CAUGHT.clear()


def is_out_of_memory(err: BaseException) -> bool:
    """numpy's MemoryError, or JAX's JaxRuntimeError for an allocation that failed (XLA's RESOURCE_EXHAUSTED)."""
    return isinstance(err, MemoryError) or (type(err).__name__ in ("JaxRuntimeError", "XlaRuntimeError")
                                            and "RESOURCE_EXHAUSTED" in str(err))


def out_of_memory(err: BaseException) -> int:
    """A run that ran out of memory although the estimate before it fit (activations are not estimated): exit 1."""
    detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
    return error(f"out of memory while running ({detail}); the run stopped: use a smaller model, train.batch_size "
                 "or data set (the check before the run counts weights, gradients and optimizer state, not "
                 "activations)", 1)


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose usage errors are one line too: ``jaxdl: error: train: ... (see `jaxdl train
    --help`)``, exit 2 (argparse prints the usage text first)."""

    def error(self, message):
        command = self.prog.removeprefix("jaxdl").strip()
        error(f"{command + ': ' if command else ''}{message} (see `{self.prog} --help`)")
        raise SystemExit(2)
