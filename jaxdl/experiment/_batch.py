"""train.batch_size against the training set: torch's DataLoader rule (jaxdl.data.num_batches), in config words."""
from __future__ import annotations

from jaxdl.config import Config, ConfigError


def check_batch_size(cfg: Config, n_train: int, examples: str, source: str) -> None:
    """ConfigError in one line when fit's epoch would hold no batch: fit drops the last partial batch of every
    epoch (torch's ``drop_last=True``), so a train.batch_size larger than the ``n_train`` training ``examples``
    leaves none (with drop_last=False torch would train one smaller batch; fit's arrays never do)."""
    from jaxdl.data import num_batches  # noqa: PLC0415

    b = cfg.train.batch_size
    if num_batches(n_train, b, drop_last=True) == 0:
        raise ConfigError(f"train.batch_size = {b} is larger than the {n_train} training {examples} of {source}: "
                          f"fit drops each epoch's last partial batch (torch's drop_last=True), so no batch "
                          f"remains; use train.batch_size <= {n_train} or more data")
