"""The one learning-rate rule, here without JAX so the config schema applies it to optim.lr before JAX starts
(jaxdl.checks.check_lr raises with it for jaxdl.optim's optimizers and schedules)."""

LR_ALLOWED = "a number ≥ 0 (torch.optim refuses only lr < 0)"


def is_valid_lr(lr: float) -> bool:
    """torch.optim's test, ``if not 0.0 <= lr: raise ValueError(f"Invalid learning rate: {lr}")``: 0 and inf
    pass, a negative lr and NaN do not (torch's SGD alone tests ``lr < 0.0`` and lets NaN through)."""
    return 0.0 <= lr
