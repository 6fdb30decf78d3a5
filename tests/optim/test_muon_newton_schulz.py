"""Muon's bfloat16 Newton–Schulz step against torch's CPU kernels, element for element.

torch.addmm on bfloat16 (CPU) accumulates A@B in float32 and combines ``beta * c + alpha * dot`` with one fused
multiply-add before rounding to bfloat16; jaxdl's ``_addmm`` emulates that fma exactly (JAX has none). A plain
``β·C + α·(A@B)`` in float32 (two roundings) differs from torch on about 1 element in 10⁴ of these draws.
"""
import jax
import jax.numpy as jnp
import numpy as np
import torch

from jaxdl.optim import _muon


def _bf16(x):
    return torch.from_numpy(np.asarray(x, np.float32)).bfloat16()


def _jax(t):
    return jnp.asarray(t.float().numpy()).astype(jnp.bfloat16)


# the products of Newton–Schulz on the harness's 8×4 and 3×8 weights: X Xᵀ, A·A, B·X
SHAPES = [(4, 8, 4), (4, 4, 4), (4, 4, 8), (3, 3, 8)]
DRAWS = 400  # 16 pairs × 400 × ~16 elements: a two-rounding β·C + α·(A@B) misses torch's on some of them
ADDMM = jax.jit(jax.vmap(_muon._addmm, in_axes=(0, 0, 0, None, None)))  # β, α traced: one compile per shape


def test_addmm_equals_torchs_bfloat16_addmm_bit_for_bit():
    rng = np.random.default_rng(0)
    for beta, alpha in [(-4.7750, 2.0315), (3.4445, 1.0), (-4.7, 2.0), (3.4, 1.0)]:  # torch's and optim_db's
        for m, k, n in SHAPES:
            scale = np.exp(2 * rng.standard_normal((2, DRAWS, 1, 1)))
            a = _bf16(rng.standard_normal((DRAWS, m, k)) * scale[0])
            b = _bf16(rng.standard_normal((DRAWS, k, n)) * scale[1])
            c = _bf16(4 * rng.standard_normal((DRAWS, m, n)))
            want = np.stack([torch.addmm(*t, beta=beta, alpha=alpha).float().numpy() for t in zip(c, a, b)])
            got = np.asarray(ADDMM(_jax(c), _jax(a), _jax(b), beta, alpha).astype(jnp.float32))
            np.testing.assert_array_equal(got, want, err_msg=f"beta={beta}, alpha={alpha}, shapes {m, k, n}")


def test_fma_rounds_once():
    # β·c + t against its exact value (float64 holds it: ≤ 32 + 24 significant bits, close exponents) rounded once
    rng = np.random.default_rng(1)
    c = _bf16(rng.standard_normal(20000)).float().numpy()
    t = rng.standard_normal(20000).astype(np.float32)
    beta = np.float32(3.4445)
    exact = beta.astype(np.float64) * c.astype(np.float64) + t.astype(np.float64)  # exact: ≤ 32 + 24 bits
    got = np.asarray(_muon._fma(3.4445, jnp.asarray(c), jnp.asarray(t)))
    np.testing.assert_array_equal(got, exact.astype(np.float32))
    assert np.any((beta * c + t) != exact.astype(np.float32))  # the two-rounding sum does differ somewhere
