"""Dropout, as torch.nn.Dropout; the mode is an argument of apply, not module state."""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.functional._checks import check_probability
from jaxdl.nn._module import Module, module


@module
class Dropout(Module):
    """torch.nn.Dropout(p=0.5, inplace=False): inverted dropout when training (needs ``key``), identity in eval."""

    p: float = 0.5
    inplace: bool = False  # accepted for torch compatibility; JAX arrays are immutable, so it changes nothing

    def __post_init__(self):
        check_probability("dropout", self.p)

    def apply(self, params, state, input, *, training=False, key=None):
        return F.dropout(input, self.p, training, key=key), state
