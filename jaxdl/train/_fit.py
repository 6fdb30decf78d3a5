"""fit: epochs of shuffled mini-batches, validation, early stopping, checkpoints, metrics, plot and callbacks."""
from __future__ import annotations

import os
import time
from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl import functional as F
from jaxdl.train import _data, _epoch, _report, _sharding, _validate
from jaxdl.train._checkpoint import json_text, load_checkpoint, save_checkpoint
from jaxdl.train._state import TrainState
from jaxdl.train._step import make_eval_step, make_train_step

CHECKPOINT, BEST, METRICS, CURVES = "checkpoint.msgpack", "best.msgpack", "metrics.jsonl", "curves.png"


class FitResult(NamedTuple):
    state: TrainState     # the best epoch's state when early stopping (patience) is on, else the last
    history: list         # one dict per epoch, as the lines of metrics.jsonl (see fit)
    best_epoch: int       # epoch of the lowest validation loss (the last epoch without validation data)


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or inf loss; the message names the epoch and step."""


def fit(model, tx, train_data, val_data=None, *, loss_fn=F.cross_entropy, epochs: int, batch_size: int | None = None,
        key, mode: str = "scan", patience: int | None = None, out_dir=None, resume: bool = False,
        progress: bool = True, mesh=None, accuracy: bool = True, dtype=jnp.float32, metadata: dict | None = None,
        callbacks: Sequence[Callable] = (), tensorboard: bool = False, precision: str = "fp32") -> FitResult:
    """Train ``model`` with ``tx`` on ``train_data``: the torch epoch loop as one function.

    Each epoch shuffles from the state's key (reproducible) and drops the last ``N % batch_size`` examples,
    as torch's ``DataLoader(shuffle=True, drop_last=True)`` (a different subset each epoch; no recompile);
    validation covers every example (a smaller last batch, example-weighted mean). A NaN/inf loss raises
    NonFiniteLossError naming the epoch and step; the last good checkpoint stays in place.

    ``mode="scan"`` fuses each epoch into one jitted lax.scan over device-resident arrays; ``mode="loop"``
    runs the jitted step (state donated) batch by batch from the host, from arrays or from a
    ``jaxdl.data.DataLoader`` (for data larger than device memory: memory-mapped ``.npy`` files). Both modes
    give the same parameters for arrays; a DataLoader with ``mode="scan"`` raises ValueError. A DataLoader
    brings its own order and batch size (``shuffle=True, key=TrainState.create(model, tx, key).data_key(),
    drop_last=True`` replays the arrays' order exactly); one with ``drop_last=False`` compiles the step once
    more for the smaller last batch.

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
    attention; float32 losses and the device's float32 ops; make_train_step) over float32 master weights.

    Args:
      train_data, val_data: (x of shape (N, ...), y of shape (N, ...)) numpy arrays, or DataLoaders of
        (x, y) (loop mode).
      loss_fn: ``(output, target) -> scalar``. key: PRNG key for init, shuffling and dropout.
      batch_size: examples per step (global, over all devices); a DataLoader's own when None.
      metadata: a JSON-able dict (model spec, vocabulary, the run's config) stored in every checkpoint
        written (checkpoint.msgpack, best.msgpack); read it back with ``read_checkpoint_metadata``.
      dtype: parameter dtype; float32 with precision="bf16-mixed". precision: "fp32" or "bf16-mixed".
      callbacks: callables ``callback(record, state)`` run after each epoch (after its checkpoint) on every
        process, with the epoch's history record and state; write files only where
        ``jax.process_index() == 0``. The state's buffers are donated to the next step: copy what you keep.
    """
    _validate.check_precision(precision, dtype)
    train = _data.check_input("train_data", train_data, mode)
    val = None if val_data is None else _data.check_input("val_data", val_data, mode)
    batch_size = _data.batch_size_of(train, batch_size)
    _validate.check_run(epochs=epochs, batch_size=batch_size, n_train=_data.num_examples(train), mode=mode,
                        drop_last=_data.drops_last(train))
    if patience is not None and (val is None or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience={patience!r} needs val_data and must be a positive int")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where checkpoint.msgpack lives)")
    if tensorboard and out_dir is None:
        raise ValueError("tensorboard=True needs out_dir (the events go to out_dir/tensorboard)")
    callbacks = tuple(callbacks)
    if not all(callable(c) for c in callbacks):
        raise TypeError(f"callbacks must be callables callback(record, state); got {callbacks!r}")
    if mesh is not None:
        _sharding.check_mesh(mesh, batch_size)
    json_text("metadata", metadata)  # a bad metadata dict fails now, not at the first checkpoint
    state = TrainState.create(model, tx, key, dtype)
    x, _ = _data.arrays(train)
    _validate.check_model_fits(model, state, loss_fn, x, _data.first_labels(train), batch_size)
    if val is not None:
        vx, _ = _data.arrays(val)
        _validate.check_model_fits(model, state, loss_fn, vx, _data.first_labels(val),
                                   min(batch_size, _data.num_examples(val)))

    history, best, best_epoch, best_val, wait, start = [], None, 0, float("inf"), 0, 1
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        ckpt = os.path.join(out_dir, CHECKPOINT)
        if resume and os.path.exists(ckpt):
            state, extra = load_checkpoint(ckpt, state)
            history, best_epoch, wait = extra["history"], extra["best_epoch"], extra["wait"]
            best_val = float("inf") if extra["best_val"] is None else extra["best_val"]
            start = extra["epoch"] + 1
            if os.path.exists(os.path.join(out_dir, BEST)):
                best, _ = load_checkpoint(os.path.join(out_dir, BEST), state)
            if extra.get("stopped"):
                start = epochs + 1
        _same_on_every_process(start, "the epoch to resume from (is out_dir on a file system every process sees?)")
        if _report.is_writer():  # rewritten: a resumed run keeps one line per epoch
            _report.write_jsonl(os.path.join(out_dir, METRICS), history)
    board = _report.TensorBoard(os.path.join(out_dir, _report.TENSORBOARD_DIR)) if tensorboard and \
        _report.is_writer() else None

    steps_done = int(state.step)
    train_step = make_train_step(model, tx, loss_fn, accuracy=accuracy, precision=precision)
    eval_step = make_eval_step(model, loss_fn, accuracy=accuracy, precision=precision)
    run_train, run_eval, steps = _runners(mode, train_step, eval_step, batch_size, mesh, train, val, state,
                                          amp.compiler_options(precision))
    state = _sharding.place_replicated(state, mesh)
    best = None if best is None else _sharding.place_replicated(best, mesh)

    for epoch in range(start, epochs + 1):
        bar = _report.progress_bar(epoch, epochs, steps, progress)
        t0 = time.perf_counter()
        state, metrics = run_train(state, epoch, bar)
        metrics = jax.device_get(metrics)
        losses = np.asarray(metrics["loss"])
        seconds = time.perf_counter() - t0
        if not np.all(np.isfinite(losses)):
            bar.close()
            i = int(np.argmin(np.isfinite(losses)))
            ckpt_path = None if out_dir is None else os.path.join(out_dir, CHECKPOINT)
            where = (f" The last good checkpoint ({ckpt_path}) is kept." if start > 1 or epoch > 1
                     else f" No checkpoint was written ({ckpt_path} holds no epoch of this run)."
                     ) if out_dir else ""
            raise NonFiniteLossError(f"loss is {losses[i]} at epoch {epoch}, step {i + 1} of {len(losses)} "
                                     f"(global step {steps_done + i + 1}); training stopped.{where}")
        steps_done += len(losses)
        record = {"epoch": epoch, "step": steps_done, "train_loss": float(losses.mean()),
                  "train_acc": _acc(metrics), "val_loss": None, "val_acc": None}
        if val is not None:
            totals = jax.device_get(run_eval(state))
            record["val_loss"] = float(totals["loss"]) / _data.evaluated_examples(val)
            record["val_acc"] = _acc(totals)
        record["examples_per_s"] = _examples(train, batch_size, len(losses)) / seconds
        record["time_s"] = seconds
        record["step_loss"] = losses.tolist()
        record["step_lr"] = np.asarray(metrics["lr"]).tolist() if "lr" in metrics else None
        shown = {"loss": f"{record['train_loss']:.4f}", "ex_per_s": f"{record['examples_per_s']:.0f}"}
        if record["val_loss"] is not None:
            shown["val_loss"] = f"{record['val_loss']:.4f}"
        bar.set_postfix(shown)
        bar.close()
        history.append(record)

        stop = False
        if val is None or record["val_loss"] < best_val:
            best_val = best_val if val is None else record["val_loss"]
            best_epoch, wait = epoch, 0
            if patience is not None:
                best = jax.tree.map(jnp.copy, state)  # the next step donates state's buffers
                if out_dir is not None:
                    _save(os.path.join(out_dir, BEST), best, None, metadata)
        else:
            wait += 1
            stop = patience is not None and wait >= patience
        if out_dir is not None:
            if _report.is_writer():
                _report.append_jsonl(os.path.join(out_dir, METRICS), record)
            _save(os.path.join(out_dir, CHECKPOINT), state, {
                "epoch": epoch, "history": history, "best_epoch": best_epoch, "wait": wait, "stopped": stop,
                "best_val": None if best_val == float("inf") else best_val}, metadata)
        if board is not None:
            board.write(record)
        for callback in callbacks:
            callback(record, state)
        if stop:
            break

    if board is not None:
        board.close()
    if out_dir is not None and history and _report.is_writer():
        _report.plot_curves(history, os.path.join(out_dir, CURVES))
    if patience is not None and best is not None:
        state = best
    return FitResult(state, history, best_epoch)


def _runners(mode, train_step, eval_step, batch_size, mesh, train, val, host_state, compiler_options):
    """(run_train(state, epoch, bar) -> (state, metrics per step), run_eval(state) -> totals, steps per epoch)."""
    if mode == "scan":
        train_epoch = jax.jit(_epoch.make_train_epoch(train_step, batch_size, mesh), donate_argnums=0,
                              compiler_options=compiler_options)
        eval_epoch = jax.jit(_epoch.make_eval_epoch(eval_step, batch_size), compiler_options=compiler_options)
        xd, yd = _sharding.place_replicated(train, mesh)  # device-resident for the whole run
        vd = None if val is None else _sharding.place_replicated(val, mesh)

        def run_train(state, epoch, bar):
            state, metrics = train_epoch(state, xd, yd, jnp.asarray(epoch, jnp.int32))
            bar.update(len(train[0]) // batch_size)
            return state, metrics

        return run_train, (lambda state: eval_epoch(state, *vd)), len(train[0]) // batch_size

    train_step = jax.jit(train_step, donate_argnums=0, compiler_options=compiler_options)
    eval_step = jax.jit(eval_step, compiler_options=compiler_options)
    loader = _data.train_loader(train, batch_size, host_state.data_key())
    val_loader = None if val is None else _data.eval_loader(val, batch_size)
    for name, ld in (("train_data", loader), ("val_data", val_loader)):
        if ld is not None:
            _data.check_on_mesh(name, ld, mesh)

    def run_train(state, epoch, bar):
        return _epoch.loop_train_epoch(train_step, loader, state, epoch, mesh, lambda: bar.update(1))

    return run_train, (lambda state: _epoch.loop_eval_epoch(eval_step, val_loader, state, mesh)), len(loader)


def _save(path, state, extra, metadata) -> None:
    """One writer (process 0), then every process waits for the file: no two processes write one path."""
    try:
        if _report.is_writer():
            save_checkpoint(path, state, extra, metadata=metadata)
    finally:
        _barrier(f"jaxdl checkpoint {os.path.basename(path)}")


def _barrier(name: str) -> None:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils  # noqa: PLC0415

        multihost_utils.sync_global_devices(name)


def _same_on_every_process(value: int, what: str) -> None:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils  # noqa: PLC0415

        multihost_utils.assert_equal(np.int32(value), f"processes disagree on {what}")


def _examples(train, batch_size: int, steps: int) -> int:
    """Examples seen in one epoch: arrays train on full batches only; a DataLoader on its examples_per_epoch."""
    return steps * batch_size if isinstance(train, tuple) else train.examples_per_epoch


def _acc(metrics):
    if "correct" not in metrics:
        return None
    return float(np.sum(metrics["correct"])) / float(np.sum(metrics["count"]))
