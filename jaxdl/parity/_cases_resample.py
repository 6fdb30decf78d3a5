"""Parity cases for issue 20's item 2 (resampling and rearranging): pixel_shuffle/unshuffle, channel_shuffle,
fold/unfold, interpolate and its modules, grid_sample and affine_grid. Each against torch's own function or
module; the long sweeps (every mode × align_corners × size) are ``sweep=True``.
"""
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


@register("F pixel_shuffle/unshuffle, channel_shuffle (batch dims, r=1..3)", "functional")
def _shuffle(env):
    tf = env.torch.nn.functional
    x = env.randn(2, 18, 2, 3)
    pairs = [(lambda a, r=r: F.pixel_shuffle(a, r), lambda a, r=r: tf.pixel_shuffle(a, r), 0) for r in (1, 3)]
    pairs += [(lambda a: F.pixel_shuffle(a[None], 3), lambda a: tf.pixel_shuffle(a[None], 3), 0),
              (lambda a: F.pixel_unshuffle(a, 2), lambda a: tf.pixel_unshuffle(a, 2), 1),
              (lambda a: F.pixel_unshuffle(a[0], 3), lambda a: tf.pixel_unshuffle(a[0], 3), 2)]
    pairs += [(lambda a, g=g: F.channel_shuffle(a, g), lambda a, g=g: tf.channel_shuffle(a, g), 0) for g in (2, 3, 6)]
    return _pairs(env, pairs, [x, env.randn(2, 3, 4, 6), env.randn(1, 2, 6, 3)])


@register("F.native_channel_shuffle (values: torch has no derivative for it)", "functional")
def _native_shuffle(env):
    tf = env.torch.nn.functional
    groups = (1, 3, 9)
    return compare_function(env, lambda a: tuple(F.native_channel_shuffle(a, g) for g in groups),
                            lambda a: tuple(tf.native_channel_shuffle(a, g) for g in groups),
                            [env.randn(2, 9, 2, 1)], diff_argnums=())


@register("F fold/unfold (kernel, dilation, padding, stride; overlaps)", "functional")
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


@register("nn PixelShuffle, PixelUnshuffle, ChannelShuffle, Fold, Unfold", "nn")
def _shuffle_modules(env):
    tnn = env.torch.nn
    pairs = [(nn.PixelShuffle(2), tnn.PixelShuffle(2), 0), (nn.PixelUnshuffle(2), tnn.PixelUnshuffle(2), 0),
             (nn.ChannelShuffle(4), tnn.ChannelShuffle(4), 0),
             (nn.Unfold([2, 3], padding=1), tnn.Unfold([2, 3], padding=1), 0),
             (nn.Fold((4, 6), 2, stride=2), tnn.Fold((4, 6), 2, stride=2), 1)]
    return _modules(env, pairs, [env.randn(2, 8, 4, 6), env.randn(2, 8, 6)])
