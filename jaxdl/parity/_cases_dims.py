"""Parity cases for the 3-D convolutions and pools and the remaining pools (group "dims"): conv3d,
conv_transpose3d and conv_tbc over grids of stride/padding/dilation/groups; max_pool3d at ties and NaN with its
indices; avg_pool3d's divisors; the 3-D adaptive pools; lp_pool1d/2d/3d (torch has no OpInfo for them) at p = 1,
2, 1.5, 3 and ±inf, ceil_mode and all-zero windows (gradient 0); the ``*_with_indices`` names. Each
case's outputs are one tuple (one compile); all are sweeps (CI runs every 4th, ``--parity-all`` all).
"""
import math

import numpy as np

from jaxdl import functional as F
from jaxdl.parity._cases_conv import _max_pool_case, _pool_pairs, _quiet_same, _tied
from jaxdl.parity._core import compare_function, register

# (stride, padding, dilation, groups) for conv3d; weights per groups
_CONV3D_GRID = [(1, 0, 1, 1), (2, 1, 1, 1), ((2, 1, 1), (1, 0, 2), 1, 2), (1, 1, (2, 1, 1), 1), (1, "same", 1, 2),
                (1, "valid", (1, 2, 1), 1)]


@register("F.conv3d", "dims", mixed=True, sweep=True)
def _conv3d(env):
    tF = env.torch.nn.functional
    x, w1, w2, b = env.randn(2, 4, 5, 6, 5), env.randn(6, 4, 3, 2, 3), env.randn(6, 2, 3, 2, 3), env.randn(6)

    def run(conv, x, w1, w2, b):
        with _quiet_same():  # torch's note that 'same' with an even kernel may copy the input
            return tuple(conv(x, w1 if g == 1 else w2, b if i % 2 else None, s, p, d, g)
                         for i, (s, p, d, g) in enumerate(_CONV3D_GRID)) + (conv(x[0], w1, b, 1, 1),)  # + unbatched

    return compare_function(env, lambda *a: run(F.conv3d, *a), lambda *a: run(tF.conv3d, *a), [x, w1, w2, b],
                            diff_argnums=(0, 1, 2, 3))


# (stride, padding, output_padding, groups, dilation)
_CONVT3D_GRID = [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), ((2, 1, 3), (1, 0, 1), (1, 0, 2), 2, 1), (2, 1, 0, 2, (2, 1, 1))]


@register("F.conv_transpose3d", "dims", mixed=True, sweep=True)
def _conv_transpose3d(env):
    tF = env.torch.nn.functional
    x, w1, w2, b = env.randn(2, 4, 3, 4, 3), env.randn(4, 3, 2, 3, 2), env.randn(4, 2, 2, 3, 2), env.randn(4)

    def run(conv, x, w1, w2, b):
        return tuple(conv(x, w1 if g == 1 else w2, b[:3] if g == 1 else b, s, p, op, g, d)
                     for s, p, op, g, d in _CONVT3D_GRID) + (conv(x[1], w1, None, 2, 1, 1),)  # unbatched, no bias

    return compare_function(env, lambda *a: run(F.conv_transpose3d, *a), lambda *a: run(tF.conv_transpose3d, *a),
                            [x, w1, w2, b], diff_argnums=(0, 1, 2, 3))


@register("F.conv_tbc", "dims", sweep=True)
def _conv_tbc(env):
    """torch.conv_tbc (no OpInfo): pad 0, 2 and −1 (a crop), a kernel as long as the padded input."""
    torch = env.torch

    def run(conv, x, w, b):
        return tuple(conv(x, w, b, pad) for pad in (0, 2, -1)) + (conv(x[:2], w, b, 1),)

    return compare_function(env, lambda *a: run(F.conv_tbc, *a), lambda *a: run(torch.conv_tbc, *a),
                            [env.randn(7, 2, 4), env.randn(3, 4, 5), env.randn(5)], diff_argnums=(0, 1, 2))


