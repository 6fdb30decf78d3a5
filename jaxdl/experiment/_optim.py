"""The one place an [optim] table (or a compare variant) becomes a jaxdl.optim optimizer."""
from __future__ import annotations

import inspect

from jaxdl.config import ConfigError, OptimConfig


def torch_defaults(name: str) -> dict:
    """``jaxdl.optim.<name>``'s defaults (torch's), for the arguments that have one: what a table leaves unset."""
    from jaxdl import optim as jaxdl_optim  # noqa: PLC0415

    params = inspect.signature(getattr(jaxdl_optim, name)).parameters
    return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}


def build_tx(optim: OptimConfig, lr=None, *, where: str = "optim"):
    """``jaxdl.optim.<optim.name>(**set hyperparameters)``: what is not set takes torch's default there.

    ``lr`` (a float, or an array for a vmapped sweep) replaces ``optim.lr`` (compare's grid sets it). The lr
    (torch's default when not set) is passed as a 0-d array, so each update uses this lr rather than one
    saved in a resumed optimizer state (jaxdl.optim.with_lr's rule for arrays): ``--resume --set optim.lr=``
    takes effect.
    A hyperparameter the optimizer refuses (e.g. nesterov without momentum) is a ConfigError naming ``where``.
    """
    import jax.numpy as jnp  # noqa: PLC0415

    from jaxdl import optim as jaxdl_optim  # noqa: PLC0415

    make = getattr(jaxdl_optim, optim.name)
    kwargs = optim.kwargs()
    kwargs["lr"] = lr if lr is not None else kwargs.get("lr", torch_defaults(optim.name)["lr"])
    if isinstance(kwargs["lr"], float):
        kwargs["lr"] = jnp.asarray(kwargs["lr"], jnp.float32)
    try:
        return make(**kwargs)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{where} (name = {optim.name!r}): {err}") from None
