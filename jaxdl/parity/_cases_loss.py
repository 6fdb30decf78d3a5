"""Parity cases for jaxdl.functional's losses: values and gradients against torch.nn.functional, including
ignore_index, class weights, label smoothing, probability targets, clamps and the kinks of l1/smooth_l1/huber.
"""
import warnings

import numpy as np

from jaxdl import functional as F
from jaxdl.parity._core import compare_function, register

REDUCTIONS = ("mean", "sum", "none")


def _probs(env, *shape, axis):
    e = np.exp(env.randn(*shape))
    return (e / e.sum(axis=axis, keepdims=True)).astype(env.np_dtype)


def _over(fn, configs, env=None):
    """One function returning fn(*args, **kw) for every kw in ``configs``, as a tuple (one compile for all).

    With ``env`` (the torch side), numpy arrays in the configs become torch tensors.
    """
    if env is not None:
        configs = [{k: env.to_torch(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()} for kw in configs]
    return lambda *a: tuple(fn(*a, **kw) for kw in configs)


@register("F.cross_entropy", "functional", mixed=True)
def _cross_entropy(env):
    tF = env.torch.nn.functional
    x2 = env.randn(6, 4, scale=2.0)
    x2[0] = (1e4, -1e4, 0.0, 1e4)  # extreme logits with a tie at the max
    y2 = np.array([0, 3, -100, 2, 1, -100])  # two ignored positions
    xk, yk = env.randn(2, 4, 3, 2), env.randint(0, 4, (2, 3, 2))  # K-dim input (N, C, d1, d2)
    yk[0, 1, 0] = yk[1, 2, 1] = 7  # ignore_index=7 below
    probs = _probs(env, 2, 4, 2, axis=1)
    w = env.uniform(4, low=0.2, high=2.0)
    comps = []
    for weight in (None, w):
        configs = [dict(reduction=r, label_smoothing=eps, weight=weight) for r in REDUCTIONS for eps in (0.0, 0.3)]
        k_configs = [dict(c, ignore_index=7) for c in configs]
        comps.append(compare_function(env, _over(F.cross_entropy, configs), _over(tF.cross_entropy, configs, env),
                                      [x2, y2]))  # class indices, (N, C)
        comps.append(compare_function(env, _over(F.cross_entropy, k_configs), _over(tF.cross_entropy, k_configs, env),
                                      [xk, yk]))  # class indices, K-dim, custom ignore_index
        comps.append(compare_function(env, _over(F.cross_entropy, configs), _over(tF.cross_entropy, configs, env),
                                      [xk[:, :, 0], probs], diff_argnums=(0, 1)))  # probabilities, (N, C, d)
    configs = [dict(reduction=r, label_smoothing=0.1) for r in REDUCTIONS]
    comps.append(compare_function(env, _over(F.cross_entropy, configs), _over(tF.cross_entropy, configs, env),
                                  [x2[1], np.array(2)]))  # 1-D input (C,) with a 0-d target
    # every target ignored: 'mean' is NaN (0/0) in both, the gradient is 0 in both
    comps.append(compare_function(env, F.cross_entropy, tF.cross_entropy, [x2[:2], np.array([-100, -100])]))
    return comps


@register("F.nll_loss", "functional")
def _nll_loss(env):
    tF = env.torch.nn.functional
    logp = np.log(_probs(env, 5, 3, axis=1))
    y = np.array([2, -100, 0, 1, 1])
    w = env.uniform(3, low=0.2, high=2.0)
    configs = [dict(reduction=r, weight=wt) for r in REDUCTIONS for wt in (None, w)]
    k_configs = [dict(c, ignore_index=1) for c in configs]
    return [compare_function(env, _over(F.nll_loss, configs), _over(tF.nll_loss, configs, env), [logp, y]),
            compare_function(env, _over(F.nll_loss, k_configs), _over(tF.nll_loss, k_configs, env),
                             [env.randn(2, 3, 4), env.randint(0, 3, (2, 4))])]


@register("F.binary_cross_entropy", "functional")
def _binary_cross_entropy(env):
    tF = env.torch.nn.functional
    p = env.uniform(3, 6, low=0.01, high=0.99)
    y = env.uniform(3, 6)
    # p ∈ {0, 1} hits the −100 clamp; torch's backward uses max(p(1−p), 1e-12) and −logit(p) there
    p[0], y[0] = (0.0, 1.0, 0.0, 1.0, 1e-30, 0.5), (1.0, 0.0, 0.0, 1.0, 1.0, 0.5)
    configs = [dict(reduction=r, weight=w) for r in REDUCTIONS for w in (None, env.uniform(6, low=0.5, high=2.0))]
    return compare_function(env, _over(F.binary_cross_entropy, configs), _over(tF.binary_cross_entropy, configs, env),
                            [p, y], diff_argnums=(0, 1))


@register("F.binary_cross_entropy_with_logits", "functional")
def _bce_with_logits(env):
    tF = env.torch.nn.functional
    x, y = env.randn(2, 3, 4, 5, scale=3.0), env.uniform(2, 3, 4, 5)
    x[0, 0, 0] = (0.0, 1e4, -1e4, 30.0, -30.0)
    y[0, 0, 0] = (0.5, 0.0, 1.0, 1.0, 0.0)
    extras = ({}, {"weight": env.uniform(4, 5, low=0.5, high=2.0)},
              {"pos_weight": env.uniform(5, low=0.5, high=3.0)},  # broadcasts from the last dim
              {"pos_weight": env.uniform(3, 1, 1, low=0.5, high=3.0), "weight": env.uniform(5)})
    configs = [dict(extra, reduction=r) for r in REDUCTIONS for extra in extras]
    return compare_function(env, _over(F.binary_cross_entropy_with_logits, configs),
                            _over(tF.binary_cross_entropy_with_logits, configs, env), [x, y], diff_argnums=(0, 1))


def _regression(env, jax_fn, torch_fn, configs):
    x, y = env.randn(4, 6, scale=2.0), env.randn(4, 6, scale=2.0)
    # kinks at d = x − y ∈ {0, ±0.5, ±1, ±2}: l1 at 0, smooth_l1 at ±β, huber at ±δ
    y[0] = x[0] - np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], dtype=x.dtype)
    y[1, :2] = x[1, :2] + np.array([2.0, 0.0], dtype=x.dtype)
    configs = [dict(c, reduction=r) for c in configs for r in REDUCTIONS]
    return compare_function(env, _over(jax_fn, configs), _over(torch_fn, configs, env), [x, y], diff_argnums=(0, 1))


