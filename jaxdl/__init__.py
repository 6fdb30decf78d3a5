"""jaxdl: PyTorch's deep-learning basics as pure JAX functions, proven equal to PyTorch."""
from jaxdl import functional, nn, optim

__version__ = "0.1.0"

__all__ = ["functional", "nn", "optim", "__version__"]
