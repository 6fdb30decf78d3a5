"""Parity cases for issue 20's items 3-4: the shrink/threshold activations at their kinks, NaN and ±inf; Softmin,
LogSoftmax and Softmax2d; rrelu (eval, and training with lower == upper, where it is deterministic); pdist for
every p with ties and zero distances; LocalResponseNorm and CrossMapLRN2d (torch's own backward); the padding
modules; CosineSimilarity and PairwiseDistance. Each against torch's own module or function.
"""
import math

import jax
import numpy as np

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.parity._core import compare_function, register


def _together(env, rows, diff_argnums=None):
    """Parameterless modules ``(jaxdl, torch, index of the input in inputs)`` on ``inputs``, compared in one jitted
    function (one compilation for the lot): outputs and the gradients of every input."""
    mods, inputs = rows
    tm = [t.to(device=env.device, dtype=env.torch_dtype).eval() for _, t, _ in mods]
    return compare_function(env, lambda *a: tuple(j.apply({}, {}, a[i])[0] for j, _, i in mods),
                            lambda *a: tuple(t(a[i]) for t, (_, _, i) in zip(tm, mods)), inputs,
                            diff_argnums=tuple(range(len(inputs))) if diff_argnums is None else diff_argnums)


def _kinked(env, rows, cols):
    """randn·2 with the kinks ±0.5, ±1, 0 and the specials NaN, ±inf in the first row."""
    x = env.randn(rows, cols, scale=2.0)
    x[0, :8] = (0.5, -0.5, 0.0, 1.0, -1.0, np.nan, np.inf, -np.inf)
    return x


@register("F threshold/shrink (kinks, NaN, inf)", "functional")
def _shrink(env):
    tf = env.torch.nn.functional
    pairs = [(lambda a: F.threshold(a, 0.5, -2.0), lambda a: tf.threshold(a, 0.5, -2.0)),
             (lambda a: F.threshold(a, -1.0, 3.0), lambda a: tf.threshold(a, -1.0, 3.0)),
             (F.hardshrink, tf.hardshrink), (lambda a: F.hardshrink(a, 1.0), lambda a: tf.hardshrink(a, 1.0)),
             (F.softshrink, tf.softshrink), (lambda a: F.softshrink(a, 1.0), lambda a: tf.softshrink(a, 1.0)),
             (lambda a: F.softshrink(a, 0.0), lambda a: tf.softshrink(a, 0.0)), (F.tanhshrink, tf.tanhshrink),
             (F.rrelu, tf.rrelu),
             (lambda a: F.rrelu(a, 0.1, 0.1, True, key=jax.random.key(0)), lambda a: tf.rrelu(a, 0.1, 0.1, True))]
    x = _kinked(env, 4, 9)
    return compare_function(env, lambda a: tuple(j(a) for j, _ in pairs),
                            lambda a: tuple(t(a) for _, t in pairs), [x])


@register("nn Threshold ... Softmax2d", "nn")
def _modules(env):
    tnn = env.torch.nn
    pairs = [(nn.Threshold(0.5, -2.0), tnn.Threshold(0.5, -2.0)), (nn.Hardshrink(), tnn.Hardshrink()),
             (nn.Softshrink(0.25), tnn.Softshrink(0.25)), (nn.Tanhshrink(), tnn.Tanhshrink()),
             (nn.RReLU(), tnn.RReLU()), (nn.Softmin(1), tnn.Softmin(1)), (nn.LogSoftmax(-1), tnn.LogSoftmax(-1)),
             (nn.Softmax2d(), tnn.Softmax2d())]
    x = env.randn(2, 3, 4, 5, scale=2.0)
    x[0, 0, 0, :3] = (0.5, -0.5, 0.25)
    return _together(env, ([(j, t, 0) for j, t in pairs], [x]))


@register("F.pdist (every p, ties, zero distances)", "functional")
def _pdist(env):
    x = env.randn(6, 4)
    x[1] = x[0]  # a zero distance
    x[2] = x[0] + np.array([1.0, -1.0, 1.0, 0.5])  # a tie of the ∞-norm, and equal |diff| entries
    x[3, 1] = x[0, 1]  # a zero difference (p < 1)
    ps = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf)
    tf = env.torch.nn.functional
    return compare_function(env, lambda a: tuple(F.pdist(a, p) for p in ps),
                            lambda a: tuple(tf.pdist(a, p) for p in ps), [x])


