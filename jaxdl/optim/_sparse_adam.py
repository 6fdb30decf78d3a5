"""torch.optim.SparseAdam: refused (JAX has no sparse gradients)."""
from __future__ import annotations


def sparse_adam(*args, **kwargs):
    """``torch.optim.SparseAdam`` has no JAX counterpart: refused. Use ``optim.adam`` (JAX gradients are dense)."""
    raise NotImplementedError("SparseAdam has no JAX counterpart: JAX has no sparse gradients (an embedding's "
                              "gradient is dense); use optim.adam")
