"""The one place that applies torch's ``reduction=``: 'none' | 'mean' | 'sum' (| 'batchmean'); the values and
their check are jaxdl.checks' REDUCTIONS, KL_REDUCTIONS and check_reduction.

torch: ``apply_loss_reduction`` in ATen's Loss.cpp.
"""
from __future__ import annotations

import jax.numpy as jnp


def pairwise_sum(x):
    """Σ x over every element, summed as a binary tree of float32 (or wider) additions: error O(log n) ulps, as
    torch's cascade sum of a loss (its reduction kernel). jnp.sum lets XLA merge this sum with the reduction that
    produced the loss (a loss's class sum) into one sequential accumulation: O(n) ulps, 10× torch's error on a
    768-term label-smoothed cross_entropy. float16/bfloat16 (and integers) keep jnp.sum, which accumulates
    float16/bfloat16 in float32."""
    x = jnp.asarray(x)
    return _tree_sum(x) if _tree_summed(x.dtype) else jnp.sum(x)


def _mean(x):
    """mean(x): ``pairwise_sum(x) / x.size``; float16/bfloat16 (and integers) keep jnp.mean, which keeps float32
    accumulation through the division (``jnp.sum(x) / n`` would round the sum to float16 first)."""
    x = jnp.asarray(x)
    return _tree_sum(x) / x.size if _tree_summed(x.dtype) else jnp.mean(x)


def _tree_summed(dtype) -> bool:
    """Whether ``pairwise_sum`` sums a ``dtype`` array as a tree: float32 and wider floats."""
    return jnp.issubdtype(dtype, jnp.floating) and jnp.dtype(dtype) not in (jnp.float16, jnp.bfloat16)


def _tree_sum(x):
    x = jnp.ravel(x)
    while x.shape[0] > 1:
        if x.shape[0] % 2:
            x = jnp.concatenate([x, jnp.zeros((1,), x.dtype)])
        x = x[0::2] + x[1::2]
    return x[0] if x.shape[0] else jnp.zeros((), x.dtype)


def reduce(loss, reduction: str, *, denominator=None):
    """Apply ``reduction`` to an unreduced loss.

    'none' → loss; 'sum' → Σ loss; 'mean' → Σ loss / denominator when one is given (torch's weighted
    means, e.g. Σ w_{y_i} for nll_loss), else mean(loss); 'batchmean' → Σ loss / loss.shape[0]
    (Σ loss for a 0-d loss, as torch's kl_div).
    """
    if reduction == "none":
        return loss
    if reduction == "sum":
        return pairwise_sum(loss)
    if reduction == "mean":
        return _mean(loss) if denominator is None else pairwise_sum(loss) / denominator
    if reduction == "batchmean":  # torch (F.kl_div): a 0-d input has no batch dimension, so it is the sum
        return pairwise_sum(loss) if jnp.ndim(loss) == 0 else pairwise_sum(loss) / jnp.shape(loss)[0]
    raise ValueError(f"unknown reduction {reduction!r}")  # unreachable after check_reduction
