"""update_bn: BatchNorm's running statistics recomputed for (averaged) weights, as torch.optim.swa_utils.update_bn.

It lives in jaxdl.train, not with the averages in jaxdl.optim.swa_utils: it runs jaxdl.nn modules (floor 4)
over a loader, and jaxdl.optim (floor 3) may not import nn.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl import nn

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def _cumulative(module, state):
    """(module with every BatchNorm's momentum None, state with their running stats reset), walking children."""
    if isinstance(module, BATCH_NORMS):
        if not module.track_running_stats:
            return module, state, False
        reset = {"running_mean": jnp.zeros_like(state["running_mean"]),
                 "running_var": jnp.ones_like(state["running_var"]),
                 "num_batches_tracked": jnp.zeros_like(state["num_batches_tracked"])}
        return dataclasses.replace(module, momentum=None), reset, True
    found, state = False, dict(state) if isinstance(state, dict) else state
    for name, child in nn.named_children(module):
        new_child, state[name], has = _cumulative(child, state[name])
        if has:
            found = True
            module = (module.add_module(name, new_child) if hasattr(module, "add_module")
                      else dataclasses.replace(module, **{name: new_child}))
    return module, state, found


def update_bn(loader, model, params, state, *, key=None):
    """The model state after one training-mode pass over ``loader`` with every BatchNorm's statistics reset
    and momentum None (their cumulative average), as ``torch.optim.swa_utils.update_bn(loader, model)``.

    Each batch is an array or a tuple/list whose first element is the input (torch's rule). Params are not
    changed; the returned state is the model's with the BatchNorms' running_mean, running_var and
    num_batches_tracked recomputed (other modules' state as the pass leaves it, as torch's forward would).
    A model without BatchNorm returns ``state`` unchanged. ``key``: for dropout in training mode (split per batch).

    Args:
      loader: an iterable of batches (jaxdl.data.DataLoader, a list of arrays, ...).
      model: a jaxdl.nn module; params, state: its (e.g. averaged: ``swa_utils.AveragedModel.params``) arrays.
    """
    cumulative, new_state, found = _cumulative(model, state)
    if not found:
        return state
    forward = jax.jit(lambda p, s, x, k: cumulative.apply(p, s, x, training=True, key=k)[1])
    for i, batch in enumerate(loader):
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        new_state = forward(params, new_state, jnp.asarray(x), None if key is None else jax.random.fold_in(key, i))
    return new_state
