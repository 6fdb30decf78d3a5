"""Issue 20's items 3-4 beyond the parity cases: the random ops' deterministic parts against torch's arithmetic
and their random parts by statistics (rrelu, dropout3d, alpha_dropout, feature_alpha_dropout, gumbel_softmax),
the in-place spellings' refusal, the argument checks torch makes, and the modules' constructor signatures."""
import dataclasses
import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import functional as F
from jaxdl import nn

KEY = jax.random.key(0)


# --- the in-place spellings ---------------------------------------------------------------------------------
def test_every_inplace_spelling_of_torch_is_present_and_refuses_naming_the_out_of_place_function():
    names = sorted(n for n in dir(torch.nn.functional) if n.endswith("_") and not n.startswith("_"))
    assert names and set(names) <= set(F.__all__)
    for name in names:
        with pytest.raises(TypeError, match=rf"immutable.*y = {name[:-1]}\(x"):
            getattr(F, name)(jnp.ones(3))
    y = F.relu(jnp.array([-1.0, 2.0]), inplace=True)  # the flag itself stays accepted (checks.check_inplace)
    assert y.tolist() == [0.0, 2.0]


# --- rrelu ------------------------------------------------------------------------------------------------------
def test_rrelu_training_slopes_are_uniform_and_are_the_gradient():
    lower, upper, n = 0.1, 0.4, 100_000
    x = (-jnp.ones(n)).at[:3].set(jnp.array([0.0, 2.0, jnp.nan]))
    y, vjp = jax.vjp(lambda v: F.rrelu(v, lower, upper, True, key=KEY), x)
    (g,) = vjp(jnp.ones(n))
    slopes = -np.asarray(y[3:])
    assert lower <= slopes.min() and slopes.max() <= upper
    assert abs(slopes.mean() - (lower + upper) / 2) < 5 * (upper - lower) / math.sqrt(12 * n)
    assert abs(slopes.var() - (upper - lower) ** 2 / 12) < 0.05 * (upper - lower) ** 2 / 12
    np.testing.assert_array_equal(np.asarray(g[3:]), slopes)  # torch: grad · noise, noise = the slope
    assert float(g[1]) == 1.0 and float(g[2]) == 1.0 and lower <= float(g[0]) <= upper  # x > 0 and NaN: 1
    assert np.array_equal(np.asarray(F.rrelu(x, lower, upper, True, key=KEY)), np.asarray(y), equal_nan=True)
    assert not np.array_equal(np.asarray(F.rrelu(x, lower, upper, True, key=jax.random.key(1))), np.asarray(y))


def test_rrelu_checks_as_torch():
    with pytest.raises(RuntimeError):
        torch.nn.functional.rrelu(torch.ones(2), 0.3, 0.1)
    with pytest.raises(ValueError, match="lower must be less than or equal to upper"):
        F.rrelu(jnp.ones(2), 0.3, 0.1)
    with pytest.raises(ValueError, match="needs a PRNG key"):
        F.rrelu(jnp.ones(2), training=True)


