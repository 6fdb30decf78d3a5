"""Parity cases for jaxdl.functional: values and gradients against torch.nn.functional."""
from jaxdl import functional as F
from jaxdl.parity._core import compare_function, register


@register("F.gelu", "functional")
def _gelu(env):
    tF = env.torch.nn.functional
    x = env.randn(4, 7, scale=3.0)
    x[0, :3] = (0.0, -0.0, 1e-3)  # edge values
    return [compare_function(env, lambda a: F.gelu(a, approximate=ap), lambda a: tF.gelu(a, approximate=ap), [x])
            for ap in ("none", "tanh")]
