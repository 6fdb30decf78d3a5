"""dropout's random mask (parity covers p=0, p=1 and eval against torch)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F

drop = jax.jit(F.dropout, static_argnums=(1, 2))


def test_same_key_same_mask_different_keys_differ():
    x = jnp.ones((64, 64))
    a, b = drop(x, 0.5, True, key=jax.random.key(0)), drop(x, 0.5, True, key=jax.random.key(0))
    c = drop(x, 0.5, True, key=jax.random.key(1))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.8])
def test_keep_rate_and_scale(p):
    n = 200_000
    out = np.asarray(drop(jnp.ones((n,)), p, True, key=jax.random.key(3)))
    kept = out != 0
    # keep rate 1 − p within 5 standard errors of a Binomial(n, 1 − p) proportion
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[kept], 1.0 / (1.0 - p), rtol=1e-6)  # torch's 1/(1−p), e.g. 1.4285714 at 0.3
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_gradient_is_the_mask():
    x = jax.random.normal(jax.random.key(5), (8, 8))
    key = jax.random.key(7)
    out, vjp = jax.vjp(lambda v: F.dropout(v, 0.25, key=key), x)
    (g,) = vjp(jnp.ones_like(out))
    mask = np.asarray(F.dropout(jnp.ones_like(x), 0.25, key=key))
    np.testing.assert_allclose(np.asarray(g), mask, rtol=1e-6)


def test_eval_and_edge_probabilities():
    x = jnp.arange(6.0)
    assert F.dropout(x, 0.7, training=False) is x  # eval: identity, no key needed
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(np.asarray(F.dropout(x, 1.0)), np.zeros(6))
    g = jax.grad(lambda v: jnp.sum(F.dropout(v, 1.0)))(x)  # finite zeros, unlike x/0 formulations
    np.testing.assert_array_equal(np.asarray(g), np.zeros(6))


def test_traced_p_under_vmap():
    x = jnp.ones((4, 1000))
    ps = jnp.array([0.0, 0.5, 0.9, 1.0])
    out = jax.vmap(lambda v, p: F.dropout(v, p, key=jax.random.key(0)))(x, ps)
    out = np.asarray(out)
    np.testing.assert_array_equal(out[0], np.ones(1000))
    np.testing.assert_array_equal(out[3], np.zeros(1000))  # p = 1: zeros, not NaN
    np.testing.assert_allclose(out[1][out[1] != 0], 2.0, rtol=1e-6)


def test_vmap_over_keys_gives_different_masks():
    keys = jax.random.split(jax.random.key(0), 3)
    out = jax.vmap(lambda k: F.dropout(jnp.ones(100), 0.5, key=k))(keys)
    assert not np.array_equal(np.asarray(out[0]), np.asarray(out[1]))


def test_errors():
    x = jnp.ones(3)
    with pytest.raises(ValueError, match=r"dropout\(x, p, training=True, key=jax.random.key\(0\)\)"):
        F.dropout(x, 0.5)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"dropout probability must be in \[0, 1\]; got {p}"):
            F.dropout(x, p, key=jax.random.key(0))


@pytest.mark.parametrize("fn,shape",
                         [(F.dropout1d, (16, 32, 5)), (F.dropout1d, (32, 5)), (F.dropout2d, (16, 32, 3, 4))])
def test_channel_dropout_masks_whole_channels_at_rate_p(fn, shape):
    x = jnp.ones(shape)
    y = jax.jit(lambda a, k: fn(a, 0.25, True, key=k))(x, jax.random.key(3))
    per_channel = y.reshape(int(np.prod(shape[:-1 if fn is F.dropout1d else -2])), -1)
    assert bool(jnp.all(per_channel == per_channel[:, :1]))  # one draw per (sample, channel)
    kept = per_channel[:, 0] != 0
    assert set(np.unique(np.asarray(per_channel))) <= {0.0, np.float32(1 / 0.75)}
    assert abs(float(jnp.mean(kept)) - 0.75) < 0.1


def test_channel_dropout_errors_and_warnings():
    with pytest.raises(ValueError, match="dropout1d: expected a 3-D .* got a 4-D input"):
        F.dropout1d(jnp.ones((2, 3, 4, 5)), key=jax.random.key(0))
    with pytest.raises(ValueError, match="dropout2d needs a PRNG key"):
        F.dropout2d(jnp.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"dropout1d probability must be in \[0, 1\]; got 1.5"):
        F.dropout1d(jnp.ones((2, 3)), 1.5)
    with pytest.warns(UserWarning, match=r"dropout2d: a 3-D input is taken as \(N, C, L\)"):
        F.dropout2d(jnp.ones((2, 3, 4)), training=False)
