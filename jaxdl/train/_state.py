"""TrainState: the arrays a training run carries from step to step, as one registered pytree."""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import serialization

from jaxdl.optim import swa_utils


class KeyStreams(NamedTuple):
    """The run key's random streams, each ``fold_in(state.key, <number>)``; the numbers are fixed (changing one
    changes every run's results and a resumed run's replay). The parameters' init key is not among them: it is
    the first half of ``jax.random.split(key)``, the run key (``state.key``) the second."""

    dropout: int = 0   # fold_in(fold_in(key, dropout), step): the step's dropout masks
    data: int = 1      # fold_in(key, data): the shuffle's key; epoch e's order is epoch_permutation(it, e, N)


STREAMS = KeyStreams()


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class TrainState:
    """params, model_state (e.g. BatchNorm buffers), opt_state, step, PRNG key and optionally ema: arrays only.

    The torch counterpart is the (model.state_dict(), optimizer.state_dict(), global step, RNG state) you
    would save by hand. The model and the optimizer are not in the state: the steps close over them
    (``make_train_step(model, tx, loss_fn)``), so every leaf can be jitted, vmapped, scanned, sharded and
    saved. Randomness comes only from ``key``, through the named STREAMS: dropout uses
    ``fold_in(fold_in(key, STREAMS.dropout), step)`` and shuffling ``fold_in(fold_in(key, STREAMS.data), epoch)``,
    so a resumed run replays the uninterrupted one exactly. ``ema`` is None, or the EMA copy of the model
    (``jaxdl.optim.swa_utils.AveragedModel``: torch's ``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(
    decay))``), which ``make_train_step(..., ema_decay=decay)`` updates after each optimizer step.
    """

    params: Any
    model_state: Any
    opt_state: Any
    step: jax.Array
    key: jax.Array
    ema: Any = None

    @classmethod
    def create(cls, model, tx, key, dtype=jnp.float32, *, ema: bool = False) -> "TrainState":
        """Initialise ``model`` from ``key`` (params, state = model.init) and ``tx`` on its params.

        Args:
          model: a jaxdl.nn module (``init(key, dtype)``/``apply``).
          tx: an ``optax.GradientTransformation`` (e.g. ``jaxdl.optim.adam(lr=1e-3)``).
          key: a PRNG key; ``init_key, run_key = jax.random.split(key)``: params from init_key, state.key = run_key.
          dtype: parameter dtype.
          ema: also keep an EMA copy of params and model_state (``with_ema``).
        """
        if not isinstance(tx, optax.GradientTransformation):
            raise TypeError(f"TrainState.create: tx must be an optax.GradientTransformation; got {type(tx).__name__}")
        init_key, run_key = jax.random.split(key)
        params, model_state = model.init(init_key, dtype)
        params, model_state, opt_state = _distinct_buffers((params, model_state, tx.init(params)))
        state = cls(params=params, model_state=model_state, opt_state=opt_state,
                    step=jnp.zeros((), jnp.int32), key=run_key)
        return state.with_ema() if ema else state

    def with_ema(self) -> "TrainState":
        """A copy holding a new EMA copy of the model: torch's ``AveragedModel(model)`` (``swa_utils.averaged_model``
        of params and model_state, n_averaged = 0: the first update copies the model)."""
        return self.replace(ema=swa_utils.averaged_model(self.params, self.model_state))

    def replace(self, **changes) -> "TrainState":
        """A copy with the named fields replaced (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def dropout_key(self):
        """The key for this step's dropout masks: fold_in(fold_in(key, STREAMS.dropout), step)."""
        return jax.random.fold_in(jax.random.fold_in(self.key, STREAMS.dropout), self.step)

    def data_key(self):
        """The shuffle's key, fold_in(key, STREAMS.data): fit wraps arrays in
        ``DataLoader(..., shuffle=True, key=state.data_key(), drop_last=True)``; passing that loader replays fit."""
        return jax.random.fold_in(self.key, STREAMS.data)

    def shuffle_key(self, epoch):
        """The key for epoch ``epoch``'s permutation: fold_in(data_key(), epoch), as jaxdl.data.epoch_permutation."""
        return jax.random.fold_in(self.data_key(), epoch)


def _names(state: TrainState) -> list:
    """The fields a checkpoint holds: ``ema`` only when there is one (files from before it still load)."""
    return [f.name for f in dataclasses.fields(state) if f.name != "ema" or state.ema is not None]


def _to_state_dict(state: TrainState) -> dict:
    return {n: serialization.to_state_dict(getattr(state, n)) for n in _names(state)}


def _from_state_dict(target: TrainState, state_dict: dict) -> TrainState:
    names = _names(target)
    if ("ema" in names) != ("ema" in state_dict):
        raise ValueError("it holds no EMA copy of the model (it was trained without ema_decay); resume without "
                         "ema_decay or start a new run" if "ema" in names else
                         "it holds an EMA copy of the model (it was trained with ema_decay): pass ema_decay, or "
                         "TrainState.create(..., ema=True)")
    if sorted(state_dict) != sorted(names):
        raise ValueError(f"expected TrainState fields {sorted(names)}, got {sorted(state_dict)}")
    return target.replace(**{n: serialization.from_state_dict(getattr(target, n), state_dict[n], name=n)
                             for n in names})


# flax.serialization (checkpoints) sees a TrainState as the dict of its fields, as flax.struct did.
serialization.register_serialization_state(TrainState, _to_state_dict, _from_state_dict)


def _distinct_buffers(tree):
    """Copy any leaf that is the same array object as an earlier leaf.

    The train step donates the state; XLA refuses to donate one buffer twice, which happens when an init
    returns the same array in two places (e.g. a shared zeros bias).
    """
    seen = set()

    def leaf(x):
        if id(x) in seen:
            return jnp.array(x, copy=True)
        seen.add(id(x))
        return x

    return jax.tree_util.tree_map(leaf, tree)
