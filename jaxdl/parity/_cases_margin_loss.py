"""Parity cases for the losses of issue 12 (margin, embedding and likelihood losses) and the distances they
use, against torch.nn.functional: values and gradients, every reduction, ties at the margin, NaN inputs.
"""
import numpy as np

from jaxdl import functional as F
from jaxdl.parity._cases_loss import REDUCTIONS, _over
from jaxdl.parity._core import compare_function, register


def _signs(env, *shape):
    return np.where(env.rng.random(shape) < 0.5, -1.0, 1.0).astype(env.np_dtype)


def _loss(env, name, args, configs, diff_argnums=(0,)):
    tF = env.torch.nn.functional
    return compare_function(env, _over(getattr(F, name), configs), _over(getattr(tF, name), configs, env), args,
                            diff_argnums=diff_argnums)


@register("F.hinge_embedding_loss", "functional")
def _hinge(env):
    x, y = env.randn(5, 4, scale=2.0), _signs(env, 5, 4)
    x[0] = (1.0, 0.5, 2.0, np.nan)  # margin − x = 0 (gradient passes, as clamp_min), NaN
    y[0] = (-1.0, -1.0, 1.0, -1.0)
    y[1, :2] = (0.0, 3.0)  # neither ±1: both terms
    configs = [dict(margin=m, reduction=r) for r in REDUCTIONS for m in (1.0, 0.5)]
    return _loss(env, "hinge_embedding_loss", [x, y], configs)


@register("F.margin_ranking_loss", "functional")
def _ranking(env):
    a, b, y = env.randn(7), env.randn(7), _signs(env, 7)
    b[0], y[0] = a[0], 1.0  # tie at margin 0
    configs = [dict(margin=m, reduction=r) for r in REDUCTIONS for m in (0.0, 0.3)]
    return [_loss(env, "margin_ranking_loss", [a, b, y], configs, (0, 1)),
            _loss(env, "margin_ranking_loss", [a[0], b[1], y[2]], configs[:3], (0, 1))]  # 0-d


@register("F.multi_margin_loss", "functional")
def _multi_margin(env):
    x, y = env.randn(6, 4), env.randint(0, 4, (6,))
    x[0], y[0] = (0.0, 1.0, 0.0, -2.0), 1  # margin − x_y + x_j = 0: no gradient (torch's z > 0)
    x[1, 3] = np.nan  # a NaN term is not > 0: left out, as torch's kernel
    w = env.uniform(4, low=0.2, high=2.0)
    configs = [dict(p=p, margin=m, weight=wt, reduction=r) for r in REDUCTIONS for p in (1, 2)
               for m, wt in ((1.0, None), (0.5, w))]
    return [_loss(env, "multi_margin_loss", [x, y], configs),
            _loss(env, "multi_margin_loss", [x[2], np.array(3)], configs),  # (C,) input, 0-d target
            _loss(env, "multi_margin_loss", [x[2], np.array([3])], configs)]


@register("F.cosine_embedding_loss", "functional")
def _cosine_embedding(env):
    a, b, y = env.randn(6, 5), env.randn(6, 5), _signs(env, 6)
    a[0] = 0.0  # zero vector: the 1e-12 keeps it finite
    b[1] = 2 * a[1]  # cos = 1
    configs = [dict(margin=m, reduction=r) for r in REDUCTIONS for m in (0.0, 0.4, -0.2)]
    return [_loss(env, "cosine_embedding_loss", [a, b, y], configs, (0, 1)),
            _loss(env, "cosine_embedding_loss", [a[2], b[2], np.array(-1.0, env.np_dtype)], configs, (0, 1))]


@register("F.triplet_margin_loss", "functional")
def _triplet(env):
    a, pos, neg = env.randn(6, 5), env.randn(6, 5), env.randn(6, 5)
    pos[0] = a[0]  # d(a, p) = ‖eps‖
    configs = [dict(margin=m, p=p, swap=s, reduction=r) for r in REDUCTIONS for p in (2, 1, 3.0)
               for m, s in ((1.0, False), (0.5, True))]
    return [_loss(env, "triplet_margin_loss", [a, pos, neg], configs, (0, 1, 2)),
            _loss(env, "triplet_margin_loss", [a[1], pos[1], neg[1]], configs[:6], (0, 1, 2))]  # (D,)


