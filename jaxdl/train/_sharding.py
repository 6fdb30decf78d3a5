"""Data parallelism with jax.sharding: a 1-D Mesh, batch split across it, parameters replicated."""
from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P


def data_parallel_mesh(devices=None, axis_name: str = "data") -> Mesh:
    """A 1-D Mesh over ``devices`` (default: all of ``jax.devices()``), the counterpart of torch DDP's world."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), (axis_name,))


def check_mesh(mesh, batch_size: int) -> None:
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a jax.sharding.Mesh (e.g. jaxdl.train.data_parallel_mesh()); got {type(mesh).__name__}")
    if batch_size % mesh.size:
        raise ValueError(f"batch_size={batch_size} must be divisible by the number of devices in the mesh "
                         f"({mesh.size}) so that every device gets an equal shard")


def replicated(mesh) -> NamedSharding:
    """Every device holds the whole array (parameters, optimizer state, the device-resident dataset)."""
    return NamedSharding(mesh, P())


def batch_sharded(mesh, leading: int = 0) -> NamedSharding:
    """Split the batch axis (after ``leading`` unsharded axes, e.g. the step axis of a stacked epoch)."""
    return NamedSharding(mesh, P(*([None] * leading), tuple(mesh.axis_names)))
