"""fit's one kind of data: a ``jaxdl.data.DataLoader`` over (x, y). Arrays are wrapped at fit's boundary.

Training arrays become ``DataLoader((x, y), batch_size, shuffle=True, key=state.data_key(), drop_last=True)``
(torch's ``DataLoader(shuffle=True, drop_last=True)``), validation arrays ``DataLoader((x, y), batch_size)``
(in order, a smaller last batch). Both modes then read the loader: loop mode its host batches, scan mode its
arrays (placed on the device(s)) in the order of the same ``epoch_permutation``.
"""
from __future__ import annotations

import numpy as np

from jaxdl.checks import check_positive_int
from jaxdl.data import DataLoader, check_batches
from jaxdl.train import _sharding, _validate


def loaders(train_data, val_data, batch_size, data_key, mode: str) -> tuple[DataLoader, DataLoader | None]:
    """(train, val) DataLoaders for fit: given ones checked, arrays wrapped (see the module docstring)."""
    train = as_loader("train_data", train_data, batch_size, mode, shuffle_key=data_key)
    val = None if val_data is None else as_loader("val_data", val_data, train.batch_size, mode)
    return train, val


def as_loader(name: str, data, batch_size, mode: str, shuffle_key=None) -> DataLoader:
    """``data`` as a checked DataLoader of (x, y): arrays wrapped (shuffled from ``shuffle_key`` and dropping the
    last partial batch when given: training); a training DataLoader's batch_size must agree with ``batch_size``."""
    if isinstance(data, DataLoader):
        if len(data.dataset) != 2:
            raise ValueError(f"{name}: the DataLoader must serve (x, y) pairs; its dataset holds "
                             f"{len(data.dataset)} arrays")
        if shuffle_key is not None and batch_size is not None and batch_size != data.batch_size:
            raise ValueError(f"batch_size={batch_size} disagrees with the DataLoader's batch_size="
                             f"{data.batch_size}; pass batch_size=None (or the same value)")
        if mode == "scan" and data.num_replicas > 1:
            raise ValueError(f"{name}: mode='scan' keeps the whole data set on the device(s), but this DataLoader "
                             f"reads only rank {data.rank}'s rows of {data.num_replicas}: use mode='loop'")
        loader = data
    else:
        x, y = _validate.check_data(name, data)
        if batch_size is None:
            raise ValueError(f"batch_size is required when {name} is arrays (a DataLoader brings its own)")
        check_positive_int("batch_size", batch_size)
        training = shuffle_key is not None
        loader = DataLoader((x, y), batch_size, training, key=shuffle_key, drop_last=training)
    check_batches(name, loader.num_examples, loader.batch_size, loader.drop_last)
    return loader


def arrays(loader: DataLoader, in_order: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The loader's (x, y) as in-memory arrays (scan mode's copy on the device); with ``in_order``, rows in
    the order of its epoch 0 (an evaluation pass: which rows a ``drop_last`` leaves out)."""
    order = loader.permutation(0) if in_order else None
    return tuple(np.asarray(a) if order is None else np.asarray(a)[order] for a in loader.dataset)


def labels_to_check(loader: DataLoader) -> np.ndarray:
    """Labels to check against the model's classes: all of them in memory, the first batch of a memory-mapped
    file (not read whole)."""
    y = loader.dataset[1]
    return np.asarray(y[: loader.batch_size] if isinstance(y, np.memmap) else y)


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
