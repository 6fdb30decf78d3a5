"""batch_norm and layer_norm: errors and transformations (values, gradients, running stats are parity cases)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F
from tests.helpers import assert_close


def test_batch_norm_errors():
    c = jnp.ones(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size \(1, 3\)"):
        F.batch_norm(jnp.ones((1, 3)), c, c, training=True)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(jnp.ones((4, 3)), jnp.ones(2), c, training=True)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, \*\)"):
        F.batch_norm(jnp.ones(3), c, c)
    with pytest.raises(ValueError, match="must be given when training=False"):
        F.batch_norm(jnp.ones((4, 3)), None, None)


def test_batch_norm_running_var_is_unbiased():
    x = jnp.array([[0.0], [1.0], [2.0], [5.0]])
    _, mean, var = F.batch_norm(x, jnp.zeros(1), jnp.ones(1), training=True, momentum=0.1)
    np.testing.assert_allclose(np.asarray(mean), [0.1 * 2.0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(var), [0.9 + 0.1 * np.var([0, 1, 2, 5], ddof=1)], rtol=1e-6)


def test_batch_norm_under_jit_vmap_scan():
    x = jax.random.normal(jax.random.key(0), (5, 4, 3, 2))  # 5 independent (N, C, L) batches
    rm, rv = jnp.zeros(3), jnp.ones(3)
    step = jax.jit(lambda a, m, v: F.batch_norm(a, m, v, training=True))
    (m, v), outs = jax.lax.scan(lambda s, a: ((r := step(a, *s))[1:], r[0]), (rm, rv), x)
    m_ref, v_ref = rm, rv
    for a in x:
        out, m_ref, v_ref = F.batch_norm(a, m_ref, v_ref, training=True)
    assert_close((m, v, outs[-1]), (m_ref, v_ref, out))
    batched = jax.vmap(lambda a: F.batch_norm(a, rm, rv, training=True)[0])(x)
    assert_close(batched[-1], out)


def test_layer_norm_errors_and_vmap():
    x = jnp.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"normalized_shape=\[3\].*got input of size \[2, 3, 4\]"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.layer_norm(x, 4, jnp.ones(3))
    y = jax.random.normal(jax.random.key(1), (2, 3, 4))
    w = jnp.linspace(0.5, 1.5, 4)
    assert_close(jax.vmap(lambda a: F.layer_norm(a, 4, w))(y), jax.jit(lambda a: F.layer_norm(a, 4, w))(y))
    g = jax.grad(lambda a: jnp.sum(F.layer_norm(a, (3, 4)) ** 3))(y)
    assert bool(jnp.all(jnp.isfinite(g)))
