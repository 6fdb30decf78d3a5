"""Parity cases for convolutions, pooling and padding (group "conv"): jaxdl.functional against
torch.nn.functional, values and input/weight/bias gradients, over grids of stride/padding/dilation/groups,
'same' with even kernels, transposed convs with output_padding, max-pool ties (integer-valued and constant
inputs: the whole cotangent goes to torch's one index), NaN, ceil_mode and dilation, the average-pool
divisors, adaptive pools with non-divisible sizes, and every pad mode; then the nn modules with torch's weights.
"""
import contextlib
import warnings

import jax
import numpy as np

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.parity._cases_nn import _stateless
from jaxdl.parity._core import compare_function, register

@contextlib.contextmanager
def _quiet_same():
    """torch warns that 'same' with an even kernel may copy the input (a performance note, not a result)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
        yield


# (stride, padding, dilation, groups) for conv2d; weights per groups below
_CONV2D_GRID = [(1, 0, 1, 1), (2, 1, 1, 1), ((2, 1), (1, 2), 1, 1), (1, 2, 2, 1), ((1, 3), 0, (2, 1), 2),
                (2, 1, 2, 2), (3, (0, 1), 1, 2), (1, "valid", 1, 1), (1, "same", 1, 2), (1, "same", (2, 3), 1)]


@register("F.conv2d", "conv", mixed=True)
def _conv2d(env):
    tF = env.torch.nn.functional
    x, w1, w2, b = env.randn(2, 4, 9, 8), env.randn(6, 4, 3, 3), env.randn(6, 2, 3, 3), env.randn(6)

    def run(conv, x, w1, w2, b):
        with _quiet_same():
            return tuple(conv(x, w1 if g == 1 else w2, b if i % 2 else None, s, p, d, g)
                         for i, (s, p, d, g) in enumerate(_CONV2D_GRID))

    return compare_function(env, lambda *a: run(F.conv2d, *a), lambda *a: run(tF.conv2d, *a), [x, w1, w2, b],
                            diff_argnums=(0, 1, 2, 3))


@register("F.conv2d same/even kernel", "conv", mixed=True)
def _conv2d_same(env):
    """'same' with even kernels: torch pads the extra row/column at the bottom/right; unbatched input too."""
    tF = env.torch.nn.functional
    x, w22, w43, b = env.randn(2, 3, 6, 7), env.randn(4, 3, 2, 2), env.randn(4, 3, 4, 3), env.randn(4)

    def run(conv, x, w22, w43, b):
        with _quiet_same():
            return (conv(x, w22, b, padding="same"), conv(x, w43, None, padding="same"),
                    conv(x, w43, b, padding="same", dilation=(1, 2)), conv(x[0], w22, b, padding="same"),
                    conv(x[1], w43, b, padding=1))

    return compare_function(env, lambda *a: run(F.conv2d, *a), lambda *a: run(tF.conv2d, *a), [x, w22, w43, b],
                            diff_argnums=(0, 1, 2, 3))


@register("F.conv1d", "conv", mixed=True)
def _conv1d(env):
    tF = env.torch.nn.functional
    x, w1, w3, w2, b = env.randn(3, 6, 11), env.randn(4, 6, 3), env.randn(6, 2, 4), env.randn(3, 6, 2), env.randn(6)

    def run(conv, x, w1, w3, w2, b):  # (weight, bias, stride, padding, dilation, groups) per output
        grid = [(w1, None, 1, 0, 1, 1), (w1, b[:4], 2, 1, 1, 1), (w3, b, 1, 2, 2, 3), (w3, None, 3, 0, 1, 3),
                (w2, b[:3], 1, "same", 3, 1), (w2, None, 1, "valid", 1, 1)]
        with _quiet_same():
            return tuple(conv(x, *args) for args in grid) + (conv(x[0], w1, b[:4], 1, 1),)  # + unbatched

    return compare_function(env, lambda *a: run(F.conv1d, *a), lambda *a: run(tF.conv1d, *a), [x, w1, w3, w2, b],
                            diff_argnums=(0, 1, 2, 3, 4))


# (stride, padding, output_padding, groups, dilation); padding above d(k−1) crops the full transposed output
_CONVT_GRID = [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), ((2, 3), (1, 0), (1, 2), 1, 1), (2, 1, 0, 2, 2), (1, 2, 0, 2, (1, 2)),
               (3, 3, 2, 1, 1), (2, (0, 2), (1, 1), 2, (2, 1))]


@register("F.conv_transpose2d", "conv", mixed=True)
def _conv_transpose2d(env):
    tF = env.torch.nn.functional
    x, w1, w2, b = env.randn(2, 4, 5, 6), env.randn(4, 3, 3, 3), env.randn(4, 2, 3, 2), env.randn(4)

    def run(conv, x, w1, w2, b):
        return tuple(conv(x, w1 if g == 1 else w2, b[:3] if g == 1 else b, s, p, op, g, d)
                     for s, p, op, g, d in _CONVT_GRID) + (conv(x[1], w1, None, 2, 1, 1),)  # unbatched, no bias

    return compare_function(env, lambda *a: run(F.conv_transpose2d, *a), lambda *a: run(tF.conv_transpose2d, *a),
                            [x, w1, w2, b], diff_argnums=(0, 1, 2, 3))


@register("F.conv_transpose1d", "conv", mixed=True)
def _conv_transpose1d(env):
    tF = env.torch.nn.functional
    x, w, b = env.randn(2, 4, 7), env.randn(4, 3, 4), env.randn(6)

    def run(conv, x, w, b):
        return (conv(x, w, b[:3]), conv(x, w, None, 3, 1, 2), conv(x, w[:, :1], b[:2], 2, 2, 1, 2, 2),
                conv(x[0], w, b[:3], 2, 5, 1))

    return compare_function(env, lambda *a: run(F.conv_transpose1d, *a), lambda *a: run(tF.conv_transpose1d, *a),
                            [x, w, b], diff_argnums=(0, 1, 2))


def _tied(env, *shape):
    """Integer-valued floats in {0, 1, 2}: many ties inside each window; one channel constant."""
    x = env.randint(0, 3, shape).astype(env.np_dtype)
    x[0, 0] = 1.0
    return x


# (kernel_size, stride, padding, dilation, ceil_mode) for the max pools
_MAX2D_GRID = [(2, None, 0, 1, False), (3, 1, 1, 1, False), (3, 2, 1, 1, True), ((2, 3), (1, 2), (1, 0), 1, True),
               (2, 1, 1, 2, False), (3, 2, (1, 0), (2, 1), True), (3, 3, 0, 1, True)]


def _pool_pairs(tF, name, grid, keys):
    """(jaxdl, torch) functions of several inputs: every grid entry on each input, one tuple (one compile)."""
    def make(fn):
        return lambda *xs: tuple(fn(x, **dict(zip(keys, args))) for x in xs for args in grid)
    return make(getattr(F, name)), make(getattr(tF, name))


def _max_pool_case(env, name, grid, *shape):
    """Tied, random, NaN and unbatched inputs over the grid, plus return_indices on the tied input."""
    tF = env.torch.nn.functional
    keys = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
    x_nan = env.randn(*shape)
    x_nan.reshape(-1)[[0, 1, 5, 9, 10]] = np.nan  # windows with one NaN, two NaNs, and NaN beside a larger value
    x_nan.reshape(-1)[[2]] = 1e4

    def make(fn):
        def run(tied, rand, nan, unbatched):  # the whole grid on the tied and random inputs, part on the others
            values = tuple(fn(x, **dict(zip(keys, g))) for x, gs in ((tied, grid), (rand, grid), (nan, grid[:3]),
                                                                      (unbatched, grid[2:4])) for g in gs)
            return values, tuple(fn(tied, **dict(zip(keys, g)), return_indices=True)[1] for g in grid)
        return run

    return compare_function(env, make(getattr(F, name)), make(getattr(tF, name)),
                            [_tied(env, *shape), env.randn(*shape), x_nan, _tied(env, *shape)[0]],
                            diff_argnums=(0, 1, 2, 3), grad_output=lambda out: out[0])


@register("F.max_pool2d", "conv")
def _max_pool2d(env):
    return _max_pool_case(env, "max_pool2d", _MAX2D_GRID, 2, 3, 7, 8)


@register("F.max_pool1d", "conv")
def _max_pool1d(env):
    grid = [(2, None, 0, 1, False), (3, 1, 1, 1, False), (3, 2, 1, 1, True), (2, 3, 1, 2, True), (4, 2, 2, 1, True)]
    return _max_pool_case(env, "max_pool1d", grid, 2, 3, 11)


# (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
_AVG2D_GRID = [(2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, False, False, None),
               (3, 2, 1, True, True, None), (3, 2, 1, True, False, None), ((2, 3), (1, 2), (1, 1), True, True, None),
               (3, 2, 1, True, False, 5), (2, 3, 1, True, True, 3)]


@register("F.avg_pool2d", "conv")
def _avg_pool2d(env):
    tF = env.torch.nn.functional
    mine, theirs = _pool_pairs(tF, "avg_pool2d", _AVG2D_GRID, ("kernel_size", "stride", "padding", "ceil_mode",
                                                               "count_include_pad", "divisor_override"))
    x = env.randn(2, 3, 7, 8)
    return compare_function(env, mine, theirs, [x, x[1]], diff_argnums=(0, 1))


@register("F.avg_pool1d", "conv")
def _avg_pool1d(env):
    tF = env.torch.nn.functional
    grid = [(2, None, 0, False, True), (3, 2, 1, False, False), (3, 2, 1, True, True), (4, 3, 2, True, False),
            (4, 3, 2, True, True)]
    mine, theirs = _pool_pairs(tF, "avg_pool1d", grid, ("kernel_size", "stride", "padding", "ceil_mode",
                                                        "count_include_pad"))
    return compare_function(env, mine, theirs, [env.randn(2, 3, 12)])


@register("F.adaptive_avg_pool", "conv")
def _adaptive_avg(env):
    tF = env.torch.nn.functional
    sizes2d, sizes1d = [(3, 2), 1, (4, None), (7, 5), (5, 3)], [3, 1, 4, 7, 11]

    def run(mod, x, y):
        return tuple(mod.adaptive_avg_pool2d(x, s) for s in sizes2d) + tuple(
            mod.adaptive_avg_pool1d(y, s) for s in sizes1d) + (mod.adaptive_avg_pool2d(x[0], (3, 4)),)

    return compare_function(env, lambda *a: run(F, *a), lambda *a: run(tF, *a),
                            [env.randn(2, 3, 7, 5), env.randn(2, 3, 7)], diff_argnums=(0, 1))


@register("F.adaptive_max_pool", "conv")
def _adaptive_max(env):
    tF = env.torch.nn.functional
    sizes2d, sizes1d = [(3, 2), 1, (4, None), (5, 3)], [3, 4, 5]

    def run(mod, x, y, z):
        return tuple(mod.adaptive_max_pool2d(x, s, return_indices=True) for s in sizes2d) + tuple(
            mod.adaptive_max_pool1d(y, s, return_indices=True) for s in sizes1d) + (mod.adaptive_max_pool2d(z, (3, 2)),)

    pick = lambda outs: [o[0] for o in outs[:-1]] + [outs[-1]]  # noqa: E731  (the indices have no gradient)
    x, z = _tied(env, 2, 3, 7, 5), env.randn(3, 7, 5)
    z[0, 0, :2], z[1, 3, 2] = np.nan, np.nan  # two NaNs in one window (the last one wins), one NaN alone
    return compare_function(env, lambda *a: run(F, *a), lambda *a: run(tF, *a), [x, x[:, :, 0], z],
                            diff_argnums=(0, 1, 2), grad_output=pick)


# (pad, mode): 1-, 2- and 3-dim padding, negative entries (crops), and wrap/reflect up to the limits
_PADS = [((1, 2), "constant"), ((2, -1, 0, 3), "constant"), ((1, 1, 1, 1, 1, 1, 1, 1), "constant"),
         ((2, 3), "reflect"), ((3, 1, 2, 0), "reflect"), ((-1, 2, 1, -2), "reflect"), ((1, 2, 2, 1, 1, 0), "reflect"),
         ((2, 1), "replicate"), ((0, 4, 3, 1), "replicate"), ((-2, 3, 2, -1), "replicate"),
         ((1, 1, 0, 2, 2, 1), "replicate"), ((4, 2), "circular"), ((1, 4, 3, 0), "circular"),
         ((-1, 2, 2, -1), "circular"), ((1, 2, 0, 1, 1, 1), "circular")]


@register("F.pad", "conv", mixed=True)
def _pad(env):
    tF = env.torch.nn.functional

    def run(fn, x):
        outs = []
        for pad, mode in _PADS:
            dims = len(pad) // 2
            a = x if mode == "constant" else x[(0,) * (3 - dims)]  # (N, C, *dims) for non-constant modes
            outs.append(fn(a, pad, mode))
        return tuple(outs) + (fn(x, (1, 1), "constant", 2.5), fn(x[0, 0], (1, 2), "reflect"))  # value; unbatched

    return compare_function(env, lambda a: run(F.pad, a), lambda a: run(tF.pad, a), [env.randn(2, 3, 4, 5, 5)])


@register("nn.Conv1d/Conv2d", "conv", mixed=True)
def _conv_modules(env):
    with _quiet_same():
        return _conv_module_comparisons(env)


def _conv_module_comparisons(env):
    tnn = env.torch.nn
    comps = [_stateless(env, nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), tnn.Conv1d(4, 6, 3, 2, 1, groups=2),
                        env.randn(2, 4, 9)),
             _stateless(env, nn.Conv2d(3, 4, (2, 3), padding="same", bias=False),
                        tnn.Conv2d(3, 4, (2, 3), padding="same", bias=False), env.randn(2, 3, 6, 7))]
    for mode in ("zeros", "reflect", "replicate", "circular"):
        for padding in (1, (2, 1), "same"):
            comps.append(_stateless(env, nn.Conv2d(2, 3, (3, 4), padding=padding, dilation=(1, 2), padding_mode=mode),
                                    tnn.Conv2d(2, 3, (3, 4), padding=padding, dilation=(1, 2), padding_mode=mode),
                                    env.randn(2, 2, 6, 9)))
        comps.append(_stateless(env, nn.Conv1d(2, 3, 4, padding="same", padding_mode=mode),
                                tnn.Conv1d(2, 3, 4, padding="same", padding_mode=mode), env.randn(2, 5)))  # unbatched
    return comps


@register("nn.ConvTranspose2d", "conv", mixed=True)
def _conv_transpose_module(env):
    tnn = env.torch.nn
    return [_stateless(env, nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                       tnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                       env.randn(2, 4, 5, 5)),
            _stateless(env, nn.ConvTranspose2d(3, 2, (2, 3), dilation=2, bias=False),
                       tnn.ConvTranspose2d(3, 2, (2, 3), dilation=2, bias=False), env.randn(3, 4, 4)),
            _stateless(env, nn.ConvTranspose1d(3, 2, 3, stride=2), tnn.ConvTranspose1d(3, 2, 3, stride=2),
                       env.randn(2, 3, 5)),
            _output_size(env)]


def _output_size(env):
    """torch's forward(input, output_size): the output_padding that gives the requested size."""
    jm, tm = nn.ConvTranspose2d(2, 3, 3, stride=(3, 2), padding=1), env.torch.nn.ConvTranspose2d(2, 3, 3, (3, 2), 1)
    tm = tm.to(dtype=env.torch_dtype)
    params = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    sizes = [(13, 9), (2, 3, 15, 10)]  # output_padding (0, 0) and (2, 1) for a (2, 5, 5) input
    return compare_function(
        env, lambda x, w, b: tuple(jm.apply({"weight": w, "bias": b}, {}, x, output_size=s)[0] for s in sizes),
        lambda x, w, b: tuple(env.torch.func.functional_call(tm, {"weight": w, "bias": b}, (x,), {"output_size": s})
                              for s in sizes), [env.randn(2, 2, 5, 5), params["weight"], params["bias"]],
        diff_argnums=(0, 1, 2))


