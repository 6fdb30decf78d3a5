"""issue 20's item 2 (resampling and rearranging): inputs torch refuses are refused (one line, at call time), and
torch's integer dtypes pass through where torch computes them. Values and gradients: torch's OpInfo samples
(tests/test_op_db.py, every variant) and jaxdl.parity's cases (_cases_resample)."""
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import functional as F

tF = torch.nn.functional

def _both_refuse(fn, tfn, x, *args, match, **kwargs):
    with pytest.raises((RuntimeError, ValueError, TypeError, NotImplementedError, IndexError)):
        tfn(torch.from_numpy(np.asarray(x)), *args, **kwargs)
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=match):
        fn(x, *args, **kwargs)


@pytest.mark.parametrize("name, shape, args, match", [
    ("pixel_shuffle", (4, 2, 2), (3,), "divisible by the square"),
    ("pixel_shuffle", (4, 2), (2,), "at least 3 dimensions"),
    ("pixel_shuffle", (1, 4, 2, 2), (0,), "upscale_factor must be an int ≥ 1"),
    ("pixel_unshuffle", (1, 1, 3, 4), (2,), "divisible by downscale_factor"),
    ("channel_shuffle", (1, 6, 2), (4,), "divisible by groups"),
    ("channel_shuffle", (1, 6), (2,), "> 2 dims"),
    ("unfold", (1, 1, 3, 3), (4,), "at least one"),
    ("unfold", (1, 3, 3), ((2, 2), 0), "dilation must be greater than zero"),
    ("unfold", (3, 3), (2,), "3-D or 4-D"),
    ("fold", (1, 5, 4), ((3, 3), 2), "divisible by the product of kernel_size"),
    ("fold", (1, 4, 5), ((3, 3), 2), "expected input.size\\(-1\\) to be 4"),
])
def test_rearrangements_refuse_what_torch_refuses(name, shape, args, match):
    _both_refuse(getattr(F, name), getattr(tF, name), np.zeros(shape, np.float32), *args, match=match)


@pytest.mark.parametrize("name, arg", [("pixel_shuffle", 2), ("pixel_unshuffle", 2), ("channel_shuffle", 2)])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_rearrangements_keep_integer_dtypes_as_torch(name, arg, dtype):
    x = np.arange(2 * 4 * 4 * 2).reshape(2, 4, 4, 2).astype(dtype)
    want = getattr(tF, name)(torch.from_numpy(x), arg).numpy()
    got = np.asarray(getattr(F, name)(x, arg))
    assert got.dtype == jnp.asarray(x).dtype and np.array_equal(got, want)  # int64 is JAX's int32 without x64


@pytest.mark.parametrize("shape, kwargs, match", [
    ((1, 1, 4), dict(size=3, mode="bilinear"), "needs a 4-D input"),
    ((1, 1, 4, 4), dict(size=3, mode="trilinear"), "needs a 5-D input"),
    ((1, 1, 4, 4, 4), dict(size=3, mode="bicubic"), "needs a 4-D input"),
    ((1, 4), dict(size=3), "3-D, 4-D or 5-D"),
    ((1, 1, 4), dict(size=3, mode="nearest", align_corners=True), "align_corners can only be set"),
    ((1, 1, 4), dict(size=3, scale_factor=2.0), "only one of size or scale_factor"),
    ((1, 1, 4), dict(), "either size or scale_factor"),
    ((1, 1, 4, 4), dict(size=(3, 3, 3)), "size must have 2 values"),
    ((1, 1, 4, 4), dict(scale_factor=(2.0,)), "scale_factor must have 2 values"),
    ((1, 1, 4), dict(size=2.5), "size must be an int"),
    ((1, 1, 4), dict(size=3, recompute_scale_factor=True), "recompute_scale_factor is not meaningful"),
    ((1, 1, 4), dict(size=3, mode="linear", antialias=True), "antialias is restricted"),
    ((1, 1, 4), dict(scale_factor=0.1), "sizes must be greater than 0"),
    ((1, 1, 4), dict(size=3, mode="cubic"), "mode must be one of"),
])
def test_interpolate_refuses_what_torch_refuses(shape, kwargs, match):
    _both_refuse(F.interpolate, tF.interpolate, np.zeros(shape, np.float32), match=match, **kwargs)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_nearest_keeps_uint8_as_torch(mode):
    x = np.arange(2 * 3 * 5 * 4).reshape(2, 3, 5, 4).astype(np.uint8)
    want = tF.interpolate(torch.from_numpy(x), scale_factor=1.7, mode=mode).numpy()
    got = np.asarray(F.interpolate(x, scale_factor=1.7, mode=mode))
    assert got.dtype == np.uint8 and np.array_equal(got, want)


def test_interpolate_bilinear_refuses_integers_in_one_line():
    with pytest.raises(TypeError, match="needs a floating-point input"):
        F.interpolate(np.zeros((1, 1, 4, 4), np.uint8), size=3, mode="bilinear")


def test_upsample_names_warn_as_torch():
    for name in ("upsample", "upsample_nearest", "upsample_bilinear"):
        with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
            getattr(F, name)(np.zeros((1, 1, 2, 2), np.float32), scale_factor=2)


@pytest.mark.parametrize("x_shape, g_shape, kwargs, match", [
    ((1, 1, 3, 3), (1, 2, 2, 2), dict(mode="linear"), "mode must be one of"),
    ((1, 1, 3, 3), (1, 2, 2, 2), dict(padding_mode="circular"), "padding_mode must be one of"),
    ((1, 1, 3, 3, 3), (1, 2, 2, 2, 3), dict(mode="bicubic"), "bicubic interpolation only supports 4-D"),
    ((1, 1, 3, 3), (1, 2, 2, 3), dict(), "expected grid of shape"),
    ((2, 1, 3, 3), (1, 2, 2, 2), dict(), "expected grid of shape"),
    ((1, 1, 3, 3), (1, 2, 2, 2, 2), dict(), "a grid of the same rank"),
])
def test_grid_sample_refuses_what_torch_refuses(x_shape, g_shape, kwargs, match):
    x, g = np.zeros(x_shape, np.float32), np.zeros(g_shape, np.float32)
    with pytest.raises((RuntimeError, ValueError)):
        tF.grid_sample(torch.from_numpy(x), torch.from_numpy(g), align_corners=False, **kwargs)
    with pytest.raises(ValueError, match=match):
        F.grid_sample(x, g, align_corners=False, **kwargs)


@pytest.mark.parametrize("theta_shape, size, match", [
    ((1, 2, 3), (1, 1, 4, 4, 4), "expected theta of shape \\(1, 3, 4\\)"),
    ((1, 2, 3), (1, 1, 4), "must be 4-D"),
    ((1, 2, 3), (1, 1, 0, 4), "non-zero, positive size"),
])
def test_affine_grid_refuses_what_torch_refuses(theta_shape, size, match):
    _both_refuse(F.affine_grid, tF.affine_grid, np.zeros(theta_shape, np.float32), size, align_corners=False,
                 match=match)


def test_grid_sample_and_affine_grid_warn_without_align_corners_as_torch():
    theta = np.array([[[1.0, 0, 0], [0, 1, 0]]], np.float32)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = F.affine_grid(theta, (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(np.zeros((1, 1, 2, 2), np.float32), grid)
