"""What users see: a tqdm bar per epoch, metrics as JSON lines, and a PNG of the loss/accuracy curves."""
from __future__ import annotations

import json
import math


def progress_bar(epoch: int, epochs: int, steps: int, enabled: bool):
    """A tqdm bar for one epoch (``total`` = steps); a no-op object when ``enabled`` is False."""
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=f"epoch {epoch}/{epochs}", unit="step", leave=True, disable=not enabled)


def append_jsonl(path, record: dict) -> None:
    """Append one JSON object as a line (non-finite floats written as null, so every line is valid JSON)."""
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
    with open(path, "a") as f:
        f.write(json.dumps(clean) + "\n")


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
        for key, label in ((train_key, "train"), (val_key, "validation")):
            ys = [h.get(key) for h in history]
            if any(y is not None for y in ys):
                ax.plot(epochs, [math.nan if y is None else y for y in ys], marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
