"""Parity cases for issue 20's item 2 (resampling and rearranging): pixel_shuffle/unshuffle, channel_shuffle,
fold/unfold, interpolate and its modules, grid_sample and affine_grid. Each against torch's own function or
module, in the group "resample". CI runs the two "CI part" cases and every 4th of the sweeps (parity.in_ci);
``pytest --parity-all`` runs them all.
"""
import warnings

import numpy as np

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.parity._core import compare_function, register


def _pairs(env, pairs, inputs):
    """``pairs`` of (jaxdl fn, torch fn, index of its input) compared in one jitted function: outputs and the
    gradients of every input."""
    return compare_function(env, lambda *a: tuple(j(a[i]) for j, _, i in pairs),
                            lambda *a: tuple(t(a[i]) for _, t, i in pairs), inputs,
                            diff_argnums=tuple(range(len(inputs))))


def _modules(env, pairs, inputs):
    """Parameterless modules (jaxdl, torch, index of the input) as ``_pairs``."""
    return _pairs(env, [(lambda a, j=j: j.apply({}, {}, a)[0], t.to(device=env.device, dtype=env.torch_dtype), i)
                        for j, t, i in pairs], inputs)


@register("F pixel_shuffle/unshuffle, channel_shuffle (batch dims, r=1..3)", "resample", sweep=True)
def _shuffle(env):
    tf = env.torch.nn.functional
    x = env.randn(2, 18, 2, 3)
    pairs = [(lambda a, r=r: F.pixel_shuffle(a, r), lambda a, r=r: tf.pixel_shuffle(a, r), 0) for r in (1, 3)]
    pairs += [(lambda a: F.pixel_shuffle(a[None], 3), lambda a: tf.pixel_shuffle(a[None], 3), 0),
              (lambda a: F.pixel_unshuffle(a, 2), lambda a: tf.pixel_unshuffle(a, 2), 1),
              (lambda a: F.pixel_unshuffle(a[0], 3), lambda a: tf.pixel_unshuffle(a[0], 3), 2)]
    pairs += [(lambda a, g=g: F.channel_shuffle(a, g), lambda a, g=g: tf.channel_shuffle(a, g), 0) for g in (2, 3, 6)]
    return _pairs(env, pairs, [x, env.randn(2, 3, 4, 6), env.randn(1, 2, 6, 3)])


@register("F.native_channel_shuffle (values: torch has no derivative for it)", "resample", sweep=True)
def _native_shuffle(env):
    tf = env.torch.nn.functional
    groups = (1, 3, 9)
    return compare_function(env, lambda a: tuple(F.native_channel_shuffle(a, g) for g in groups),
                            lambda a: tuple(tf.native_channel_shuffle(a, g) for g in groups),
                            [env.randn(2, 9, 2, 1)], diff_argnums=())


@register("F fold/unfold (kernel, dilation, padding, stride; overlaps)", "resample", sweep=True)
def _fold(env):
    tf = env.torch.nn.functional
    args = [(2, 1, 0, 1), ((2, 3), (1, 2), (1, 0), (2, 1)), (3, 2, 1, 2), (1, 1, 2, 3)]
    pairs = [(lambda a, g=g: F.unfold(a, *g), lambda a, g=g: tf.unfold(a, *g), 0) for g in args]
    pairs.append((lambda a: F.unfold(a[0], 2), lambda a: tf.unfold(a[0], 2), 0))
    pairs += [(lambda a, g=g: F.fold(a, (5, 6), *g), lambda a, g=g: tf.fold(a, (5, 6), *g), i + 1)
              for i, g in enumerate(args[:3])]
    pairs.append((lambda a: F.fold(a[0], (5, 6), *args[2]), lambda a: tf.fold(a[0], (5, 6), *args[2]), 4))
    return _pairs(env, pairs, [env.randn(2, 3, 5, 6), env.randn(2, 12, 20), env.randn(2, 18, 6),
                               env.randn(2, 27, 4), env.randn(1, 27, 4)])


@register("nn PixelShuffle, PixelUnshuffle, ChannelShuffle, Fold, Unfold", "resample", sweep=True)
def _shuffle_modules(env):
    tnn = env.torch.nn
    pairs = [(nn.PixelShuffle(2), tnn.PixelShuffle(2), 0), (nn.PixelUnshuffle(2), tnn.PixelUnshuffle(2), 0),
             (nn.ChannelShuffle(4), tnn.ChannelShuffle(4), 0),
             (nn.Unfold([2, 3], padding=1), tnn.Unfold([2, 3], padding=1), 0),
             (nn.Fold((4, 6), 2, stride=2), tnn.Fold((4, 6), 2, stride=2), 1)]
    return _modules(env, pairs, [env.randn(2, 8, 4, 6), env.randn(2, 8, 6)])