@register("nn LocalResponseNorm, CrossMapLRN2d", "nn")
def _lrn(env):
    tnn = env.torch.nn
    x4, x3, x5 = env.randn(2, 7, 3, 2, scale=3.0), env.randn(2, 6, 4, scale=3.0), env.randn(1, 5, 2, 2, 3)
    mods = [(nn.LocalResponseNorm(3), tnn.LocalResponseNorm(3), 0),
            (nn.LocalResponseNorm(2, 0.1, 0.6, 2.0), tnn.LocalResponseNorm(2, 0.1, 0.6, 2.0), 1),
            (nn.LocalResponseNorm(4, 0.5), tnn.LocalResponseNorm(4, 0.5), 2)]
    for size, alpha, beta, k in ((3, 1e-4, 0.75, 1.0), (2, 0.5, 0.75, 1.0), (5, 0.3, 1.5, 2.0), (9, 0.2, 0.5, 1.0)):
        mods.append((nn.CrossMapLRN2d(size, alpha, beta, k), tnn.CrossMapLRN2d(size, alpha, beta, k), 0))
    return _together(env, (mods, [x4, x3, x5]))


@register("nn padding modules", "nn")
def _padding(env):
    tnn = env.torch.nn
    x3, x4, x5, x4u = env.randn(2, 3, 6), env.randn(2, 3, 4, 5), env.randn(1, 2, 3, 4, 5), env.randn(3, 4, 5)
    rows = [(nn.ZeroPad1d(2), tnn.ZeroPad1d(2), x3),
            (nn.ConstantPad1d((1, -2), 3.5), tnn.ConstantPad1d((1, -2), 3.5), x3),
            (nn.ReflectionPad1d((3, 1)), tnn.ReflectionPad1d((3, 1)), x3),
            (nn.ReplicationPad1d(4), tnn.ReplicationPad1d(4), x3),
            (nn.CircularPad1d((2, 5)), tnn.CircularPad1d((2, 5)), x3),
            (nn.ZeroPad2d((1, 0, 2, 1)), tnn.ZeroPad2d((1, 0, 2, 1)), x4),
            (nn.ConstantPad2d(1, -1.0), tnn.ConstantPad2d(1, -1.0), x4),
            (nn.ReflectionPad2d((2, 1, 3, 0)), tnn.ReflectionPad2d((2, 1, 3, 0)), x4),
            (nn.ReplicationPad2d((0, 3, 1, -1)), tnn.ReplicationPad2d((0, 3, 1, -1)), x4),
            (nn.CircularPad2d(2), tnn.CircularPad2d(2), x4u),
            (nn.ZeroPad3d(1), tnn.ZeroPad3d(1), x5), (nn.ConstantPad3d((1, 1, 0, 2, 1, 0), 2.0),
                                                      tnn.ConstantPad3d((1, 1, 0, 2, 1, 0), 2.0), x5),
            (nn.ReflectionPad3d(2), tnn.ReflectionPad3d(2), x5), (nn.ReplicationPad3d((1, 2, 0, 1, 2, 0)),
                                                                  tnn.ReplicationPad3d((1, 2, 0, 1, 2, 0)), x5),
            (nn.CircularPad3d((1, 0, 2, 1, 1, 1)), tnn.CircularPad3d((1, 0, 2, 1, 1, 1)), x5)]
    inputs = [x3, x4, x5, x4u]
    index = {id(a): i for i, a in enumerate(inputs)}
    return _together(env, ([(j, t, index[id(x)]) for j, t, x in rows], inputs))


@register("nn CosineSimilarity, PairwiseDistance", "nn")
def _distance(env):
    tnn = env.torch.nn
    x1, x2 = env.randn(4, 5), env.randn(4, 5)
    x2[0] = x1[0]  # a zero difference
    mods = [(nn.CosineSimilarity(), tnn.CosineSimilarity()),
            (nn.CosineSimilarity(0, 1e-3), tnn.CosineSimilarity(0, 1e-3)),
            (nn.PairwiseDistance(), tnn.PairwiseDistance()),
            (nn.PairwiseDistance(1.0, 1e-3, True), tnn.PairwiseDistance(1.0, 1e-3, True)),
            (nn.PairwiseDistance(math.inf), tnn.PairwiseDistance(math.inf))]
    tm = [t.to(device=env.device, dtype=env.torch_dtype) for _, t in mods]
    return compare_function(env, lambda a, b: tuple(j.apply({}, {}, a, b)[0] for j, _ in mods),
                            lambda a, b: tuple(t(a, b) for t in tm), [x1, x2], diff_argnums=(0, 1))
