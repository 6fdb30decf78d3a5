"""CTCLoss, as torch.nn.CTCLoss (a loss module: ``criterion(log_probs, targets, input_lengths, target_lengths)``)."""
from __future__ import annotations

import dataclasses

from jaxdl import functional as F
from jaxdl.nn._loss import _Loss


@dataclasses.dataclass(frozen=True)
class CTCLoss(_Loss):
    """torch.nn.CTCLoss(blank=0, reduction='mean', zero_infinity=False): F.ctc_loss, with torch's gradient."""

    blank: int = 0
    reduction: str = "mean"
    zero_infinity: bool = False

    def __call__(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)
