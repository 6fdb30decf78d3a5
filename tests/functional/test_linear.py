"""linear, embedding, one_hot: errors and transformations (values and gradients are parity cases)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F
from jaxdl import nn
from tests.helpers import assert_close


def test_linear_errors():
    w = jnp.ones((5, 4))
    with pytest.raises(ValueError, match=r"in_features=4.*got input shape \(3, 3\)"):
        F.linear(jnp.ones((3, 3)), w)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(jnp.ones((3, 4)), jnp.ones(4))
    with pytest.raises(ValueError, match=r"bias must have shape \(5,\); got \(4,\)"):
        F.linear(jnp.ones((3, 4)), w, jnp.ones(4))


def test_linear_under_vmap_and_scan():
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    x, w, b = jax.random.normal(k1, (6, 2, 4)), jax.random.normal(k2, (3, 4)), jax.random.normal(k3, (3,))
    expected = np.einsum("nbi,oi->nbo", np.asarray(x), np.asarray(w)) + np.asarray(b)
    assert_close(jax.jit(jax.vmap(lambda v: F.linear(v, w, b)))(x), expected, rtol=1e-5, atol=1e-5)
    _, ys = jax.lax.scan(lambda c, v: (c, F.linear(v, w, b)), 0, x)
    assert_close(ys, expected, rtol=1e-5, atol=1e-5)


def test_embedding_errors_and_padding_gradient():
    w = jnp.arange(12.0).reshape(4, 3)
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding(jnp.array([0.0, 1.0]), w)
    with pytest.raises(IndexError, match=r"indices must be in \[0, 4\); got values in \[0, 4\]"):
        F.embedding(jnp.array([0, 4]), w)
    with pytest.raises(ValueError, match=r"padding_idx must be within num_embeddings, in \[-4, 4\); got 4"):
        F.embedding(jnp.array([0]), w, padding_idx=4)
    idx = jnp.array([0, 2, 2, 3])
    g = jax.grad(lambda w_: jnp.sum(F.embedding(idx, w_, padding_idx=2)))(w)
    np.testing.assert_array_equal(np.asarray(g), np.array([[1.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3]))
    assert F.embedding(idx, w).shape == (4, 3)
    assert jax.jit(F.embedding)(idx, w).shape == (4, 3)
    with pytest.raises(NotImplementedError, match="max_norm=2.0"):
        nn.Embedding(4, 3, max_norm=2.0)
    with pytest.raises(ValueError, match=r"weight must be 2-D \(num_embeddings, embedding_dim\); got shape \(12,\)"):
        F.embedding(idx, w.ravel())


def test_embedding_scale_grad_by_freq_under_jit_and_vmap():
    # row 2 is looked up twice: its gradient (ones) is divided by 2; a batch of inputs counts per example
    w, idx = jnp.arange(12.0).reshape(4, 3), jnp.array([[0, 2, 2, 3], [1, 1, 1, 1]])
    grad = jax.jit(jax.vmap(jax.grad(lambda w_, i: jnp.sum(F.embedding(i, w_, scale_grad_by_freq=True))),
                            in_axes=(None, 0)))(w, idx)
    np.testing.assert_array_equal(np.asarray(grad[0, :, 0]), [1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(grad[1, :, 0]), [0.0, 1.0, 0.0, 0.0])


def test_traced_negative_embedding_index_is_not_wrapped():
    w = jnp.arange(12.0).reshape(4, 3)
    out = jax.jit(F.embedding)(jnp.array([-1, 1, 4]), w)  # torch raises; jnp.take would give row 3 for -1
    assert bool(jnp.all(jnp.isnan(out[0]))) and bool(jnp.all(jnp.isnan(out[2])))
    np.testing.assert_array_equal(np.asarray(out[1]), np.asarray(w[1]))


def test_one_hot():
    t = jnp.array([[0, 2], [1, 1]])
    np.testing.assert_array_equal(np.asarray(F.one_hot(t)), np.eye(3, dtype=int)[np.asarray(t)])  # infers 3
    with pytest.raises(TypeError, match="index tensor"):
        F.one_hot(jnp.array([0.0]), 3)
    with pytest.raises(ValueError, match=r"class values must be in \[0, 2\)"):
        F.one_hot(t, 2)
    with pytest.raises(ValueError, match="num_classes=-1 needs concrete values"):
        jax.jit(F.one_hot)(t)
    assert jax.jit(lambda a: F.one_hot(a, 4))(t).shape == (2, 2, 4)
    # torch always returns int64; here the default JAX integer, whatever the index dtype
    for dt in (jnp.int8, jnp.uint8, jnp.int32):
        assert F.one_hot(t.astype(dt), 3).dtype == jnp.int32
    with pytest.raises(ValueError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(jnp.zeros((0,), jnp.int32))  # torch raises the same
    assert F.one_hot(jnp.zeros((0,), jnp.int32), 3).shape == (0, 3)


def test_index_checks_accept_concrete_arrays_captured_by_jit():
    # A concrete array closed over by a jitted function is checked (not staged into the trace).
    w = jnp.arange(12.0).reshape(4, 3)
    idx, bad = jnp.array([0, 3]), jnp.array([1, 5])
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda w_: F.embedding(idx, w_))(w)), np.asarray(w)[[0, 3]])
    with pytest.raises(IndexError, match=r"got values in \[1, 5\]"):
        jax.jit(lambda w_: F.embedding(bad, w_))(w)
    assert jax.jit(lambda w_: F.one_hot(idx).astype(w_.dtype) * w_[0, 0])(w).shape == (2, 4)
    with pytest.raises(ValueError, match=r"Target 5 is out of bounds"):
        jax.jit(lambda w_: F.cross_entropy(w_[:2], bad))(w)
