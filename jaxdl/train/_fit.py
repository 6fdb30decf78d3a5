"""fit: epochs of shuffled mini-batches, validation, early stopping, checkpoints, metrics and a plot."""
from __future__ import annotations

import os
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import functional as F
from jaxdl.train import _epoch, _report, _sharding, _validate
from jaxdl.train._checkpoint import json_text, load_checkpoint, save_checkpoint
from jaxdl.train._state import TrainState
from jaxdl.train._step import make_eval_step, make_train_step

CHECKPOINT, BEST, METRICS, CURVES = "checkpoint.msgpack", "best.msgpack", "metrics.jsonl", "curves.png"


class FitResult(NamedTuple):
    state: TrainState     # the best epoch's state when early stopping (patience) is on, else the last
    history: list         # one dict per epoch: epoch, train_loss, train_acc, val_loss, val_acc, examples_per_s, time_s
    best_epoch: int       # epoch of the lowest validation loss (the last epoch without validation data)


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or inf loss; the message names the epoch and step."""


def fit(model, tx, train_data, val_data=None, *, loss_fn=F.cross_entropy, epochs: int, batch_size: int, key,
        mode: str = "scan", patience: int | None = None, out_dir=None, resume: bool = False,
        progress: bool = True, mesh=None, accuracy: bool = True, dtype=jnp.float32,
        metadata: dict | None = None) -> FitResult:
    """Train ``model`` with ``tx`` on ``train_data = (x, y)``: the torch epoch loop as one function.

    Each epoch shuffles from the state's key (reproducible) and drops the last ``N % batch_size`` examples,
    as torch's ``DataLoader(shuffle=True, drop_last=True)`` (a different subset each epoch; no recompile);
    validation covers every example (a smaller last batch, example-weighted mean). A NaN/inf loss raises
    NonFiniteLossError naming the epoch and step; the last good checkpoint stays in place. ``mode="scan"`` fuses each epoch into one jitted lax.scan over
    device-resident data; ``mode="loop"`` runs jitted steps from a Python loop over host data. Both give
    the same parameters. With ``patience``, training stops after that many epochs without a lower
    validation loss and the best epoch's state is returned. With ``out_dir``: metrics.jsonl, curves.png,
    checkpoint.msgpack (every epoch, atomic) and best.msgpack; ``resume=True`` continues from them exactly
    (with no checkpoint.msgpack there yet it starts at epoch 1, so one command both starts and resumes a run).
    ``mesh`` (a jax.sharding.Mesh, see data_parallel_mesh) splits each batch across devices.

    Args:
      train_data, val_data: (x of shape (N, ...), y of shape (N, ...)) numpy arrays.
      loss_fn: ``(output, target) -> scalar``. key: PRNG key for init, shuffling and dropout.
      metadata: a JSON-able dict (model spec, vocabulary, the run's config) stored in every checkpoint
        written (checkpoint.msgpack, best.msgpack); read it back with ``read_checkpoint_metadata``.
    """
    x, y = _validate.check_data("train_data", train_data)
    val = None if val_data is None else _validate.check_data("val_data", val_data)
    _validate.check_run(epochs=epochs, batch_size=batch_size, n_train=len(x), mode=mode)
    if patience is not None and (val is None or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience={patience!r} needs val_data and must be a positive int")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where checkpoint.msgpack lives)")
    if mesh is not None:
        _sharding.check_mesh(mesh, batch_size)
    json_text("metadata", metadata)  # a bad metadata dict fails now, not at the first checkpoint
    state = TrainState.create(model, tx, key, dtype)
    _validate.check_model_fits(model, state, loss_fn, x, y, batch_size)
    if val is not None:
        _validate.check_model_fits(model, state, loss_fn, *val, min(batch_size, len(val[0])))

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
        open(os.path.join(out_dir, METRICS), "w").close()  # rewritten: a resumed run keeps one line per epoch
        for record in history:
            _report.append_jsonl(os.path.join(out_dir, METRICS), record)

    put = (lambda t: jax.device_put(t, _sharding.replicated(mesh))) if mesh is not None else jax.device_put
    state = put(state)
    best = None if best is None else put(best)
    run_train, run_eval = _runners(mode, model, tx, loss_fn, batch_size, accuracy, mesh, x, y, val, put)

    for epoch in range(start, epochs + 1):
        steps = len(x) // batch_size
        bar = _report.progress_bar(epoch, epochs, steps, progress)
        t0 = time.perf_counter()
        state, metrics = run_train(state, epoch, bar)
        losses = np.asarray(metrics["loss"])
        seconds = time.perf_counter() - t0
        if not np.all(np.isfinite(losses)):
            bar.close()
            i = int(np.argmin(np.isfinite(losses)))
            ckpt_path = None if out_dir is None else os.path.join(out_dir, CHECKPOINT)
            where = (f" The last good checkpoint ({ckpt_path}) is kept." if start > 1 or epoch > 1
                     else f" No checkpoint was written ({ckpt_path} holds no epoch of this run)."
                     ) if out_dir else ""
            raise NonFiniteLossError(f"loss is {losses[i]} at epoch {epoch}, step {i + 1} of {steps} "
                                     f"(global step {(epoch - 1) * steps + i + 1}); training stopped.{where}")
        record = {"epoch": epoch, "train_loss": float(losses.mean()), "train_acc": _acc(metrics),
                  "val_loss": None, "val_acc": None}
        if val is not None:
            totals = jax.device_get(run_eval(state))
            record["val_loss"] = float(totals["loss"]) / len(val[0])
            record["val_acc"] = _acc(totals)
        record["examples_per_s"] = steps * batch_size / seconds
        record["time_s"] = seconds
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
                    save_checkpoint(os.path.join(out_dir, BEST), best, metadata=metadata)
        else:
            wait += 1
            stop = patience is not None and wait >= patience
        if out_dir is not None:
            _report.append_jsonl(os.path.join(out_dir, METRICS), record)
            save_checkpoint(os.path.join(out_dir, CHECKPOINT), state, {
                "epoch": epoch, "history": history, "best_epoch": best_epoch, "wait": wait, "stopped": stop,
                "best_val": None if best_val == float("inf") else best_val}, metadata=metadata)
        if stop:
            break

    if out_dir is not None and history:
        _report.plot_curves(history, os.path.join(out_dir, CURVES))
    if patience is not None and best is not None:
        state = best
    return FitResult(state, history, best_epoch)


def _runners(mode, model, tx, loss_fn, batch_size, accuracy, mesh, x, y, val, put):
    """(run_train(state, epoch, bar) -> (state, metrics per step), run_eval(state) -> totals)."""
    train_step = make_train_step(model, tx, loss_fn, accuracy=accuracy)
    eval_step = make_eval_step(model, loss_fn, accuracy=accuracy)
    if mode == "scan":
        train_epoch = jax.jit(_epoch.make_train_epoch(train_step, batch_size, mesh), donate_argnums=0)
        eval_epoch = jax.jit(_epoch.make_eval_epoch(eval_step, batch_size))
        xd, yd = put((jnp.asarray(x), jnp.asarray(y)))  # device-resident for the whole run
        vd = None if val is None else put((jnp.asarray(val[0]), jnp.asarray(val[1])))

        def run_train(state, epoch, bar):
            state, metrics = train_epoch(state, xd, yd, jnp.asarray(epoch, jnp.int32))
            metrics = jax.device_get(metrics)
            bar.update(len(metrics["loss"]))
            return state, metrics

        return run_train, (lambda state: eval_epoch(state, *vd))

    train_step, eval_step = jax.jit(train_step, donate_argnums=0), jax.jit(eval_step)
    perm_fn = jax.jit(_epoch.permutation, static_argnums=2)

    def run_train(state, epoch, bar):
        return _epoch.loop_train_epoch(train_step, lambda s, e: perm_fn(s, jnp.asarray(e, jnp.int32), len(x)),
                                       state, x, y, epoch, batch_size, mesh, lambda: bar.update(1))

    return run_train, (lambda state: _epoch.loop_eval_epoch(eval_step, state, *val, batch_size, mesh))


def _acc(metrics):
    if "correct" not in metrics:
        return None
    return float(np.sum(metrics["correct"])) / float(np.sum(metrics["count"]))
