"""Parity cases for jaxdl.functional's activations, linear, embedding, one_hot, dropout and normalisation:
values and gradients against torch.nn.functional, with kink, tie and extreme inputs. Losses: _cases_loss.py.
"""
import numpy as np

from jaxdl import functional as F
from jaxdl.parity._core import compare_function, register


def _edgy(env, *shape, scale=3.0):
    """Random values with exact kink/tie/extreme values written into the first row."""
    x = env.randn(*shape, scale=scale)
    edges = np.array([0.0, -0.0, 1.0, 1.0, -1e4, 1e4, 1e-3, -1e-3], dtype=x.dtype)
    flat = x.reshape(-1)
    flat[: min(len(edges), flat.size)] = edges[: flat.size]
    return flat.reshape(shape)


def _elementwise(env, jax_fn, torch_fn, options=(None,)):
    """One comparison (one compile) over three shapes × ``options``: fn(x, option) per pair, as a tuple."""
    xs = [_edgy(env, *shape) for shape in ((4, 7), (3, 2, 5), (9,))]
    return compare_function(env, lambda *a: tuple(jax_fn(x, o) for o in options for x in a),
                            lambda *a: tuple(torch_fn(x, o) for o in options for x in a), xs, diff_argnums=(0, 1, 2))


@register("F.gelu", "functional")
def _gelu(env):
    tF = env.torch.nn.functional
    x = env.randn(4, 7, scale=3.0)
    x[0, :3] = (0.0, -0.0, 1e-3)  # edge values
    return [compare_function(env, lambda a: F.gelu(a, approximate=ap), lambda a: tF.gelu(a, approximate=ap), [x])
            for ap in ("none", "tanh")]


@register("F.relu", "functional")
def _relu(env):
    return _elementwise(env, lambda x, _: F.relu(x), lambda x, _: env.torch.nn.functional.relu(x))  # relu'(0) = 0


@register("F.leaky_relu", "functional")
def _leaky_relu(env):
    tF = env.torch.nn.functional
    return _elementwise(env, F.leaky_relu, tF.leaky_relu, (0.01, 0.2, 1.5))  # leaky_relu'(0) = slope, as torch


@register("F.silu", "functional")
def _silu(env):
    return _elementwise(env, lambda x, _: F.silu(x), lambda x, _: env.torch.nn.functional.silu(x))


@register("F.sigmoid", "functional")
def _sigmoid(env):
    return _elementwise(env, lambda x, _: F.sigmoid(x), lambda x, _: env.torch.sigmoid(x))


@register("F.tanh", "functional")
def _tanh(env):
    return _elementwise(env, lambda x, _: F.tanh(x), lambda x, _: env.torch.tanh(x))


def _softmax_inputs(env):
    x = env.randn(3, 4, 5, scale=2.0)
    x[0, 0, :] = (1.0, 3.0, 3.0, 3.0, -2.0)  # ties at the max
    x[0, 1, :] = 2.0  # an all-equal row
    x[1, 0, :] = (1e4, -1e4, 0.0, 1e4, 5.0)  # extreme logits
    x[2, 0, :2] = -np.inf  # masked entries (finite elsewhere in every slice)
    return x


@register("F.softmax", "functional", mixed=True)
def _softmax(env):
    tF = env.torch.nn.functional
    x = _softmax_inputs(env)
    return compare_function(env, lambda a, b: (F.softmax(a, -1), F.softmax(a, 1), F.softmax(b, 0)),
                            lambda a, b: (tF.softmax(a, -1), tF.softmax(a, 1), tF.softmax(b, 0)), [x, x[1]],
                            diff_argnums=(0, 1))


@register("F.log_softmax", "functional", mixed=True)
def _log_softmax(env):
    tF = env.torch.nn.functional
    x = _softmax_inputs(env)
    return compare_function(env, lambda a, b: (F.log_softmax(a, -1), F.log_softmax(a, 1), F.log_softmax(b, 0)),
                            lambda a, b: (tF.log_softmax(a, -1), tF.log_softmax(a, 1), tF.log_softmax(b, 0)), [x, x[1]],
                            diff_argnums=(0, 1))


