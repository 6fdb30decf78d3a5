"""Parity cases for jaxdl.optim.lr_scheduler (lr, and OneCycleLR's momentum/β1, step by step against
torch's get_last_lr()) and clip_grad_norm (against torch.nn.utils.clip_grad_norm_ on random trees).
"""
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import optim
from jaxdl.optim import lr_scheduler as S
from jaxdl.parity._core import Comparison, register, to_numpy


def _torch_lrs(env, make, steps, opt_name="SGD", momentum=False):
    """get_last_lr()[0] (and momentum / β1) after 0..steps scheduler steps, one optimizer step before each."""
    torch = env.torch
    p = env.to_torch(np.zeros(1, env.np_dtype), requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9) if opt_name == "SGD" else torch.optim.Adam([p], lr=0.1)
    lrs, moms = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make(opt)
        for t in range(steps + 1):
            lrs.append(scheduler.get_last_lr()[0])
            group = opt.param_groups[0]
            moms.append(group["momentum"] if opt_name == "SGD" else group["betas"][0])
            if t < steps:
                opt.step()
                scheduler.step()
    return (np.asarray(lrs), np.asarray(moms)) if momentum else np.asarray(lrs)


def _jax_lrs(schedule, steps, method=None):
    fn = schedule if method is None else getattr(schedule, method)
    return jax.jit(fn)(jnp.arange(steps + 1))  # every schedule is elementwise in the count


def _cmp(pair):
    return Comparison(values=(to_numpy(pair[0]), to_numpy(pair[1])))


@register("optim.lr_scheduler", "optim")
def _schedules(env):
    L = env.torch.optim.lr_scheduler
    cases = [  # (jaxdl schedule, torch scheduler factory, scheduler steps)
        (S.StepLR(0.1, step_size=7, gamma=0.5), lambda o: L.StepLR(o, step_size=7, gamma=0.5), 40),
        (S.MultiStepLR(0.1, milestones=[5, 12, 12, 30], gamma=0.3),
         lambda o: L.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3), 40),
        (S.ExponentialLR(0.1, gamma=0.93), lambda o: L.ExponentialLR(o, gamma=0.93), 40),
        (S.CosineAnnealingLR(0.1, T_max=20, eta_min=1e-3),  # 70 steps: past T_max the cosine rises again
         lambda o: L.CosineAnnealingLR(o, T_max=20, eta_min=1e-3), 70),
        (S.LinearLR(0.1), lambda o: L.LinearLR(o), 10),
        (S.LinearLR(0.1, start_factor=1.0, end_factor=0.05, total_iters=12),
         lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=12), 20),
        (S.SequentialLR([S.LinearLR(0.1, start_factor=0.01, total_iters=5), S.CosineAnnealingLR(0.1, 15)], [5]),
         lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.01, total_iters=5), L.CosineAnnealingLR(o, 15)],
                                  milestones=[5]), 30),
        (S.SequentialLR([S.ExponentialLR(0.1, gamma=0.9), S.StepLR(0.1, 4), S.ExponentialLR(0.1, gamma=0.8)], [6, 14]),
         lambda o: L.SequentialLR(o, [L.ExponentialLR(o, gamma=0.9), L.StepLR(o, 4), L.ExponentialLR(o, gamma=0.8)],
                                  milestones=[6, 14]), 25),
        # the epoch reaches the lambda as an int array: cast it, as JAX's strict promotion (the tests') asks
        (S.LambdaLR(0.1, lambda t: 0.95 ** t.astype(float)), lambda o: L.LambdaLR(o, lambda t: 0.95**t), 30),
        (S.LambdaLR(0.1, lambda t: jnp.minimum(1.0, (t + 1) / 8)),  # warmup; torch's lambda gets a Python int
         lambda o: L.LambdaLR(o, lambda t: min(1.0, (t + 1) / 8)), 15),
        (S.ConstantLR(0.1), lambda o: L.ConstantLR(o), 10),
        (S.ConstantLR(0.1, factor=0.5, total_iters=3), lambda o: L.ConstantLR(o, factor=0.5, total_iters=3), 8),
        (S.PolynomialLR(0.1), lambda o: L.PolynomialLR(o), 10),
        (S.PolynomialLR(0.1, total_iters=12, power=0.9), lambda o: L.PolynomialLR(o, total_iters=12, power=0.9), 20),
        (S.PolynomialLR(0.1, total_iters=7, power=2.0), lambda o: L.PolynomialLR(o, total_iters=7, power=2.0), 10),
        (S.CosineAnnealingWarmRestarts(0.1, T_0=5), lambda o: L.CosineAnnealingWarmRestarts(o, T_0=5), 30),
        (S.CosineAnnealingWarmRestarts(0.1, T_0=3, T_mult=2, eta_min=1e-3),
         lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3), 50),
        (S.CosineAnnealingWarmRestarts(0.1, T_0=1, T_mult=3),
         lambda o: L.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3), 45),
    ]
    out = [_cmp((_jax_lrs(j, n), _torch_lrs(env, t, n))) for j, t, n in cases]
    # Per-epoch schedules stepped per epoch, 3 updates per epoch: update count c uses torch's epoch c // 3.
    for j, t in ((S.StepLR(0.1, step_size=4, gamma=0.5, steps_per_epoch=3), lambda o: L.StepLR(o, 4, gamma=0.5)),
                 (S.CosineAnnealingLR(0.1, T_max=6, steps_per_epoch=3), lambda o: L.CosineAnnealingLR(o, T_max=6)),
                 (S.CosineAnnealingWarmRestarts(0.1, T_0=2, T_mult=2, steps_per_epoch=3),
                  lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2)),
                 (S.PolynomialLR(0.1, total_iters=8, steps_per_epoch=3), lambda o: L.PolynomialLR(o, total_iters=8))):
        out.append(_cmp((_jax_lrs(j, 44), np.repeat(_torch_lrs(env, t, 14), 3)[:45])))
    return out


