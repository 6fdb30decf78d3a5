"""local_response_norm, as torch.nn.functional.local_response_norm (torch's pad + avg_pool composition)."""
from __future__ import annotations

import jax.numpy as jnp

from jaxdl.checks import check_floating


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """x / (k + alpha/size · Σ x²)^beta, the sum over ``size`` neighbouring channels (dim 1; zero-padded by
    size//2 before and (size−1)//2 after), as torch.nn.functional.local_response_norm.

    The window mean is summed in channel order and divided by ``size``, as torch's avg_pool kernel; gradients are
    autodiff through the same steps as torch's autograd. An empty input is returned as it is (torch); an integer
    input gives float32, its window mean truncated to an integer first (torch's integer avg_pool).
    Args:
      input: (N, C, *), at least 3-D.
    Example:
      >>> local_response_norm(jnp.full((1, 2, 1), 2.0), 2, alpha=1.0, beta=1.0, k=1.0).ravel().tolist()
      [0.6666666865348816, 0.4000000059604645]
    """
    x = jnp.asarray(input)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected a 3-D or higher (N, C, *) input; got a {x.ndim}-D input")
    if x.size == 0:
        return x
    size = int(size)
    if size < 1:
        raise ValueError(f"local_response_norm: size must be at least 1; got {size}")
    sq = x * x
    widths = [(0, 0)] * x.ndim
    widths[1] = (size // 2, (size - 1) // 2)
    padded = jnp.pad(sq, widths)
    channels = x.shape[1]
    total = padded[:, 0:channels]
    for i in range(1, size):  # the avg_pool window, summed in order
        total = total + padded[:, i:i + channels]
    if jnp.issubdtype(x.dtype, jnp.integer):  # torch: an integer avg_pool (truncating), then float32 on
        mean = (total // size).astype(jnp.float32)  # multiplying by the Python float alpha
        return x.astype(jnp.float32) / (mean * alpha + k) ** beta
    check_floating("local_response_norm", x)
    div = (total / size * alpha + k) ** beta
    return x / div