def _interp_rows(sizes, scales, modes, corners, antialias=False):
    """(kwargs, input index) for every mode × align_corners × size/scale of ``modes`` ({mode: input index})."""
    rows = []
    for mode, i in modes.items():
        for ac in corners if mode not in ("nearest", "nearest-exact", "area") else (None,):
            rows += [(dict(size=s, mode=mode, align_corners=ac, antialias=antialias), i) for s in sizes[i]]
            rows += [(dict(scale_factor=f, mode=mode, align_corners=ac, antialias=antialias,
                           recompute_scale_factor=r), i) for f in scales for r in (False, True)]
    return rows


def _interp(env, rows, inputs):
    tf = env.torch.nn.functional
    return _pairs(env, [(lambda a, k=k: F.interpolate(a, **k), lambda a, k=k: tf.interpolate(a, **k), i)
                        for k, i in rows], inputs)


_SIZES = {0: [7, 3, 12], 1: [(7, 5), (3, 11), (12, 10)], 2: [(5, 2, 7), (2, 6, 4)]}


@register("F.interpolate nearest, nearest-exact, area (1-3 spatial dims, sizes, scales)", "resample", sweep=True)
def _interp_nearest(env):
    modes = {m: i for m in ("nearest", "nearest-exact", "area") for i in range(3)}
    rows = [(dict(k, mode=m), i) for (k, i), m in
            ((r, r[0]["mode"]) for r in _interp_rows(_SIZES, (2.0, 1.7, 0.6, 3.0), modes, (None,)))]
    return _interp(env, rows, [env.randn(2, 3, 6), env.randn(1, 2, 6, 5), env.randn(1, 2, 3, 4, 5)])


@register("F.interpolate linear, bilinear, bicubic, trilinear (align_corners, sizes, scales)", "resample",
          sweep=True)
def _interp_linear(env):
    modes = {"linear": 0, "bilinear": 1, "bicubic": 1, "trilinear": 2}
    rows = _interp_rows(_SIZES, (2.0, 1.7, 0.6), modes, (False, True))
    rows = [(k, i) for k, i in rows if i != 2 or "size" in k or k["scale_factor"] != 0.6]
    return _interp(env, rows, [env.randn(2, 3, 6), env.randn(1, 2, 6, 5), env.randn(1, 2, 3, 4, 5)])


@register("F.interpolate antialias bilinear, bicubic (down- and upsampling)", "resample", sweep=True)
def _interp_antialias(env):
    sizes = {0: [(3, 4), (2, 9), (7, 13), (12, 3)]}
    rows = _interp_rows(sizes, (0.3, 0.55, (0.5, 1.5)), {"bilinear": 0, "bicubic": 0}, (False, True), True)
    return _interp(env, rows, [env.randn(2, 2, 9, 11)])


@register("F.interpolate (CI part: every mode once, the 2× fast path, NaN/inf)", "resample")
def _interp_ci(env):
    x = env.randn(1, 2, 5, 4)
    x[0, 1, 0, :2] = (np.nan, np.inf)
    rows = [(dict(scale_factor=2, mode="nearest"), 0), (dict(size=(7, 3), mode="nearest-exact"), 0),
            (dict(size=(3, 7), mode="bilinear"), 0), (dict(size=(8, 6), mode="bicubic", align_corners=True), 0),
            (dict(size=(2, 3), mode="area"), 0), (dict(scale_factor=0.6, mode="bicubic", antialias=True), 0),
            (dict(size=(3, 2), mode="bilinear", antialias=True, align_corners=True), 0),
            (dict(scale_factor=1.5, mode="linear"), 1), (dict(size=(2, 5, 3), mode="trilinear"), 2)]
    return _interp(env, rows, [x, env.randn(2, 3, 5), env.randn(1, 2, 3, 2, 4)])


