"""BatchNorm1d, BatchNorm2d and BatchNorm3d, as torch.nn's, with their buffers in ``state`` (torch's state_dict
names)."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.checks import check_size, upcast_half
from jaxdl.nn._module import Module, module


def running_stats(num_features: int, dtype) -> dict:
    """torch's _NormBase buffers: running_mean (zeros), running_var (ones), num_batches_tracked (0, int64)."""
    return {"running_mean": jnp.zeros((num_features,), dtype), "running_var": jnp.ones((num_features,), dtype),
            "num_batches_tracked": jnp.zeros((), jax.dtypes.canonicalize_dtype(jnp.int64))}


@module
class _BatchNorm(Module):
    """torch's _BatchNorm(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True).

    params: weight (ones) when affine, bias (zeros) when affine and bias. state: running_mean (zeros),
    running_var (ones), num_batches_tracked (0) when track_running_stats. momentum=None is the cumulative average
    (factor 1/num_batches_tracked). Differs from flax: torch's momentum convention and unbiased running var.
    """

    _input_ndims = ()  # the input ranks a subclass accepts (a class attribute, not a field)

    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True
    _: dataclasses.KW_ONLY
    bias: bool = True

    def __post_init__(self):
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
        name = type(self).__name__
        if jnp.ndim(input) not in self._input_ndims:
            expected = " or ".join(f"{d}D" for d in self._input_ndims)
            raise ValueError(f"{name}: expected {expected} input (got {jnp.ndim(input)}D input)")
        if jnp.shape(input)[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): expected input with {self.num_features} channels "
                             f"at dim 1; got shape {jnp.shape(input)}")
        use_batch_stats = training or not self.track_running_stats
        if not self.track_running_stats:
            out, _, _ = F.batch_norm(input, None, None, params.get("weight"), params.get("bias"),
                                     True, 0.0, self.eps)
            return out, state
        if not training:
            out, _, _ = F.batch_norm(input, state["running_mean"], state["running_var"], params.get("weight"),
                                     params.get("bias"), False, 0.0, self.eps)
            return out, state
        assert use_batch_stats
        tracked = state["num_batches_tracked"] + 1
        # momentum=None: torch's factor 1/num_batches_tracked is a Python float, never rounded to a half dtype
        factor = (1.0 / tracked.astype(upcast_half(input)[0].dtype) if self.momentum is None
                  else self.momentum)
        out, mean, var = F.batch_norm(input, state["running_mean"], state["running_var"], params.get("weight"),
                                      params.get("bias"), True, factor, self.eps)
        return out, {"running_mean": mean, "running_var": var, "num_batches_tracked": tracked}


@module
class BatchNorm1d(_BatchNorm):
    """torch.nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True)
    on (N, C) or (N, C, L): statistics over every dim but C (see _BatchNorm for params and state)."""

    _input_ndims = (2, 3)


@module
class BatchNorm2d(_BatchNorm):
    """torch.nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True)
    on (N, C, H, W): statistics over N, H, W per channel (see _BatchNorm for params and state)."""

    _input_ndims = (4,)


@module
class BatchNorm3d(_BatchNorm):
    """torch.nn.BatchNorm3d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True)
    on (N, C, D, H, W): statistics over N, D, H, W per channel (see _BatchNorm for params and state)."""

    _input_ndims = (5,)
