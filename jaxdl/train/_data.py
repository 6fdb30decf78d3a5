"""fit's data: ``(x, y)`` arrays, or a ``jaxdl.data.DataLoader`` streaming host batches (loop mode).

In loop mode arrays go through a DataLoader too, built so that it yields the batches scan mode gathers on
the device: ``DataLoader((x, y), batch_size, shuffle=True, key=state.data_key(), drop_last=True)`` for
training (epoch ``e`` permuted by ``state.shuffle_key(e)``), unshuffled and with a smaller last batch for
validation. A DataLoader given with ``mode="scan"`` is refused: scan mode keeps the whole data set on the
device(s), a DataLoader is for data that streams from the host (memory-mapped .npy files).
"""
from __future__ import annotations

import numpy as np

from jaxdl.data import DataLoader
from jaxdl.train import _sharding, _validate

SCAN_LOADER_MSG = ("{name} is a DataLoader, but mode='scan' keeps the whole data set on the device(s) as arrays; "
                   "pass mode='loop' to stream its batches, or the arrays (x, y) for scan mode")


def check_input(name: str, data, mode: str):
    """``data`` as a checked DataLoader over (x, y), or as a checked pair of numpy arrays."""
    if not isinstance(data, DataLoader):
        return _validate.check_data(name, data)
    if mode == "scan":
        raise ValueError(SCAN_LOADER_MSG.format(name=name))
    if len(data.dataset) != 2:
        raise ValueError(f"{name}: the DataLoader must serve (x, y) pairs; its dataset holds "
                         f"{len(data.dataset)} arrays")
    if len(data) == 0:
        raise ValueError(f"{name}: the DataLoader yields no batch ({data.num_examples} examples, "
                         f"batch_size={data.batch_size}, drop_last={data.drop_last})")
    return data


def arrays(data):
    """The (x, y) arrays behind ``data`` (a DataLoader's dataset: maybe memory-mapped, not read here)."""
    return tuple(data.dataset) if isinstance(data, DataLoader) else data


def num_examples(data) -> int:
    return data.num_examples if isinstance(data, DataLoader) else len(data[0])


def drops_last(data) -> bool:
    """Whether training on ``data`` drops a partial last batch: always for arrays, as the DataLoader says."""
    return data.drop_last if isinstance(data, DataLoader) else True


def evaluated_examples(data) -> int:
    """The examples one evaluation pass covers: every row of arrays, a DataLoader's ``examples_per_epoch``."""
    return data.examples_per_epoch if isinstance(data, DataLoader) else len(data[0])


def train_loader(data, batch_size: int, data_key) -> DataLoader:
    """Loop mode's training batches: ``data`` itself when a DataLoader, else the loader equal to scan's shuffle."""
    if isinstance(data, DataLoader):
        return data
    return DataLoader(data, batch_size, shuffle=True, key=data_key, drop_last=True)


def eval_loader(data, batch_size: int) -> DataLoader:
    """Validation batches in order, the last one smaller (every example counts once)."""
    return data if isinstance(data, DataLoader) else DataLoader(data, batch_size)


def batch_size_of(train_data, batch_size):
    """fit's batch size: the argument for arrays; a DataLoader's own (the argument, if given, must agree)."""
    if not isinstance(train_data, DataLoader):
        return batch_size
    if batch_size is not None and batch_size != train_data.batch_size:
        raise ValueError(f"batch_size={batch_size} disagrees with the DataLoader's batch_size="
                         f"{train_data.batch_size}; pass batch_size=None (or the same value)")
    return train_data.batch_size


def check_on_mesh(name: str, loader: DataLoader, mesh) -> None:
    """Every batch of ``loader`` must be placeable on ``mesh`` (checked before training, not at the last batch)."""
    _sharding.check_process_part(mesh, loader.batch_size, loader.rank, loader.num_replicas)
    if mesh is None:
        return
    last = loader.num_examples % loader.batch_size
    if last and not loader.drop_last and last % mesh.size and (name == "train_data" or loader.num_replicas > 1):
        raise ValueError(f"{name}: the last batch ({last} examples) does not divide by the {mesh.size} devices "
                         f"of the mesh; give the DataLoader drop_last=True or a batch size that divides "
                         f"{loader.num_examples}")


def first_labels(data) -> np.ndarray:
    """Labels to check against the model's classes: all of them for arrays, the first batch of a DataLoader
    (a memory-mapped label file is not read whole)."""
    if isinstance(data, DataLoader):
        return np.asarray(data.dataset[1][: data.batch_size])
    return data[1]