_MAX3D_GRID = [(2, None, 0, 1, False), (3, 2, 1, 1, True), ((2, 3, 2), (1, 2, 1), (1, 0, 1), 1, True),
               (2, 1, 1, (2, 1, 1), False)]


@register("F.max_pool3d", "dims", sweep=True)
def _max_pool3d(env):
    return _max_pool_case(env, "max_pool3d", _MAX3D_GRID, 2, 2, 5, 6, 5)


@register("F.avg_pool3d", "dims", sweep=True)
def _avg_pool3d(env):
    tF = env.torch.nn.functional
    grid = [(2, None, 0, False, True, None), (3, 2, 1, True, True, None), (3, 2, 1, True, False, None),
            ((2, 3, 2), (1, 2, 2), (1, 1, 0), False, False, None), (3, 2, 1, True, False, 5)]
    mine, theirs = _pool_pairs(tF, "avg_pool3d", grid, ("kernel_size", "stride", "padding", "ceil_mode",
                                                        "count_include_pad", "divisor_override"))
    x = env.randn(2, 2, 5, 6, 5)
    return compare_function(env, mine, theirs, [x, x[1]], diff_argnums=(0, 1))


@register("F.adaptive_pool3d", "dims", sweep=True)
def _adaptive_3d(env):
    """adaptive_avg/max_pool3d with non-divisible sizes, None, and indices; ties and a NaN pair in one window."""
    tF = env.torch.nn.functional
    sizes = [(3, 2, 4), 1, (None, 2, 3), (4, 5, 3)]

    def run(mod, x, z):
        return (tuple(mod.adaptive_avg_pool3d(x, s) for s in sizes) + (mod.adaptive_avg_pool3d(z[0], 2),),
                tuple(mod.adaptive_max_pool3d(a, s, return_indices=True) for a in (x, z) for s in sizes))

    x, z = _tied(env, 2, 2, 5, 6, 4), env.randn(2, 2, 5, 6, 4)
    z[0, 0, 0, :2, 0] = np.nan  # two NaNs in one window: the last one wins
    return compare_function(env, lambda *a: run(F, *a), lambda *a: run(tF, *a), [x, z], diff_argnums=(0, 1),
                            grad_output=lambda out: (out[0], [v for v, _ in out[1]]))


@register("F.*_with_indices", "dims", sweep=True)
def _with_indices(env):
    """The ``*_with_indices`` names return (values, indices) whatever return_indices says, as torch's."""
    tF = env.torch.nn.functional

    def run(mod, x):
        return (mod.max_pool1d_with_indices(x[0, 0], 3, 2, 1), mod.max_pool2d_with_indices(x[0], 2, 1),
                mod.max_pool3d_with_indices(x, 2, ceil_mode=True), mod.adaptive_max_pool1d_with_indices(x[0, 0], 3),
                mod.adaptive_max_pool2d_with_indices(x[0], (2, 3)), mod.adaptive_max_pool3d_with_indices(x, 2))

    return compare_function(env, lambda a: run(F, a), lambda a: run(tF, a), [_tied(env, 2, 2, 4, 5, 6)],
                            grad_output=lambda out: [v for v, _ in out])


# (norm_type, kernel_size, stride, ceil_mode)
_LP_GRID = [(2, 2, None, False), (1, 3, 2, True), (1.5, 2, 1, False), (3, 3, 2, True), (math.inf, 2, None, True),
            (-math.inf, 3, 2, False)]


