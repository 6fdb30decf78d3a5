"""The one place that applies torch's ``reduction=``: 'none' | 'mean' | 'sum' (| 'batchmean'); the values and
their check are jaxdl.checks' REDUCTIONS, KL_REDUCTIONS and check_reduction.

torch: ``apply_loss_reduction`` in ATen's Loss.cpp.
"""
from __future__ import annotations

import jax.numpy as jnp

def reduce(loss, reduction: str, *, denominator=None):
    """Apply ``reduction`` to an unreduced loss.

    'none' → loss; 'sum' → Σ loss; 'mean' → Σ loss / denominator when one is given (torch's weighted
    means, e.g. Σ w_{y_i} for nll_loss), else mean(loss); 'batchmean' → Σ loss / loss.shape[0]
    (Σ loss for a 0-d loss, as torch's kl_div).
    """
    if reduction == "none":
        return loss
    if reduction == "sum":
        return jnp.sum(loss)
    if reduction == "mean":
        return jnp.mean(loss) if denominator is None else jnp.sum(loss) / denominator
    if reduction == "batchmean":  # torch (F.kl_div): a 0-d input has no batch dimension, so it is the sum
        return jnp.sum(loss) if jnp.ndim(loss) == 0 else jnp.sum(loss) / jnp.shape(loss)[0]
    raise ValueError(f"unknown reduction {reduction!r}")  # unreachable after check_reduction
