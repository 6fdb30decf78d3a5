"""Parity cases for jaxdl.optim.lbfgs: 50 ``step(closure)`` trajectories against torch.optim.LBFGS.

Here: torch's default and strong_wolfe configurations (float32 and float64), plus a short history (history_size
3) so the ring buffer drops pairs; every one of torch's own configurations (``optim_inputs_func_lbfgs``,
read from torch.testing._internal.common_optimizers) runs through ``softmax_case`` in tests/test_optim_db.py.
Each step runs up to 20 quasi-Newton iterations on a deterministic loss (a closure that sees the whole data set,
as LBFGS is used): an L2-regularised softmax regression. Every step's parameters and, in float64, torch's
``n_iter`` / ``func_evals`` counters are compared. Rosenbrock's function under strong_wolfe is compared in float64 by
tests/optim/test_lbfgs.py (in float32 its end game is below float32's resolution: torch float32 and jaxdl stop
at different points of the valley).

Why these problems: 20 iterations per step compound rounding. On a non-convex loss with a fixed step (a small
tanh MLP, fixed-step Rosenbrock) torch's trajectory amplifies a 1e-14 difference ~100× per step, so no
implementation that does not round bit for bit as torch's BLAS can stay within 1e-9 over 50 steps; on these
problems the trajectories are well-conditioned and the comparison is at the float64 rtol.
"""
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import optim
from jaxdl.parity._core import Comparison, register, to_numpy

STEPS = 50


def _jax_kwargs(kw):
    return {k: (jnp.asarray(float(v)) if hasattr(v, "item") else v) for k, v in kw.items()}


def softmax_regression(p, x, y, xp=jnp):
    """mean cross-entropy of x @ wᵀ + b against integer labels y, + 0.01 (|w|² + |b|²)."""
    z = x @ p["w"].T + p["b"][None]  # (N, 4) -> (N, 3)
    if xp is jnp:
        lse, picked = jax.nn.logsumexp(z, axis=1), jnp.take_along_axis(z, y[:, None], 1)[:, 0]
    else:
        lse, picked = xp.logsumexp(z, 1), z.gather(1, y[:, None])[:, 0]
    return (lse - picked).mean() + 0.01 * ((p["w"] ** 2).sum() + (p["b"] ** 2).sum())


def rosenbrock(p, x=None, y=None, xp=jnp):
    a, b = p["w"][0], p["w"][1]
    return (1 - a) ** 2 + 100 * (b - a**2) ** 2


def trajectories(env, fn, params, data, kw, steps=STEPS):
    """(jaxdl, torch): per step the params and the (n_iter, func_evals) counters, ``steps`` steps of one config."""
    torch = env.torch
    opt = optim.lbfgs(**_jax_kwargs(kw))
    jdata = [env.to_jax(d) for d in data]

    @jax.jit
    def run(p):
        def body(carry, _):
            p, s = carry
            _, p, s = opt.step(fn, p, s, *jdata)
            return (p, s), (p, jnp.stack([s.inner.n_iter, s.inner.func_evals]))

        return jax.lax.scan(body, (p, opt.init(p)), None, length=steps)[1]

    mine = run({k: env.to_jax(v) for k, v in params.items()})
    tp = {k: env.to_torch(v, requires_grad=True) for k, v in params.items()}
    topt = torch.optim.LBFGS(list(tp.values()), **kw)
    tdata = [env.to_torch(d) for d in data]

    def closure():
        topt.zero_grad()
        loss = fn(tp, *tdata, xp=torch)
        loss.backward()
        return loss

    traj, counts = [], []
    for _ in range(steps):
        topt.step(closure)
        traj.append({k: v.detach().clone() for k, v in tp.items()})
        st = topt.state[next(iter(tp.values()))]
        counts.append([st.get("n_iter", 0), st["func_evals"]])
    ref = ({k: torch.stack([t[k] for t in traj]) for k in tp}, np.asarray(counts, np.int32))
    if env.np_dtype != np.float64:  # float32: the params by the rounding rule (a counter has no rounding error)
        mine, ref = mine[0], ref[0]
    return Comparison(values=(to_numpy(mine), to_numpy(ref)))


def softmax_case(env, configs, steps=STEPS):
    """One Comparison per configuration (torch's kwargs) on the L2-regularised softmax regression."""
    params = {"w": env.uniform(3, 4, low=-0.5, high=0.5), "b": env.uniform(3, low=-0.5, high=0.5)}
    data = (env.randn(32, 4), env.randint(0, 3, (32,)))
    return [trajectories(env, softmax_regression, params, data, kw, steps) for kw in configs]


@register("optim.lbfgs", "optim")
def _lbfgs(env):
    """torch's default and strong_wolfe configurations (CI: each config is a compile of nested while loops)."""
    return softmax_case(env, [{}, {"line_search_fn": "strong_wolfe"}])


@register("optim.lbfgs_configs.history_size_3", "optim", sweep=True)
def _lbfgs_short_history(env):
    """A history of 3 pairs: the ring buffer drops the oldest (not among torch's configurations)."""
    return softmax_case(env, [{"history_size": 3, "max_iter": 8}])