@register("F.lp_pool1d/2d/3d", "dims", sweep=True)
def _lp_pool(env):
    """lp_pool over positive inputs (1.5 takes no negative base), signed ones at integer p, and all-zero windows
    (torch's gradient there is 0, through its relu)."""
    tF = env.torch.nn.functional

    def run(mod, x1, x2, x3):
        outs = []
        for p, k, s, ceil in _LP_GRID:
            for name, x in (("lp_pool1d", x1), ("lp_pool2d", x2), ("lp_pool3d", x3)):
                a = abs(x) if p == 1.5 else x
                outs.append(getattr(mod, name)(a, p, k, s, ceil))
        return tuple(outs)

    x1, x2, x3 = env.randn(2, 3, 9), env.randn(2, 2, 5, 6), env.randn(1, 2, 4, 5, 4)
    x1[0, 0, :4] = 0.0  # whole windows of zeros
    x2[0, 0, :2, :4] = 0.0
    return compare_function(env, lambda *a: run(F, *a), lambda *a: run(tF, *a), [x1, x2, x3], diff_argnums=(0, 1, 2))


@register("F.max_unpool1d/2d/3d", "dims", sweep=True)
def _max_unpool(env):
    """max_pool's (values, indices) unpooled (torch's indices, int64), default and explicit output_size, stride ≠
    kernel; repeated indices (overlapping windows): the last write wins, every input gets the gradient at its
    index, as torch."""
    torch, tF = env.torch, env.torch.nn.functional
    x1, x2, x3 = env.randn(2, 3, 9), _tied(env, 2, 2, 6, 7), env.randn(1, 2, 4, 5, 6)
    pools = [(x1, tF.max_pool1d, (3, 2, 1)), (x2, tF.max_pool2d, (2,)), (x2, tF.max_pool2d, (3, 1, 1)),
             (x3, tF.max_pool3d, (2, 2, 0))]
    indexed = [fn(torch.from_numpy(x), *args, return_indices=True) for x, fn, args in pools]
    values, indices = [v.numpy() for v, _ in indexed], [i.numpy() for _, i in indexed]
    calls = [("max_unpool1d", (3, 2, 1), None), ("max_unpool2d", (2,), (6, 7)), ("max_unpool2d", (3, 1, 1), None),
             ("max_unpool3d", (2, 2, 0), (1, 2, 5, 5, 6))]

    def run(mod, convert, *vs):
        return tuple(getattr(mod, name)(v, convert(i), *args, output_size=size)
                     for (name, args, size), v, i in zip(calls, vs, indices))

    return compare_function(env, lambda *a: run(F, np.asarray, *a), lambda *a: run(tF, torch.from_numpy, *a),
                            values, diff_argnums=(0, 1, 2, 3))


@register("F.fractional_max_pool2d/3d", "dims", sweep=True)
def _fractional(env):
    """Given _random_samples (torch's layout: 2-D (W, H), 3-D (T, H, W)): windows at every output/kernel size
    up to the limits (2-D o + k − 1 ≤ L, 3-D < L), ties and NaN, indices, unbatched, output_ratio."""
    tF = env.torch.nn.functional
    u2, u3, u1 = env.uniform(2, 3, 2), env.uniform(1, 2, 3), env.uniform(1, 3, 2)
    calls2 = [(3, (4, 5), None), ((2, 3), (8, 9), None), (1, (9, 11), None), (2, None, (0.5, 0.7)), (4, 1, None)]
    calls3 = [(2, (3, 4, 5), None), ((3, 2, 2), (3, 4, 6), None), (2, None, 0.5)]

    def run(mod, convert, x2, x3, x1):
        return (tuple(mod.fractional_max_pool2d(x2, k, o, r, True, _random_samples=convert(u2)) for k, o, r in calls2)
                + tuple(mod.fractional_max_pool3d(x3, k, o, r, True, _random_samples=convert(u3))
                        for k, o, r in calls3)
                + (mod.fractional_max_pool2d(x1, 2, 3, return_indices=True, _random_samples=convert(u1)),))

    x2, x3 = _tied(env, 2, 3, 9, 11), env.randn(1, 2, 7, 6, 8)
    x3[0, 0, :3, :3, :3] = np.nan
    return compare_function(env, lambda *a: run(F, env.to_jax, *a), lambda *a: run(tF, env.to_torch, *a),
                            [x2, x3, env.randn(3, 7, 7)], diff_argnums=(0, 1, 2),
                            grad_output=lambda out: [v for v, _ in out])
