"""Parity cases for the schedulers of issue 12 (MultiplicativeLR, CyclicLR with its momentum, ChainedScheduler)
against torch's get_last_lr() step by step, and ReduceLROnPlateau with one min_lr per param group on a
two-group training trajectory.
"""
import numpy as np

from jaxdl import optim
from jaxdl.optim import lr_scheduler as S
from jaxdl.parity._cases_lr_scheduler import _cmp, _jax_lrs, _torch_lrs
from jaxdl.parity._cases_optim import _cmp as _cmp_traj
from jaxdl.parity._cases_optim import _nest, _problem, jax_trajectory, torch_trajectory
from jaxdl.parity._core import register


@register("optim.MultiplicativeLR/ChainedScheduler", "optim")
def _multiplicative(env):
    L = env.torch.optim.lr_scheduler
    cases = [
        (S.MultiplicativeLR(0.1, lambda k: 0.95), lambda o: L.MultiplicativeLR(o, lambda k: 0.95), 30),
        (S.MultiplicativeLR(0.1, lambda k: 1.0 - 0.01 * (k % 4)),
         lambda o: L.MultiplicativeLR(o, lambda k: 1.0 - 0.01 * (k % 4)), 25),
        (S.ChainedScheduler([S.ConstantLR(0.1, factor=0.1, total_iters=2), S.ExponentialLR(0.1, gamma=0.9)]),
         lambda o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=2), L.ExponentialLR(o, gamma=0.9)]), 20),
        (S.ChainedScheduler([S.LinearLR(0.1, start_factor=0.2, total_iters=5), S.StepLR(0.1, 4, gamma=0.5),
                             S.MultiStepLR(0.1, [7, 11], gamma=0.3), S.PolynomialLR(0.1, total_iters=15, power=2.0)]),
         lambda o: L.ChainedScheduler([L.LinearLR(o, start_factor=0.2, total_iters=5), L.StepLR(o, 4, gamma=0.5),
                                       L.MultiStepLR(o, [7, 11], gamma=0.3),
                                       L.PolynomialLR(o, total_iters=15, power=2.0)]), 20),
    ]
    return [_cmp((_jax_lrs(j, n), _torch_lrs(env, t, n))) for j, t, n in cases]


@register("optim.CyclicLR", "optim")
def _cyclic(env):
    """lr and momentum (SGD) / β1 (Adam) at every step, the three modes, asymmetric cycles, a custom scale_fn."""
    L = env.torch.optim.lr_scheduler
    out = []
    for kw, opt_name, n in (({"step_size_up": 4}, "SGD", 25),
                            ({"step_size_up": 3, "step_size_down": 5, "mode": "triangular2"}, "Adam", 40),
                            ({"step_size_up": 5, "mode": "exp_range", "gamma": 0.97, "base_momentum": 0.7}, "SGD", 30),
                            ({"step_size_up": 2, "step_size_down": 6, "scale_fn": lambda x: 0.5 ** x,
                              "scale_mode": "iterations"}, "Adam", 20)):
        mine = S.CyclicLR(0.01, 0.1, **kw)
        ref = _torch_lrs(env, lambda o, kw=kw: L.CyclicLR(o, 0.01, 0.1, **kw), n, opt_name, momentum=True)
        out.append(_cmp(((_jax_lrs(mine, n), _jax_lrs(mine, n, "momentum")), ref)))
    ref = _torch_lrs(env, lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3, cycle_momentum=False), 12, "SGD")
    out.append(_cmp((_jax_lrs(S.CyclicLR(0.01, 0.1, step_size_up=3, cycle_momentum=False), 12), ref)))
    return out


@register("optim.ReduceLROnPlateau(min_lr per group)", "optim")
def _plateau_groups(env):
    """issue 12: min_lr=[0.4, 0.3], one per param group (weights and biases), as torch allows."""
    torch, problem = env.torch, _problem(env)
    labels = optim.decay_labels(_nest(problem[0]))  # group 0: weights ('decay'), group 1: biases
    kw = {"factor": 0.5, "patience": 0, "threshold": 0.05, "min_lr": [0.4, 0.3]}
    tx = optim.param_groups({"decay": optim.sgd(lr=1.0), "no_decay": optim.sgd(lr=0.9)}, labels)

    def groups(p):
        return [{"params": [p["0"]["weight"], p["2"]["weight"]]},
                {"params": [p["0"]["bias"], p["2"]["bias"]], "lr": 0.9}]

    mine = jax_trajectory(tx, env, problem, metric=(optim.ReduceLROnPlateau(**kw), lambda v: v))
    ref = torch_trajectory(lambda p: torch.optim.SGD(groups(p), lr=1.0), env, problem,
                           make_sched=lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw),
                           metric=lambda v: v)
    lrs = np.asarray(ref[1])
    assert lrs[-1].tolist() == [0.4, 0.3], lrs[-1]  # both groups reach their own floor
    return _cmp_traj((mine, ref))
