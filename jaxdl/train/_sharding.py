"""Data parallelism with jax.sharding: a 1-D Mesh, batch split across it, parameters replicated.

Every array fit hands to a jitted step under a mesh is a *global* array built with
``jax.make_array_from_process_local_data``, so the same code runs when the mesh spans several processes
(``jax.distributed``), where ``jax.device_put`` refuses devices of another process.
"""
from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxdl.checks import is_typed_key


def data_parallel_mesh(devices=None, axis_name: str = "data") -> Mesh:
    """A 1-D Mesh over ``devices`` (default: all of ``jax.devices()``), the counterpart of torch DDP's world."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), (axis_name,))


def check_mesh(mesh, batch_size: int) -> None:
    if not isinstance(mesh, Mesh):
        raise TypeError("mesh must be a jax.sharding.Mesh (e.g. jaxdl.train.data_parallel_mesh()); "
                        f"got {type(mesh).__name__}")
    if batch_size % mesh.size:
        raise ValueError(f"batch_size={batch_size} must be divisible by the number of devices in the mesh "
                         f"({mesh.size}) so that every device gets an equal shard")


def replicated(mesh) -> NamedSharding:
    """Every device holds the whole array (parameters, optimizer state, the device-resident dataset)."""
    return NamedSharding(mesh, P())


def batch_sharded(mesh, leading: int = 0) -> NamedSharding:
    """Split the batch axis (after ``leading`` unsharded axes, e.g. the step axis of a stacked epoch)."""
    return NamedSharding(mesh, P(*([None] * leading), tuple(mesh.axis_names)))


def place(tree, sharding):
    """Every leaf of ``tree`` (the same values on every process) as a global array with ``sharding``.

    ``jax.device_put`` cannot target devices of other processes, and typed PRNG keys cannot go through
    ``make_array_from_process_local_data``: a key is placed as its raw ``key_data`` and wrapped again.
    ``sharding=None``: plain ``jax.device_put`` onto the default device.
    """
    if sharding is None:
        return jax.device_put(tree)

    def leaf(x):
        if is_typed_key(x):
            impl = jax.random.key_impl(x)
            return jax.random.wrap_key_data(leaf(np.asarray(jax.random.key_data(x))), impl=impl)
        x = np.asarray(x)
        return jax.make_array_from_process_local_data(sharding, x, x.shape)

    return jax.tree.map(leaf, tree)


def place_replicated(tree, mesh):
    """``tree`` whole on every device of ``mesh`` (state, device-resident data); on the default device without one."""
    return place(tree, None if mesh is None else replicated(mesh))


def batch(arrays, mesh, num_replicas: int = 1):
    """A host batch as global arrays split across ``mesh`` (numpy arrays as they are without a mesh).

    ``arrays`` hold the whole global batch (``num_replicas=1``: the same on every process, each process
    keeps its devices' rows) or this process's contiguous 1/num_replicas of it (a DataLoader's rank part).
    A whole batch whose size does not divide by the mesh (a smaller last validation batch) is replicated.
    """
    if mesh is None:
        return arrays
    n = len(arrays[0]) * num_replicas
    sharding = batch_sharded(mesh) if n % mesh.size == 0 else replicated(mesh)
    if sharding.spec == P() and num_replicas > 1:
        raise ValueError(f"a batch of {n} examples split over {num_replicas} processes does not divide by the "
                         f"{mesh.size} devices of the mesh; give the DataLoader drop_last=True or a batch size "
                         f"that does")
    return tuple(jax.make_array_from_process_local_data(sharding, a, (n, *a.shape[1:])) for a in arrays)


def check_process_part(mesh, batch_size: int, rank: int, num_replicas: int) -> None:
    """A DataLoader's rank part must be the rows of the global batch that this process's devices hold."""
    if mesh is None or num_replicas == 1:
        if num_replicas != 1:
            raise ValueError(f"a DataLoader with num_replicas={num_replicas} yields 1/{num_replicas} of each "
                             "batch: it needs a mesh that spans the processes (mesh=data_parallel_mesh())")
        return
    if num_replicas != jax.process_count():
        raise ValueError(f"the DataLoader splits batches over num_replicas={num_replicas} processes, but "
                         f"{jax.process_count()} run (jax.process_count())")
    index_map = batch_sharded(mesh).addressable_devices_indices_map((batch_size,))
    rows = sorted((s[0].start or 0, batch_size if s[0].stop is None else s[0].stop) for s in index_map.values())
    part = batch_size // num_replicas
    want = (rank * part, (rank + 1) * part)
    if (rows[0][0], rows[-1][1]) != want or sum(b - a for a, b in rows) != part:
        raise ValueError(f"this process's devices hold rows {rows} of each batch of {batch_size}, but its "
                         f"DataLoader (rank={rank}) yields rows [{want[0]}, {want[1]}): pass "
                         f"rank=jax.process_index() and a mesh in process order (data_parallel_mesh())")
