"""Weight averaging as ``torch.optim.swa_utils``: EMA and SWA averages of params (and buffers), and SWALR.

torch's ``AveragedModel`` is a module holding a deep copy of the model; here it is a pure value,
``AveragedModel(params, buffers, n_averaged)``: ``averaged_model(params, buffers)`` makes it (torch's
constructor), ``update_parameters(avg, params, buffers)`` returns the next one (torch's
``update_parameters(model)``). The first update copies the model, each later one applies the averaging
function with the count of models already averaged; with ``use_buffers=False`` the buffers (BatchNorm's running
statistics) are copied from the model, with ``use_buffers=True`` they are averaged with the params.
``update_bn`` (recomputing BatchNorm statistics for the averaged weights) needs jaxdl.nn: it is
``jaxdl.train.update_bn``.

    >>> import jax.numpy as jnp
    >>> from jaxdl.optim import swa_utils
    >>> avg = swa_utils.averaged_model({"w": jnp.zeros(2)})
    >>> for w in (1.0, 2.0, 6.0):
    ...     avg = swa_utils.update_parameters(avg, {"w": jnp.full(2, w)})
    >>> avg.params["w"].tolist(), int(avg.n_averaged)
    ([3.0, 3.0], 3)
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxdl import checks as V
from jaxdl.optim._lr_scheduler_common import check_common, epoch, frozen

__all__ = ["AveragedModel", "averaged_model", "update_parameters", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn", "SWALR"]


class AveragedModel(NamedTuple):
    """The averaged params and buffers (a tree, ``{}`` for none) and ``n_averaged`` (int32; torch: long)."""

    params: Any
    buffers: Any
    n_averaged: jax.Array


def _check_decay(decay):
    v = V.concrete(decay)
    if v is not None and not 0.0 <= v <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerp(start, end, weight):
    """torch.lerp's kernel: start + w(end - start) for w < 0.5, else end - (end - start)(1 - w)."""
    diff = end - start
    w = jnp.asarray(weight, start.dtype)
    return jnp.where(w < 0.5, start + w * diff, end - diff * (1 - w))


def _is_float(x) -> bool:
    return jnp.issubdtype(x.dtype, jnp.inexact)


def _per_leaf(float_fn, int_fn):
    """Apply ``float_fn`` to floating leaves; integer leaves go through ``int_fn`` in float32 (torch's default
    dtype, which an integer tensor times a Python float takes), then are truncated back as torch's copy_."""
    def update(averaged, current, num_averaged):
        def leaf(a, c):
            if _is_float(a):
                return float_fn(a, c, num_averaged)
            f32 = jnp.float32
            return int_fn(a.astype(f32), c.astype(f32), jnp.asarray(num_averaged, f32)).astype(a.dtype)
        return jax.tree.map(leaf, averaged, current)
    return update


def get_ema_multi_avg_fn(decay=0.999) -> Callable:
    """EMA over whole trees, as torch's: W ← lerp(W, W_model, 1 - decay) (``torch._foreach_lerp_``); integer
    buffers (num_batches_tracked) W·decay + W_model·(1 - decay), truncated to the integer dtype as torch's copy_."""
    _check_decay(decay)
    return _per_leaf(lambda a, c, n: _lerp(a, c, 1 - decay),
                     lambda a, c, n: a * decay + c * (1 - decay))


def get_swa_multi_avg_fn() -> Callable:
    """The running mean over whole trees, as torch's (its path on foreach devices, e.g. CUDA):
    W ← lerp(W, W_model, 1/(n + 1)), the weight rounded to float32 as torch's; integer buffers
    W + (W_model - W)/(n + 1), truncated."""
    # torch's weight 1 / (n_averaged + 1) of a long tensor is a float32 (default dtype) tensor, for any params
    return _per_leaf(lambda a, c, n: _lerp(a, c, jnp.float32(1) / jnp.asarray(n + 1).astype(jnp.float32)), _swa)


