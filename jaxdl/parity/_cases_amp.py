"""Parity case for jaxdl.amp.GradScaler: float16 autocast + loss scaling training steps against torch's recipe.

torch: ``with torch.autocast("cpu", torch.float16): loss = ...; scaler.scale(loss).backward(); scaler.unscale_(opt);
clip_grad_norm_; scaler.step(opt); scaler.update()``; jaxdl: make_train_step(precision="fp16-mixed") with the
wrapped, clipping optimizer. The float32 run is float16-mixed on both sides (float64 is not autocast-eligible:
the float64 run and the float32 run's reference compute in float64, as torch's). Step 3's batch holds an inf:
its gradients are not finite, the step is skipped on both sides and the scale halved; growth_interval=2 makes the
scale grow after two good steps. Compared: parameters after every step, the scale and the growth tracker.
A GPU alone can check torch's CUDA op lists (torch here is the CPU build): the case runs torch's "cpu" lists.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import amp, nn, optim
from jaxdl import functional as F
from jaxdl.parity._core import Comparison, register
from jaxdl.train import TrainState, make_train_step

STEPS, BATCH, BAD_STEP = 6, 8, 2  # BAD_STEP (0-based): the batch with an inf input
SCALER = {"init_scale": 2.0**10, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2}


def _model():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


@register("amp.GradScaler fp16-mixed steps (one skipped) vs torch", "amp")
def _grad_scaler_steps(env):
    torch = env.torch
    fp16 = not env.reference and env.dtype == "float32"  # the float32 run is fp16-mixed; references float64
    dtype = jnp.dtype(env.np_dtype)
    xs = env.randn(STEPS, BATCH, 4)
    xs[BAD_STEP, 0, 0] = np.inf
    ys = env.randint(0, 3, (STEPS, BATCH)).astype(np.int32)
    scaler = amp.GradScaler(**SCALER)
    tx = scaler.wrap(optax.chain(optim.clip_grad_norm(1.0), optim.adam(lr=1e-2)))
    state = TrainState.create(_model(), tx, jax.random.key(0), dtype)
    params0 = jax.tree.map(np.asarray, state.params)
    precision = "fp16-mixed" if fp16 else "fp32"  # fp32 with the wrapped tx: the loss is still scaled
    step = jax.jit(make_train_step(_model(), tx, F.cross_entropy, precision=precision),
                   compiler_options=amp.compiler_options(precision))
    mine = {"params": [], "scale": [], "tracker": []}
    for i in range(STEPS):
        # the state's dtype: a reference run judges torch's float64 side only, so jaxdl's stays as built
        state, _ = step(state, jnp.asarray(xs[i], dtype), env.to_jax(ys[i]))
        mine["params"].append({f"{k}.{n}": v for k, d in state.params.items() for n, v in d.items()})
        mine["scale"].append(state.opt_state.scaler.scale)
        mine["tracker"].append(state.opt_state.scaler.growth_tracker.astype(jnp.float32))

    tm = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    tm.to(device=env.device, dtype=env.torch_dtype)
    tm.load_state_dict({f"{k}.{n}": env.to_torch(v) for k, d in params0.items() for n, v in d.items()})
    opt = torch.optim.Adam(tm.parameters(), lr=1e-2)
    ts = torch.amp.GradScaler(env.device, **SCALER)
    theirs = {"params": [], "scale": [], "tracker": []}
    for i in range(STEPS):
        with torch.autocast(env.device, dtype=torch.float16, enabled=fp16):
            loss = torch.nn.functional.cross_entropy(tm(env.to_torch(xs[i])), env.to_torch(ys[i]).long())
        opt.zero_grad()
        ts.scale(loss).backward()
        ts.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(tm.parameters(), 1.0)
        ts.step(opt)
        ts.update()
        theirs["params"].append({k: v.detach().cpu().numpy().copy() for k, v in tm.named_parameters()})
        theirs["scale"].append(ts.get_scale())
        theirs["tracker"].append(float(ts._growth_tracker))
    assert theirs["scale"][BAD_STEP] == SCALER["init_scale"] * 2 * SCALER["backoff_factor"], theirs["scale"]
    return [Comparison((mine["params"], theirs["params"])),
            Comparison((np.array(mine["scale"]), np.array(theirs["scale"]))),
            Comparison((np.array(mine["tracker"]), np.array(theirs["tracker"])))]

