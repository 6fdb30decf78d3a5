"""Pooling and pad: error messages, torch's tie/NaN/ceil_mode rules on known figures, transformations (values
and gradients against torch are the "conv" parity cases)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F


@pytest.mark.parametrize("call, match", [
    (lambda: F.max_pool2d(jnp.ones((5, 5)), 2), r"max_pool2d: Expected 3D .* or 4D .* got input of shape \(5, 5\)"),
    (lambda: F.max_pool1d(jnp.ones(5), 2), r"max_pool1d: Expected 2D .* or 3D .* got input of shape \(5,\)"),
    (lambda: F.max_pool2d(jnp.ones((1, 2, 5, 5)), 3, padding=2),
     r"pad should be at most half of effective kernel size, but got pad=\(2, 2\), kernel_size=\(3, 3\)"),
    (lambda: F.max_pool2d(jnp.ones((1, 2, 5, 5)), 7),
     r"Given input size: \(5, 5\)\. Calculated output size: \(0, 0\)\. Output size is too small"),
    (lambda: F.avg_pool2d(jnp.ones((1, 2, 5, 5)), 3, divisor_override=0), "divisor must be not zero"),
    (lambda: F.max_pool2d(jnp.ones((1, 2, 5, 5)), 2, stride=0),
     r"greater than zero, but got kernel_size=\(2, 2\), stride=\(0, 0\)"),
    (lambda: F.adaptive_avg_pool2d(jnp.ones(5), 2), r"adaptive_avg_pool2d\(\): Expected 3D or 4D .* shape \(5,\)"),
    (lambda: F.adaptive_avg_pool2d(jnp.ones((1, 5, 5)), (2, 3, 4)),
     r"output_size must be 2 values .*got output_size=\(2, 3, 4\)"),
    (lambda: F.pad(jnp.ones((1, 2, 5, 5)), (1, 2, 3)), r"Padding length must be divisible by 2; got pad=\(1, 2, 3\)"),
    (lambda: F.pad(jnp.ones((1, 2, 5, 5)), (5, 5, 0, 0), mode="reflect"),
     r"Padding size should be less than the corresponding input dimension, but got: padding \(5, 5\) at dimension 3"),
    (lambda: F.pad(jnp.ones((1, 2, 5, 5)), (6, 0, 0, 0), mode="circular"), "wrapping around more than once"),
    (lambda: F.pad(jnp.ones((1, 2, 5, 5)), (1, 1), mode="replicate"),
     r"Padding size 2 is not supported for 4D input tensor.*shape \(1, 2, 5, 5\)"),
    (lambda: F.pad(jnp.ones((1, 2, 5, 5)), (1, 1, 1, 1), mode="reflect", value=1.0), "doesn't take in value argument"),
    (lambda: F.pad(jnp.ones((1, 2, 5, 5)), (1, 1), mode="wrap"), "mode must be one of"),
    (lambda: F.pad(jnp.ones((1, 2, 5, 5)), (-3, -3)), r"negative size -1"),
])
def test_pool_and_pad_errors_name_expected_and_actual(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_max_pool_tie_sends_the_whole_gradient_to_the_first_maximum():
    """Constant input, overlapping 3×3 windows (stride 1, padding 1): each window's cotangent goes to its first
    valid element in row-major order, torch's CPU scan — a known figure, counted by hand."""
    g = jax.grad(lambda x: jnp.sum(F.max_pool2d(x, 3, 1, 1)))(jnp.ones((1, 4, 4)))
    # window (i, j) picks input (max(i-1, 0), max(j-1, 0)): per dim, inputs 0..3 are picked 2, 1, 1, 0 times
    expected = np.outer([2.0, 1.0, 1.0, 0.0], [2.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(g[0], expected)
    _, idx = F.max_pool2d(jnp.ones((1, 4, 4)), 3, 1, 1, return_indices=True)
    assert idx[0, 0].tolist() == [0, 0, 1, 2]  # flat h·W + w


def test_max_pool_nan_wins_and_the_last_nan_gets_the_gradient():
    x = jnp.array([[1.0, jnp.nan, 5.0, jnp.nan]])
    y, idx = F.max_pool1d(x, 4, return_indices=True)
    assert np.isnan(y[0, 0]) and idx.tolist() == [[3]]
    g = jax.grad(lambda a: jnp.sum(F.max_pool1d(a, 4)))(x)
    assert g.tolist() == [[0.0, 0.0, 0.0, 1.0]]


def test_ceil_mode_last_window_must_start_inside_the_input_or_left_padding():
    # L=5, k=2, s=2, p=1: ceil gives 4 windows starting at -1, 1, 3, 5 — the last starts in the right padding, dropped
    assert F.max_pool1d(jnp.ones((1, 5)), 2, 2, 1, ceil_mode=True).shape == (1, 3)
    assert F.max_pool1d(jnp.ones((1, 6)), 2, 2, 1, ceil_mode=True).shape == (1, 4)
    # avg with ceil_mode: the window running past the padding counts only up to it (count_include_pad)
    np.testing.assert_allclose(F.avg_pool1d(jnp.ones((1, 6)), 3, 2, 1, ceil_mode=True), [[2 / 3, 1.0, 1.0, 0.5]],
                               rtol=1e-6)


def test_adaptive_windows_overlap_as_torch():
    # L=5 → 3: windows [0, 2), [1, 4), [3, 5)
    y = F.adaptive_avg_pool1d(jnp.arange(5.0)[None], 3)
    np.testing.assert_allclose(y, [[0.5, 2.0, 3.5]])
    _, idx = F.adaptive_max_pool1d(jnp.array([[3.0, 3.0, 1.0, 3.0, 0.0]]), 3, return_indices=True)
    assert idx.tolist() == [[0, 1, 3]]


def test_pad_orders_last_dim_first_and_crops_with_negative_entries():
    x = jnp.arange(6.0).reshape(2, 3)
    assert F.pad(x, (1, 0)).shape == (2, 4) and F.pad(x, (0, 0, 2, 0)).shape == (4, 3)
    assert F.pad(x, (-1, 0, 0, -1)).tolist() == [[1.0, 2.0]]
    assert F.pad(jnp.arange(5.0)[None], (-1, 2), mode="circular").tolist() == [[1.0, 2.0, 3.0, 4.0, 1.0, 2.0]]
    assert F.pad(jnp.arange(5.0)[None], (3, -3), mode="reflect").tolist() == [[3.0, 2.0, 1.0, 0.0, 1.0]]


def test_pools_under_jit_vmap_and_grad():
    x = jax.random.normal(jax.random.key(0), (3, 2, 6, 6))
    for fn in (lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), lambda a: F.avg_pool2d(a, 2),
               lambda a: F.adaptive_max_pool2d(a, (4, 3)), lambda a: F.adaptive_avg_pool2d(a, 4)):
        np.testing.assert_allclose(jax.jit(jax.vmap(fn))(x), fn(x), rtol=1e-6)
        assert jax.grad(lambda a: jnp.sum(fn(a)))(x).shape == x.shape
