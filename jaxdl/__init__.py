"""jaxdl: PyTorch's deep-learning basics as pure JAX functions, proven equal to PyTorch.

``jaxdl.functional``, ``jaxdl.nn``, ``jaxdl.optim`` and ``jaxdl.amp`` load on first use (``import jaxdl``
does not import JAX), so the ``jaxdl`` command reports a config or argument error before JAX starts.

Layers, ground floor first. A module imports from its own unit and from lower floors only; the units of one
floor do not import each other; no module imports another package's private module or name
(tests/test_layering.py reads this table and checks every import in jaxdl/, those inside functions too):

    0  _rules
    1  checks matmul
    2  amp data config
    3  functional optim
    4  nn
    5  interop train generate
    6  experiment parity
    7  cli
    8  __main__

(_rules: the lr, int and precision rules without JAX, for checks, amp and config; checks: argument checks; matmul:
the float32 matmul precision (torch.set_float32_matmul_precision) every product runs at; amp:
lower-precision policy; data: datasets and DataLoader; config: TOML schema, no JAX; optim: Optax transforms;
interop: torch state_dicts and checkpoints of other codebases; train: fit, checkpoints, sweeps; experiment: the
recipes behind ``jaxdl train`` / ``jaxdl compare``; parity: jaxdl against torch; cli: the ``jaxdl`` command's
argparse mains.)
"""
import importlib

__version__ = "0.1.0"

__all__ = ["__version__", "amp", "functional", "nn", "optim", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]


def __getattr__(name):
    if name in ("amp", "functional", "nn", "optim"):
        return importlib.import_module(f"jaxdl.{name}")
    if name in ("set_float32_matmul_precision", "get_float32_matmul_precision"):  # torch's top-level names
        return getattr(importlib.import_module("jaxdl.matmul"), name)
    raise AttributeError(f"module 'jaxdl' has no attribute {name!r}")