@register("F.upsample, upsample_nearest, upsample_bilinear (torch's deprecated names)", "resample", sweep=True)
def _upsample(env):
    tf = env.torch.nn.functional
    calls = [("upsample", dict(scale_factor=2, mode="bilinear")), ("upsample", dict(size=5)),
             ("upsample_nearest", dict(scale_factor=1.5)), ("upsample_bilinear", dict(size=(3, 7)))]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`nn.functional.upsample")
        return _pairs(env, [(lambda a, n=n, k=k: getattr(F, n)(a, **k), lambda a, n=n, k=k: getattr(tf, n)(a, **k), 0)
                            for n, k in calls], [env.randn(2, 3, 4, 5)])


@register("nn Upsample, UpsamplingNearest2d, UpsamplingBilinear2d", "resample", sweep=True)
def _upsample_modules(env):
    tnn = env.torch.nn
    pairs = [(nn.Upsample(scale_factor=2, mode="bilinear"), tnn.Upsample(scale_factor=2, mode="bilinear"), 0),
             (nn.Upsample(size=[3, 7], mode="bicubic", align_corners=True),
              tnn.Upsample(size=[3, 7], mode="bicubic", align_corners=True), 0),
             (nn.Upsample(scale_factor=1.5, mode="nearest", recompute_scale_factor=True),
              tnn.Upsample(scale_factor=1.5, mode="nearest", recompute_scale_factor=True), 0),
             (nn.Upsample(scale_factor=(2, 1, 3), mode="trilinear"), tnn.Upsample(scale_factor=(2, 1, 3),
                                                                                    mode="trilinear"), 1),
             (nn.UpsamplingNearest2d(scale_factor=3), tnn.UpsamplingNearest2d(scale_factor=3), 0),
             (nn.UpsamplingBilinear2d((5, 9)), tnn.UpsamplingBilinear2d((5, 9)), 0)]
    return _modules(env, pairs, [env.randn(2, 3, 4, 5), env.randn(1, 2, 3, 2, 4)])


def _grid(env, *shape):
    """uniform(−1.4, 1.4) sampling points (out of range too), with the exact edges ±1 and 0 in the first row."""
    g = env.uniform(*shape, low=-1.4, high=1.4)
    g.reshape(-1, shape[-1])[:3] = np.array([[-1.0], [1.0], [0.0]], g.dtype)
    return g


def _grid_rows(modes, corners=(False, True)):
    return [dict(mode=m, padding_mode=p, align_corners=a) for m in modes for p in ("zeros", "border", "reflection")
            for a in corners]


def _sample(env, rows, x, g):
    tf = env.torch.nn.functional
    return compare_function(env, lambda a, b: tuple(F.grid_sample(a, b, **k) for k in rows),
                            lambda a, b: tuple(tf.grid_sample(a, b, **k) for k in rows), [x, g],
                            diff_argnums=(0, 1))


@register("F.grid_sample 4-D (bilinear, nearest, bicubic × zeros, border, reflection × align_corners)",
          "resample", sweep=True)
def _grid_sample_2d(env):
    return _sample(env, _grid_rows(("bilinear", "nearest", "bicubic")), env.randn(2, 3, 4, 5), _grid(env, 2, 3, 6, 2))


@register("F.grid_sample 5-D (bilinear, nearest × zeros, border, reflection × align_corners)", "resample",
          sweep=True)
def _grid_sample_3d(env):
    return _sample(env, _grid_rows(("bilinear", "nearest")), env.randn(1, 2, 3, 4, 5), _grid(env, 1, 2, 3, 4, 3))


@register("F.grid_sample (CI part: one of each mode and padding, a 1-pixel axis)", "resample")
def _grid_sample_ci(env):
    rows = [dict(mode="bilinear", padding_mode="reflection", align_corners=True),
            dict(mode="bicubic", padding_mode="border", align_corners=False),
            dict(mode="nearest", padding_mode="zeros", align_corners=False)]
    return _sample(env, rows, env.randn(2, 2, 1, 5), _grid(env, 2, 4, 3, 2))


@register("F.affine_grid (2-D, 3-D, align_corners) and through grid_sample", "resample", sweep=True)
def _affine_grid(env):
    tf = env.torch.nn.functional
    s2, s3 = (2, 1, 4, 5), (2, 1, 3, 2, 4)

    def run(f, a, b, x):
        return (f.affine_grid(a, s2, align_corners=False), f.affine_grid(a, s2, align_corners=True),
                f.affine_grid(b, s3, align_corners=False), f.affine_grid(b, s3, align_corners=True),
                f.grid_sample(x, f.affine_grid(a, (2, 3, 3, 6), align_corners=False), align_corners=False))
    return compare_function(env, lambda a, b, x: run(F, a, b, x), lambda a, b, x: run(tf, a, b, x),
                            [env.randn(2, 2, 3), env.randn(2, 3, 4), env.randn(2, 3, 4, 5)], diff_argnums=(0, 1, 2))