@register("F.mse_loss", "functional", mixed=True)
def _mse_loss(env):
    w = env.uniform(4, 6, low=0.1, high=2.0)
    return _regression(env, F.mse_loss, env.torch.nn.functional.mse_loss, [{}, {"weight": w}])


@register("F.l1_loss", "functional")
def _l1_loss(env):
    w = env.uniform(4, 6, low=0.1, high=2.0)
    return _regression(env, F.l1_loss, env.torch.nn.functional.l1_loss, [{}, {"weight": w}])


@register("F.smooth_l1_loss", "functional")
def _smooth_l1_loss(env):
    return _regression(env, F.smooth_l1_loss, env.torch.nn.functional.smooth_l1_loss,
                       [{"beta": b} for b in (1.0, 0.5, 2.0, 0.0)])


@register("F.huber_loss", "functional")
def _huber_loss(env):
    w = env.uniform(4, 6, low=0.1, high=2.0)
    return _regression(env, F.huber_loss, env.torch.nn.functional.huber_loss,
                       [{"delta": d} for d in (1.0, 0.5, 2.0)] + [{"weight": w}])


@register("F.kl_div", "functional")
def _kl_div(env):
    tF = env.torch.nn.functional
    logq = np.log(_probs(env, 4, 5, axis=1))
    p = _probs(env, 4, 5, axis=1)
    p[0, :2] = 0.0  # xlogy(0, 0) = 0 in the value; the target gradient there is NaN in both
    log_p = np.log(_probs(env, 4, 5, axis=1))
    configs = [dict(reduction=r) for r in ("batchmean", "sum", "none", "mean")]
    log_configs = [dict(c, log_target=True) for c in configs]
    with warnings.catch_warnings():  # 'mean' warns on both sides (torch's wording)
        warnings.simplefilter("ignore", UserWarning)
        return [compare_function(env, _over(F.kl_div, configs), _over(tF.kl_div, configs), [logq, p],
                                 diff_argnums=(0, 1)),
                compare_function(env, _over(F.kl_div, log_configs), _over(tF.kl_div, log_configs), [logq, log_p],
                                 diff_argnums=(0, 1)),
                # 0-d input: no batch dimension, so torch's 'batchmean' is the sum (no division)
                compare_function(env, _over(F.kl_div, configs[:2]), _over(tF.kl_div, configs[:2]),
                                 [logq[1, 1], p[1, 1]], diff_argnums=(0, 1))]
