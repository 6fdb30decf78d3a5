"""The one place an [optim] table (or a compare variant) becomes a jaxdl.optim optimizer."""
from __future__ import annotations

import inspect

import jax

from jaxdl.config import ConfigError, OptimConfig


def torch_defaults(name: str) -> dict:
    """``jaxdl.optim.<name>``'s defaults (torch's), for the arguments that have one: what a table leaves unset."""
    from jaxdl import optim as jaxdl_optim  # noqa: PLC0415

    params = inspect.signature(getattr(jaxdl_optim, name)).parameters
    return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}


def build_tx(optim: OptimConfig, lr=None, *, where: str = "optim"):
    """``jaxdl.optim.<optim.name>(**set hyperparameters)``: what is not set takes torch's default there.

    ``lr`` (a float, or a traced value in compare's vmapped grid) replaces ``optim.lr``. It is passed as
    given: the optimizer's state holds it (``optim.get_lr``), so ``optim.set_lr`` and ReduceLROnPlateau
    change it, and a resumed run continues with the lr saved in its state unless it is set again with
    ``optim.set_lr(state, new_lr)`` (what a resume with a changed ``optim.lr`` does).
    ``muon`` optimizes the 2-D params; the others (biases, norms) get ``adamw`` with the same lr.
    A hyperparameter the optimizer refuses (e.g. nesterov without momentum) is a ConfigError naming ``where``.
    """
    from jaxdl import optim as jaxdl_optim  # noqa: PLC0415

    make = getattr(jaxdl_optim, optim.name)
    kwargs = optim.kwargs()
    kwargs["lr"] = lr if lr is not None else kwargs.get("lr", torch_defaults(optim.name)["lr"])
    try:
        if optim.name == "muon":  # torch's Muon takes 2-D params only; the rest go to AdamW, as torch advises
            return jaxdl_optim.param_groups({"muon": make(**kwargs), "adamw": jaxdl_optim.adamw(kwargs["lr"])},
                                            lambda params: jax.tree.map(lambda p: "muon" if p.ndim == 2 else "adamw",
                                                                        params))
        return make(**kwargs)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{where} (name = {optim.name!r}): {err}") from None