@register("nn pooling/Unflatten", "conv")
def _pool_modules(env):
    """Every pooling module (no parameters) and Unflatten, as one tuple of outputs (one compile)."""
    tnn = env.torch.nn
    pairs2 = [(nn.MaxPool2d(2), tnn.MaxPool2d(2)),
              (nn.MaxPool2d(3, 2, 1, ceil_mode=True), tnn.MaxPool2d(3, 2, 1, ceil_mode=True)),
              (nn.MaxPool2d((2, 3), dilation=(2, 1)), tnn.MaxPool2d((2, 3), dilation=(2, 1))),
              (nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
               tnn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)),
              (nn.AvgPool2d(2, divisor_override=3), tnn.AvgPool2d(2, divisor_override=3)),
              (nn.AdaptiveAvgPool2d((3, None)), tnn.AdaptiveAvgPool2d((3, None))),
              (nn.AdaptiveMaxPool2d(4), tnn.AdaptiveMaxPool2d(4)),
              (nn.Sequential(nn.Flatten(), nn.Unflatten(1, (6, -1)), nn.Unflatten(-1, (7, 3))),
               tnn.Sequential(tnn.Flatten(), tnn.Unflatten(1, (6, -1)), tnn.Unflatten(-1, (7, 3))))]
    pairs1 = [(nn.MaxPool1d(3, 2, 1), tnn.MaxPool1d(3, 2, 1)), (nn.AvgPool1d(3, 2, 1), tnn.AvgPool1d(3, 2, 1)),
              (nn.AdaptiveAvgPool1d(4), tnn.AdaptiveAvgPool1d(4)), (nn.AdaptiveMaxPool1d(4), tnn.AdaptiveMaxPool1d(4))]
    indexed = [(nn.MaxPool2d(3, 2, 1, return_indices=True), tnn.MaxPool2d(3, 2, 1, return_indices=True)),
               (nn.AdaptiveMaxPool2d((2, 3), return_indices=True), tnn.AdaptiveMaxPool2d((2, 3), return_indices=True))]

    def run(pick, x2, x1):  # pick(pair) is the jaxdl or the torch module as a function
        return (tuple(pick(p)(x2) for p in pairs2) + tuple(pick(p)(x1) for p in pairs1),
                tuple(pick(p)(x2) for p in indexed))

    def jax_module(pair):
        params, state = pair[0].init(jax.random.key(0))  # empty leaves (Sequential: one empty dict per child)
        return lambda x: pair[0].apply(params, state, x)[0]

    return compare_function(env, lambda *a: run(jax_module, *a), lambda *a: run(lambda p: p[1], *a),
                            [_tied(env, 2, 3, 7, 6), _tied(env, 2, 3, 9)], diff_argnums=(0, 1),
                            grad_output=lambda out: (out[0], [v for v, _ in out[1]]))


@register("nn.Conv2d CNN", "conv", mixed=True)
def _cnn(env):
    """The digits CNN without BatchNorm (Conv → ReLU → MaxPool ×2 → Flatten → Linear), torch's weights."""
    tnn = env.torch.nn
    jm = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1),
                       nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32, 10))
    tm = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(4, 8, 3, padding=1),
                        tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(32, 10))
    return _stateless(env, jm, tm, env.randn(5, 1, 8, 8))  # torch's default init
