"""torch.optim.lbfgs's line search, as lax loops: ``_cubic_interpolate`` and ``_strong_wolfe``.

Ported branch by branch from torch/optim/lbfgs.py (itself from torch7's polyinterp.lua and lswolfe.lua): the
bracketing loop, the zoom loop with its ``insuf_progress`` rule and its early breaks, and the evaluation
count. A bracket is a pair of arrays; torch's one-point bracket ``[t]`` (Wolfe met while bracketing) is the pair
``[t, t]`` whose low end is its first.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, f1'=g1) and (x2, f2, g2), clipped to ``bounds``
    (default: the interval between x1 and x2); the bounds' midpoint when the cubic has no real minimiser.

    d1 = g1 + g2 - 3(f1-f2)/(x1-x2);  d2 = √(d1² - g1g2);  x = x2 - (x2-x1)(g2+d2-d1)/(g2-g1+2d2)  (x1 ≤ x2).
    torch: ``torch.optim.lbfgs._cubic_interpolate``.
    """
    if bounds is None:
        lo, hi = jnp.minimum(x1, x2), jnp.maximum(x1, x2)
    else:
        lo, hi = bounds
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    d2 = jnp.sqrt(jnp.where(d2_square >= 0, d2_square, 0))
    min_pos = jnp.where(x1 <= x2, x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)),
                        x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2)))
    return jnp.where(d2_square >= 0, jnp.minimum(jnp.maximum(min_pos, lo), hi), (lo + hi) / 2.0)


class Bracket(NamedTuple):
    """Two trial points: step ``t``, loss ``f``, flat gradient ``g``, directional derivative ``gtd``."""

    t: jax.Array
    f: jax.Array
    g: jax.Array
    gtd: jax.Array


def _pair(a, b):
    return Bracket(*(jnp.stack([x, y]) for x, y in zip(a, b)))


def _set(br: Bracket, i, point) -> Bracket:
    return Bracket(*(arr.at[i].set(v) for arr, v in zip(br, point)))


def _get(br: Bracket, i):
    return tuple(arr[i] for arr in br)


def strong_wolfe(obj, t, d, f, g, gtd, max_ls, c1=1e-4, c2=0.9, tolerance_change=1e-9):
    """Search step ``t`` along ``d`` for the strong Wolfe conditions; returns (f_new, g_new, t, ls_func_evals).

    ``obj(t) -> (loss, flat_grad)`` at ``x + t·d``; ``f, g, gtd`` are the loss, gradient and g·d at t = 0;
    ``max_ls`` (traced int) caps the evaluations after the first. torch: ``torch.optim.lbfgs._strong_wolfe``.
    """
    d_norm = jnp.max(jnp.abs(d))
    f_new, g_new = obj(t)
    gtd_new = jnp.dot(g_new, d)
    dt = d.dtype
    zero = jnp.zeros([], dt)
    # bracketing phase: (t, new point, previous point, ls_iter, evals, stop, done, bracket)
    init = (t, (f_new, g_new, gtd_new), (zero, f, g, gtd), jnp.int32(0), jnp.int32(1), False, False,
            _pair((zero, f, g, gtd), (t, f_new, g_new, gtd_new)))

    def bracket_cond(c):
        return (c[3] < max_ls) & ~c[5]

    def bracket_body(c):
        t, (f_new, g_new, gtd_new), (t_prev, f_prev, g_prev, gtd_prev), ls_iter, evals, _, _, br = c
        armijo_fails = (f_new > (f + c1 * t * gtd)) | ((ls_iter > 1) & (f_new >= f_prev))
        wolfe = ~armijo_fails & (jnp.abs(gtd_new) <= -c2 * gtd)
        ascends = ~armijo_fails & ~wolfe & (gtd_new >= 0)
        new = (t, f_new, g_new, gtd_new)
        br = jax.tree.map(lambda a, b, old: jnp.where(armijo_fails | ascends, a, jnp.where(wolfe, b, old)),
                          _pair((t_prev, f_prev, g_prev, gtd_prev), new), _pair(new, new), br)
        stop = armijo_fails | wolfe | ascends
        t_next = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                   bounds=(t + 0.01 * (t - t_prev), t * 10))

        def advance(_):
            f2, g2 = obj(t_next)
            return t_next, (f2, g2, jnp.dot(g2, d)), new, ls_iter + 1, evals + 1

        def stay(_):
            return t, (f_new, g_new, gtd_new), (t_prev, f_prev, g_prev, gtd_prev), ls_iter, evals

        return (*lax.cond(stop, stay, advance, None), stop, wolfe, br)

    t, (f_new, g_new, gtd_new), _, ls_iter, evals, _, done, br = lax.while_loop(bracket_cond, bracket_body, init)
    exhausted = ls_iter == max_ls  # torch: bracket = [0, t] (its gtd is never read: the zoom loop will not run)
    br = jax.tree.map(lambda a, old: jnp.where(exhausted, a, old),
                      _pair((zero, f, g, gtd), (t, f_new, g_new, gtd_new)), br)

    def order(br):
        return jnp.where(br.f[0] <= br.f[1], 0, 1)

    def zoom_cond(c):
        br, _, ls_iter, _, done, _ = c
        return ~done & (ls_iter < max_ls) & ~(jnp.abs(br.t[1] - br.t[0]) * d_norm < tolerance_change)

    def zoom_body(c):
        br, low, ls_iter, evals, done, insuf = c
        high = 1 - low
        t = cubic_interpolate(br.t[0], br.f[0], br.gtd[0], br.t[1], br.f[1], br.gtd[1])
        bmax, bmin = jnp.maximum(br.t[0], br.t[1]), jnp.minimum(br.t[0], br.t[1])
        eps = 0.1 * (bmax - bmin)
        near = jnp.minimum(bmax - t, t - bmin) < eps
        move = near & (insuf | (t >= bmax) | (t <= bmin))
        t = jnp.where(move, jnp.where(jnp.abs(t - bmax) < jnp.abs(t - bmin), bmax - eps, bmin + eps), t)
        insuf = near & ~move
        f_new, g_new = obj(t)
        gtd_new = jnp.dot(g_new, d)
        new = (t, f_new, g_new, gtd_new)
        worse = (f_new > (f + c1 * t * gtd)) | (f_new >= br.f[low])
        wolfe = ~worse & (jnp.abs(gtd_new) <= -c2 * gtd)
        flip = ~worse & ~wolfe & (gtd_new * (br.t[high] - br.t[low]) >= 0)
        raised = _set(br, high, new)
        lowered = _set(br, low, new)
        lowered = jax.tree.map(lambda a, b: jnp.where(flip, a, b), _set(lowered, high, _get(br, low)), lowered)
        br = jax.tree.map(lambda a, b: jnp.where(worse, a, b), raised, lowered)
        low = jnp.where(worse, order(br), low)
        return br, low, ls_iter + 1, evals + 1, wolfe, insuf

    br, low, _, evals, _, _ = lax.while_loop(zoom_cond, zoom_body, (br, order(br), ls_iter, evals, done, False))
    t, f_new, g_new, _ = _get(br, low)
    return f_new, g_new, t, evals
