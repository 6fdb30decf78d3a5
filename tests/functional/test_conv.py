"""conv1d/conv2d/conv_transpose*: error messages, 'same' padding, transformations (values and gradients
against torch are the "conv" parity cases)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F
from tests.helpers import assert_close


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(jnp.ones((2, 3)), jnp.ones((4, 3, 3, 3))),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of shape \(2, 3\)"),
    (lambda: F.conv1d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3))),
     r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d, but got input of shape \(1, 2, 5, 5\)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 3, 3, 3))),
     r"expected input\(1, 2, 5, 5\) to have 3 channels, but got 2 channels instead"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((3, 1, 3, 3)), groups=2),
     r"conv2d: weight's dimension 0 must be divisible by groups=2; got weight of shape \(3, 1, 3, 3\)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3, 3)), jnp.ones(3)),
     r"conv2d: bias must have shape \(4,\) for weight \(4, 2, 3, 3\); got bias of shape \(3,\)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3))),
     r"expected a 4D weight .* got weight of shape \(4, 2, 3\)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 7, 7))),
     r"the \(dilated\) kernel \(7 x 7\) must fit in the padded input \(5 x 5\)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3, 3)), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions; got stride=\(2, 2\)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3, 3)), padding="full"),
     r"Invalid padding string 'full'"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3, 3)), padding=-1), "negative padding"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3, 3)), stride=(1, 2, 3)),
     r"expected stride to be a single integer value or a list of 2 values .* got stride=\(1, 2, 3\)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3, 3)), dilation=0),
     "dilation should be greater than zero"),
    (lambda: F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 2, 3, 3)), groups=0),
     "conv2d: groups must be an int ≥ 1; got 0"),
    (lambda: F.conv_transpose2d(jnp.ones((1, 2, 5, 5)), jnp.ones((2, 4, 3, 3)), output_padding=1),
     r"output padding must be smaller than either stride or dilation, but got output_padding=\(1, 1\), "
     r"stride=\(1, 1\)"),
    (lambda: F.conv_transpose2d(jnp.ones((1, 2, 5, 5)), jnp.ones((3, 4, 3, 3))),
     r"expected input\(1, 2, 5, 5\) to have 3 channels, but got 2 channels instead"),
])
def test_conv_errors_name_expected_and_actual(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_conv_dtype_mismatch_raises(x64):
    with pytest.raises(TypeError, match="input, weight must have the same dtype .*got input float64, weight float32"):
        F.conv2d(jnp.ones((1, 2, 5, 5), jnp.float64), jnp.ones((4, 2, 3, 3), jnp.float32))


def test_same_padding_even_kernel_puts_the_extra_at_the_end():
    """A 2×2 kernel of ones picking the top-left element: 'same' pads one row/column at the bottom/right only."""
    x = jnp.arange(9.0).reshape(1, 1, 3, 3)
    w = jnp.zeros((1, 1, 2, 2)).at[0, 0, 0, 0].set(1.0)
    np.testing.assert_array_equal(F.conv2d(x, w, padding="same"), x)  # torch: out[i, j] = x[i, j]
    w = jnp.zeros((1, 1, 2, 2)).at[0, 0, 1, 1].set(1.0)  # the bottom-right tap reads the zero padding at the end
    expected = np.array([[4.0, 5.0, 0.0], [7.0, 8.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(F.conv2d(x, w, padding="same")[0, 0], expected)
    # dilation 2 with a 2-tap kernel: total 2, split (1, 1)
    assert (F.conv1d(jnp.ones((1, 1, 5)), jnp.ones((1, 1, 2)), padding="same", dilation=2).tolist()
            == [[[1, 2, 2, 2, 1]]])


def test_conv_transpose_is_the_gradient_of_conv():
    """conv_transpose2d(y, w) equals the VJP of conv2d(·, w) at y (torch's definition),
    stride/padding/dilation/groups."""
    kx, kw, ky = jax.random.split(jax.random.key(0), 3)
    x, w = jax.random.normal(kx, (2, 4, 9, 8)), jax.random.normal(kw, (6, 2, 3, 2))
    conv = lambda a: F.conv2d(a, w, None, (2, 1), (1, 0), (1, 2), 2)  # noqa: E731
    y, vjp = jax.vjp(conv, x)
    ct = jax.random.normal(ky, y.shape)
    out = F.conv_transpose2d(ct, w, None, (2, 1), (1, 0), 0, 2, (1, 2))  # (5 − 1)·2 − 2 + 3 = 9 rows
    assert_close(out, vjp(ct)[0], rtol=1e-4, atol=1e-4)


def test_conv_under_jit_vmap_and_scan():
    kx, kw = jax.random.split(jax.random.key(1))
    xs, w, b = jax.random.normal(kx, (3, 2, 5, 6)), jax.random.normal(kw, (4, 2, 3, 3)), jnp.arange(4.0)
    batched = F.conv2d(xs, w, b, padding=1)
    assert_close(jax.jit(jax.vmap(lambda x: F.conv2d(x, w, b, padding=1)))(xs), batched, rtol=1e-5, atol=1e-5)
    _, ys = jax.lax.scan(lambda c, x: (c, F.conv2d(x, w, b, padding=1)), 0, xs)
    assert_close(ys, batched, rtol=1e-5, atol=1e-5)
    assert jax.grad(lambda w_: jnp.sum(F.conv2d(xs, w_, b)))(w).shape == w.shape