@register("F.linear", "functional", mixed=True)
def _linear(env):
    tF = env.torch.nn.functional
    w, b = env.randn(5, 4), env.randn(5)
    return [compare_function(env, F.linear, tF.linear, [env.randn(3, 4), w, b], diff_argnums=(0, 1, 2)),
            compare_function(env, F.linear, tF.linear, [env.randn(2, 3, 4), w], diff_argnums=(0, 1)),
            compare_function(env, F.linear, tF.linear, [env.randn(4), w, b], diff_argnums=(0, 1, 2))]


@register("F.embedding", "functional")
def _embedding(env):
    tF = env.torch.nn.functional
    w = env.randn(6, 3)
    idx = np.array([[0, 1, 1, 5], [2, 1, 0, 0]])  # repeated rows accumulate gradient
    comps = [compare_function(env, lambda i, w_, p=p: F.embedding(i, w_, p), lambda i, w_, p=p: tF.embedding(i, w_, p),
                              [idx, w], diff_argnums=(1,)) for p in (None, 1, -1)]  # padding row: no gradient
    comps.append(compare_function(env, F.embedding, tF.embedding, [np.array(4), w], diff_argnums=(1,)))
    for p in (None, 0):  # each row's gradient divided by its index's count in the batch (row 1: 3, rows 0: 3)
        comps.append(compare_function(
            env, lambda i, w_, p=p: F.embedding(i, w_, p, scale_grad_by_freq=True, sparse=True),
            lambda i, w_, p=p: tF.embedding(i, w_, p, scale_grad_by_freq=True), [idx, w], diff_argnums=(1,)))
    return comps


@register("F.one_hot", "functional")
def _one_hot(env):
    tF = env.torch.nn.functional
    ts = [env.randint(0, 5, (7,)), env.randint(0, 5, (2, 3)), np.array(4)]
    return compare_function(env, lambda *t: tuple(F.one_hot(a, 5) for a in t),
                            lambda *t: tuple(tF.one_hot(a, 5) for a in t), ts, diff_argnums=())


@register("F.dropout", "functional")
def _dropout(env):
    tF = env.torch.nn.functional
    x = _edgy(env, 4, 6)
    # The random mask is tested in tests/functional/test_dropout.py; here the deterministic settings.
    settings = ((0.0, True), (1.0, True), (0.5, False), (1.0, False))
    return compare_function(env, lambda a: tuple(F.dropout(a, p, t) for p, t in settings),
                            lambda a: tuple(tF.dropout(a, p, t) for p, t in settings), [x])


@register("F.batch_norm", "functional", mixed=True)
def _batch_norm(env):
    def torch_bn(x, rm, rv, w, b, training, momentum):
        rm, rv = rm.clone(), rv.clone()  # torch updates the running stats in place
        out = env.torch.nn.functional.batch_norm(x, rm, rv, w, b, training, momentum, 1e-5)
        return out, rm, rv

    settings = ((True, 0.1), (True, 0.7), (False, 0.1))  # (training, momentum)
    comps = []
    for shape in ((6, 3), (4, 3, 5)):
        x = env.randn(*shape, scale=2.0) + 1.0
        args = [x, env.randn(3), env.uniform(3, low=0.5, high=2.0), env.randn(3), env.randn(3)]
        # outputs and running stats compared; gradients of the outputs w.r.t. input, weight and bias
        comps.append(compare_function(
            env, lambda *a: tuple(F.batch_norm(*a, training=t, momentum=m) for t, m in settings),
            lambda *a: tuple(torch_bn(*a, t, m) for t, m in settings), args,
            diff_argnums=(0, 3, 4), grad_output=lambda outs: [o[0] for o in outs]))
        comps.append(compare_function(  # no affine parameters, training
            env, lambda a, rm, rv: F.batch_norm(a, rm, rv, training=True),
            lambda a, rm, rv: torch_bn(a, rm, rv, None, None, True, 0.1), args[:3], grad_output=lambda out: out[0]))
    return comps


@register("F.layer_norm", "functional", mixed=True)
def _layer_norm(env):
    tF = env.torch.nn.functional
    x = env.randn(2, 3, 4, scale=2.0)
    x[0, 0, :] = 1.5  # a constant row: variance 0, so eps decides
    return [compare_function(env, lambda a, w, b: F.layer_norm(a, 4, w, b), lambda a, w, b: tF.layer_norm(a, [4], w, b),
                             [x, env.randn(4), env.randn(4)], diff_argnums=(0, 1, 2)),
            compare_function(env, lambda a, w, b: F.layer_norm(a, (3, 4), w, b, eps=1e-3),
                             lambda a, w, b: tF.layer_norm(a, [3, 4], w, b, eps=1e-3),
                             [x, env.randn(3, 4), env.randn(3, 4)], diff_argnums=(0, 1, 2)),
            compare_function(env, lambda a: F.layer_norm(a, (4,)), lambda a: tF.layer_norm(a, [4]), [x])]


