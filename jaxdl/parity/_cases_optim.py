"""Parity cases for jaxdl.optim: 100-step parameter trajectories of a 4-8-3 tanh MLP against torch.optim.

Both sides start from the same weights, see the same batches and compute their own gradients; each config
compares every step's parameters and the lr the optimizer state reports (torch: ``param_groups[i]['lr']``).
Schedules and clipping: _cases_lr_scheduler.py.
"""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import optim
from jaxdl.optim import lr_scheduler as sched
from jaxdl.parity._core import Comparison, register, to_numpy

STEPS, N_BATCHES = 100, 4
NAMES = (("0", "weight"), ("0", "bias"), ("2", "weight"), ("2", "bias"))


def _problem(env):
    """Weights (as torch.nn.Linear(4, 8), Linear(8, 3)) and N_BATCHES batches of 8 examples."""
    shapes = {("0", "weight"): (8, 4), ("0", "bias"): (8,), ("2", "weight"): (3, 8), ("2", "bias"): (3,)}
    weights = {k: env.uniform(*s, low=-0.5, high=0.5) for k, s in shapes.items()}
    return weights, env.randn(N_BATCHES, 8, 4), env.randn(N_BATCHES, 8, 3)


def _nest(flat):
    return {"0": {"weight": flat[NAMES[0]], "bias": flat[NAMES[1]]},
            "2": {"weight": flat[NAMES[2]], "bias": flat[NAMES[3]]}}


def _loss(p, x, y, xp=jnp):
    h = xp.tanh(x @ p["0"]["weight"].T + p["0"]["bias"][None])  # (B, 4) -> (B, 8)
    return ((h @ p["2"]["weight"].T + p["2"]["bias"][None] - y) ** 2).mean()  # (B, 3) -> ()


def jax_trajectory(tx, env, problem, sign=1.0, every=1, metric=None, steps=STEPS):
    """Params and get_lrs after each of ``steps`` updates (every=k: k micro-batches per recorded step)."""
    weights, xs, ys = problem
    params = _nest({k: env.to_jax(v) for k, v in weights.items()})
    xs, ys = env.to_jax(xs), env.to_jax(ys)

    @jax.jit
    def run(params):
        def body(carry, i):
            p, s, ps = carry
            b = i % N_BATCHES
            g = jax.grad(lambda q: sign * _loss(q, xs[b], ys[b]))(p)
            u, s = tx.update(g, s, p)
            p = optax.apply_updates(p, u)
            if metric is not None:  # ReduceLROnPlateau after each step, on the loss over all batches
                plateau, fn = metric
                ps = plateau.step(ps, fn(jnp.mean(jnp.stack([_loss(p, xs[j], ys[j]) for j in range(N_BATCHES)]))))
                s = optim.set_lr(s, ps.lr)
            return (p, s, ps), (p, jnp.stack(optim.get_lrs(s)))

        s0 = tx.init(params)
        ps0 = metric[0].init(jnp.stack(optim.get_lrs(s0))) if metric is not None else None
        _, (traj, lrs) = jax.lax.scan(body, (params, s0, ps0), jnp.arange(steps * every))
        return jax.tree.map(lambda t: t[every - 1::every], (traj, lrs))

    return run(params)


def torch_trajectory(make_opt, env, problem, sign=1.0, every=1, make_sched=None, clip=None, metric=None,
                     steps=STEPS):
    """The same loop in torch: zero_grad, ``every`` × backward (grads summed), [clip], step, scheduler.step."""
    torch = env.torch
    weights, xs, ys = problem
    flat = {k: env.to_torch(v, requires_grad=True) for k, v in weights.items()}
    p = _nest(flat)
    opt = make_opt(p)
    scheduler = make_sched(opt) if make_sched else None
    traj, lrs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's scheduler warnings are not the subject here
        for i in range(steps):
            opt.zero_grad()
            for j in range(every):
                b = (i * every + j) % N_BATCHES
                (sign * _loss(p, env.to_torch(xs[b]), env.to_torch(ys[b]), torch)).backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(list(flat.values()), *clip)
            opt.step()
            if metric is not None:
                with torch.no_grad():
                    total = torch.stack([_loss(p, env.to_torch(xs[j]), env.to_torch(ys[j]), torch)
                                         for j in range(N_BATCHES)]).mean()
                scheduler.step(float(metric(total)))
            elif scheduler is not None:
                scheduler.step()
            traj.append(_nest({k: v.detach().clone() for k, v in flat.items()}))
            lrs.append([g["lr"] for g in opt.param_groups])
    stacked = jax.tree.map(lambda *t: torch.stack(t), *traj)
    return stacked, np.asarray(lrs)