@register("optim.OneCycleLR", "optim")
def _one_cycle(env):
    """lr and momentum (SGD) / β1 (Adam) at every step 0..total_steps, cos/linear, two and three phases."""
    L = env.torch.optim.lr_scheduler
    out = []
    for kw, opt_name in (({"total_steps": 50}, "SGD"), ({"total_steps": 37, "anneal_strategy": "linear"}, "Adam"),
                         ({"epochs": 4, "steps_per_epoch": 10, "three_phase": True, "pct_start": 0.25}, "SGD"),
                         ({"total_steps": 30, "pct_start": 0.5, "div_factor": 10.0, "final_div_factor": 100.0,
                           "base_momentum": 0.8, "max_momentum": 0.9}, "Adam")):
        mine = S.OneCycleLR(1.0, **kw)
        n = mine.total_steps
        ref = _torch_lrs(env, lambda o, kw=kw: L.OneCycleLR(o, max_lr=1.0, **kw), n, opt_name, momentum=True)
        out.append(_cmp(((_jax_lrs(mine, n), _jax_lrs(mine, n, "momentum")), ref)))
    return out


@register("optim.clip_grad_norm", "optim")
def _clip(env):
    """Random trees scaled to norms below, at and above max_norm=1, for p in 2, 1, 3, inf; grads and total."""
    torch = env.torch
    shapes = ((3, 4), (5,), (2, 2, 2))
    base = [env.randn(*s) for s in shapes]
    out = []
    for p in (2.0, 1.0, 3.0, math.inf):
        tx = optim.clip_grad_norm(1.0, norm_type=p)
        update = jax.jit(lambda g, tx=tx: tx.update(g, tx.init(g)))
        norm = float(np.linalg.norm([np.linalg.norm(b.ravel().astype(np.float64), ord=p) for b in base], ord=p))
        for factor in (0.5, 1.0, 3.0):
            grads = [(b.astype(np.float64) * factor / norm).astype(env.np_dtype) for b in base]
            clipped, state = update([env.to_jax(g) for g in grads])
            params = [env.to_torch(np.zeros_like(g), requires_grad=True) for g in grads]
            for t, g in zip(params, grads):
                t.grad = env.to_torch(g)
            total = torch.nn.utils.clip_grad_norm_(params, 1.0, norm_type=p)
            out.append(_cmp(((clipped, state.total_norm), ([t.grad for t in params], total))))
    return out
