"""Negative log-likelihood losses for regression, as torch.nn.functional defines them: poisson_nll_loss
and gaussian_nll_loss (torch/_refs/nn/functional and torch/nn/functional.py).

input, target (and var) broadcast against each other, as torch's; poisson_nll_loss computes integer inputs in
float32, as torch's.
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.checks import broadcast, check_floating, check_reduction, concrete_values, promote, promote_to_float
from jaxdl.functional._distance import value_with_gradient_of
from jaxdl.functional._reduction import reduce


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                     reduction: str = "mean"):
    """e^x − y·x (log_input) or x − y·log(x + eps), as torch.nn.functional.poisson_nll_loss.

    full=True adds the Stirling term y·log y − y + ½·log(2πy) where y > 1.

    Example:
      >>> round(float(poisson_nll_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 2.0]))), 4)
      0.8591
    """
    input, target = amp.cast("poisson_nll_loss", input, target)
    check_reduction("poisson_nll_loss", reduction)
    # torch computes in the promoted dtype, and integers in float32 (the float eps and exp promote them)
    input, target = (promote_to_float(a) for a in promote(input, target))
    input, target = broadcast("poisson_nll_loss", input=input, target=target)
    if log_input:
        loss = jnp.exp(input) - target * input
    else:
        loss = input - target * jnp.log(input + eps)
    if full:
        stirling = target * jnp.log(target) - target + 0.5 * jnp.log(2 * math.pi * target)
        loss = loss + jnp.where(target <= 1, 0.0, stirling)
    return reduce(loss, reduction)


def _gaussian_var(input, var):
    """torch's var shape rules: input's shape; input's shape without the last dim (unsqueezed); or the same
    ndim with mismatched dims whose var sizes sum to 1 (e.g. (N, 1) for (N, D))."""
    ishape, vshape = tuple(jnp.shape(input)), tuple(jnp.shape(var))
    if vshape == ishape:
        return var
    if ishape[:-1] == vshape:
        return jnp.expand_dims(var, -1)
    if len(ishape) == len(vshape) and sum(v for i, v in zip(ishape, vshape) if i != v) == 1:
        return var
    raise ValueError(f"gaussian_nll_loss: var is of incorrect size: {vshape} for input {ishape} (expected the "
                     f"input's shape, {ishape[:-1]}, or size 1 in one mismatched dim)")


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """½·(log max(var, eps) + (x − y)²/max(var, eps)) (+ ½·log 2π when full), as
    torch.nn.functional.gaussian_nll_loss. The clamp is torch's no_grad one: the gradient w.r.t. var is
    taken at the clamped value and passes through the clamp.

    Args:
      input, target: broadcast against each other. var: a float, input's shape, input's shape without the last dim, or
        broadcastable with one dim of size 1 (homoscedastic); entries ≥ 0.

    Example:
      >>> float(gaussian_nll_loss(jnp.array([1.0]), jnp.array([3.0]), jnp.array([2.0])))  # ½(log 2 + 2)
      1.3465735912322998
    """
    check_floating("gaussian_nll_loss", input)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var must be ≥ 0 everywhere; got {var}")
        var = var * jnp.ones_like(input)
    else:
        values = concrete_values(var)
        if values is not None and np.any(values < 0):
            raise ValueError(f"gaussian_nll_loss: var must be ≥ 0 everywhere; got a minimum of {values.min()}")
    var = _gaussian_var(input, var)
    check_reduction("gaussian_nll_loss", reduction)
    var = value_with_gradient_of(jnp.maximum(var, eps), var)
    input, target, var = broadcast("gaussian_nll_loss", input=input, target=target, var=var)
    loss = 0.5 * (jnp.log(var) + jnp.square(input - target) / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(loss, reduction)
