"""What users see: a tqdm bar per epoch, metrics as JSON lines, a PNG of the curves, optionally TensorBoard.

Under several processes (``jax.distributed``) only process 0 shows the bar and writes these files: every
process holds the same replicated values, and two writers of one file would interleave their lines.
"""
from __future__ import annotations

import json
import math
import os

import jax

TENSORBOARD_DIR = "tensorboard"


def is_writer() -> bool:
    """Process 0 writes the files and shows the bar (``jax.process_index() == 0``; always true in one process)."""
    return jax.process_index() == 0


def progress_bar(epoch: int, epochs: int, steps: int, enabled: bool):
    """A tqdm bar for one epoch (``total`` = steps); a no-op object when ``enabled`` is False or not process 0
    (then tqdm is not imported: ``progress=False`` runs where only jax, flax, optax and numpy are installed)."""
    if not (enabled and is_writer()):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=f"epoch {epoch}/{epochs}", unit="step", leave=True)


class _NoBar:
    """What fit calls on a bar, doing nothing."""

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def _clean(value):
    """JSON has no NaN/inf: write them as null, so every line is valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def append_jsonl(path, record: dict) -> None:
    """Append one JSON object as a line (non-finite floats, also inside lists, written as null)."""
    with open(path, "a") as f:
        f.write(json.dumps({k: _clean(v) for k, v in record.items()}) + "\n")


def write_jsonl(path, records: list[dict]) -> None:
    """``path`` holding exactly ``records``, one per line (a resumed run rewrites the lines of its past epochs)."""
    open(path, "w").close()
    for record in records:
        append_jsonl(path, record)


class TensorBoard:
    """Scalars for TensorBoard with tensorboardX (the ``tensorboard`` extra): per-step loss/lr, per-epoch metrics."""

    def __init__(self, log_dir):
        try:
            from tensorboardX import SummaryWriter  # noqa: PLC0415
        except ImportError as err:
            raise ImportError("fit(tensorboard=True) needs tensorboardX: pip install 'jaxdl[tensorboard]'") from err
        self.writer = SummaryWriter(log_dir=os.fspath(log_dir))

    def write(self, record: dict) -> None:
        first = record["step"] - len(record["step_loss"]) + 1
        for i, loss in enumerate(record["step_loss"]):
            self.writer.add_scalar("train/step_loss", loss, first + i)
            if record.get("step_lr") is not None:
                self.writer.add_scalar("train/lr", record["step_lr"][i], first + i)
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "ema_val_loss", "ema_val_acc", "examples_per_s"):
            if record.get(key) is not None:
                self.writer.add_scalar(f"epoch/{key}", record[key], record["epoch"])
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def plot_curves(history: list[dict], path) -> None:
    """Save train/validation loss (and accuracy, when present) per epoch as a PNG (matplotlib, Agg backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [h["epoch"] for h in history]
    panels = [("loss", "train_loss", "val_loss")]
    if any(h.get("train_acc") is not None for h in history):
        panels.append(("accuracy", "train_acc", "val_acc"))
    fig = Figure(figsize=(5 * len(panels), 3.5))
    FigureCanvasAgg(fig)  # attaches the Agg canvas without touching pyplot's global state
    for i, (title, train_key, val_key) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for key, label in ((train_key, "train"), (val_key, "validation"), (f"ema_{val_key}", "validation (EMA)")):
            ys = [h.get(key) for h in history]
            if any(y is not None for y in ys):
                ax.plot(epochs, [math.nan if y is None else y for y in ys], marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
