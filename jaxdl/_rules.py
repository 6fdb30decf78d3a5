"""The value rules that the config schema applies before JAX starts and jaxdl.checks and amp use: written once,
here, without JAX (jaxdl.checks imports JAX; jaxdl.config must not)."""
import numbers

# torch.optim's lr test, ``if not 0.0 <= lr: raise ValueError(f"Invalid learning rate: {lr}")``, in our words
LR_ALLOWED = "a number ≥ 0 (torch.optim refuses only lr < 0)"


def is_valid_lr(lr: float) -> bool:
    """torch.optim's lr rule: 0 and inf pass, a negative lr and NaN do not (torch's SGD alone tests ``lr < 0.0``
    and lets NaN through)."""
    return 0.0 <= lr


def is_int(value) -> bool:
    """A Python or numpy integer, and not a bool: ``True`` is not a size or a count here."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy's bool_ is not Integral


def is_positive_int(value) -> bool:
    """An int (as :func:`is_int`) that is at least 1: a batch size, a number of epochs, heads or groups."""
    return is_int(value) and value >= 1


# The training precisions (jaxdl.amp.precision_context's names)
PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")
