"""fit: epochs of shuffled mini-batches, validation, early stopping, checkpoints, metrics, plot and callbacks."""
from __future__ import annotations

import time
from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl import functional as F
from jaxdl.train import _data, _epoch, _report, _sharding, _validate
from jaxdl.train._run_files import BEST, CHECKPOINT, CURVES, METRICS, RunFiles
from jaxdl.train._state import TrainState
from jaxdl.train._step import make_eval_step, make_train_step

__all__ = ["fit", "FitResult", "NonFiniteLossError", "CHECKPOINT", "BEST", "METRICS", "CURVES"]


class FitResult(NamedTuple):
    state: TrainState     # the best epoch's state when early stopping (patience) is on, else the last
    history: list         # one dict per epoch, as the lines of metrics.jsonl (see fit)
    best_epoch: int       # epoch of the lowest validation loss (the last epoch without validation data)


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or inf loss; the message names the epoch and step."""


def fit(model, tx, train_data, val_data=None, *, loss_fn=F.cross_entropy, epochs: int, batch_size: int | None = None,
        key=None, state: TrainState | None = None, mode: str = "scan", patience: int | None = None, out_dir=None,
        resume: bool = False, progress: bool = True, mesh=None, accuracy: bool = True, dtype=jnp.float32,
        metadata: dict | None = None, callbacks: Sequence[Callable] = (), tensorboard: bool = False,
        precision: str = "fp32", ema_decay: float | None = None, ema_use_buffers: bool = False) -> FitResult:
    """Train ``model`` with ``tx`` on ``train_data``: the torch epoch loop as one function.

    fit takes one kind of data, a ``jaxdl.data.DataLoader`` of (x, y); arrays are wrapped at the door into
    ``DataLoader((x, y), batch_size, shuffle=True, key=state.data_key(), drop_last=True)`` (torch's
    ``DataLoader(shuffle=True, drop_last=True)``: each epoch a new order, reproducible from the state's key,
    the last ``N % batch_size`` examples dropped, no recompile) and validation arrays into
    ``DataLoader((x, y), batch_size)`` (every example, a smaller last batch, example-weighted mean). A loader
    whose epoch yields no batch (``drop_last`` and batch_size > N) is refused. A NaN/inf loss raises
    NonFiniteLossError naming the epoch and step; the last good checkpoint stays in place.

    ``mode="scan"`` fuses each epoch into one jitted lax.scan over the loader's arrays, resident on the
    device(s), in the order of the loader's ``jaxdl.data.epoch_permutation``; ``mode="loop"`` runs the jitted
    step (state donated) on the loader's host batches (for data larger than device memory: a DataLoader over
    memory-mapped ``.npy`` files; one over several processes' rows). Both modes give the same parameters. A
    DataLoader with ``drop_last=False`` trains its smaller last batch as one more step (compiled once more).

    ``state`` starts training from a given TrainState (e.g. one restored with ``load_checkpoint``, its lr
    changed with ``jaxdl.optim.set_lr``) instead of a new one from ``key`` (``dtype`` is then the state's; its
    buffers are donated to the first step: copy what you keep); pass exactly one of them. With
    ``resume=True`` and a checkpoint in ``out_dir``, ``state`` must be at the checkpoint's step: the run's
    history, best epoch and epoch count continue from the checkpoint, its arrays from ``state``.

    With ``patience``, training stops after that many epochs without a lower validation loss and the best
    epoch's state is returned. With ``out_dir``: metrics.jsonl (one line per epoch), curves.png,
    checkpoint.msgpack (every epoch, atomic, checksummed, with ``metadata``) and best.msgpack;
    ``resume=True`` continues from them exactly (with no checkpoint.msgpack there yet it starts at epoch 1,
    so one command both starts and resumes a run). ``tensorboard=True`` also writes the per-step and
    per-epoch scalars to ``out_dir/tensorboard`` (tensorboardX, ``pip install 'jaxdl[tensorboard]'``).

    ``mesh`` (a jax.sharding.Mesh, see data_parallel_mesh) splits each batch across its devices, also when
    it spans several processes (``jax.distributed``; docs/multi_host.md): every process then calls fit with
    the same arguments and either the whole data set, or a DataLoader with ``num_replicas=jax.process_count(),
    rank=jax.process_index()`` that reads only this process's rows of each batch. Only process 0 shows the
    bar and writes metrics.jsonl, the plot, TensorBoard and the checkpoints (then every process waits for
    it); resuming needs ``out_dir`` on a file system every process sees.

    Each history record (and metrics.jsonl line) holds epoch, step (global step count after the epoch),
    train_loss (mean of the step losses), train_acc, val_loss, val_acc, examples_per_s, time_s, step_loss
    (each step's loss) and step_lr (each step's learning rate, None when the optimizer state holds none).

    ``precision="bf16-mixed"`` trains under torch.autocast's rules (jaxdl.amp: bfloat16 matmuls, convolutions and
    attention; float32 losses and the device's float32 ops; make_train_step) over float32 master weights;
    ``"fp16-mixed"`` in float16 with torch's GradScaler (``tx`` wrapped by ``amp.training_optimizer``: the
    scaler's state is in ``state.opt_state``; a given ``state`` must have been created with the wrapped tx).

    ``ema_decay`` keeps an EMA copy of the model in ``state.ema`` (torch's ``AveragedModel(model,
    multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=ema_use_buffers)``, updated after every optimizer
    step: make_train_step), checkpointed and resumed with the state; each epoch also evaluates it on val_data as
    ``ema_val_loss`` and ``ema_val_acc`` (val_loss, val_acc and early stopping stay the trained model's). A
    given ``state`` must hold one (``TrainState.create(..., ema=True)`` or ``state.with_ema()``).

    Args:
      train_data, val_data: (x of shape (N, ...), y of shape (N, ...)) numpy arrays, or DataLoaders of (x, y).
      loss_fn: ``(output, target) -> scalar``. key: PRNG key for init, shuffling and dropout
        (TrainState.create; its named streams: _state.STREAMS). state: a TrainState to start from instead.
      epochs, batch_size, patience: positive ints (bools refused). batch_size: examples per step (global, over
        all devices); a DataLoader's own when None.
      metadata: a JSON-able dict (model spec, vocabulary, the run's config) stored in every checkpoint
        written (checkpoint.msgpack, best.msgpack); read it back with ``read_checkpoint_metadata``.
      dtype: parameter dtype; float32 with a mixed precision. precision: "fp32", "bf16-mixed" or "fp16-mixed".
      ema_decay: None (no EMA copy) or the EMA's decay in [0, 1]. ema_use_buffers: average the buffers
        (BatchNorm's running statistics) too; else the EMA copy evaluates with the model's buffers.
      callbacks: callables ``callback(record, state)`` run after each epoch (after its checkpoint) on every
        process, with the epoch's history record and state; write files only where
        ``jax.process_index() == 0``. The state's buffers are donated to the next step: copy what you keep.
    """
    _validate.check_precision(precision, dtype)
    tx = amp.training_optimizer(tx, precision)  # fp16-mixed: torch's GradScaler around tx, its state in opt_state
    callbacks = _validate.check_fit(epochs=epochs, mode=mode, patience=patience, has_val=val_data is not None,
                                    key=key, state=state, resume=resume, out_dir=out_dir, tensorboard=tensorboard,
                                    callbacks=callbacks, metadata=metadata, ema_decay=ema_decay)
    given = state is not None
    state = state if given else TrainState.create(model, tx, key, dtype, ema=ema_decay is not None)
    _validate.check_state_ema(state, ema_decay)
    train, val = _data.loaders(train_data, val_data, batch_size, state.data_key(), mode)
    _check_fits(model, state, loss_fn, train, val, mesh)
    files = RunFiles(out_dir, metadata, tensorboard)
    state, run = files.restore(state, resume=resume, given=given, epochs=epochs)
    steps_done = int(state.step)
    train_epoch, evaluate = _epoch_runners(mode, model, tx, loss_fn, train, val, mesh, accuracy, precision,
                                           (ema_decay, ema_use_buffers))
    state = _sharding.place_replicated(state, mesh)
    run.best = None if run.best is None else _sharding.place_replicated(run.best, mesh)

    for epoch in range(run.start, epochs + 1):
        bar = _report.progress_bar(epoch, epochs, len(train), progress)
        t0 = time.perf_counter()
        state, metrics = train_epoch(state, epoch, bar)
        metrics = jax.device_get(metrics)
        seconds = time.perf_counter() - t0
        losses = np.asarray(metrics["loss"])
        if not np.all(np.isfinite(losses)):
            bar.close()
            raise _non_finite(losses, epoch, steps_done, files.last_good(epoch == run.start == 1))
        steps_done += len(losses)
        record = _epoch_record(epoch, steps_done, metrics, None if val is None else jax.device_get(evaluate(state)),
                               train, val, seconds)
        if ema_decay is not None:
            record.update(_ema_record(None if val is None else jax.device_get(evaluate(_ema_model(state))), val))
        _show(bar, record)
        improved, stop = run.end_epoch(record, state, patience, val is not None)
        files.end_epoch(record, state, run, improved=improved, stop=stop)
        for callback in callbacks:
            callback(record, state)
        if stop:
            break

    files.close(run.history)
    if patience is not None and run.best is not None:
        state = run.best
    return FitResult(state, run.history, run.best_epoch)


def _check_fits(model, state, loss_fn, train, val, mesh) -> None:
    """The model takes the data and the mesh the batches, before anything compiles."""
    if mesh is not None:
        _sharding.check_mesh(mesh, train.batch_size)
    for name, loader in (("train_data", train), ("val_data", val)):
        if loader is not None:
            _data.check_on_mesh(name, loader, mesh)
            _validate.check_model_fits(model, state, loss_fn, loader.dataset[0], _data.labels_to_check(loader),
                                       min(loader.batch_size, loader.num_examples))


def _epoch_runners(mode, model, tx, loss_fn, train, val, mesh, accuracy, precision, ema):
    """(train_epoch(state, epoch, bar) -> (state, metrics per step), evaluate(state) -> totals) for ``mode``."""
    train_step = make_train_step(model, tx, loss_fn, accuracy=accuracy, precision=precision, ema_decay=ema[0],
                                 ema_use_buffers=ema[1])
    eval_step = make_eval_step(model, loss_fn, accuracy=accuracy, precision=precision)
    options = amp.compiler_options(precision)
    if mode == "scan":  # one jitted lax.scan per epoch over the loader's arrays, resident on the device(s)
        scan_train = jax.jit(_epoch.make_train_epoch(train_step, train.batch_size, mesh, shuffle=train.shuffle,
                                                     drop_last=train.drop_last), donate_argnums=0,
                             compiler_options=options)
        xd, yd = _sharding.place_replicated(_data.arrays(train), mesh)

        def train_epoch(state, epoch, bar):
            state, metrics = scan_train(state, xd, yd, jnp.asarray(epoch, jnp.int32), train.key)
            bar.update(len(train))
            return state, metrics

        if val is None:
            return train_epoch, None
        scan_eval = jax.jit(_epoch.make_eval_epoch(eval_step, val.batch_size, drop_last=val.drop_last),
                            compiler_options=options)
        vd = _sharding.place_replicated(_data.arrays(val, in_order=True), mesh)
        return train_epoch, lambda state: scan_eval(state, *vd)

    # loop mode: the jitted step (state donated) on each host batch of the loaders
    step = jax.jit(train_step, donate_argnums=0, compiler_options=options)
    eval_step = jax.jit(eval_step, compiler_options=options)

    def train_epoch(state, epoch, bar):
        return _epoch.loop_train_epoch(step, train, state, epoch, mesh, lambda: bar.update(1))

    return train_epoch, lambda state: _epoch.loop_eval_epoch(eval_step, val, state, mesh)


def _epoch_record(epoch, step, metrics, totals, train, val, seconds) -> dict:
    """One history record, one line of metrics.jsonl (keys as fit's docstring lists them)."""
    losses = np.asarray(metrics["loss"])
    return {"epoch": epoch, "step": step, "train_loss": float(losses.mean()), "train_acc": _acc(metrics),
            "val_loss": None if totals is None else float(totals["loss"]) / val.examples_per_epoch,
            "val_acc": None if totals is None else _acc(totals),
            "examples_per_s": train.examples_per_epoch / seconds, "time_s": seconds,
            "step_loss": losses.tolist(),
            "step_lr": np.asarray(metrics["lr"]).tolist() if "lr" in metrics else None}


def _ema_model(state):
    """``state`` with the EMA copy's params and buffers as the model's (what evaluating the EMA model runs)."""
    return state.replace(params=state.ema.params, model_state=state.ema.buffers)


def _ema_record(totals, val) -> dict:
    """The EMA model's validation metrics, as _epoch_record's val_loss/val_acc, named ema_val_loss/ema_val_acc."""
    return {"ema_val_loss": None if totals is None else float(totals["loss"]) / val.examples_per_epoch,
            "ema_val_acc": None if totals is None else _acc(totals)}


def _show(bar, record) -> None:
    shown = {"loss": f"{record['train_loss']:.4f}", "ex_per_s": f"{record['examples_per_s']:.0f}"}
    if record["val_loss"] is not None:
        shown["val_loss"] = f"{record['val_loss']:.4f}"
    if record.get("ema_val_loss") is not None:
        shown["ema_val_loss"] = f"{record['ema_val_loss']:.4f}"
    bar.set_postfix(shown)
    bar.close()


def _non_finite(losses, epoch: int, steps_done: int, where: str) -> NonFiniteLossError:
    i = int(np.argmin(np.isfinite(losses)))
    return NonFiniteLossError(f"loss is {losses[i]} at epoch {epoch}, step {i + 1} of {len(losses)} "
                              f"(global step {steps_done + i + 1}); training stopped.{where}")


def _acc(metrics):
    if "correct" not in metrics:
        return None
    return float(np.sum(metrics["correct"])) / float(np.sum(metrics["count"]))
