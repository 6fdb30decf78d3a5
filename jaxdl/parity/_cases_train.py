"""Parity cases for jaxdl.train: fit (scan and loop modes) against the same epoch loop written in torch.

Both sides start from the same weights and see the same batches in the same order (jaxdl's shuffle,
replayed in torch; with a DataLoader also torch's default smaller last batch); the comparison is the final
parameters, BatchNorm buffers and per-epoch losses.
"""
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import nn, optim
from jaxdl.data import DataLoader
from jaxdl.parity._core import Comparison, register
from jaxdl.train import TrainState, fit, permutation

EPOCHS, BATCH, N, NV = 3, 8, 44, 12  # 44 % 8 != 0: the last partial batch is dropped each epoch


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _torch_run(env, state, x, y, vx, vy, drop_last=True, ema_decay=None):
    """torch.optim.SGD(momentum=0.9) over jaxdl's batches; returns state_dict and per-epoch losses (with
    ``ema_decay``, the state_dict of ``AveragedModel(tm, multi_avg_fn=get_ema_multi_avg_fn(ema_decay))``, updated
    after each step, and the per-epoch validation losses of that EMA model)."""
    torch = env.torch
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    tm.to(device=env.device, dtype=env.torch_dtype)  # before loading: load_state_dict casts to the params' dtype
    flat = {}
    for tree in (state.params, state.model_state):
        for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
            flat[".".join(p.key for p in path)] = env.to_torch(leaf)
    flat["1.num_batches_tracked"] = flat["1.num_batches_tracked"].long()
    tm.load_state_dict(flat)
    opt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    swa = torch.optim.swa_utils
    ema = None if ema_decay is None else swa.AveragedModel(tm, multi_avg_fn=swa.get_ema_multi_avg_fn(ema_decay))
    xt, yt, vxt, vyt = env.to_torch(x), env.to_torch(y).long(), env.to_torch(vx), env.to_torch(vy).long()
    train_losses, val_losses = [], []
    for epoch in range(1, EPOCHS + 1):
        perm = np.asarray(permutation(state, epoch, N))
        tm.train()
        losses = []
        for i in range(N // BATCH if drop_last else -(-N // BATCH)):
            idx = env.to_torch(perm[i * BATCH:(i + 1) * BATCH]).long()
            with env.autocast():
                loss = torch.nn.functional.cross_entropy(tm(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if ema is not None:
                ema.update_parameters(tm)
            losses.append(loss.item())
        evaluated = tm if ema is None else ema.module
        evaluated.eval()
        with torch.no_grad(), env.autocast():
            val_losses.append(torch.nn.functional.cross_entropy(evaluated(vxt), vyt).item())
        train_losses.append(np.mean(losses))
    return (tm if ema is None else ema.module).state_dict(), train_losses, val_losses


def _fit_vs_torch(mode, loader=False, ema_decay=None):
    """fit on arrays (drop_last) or, with ``loader``, on a DataLoader keeping torch's smaller last batch; with
    ``ema_decay``, fit's EMA copy and its ema_val_loss against torch's AveragedModel."""
    def case(env):
        dtype = jnp.dtype(env.np_dtype)
        x, vx = env.randn(N, 4), env.randn(NV, 4)
        y, vy = env.randint(0, 3, (N,)).astype(np.int32), env.randint(0, 3, (NV,)).astype(np.int32)
        key = jax.random.key(0)
        state0 = TrainState.create(_model(), optim.sgd(lr=0.1, momentum=0.9), key, dtype)  # fit's initial state
        train = DataLoader((x, y), BATCH, shuffle=True, key=state0.data_key()) if loader else (x, y)
        res = fit(_model(), optim.sgd(lr=0.1, momentum=0.9), train, (vx, vy), epochs=EPOCHS, batch_size=BATCH,
                  key=key, mode=mode, progress=False, dtype=dtype, precision=env.precision, ema_decay=ema_decay)
        sd, train_losses, val_losses = _torch_run(env, state0, x, y, vx, vy, drop_last=not loader,
                                                  ema_decay=ema_decay)
        params, buffers = ((res.state.params, res.state.model_state) if ema_decay is None else
                           (res.state.ema.params, res.state.ema.buffers))
        mine = {k: params[k[0]][k[2:]] for k in ("0.weight", "0.bias", "1.weight", "3.weight", "3.bias")}
        mine.update({f"1.{b}": buffers["1"][b] for b in ("running_mean", "running_var")})
        val = "val_loss" if ema_decay is None else "ema_val_loss"
        return [Comparison((mine, {k: sd[k].detach().cpu().numpy() for k in mine})),
                Comparison((np.array([h["train_loss"] for h in res.history]), np.array(train_losses))),
                Comparison((np.array([h[val] for h in res.history]), np.array(val_losses)))]

    return case


register("train.fit scan vs torch loop", "train", mixed=True)(_fit_vs_torch("scan"))
register("train.fit loop vs torch loop", "train", mixed=True)(_fit_vs_torch("loop"))
register("train.fit DataLoader (last batch kept) vs torch loop", "train", mixed=True)(
    _fit_vs_torch("loop", loader=True))
register("train.fit ema_decay vs torch AveragedModel (EMA)", "train")(_fit_vs_torch("loop", ema_decay=0.8))
