"""Gradient accumulation over micro-batches, as torch's repeated ``backward()`` then one ``step()``."""
from __future__ import annotations

import optax

from jaxdl import checks as V
from jaxdl.optim._transform import standard_promotion


def accumulate_gradients(optimizer: optax.GradientTransformation, every_k: int, reduction: str = "sum"
                         ) -> optax.GradientTransformation:
    """Apply ``optimizer`` once every ``every_k`` updates to the accumulated gradients (``optax.MultiSteps``).

    reduction='sum' is torch's ``.grad`` accumulation: k calls of ``loss.backward()`` then ``step()``.
    reduction='mean' equals torch when each micro-batch loss is divided by k (``(loss / k).backward()``),
    the usual recipe. Differs from ``optax.MultiSteps``: it averages by default and accumulates in
    float32 always; here the sum is the default and the gradients' dtype is kept. Updates between steps
    are zeros; the inner count (so its schedule) advances once per real step, as torch's scheduler would.
    Torch clips the accumulated ``.grad`` once, before ``step()``: put clipping inside, as
    ``accumulate_gradients(optax.chain(clip_grad_norm(1.0), opt), k)``; outside it would clip each micro-batch.

    Args:
      optimizer: e.g. ``optim.adamw(...)``. every_k: micro-batches per step (≥ 1). reduction: 'sum' or 'mean'.
    """
    V.check_positive_int("every_k", every_k)
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    # accumulator_dtype=None: accumulate in the gradients' dtype (optax's default is float32).
    return standard_promotion(optax.MultiSteps(optimizer, every_k_schedule=every_k, use_grad_mean=reduction == "mean",
                                               accumulator_dtype=None).gradient_transformation())
