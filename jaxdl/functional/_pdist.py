"""pdist, as torch.nn.functional.pdist: the p-norm distance of every pair of rows, with torch's own gradient
(``_pdist_backward``, aten/src/ATen/native/cpu/DistanceOpsKernel.cpp)."""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.checks import check_floating


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _row_norm(diff, p: float):
    """‖diff‖_p over the last dim, by torch's pdist kernels (p = 0 counts the nonzero entries)."""
    a = jnp.abs(diff)
    if p == 0:
        return jnp.sum(jnp.minimum(jnp.ceil(a), 1.0), axis=-1)
    if p == 1:
        return jnp.sum(a, axis=-1)
    if p == 2:
        return jnp.sqrt(jnp.sum(diff * diff, axis=-1))
    if p == math.inf:
        return jnp.max(a, axis=-1, initial=0.0)
    return jnp.sum(a ** p, axis=-1) ** (1.0 / p)


@_row_norm.defjvp
def _row_norm_jvp(p, primals, tangents):
    (diff,), (t,) = primals, tangents
    dist = _row_norm(diff, p)
    d, a, s = dist[..., None], jnp.abs(diff), jnp.sign(diff)
    safe = jnp.where(d == 0, 1.0, d)
    if p == 0:  # torch's zdist_calc
        coef = jnp.zeros_like(diff)
    elif p == 1:  # odist_calc
        coef = s
    elif p == 2:  # tdist_calc
        coef = jnp.where(d == 0, 0.0, diff / safe)
    elif p == math.inf:  # idist_calc: every element tied with the max gets the whole gradient
        coef = s * (1 - jnp.minimum(1.0, jnp.ceil(jnp.abs(a - d))))
    elif p < 2:  # lttdist_calc
        coef = jnp.where(d == 0, 0.0, s * a ** (p - 1) / safe ** (p - 1))
        coef = jnp.where((diff == 0) & (p < 1), 0.0, coef)
    else:  # pdist_calc
        coef = jnp.where(d == 0, 0.0, diff * a ** (p - 2) / safe ** (p - 1))
    return dist, jnp.sum(coef * t, axis=-1)


def pdist(input, p: float = 2):
    """‖x_i − x_j‖_p for every pair of rows i < j of an (N, M) input, in row-major order (N(N−1)/2 values), as
    torch.nn.functional.pdist; p ≥ 0 (p = 0 counts differing entries, p = inf takes the largest). The gradient is
    torch's: 0 where a distance is 0, and for p = inf the whole gradient to every entry tied with the maximum
    (torch.linalg.vector_norm splits it among the ties instead).

    Example:
      >>> pdist(jnp.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])).tolist()
      [5.0, 1.0, 4.242640495300293]
    """
    check_floating("pdist", input)
    x = jnp.asarray(input)
    if x.ndim != 2:
        raise ValueError(f"pdist: expected a 2-D (N, M) input; got a {x.ndim}-D input")
    p = float(p)
    if not p >= 0:
        raise ValueError(f"pdist: p must be non-negative; got {p}")
    i, j = np.triu_indices(x.shape[0], 1)
    return _row_norm(x[i] - x[j], p)
