"""torch.nn.functional's in-place spellings (relu_, elu_, ...): present, and refusing in one line.

JAX arrays are immutable, so no function can change its input. The ``inplace=True`` flag of the out-of-place
functions is accepted (checks.check_inplace: the same values, as a new array); a trailing-underscore name, whose
whole meaning is the mutation, raises instead, naming the function to call.
"""
from __future__ import annotations

# every name of torch 2.13's torch.nn.functional that ends in "_"
INPLACE_NAMES = ("celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "rrelu_", "selu_", "threshold_")


def _refusal(name: str):
    out_of_place = name[:-1]

    def refuse(*args, **kwargs):
        raise TypeError(f"{name}: JAX arrays are immutable, so jaxdl has no in-place {name}; use "
                        f"y = {out_of_place}(x, ...), which returns the result as a new array")

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = f"torch.nn.functional.{name}, refused: JAX arrays are immutable; call {out_of_place}(...)."
    return refuse


celu_, elu_, hardtanh_, leaky_relu_, relu_, rrelu_, selu_, threshold_ = (_refusal(n) for n in INPLACE_NAMES)
