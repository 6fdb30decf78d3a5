"""L-BFGS as torch.optim.LBFGS: ``step(closure)`` as a pure function of (loss function, params, state)."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

from jaxdl import checks as V
from jaxdl.optim._lbfgs_search import strong_wolfe
from jaxdl.optim._lr import LrState, _lr_value

LINE_SEARCH_FNS = (None, "strong_wolfe")


class LbfgsState(NamedTuple):
    """torch's ``optimizer.state[params[0]]`` with fixed-size history buffers.

    func_evals, n_iter: torch's counters, carried across steps. d, t: the last direction and step length.
    old_dirs, old_stps (history_size, n), ro (history_size,): the curvature pairs y, s and 1/(y·s), the
    ``num_old`` newest of them in a ring starting at ``head`` (oldest first, as torch's lists).
    H_diag: the initial inverse-Hessian scale; prev_flat_grad, prev_loss: the last iteration's gradient and loss.
    """

    func_evals: jax.Array
    n_iter: jax.Array
    d: jax.Array
    t: jax.Array
    old_dirs: jax.Array
    old_stps: jax.Array
    ro: jax.Array
    head: jax.Array
    num_old: jax.Array
    H_diag: jax.Array
    prev_flat_grad: jax.Array
    prev_loss: jax.Array


class LBFGS(NamedTuple):
    """``init(params) -> state``; ``step(fun, params, state, *args) -> (loss, params, state)``."""

    init: Callable[[Any], LrState]
    step: Callable[..., tuple]


def _check(lr, max_iter, max_eval, history_size, line_search_fn):
    V.check_lr(lr)  # also refuses array lrs (torch: "Tensor lr must be 1-element")
    V.check_positive_int("history_size", history_size)
    for name, v in (("max_iter", max_iter), ("max_eval", max_eval)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be an int ≥ 0, got {v!r}")
    if line_search_fn not in LINE_SEARCH_FNS:
        raise ValueError(f"line_search_fn must be None or 'strong_wolfe' (torch supports only these), "
                         f"got {line_search_fn!r}")
    if line_search_fn == "strong_wolfe" and max_iter > 0 and max_eval < 1:
        raise ValueError(f"max_eval = {max_eval} with line_search_fn='strong_wolfe': expected max_eval ≥ 1 "
                         "(torch's line search fails with no evaluation left)")


def _two_loop(g, state: LbfgsState, history_size):
    """-H·g by the two-loop recursion over the stored pairs (torch's loops, oldest pair first)."""
    def k(i):
        return (state.head + i) % history_size

    def backward(j, carry):
        q, al = carry
        i = state.num_old - 1 - j
        a = jnp.dot(state.old_stps[k(i)], q) * state.ro[k(i)]
        return q + (-a) * state.old_dirs[k(i)], al.at[i].set(a)

    q, al = lax.fori_loop(0, state.num_old, backward, (-g, jnp.zeros_like(state.ro)))

    def forward(i, r):
        be_i = jnp.dot(state.old_dirs[k(i)], r) * state.ro[k(i)]
        return r + (al[i] - be_i) * state.old_stps[k(i)]

    return lax.fori_loop(0, state.num_old, forward, q * state.H_diag)


def _remember(state: LbfgsState, y, s, ys, history_size) -> LbfgsState:
    """Append (y, s, 1/ys), dropping the oldest pair when the history is full; H_diag = ys / y·y."""
    full = state.num_old == history_size
    slot = jnp.where(full, state.head, (state.head + state.num_old) % history_size)
    return state._replace(
        old_dirs=state.old_dirs.at[slot].set(y), old_stps=state.old_stps.at[slot].set(s),
        ro=state.ro.at[slot].set(1.0 / ys), head=jnp.where(full, (state.head + 1) % history_size, state.head),
        num_old=jnp.where(full, state.num_old, state.num_old + 1), H_diag=ys / jnp.dot(y, y))


def lbfgs(lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100,
          line_search_fn=None) -> LBFGS:
    """L-BFGS, as ``torch.optim.LBFGS``: each ``step`` runs up to ``max_iter`` quasi-Newton iterations.

    Differs in form from the other jaxdl/optax optimizers: not a GradientTransformation (``update(grads)``),
    because a step evaluates the loss many times (torch's ``step(closure)``). ``step(fun, params, state, *args)``
    takes the loss function ``fun(params, *args) -> scalar`` in the closure's place and returns
    ``(loss, params, state)``, loss being ``fun`` at the given params (torch's ``orig_loss``). It is pure and
    jittable (``jax.jit(lambda p, s, x, y: opt.step(loss_fn, p, s, x, y))``); the loops are lax.while_loops,
    the history fixed-size buffers of ``history_size`` flat parameter vectors.

    Per iteration (torch's order): d = -g (first iteration ever) or -H·g by the two-loop recursion after adding
    the pair y = g - g_prev, s = t·d when y·s > 1e-10 (oldest pair dropped beyond ``history_size``, H_diag = y·s /
    y·y); t = min(1, 1/Σ|g|)·lr (first iteration ever) or lr; stop if g·d > -tolerance_change; x ← x + t·d, t
    from ``strong_wolfe`` or fixed (the loss re-evaluated except after the last iteration); stop at max_iter,
    at ``max_eval`` evaluations in this step, when max|g| ≤ tolerance_grad, max|t·d| ≤ tolerance_change or
    |Δloss| < tolerance_change. A step whose initial max|g| ≤ tolerance_grad changes nothing but func_evals.
    ``n_iter`` and ``func_evals`` are carried across steps, as torch's.

    The state is an ``LrState`` around ``LbfgsState``: ``get_lr`` / ``set_lr`` read and write the lr, and a
    schedule as ``lr`` is evaluated at the step count after each step, as the other optimizers.

    Args:
      lr: step length scale (default 1; a number, 0-d array or schedule). max_iter: iterations per step.
      max_eval: loss evaluations per step (default ``max_iter * 5 // 4``). tolerance_grad, tolerance_change:
        termination tolerances. history_size: curvature pairs kept. line_search_fn: None or "strong_wolfe".

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> opt = optim.lbfgs(line_search_fn="strong_wolfe")
      >>> fun = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2
      >>> params = {"x": jnp.array(-1.0), "y": jnp.array(1.0)}
      >>> state = opt.init(params)
      >>> for _ in range(3):
      ...     loss, params, state = opt.step(fun, params, state)
      >>> round(float(params["x"]), 3), round(float(params["y"]), 3)
      (1.0, 1.0)
    """
    if max_eval is None:
        max_eval = max_iter * 5 // 4
    _check(lr, max_iter, max_eval, history_size, line_search_fn)

    def init(params) -> LrState:
        flat, _ = ravel_pytree(params)
        n, dt = flat.shape[0], flat.dtype
        zero, i0 = jnp.zeros([], dt), jnp.zeros([], jnp.int32)
        hist = jnp.zeros((history_size, n), dt)
        inner = LbfgsState(i0, i0, jnp.zeros_like(flat), zero, hist, hist, jnp.zeros(history_size, dt), i0, i0,
                           jnp.ones([], dt), jnp.zeros_like(flat), zero)
        return LrState(i0, _lr_value(lr, i0), inner)

    def step(fun, params, state: LrState, *args):
        x0, unravel = ravel_pytree(params)
        dt = x0.dtype
        lr_t = state.lr.astype(dt)

        value_and_grad = jax.value_and_grad(lambda v: fun(unravel(v), *args))

        def evaluate(x):
            value, g = value_and_grad(x)
            return value.astype(dt), g

        orig_loss, g0 = value_and_grad(x0)
        loss0 = orig_loss.astype(dt)
        s0 = state.inner._replace(func_evals=state.inner.func_evals + 1)

        def cond(c):
            return ~c[-1]

        def body(c):
            n_iter, x, loss, g, s, evals, _ = c
            n_iter, s = n_iter + 1, s._replace(n_iter=s.n_iter + 1)
            first = s.n_iter == 1

            def later(s):
                y, sk = g - s.prev_flat_grad, s.d * s.t
                ys = jnp.dot(y, sk)
                s = lax.cond(ys > 1e-10, lambda s: _remember(s, y, sk, ys, history_size), lambda s: s, s)
                return _two_loop(g, s, history_size), s

            d, s = lax.cond(first, lambda s: (-g, s._replace(num_old=jnp.int32(0), head=jnp.int32(0),
                                                            H_diag=jnp.ones([], dt))), later, s)
            t = jnp.where(first, jnp.minimum(1.0, 1.0 / jnp.sum(jnp.abs(g))) * lr_t, lr_t)
            s = s._replace(d=d, t=t, prev_flat_grad=g, prev_loss=loss)
            gtd = jnp.dot(g, d)
            flat = gtd > -tolerance_change

            def move(_):
                if line_search_fn == "strong_wolfe":
                    loss2, g2, t2, ls = strong_wolfe(lambda tt: evaluate(x + tt * d), t, d, loss, g, gtd,
                                                     max_eval - evals, tolerance_change=tolerance_change)
                    return x + t2 * d, loss2, g2, t2, ls
                x2 = x + t * d
                loss2, g2 = lax.cond(n_iter != max_iter, lambda: evaluate(x2), lambda: (loss, g))
                return x2, loss2, g2, t, jnp.where(n_iter != max_iter, 1, 0).astype(jnp.int32)

            def stay(_):
                return x, loss, g, t, jnp.int32(0)

            x2, loss2, g2, t2, ls = lax.cond(flat, stay, move, None)
            evals = evals + ls
            s = s._replace(t=t2, func_evals=s.func_evals + ls)
            stop = (flat | (n_iter == max_iter) | (evals >= max_eval) | (jnp.max(jnp.abs(g2)) <= tolerance_grad)
                    | (jnp.max(jnp.abs(d * t2)) <= tolerance_change) | (jnp.abs(loss2 - loss) < tolerance_change))
            return n_iter, x2, loss2, g2, s, evals, stop

        optimal = jnp.max(jnp.abs(g0)) <= tolerance_grad
        init_c = (jnp.int32(0), x0, loss0, g0, s0, jnp.int32(1), optimal | (max_iter <= 0))
        _, x, _, _, inner, _, _ = lax.while_loop(cond, body, init_c)
        count = state.count + 1
        new_lr = _lr_value(lr, count).astype(state.lr.dtype) if callable(lr) else state.lr
        return orig_loss, unravel(x), LrState(count, new_lr, inner)

    return LBFGS(init, step)
