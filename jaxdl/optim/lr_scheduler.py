"""Learning-rate schedules that mirror ``torch.optim.lr_scheduler``, as Optax schedules.

Each is a frozen, hashable dataclass; ``schedule(count)`` is the lr of the update with that index (the
optimizer's count starts at 0), i.e. torch's ``get_last_lr()`` after ``count`` calls to ``step()``.
Torch takes the base lr from the optimizer; here it is the first field. Per-epoch schedules take
``steps_per_epoch=``: with k updates per epoch, torch's epoch t is ``count // k``.

    >>> from jaxdl.optim.lr_scheduler import StepLR
    >>> [round(float(StepLR(0.1, step_size=2, gamma=0.5)(t)), 6) for t in range(5)]
    [0.1, 0.1, 0.05, 0.05, 0.025]
"""
from jaxdl.optim._lr_scheduler_chained import ChainedScheduler, MultiplicativeLR, SequentialLR
from jaxdl.optim._lr_scheduler_cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR
from jaxdl.optim._lr_scheduler_cyclic import CyclicLR
from jaxdl.optim._lr_scheduler_decay import (ConstantLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR, PolynomialLR,
                                             StepLR)

__all__ = ["LambdaLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
           "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "SequentialLR",
           "MultiplicativeLR", "CyclicLR", "ChainedScheduler"]