def _all(p):
    return [p["0"]["weight"], p["0"]["bias"], p["2"]["weight"], p["2"]["bias"]]


def _optimizer_case(env, jax_opt, torch_opt, configs):
    """One Comparison per config: (kwargs, lr, schedule name or None)."""
    problem = _problem(env)
    out = []
    for kw, lr, schedule in configs:
        sign = -1.0 if kw.get("maximize") else 1.0  # maximize the negated loss: same descent, bounded values
        L = env.torch.optim.lr_scheduler
        jax_lr = {"step": sched.StepLR(lr, step_size=30, gamma=0.3), None: lr,
                  "cos": sched.CosineAnnealingLR(lr, T_max=40, eta_min=lr / 10)}[schedule]
        make_sched = {"step": lambda o: L.StepLR(o, step_size=30, gamma=0.3), None: None,
                      "cos": lambda o, lr=lr: L.CosineAnnealingLR(o, T_max=40, eta_min=lr / 10)}[schedule]
        mine = jax_trajectory(jax_opt(lr=jax_lr, **kw), env, problem, sign)
        ref = torch_trajectory(lambda p, kw=kw, lr=lr: torch_opt(_all(p), lr=lr, **kw), env, problem, sign,
                               make_sched=make_sched)
        out.append(_cmp((mine, ref)))
    return out


def _cmp(pair):
    return Comparison(values=(to_numpy(pair[0]), to_numpy(pair[1])))


