"""nn conv/pool modules and Unflatten: torch's init bounds and layouts, constructor errors, specs as static jit
arguments (values and gradients against torch are the "conv" parity cases)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import nn


@pytest.mark.parametrize("module, weight_shape, fan_in", [
    (nn.Conv2d(8, 16, 3), (16, 8, 3, 3), 72),
    (nn.Conv2d(8, 16, (3, 5), groups=4), (16, 2, 3, 5), 30),
    (nn.Conv1d(6, 4, 5, groups=2), (4, 3, 5), 15),
    (nn.ConvTranspose2d(4, 16, 3), (4, 16, 3, 3), 144),  # torch's fan_in reads weight.size(1) = out/groups
    (nn.ConvTranspose2d(4, 6, (2, 3), groups=2), (4, 3, 2, 3), 18),
    (nn.ConvTranspose1d(3, 5, 4), (3, 5, 4), 20),
])
def test_init_is_torch_kaiming_uniform_a_sqrt5(module, weight_shape, fan_in):
    params, state = module.init(jax.random.key(0))
    bound = 1 / math.sqrt(fan_in)
    assert params["weight"].shape == weight_shape and params["bias"].shape == (module.out_channels,) and state == {}
    for p in params.values():
        assert float(jnp.max(jnp.abs(p))) <= bound
    assert float(jnp.max(jnp.abs(params["weight"]))) > 0.9 * bound  # uniform over the whole range


def test_conv_without_bias_and_dtype():
    params, _ = nn.Conv2d(2, 3, 3, bias=False).init(jax.random.key(0), jnp.bfloat16)
    assert list(params) == ["weight"] and params["weight"].dtype == jnp.bfloat16


@pytest.mark.parametrize("make, match", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"),
     r"padding_mode must be one of .* but got padding_mode='mirror'"),
    (lambda: nn.Conv2d(4, 4, 3, padding="full"), r"Invalid padding string 'full'"),
    (lambda: nn.Conv2d(4, 4, 3, stride=2, padding="same"), "padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(4, 4, (3, 3, 3)), r"kernel_size .* list of 2 values"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"), 'Only "zeros" padding mode is supported'),
])
def test_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_specs_are_hashable_static_jit_arguments():
    x = jnp.ones((2, 3, 8, 8))
    model = nn.Sequential(nn.Conv2d(3, 4, [3, 3], padding=[1, 1], padding_mode="circular"), nn.MaxPool2d([2, 2]),
                          nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Unflatten(1, [2, 2]))
    hash(model)  # lists became tuples
    params, state = model.init(jax.random.key(0))
    run = jax.jit(lambda m, p, s, x: m.apply(p, s, x)[0], static_argnums=0)
    assert run(model, params, state, x).shape == (2, 2, 2)
    assert nn.Conv2d(3, 4, 3).kernel_size == (3, 3) and nn.Conv1d(3, 4, 3, padding=2).padding == (2,)


def test_unflatten_errors_and_inference():
    y, _ = nn.Unflatten(-1, (2, -1)).apply({}, {}, jnp.ones((3, 8)))
    assert y.shape == (3, 2, 4)
    with pytest.raises(ValueError, match=r"the sizes \[2, 3\] must multiply to dim 1's size \(7\)"):
        nn.Unflatten(1, (2, 3)).apply({}, {}, jnp.ones((2, 7)))
    with pytest.raises(ValueError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        nn.Unflatten(2, (2, 3)).apply({}, {}, jnp.ones((2, 6)))


def test_pool_modules_return_indices_as_a_pair():
    (y, idx), _ = nn.MaxPool2d(2, return_indices=True).apply({}, {}, jnp.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(idx[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(y[0, 0], [[5.0, 7.0], [13.0, 15.0]])


def test_conv_transpose_output_size_errors():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2)
    params, state = m.init(jax.random.key(0))
    y, _ = m.apply(params, state, jnp.ones((1, 2, 4, 4)), output_size=(10, 9))
    assert y.shape == (1, 3, 10, 9)
    with pytest.raises(ValueError, match=r"output_size \[11, 9\] must lie between \[9, 9\] and "
                                         r"\[10, 10\] for an input of \[4, 4\]"):
        m.apply(params, state, jnp.ones((1, 2, 4, 4)), output_size=(11, 9))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements for a 4-D input; got 1"):
        m.apply(params, state, jnp.ones((1, 2, 4, 4)), output_size=(11,))
