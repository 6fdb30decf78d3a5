"""make_train_step and make_eval_step: one pure update and one evaluation of a batch, closed over model and tx."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxdl import amp
from jaxdl.optim import lr_used, swa_utils

IGNORE_INDEX = -100  # torch's default ignore_index: such targets count neither as right nor as seen


def batch_metrics(output, target, loss, accuracy: bool):
    """{"loss"} plus {"correct", "count"} when accuracy applies (integer targets of shape output.shape[:-1]).

    Targets equal to -100 (F.cross_entropy's default ignore_index) are left out of "correct" and "count".
    """
    metrics = {"loss": loss}
    if accuracy and _is_classification(output.shape, target.shape, target.dtype):
        seen = target != IGNORE_INDEX
        predicted = jnp.argmax(output, axis=-1).astype(target.dtype)  # int64 under x64; targets may be int32
        metrics["correct"] = jnp.sum(seen & (predicted == target)).astype(jnp.int32)
        metrics["count"] = jnp.sum(seen).astype(jnp.int32)
    return metrics


def _is_classification(out_shape, target_shape, target_dtype) -> bool:
    return jnp.issubdtype(target_dtype, jnp.integer) and tuple(out_shape[:-1]) == tuple(target_shape)


def make_train_step(model, tx, loss_fn, *, accuracy: bool = True, precision: str = "fp32", ema_decay=None,
                    ema_use_buffers: bool = False):
    """The pure step ``train_step(state, x, y) -> (state, metrics)`` of ``model`` trained by ``tx``.

    torch's ``loss = loss_fn(model(x), y); loss.backward(); optimizer.step()``: the gradient of the batch's
    loss, then ``tx.update`` and ``optax.apply_updates``. Dropout gets ``state.dropout_key()`` (fold_in of
    the state's key and step); BatchNorm buffers come back updated in ``model_state``. metrics: "loss", "correct"
    and "count" (see batch_metrics) and "lr", the learning rate this update used (``jaxdl.optim.lr_used``), when the
    optimizer state holds one (jaxdl.optim's optimizers, optax.inject_hyperparams).

    The function is returned unjitted, so it composes: fit's scan mode runs it inside ``lax.scan``, sweep
    inside ``jax.vmap``. For a step-by-step loop, jit it and donate the state (as fit's loop mode does):
    ``train_step = jax.jit(make_train_step(model, tx, loss_fn), donate_argnums=0)``.

    ``precision="bf16-mixed"`` runs the forward pass and the loss under ``jaxdl.amp.autocast`` (bfloat16, the op
    lists of the device JAX runs on): torch's ``with torch.autocast(device, torch.bfloat16): loss = loss_fn(model(x),
    y)``. Params, gradients and optimizer state stay float32.

    ``precision="fp16-mixed"`` is the same with float16 and torch's GradScaler recipe: ``tx`` is wrapped in
    ``jaxdl.amp.GradScaler().wrap`` (unless it is already), the loss scaled before the gradient, and a step whose
    gradients overflow skipped with the scale halved; the state must be created with the wrapped optimizer,
    ``TrainState.create(model, amp.training_optimizer(tx, "fp16-mixed"), key)`` (fit does this).

    ``ema_decay``: after the update, the state's EMA copy (``TrainState.create(..., ema=True)``) takes it in,
    torch's ``optimizer.step(); ema_model.update_parameters(model)`` with ``ema_model = AveragedModel(model,
    multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=ema_use_buffers)`` (``jaxdl.optim.swa_utils``;
    also after a step GradScaler skipped, as torch's recipe).

    Args:
      model: jaxdl.nn module. tx: optax transform. loss_fn: ``(output, target) -> scalar``, e.g. F.cross_entropy.
      accuracy: add "correct" and "count" to the metrics for integer targets of shape output.shape[:-1].
      precision: "fp32", "bf16-mixed" or "fp16-mixed".
      ema_decay: None (no EMA) or the EMA's decay, in [0, 1]. ema_use_buffers: average the buffers too (else
        the EMA copy's buffers are the model's).
    """
    ema_fn = None if ema_decay is None else swa_utils.get_ema_multi_avg_fn(ema_decay)
    autocast = amp.precision_context(precision)
    tx = amp.training_optimizer(tx, precision)
    scaled = amp.is_loss_scaled(tx)

    def train_step(state, x, y):
        if scaled != amp.is_loss_scaled(state.opt_state):
            raise TypeError(f"make_train_step: {'a' if scaled else 'no'} loss-scaled optimizer state expected "
                            f"(precision={precision!r}); create the TrainState with amp.training_optimizer(tx, "
                            f"{precision!r})")
        if (ema_fn is None) != (state.ema is None):
            raise TypeError(f"make_train_step: ema_decay={ema_decay!r} needs a state with{'out' * (ema_fn is None)} "
                            f"an EMA copy; got one with{'out' * (state.ema is None)} (TrainState.create(..., "
                            f"ema={ema_fn is not None}))")

        def objective(params):
            with autocast:
                out, model_state = model.apply(params, state.model_state, x, training=True, key=state.dropout_key())
                loss = loss_fn(out, y)
            return (amp.scale_loss(loss, state.opt_state) if scaled else loss), (loss, out, model_state)

        (_, (loss, out, model_state)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        metrics = batch_metrics(out, y, loss, accuracy)
        lr = lr_used(state.opt_state, opt_state)
        if lr is not None:
            metrics["lr"] = lr
        params = optax.apply_updates(state.params, updates)
        ema = None if ema_fn is None else swa_utils.update_parameters(
            state.ema, params, model_state, multi_avg_fn=ema_fn, use_buffers=ema_use_buffers)
        state = state.replace(params=params, model_state=model_state, opt_state=opt_state, step=state.step + 1,
                              ema=ema)
        return state, metrics

    return train_step


def make_eval_step(model, loss_fn, *, accuracy: bool = True, precision: str = "fp32"):
    """The pure step ``eval_step(state, x, y) -> metrics`` in eval mode: no dropout, BatchNorm's running stats.

    torch's ``model.eval(); with torch.no_grad(): loss_fn(model(x), y)`` (under autocast for "bf16-mixed", as
    make_train_step). Unjitted, like make_train_step: ``jax.jit(make_eval_step(model, loss_fn))`` for a loop.
    """
    autocast = amp.precision_context(precision)

    def eval_step(state, x, y):
        with autocast:
            out, _ = model.apply(state.params, state.model_state, x, training=False, key=None)
            return batch_metrics(out, y, loss_fn(out, y), accuracy)

    return eval_step
