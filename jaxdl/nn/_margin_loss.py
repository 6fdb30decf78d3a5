"""The multi-label and distance-function margin loss modules, as torch.nn's: SoftMarginLoss, MultiLabelMarginLoss,
MultiLabelSoftMarginLoss, TripletMarginWithDistanceLoss, and the deprecated NLLLoss2d (torch keeps it as NLLLoss
under another name). Frozen specs calling the jaxdl.functional loss, as the other loss modules (jaxdl.nn._loss).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from jaxdl import functional as F
from jaxdl.nn._loss import NLLLoss, _Loss, _spec


@_spec
class SoftMarginLoss(_Loss):
    """torch.nn.SoftMarginLoss(size_average=None, reduce=None, reduction='mean'): F.soft_margin_loss."""

    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.soft_margin_loss(input, target, self.reduction)


@_spec
class MultiLabelMarginLoss(_Loss):
    """torch.nn.MultiLabelMarginLoss(size_average=None, reduce=None, reduction='mean'): F.multilabel_margin_loss."""

    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.multilabel_margin_loss(input, target, self.reduction)


@_spec
class MultiLabelSoftMarginLoss(_Loss):
    """torch.nn.MultiLabelSoftMarginLoss(weight=None, size_average=None, reduce=None, reduction='mean'):
    F.multilabel_soft_margin_loss."""

    weight: object = None
    size_average: None = None
    reduce: None = None
    reduction: str = "mean"

    def __call__(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self._array("weight", input), self.reduction)


@_spec
class TripletMarginWithDistanceLoss(_Loss):
    """torch.nn.TripletMarginWithDistanceLoss(*, distance_function=None, margin=1.0, swap=False, reduction='mean'):
    F.triplet_margin_with_distance_loss (distance_function: a JAX function, or None for pairwise_distance)."""

    _: dataclasses.KW_ONLY
    distance_function: Callable | None = None
    margin: float = 1.0
    swap: bool = False
    reduction: str = "mean"

    def __post_init__(self):
        super().__post_init__()
        if self.margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be > 0; got {self.margin}")

    def __call__(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)


@_spec
class NLLLoss2d(NLLLoss):
    """torch.nn.NLLLoss2d(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'): the
    deprecated name torch keeps for NLLLoss (it takes (N, C, H, W) inputs as NLLLoss does)."""
