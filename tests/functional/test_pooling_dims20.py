"""Issue 20's remaining pools outside torch's OpInfo samples: fractional max pooling drawn from a key (torch draws
from its global generator, so its samples cannot say), max_unpool's refused and dropped indices, conv_tbc's and
the modules' refusals (each where torch raises too)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F
from jaxdl import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("n", [2, 3])
def test_fractional_max_pool_from_a_key_is_torchs_with_that_draw(n):
    x = np.random.default_rng(0).standard_normal((2, 3) + (9,) * n).astype(np.float32)
    fn, tfn = (F.fractional_max_pool2d, torch.nn.functional.fractional_max_pool2d) if n == 2 else (
        F.fractional_max_pool3d, torch.nn.functional.fractional_max_pool3d)
    key = jax.random.key(3)
    draw = np.array(jax.random.uniform(key, (2, 3, n), jnp.float32))  # the documented draw: U[0, 1), (N, C, n)
    got, idx = fn(x, 2, 4, return_indices=True, key=key)
    want, want_idx = tfn(torch.from_numpy(x), 2, 4, return_indices=True, _random_samples=torch.from_numpy(draw))
    np.testing.assert_array_equal(np.asarray(got), want.numpy())
    np.testing.assert_array_equal(np.asarray(idx), want_idx.numpy())
    other = fn(x, 2, 4, key=jax.random.key(4))
    assert not np.array_equal(np.asarray(other), np.asarray(got))  # another key, other windows


def test_fractional_max_pool_needs_samples_or_a_key():
    with pytest.raises(ValueError, match="needs _random_samples or a PRNG key"):
        F.fractional_max_pool2d(jnp.ones((1, 1, 6, 6)), 2, 3)
    with pytest.raises(ValueError, match="_random_samples must have shape"):
        F.fractional_max_pool2d(jnp.ones((1, 1, 6, 6)), 2, 3, _random_samples=jnp.ones((1, 1, 3)))
    with pytest.raises(ValueError, match="must be < the input's size"):  # torch: 'pool time 2 too large ...'
        F.fractional_max_pool3d(jnp.ones((1, 1, 6, 6, 6)), 2, (5, 4, 4), key=jax.random.key(0))
    with pytest.raises(RuntimeError):
        torch.nn.functional.fractional_max_pool3d(torch.ones(1, 1, 6, 6, 6), 2, (5, 4, 4))


def test_fractional_max_pool_module_draws_from_the_apply_key_or_holds_torchs_buffer():
    m = nn.FractionalMaxPool2d(2, output_ratio=0.5)
    params, state = m.init(jax.random.key(0))
    assert state == {}
    x = jnp.arange(2 * 3 * 8 * 8, dtype=jnp.float32).reshape(2, 3, 8, 8)
    assert m.apply(params, state, x, key=jax.random.key(1))[0].shape == (2, 3, 4, 4)
    with pytest.raises(ValueError, match="PRNG key"):
        m.apply(params, state, x)
    u = np.full((2, 3, 2), 0.25)
    fixed = nn.FractionalMaxPool2d(2, 4, _random_samples=u)
    assert hash(fixed) == hash(nn.FractionalMaxPool2d(2, 4, _random_samples=u))  # a hashable spec
    _, fixed_state = fixed.init(None, jnp.float32)
    want = torch.nn.FractionalMaxPool2d(2, 4, _random_samples=torch.from_numpy(u).float())(torch.from_numpy(
        np.array(x)))
    np.testing.assert_array_equal(np.asarray(fixed.apply({}, fixed_state, x)[0]), want.numpy())
    for kwargs in ({}, {"output_size": 2, "output_ratio": 0.5}, {"output_ratio": 1.5}):
        with pytest.raises(ValueError):
            nn.FractionalMaxPool2d(2, **kwargs)
        with pytest.raises(ValueError):
            torch.nn.FractionalMaxPool2d(2, **kwargs)


def test_max_unpool_refuses_a_concrete_bad_index_and_drops_a_traced_one():
    v, i = np.ones((1, 1, 2)), np.array([[[1, 9]]])
    with pytest.raises(ValueError, match="invalid max index 9"):
        F.max_unpool1d(v, i, 2)
    with pytest.raises(RuntimeError):
        torch.nn.functional.max_unpool1d(torch.from_numpy(v), torch.from_numpy(i), 2)
    out = jax.jit(lambda v, i: F.max_unpool1d(v, i, 2))(v, i)
    np.testing.assert_array_equal(np.asarray(out), [[[0.0, 1.0, 0.0, 0.0]]])
    with pytest.raises(TypeError, match="indices must be integers"):
        F.max_unpool2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), 2)


def test_max_unpool_module_takes_torchs_forward_arguments():
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 6)).astype(np.float32)
    v, i = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    want = torch.nn.MaxUnpool2d(2)(v, i, output_size=(5, 7))
    got, _ = nn.MaxUnpool2d(2).apply({}, {}, v.numpy(), i.numpy(), (5, 7))
    np.testing.assert_array_equal(np.asarray(got), want.numpy())


@pytest.mark.parametrize("shapes", [((5, 2), (3, 2, 4), (4,)), ((5, 2, 3), (3, 2, 4), (4,)),
                                    ((5, 2, 2), (3, 2, 4), (3,)), ((5, 2, 2), (3, 2, 4), (4, 1))])
def test_conv_tbc_refuses_what_torch_refuses(shapes):
    x, w, b = (np.ones(s) for s in shapes)
    with pytest.raises(ValueError, match="conv_tbc"):
        F.conv_tbc(x, w, b)
    with pytest.raises(RuntimeError):
        torch.conv_tbc(*(torch.from_numpy(a) for a in (x, w, b)))
