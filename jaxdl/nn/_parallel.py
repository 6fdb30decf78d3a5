"""torch.nn's data-parallel names: SyncBatchNorm (jaxdl's BatchNorm already is one under a mesh) and DataParallel
(refused: jaxdl.train.fit(mesh=...) splits the batch across devices)."""
from __future__ import annotations

from jaxdl.nn._batchnorm import _BatchNorm
from jaxdl.nn._module import module


@module
class SyncBatchNorm(_BatchNorm):
    """torch.nn.SyncBatchNorm(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
    process_group=None, *, bias=True) on (N, C, *): jaxdl's BatchNorm under any input rank.

    torch's SyncBatchNorm all-reduces the batch statistics across processes. jaxdl's BatchNorm already takes the
    statistics of the global batch when the batch is sharded over a mesh (``fit(mesh=...)``: the mean and variance
    are reductions over the whole sharded array, which XLA all-reduces), so this is BatchNorm under torch's name.
    process_group must stay None (the mesh decides the devices).
    """

    _input_ndims = (2, 3, 4, 5)

    process_group: None = None

    def __post_init__(self):
        super().__post_init__()
        if self.process_group is not None:
            raise ValueError("SyncBatchNorm: process_group is not supported (jaxdl's statistics are global over the "
                             "mesh fit(mesh=...) shards the batch on); pass None")


def DataParallel(module, device_ids=None, output_device=None, dim: int = 0):  # noqa: N802 - torch's class name
    """torch.nn.DataParallel: refused; jaxdl splits each batch across devices with ``jaxdl.train.fit(mesh=...)``."""
    raise NotImplementedError("DataParallel is not supported: pass mesh=jaxdl.train.data_parallel_mesh() to "
                              "jaxdl.train.fit (or shard the batch over a jax.sharding.Mesh) instead")
