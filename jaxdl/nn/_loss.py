"""Loss modules, as torch.nn's ``*Loss`` classes, for the lecture habit ``criterion = nn.CrossEntropyLoss()``.

A loss module is a frozen, hashable spec of torch's constructor arguments that holds no arrays; calling it
calls the jaxdl.functional loss: ``loss = criterion(logits, target)`` (pure, so it works under jit/grad,
and the spec can be a static jit argument). Unlike layers it has no ``init``/``apply``: a loss has no
parameters or state. Class weights (``weight``, ``pos_weight``) are stored as nested tuples of floats,
so the spec stays hashable; they are cast to the input's dtype at call time. For a traced (learned)
weight, call the F.* function directly. The deprecated ``size_average``/``reduce`` must stay None.
"""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from jaxdl import functional as F
from jaxdl.checks import KL_REDUCTIONS, REDUCTIONS, check_reduction

_spec = dataclasses.dataclass(frozen=True)


def _freeze(value):
    """An array-like as nested tuples of Python floats (hashable), None as None."""
    if value is None:
        return None
    listed = np.asarray(value, dtype=np.float64).tolist()

    def tup(v):
        return tuple(tup(e) for e in v) if isinstance(v, list) else v

    return tup(listed)


class _Loss:
    """Shared checks: legacy arguments unset, ``reduction`` valid, array arguments frozen to tuples."""

    _reductions = REDUCTIONS

    def __post_init__(self):
        name = type(self).__name__
        if getattr(self, "size_average", None) is not None or getattr(self, "reduce", None) is not None:
            raise ValueError(f"{name}: size_average and reduce are deprecated and not supported; "
                             f"pass reduction='mean' | 'sum' | 'none' instead")
        check_reduction(name, self.reduction, self._reductions)
        for field in ("weight", "pos_weight"):
            if hasattr(self, field):
                object.__setattr__(self, field, _freeze(getattr(self, field)))

    def _array(self, field, like):
        value = getattr(self, field)
        return None if value is None else jnp.asarray(value, jnp.result_type(like))


@_spec
class NLLLoss(_Loss):
    """torch.nn.NLLLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean')."""

    weight: object = None
    size_average: None = None
    ignore_index: int = -100
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.nll_loss(input, target, self._array("weight", input), self.ignore_index, self.reduction)


@_spec
class CrossEntropyLoss(_Loss):
    """torch.nn.CrossEntropyLoss(weight=None, size_average=None, ignore_index=-100, reduce=None,
    reduction='mean', label_smoothing=0.0)."""

    weight: object = None
    size_average: None = None
    ignore_index: int = -100
    reduce: None = None
    reduction: str = "mean"
    label_smoothing: float = 0.0

    def __call__(self, input, target):
        return F.cross_entropy(input, target, self._array("weight", input), self.ignore_index, self.reduction,
                               self.label_smoothing)


@_spec
class BCELoss(_Loss):
    """torch.nn.BCELoss(weight=None, size_average=None, reduce=None, reduction='mean')."""

    weight: object = None
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.binary_cross_entropy(input, target, self._array("weight", input), self.reduction)


@_spec
class BCEWithLogitsLoss(_Loss):
    """torch.nn.BCEWithLogitsLoss(weight=None, size_average=None, reduce=None, reduction='mean', pos_weight=None)."""

    weight: object = None
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"
    pos_weight: object = None

    def __call__(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self._array("weight", input), self.reduction,
                                                  self._array("pos_weight", input))


@_spec
class MSELoss(_Loss):
    """torch.nn.MSELoss(size_average=None, reduce=None, reduction='mean')."""

    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.mse_loss(input, target, self.reduction)


@_spec
class L1Loss(_Loss):
    """torch.nn.L1Loss(size_average=None, reduce=None, reduction='mean')."""

    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.l1_loss(input, target, self.reduction)


@_spec
class SmoothL1Loss(_Loss):
    """torch.nn.SmoothL1Loss(size_average=None, reduce=None, reduction='mean', beta=1.0)."""

    size_average: None = None
    reduce: None = None
    reduction: str = "mean"
    beta: float = 1.0

    def __call__(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


@_spec
class HuberLoss(_Loss):
    """torch.nn.HuberLoss(reduction='mean', delta=1.0)."""

    reduction: str = "mean"
    delta: float = 1.0

    def __call__(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


@_spec
class KLDivLoss(_Loss):
    """torch.nn.KLDivLoss(size_average=None, reduce=None, reduction='mean', log_target=False)."""

    _reductions = KL_REDUCTIONS
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"
    log_target: bool = False

    def __call__(self, input, target):
        return F.kl_div(input, target, self.reduction, self.log_target)


@_spec
class HingeEmbeddingLoss(_Loss):
    """torch.nn.HingeEmbeddingLoss(margin=1.0, size_average=None, reduce=None, reduction='mean')."""

    margin: float = 1.0
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, self.reduction)


@_spec
class MultiMarginLoss(_Loss):
    """torch.nn.MultiMarginLoss(p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction='mean')."""

    p: int = 1
    margin: float = 1.0
    weight: object = None
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self._array("weight", input), self.reduction)


@_spec
class MarginRankingLoss(_Loss):
    """torch.nn.MarginRankingLoss(margin=0.0, size_average=None, reduce=None, reduction='mean')."""

    margin: float = 0.0
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


@_spec
class CosineEmbeddingLoss(_Loss):
    """torch.nn.CosineEmbeddingLoss(margin=0.0, size_average=None, reduce=None, reduction='mean')."""

    margin: float = 0.0
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


@_spec
class TripletMarginLoss(_Loss):
    """torch.nn.TripletMarginLoss(margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
    reduction='mean')."""

    margin: float = 1.0
    p: float = 2.0
    eps: float = 1e-6
    swap: bool = False
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     self.reduction)


@_spec
class PoissonNLLLoss(_Loss):
    """torch.nn.PoissonNLLLoss(log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
    reduction='mean')."""

    log_input: bool = True
    full: bool = False
    size_average: None = None
    eps: float = 1e-8
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, self.eps, self.reduction)


@_spec
class GaussianNLLLoss(_Loss):
    """torch.nn.GaussianNLLLoss(*, full=False, eps=1e-6, reduction='mean')."""

    _: dataclasses.KW_ONLY
    full: bool = False
    eps: float = 1e-6
    reduction: str = "mean"

    def __call__(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)