def _nonfinite(env, *shape, edges=(), nan=True):
    """_edgy values plus NaN, ±inf and the given kinks/thresholds (and ± a hair around them) in row 1."""
    x = _edgy(env, *shape)
    special = ([np.nan] if nan else []) + [np.inf, -np.inf]
    for e in edges:
        special += [e, np.nextafter(e, np.inf, dtype=x.dtype), np.nextafter(e, -np.inf, dtype=x.dtype)]
    flat = x.reshape(-1)
    n = min(len(special), flat.size - 8)
    flat[8:8 + n] = np.asarray(special[:n], dtype=x.dtype)
    return flat.reshape(shape)


def _activation(env, name, options, edges=(), nan=True):
    """F.<name>(x, *option) against torch for every option; x holds NaN, ±inf, 0 and the given edges."""
    tF = env.torch.nn.functional
    mine, theirs = getattr(F, name), getattr(tF, name)
    x = _nonfinite(env, 6, 8, edges=edges, nan=nan)
    return compare_function(env, lambda a: tuple(mine(a, *o) for o in options),
                            lambda a: tuple(theirs(a, *o) for o in options), [x])


# name -> (argument tuples, edge values where the formula switches branch). The NaN gradient of elu/selu/
# celu/hardtanh/relu6/hardswish differs between torch's vectorized and scalar kernels (and so by tensor size
# and device): those cases hold no NaN; tests/functional/test_activation.py pins jaxdl's choice.
_ACTIVATIONS = {
    "elu": (((), (0.5,), (2.0,)), (), False),
    "selu": (((),), (), False),
    "celu": (((), (0.5,), (2.0,)), (), False),
    "softplus": (((), (2.0,), (1.0, 3.0), (-2.0, 5.0)), (3.0, 1.5, -2.5, 20.0)),  # βx = threshold
    "softsign": (((),), ()),
    "hardtanh": (((), (-0.5, 2.0)), (-1.0, 1.0, -0.5, 2.0), False),  # gradient 0 at exactly min_val/max_val
    "relu6": (((),), (6.0,), False),
    "hardsigmoid": (((),), (-3.0, 3.0)),
    "hardswish": (((),), (-3.0, 3.0), False),
    "logsigmoid": (((),), ()),
    "mish": (((),), ()),
}

for _name, (_options, _edges, *_nan) in _ACTIVATIONS.items():
    register(f"F.{_name}", "functional")(
        lambda env, n=_name, o=_options, e=_edges, nan=_nan: _activation(env, n, o, e, *nan))


@register("F.relu(NaN)", "functional")
def _relu_nonfinite(env):
    """relu's gradient at NaN is 1 and at ±inf as torch (issue 12: jaxdl gave 0 at NaN)."""
    return compare_function(env, F.relu, env.torch.nn.functional.relu, [_nonfinite(env, 4, 5)])


@register("F.glu", "functional")
def _glu(env):
    tF = env.torch.nn.functional
    x = _edgy(env, 4, 6, 2)
    return compare_function(env, lambda a: (F.glu(a), F.glu(a, 0), F.glu(a, 1)),
                            lambda a: (tF.glu(a), tF.glu(a, 0), tF.glu(a, 1)), [x])


@register("F.prelu", "functional", mixed=True)
def _prelu(env):
    tF = env.torch.nn.functional
    x4, x1 = _nonfinite(env, 2, 3, 2, 2), _nonfinite(env, 14)
    x4[:, :, 0, 0] = np.inf  # +inf: weight gradient 0 there, as torch (not 0·inf)
    w3, w1 = env.randn(3), env.randn(1)
    return [compare_function(env, F.prelu, tF.prelu, [x4, w3], diff_argnums=(0, 1)),
            compare_function(env, F.prelu, tF.prelu, [x4[0, 0], w1], diff_argnums=(0, 1)),
            compare_function(env, F.prelu, tF.prelu, [x1[8:], w1], diff_argnums=(0, 1))]
