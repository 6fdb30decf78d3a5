"""LinearCrossEntropyLoss, as torch.nn.LinearCrossEntropyLoss (torch/nn/modules/loss.py, torch 2.13)."""
from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from jaxdl import functional as F
from jaxdl.checks import check_reduction
from jaxdl.nn._linear import Linear
from jaxdl.nn._loss import _freeze
from jaxdl.nn._module import Module, module


@module
class LinearCrossEntropyLoss(Module):
    """torch.nn.LinearCrossEntropyLoss(in_features, num_classes, *, out_features=(), bias=False, reduction='mean',
    weight=None, ignore_index=None, label_smoothing=0.0, options=None).

    loss = F.linear_cross_entropy(input, W, target, linear_bias=b, weight=weight, ...) with the head of a
    ``Linear(in_features, num_classes·∏out_features, bias)`` reshaped to W (C, *out_features, in_features) and
    b (C, *out_features), as torch's forward. Parameters ``linear.weight`` (and ``linear.bias``), flat, with Linear's
    initialisation; the class ``weight`` is a buffer ``weight`` in ``state`` (torch registers it as one; kept in the
    spec as nested floats so the spec stays hashable). ``apply(params, state, input, target)`` returns
    ``(loss, state)``.

    ``options`` (torch's chunked kernel, the same values) must stay None, as in F.linear_cross_entropy: under jit
    XLA fuses the head and the loss itself.
    """

    in_features: int
    num_classes: int
    _: dataclasses.KW_ONLY
    out_features: tuple = ()
    bias: bool = False
    reduction: str = "mean"
    weight: object = None
    ignore_index: int | None = None
    label_smoothing: float = 0.0
    options: None = None

    def __post_init__(self):
        name = type(self).__name__
        object.__setattr__(self, "out_features", tuple(int(d) for d in self.out_features))
        object.__setattr__(self, "weight", _freeze(self.weight))
        if self.weight is not None and np.shape(self.weight) != (self.num_classes,):
            raise ValueError(f"{name}: expected weight shape to be {(self.num_classes,)}, got "
                             f"{np.shape(self.weight)}")
        if not 0.0 <= self.label_smoothing <= 1.0:
            raise ValueError(f"{name}: expected label_smoothing to be in range [0, 1], got {self.label_smoothing}")
        check_reduction(name, self.reduction)
        if self.options is not None:
            raise ValueError(f"{name}: options (torch's chunked kernel) is not supported; pass None, jaxdl computes "
                             f"the reference formula")

    @property
    def linear(self) -> Linear:
        return Linear(self.in_features, math.prod(self.out_features, start=self.num_classes), bias=self.bias)

    def _children(self):
        return (("linear", self.linear),)

    def init(self, key, dtype=jnp.float32):
        params, state = {"linear": self.linear.init(key, dtype)[0]}, {"linear": {}}
        if self.weight is not None:
            state["weight"] = jnp.asarray(self.weight, dtype)
        return params, state

    def apply(self, params, state, input, target, *, training=False, key=None):
        p = params["linear"]
        head = (self.num_classes, *self.out_features)
        bias = None if "bias" not in p else jnp.reshape(p["bias"], head)
        loss = F.linear_cross_entropy(input, jnp.reshape(p["weight"], (*head, self.in_features)), target,
                                      linear_bias=bias, weight=state.get("weight"), reduction=self.reduction,
                                      ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)
        return loss, state
