"""What counts as an int in jaxdl, here without JAX so the config schema applies the same rule before JAX
starts (jaxdl.checks.check_positive_int raises with it)."""
import numbers


def is_int(value) -> bool:
    """A Python or numpy integer, and not a bool: ``True`` is not a size or a count here."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy's bool_ is not Integral


def is_positive_int(value) -> bool:
    """An int (as :func:`is_int`) that is at least 1: a batch size, a number of epochs, heads or groups."""
    return is_int(value) and value >= 1
