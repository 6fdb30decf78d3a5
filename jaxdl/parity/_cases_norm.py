"""Parity cases for the normalisation and channel-dropout of issue 12: F.batch_norm on (N, C, H, W) and empty
inputs, F.group_norm, F.instance_norm, F.dropout1d/2d, and the modules BatchNorm2d, GroupNorm, InstanceNorm2d,
Dropout1d/2d (training steps with their running stats, then eval), against torch.
"""
import warnings

import numpy as np

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.parity._cases_nn import _stateless, _training_steps
from jaxdl.parity._core import compare_function, register


def _torch_norm(env, fn):
    """torch's F.batch_norm / instance_norm update running stats in place: run on clones, return them too."""
    def run(x, rm, rv, *rest, **kw):
        rm, rv = (None if rm is None else rm.clone()), (None if rv is None else rv.clone())
        return fn(x, rm, rv, *rest, **kw), rm, rv
    return run


@register("F.batch_norm (N, C, H, W)", "functional")
def _batch_norm_4d(env):
    tbn = _torch_norm(env, env.torch.nn.functional.batch_norm)
    x = env.randn(3, 2, 4, 5, scale=2.0) + 1.0
    args = [x, env.randn(2), env.uniform(2, low=0.5, high=2.0), env.randn(2), env.randn(2)]
    settings = ((True, 0.1), (True, 0.6), (False, 0.1))
    return compare_function(env, lambda *a: tuple(F.batch_norm(*a, training=t, momentum=m) for t, m in settings),
                            lambda *a: tuple(tbn(*a, training=t, momentum=m) for t, m in settings), args,
                            diff_argnums=(0, 3, 4), grad_output=lambda outs: [o[0] for o in outs])


@register("F.batch_norm (empty input)", "functional")
def _batch_norm_empty(env):
    """issue 12: an empty 1-D input with empty running stats gives an empty output, as torch."""
    tbn = _torch_norm(env, env.torch.nn.functional.batch_norm)
    comps = []
    for x, c in ((np.zeros(0, env.np_dtype), 0), (np.zeros((0, 3), env.np_dtype), 3),
                 (np.zeros((2, 3, 0), env.np_dtype), 3)):
        stats = [env.randn(c), env.uniform(c, low=0.5, high=2.0)]
        for training in (False, True):
            comps.append(compare_function(env, lambda *a, t=training: F.batch_norm(*a, training=t),
                                          lambda *a, t=training: tbn(*a, training=t), [x, *stats], diff_argnums=(),))
    return comps


@register("F.group_norm", "functional", mixed=True)
def _group_norm(env):
    tF = env.torch.nn.functional
    x = env.randn(2, 6, 3, 4, scale=2.0) + 0.5
    w, b = env.randn(6), env.randn(6)
    groups = (1, 2, 3, 6)
    comps = [compare_function(env, lambda a, w_, b_: tuple(F.group_norm(a, g, w_, b_) for g in groups),
                              lambda a, w_, b_: tuple(tF.group_norm(a, g, w_, b_) for g in groups), [x, w, b],
                              diff_argnums=(0, 1, 2))]
    xc = x.copy()
    xc[1, :2] = 1.5  # a constant group: variance 0, eps decides. Not d/dweight: torch's Σdy·x − Σdy·mean
    # cancels to float32 noise ×1/√eps there (1e-4), where the exact contribution is 0
    comps.append(compare_function(env, lambda a, w_, b_: F.group_norm(a, 3, w_, b_),
                                  lambda a, w_, b_: tF.group_norm(a, 3, w_, b_), [xc, w, b], diff_argnums=(0, 2)))
    comps.append(compare_function(env,
                                  lambda a: (F.group_norm(a[:, :, 0], 3, eps=1e-2), F.group_norm(a[:, :, 0, 0], 2)),
                                  lambda a: (tF.group_norm(a[:, :, 0], 3, eps=1e-2), tF.group_norm(a[:, :, 0, 0], 2)),
                                  [x]))  # (N, C, L) and (N, C), no affine
    return comps


@register("F.instance_norm", "functional")
def _instance_norm(env):
    tin = _torch_norm(env, env.torch.nn.functional.instance_norm)
    x = env.randn(3, 2, 4, 5, scale=2.0) + 1.0
    stats, affine = [env.randn(2), env.uniform(2, low=0.5, high=2.0)], [env.randn(2), env.randn(2)]
    settings = ((True, 0.1), (True, 0.5), (False, 0.1))  # (use_input_stats, momentum)
    return [compare_function(env, lambda *a: tuple(F.instance_norm(*a, use_input_stats=u, momentum=m)
                                                   for u, m in settings),
                             lambda *a: tuple(tin(*a, use_input_stats=u, momentum=m) for u, m in settings),
                             [x, *stats, *affine], diff_argnums=(0, 3, 4),
                             grad_output=lambda outs: [o[0] for o in outs]),
            compare_function(env, lambda a: F.instance_norm(a)[0],  # no running stats, no affine; (N, C, L)
                             lambda a: env.torch.nn.functional.instance_norm(a), [x[:, :, 0]])]


