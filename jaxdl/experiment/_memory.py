"""A run that cannot fit in memory is refused before anything is allocated: the training state's size from shapes
(``jax.eval_shape``, as ``jaxdl params`` counts parameters) against the memory of the device it would live on.

The estimate is a lower bound: the arrays of the training state (``TrainState.create``: weights, buffers, the
optimizer's state) plus one gradient per weight, times the copies a ``jaxdl compare`` sweep trains at once;
activations are not counted. A generated data set (``data.n`` points) is checked the same way before it is
drawn: ``TOY_POINT_BYTES`` per point (the float64 points, their noise and the shuffled copy, as numpy draws
them). The memory is the accelerator's (``memory_stats()["bytes_limit"]``) on a GPU, else the machine's RAM
(``os.sysconf``: physical pages × page size), or the cgroup's limit (``/sys/fs/cgroup/memory.max``) when that is
lower; the environment variable ``JAXDL_MEMORY_GB`` replaces it.
"""
from __future__ import annotations

import math
import os

from jaxdl.config import ConfigError

OVERRIDE = "JAXDL_MEMORY_GB"
CGROUP_LIMIT = "/sys/fs/cgroup/memory.max"
GB = 1e9
TOY_POINT_BYTES = 2 * 8 * 4  # 2 float64 coordinates, ~4 arrays of them alive at once while drawing and splitting


def training_state_bytes(model, tx) -> int:
    """Bytes of ``TrainState.create(model, tx, key)``'s arrays plus one gradient per parameter, from shapes only."""
    import jax  # noqa: PLC0415

    from jaxdl.train import TrainState  # noqa: PLC0415

    state = jax.eval_shape(lambda key: TrainState.create(model, tx, key), jax.random.key(0))

    def nbytes(tree):
        return sum(math.prod(leaf.shape) * leaf.dtype.itemsize for leaf in jax.tree.leaves(tree)
                   if hasattr(leaf, "dtype") and not jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key))

    return nbytes(state) + nbytes(state.params)


def available_memory() -> tuple[int, str]:
    """(bytes, where the figure comes from): ``JAXDL_MEMORY_GB``, else the GPU's limit, else RAM or the cgroup's."""
    text = os.environ.get(OVERRIDE)
    if text is not None:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 < value < math.inf:
            raise ConfigError(f"{OVERRIDE}={text!r}: expected a number of GB > 0 (the memory a run may use)")
        return int(value * GB), f"{OVERRIDE}={text}"
    import jax  # noqa: PLC0415

    device = jax.local_devices()[0]
    if device.platform != "cpu":
        stats = device.memory_stats() or {}
        if "bytes_limit" in stats:
            return int(stats["bytes_limit"]), f"the memory of {device.device_kind}"
    total, where = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "the machine's RAM"
    try:
        with open(CGROUP_LIMIT) as f:
            limit = f.read().strip()
        if limit.isdigit() and int(limit) < total:
            total, where = int(limit), f"the cgroup's limit ({CGROUP_LIMIT})"
    except OSError:
        pass
    return total, where


def check_memory(model, tx, copies: int = 1) -> None:
    """ConfigError in one line when ``copies`` training states of ``model`` under ``tx`` exceed the memory."""
    what = f"{copies} copies × " if copies > 1 else ""
    check_bytes(training_state_bytes(model, tx) * copies,
                f"{what}weights, gradients and optimizer state, from their shapes; activations not counted",
                "use a smaller model (see `jaxdl params CONFIG`)")


def check_bytes(need: int, what: str, instead: str) -> None:
    """ConfigError in one line when ``need`` bytes (``what`` they hold) exceed :func:`available_memory`."""
    have, where = available_memory()
    if need > have:
        raise ConfigError(f"this config needs at least {need / GB:,.1f} GB ({what}) but {where} is {have / GB:,.1f} "
                          f"GB: {instead}, or set {OVERRIDE} to allow more")
