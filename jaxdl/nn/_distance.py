"""PairwiseDistance and CosineSimilarity, as torch.nn's: two inputs, ``apply(params, state, x1, x2)``."""
from __future__ import annotations

from jaxdl import functional as F
from jaxdl.nn._module import Module, module


@module
class PairwiseDistance(Module):
    """torch.nn.PairwiseDistance(p=2.0, eps=1e-6, keepdim=False): ‖x1 − x2 + eps‖_p over the last dim (torch
    keeps ``p`` as the attribute ``norm``; here it is the field ``p``)."""

    p: float = 2.0
    eps: float = 1e-6
    keepdim: bool = False

    def apply(self, params, state, x1, x2, *, training=False, key=None):
        return F.pairwise_distance(x1, x2, self.p, self.eps, self.keepdim), state


@module
class CosineSimilarity(Module):
    """torch.nn.CosineSimilarity(dim=1, eps=1e-8)."""

    dim: int = 1
    eps: float = 1e-8

    def apply(self, params, state, x1, x2, *, training=False, key=None):
        return F.cosine_similarity(x1, x2, self.dim, self.eps), state
