"""dropout's mask generator: jax.random.bernoulli's exact bits (unrolled threefry, shared mask)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.functional._bernoulli import bernoulli


@pytest.mark.parametrize("shape", [(1,), (7,), (128, 256), (3, 5, 7)])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_same_bits_as_jax_random_bernoulli(shape, p):
    for seed in (0, 12345):
        key = jax.random.fold_in(jax.random.key(seed), 3)
        np.testing.assert_array_equal(np.asarray(jax.jit(bernoulli, static_argnums=2)(key, p, shape)),
                                      np.asarray(jax.random.bernoulli(key, p, shape)))


def test_same_bits_under_vmap_over_keys_and_p():
    keys = jax.random.split(jax.random.key(0), 4)
    np.testing.assert_array_equal(np.asarray(jax.vmap(lambda k: bernoulli(k, 0.8, (64,)))(keys)),
                                  np.asarray(jax.vmap(lambda k: jax.random.bernoulli(k, 0.8, (64,)))(keys)))
    ps = jnp.array([0.0, 0.1, 0.5, 1.0])
    key = jax.random.key(1)
    np.testing.assert_array_equal(np.asarray(jax.vmap(lambda p: bernoulli(key, p, (64,)))(ps)),
                                  np.asarray(jax.vmap(lambda p: jax.random.bernoulli(key, p, (64,)))(ps)))


def test_other_keys_fall_back_to_jax_random_bernoulli():
    for key in (jax.random.PRNGKey(2), jax.random.key(2, impl="rbg")):  # raw uint32 key; another impl
        np.testing.assert_array_equal(np.asarray(bernoulli(key, 0.3, (5, 6))),
                                      np.asarray(jax.random.bernoulli(key, 0.3, (5, 6))))


def test_hash_computed_once_in_a_training_step():
    """The unrolled hash is one fusion shared by forward and backward (not a while loop, not duplicated)."""
    from jaxdl import functional as F

    def loss(w1, w2, x, key):
        return jnp.sum(F.dropout(jax.nn.relu(x @ w1), 0.2, key=key) @ w2)

    args = (jnp.ones((64, 256)), jnp.ones((256, 10)), jnp.ones((128, 64)), jax.random.key(0))
    hlo = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(*args).compile().as_text()
    assert " while(" not in hlo
    # one 20-round hash (20 xors) + key schedule + bits1 ^ bits2; a hash copied into two consumers makes 40+
    assert hlo.count(" xor(") <= 25
