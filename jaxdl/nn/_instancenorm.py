"""InstanceNorm2d, as torch.nn.InstanceNorm2d (torch/nn/modules/instancenorm.py)."""
from __future__ import annotations

import warnings

import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_size
from jaxdl.nn._batchnorm import running_stats
from jaxdl.nn._module import Module, module


@module
class InstanceNorm2d(Module):
    """torch.nn.InstanceNorm2d(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False).

    Each (sample, channel) is normalised over H, W. params: weight (ones) and bias (zeros) when affine. state:
    running_mean, running_var, num_batches_tracked when track_running_stats (torch's InstanceNorm never
    increments num_batches_tracked, and momentum=None means 0, not a cumulative average); eval then uses the
    running stats. Input (N, C, H, W) or unbatched (C, H, W).
    """

    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = False
    track_running_stats: bool = False

    def __post_init__(self):
        if self.affine or self.track_running_stats:  # torch sizes nothing by num_features otherwise
            check_size("InstanceNorm2d", "num_features", self.num_features)

    def init(self, key, dtype=jnp.float32):
        c = self.num_features
        params = {"weight": jnp.ones((c,), dtype), "bias": jnp.zeros((c,), dtype)} if self.affine else {}
        return params, running_stats(c, dtype) if self.track_running_stats else {}

    def apply(self, params, state, input, *, training=False, key=None):
        ndim = jnp.ndim(input)
        if ndim not in (3, 4):
            raise ValueError(f"InstanceNorm2d: expected 3D or 4D input (got {ndim}D input)")
        feature_dim = ndim - 3
        if jnp.shape(input)[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"InstanceNorm2d: expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {jnp.shape(input)[feature_dim]}.")
            warnings.warn(f"InstanceNorm2d: num_features={self.num_features} differs from the input's "
                          f"{jnp.shape(input)[feature_dim]} channels (dim {feature_dim}); with affine=False it is "
                          "unused, so this only warns", UserWarning, stacklevel=2)
        x = input[None] if ndim == 3 else input  # unbatched (C, H, W) -> (1, C, H, W)
        out, mean, var = F.instance_norm(x, state.get("running_mean"), state.get("running_var"),
                                         params.get("weight"), params.get("bias"),
                                         training or not self.track_running_stats,
                                         self.momentum if self.momentum is not None else 0.0, self.eps)
        if self.track_running_stats:
            state = {**state, "running_mean": mean, "running_var": var}
        return (out[0] if ndim == 3 else out), state