@register("F.poisson_nll_loss", "functional")
def _poisson(env):
    x, y = env.randn(4, 5), np.floor(env.uniform(4, 5, high=5.0)).astype(env.np_dtype)
    y[0, :3] = (0.0, 1.0, 2.0)  # Stirling term masked where y ≤ 1
    rate = env.uniform(4, 5, low=0.1, high=3.0)
    rate[0, 0] = 0.0  # log(0 + eps)
    configs = [dict(log_input=li, full=f, reduction=r) for r in REDUCTIONS for li in (True, False)
               for f in (False, True)]
    comps = [_loss(env, "poisson_nll_loss", [x, y], configs[::2]),
             _loss(env, "poisson_nll_loss", [rate, y], [dict(c, eps=1e-3) for c in configs[1::2]])]
    yp = y + 0.5  # the target's gradient too, away from y = 0 (there torch's is 0·log 0 = NaN)
    comps.append(_loss(env, "poisson_nll_loss", [rate, yp], configs, (0, 1)))
    return comps


@register("F.gaussian_nll_loss", "functional")
def _gaussian(env):
    x, y = env.randn(4, 3), env.randn(4, 3)
    var = env.uniform(4, 3, low=0.1, high=2.0)
    var[0, 0] = 1e-8  # below eps: clamped, gradient passes (torch's no_grad clamp)
    configs = [dict(full=f, reduction=r) for r in REDUCTIONS for f in (False, True)]
    comps = [_loss(env, "gaussian_nll_loss", [x, y, v], configs, (0, 1, 2))
             for v in (var, var[:, 0], var[:, :1], var[:1, :])]  # full, (N,), (N, 1), (1, D)
    comps.append(_loss(env, "gaussian_nll_loss", [x, y], [dict(c, var=0.5, eps=1e-3) for c in configs], (0, 1)))
    return comps


@register("F.normalize/cosine_similarity/pairwise_distance", "functional")
def _distances(env):
    tF = env.torch.nn.functional
    a, b = env.randn(4, 5), env.randn(4, 5)
    a[0] = 0.0  # zero norm: clamped at eps, gradient 0 (torch's norm backward)
    a[1] = 1e-9  # norm below eps
    b[2] = -3 * a[2]  # cos = −1
    b[3, :2] = a[3, :2] = 5.0  # ∞-norm ties
    # (jaxdl, torch) functions of (a, b), every variant in one comparison (one compile)
    fns = [(lambda u, v, p=p, d=d: F.normalize(u, p, d), lambda u, v, p=p, d=d: tF.normalize(u, p, d))
           for p in (2.0, 1.0, 3.0, np.inf) for d in (1, 0)]
    fns.append((lambda u, v: F.normalize(u, eps=1e-2), lambda u, v: tF.normalize(u, eps=1e-2)))
    split = len(fns)  # normalize's huge gradients on the 1e-9 row get their own comparison
    fns += [(lambda u, v, d=d, e=e: F.cosine_similarity(u, v, d, e),
             lambda u, v, d=d, e=e: tF.cosine_similarity(u, v, d, e))
            for d, e in ((1, 1e-8), (0, 1e-8), (-1, 0.5))]
    fns.append((lambda u, v: F.cosine_similarity(u, v[:1]), lambda u, v: tF.cosine_similarity(u, v[:1])))  # broadcast
    for p in (2.0, 1.0, 3.0, np.inf):
        fns += [(lambda u, v, p=p: F.pairwise_distance(u, v, p), lambda u, v, p=p: tF.pairwise_distance(u, v, p)),
                (lambda u, v, p=p: F.pairwise_distance(u, v, p, 0.0, True),
                 lambda u, v, p=p: tF.pairwise_distance(u, v, p, 0.0, True))]
    return [compare_function(env, lambda u, v, g=g: tuple(m(u, v) for m, _ in g),
                             lambda u, v, g=g: tuple(t(u, v) for _, t in g), [a, b], (0, 1))
            for g in (fns[:split], fns[split:])]
