"""The exponential and soft activations of torch.nn.functional: elu, selu, celu, softplus, softsign,
logsigmoid, mish, glu. Each forward is torch's kernel formula and each gradient its ``*_backward`` formula
(aten/src/ATen/native/cpu/Activation.cpp), so NaN, ±inf and the kink at 0 give torch's numbers.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.functional._activation import elementwise
from jaxdl.checks import check_dim, check_floating, check_inplace, check_operand_dtypes, promote_to_float

# torch's constants (torch/nn/functional.py selu, from Klambauer et al. 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _elu(name, input, alpha, scale, input_scale, grad_input_scale=None):
    """torch's elu kernel: x > 0 ? scale·x : scale·α·(e^{x·input_scale} − 1); its backward (elu_backward):
    x > 0 ? scale : grad_input_scale·scale·α·e^{x·grad_input_scale} (``grad_input_scale`` is input_scale unless
    given: celu's). The gradient at NaN is NaN, as torch's vectorized CPU kernel gives it; its scalar loop, which
    takes the elements past the last whole pair of SIMD vectors (all of a small tensor), gives scale instead."""
    grad_input_scale = input_scale if grad_input_scale is None else grad_input_scale

    def forward(x):
        neg = jnp.where(x > 0, 0.0, x)  # the exp never sees a large positive x; NaN stays NaN
        return jnp.where(x > 0, scale * x, scale * alpha * jnp.expm1(neg * input_scale))

    def derivative(x):
        neg = jnp.where(x > 0, 0.0, x)
        return jnp.where(x > 0, scale, grad_input_scale * scale * alpha * jnp.exp(neg * grad_input_scale))

    return elementwise(name, forward, derivative, input)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x if x > 0 else α·(eˣ − 1), as torch.nn.functional.elu; elu'(0) = α, as torch.

    Example:
      >>> [round(v, 4) for v in elu(jnp.array([-1.0, 0.0, 2.0])).tolist()]
      [-0.6321, 0.0, 2.0]
    """
    check_inplace("elu", inplace)
    return _elu("elu", input, alpha, 1.0, 1.0)


def selu(input, inplace: bool = False):
    """scale·(x if x > 0 else α·(eˣ − 1)) with torch's α ≈ 1.6733, scale ≈ 1.0507, as torch.nn.functional.selu."""
    check_inplace("selu", inplace)
    return _elu("selu", input, SELU_ALPHA, SELU_SCALE, 1.0)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """max(0, x) + min(0, α·(e^{x/α} − 1)), as torch.nn.functional.celu (α ≠ 0). The gradient is torch's
    (derivatives.yaml: elu_backward with input_scale 1/α.toFloat()): 1/α taken of α rounded to float32 there, in
    float64 too, so it differs from the exact derivative by up to ~1e-8 relative, as torch's does."""
    check_inplace("celu", inplace)
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero (torch: ZeroDivisionError)")
    return _elu("celu", input, alpha, 1.0, 1.0 / alpha, 1.0 / float(np.float32(alpha)))


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + e^{βx})/β, and x where βx > threshold, as torch.nn.functional.softplus.

    Differs from jax.nn.softplus: beta and the linear branch above ``threshold`` (torch's).
    """
    input, = amp.cast("softplus", input)
    def forward(x):
        linear = x * beta > threshold
        return jnp.where(linear, x, jnp.log1p(jnp.exp(jnp.where(linear, 0.0, x) * beta)) / beta)

    def derivative(x):
        linear = x * beta > threshold
        z = jnp.exp(jnp.where(linear, 0.0, x) * beta)
        return jnp.where(linear, 1.0, z / (z + 1.0))

    return elementwise("softplus", forward, derivative, input)


def softsign(input):
    """x / (1 + |x|), as torch.nn.functional.softsign (NaN at ±inf, as torch's inf/inf); integer inputs
    give float32, as torch's (its softsign is that Python expression, which promotes; bool raises in its abs)."""
    check_operand_dtypes("softsign", input=input)
    return elementwise("softsign", lambda x: x / (jnp.abs(x) + 1),
                       lambda x: 1 / (jnp.abs(x) + 1) - x * jnp.sign(x) / jnp.square(jnp.abs(x) + 1),
                       promote_to_float(input))


def logsigmoid(input):
    """log σ(x) = min(x, 0) − log(1 + e^{−|x|}), as torch.nn.functional.logsigmoid (torch's stable form)."""
    def derivative(x):
        z = jnp.exp(-jnp.abs(x))
        return jnp.where(x < 0, 1.0 - z / (1 + z), z / (1 + z))

    return elementwise("logsigmoid", lambda x: jnp.minimum(x, 0.0) - jnp.log1p(jnp.exp(-jnp.abs(x))), derivative,
                       input)


def mish(input, inplace: bool = False):
    """x·tanh(softplus(x)), as torch.nn.functional.mish (torch's unthresholded log1p(eˣ))."""
    check_inplace("mish", inplace)

    def derivative(x):
        tsp = jnp.tanh(jnp.log1p(jnp.exp(x)))
        return tsp + x * (1 / (1 + jnp.exp(-x))) * (1 - tsp * tsp)

    return elementwise("mish", lambda x: x * jnp.tanh(jnp.log1p(jnp.exp(x))), derivative, input)


def glu(input, dim: int = -1):
    """a·σ(b) where (a, b) are the two halves of ``input`` along ``dim``, as torch.nn.functional.glu.

    Args:
      input: any shape whose size along ``dim`` is even; the output has half of it.
    """
    check_floating("glu", input)
    ndim = jnp.ndim(input)
    if ndim == 0:
        raise ValueError("glu: needs an input with at least one dimension to halve; got a 0-D input")
    dim = check_dim("glu", ndim, dim)
    size = jnp.shape(input)[dim]
    if size % 2:
        raise ValueError(f"glu: dimension {dim % ndim} is halved, so its size must be even; got {size}")
    a, b = jnp.split(input, 2, axis=dim)
    return a * jax.nn.sigmoid(b)
