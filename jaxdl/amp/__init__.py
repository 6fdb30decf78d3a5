"""Automatic mixed precision as torch.amp: ``autocast`` (each op in the dtype torch's autocast op lists give it) and
``GradScaler`` (float16 loss scaling: scaled loss, unscaled gradients, a step skipped on inf/NaN gradients).
Explicit re-exports only; the two halves are documented in their modules."""
from jaxdl.amp._autocast import (BANNED, DEFAULT_DTYPE, DEVICE_TYPES, EXACT_ROUNDING, FP32, LOWER, LOWER_BY_DEVICE,
                                 MIXED_DTYPES, PRECISIONS, Policy, accumulate, autocast, bilinear, cast,
                                 compiler_options, default_device_type, lowered, precision_context)
from jaxdl.amp._grad_scaler import (GradScaler, GradScalerState, LossScaledTransformation, ScaledState, is_loss_scaled,
                                    scale_loss, training_optimizer)

__all__ = ["autocast", "cast", "bilinear", "lowered", "accumulate", "default_device_type", "precision_context",
           "compiler_options", "Policy", "PRECISIONS", "DEVICE_TYPES", "DEFAULT_DTYPE", "LOWER", "FP32", "BANNED",
           "LOWER_BY_DEVICE", "EXACT_ROUNDING", "GradScaler", "GradScalerState", "ScaledState", "is_loss_scaled",
           "scale_loss", "training_optimizer", "LossScaledTransformation", "MIXED_DTYPES"]
