"""AdaptiveLogSoftmaxWithLoss, as torch.nn.AdaptiveLogSoftmaxWithLoss (torch/nn/modules/adaptive.py).

Grave et al.'s adaptive softmax: classes [0, cutoffs[0]) are the head's shortlist; cluster i holds classes
[cutoffs[i-1], cutoffs[i]) (the last ends at n_classes) and is one head entry. With head_lp = log_softmax(head(x))
  log p(c | x) = head_lp[c]                                                  c in the shortlist
  log p(c | x) = head_lp[shortlist + i] + log_softmax(tail[i](x))[c − low_i]   c in cluster i
tail[i] = Linear(in, ⌊in / div_value^(i+1)⌋, bias=False) then Linear(that, size_i, bias=False), as torch's.
"""
from __future__ import annotations

from collections import namedtuple

import jax.numpy as jnp
import numpy as np

from jaxdl import functional as F
from jaxdl.checks import check_traced, is_concrete
from jaxdl.nn._container import ModuleList, Sequential
from jaxdl.nn._linear import Linear
from jaxdl.nn._module import Module, check_params, module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])  # torch's name and fields


@module
class AdaptiveLogSoftmaxWithLoss(Module):
    """torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=4.0, head_bias=False).

    ``apply(params, state, input, target)`` returns ``(_ASMoutput(output, loss), state)``: output[n] = log p(target[n]
    | input[n]) (the formula in this module's docstring), loss = mean(−output); input (N, in) with target (N,), or
    (in,) with a 0-d target. ``log_prob(params, state, input)`` gives all n_classes log-probabilities (N, n_classes),
    ``predict(params, state, input)`` their argmax (N,), as torch's methods. Parameters as torch's:
    ``head.weight`` (shortlist + clusters, in) [and ``head.bias``], ``tail.i.0.weight``, ``tail.i.1.weight``,
    Linear's initialisation. ``cutoffs`` is kept as given (torch's attribute appends n_classes).

    Differs from torch in cost, not values: torch evaluates each cluster only on the rows whose target falls in
    it; under jit shapes are static, so jaxdl evaluates every cluster on every row and selects. A target outside
    [0, n_classes) raises when concrete; a traced one gives NaN there (``jaxdl.checks.validated`` raises).
    """

    in_features: int
    n_classes: int
    cutoffs: tuple
    div_value: float = 4.0
    head_bias: bool = False

    def __post_init__(self):
        cutoffs = list(self.cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > self.n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             f"order, where each value is between 1 and n_classes-1={self.n_classes - 1}; got "
                             f"{cutoffs}")
        object.__setattr__(self, "cutoffs", tuple(int(c) for c in cutoffs))

    @property
    def shortlist_size(self) -> int:
        return self.cutoffs[0]

    @property
    def n_clusters(self) -> int:
        return len(self.cutoffs)

    @property
    def head_size(self) -> int:
        return self.shortlist_size + self.n_clusters

    @property
    def head(self) -> Linear:
        return Linear(self.in_features, self.head_size, bias=self.head_bias)

    @property
    def tail(self) -> ModuleList:
        bounds = (*self.cutoffs, self.n_classes)
        return ModuleList(
            Sequential(Linear(self.in_features, int(self.in_features // (self.div_value ** (i + 1))), bias=False),
                       Linear(int(self.in_features // (self.div_value ** (i + 1))), bounds[i + 1] - bounds[i],
                              bias=False))
            for i in range(self.n_clusters))

    def _children(self):
        return (("head", self.head), ("tail", self.tail))

    def _full_log_prob(self, params, input):
        """(N, n_classes) log p(c | x) of a (N, in) input: the formula in the module docstring."""
        head_lp = F.log_softmax(F.linear(input, params["head"]["weight"], params["head"].get("bias")), dim=1)
        parts = [head_lp[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            p = params["tail"][str(i)]
            cluster = F.linear(F.linear(input, p["0"]["weight"]), p["1"]["weight"])
            parts.append(F.log_softmax(cluster, dim=1) + head_lp[:, self.shortlist_size + i, None])
        return jnp.concatenate(parts, axis=1)

    def apply(self, params, state, input, target, *, training=False, key=None):
        name = type(self).__name__
        tdim, ishape = jnp.ndim(target), jnp.shape(input)
        if tdim == 1:
            if ishape[:1] != jnp.shape(target):
                raise ValueError(f"{name}: input and target should have the same size in the batch dimension; "
                                 f"got input {ishape} and target {jnp.shape(target)}")
            if len(ishape) != 2:
                raise ValueError(f"{name}: 1D target tensor expects 2D input tensors, but found inputs with size "
                                 f"{ishape}")
        elif tdim == 0:
            if len(ishape) != 1:
                raise ValueError(f"{name}: 0D target tensor expects 1D input tensors, but found inputs with size "
                                 f"{ishape}")
        else:
            raise ValueError(f"{name}: 0D or 1D target tensor expected, multi-target not supported; got target "
                             f"shape {jnp.shape(target)}")
        if not jnp.issubdtype(jnp.asarray(target).dtype, jnp.integer):
            raise TypeError(f"{name}: target must hold integer class indices; got dtype {jnp.asarray(target).dtype}")
        x, t = jnp.atleast_2d(input), jnp.atleast_1d(target)
        message = f"{name}: Target values should be in [0, {self.n_classes - 1}], but {{}} was found"
        bad = (t < 0) | (t >= self.n_classes)
        if is_concrete(t) and np.size(t):
            if np.any(bad):
                raise ValueError(f"{name}: Target values should be in [0, {self.n_classes - 1}], but values in "
                                 f"range [{int(np.min(t))}, {int(np.max(t))}] were found")
        elif np.size(t):
            check_traced(~jnp.any(bad), message, t[jnp.argmax(bad)])
        picked = jnp.take_along_axis(self._full_log_prob(params, x), jnp.where(bad, 0, t)[:, None], axis=1)[:, 0]
        output = jnp.where(bad, jnp.nan, picked)
        loss = jnp.mean(-output)
        return _ASMoutput(output if tdim else output[0], loss), state

    def _check_batch(self, what, input):
        if jnp.ndim(input) != 2 or jnp.shape(input)[1] != self.in_features:
            raise ValueError(f"{type(self).__name__}.{what}: input must be (N, in_features={self.in_features}); got "
                             f"shape {jnp.shape(input)}")

    def log_prob(self, params, state, input):
        """log p(c | x) for every class c: (N, n_classes), as torch's ``log_prob(input)``."""
        check_params(self, params, state)
        self._check_batch("log_prob", input)
        return self._full_log_prob(params, input)

    def predict(self, params, state, input):
        """The most probable class of each row, (N,), as torch's ``predict(input)``: the head's argmax where it
        is a shortlist class (no cluster class can be likelier), else the argmax of ``log_prob``."""
        check_params(self, params, state)
        self._check_batch("predict", input)
        head = jnp.argmax(F.linear(input, params["head"]["weight"], params["head"].get("bias")), axis=1)
        return jnp.where(head < self.shortlist_size, head, jnp.argmax(self._full_log_prob(params, input), axis=1))
