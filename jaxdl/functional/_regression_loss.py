"""Regression and divergence losses, as torch.nn.functional defines them: mse_loss, l1_loss,
smooth_l1_loss, huber_loss, kl_div. torch: ``torch/nn/functional.py`` and ATen's ``Loss.cpp``.

Differs from torch: input and target must have the same shape. torch only warns and broadcasts (a (N, 1)
vs (N,) mix-up silently becomes an (N, N) loss); jaxdl raises ValueError at trace time. The deprecated
``size_average``/``reduce`` arguments are not supported: pass ``reduction``.
"""
from __future__ import annotations

import warnings

import jax.numpy as jnp
from jax.scipy.special import xlogy

from jaxdl import amp
from jaxdl.checks import KL_REDUCTIONS, check_floating, check_reduction, check_same_shape, promote
from jaxdl.functional._reduction import reduce

# torch warns on reduction='mean' too (torch/nn/functional.py kl_div); the same advice, in our words
KL_MEAN_WARNING = ("kl_div: reduction='mean' averages over every element (batch × support), which is not the "
                   "KL divergence; reduction='batchmean' sums and divides by the batch size only, as the "
                   "definition does, and torch plans to make 'mean' do the same")


def _check_pair(name: str, input, target, weight=None):
    """``(input, target)`` cast to their promoted dtype, as torch computes: an integer input with a float target
    is fine, two integers are not."""
    input, target = promote(input, target)
    check_floating(name, input, "the promoted dtype of input and target")
    check_same_shape(name, input=input, target=target, note=" (torch would broadcast with a warning; jaxdl refuses)")
    if weight is not None and tuple(jnp.shape(weight)) != tuple(jnp.shape(input)):
        raise ValueError(f"{name}: Weights and input must have the same size; got weight shape "
                         f"{tuple(jnp.shape(weight))} and input shape {tuple(jnp.shape(input))}")
    return input, target


def _abs(d):
    """|d| whose derivative at 0 is torch's sgn(0) = 0 (jnp.abs has derivative 1 there)."""
    return d * jnp.sign(d)


def _weighted(loss, weight, reduction: str, weighted_mean: bool):
    if weight is None:
        return reduce(loss, reduction)
    loss, weight = promote(loss, weight)
    loss = loss * weight
    return reduce(loss, reduction, denominator=jnp.sum(weight) if weighted_mean else None)


def mse_loss(input, target, reduction: str = "mean", weight=None):
    """Squared error (x − y)², as torch.nn.functional.mse_loss.

    With ``weight``: w·(x − y)², and 'mean' = Σ w(x − y)² / Σ w (torch's rule). Differs from
    optax.l2_loss, which is 0.5·(x − y)².

    Args:
      input, target: same shape. weight: same shape, or None.

    Example:
      >>> float(mse_loss(jnp.array([0.0, 0.5, 3.0]), jnp.zeros(3), reduction="sum"))
      9.25
    """
    input, target, weight = amp.cast("mse_loss", input, target, weight)
    check_reduction("mse_loss", reduction)
    input, target = _check_pair("mse_loss", input, target, weight)
    return _weighted(jnp.square(input - target), weight, reduction, weighted_mean=True)


def l1_loss(input, target, reduction: str = "mean", weight=None):
    """Absolute error |x − y|, as torch.nn.functional.l1_loss; the gradient at x = y is 0 (torch's sign(0)).

    With ``weight``: w·|x − y|, and 'mean' = Σ w|x − y| / Σ w (torch's rule).

    Args:
      input, target: same shape. weight: same shape, or None.

    Example:
      >>> float(l1_loss(jnp.array([0.0, 0.5, 3.0]), jnp.zeros(3), reduction="sum"))
      3.5
    """
    input, target, weight = amp.cast("l1_loss", input, target, weight)
    check_reduction("l1_loss", reduction)
    input, target = _check_pair("l1_loss", input, target, weight)
    return _weighted(_abs(input - target), weight, reduction, weighted_mean=True)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):
    """0.5·d²/β if |d| < β else |d| − 0.5·β with d = x − y, as torch.nn.functional.smooth_l1_loss.

    beta=0 is l1_loss. At |d| = β the gradient is sign(d), as in torch.

    Args:
      input, target: same shape. beta: ≥ 0.

    Example:
      >>> smooth_l1_loss(jnp.array([0.0, 0.5, 3.0]), jnp.zeros(3), reduction="none").tolist()
      [0.0, 0.125, 2.5]
    """
    input, target = amp.cast("smooth_l1_loss", input, target)
    check_reduction("smooth_l1_loss", reduction)
    input, target = _check_pair("smooth_l1_loss", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta; got beta={beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    d = jnp.abs(input - target)
    return reduce(jnp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5·d² if |d| < δ else δ·(|d| − 0.5·δ) with d = x − y, as torch.nn.functional.huber_loss.

    At |d| = δ the gradient is δ·sign(d), as in torch. With ``weight``, 'mean' = mean(w·ℓ) (torch's rule
    here, unlike mse_loss/l1_loss). Same as optax.huber_loss elementwise.

    Args:
      input, target: same shape. delta: > 0. weight: same shape, or None.

    Example:
      >>> huber_loss(jnp.array([0.0, 0.5, 3.0]), jnp.zeros(3), reduction="none", delta=2.0).tolist()
      [0.0, 0.125, 4.0]
    """
    input, target, weight = amp.cast("huber_loss", input, target, weight)
    check_reduction("huber_loss", reduction)
    check_floating("huber_loss", input)  # torch: an integer input raises even with a float target
    input, target = _check_pair("huber_loss", input, target, weight)
    if delta <= 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta; got delta={delta}")
    d = jnp.abs(input - target)
    loss = jnp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _weighted(loss, weight, reduction, weighted_mean=False)


def kl_div(input, target, reduction: str = "mean", log_target: bool = False):
    """Pointwise KL divergence p·(log p − input) with input = log q, as torch.nn.functional.kl_div.

    log_target=False: xlogy(p, p) − p·input (0 where p = 0); log_target=True: e^t·(t − input).
    'batchmean' = Σ / N is the true KL (Σ for a 0-d input, as torch); 'mean' divides by numel and warns, as
    torch does (KL_MEAN_WARNING).
    Differs from optax.kl_divergence: no reduction over an axis by default; input is log q.

    Args:
      input: log-probabilities, any shape ((N, *) for 'batchmean' divides by N).
      target: same shape; probabilities, or log-probabilities when log_target=True.

    Example:
      >>> q, p = jnp.array([[0.5, 0.5]]), jnp.array([[0.9, 0.1]])
      >>> round(float(kl_div(jnp.log(q), p, reduction="batchmean")), 4)  # KL(p ‖ q)
      0.3681
    """
    input, target = amp.cast("kl_div", input, target)
    check_reduction("kl_div", reduction, KL_REDUCTIONS)
    check_floating("kl_div", input)  # torch: "kl_div: Integral inputs not supported", for either argument
    check_floating("kl_div", target, "target")
    input, target = _check_pair("kl_div", input, target)
    if reduction == "mean":
        warnings.warn(KL_MEAN_WARNING, UserWarning, stacklevel=2)
    if log_target:
        loss = jnp.exp(target) * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    return reduce(loss, reduction)