def get_ema_avg_fn(decay=0.999) -> Callable:
    """EMA per tensor, as torch's: decay·W + (1 - decay)·W_model."""
    _check_decay(decay)
    return lambda a, c, n: decay * a + (1 - decay) * c


def _as(n, like):
    return jnp.asarray(n).astype(like.dtype)


def _swa(a, c, n):
    return a + (c - a) / _as(n + 1, a)


def get_swa_avg_fn() -> Callable:
    """The running mean per tensor, as torch's: W + (W_model - W)/(n + 1)."""
    return _swa


def averaged_model(params, buffers=None) -> AveragedModel:
    """torch's ``AveragedModel(model)``: a copy of the model's params (and buffers), ``n_averaged = 0``."""
    copy = jax.tree.map(jnp.array, (params, {} if buffers is None else buffers))
    return AveragedModel(*copy, jnp.zeros([], jnp.int32))


def update_parameters(avg: AveragedModel, params, buffers=None, *, avg_fn=None, multi_avg_fn=None,
                      use_buffers=False) -> AveragedModel:
    """torch's ``AveragedModel.update_parameters(model)``, pure: the model is (params, buffers).

    n_averaged = 0: copy the model; else ``multi_avg_fn(avg_tree, model_tree, n)`` over the tree, or
    ``avg_fn(avg_leaf, model_leaf, n)`` per leaf; neither: ``get_swa_avg_fn`` (torch's path on CPU; on CUDA
    torch takes ``get_swa_multi_avg_fn``, which rounds as lerp). Buffers are averaged too with
    ``use_buffers=True``, else copied from the model. Jittable: n_averaged may be traced.
    """
    if avg_fn is not None and multi_avg_fn is not None:
        raise ValueError("Only one of avg_fn and multi_avg_fn should be provided")
    buffers = {} if buffers is None else buffers
    n = avg.n_averaged
    if multi_avg_fn is None:
        one = avg_fn or get_swa_avg_fn()
        multi_avg_fn = _per_leaf(one, one)

    def average(old, new):
        updated = multi_avg_fn(old, new, n)
        return jax.tree.map(lambda a, c, u: jnp.where(n == 0, c, u).astype(a.dtype), old, new, updated)

    new_params = average(avg.params, params)
    new_buffers = average(avg.buffers, buffers) if use_buffers else jax.tree.map(jnp.asarray, buffers)
    return AveragedModel(new_params, new_buffers, n + 1)


def _cos_anneal(t):
    return (1 - jnp.cos(math.pi * t)) / 2


@frozen
class SWALR:
    """swa_lr·α + lr·(1 - α), α = anneal(t), t = min(1, epoch / max(1, anneal_epochs)), as ``SWALR``.

    anneal "cos": α = (1 - cos πt)/2; "linear": α = t. anneal_epochs = 0: swa_lr from the first update (torch
    counts its epoch from 1 then). torch recovers the pre-annealing lr from the group's current lr each step;
    here it is the first field, ``lr`` (the same value, up to the last bit of rounding).
    """

    lr: float
    swa_lr: float
    anneal_epochs: int = 10
    anneal_strategy: str = "cos"
    steps_per_epoch: int = 1

    def __post_init__(self):
        check_common(self.lr, self.steps_per_epoch)
        V.check_lr(self.swa_lr, "swa_lr")
        if self.anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {self.anneal_strategy}")
        if isinstance(self.anneal_epochs, bool) or not isinstance(self.anneal_epochs, int) or self.anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {self.anneal_epochs}")

    def __call__(self, count):
        step = epoch(count, self.steps_per_epoch)
        if self.anneal_epochs == 0:
            step = jnp.maximum(1.0, step)
        t = jnp.clip(step / max(1, self.anneal_epochs), 0.0, 1.0)
        alpha = _cos_anneal(t) if self.anneal_strategy == "cos" else t
        return self.swa_lr * alpha + self.lr * (1 - alpha)