@register("optim.sgd", "optim")
def _sgd(env):
    configs = [({}, 0.1, None), ({"momentum": 0.9}, 0.05, None), ({"momentum": 0.9, "dampening": 0.5}, 0.05, None),
               ({"momentum": 0.9, "nesterov": True}, 0.05, None),
               ({"momentum": 0.5, "weight_decay": 0.1, "maximize": True}, 0.1, None),
               ({"momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}, 0.05, "step")]
    return _optimizer_case(env, optim.sgd, env.torch.optim.SGD, configs)


@register("optim.adam", "optim")
def _adam(env):
    configs = [({}, 1e-2, None), ({"weight_decay": 0.1}, 1e-2, None), ({"amsgrad": True}, 1e-2, None),
               ({"amsgrad": True, "weight_decay": 0.05, "maximize": True}, 1e-2, None),
               ({"betas": (0.8, 0.99), "eps": 1e-6}, 2e-2, "step"),
               ({"weight_decay": 0.1, "decoupled_weight_decay": True}, 1e-2, None)]
    return _optimizer_case(env, optim.adam, env.torch.optim.Adam, configs)


@register("optim.adamw", "optim")
def _adamw(env):
    configs = [({}, 1e-2, None), ({"weight_decay": 0.1, "amsgrad": True, "maximize": True}, 1e-2, None),
               ({"weight_decay": 0.1}, 2e-2, "cos")]
    return _optimizer_case(env, optim.adamw, env.torch.optim.AdamW, configs)


@register("optim.rmsprop", "optim")
def _rmsprop(env):
    configs = [({}, 1e-2, None), ({"centered": True, "alpha": 0.9}, 1e-2, None), ({"momentum": 0.9}, 2e-3, None),
               ({"momentum": 0.5, "centered": True, "weight_decay": 0.1, "maximize": True}, 5e-3, None),
               ({"momentum": 0.9}, 5e-3, "step")]  # momentum under a schedule: buffer before the lr, as torch
    return _optimizer_case(env, optim.rmsprop, env.torch.optim.RMSprop, configs)


@register("optim.adagrad", "optim")
def _adagrad(env):
    configs = [({}, 0.1, None), ({"lr_decay": 0.05}, 0.1, None),
               ({"initial_accumulator_value": 0.1, "weight_decay": 0.1, "eps": 1e-6}, 0.1, None),
               ({"maximize": True, "lr_decay": 0.01}, 0.1, "step")]
    return _optimizer_case(env, optim.adagrad, env.torch.optim.Adagrad, configs)


@register("optim.adadelta", "optim")
def _adadelta(env):
    configs = [({}, 1.0, None), ({"rho": 0.95, "weight_decay": 0.1, "maximize": True}, 1.0, None),
               ({"eps": 1e-5}, 2.0, "cos")]
    return _optimizer_case(env, optim.adadelta, env.torch.optim.Adadelta, configs)


@register("optim.param_groups", "optim")
def _param_groups(env):
    """AdamW with no decay on biases and its own lr, then clip + SGD momentum groups; torch's param_groups."""
    torch, problem = env.torch, _problem(env)
    labels = optim.decay_labels(_nest(problem[0]))

    def groups(p, **no_decay):
        return [{"params": [p["0"]["weight"], p["2"]["weight"]]},
                {"params": [p["0"]["bias"], p["2"]["bias"]], **no_decay}]

    tx = optim.param_groups({"decay": optim.adamw(lr=1e-2, weight_decay=0.1),
                             "no_decay": optim.adamw(lr=3e-3, weight_decay=0.0)}, labels)
    one = _cmp((
        jax_trajectory(tx, env, problem),
        torch_trajectory(lambda p: torch.optim.AdamW(groups(p, lr=3e-3, weight_decay=0.0), lr=1e-2, weight_decay=0.1),
                         env, problem)))
    tx = optax.chain(optim.clip_grad_norm(0.05), optim.param_groups(
        {"decay": optim.sgd(lr=0.1, momentum=0.9, weight_decay=0.01), "no_decay": optim.sgd(lr=0.2, momentum=0.5)},
        labels))
    two = _cmp((
        jax_trajectory(tx, env, problem),
        torch_trajectory(lambda p: torch.optim.SGD(groups(p, lr=0.2, momentum=0.5, weight_decay=0.0), lr=0.1,
                                                   momentum=0.9, weight_decay=0.01), env, problem, clip=(0.05,))))
    return [one, two]


@register("optim.accumulate_gradients", "optim")
def _accumulate(env):
    """4 micro-batches per step: summed .grad (reduction='sum') and (loss/4).backward() (reduction='mean')."""
    torch, problem = env.torch, _problem(env)
    out = []
    for reduction, sign in (("sum", 1.0), ("mean", 0.25)):
        tx = optim.accumulate_gradients(optim.sgd(lr=sched.StepLR(0.05, step_size=30, gamma=0.3), momentum=0.9),
                                        4, reduction=reduction)
        mine = jax_trajectory(tx, env, problem, every=4)
        ref = torch_trajectory(lambda p: torch.optim.SGD(_all(p), lr=0.05, momentum=0.9), env, problem, sign, every=4,
                               make_sched=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.3))
        out.append(_cmp((mine, ref)))
    # Clipping inside the accumulation: torch clips the summed .grad once before step().
    tx = optim.accumulate_gradients(optax.chain(optim.clip_grad_norm(0.05), optim.sgd(lr=0.1, momentum=0.9)), 4)
    ref = torch_trajectory(lambda p: torch.optim.SGD(_all(p), lr=0.1, momentum=0.9), env, problem, every=4,
                           clip=(0.05,))
    out.append(_cmp((jax_trajectory(tx, env, problem, every=4), ref)))
    return out


@register("optim.ReduceLROnPlateau", "optim")
def _plateau(env):
    """Plateau reductions driven by the full-data loss after each step (min/rel and max/abs on -loss)."""
    torch, problem = env.torch, _problem(env)
    out = []
    for kw, fn in (({"factor": 0.5, "patience": 2, "threshold": 2e-2, "cooldown": 1, "min_lr": 0.02},
                    lambda loss: loss),
                   ({"mode": "max", "threshold_mode": "abs", "patience": 1, "threshold": 1e-3, "factor": 0.3},
                    lambda loss: -loss)):
        mine = jax_trajectory(optim.sgd(lr=0.2, momentum=0.5), env, problem, metric=(optim.ReduceLROnPlateau(**kw), fn))
        ref = torch_trajectory(lambda p: torch.optim.SGD(_all(p), lr=0.2, momentum=0.5), env, problem,
                               make_sched=lambda o, kw=kw: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw),
                               metric=fn)
        out.append(_cmp((mine, ref)))
    return out


@register("optim.OneCycleLR_trajectory", "optim")
def _one_cycle_trajectory(env):
    """OneCycleLR with its momentum cycling (torch's default) on Adam's β1, AdamW+amsgrad's, and SGD's momentum."""
    torch, problem = env.torch, _problem(env)
    s = sched.OneCycleLR(0.05, total_steps=STEPS)
    make_sched = lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=STEPS)  # noqa: E731
    cases = [(optim.adam(lr=s, betas=(s.momentum, 0.999)), lambda p: torch.optim.Adam(_all(p))),
             (optim.adamw(lr=s, betas=(s.momentum, 0.99), amsgrad=True, weight_decay=0.1),
              lambda p: torch.optim.AdamW(_all(p), betas=(0.9, 0.99), amsgrad=True, weight_decay=0.1)),
             (optax.inject_hyperparams(optim.sgd, static_args="lr")(lr=s, momentum=s.momentum),
              lambda p: torch.optim.SGD(_all(p), lr=0.05, momentum=0.9))]
    # SGD's momentum is injected; the lr schedule goes to sgd itself (static_args): its state holds the lr
    return [_cmp((jax_trajectory(tx, env, problem), torch_trajectory(make, env, problem, make_sched=make_sched)))
            for tx, make in cases]


