"""train_step and eval_step: one pure, jitted update and one evaluation of a batch."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


IGNORE_INDEX = -100  # torch's default ignore_index: such targets count neither as right nor as seen


def batch_metrics(output, target, loss, accuracy: bool):
    """{"loss"} plus {"correct", "count"} when accuracy applies (integer targets of shape output.shape[:-1]).

    Targets equal to -100 (F.cross_entropy's default ignore_index) are left out of "correct" and "count".
    """
    metrics = {"loss": loss}
    if accuracy and _is_classification(output.shape, target.shape, target.dtype):
        seen = target != IGNORE_INDEX
        metrics["correct"] = jnp.sum(seen & (jnp.argmax(output, axis=-1) == target)).astype(jnp.int32)
        metrics["count"] = jnp.sum(seen).astype(jnp.int32)
    return metrics


def _is_classification(out_shape, target_shape, target_dtype) -> bool:
    return jnp.issubdtype(target_dtype, jnp.integer) and tuple(out_shape[:-1]) == tuple(target_shape)


def train_step_fn(loss_fn, accuracy: bool = True):
    """The pure (unjitted) step ``(state, x, y) -> (state, metrics)``; fit's scan mode runs it in lax.scan.

    Dropout gets ``state.dropout_key()`` (fold_in of the state's key and step); BatchNorm buffers come back
    updated in ``model_state``. The update is ``tx.update`` then ``optax.apply_updates``, as torch's
    ``loss.backward(); optimizer.step()``.
    """
    def step(state, x, y):
        def objective(params):
            out, model_state = state.model.apply(params, state.model_state, x, training=True,
                                                 key=state.dropout_key())
            return loss_fn(out, y), (out, model_state)

        (loss, (out, model_state)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        updates, opt_state = state.tx.update(grads, state.opt_state, state.params)
        state = state.replace(params=optax.apply_updates(state.params, updates), model_state=model_state,
                              opt_state=opt_state, step=state.step + 1)
        return state, batch_metrics(out, y, loss, accuracy)

    return step


def eval_step_fn(loss_fn, accuracy: bool = True):
    """The pure step ``(state, x, y) -> metrics`` in eval mode: no dropout, BatchNorm uses running stats."""
    def step(state, x, y):
        out, _ = state.model.apply(state.params, state.model_state, x, training=False, key=None)
        return batch_metrics(out, y, loss_fn(out, y), accuracy)

    return step


def make_steps(model, tx, loss_fn, *, accuracy: bool = True):
    """Jitted ``train_step(state, x, y) -> (state, metrics)`` (state donated) and ``eval_step(state, x, y)``.

    ``model`` and ``tx`` travel inside the TrainState (static fields); they are accepted here to match the
    usual ``make_step(model, optimizer, loss)`` call and checked against the state at trace time.
    metrics: "loss" (the batch's loss_fn value) and, for integer targets of shape output.shape[:-1],
    "correct" and "count".

    Args:
      model: jaxdl.nn module. tx: optax transform. loss_fn: ``(output, target) -> scalar``, e.g. F.cross_entropy.
    """
    train_fn, eval_fn = train_step_fn(loss_fn, accuracy), eval_step_fn(loss_fn, accuracy)

    def check(state):
        if state.model != model or state.tx is not tx:
            raise ValueError("make_steps: the TrainState was created with a different model or tx than the steps "
                             f"(state.model={state.model!r}, model={model!r}); use TrainState.create(model, tx, key)")

    def train_step(state, x, y):
        check(state)
        return train_fn(state, x, y)

    def eval_step(state, x, y):
        check(state)
        return eval_fn(state, x, y)

    return jax.jit(train_step, donate_argnums=0), jax.jit(eval_step)
