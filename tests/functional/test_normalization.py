"""batch_norm and layer_norm: errors and transformations (values, gradients, running stats are parity cases)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import functional as F
from tests.helpers import assert_close


def test_batch_norm_errors():
    c = jnp.ones(3)
    with pytest.raises(ValueError, match=r"batch_norm: training needs at least 2 values per channel to take a "
                                         r"variance; got input size \(1, 3\)"):
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


def test_half_precision_layer_norm_and_softmax_are_computed_in_float32_like_torch():
    tF = torch.nn.functional
    x = (np.random.default_rng(0).standard_normal((8, 4096)) + 100.0).astype(np.float32)  # a large mean
    w, b = np.random.default_rng(1).standard_normal((2, 4096)).astype(np.float32)
    for jdt, tdt in ((jnp.float16, torch.float16), (jnp.bfloat16, torch.bfloat16)):
        tx, tw, tb = (torch.tensor(a).to(tdt) for a in (x, w, b))
        jx, jw, jb = (jnp.asarray(a.float().numpy(), jdt) for a in (tx, tw, tb))
        pairs = ((F.layer_norm(jx, 4096, jw, jb), tF.layer_norm(tx, [4096], tw, tb),
                  tF.layer_norm(tx.double(), [4096], tw.double(), tb.double())),
                 (F.log_softmax(jx - 100, -1), tF.log_softmax(tx - 100, -1), tF.log_softmax((tx - 100).double(), -1)),
                 (F.softmax(jx - 100, -1), tF.softmax(tx - 100, -1), tF.softmax((tx - 100).double(), -1)))
        for mine, theirs, exact in pairs:
            assert mine.dtype == jdt
            err, torch_err = (np.abs(np.asarray(a, np.float64) - exact.numpy()).max()
                              for a in (mine, theirs.float().numpy()))
            assert err <= 1.01 * torch_err, (jdt, err, torch_err)  # float16 layer_norm was 25x torch's error


def test_layer_norm_half_input_with_float32_weight_keeps_the_input_dtype():
    x = torch.randn(4, 6).bfloat16()
    w, b = torch.randn(6), torch.randn(6)
    ref = torch.nn.functional.layer_norm(x, [6], w, b)  # torch's CPU mixed type: bfloat16 out
    out = F.layer_norm(jnp.asarray(x.float().numpy(), jnp.bfloat16), 6, jnp.asarray(w.numpy()), jnp.asarray(b.numpy()))
    assert out.dtype == jnp.bfloat16 and ref.dtype == torch.bfloat16
    np.testing.assert_array_equal(np.asarray(out, np.float32), ref.float().numpy())


def test_batch_norm_of_an_empty_input_is_empty_as_torch():
    out, rm, rv = F.batch_norm(jnp.zeros(0), jnp.zeros(0), jnp.zeros(0))  # issue 12: jaxdl used to raise
    assert out.shape == (0,) and rm.shape == (0,)
    out, rm, rv = F.batch_norm(jnp.zeros((0, 3)), jnp.zeros(3), jnp.ones(3), training=True)
    assert out.shape == (0, 3) and float(rv.sum()) == 3.0  # running stats unchanged, as torch
    with pytest.raises(ValueError, match=r"running_mean must have shape \(0,\)"):
        F.batch_norm(jnp.zeros(0), jnp.zeros(3), jnp.ones(3))


def test_group_and_instance_norm_errors():
    x = jnp.ones((2, 6, 4))
    with pytest.raises(ValueError, match=r"divisible by num_groups, but got input of shape \[2, 6, 4\] "
                                         r"and num_groups=4"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match="Expected at least 2 dimensions for input tensor but received 1"):
        F.group_norm(jnp.ones(6), 3)
    with pytest.raises(ValueError, match=r"weight must have shape \(6,\)"):
        F.group_norm(x, 3, jnp.ones(3))
    with pytest.raises(ValueError, match=r"instance_norm: using input statistics needs at least 2 spatial "
                                         r"elements; got input size \[2, 6, 1\]"):
        F.instance_norm(jnp.ones((2, 6, 1)))
    with pytest.raises(ValueError, match="running_mean and running_var must be given when training=False"):
        F.instance_norm(x, use_input_stats=False)
    from jaxdl import nn
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(6).apply(*nn.BatchNorm2d(6).init(jax.random.key(0)), x)
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(6).apply({}, {}, jnp.ones((2, 6)))
    with pytest.warns(UserWarning, match=r"num_features=5 differs from the input's 6 channels"):
        nn.InstanceNorm2d(5).apply({}, {}, jax.random.normal(jax.random.key(0), (2, 6, 3, 3)))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)


def test_group_and_instance_norm_transform():
    x = jax.random.normal(jax.random.key(0), (3, 2, 4, 5, 5))

    def f(a):
        out, rm, rv = F.instance_norm(a, jnp.zeros(4), jnp.ones(4))
        return jnp.sum(F.group_norm(a, 2) * out) + jnp.sum(rm) + jnp.sum(rv)

    assert_close(jax.jit(jax.vmap(f))(x), jax.vmap(f)(x))
    assert bool(jnp.all(jnp.isfinite(jax.jit(jax.grad(lambda a: jnp.sum(jax.vmap(f)(a))))(x))))