# --- torch 2.13's other optimizers: sweeps (CI runs a stratified part; each is also in tests/test_optim_db.py) ---
@register("optim.nadam", "optim", sweep=True)
def _nadam(env):
    configs = [({}, 1e-2, None), ({"momentum_decay": 6e-3, "weight_decay": 0.1, "maximize": True}, 1e-2, None),
               ({"weight_decay": 0.1, "decoupled_weight_decay": True}, 2e-2, "step")]
    return _optimizer_case(env, optim.nadam, env.torch.optim.NAdam, configs)


@register("optim.radam", "optim", sweep=True)
def _radam(env):
    configs = [({}, 1e-2, None), ({"weight_decay": 0.1, "decoupled_weight_decay": True, "eps": 1e-6}, 1e-2, None),
               ({"weight_decay": 0.05, "maximize": True}, 2e-2, "cos")]
    return _optimizer_case(env, optim.radam, env.torch.optim.RAdam, configs)


@register("optim.adamax", "optim", sweep=True)
def _adamax(env):
    configs = [({}, 2e-2, None), ({"weight_decay": 0.1, "maximize": True, "betas": (0.8, 0.99)}, 2e-2, "step")]
    return _optimizer_case(env, optim.adamax, env.torch.optim.Adamax, configs)


@register("optim.asgd", "optim", sweep=True)
def _asgd(env):
    """t0 = 20: averaging starts inside the run; a schedule reaches η one step late, as torch's."""
    configs = [({"t0": 20, "lambd": 1e-2}, 0.05, None), ({"weight_decay": 0.1, "maximize": True}, 0.05, "step")]
    return _optimizer_case(env, optim.asgd, env.torch.optim.ASGD, configs)


@register("optim.rprop", "optim", sweep=True)
def _rprop(env):
    configs = [({}, 1e-2, None), ({"etas": (0.3, 1.5), "step_sizes": (1e-4, 0.05), "maximize": True}, 1e-3, None)]
    return _optimizer_case(env, optim.rprop, env.torch.optim.Rprop, configs)


@register("optim.adafactor", "optim", sweep=True)
def _adafactor(env):
    configs = [({}, 1e-2, None), ({"weight_decay": 0.1, "d": 1.5, "beta2_decay": -0.5, "maximize": True}, 5e-2, None),
               ({"eps": (1e-20, 1e-3)}, 0.1, "cos")]
    return _optimizer_case(env, optim.adafactor, env.torch.optim.Adafactor, configs)


class _Optimizers:
    """Several torch optimizers stepped as one (Muon for the matrices, AdamW for the rest: torch's own advice)."""

    def __init__(self, *opts):
        self.opts = opts
        self.param_groups = [g for o in opts for g in o.param_groups]

    def zero_grad(self):
        for o in self.opts:
            o.zero_grad()

    def step(self):
        for o in self.opts:
            o.step()


@register("optim.muon", "optim", sweep=True)
def _muon(env):
    """Muon on the two weight matrices, AdamW on the biases (jaxdl: param_groups; torch: two optimizers).

    50 steps (the issue's measure): the bfloat16 Newton–Schulz is torch's bit for bit until one product sum rounds
    differently from torch's CPU gemm (1 bfloat16 ulp; here at step 58 of the first config), then both drift.
    float32: 10 steps. Float32 optimizer trajectories differ from torch's by ulps from step 1 (every case here), and
    the bfloat16 rounding of the iteration turns that into a 1-bfloat16-ulp flip within a few tens of steps."""
    torch, problem = env.torch, _problem(env)
    labels = {"0": {"weight": "muon", "bias": "adamw"}, "2": {"weight": "muon", "bias": "adamw"}}
    out, steps = [], 10 if env.np_dtype == np.float32 else 50
    for kw, lr in (({}, 2e-2), ({"nesterov": False, "adjust_lr_fn": "match_rms_adamw", "momentum": 0.9}, 1e-2)):
        tx = optim.param_groups({"muon": optim.muon(lr, **kw), "adamw": optim.adamw(1e-2)}, labels)
        ref = torch_trajectory(lambda p, kw=kw, lr=lr: _Optimizers(  # groups in get_lrs' (label) order
            torch.optim.AdamW([p["0"]["bias"], p["2"]["bias"]], lr=1e-2),
            torch.optim.Muon([p["0"]["weight"], p["2"]["weight"]], lr=lr, **kw)), env, problem, steps=steps)
        out.append(_cmp((jax_trajectory(tx, env, problem, steps=steps), ref)))
    return out
