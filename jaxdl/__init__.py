"""jaxdl: PyTorch's deep-learning basics as pure JAX functions, proven equal to PyTorch.

``jaxdl.functional``, ``jaxdl.nn``, ``jaxdl.optim`` and ``jaxdl.amp`` load on first use (``import jaxdl``
does not import JAX), so the ``jaxdl`` command reports a config or argument error before JAX starts.
"""
import importlib

__version__ = "0.1.0"

__all__ = ["__version__", "amp", "functional", "nn", "optim"]


def __getattr__(name):
    if name in ("amp", "functional", "nn", "optim"):
        return importlib.import_module(f"jaxdl.{name}")
    raise AttributeError(f"module 'jaxdl' has no attribute {name!r}")
