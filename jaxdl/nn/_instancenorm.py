"""InstanceNorm1d, InstanceNorm2d and InstanceNorm3d, as torch.nn (torch/nn/modules/instancenorm.py)."""
from __future__ import annotations

import dataclasses
import warnings

import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_size
from jaxdl.nn._batchnorm import running_stats
from jaxdl.nn._module import Module, module


@module
class _InstanceNorm(Module):
    """torch's _InstanceNorm(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *,
    bias=True) over inputs with ``_n`` spatial dims, batched (N, C, *S) or unbatched (C, *S).

    Each (sample, channel) is normalised over its spatial positions. params: weight (ones), and bias (zeros)
    unless bias=False, when affine. state: running_mean, running_var, num_batches_tracked when
    track_running_stats (torch's InstanceNorm never increments num_batches_tracked, and momentum=None means 0,
    not a cumulative average); eval then uses the running stats.
    """

    _n = 0  # spatial dims (a class attribute, not a field)

    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = False
    track_running_stats: bool = False
    _: dataclasses.KW_ONLY
    bias: bool = True

    def __post_init__(self):
        if self.affine or self.track_running_stats:  # torch sizes nothing by num_features otherwise
            check_size(type(self).__name__, "num_features", self.num_features)

    def init(self, key, dtype=jnp.float32):
        c = self.num_features
        params = {}
        if self.affine:
            params["weight"] = jnp.ones((c,), dtype)
            if self.bias:
                params["bias"] = jnp.zeros((c,), dtype)
        return params, running_stats(c, dtype) if self.track_running_stats else {}

    def apply(self, params, state, input, *, training=False, key=None):
        name, ndim, n = type(self).__name__, jnp.ndim(input), self._n
        if ndim not in (n + 1, n + 2):
            raise ValueError(f"{name}: expected {n + 1}D or {n + 2}D input (got {ndim}D input)")
        feature_dim = ndim - n - 1
        if jnp.shape(input)[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {jnp.shape(input)[feature_dim]}.")
            warnings.warn(f"{name}: num_features={self.num_features} differs from the input's "
                          f"{jnp.shape(input)[feature_dim]} channels (dim {feature_dim}); with affine=False it is "
                          "unused, so this only warns", UserWarning, stacklevel=2)
        unbatched = ndim == n + 1
        x = input[None] if unbatched else input  # (C, *S) -> (1, C, *S)
        out, mean, var = F.instance_norm(x, state.get("running_mean"), state.get("running_var"),
                                         params.get("weight"), params.get("bias"),
                                         training or not self.track_running_stats,
                                         self.momentum if self.momentum is not None else 0.0, self.eps)
        if self.track_running_stats:
            state = {**state, "running_mean": mean, "running_var": var}
        return (out[0] if unbatched else out), state


@module
class InstanceNorm1d(_InstanceNorm):
    """torch.nn.InstanceNorm1d(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *,
    bias=True) on (N, C, L) or unbatched (C, L); see _InstanceNorm."""

    _n = 1


@module
class InstanceNorm2d(_InstanceNorm):
    """torch.nn.InstanceNorm2d(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *,
    bias=True) on (N, C, H, W) or unbatched (C, H, W); see _InstanceNorm."""

    _n = 2


@module
class InstanceNorm3d(_InstanceNorm):
    """torch.nn.InstanceNorm3d(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *,
    bias=True) on (N, C, D, H, W) or unbatched (C, D, H, W); see _InstanceNorm."""

    _n = 3
