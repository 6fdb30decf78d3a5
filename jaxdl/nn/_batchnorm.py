"""BatchNorm1d, as torch.nn.BatchNorm1d, with its buffers in ``state``."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class BatchNorm1d(Module):
    """torch.nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True).

    params: weight (ones) when affine, bias (zeros) when affine and bias. state: running_mean (zeros), running_var (ones),
    num_batches_tracked (0) when track_running_stats. momentum=None is the cumulative average
    (factor 1/num_batches_tracked). Differs from flax: torch's momentum convention and unbiased running var.
    Input (N, C) or (N, C, L).
    """

    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True
    _: dataclasses.KW_ONLY
    bias: bool = True

    def init(self, key, dtype=jnp.float32):
        c = self.num_features
        params = {}
        if self.affine:
            params["weight"] = jnp.ones((c,), dtype)
            if self.bias:
                params["bias"] = jnp.zeros((c,), dtype)
        state = {}
        if self.track_running_stats:
            state = {"running_mean": jnp.zeros((c,), dtype), "running_var": jnp.ones((c,), dtype),
                     "num_batches_tracked": jnp.zeros((), jax.dtypes.canonicalize_dtype(jnp.int64))}
        return params, state

    def apply(self, params, state, input, *, training=False, key=None):
        if jnp.ndim(input) not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D or 3D input (got {jnp.ndim(input)}D input)")
        if jnp.shape(input)[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}): expected input with {self.num_features} channels "
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
        factor = (1.0 / tracked.astype(jnp.promote_types(input.dtype, jnp.float32)) if self.momentum is None
                  else self.momentum)
        out, mean, var = F.batch_norm(input, state["running_mean"], state["running_var"], params.get("weight"),
                                      params.get("bias"), True, factor, self.eps)
        return out, {"running_mean": mean, "running_var": var, "num_batches_tracked": tracked}
