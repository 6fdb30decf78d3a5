"""Parity cases for the activation modules of issue 12 (ELU ... PReLU), each with torch's own module:
outputs and input (and PReLU weight) gradients, with kinks in the input; and ReLU's gradient at NaN.
"""
import numpy as np

from jaxdl import nn
from jaxdl.parity._cases_nn import _stateless
from jaxdl.parity._core import compare_function, register


@register("nn activations (issue 12)", "nn")
def _activations(env):
    tnn = env.torch.nn
    x = env.randn(4, 6, scale=4.0)
    x[0, :] = (0.0, -1.0, 1.0, -3.0, 3.0, 6.0)  # kinks of hardtanh, relu6, hardsigmoid, hardswish
    pairs = [(nn.ELU(), tnn.ELU()), (nn.ELU(0.3), tnn.ELU(0.3)), (nn.SELU(), tnn.SELU()), (nn.CELU(2.0), tnn.CELU(2.0)),
             (nn.Softplus(), tnn.Softplus()), (nn.Softplus(2.0, 3.0), tnn.Softplus(2.0, 3.0)),
             (nn.Softsign(), tnn.Softsign()), (nn.Hardtanh(), tnn.Hardtanh()),
             (nn.Hardtanh(-2.0, 0.5), tnn.Hardtanh(-2.0, 0.5)), (nn.ReLU6(), tnn.ReLU6()),
             (nn.Hardsigmoid(), tnn.Hardsigmoid()), (nn.Hardswish(), tnn.Hardswish()),
             (nn.LogSigmoid(), tnn.LogSigmoid()), (nn.Mish(), tnn.Mish()), (nn.GLU(), tnn.GLU()),
             (nn.GLU(0), tnn.GLU(0))]
    tm = [t.to(device=env.device, dtype=env.torch_dtype) for _, t in pairs]
    alone = compare_function(env, lambda a: tuple(j.apply({}, {}, a)[0] for j, _ in pairs),
                             lambda a: tuple(t(a) for t in tm), [x])
    chain = [(nn.ELU(), tnn.ELU()), (nn.Hardswish(), tnn.Hardswish()), (nn.Mish(), tnn.Mish())]
    return [alone, _stateless(env, nn.Sequential(*[j for j, _ in chain]), tnn.Sequential(*[t for _, t in chain]), x)]


@register("nn.PReLU", "nn", mixed=True)
def _prelu(env):
    tnn = env.torch.nn
    x = env.randn(3, 4, 5)
    x[0, :, 0] = 0.0  # the kink
    return [_stateless(env, nn.PReLU(), tnn.PReLU(), x), _stateless(env, nn.PReLU(4, init=0.1), tnn.PReLU(4, 0.1), x)]


@register("nn.ReLU(NaN)", "nn")
def _relu_nan(env):
    x = env.randn(3, 4)
    x[0, :3] = (np.nan, np.inf, -np.inf)  # torch: gradient 1 at NaN (issue 12)
    return _stateless(env, nn.ReLU(), env.torch.nn.ReLU(), x)
