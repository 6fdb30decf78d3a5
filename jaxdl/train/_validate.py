"""Checks fit and sweep run before training starts: clear errors instead of failures mid-run."""
from __future__ import annotations

import jax
import numpy as np

from jaxdl import amp
from jaxdl.checks import check_positive_int
from jaxdl.optim import swa_utils
from jaxdl.train._checkpoint import json_text
from jaxdl.train._state import TrainState
from jaxdl.train._step import IGNORE_INDEX

MODES = ("scan", "loop")


def check_data(name: str, data):
    """``data`` must be a pair (x, y) of arrays with the same number of examples; returns numpy arrays."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name} must be a pair (x, y) of arrays; got {type(data).__name__}")
    x, y = np.asarray(data[0]), np.asarray(data[1])
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{name}: x and y need a leading example axis; got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{name}: x and y have different lengths: {len(x)} examples vs {len(y)} labels")
    if len(x) == 0:
        raise ValueError(f"{name} is empty")
    return x, y


def check_precision(precision, dtype) -> None:
    """precision is one of amp.PRECISIONS; mixed precision keeps float32 master weights, so dtype is float32."""
    if precision not in amp.PRECISIONS:
        raise ValueError(f"precision must be one of {amp.PRECISIONS}; got {precision!r}")
    if precision != "fp32" and np.dtype(dtype) != np.float32:
        raise ValueError(f"precision={precision!r} keeps float32 master weights: dtype must be float32; got "
                         f"{np.dtype(dtype).name}")


def check_mode(mode) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")


def check_fit(*, epochs, mode, patience, has_val, key, state, resume, out_dir, tensorboard, callbacks,
              metadata, ema_decay=None) -> tuple:
    """fit's arguments other than the data, checked before anything is built; returns the callbacks as a tuple."""
    check_positive_int("epochs", epochs)
    check_mode(mode)
    if patience is not None:
        check_positive_int("patience", patience)
        if not has_val:
            raise ValueError(f"patience={patience!r} needs val_data (it watches the validation loss)")
    if (key is None) == (state is None):
        raise ValueError("fit starts from key= (a new TrainState) or from state= (e.g. one restored from a "
                         "checkpoint): pass exactly one" + ("; got both" if key is not None else ""))
    if state is not None and not isinstance(state, TrainState):
        raise TypeError(f"state must be a jaxdl.train.TrainState; got {type(state).__name__}")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where checkpoint.msgpack lives)")
    if tensorboard and out_dir is None:
        raise ValueError("tensorboard=True needs out_dir (the events go to out_dir/tensorboard)")
    callbacks = tuple(callbacks)
    if not all(callable(c) for c in callbacks):
        raise TypeError(f"callbacks must be callables callback(record, state); got {callbacks!r}")
    json_text("metadata", metadata)  # a bad metadata dict fails now, not at the first checkpoint
    if ema_decay is not None:
        if isinstance(ema_decay, bool) or not isinstance(ema_decay, (int, float)):
            raise TypeError(f"ema_decay must be a float in [0, 1] or None; got {type(ema_decay).__name__}")
        swa_utils.get_ema_multi_avg_fn(ema_decay)  # torch's check of the decay
    return callbacks


def check_state_ema(state, ema_decay) -> None:
    """A state holds an EMA copy exactly when fit keeps one (ema_decay set)."""
    if ema_decay is not None and state.ema is None:
        raise ValueError(f"ema_decay={ema_decay!r} needs a state with an EMA copy: TrainState.create(..., ema=True) "
                         "or state.with_ema()")
    if ema_decay is None and state.ema is not None:
        raise ValueError("state holds an EMA copy but ema_decay is None: pass the run's ema_decay, or drop the copy "
                         "(state.replace(ema=None))")


def check_model_fits(model, state, loss_fn, x, y, batch_size: int) -> None:
    """Trace model and loss on one batch (no compute): output/loss mismatches and bad labels raise here."""
    xb = jax.ShapeDtypeStruct((batch_size, *x.shape[1:]), x.dtype)
    yb = jax.ShapeDtypeStruct((batch_size, *y.shape[1:]), y.dtype)
    try:
        out, _ = jax.eval_shape(lambda s, a: model.apply(s.params, s.model_state, a, training=False), state, xb)
    except (ValueError, TypeError) as err:
        raise ValueError(f"the model does not accept inputs of shape {xb.shape} ({x.dtype}): {err}") from err
    try:
        loss = jax.eval_shape(loss_fn, out, yb)
    except (ValueError, TypeError) as err:
        raise ValueError(f"the model's output of shape {out.shape} does not fit loss_fn "
                         f"{getattr(loss_fn, '__name__', loss_fn)} with targets of shape {yb.shape} ({y.dtype}): "
                         f"{err}") from err
    if loss.shape != ():
        raise ValueError(f"loss_fn must return a scalar; got shape {loss.shape} (use reduction='mean')")
    if np.issubdtype(y.dtype, np.integer) and tuple(out.shape[:-1]) == tuple(yb.shape):
        check_labels(y, out.shape[-1])


def check_labels(y, num_classes: int, ignore_index: int = IGNORE_INDEX) -> None:
    """Class labels must be in [0, num_classes) or equal torch's default ignore_index (-100)."""
    y = np.asarray(y)
    used = y[y != ignore_index]
    if used.size == 0:
        return
    lo, hi = int(used.min()), int(used.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}) for a model with {num_classes} outputs "
                         f"(or equal ignore_index={ignore_index}); got labels in [{lo}, {hi}]")
