"""Parity cases for jaxdl.optim.swa_utils: EMA / SWA averages over a short torch training run, and SWALR.

torch trains a BatchNorm MLP (Linear-BatchNorm1d-Tanh-Linear, SGD momentum) for STEPS steps while an
``AveragedModel`` follows it; jaxdl's ``update_parameters`` is fed the same model snapshots (params and buffers,
num_batches_tracked included) and every step's averaged params, buffers and n_averaged are compared.
"""
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.optim import swa_utils
from jaxdl.parity._core import Comparison, register, to_numpy

STEPS = 12


def _torch_run(env, make_avg, use_buffers):
    """Snapshots of the model's (params, buffers) and of the averaged model's after each update."""
    torch = env.torch
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(env.to_torch(env.uniform(*p.shape, low=-0.5, high=0.5)))
    model.to(env.torch_dtype)
    avg = make_avg(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    xs, ys = env.to_torch(env.randn(STEPS, 8, 4)), env.to_torch(env.randn(STEPS, 8, 2))
    models, averaged = [], []
    for i in range(STEPS):
        opt.zero_grad()
        ((model(xs[i]) - ys[i]) ** 2).mean().backward()
        opt.step()
        avg.update_parameters(model)

        def split(m):
            return ({k: v.detach().clone() for k, v in m.named_parameters()},
                    {k: v.detach().clone() for k, v in m.named_buffers()})
        models.append(split(model))
        p, b = split(avg.module)
        averaged.append((p, b, avg.n_averaged.clone()))
    return models, averaged


def _case(env, torch_avg, jax_kwargs, use_buffers):
    models, ref = _torch_run(env, lambda m: torch_avg(m, use_buffers), use_buffers)
    snaps = [jax.tree.map(lambda t: jnp.asarray(t.cpu().numpy()), m) for m in models]
    p0 = jax.tree.map(jnp.zeros_like, snaps[0][0])
    b0 = jax.tree.map(jnp.zeros_like, snaps[0][1])
    avg = swa_utils.averaged_model(p0, b0)  # its initial values are never read: the first update copies
    update = jax.jit(lambda a, p, b: swa_utils.update_parameters(a, p, b, use_buffers=use_buffers, **jax_kwargs))
    mine = []
    for p, b in snaps:
        avg = update(avg, p, b)
        mine.append((avg.params, avg.buffers, avg.n_averaged))
    return Comparison(values=(to_numpy(mine), to_numpy(ref)))


@register("optim.swa_utils.averaged_model", "optim")
def _averaged(env):
    torch = env.torch
    U = torch.optim.swa_utils
    return [
        _case(env, lambda m, ub: U.AveragedModel(m, multi_avg_fn=U.get_ema_multi_avg_fn(0.9), use_buffers=ub),
              {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)}, True),
        _case(env, lambda m, ub: U.AveragedModel(m, avg_fn=U.get_ema_avg_fn(0.8), use_buffers=ub),
              {"avg_fn": swa_utils.get_ema_avg_fn(0.8)}, False),
        _case(env, lambda m, ub: U.AveragedModel(m, use_buffers=ub), {}, True),  # SWA, torch's CPU path
        _case(env, lambda m, ub: U.AveragedModel(m, multi_avg_fn=U.get_swa_multi_avg_fn(), use_buffers=ub),
              {"multi_avg_fn": swa_utils.get_swa_multi_avg_fn()}, False),
    ]


@register("optim.swa_utils.SWALR", "optim")
def _swalr(env):
    torch = env.torch
    out = []
    for kw in ({"swa_lr": 0.05}, {"swa_lr": 0.5, "anneal_epochs": 3, "anneal_strategy": "linear"},
               {"swa_lr": 0.02, "anneal_epochs": 0}):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = torch.optim.swa_utils.SWALR(opt, **kw)
        lrs = []
        for _ in range(15):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        mine = jax.vmap(swa_utils.SWALR(0.1, **kw))(jnp.arange(15))
        out.append(Comparison(values=(to_numpy(mine), np.asarray(lrs))))
    return out


def _nested(flat):
    out = {}
    for name, v in flat.items():
        layer, leaf = name.split(".")
        out.setdefault(layer, {})[leaf] = jnp.asarray(v.detach().cpu().numpy())
    return out


@register("train.update_bn", "optim")
def _update_bn(env):
    """torch's SWA model after the run, then update_bn over 3 (x, y) batches: the recomputed BatchNorm buffers."""
    from jaxdl import nn, train  # noqa: PLC0415

    torch = env.torch
    U = torch.optim.swa_utils
    holder = {}

    def make(m):
        holder["avg"] = U.AveragedModel(m)
        return holder["avg"]

    _torch_run(env, make, False)
    avg = holder["avg"]
    batches = [(env.randn(8, 4, scale=2.0), env.randn(8, 2)) for _ in range(3)]
    params = {"2": {}, **_nested(dict(avg.module.named_parameters()))}
    state = {"0": {}, "2": {}, "3": {}, **_nested(dict(avg.module.named_buffers()))}
    U.update_bn([tuple(env.to_torch(t) for t in b) for b in batches], avg)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 2))
    mine = train.update_bn([tuple(env.to_jax(t) for t in b) for b in batches], model,
                           jax.tree.map(lambda a: a.astype(env.compute_dtype), params), state)
    return Comparison(values=(to_numpy(mine["1"]), to_numpy(dict(avg.module[1].named_buffers()))))