@register("F.dropout1d/dropout2d", "functional")
def _channel_dropout(env):
    """The deterministic settings (p = 0, p = 1, eval); the random channel masks: tests/functional/test_dropout.py."""
    tF = env.torch.nn.functional
    settings = ((0.0, True), (1.0, True), (0.5, False))
    comps = []
    for mine, theirs, x in ((F.dropout1d, tF.dropout1d, env.randn(2, 3, 4)),
                            (F.dropout1d, tF.dropout1d, env.randn(3, 4)),
                            (F.dropout2d, tF.dropout2d, env.randn(2, 3, 4, 5))):
        comps.append(compare_function(env, lambda a, f=mine: tuple(f(a, p, t) for p, t in settings),
                                      lambda a, f=theirs: tuple(f(a, p, t) for p, t in settings), [x]))
    return comps


def _randomized(env, tm):
    with env.torch.no_grad():
        for p in tm.parameters():
            p.copy_(env.to_torch(env.randn(*p.shape)))
    return tm


def _steps_case(make, shape):
    def case(env):
        xs = [env.randn(*shape, scale=2.0) + 1.0 for _ in range(3)]
        return _training_steps(env, make(nn), make(env.torch.nn), xs, env.randn(*shape))
    return case


for _label, _make, _shape in (
        ("BatchNorm2d", lambda m: m.BatchNorm2d(3), (4, 3, 2, 5)),
        ("BatchNorm2d[momentum=None]", lambda m: m.BatchNorm2d(3, momentum=None), (4, 3, 2, 5)),
        ("BatchNorm2d[affine=False]", lambda m: m.BatchNorm2d(3, affine=False, eps=1e-3), (4, 3, 2, 5)),
        ("BatchNorm2d[track_running_stats=False]", lambda m: m.BatchNorm2d(3, track_running_stats=False), (2, 3, 2, 3)),
        ("InstanceNorm2d", lambda m: m.InstanceNorm2d(3), (2, 3, 4, 5)),
        ("InstanceNorm2d[affine,track]", lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True),
         (2, 3, 4, 5)),
        ("InstanceNorm2d[track,momentum=None]", lambda m: m.InstanceNorm2d(3, momentum=None, track_running_stats=True),
         (2, 3, 4, 5)),
        ("InstanceNorm2d[unbatched,track]", lambda m: m.InstanceNorm2d(3, track_running_stats=True), (3, 4, 5)),
        ("conv-style block", lambda m: m.Sequential(m.BatchNorm2d(3), m.ReLU(), m.GroupNorm(1, 3), m.Dropout2d(0.0)),
         (2, 3, 4, 4))):
    register(f"nn.{_label} (train steps, eval)", "nn", mixed=_label == "conv-style block")(
        _steps_case(_make, _shape))


@register("nn.BatchNorm2d/GroupNorm eval", "nn")
def _norm_eval(env):
    tnn = env.torch.nn
    x = env.randn(2, 4, 3, 3)
    return [_stateless(env, nn.BatchNorm2d(4), _randomized(env, tnn.BatchNorm2d(4)), x, randomize_buffers=True),
            _stateless(env, nn.GroupNorm(2, 4), _randomized(env, tnn.GroupNorm(2, 4)), x),
            _stateless(env, nn.GroupNorm(4, 4, eps=1e-3, affine=False), tnn.GroupNorm(4, 4, eps=1e-3, affine=False), x),
            _stateless(env, nn.GroupNorm(2, 4), _randomized(env, tnn.GroupNorm(2, 4)), x[:, :, 0])]


@register("nn.Dropout1d/Dropout2d", "nn")
def _dropout_modules(env):
    tnn = env.torch.nn
    x3, x4 = env.randn(2, 3, 4), env.randn(2, 3, 4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [_stateless(env, nn.Dropout1d(0.5), tnn.Dropout1d(0.5), x3),
                _stateless(env, nn.Dropout1d(1.0), tnn.Dropout1d(1.0), x3, training=True),
                _stateless(env, nn.Dropout2d(0.5), tnn.Dropout2d(0.5), x4),
                _stateless(env, nn.Dropout2d(0.0), tnn.Dropout2d(0.0), x4, training=True),
                _stateless(env, nn.Dropout2d(1.0), tnn.Dropout2d(1.0), x4, training=True)]
