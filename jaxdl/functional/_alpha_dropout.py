"""Alpha dropout, as torch.nn.functional.alpha_dropout / feature_alpha_dropout, with an explicit PRNG key.

torch's ``_dropout_impl`` with ``alpha_dropout``: a kept element becomes a·x, a dropped one a·α·(p − 1) + a·α·p,
with α = 1.7580993408473766 (SELU's −λ·α) and a = 1/√((α²p + 1)(1 − p)), so that zero-mean unit-variance inputs
keep their mean and variance. The mask and the affine terms are formed in the input's dtype in torch's order.
``inplace=`` is accepted and has no effect (checks.check_inplace).
"""
from __future__ import annotations

import math

import jax.numpy as jnp

from jaxdl.checks import check_inplace, check_probability
from jaxdl.functional._bernoulli import bernoulli
from jaxdl.functional._dropout import MISSING_KEY_MSG

ALPHA = 1.7580993408473766


def _alpha_dropout(name: str, input, p: float, training: bool, inplace: bool, key, feature: bool):
    check_probability(name, p)
    check_inplace(name, inplace)
    x = jnp.asarray(input)
    if p == 0 or not training or x.size == 0:
        return x
    if p == 1:
        return x * 0.0
    if feature and x.ndim < 2:
        raise ValueError(f"{name}: feature dropout needs at least 2 dimensions (N, C, ...); got a {x.ndim}-D input")
    if key is None:
        raise ValueError(MISSING_KEY_MSG.format(name=name))
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if feature else x.shape
    noise = bernoulli(key, 1.0 - p, shape).astype(x.dtype)
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    b = (noise - 1) * (ALPHA * a) + ALPHA * a * p  # torch: noise.add(-1).mul_(alpha * a).add_(alpha * a * p)
    return x * (noise * a) + b


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False, *, key=None):
    """Alpha dropout of each element with probability p, as torch.nn.functional.alpha_dropout (note torch's
    default training=False); p=0, training=False or an empty input return the input, p=1 returns input·0.

    Args:
      key: a jax.random key; required when training and 0 < p < 1.
    """
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, key, feature=False)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False, *, key=None):
    """Alpha dropout of whole channels (one draw per (N, C), shared over the other dims), as
    torch.nn.functional.feature_alpha_dropout (default training=False, as torch).

    Args:
      input: (N, C, ...), at least 2-D when training.
      key: a jax.random key; required when training and 0 < p < 1.
    """
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, key, feature=True)