# --- dropout3d, alpha_dropout, feature_alpha_dropout -------------------------------------------------------------
def test_dropout3d_drops_whole_channels_at_rate_p():
    p, x = 0.3, jnp.ones((40, 50, 2, 2, 3))
    y = np.asarray(F.dropout3d(x, p, key=KEY))
    blocks = y.reshape(40, 50, -1)
    assert np.all(blocks.min(-1) == blocks.max(-1))  # one draw per (N, C)
    kept = blocks[..., 0] != 0
    assert abs(kept.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_allclose(blocks[kept], 1 / (1 - p), rtol=1e-6)
    unbatched = np.asarray(F.dropout3d(jnp.ones((64, 2, 2, 2)), p, key=KEY)).reshape(64, -1)
    assert np.all(unbatched.min(-1) == unbatched.max(-1))  # channels in dim 0
    with pytest.warns(UserWarning, match="dropout3d"):
        F.dropout3d(jnp.ones((2, 3, 4)), p, key=KEY)


def _torch_alpha_dropout(x, noise, p):
    """torch's _dropout_impl<alpha_dropout> from a given 0/1 noise, op for op (aten/src/ATen/native/Dropout.cpp)."""
    alpha = 1.7580993408473766
    a = 1. / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = noise.add(-1).mul_(alpha * a).add_(alpha * a * p)
    noise = noise.mul(a)
    return x.mul(noise).add_(b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_is_torchs_arithmetic_on_its_mask(dtype, feature):
    p, shape = 0.2, (6, 5, 4)
    with jax.enable_x64(dtype == np.float64):
        x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
        fn = F.feature_alpha_dropout if feature else F.alpha_dropout
        y = np.asarray(fn(jnp.asarray(x), p, True, key=KEY))
        mask_shape = (6, 5, 1) if feature else shape
        kept = np.asarray(fn(jnp.ones(shape, dtype), p, True, key=KEY)) > 0.5  # a·1 + 0 vs the drop constant
    noise = torch.from_numpy(np.broadcast_to(kept[:, :, :1] if feature else kept, mask_shape).astype(dtype).copy())
    expected = _torch_alpha_dropout(torch.from_numpy(x), noise.expand(shape).contiguous() if feature else noise, p)
    np.testing.assert_array_equal(y, expected.numpy())
    if feature:
        assert np.all(kept.min(-1) == kept.max(-1))


def test_alpha_dropout_keeps_mean_and_variance_and_drops_at_rate_p():
    p, n = 0.3, 400_000
    x = jax.random.normal(jax.random.key(2), (n,))
    y = np.asarray(F.alpha_dropout(x, p, True, key=KEY))
    alpha = 1.7580993408473766
    a = 1 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    dropped = np.isclose(y, -alpha * a + alpha * a * p, rtol=0, atol=1e-6)
    assert abs(dropped.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.02


def test_alpha_dropouts_eval_and_edges_as_torch():
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    for fn, tfn in ((F.alpha_dropout, torch.nn.functional.alpha_dropout),
                    (F.feature_alpha_dropout, torch.nn.functional.feature_alpha_dropout)):
        np.testing.assert_array_equal(np.asarray(fn(jnp.asarray(x), 0.5)), tfn(torch.from_numpy(x), 0.5).numpy())
        np.testing.assert_array_equal(np.asarray(fn(jnp.asarray(x), 1.0, True)),
                                      tfn(torch.from_numpy(x), 1.0, True).numpy())
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(jnp.ones(3), 0.5, True, key=KEY)
    with pytest.raises(ValueError, match="probability"):
        F.alpha_dropout(jnp.ones(3), 1.5)


# --- gumbel_softmax ------------------------------------------------------------------------------------------------
def test_gumbel_softmax_is_torchs_formula_on_jaxs_gumbel_noise():
    with jax.enable_x64(True):
        logits = jax.random.normal(jax.random.key(3), (4, 6), jnp.float64)
        g = jax.random.gumbel(KEY, logits.shape, jnp.float64)
        for tau, dim in ((1.0, -1), (0.5, 0)):
            expected = ((torch.tensor(np.array(logits)) + torch.tensor(np.array(g))) / tau).softmax(dim)
            soft = F.gumbel_softmax(logits, tau, dim=dim, key=KEY)
            np.testing.assert_allclose(np.asarray(soft), expected.numpy(), rtol=1e-12)
            hard = np.asarray(F.gumbel_softmax(logits, tau, True, dim=dim, key=KEY))
            index = expected.argmax(dim, keepdim=True)
            np.testing.assert_array_equal(hard, torch.zeros_like(expected).scatter_(dim, index, 1.0).numpy())
        w = jax.random.normal(jax.random.key(4), logits.shape, jnp.float64)  # straight-through: the soft gradient
        grad_hard = jax.grad(lambda v: jnp.sum(w * F.gumbel_softmax(v, 0.7, True, key=KEY)))(logits)
        grad_soft = jax.grad(lambda v: jnp.sum(w * F.gumbel_softmax(v, 0.7, False, key=KEY)))(logits)
        np.testing.assert_allclose(np.asarray(grad_hard), np.asarray(grad_soft), rtol=1e-12, atol=1e-15)


def test_gumbel_softmax_hard_samples_follow_the_softmax():
    n, logits = 40_000, jnp.array([0.5, -1.0, 1.5, 0.0])
    keys = jax.random.split(jax.random.key(5), n)
    hard = np.asarray(jax.vmap(lambda k: F.gumbel_softmax(logits, 1.0, True, key=k))(keys))
    freq, probs = hard.mean(0), np.asarray(jax.nn.softmax(logits))  # the Gumbel-max trick
    assert np.all(np.abs(freq - probs) < 5 * np.sqrt(probs * (1 - probs) / n))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        F.gumbel_softmax(logits)
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(logits, eps=1e-3, key=KEY)


# --- argument checks that torch makes too ------------------------------------------------------------------------
@pytest.mark.parametrize("jax_call,torch_call", [
    (lambda: F.softshrink(jnp.ones(3), -1.0), lambda: torch.nn.functional.softshrink(torch.ones(3), -1.0)),
    (lambda: F.pdist(jnp.ones(3)), lambda: torch.nn.functional.pdist(torch.ones(3))),
    (lambda: F.pdist(jnp.ones((3, 2)), -1.0), lambda: torch.nn.functional.pdist(torch.ones(3, 2), -1.0)),
    (lambda: F.local_response_norm(jnp.ones((2, 3)), 2),
     lambda: torch.nn.functional.local_response_norm(torch.ones(2, 3), 2)),
    (lambda: nn.CircularPad2d(1).apply({}, {}, jnp.ones((2, 2))), lambda: torch.nn.CircularPad2d(1)(torch.ones(2, 2))),
    (lambda: nn.CircularPad1d(1).apply({}, {}, jnp.ones((1, 2, 2, 2))),
     lambda: torch.nn.CircularPad1d(1)(torch.ones(1, 2, 2, 2))),
    (lambda: nn.Softmax2d().apply({}, {}, jnp.ones((2, 2))), lambda: torch.nn.Softmax2d()(torch.ones(2, 2))),
    (lambda: nn.CrossMapLRN2d(3).apply({}, {}, jnp.ones((2, 3, 4))),
     lambda: torch.nn.CrossMapLRN2d(3)(torch.ones(2, 3, 4))),
    (lambda: nn.ReflectionPad2d(3).apply({}, {}, jnp.ones((1, 2, 2))),
     lambda: torch.nn.ReflectionPad2d(3)(torch.ones(1, 2, 2))),
])
def test_refused_where_torch_refuses(jax_call, torch_call):
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        torch_call()
    with pytest.raises(ValueError):
        jax_call()


# --- the modules' constructors are torch's -------------------------------------------------------------------------
NEW_MODULES = ["Threshold", "Hardshrink", "Softshrink", "Tanhshrink", "RReLU", "Softmin", "LogSoftmax", "Softmax2d",
               "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "LocalResponseNorm", "CrossMapLRN2d",
               "CosineSimilarity", "PairwiseDistance"] + [
    f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for d in (1, 2, 3)]


@pytest.mark.parametrize("name", NEW_MODULES)
def test_constructor_arguments_and_defaults_are_torchs(name):
    params = list(inspect.signature(getattr(torch.nn, name).__init__).parameters.values())[1:]
    expected = [(p.name, p.default) for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]  # not Module's *args
    got = [(f.name, f.default if f.default is not dataclasses.MISSING else inspect.Parameter.empty)
           for f in dataclasses.fields(getattr(nn, name))]
    assert got == expected
    assert name in nn.__all__


def test_padding_int_repeats_and_tuples_stay_as_torch():
    for d in (1, 2, 3):
        assert getattr(nn, f"ZeroPad{d}d")(2).padding == getattr(torch.nn, f"ZeroPad{d}d")(2).padding
        assert getattr(nn, f"ConstantPad{d}d")([1, 2], 0.5).padding == (1, 2)
