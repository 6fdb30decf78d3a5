"""fit's run in ``out_dir``: the bookkeeping that crosses epochs (RunProgress) and the files that hold it.

checkpoint.msgpack (every epoch: the state plus RunProgress as ``extra``), best.msgpack (the best epoch's
state, with patience), metrics.jsonl (one line per epoch), curves.png, and TensorBoard events. Only process 0
writes (``_report.is_writer``); every process waits for each checkpoint.
"""
from __future__ import annotations

import dataclasses
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.train import _report
from jaxdl.train._checkpoint import load_checkpoint, save_checkpoint

CHECKPOINT, BEST, METRICS, CURVES = "checkpoint.msgpack", "best.msgpack", "metrics.jsonl", "curves.png"


@dataclasses.dataclass
class RunProgress:
    """Where a run stands after an epoch: what checkpoint.msgpack's ``extra`` holds (with ``epoch``), and the
    best epoch's state (best.msgpack) when early stopping is on."""

    history: list = dataclasses.field(default_factory=list)
    best_epoch: int = 0
    best_val: float = math.inf
    wait: int = 0           # epochs since the validation loss last fell
    start: int = 1          # the next epoch to run
    best: object = None     # the best epoch's TrainState (patience only)

    def end_epoch(self, record: dict, state, patience: int | None, has_val: bool) -> tuple[bool, bool]:
        """Add ``record`` to the history and track the best epoch; returns (improved, stop)."""
        self.history.append(record)
        if has_val and not record["val_loss"] < self.best_val:
            self.wait += 1
            return False, patience is not None and self.wait >= patience
        self.best_val = record["val_loss"] if has_val else self.best_val
        self.best_epoch, self.wait = record["epoch"], 0
        if patience is not None:
            self.best = jax.tree.map(jnp.copy, state)  # the next step donates state's buffers
        return True, False

    def extra(self, epoch: int, stopped: bool) -> dict:
        return {"epoch": epoch, "history": self.history, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped": stopped, "best_val": None if self.best_val == math.inf else self.best_val}


class RunFiles:
    """The files of a run in ``out_dir`` (nothing is written when it is None)."""

    def __init__(self, out_dir, metadata: dict | None, tensorboard: bool):
        self.out_dir, self.metadata = out_dir, metadata
        self.board = None
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
            if tensorboard and _report.is_writer():
                self.board = _report.TensorBoard(os.path.join(out_dir, _report.TENSORBOARD_DIR))

    def path(self, name: str):
        return None if self.out_dir is None else os.path.join(self.out_dir, name)

    def restore(self, state, *, resume: bool, given: bool, epochs: int):
        """``(state, RunProgress)`` to continue from: checkpoint.msgpack's when ``resume`` and it exists (its
        state, or ``state`` itself when ``given`` — then it must be at the checkpoint's step), else a new run."""
        progress = RunProgress()
        if self.out_dir is None:
            return state, progress
        ckpt = self.path(CHECKPOINT)
        if resume and os.path.exists(ckpt):
            restored, extra = load_checkpoint(ckpt, state)
            if given and int(restored.step) != int(state.step):
                raise ValueError(f"state is at step {int(state.step)}, but {ckpt} is at step {int(restored.step)}: "
                                 "to resume from a state pass the one restored from that checkpoint "
                                 "(load_checkpoint), or pass resume=False to start a new run from it")
            state = state if given else restored
            progress = RunProgress(extra["history"], extra["best_epoch"],
                                   math.inf if extra["best_val"] is None else extra["best_val"], extra["wait"],
                                   epochs + 1 if extra.get("stopped") else extra["epoch"] + 1)
            if os.path.exists(self.path(BEST)):
                progress.best, _ = load_checkpoint(self.path(BEST), state)
        _same_on_every_process(progress.start, "the epoch to resume from (is out_dir on a file system every "
                                               "process sees?)")
        if _report.is_writer():  # rewritten: a resumed run keeps one line per epoch
            _report.write_jsonl(self.path(METRICS), progress.history)
        return state, progress

    def end_epoch(self, record: dict, state, progress: RunProgress, *, improved: bool, stop: bool) -> None:
        """best.msgpack when the epoch improved (patience), the metrics line, checkpoint.msgpack, TensorBoard."""
        if self.out_dir is not None:
            if improved and progress.best is not None:
                self._save(BEST, progress.best, None)
            if _report.is_writer():
                _report.append_jsonl(self.path(METRICS), record)
            self._save(CHECKPOINT, state, progress.extra(record["epoch"], stop))
        if self.board is not None:
            self.board.write(record)

    def last_good(self, first_epoch_of_run: bool) -> str:
        """The sentence a NonFiniteLossError ends with: what checkpoint.msgpack holds now."""
        if self.out_dir is None:
            return ""
        if first_epoch_of_run:
            return f" No checkpoint was written ({self.path(CHECKPOINT)} holds no epoch of this run)."
        return f" The last good checkpoint ({self.path(CHECKPOINT)}) is kept."

    def close(self, history: list) -> None:
        if self.board is not None:
            self.board.close()
        if self.out_dir is not None and history and _report.is_writer():
            _report.plot_curves(history, self.path(CURVES))

    def _save(self, name: str, state, extra) -> None:
        """One writer (process 0), then every process waits for the file: no two processes write one path."""
        try:
            if _report.is_writer():
                save_checkpoint(self.path(name), state, extra, metadata=self.metadata)
        finally:
            _barrier(f"jaxdl checkpoint {name}")


def _barrier(name: str) -> None:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils  # noqa: PLC0415

        multihost_utils.sync_global_devices(name)


def _same_on_every_process(value: int, what: str) -> None:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils  # noqa: PLC0415

        multihost_utils.assert_equal(np.int32(value), f"processes disagree on {what}")
