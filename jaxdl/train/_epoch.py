"""One epoch of training or evaluation, fused with lax.scan (device-resident data) or as a host loop.

Partial batches: training drops the last ``n % batch_size`` examples of each shuffled epoch (torch's
``DataLoader(shuffle=True, drop_last=True)``), so every step has the same shape and nothing recompiles; a
different subset is dropped every epoch. Evaluation covers every example: full batches plus one smaller
final batch, and the loss is the example-weighted mean. Both modes do exactly this.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxdl.train import _sharding


def permutation(state, epoch, n: int):
    """The epoch's shuffle: ``jax.random.permutation(state.shuffle_key(epoch), n)``."""
    return jax.random.permutation(state.shuffle_key(epoch), n)


def make_train_epoch(train_step, batch_size: int, mesh=None):
    """Pure ``(state, x, y, epoch) -> (state, metrics stacked per step)``: ``train_step`` scanned over the batches."""

    def train_epoch(state, x, y, epoch):
        n = x.shape[0]
        steps = n // batch_size
        idx = permutation(state, epoch, n)[: steps * batch_size].reshape(steps, batch_size)
        xb, yb = x[idx], y[idx]  # (steps, B, ...)
        if mesh is not None:
            xb = lax.with_sharding_constraint(xb, _sharding.batch_sharded(mesh, leading=1))
            yb = lax.with_sharding_constraint(yb, _sharding.batch_sharded(mesh, leading=1))
        return lax.scan(lambda s, b: train_step(s, *b), state, (xb, yb))

    return train_epoch


def make_eval_epoch(eval_step, batch_size: int):
    """Pure ``(state, x, y) -> totals`` over all examples in order: full batches mapped, then the remainder."""

    def eval_epoch(state, x, y):
        n = x.shape[0]
        full = n // batch_size
        totals = None
        if full:
            xb = x[: full * batch_size].reshape(full, batch_size, *x.shape[1:])
            yb = y[: full * batch_size].reshape(full, batch_size, *y.shape[1:])
            m = lax.map(lambda b: eval_step(state, *b), (xb, yb))
            totals = weighted(m, batch_size, sum_axis=True)
        if n % batch_size:
            rest = weighted(eval_step(state, x[full * batch_size:], y[full * batch_size:]), n % batch_size)
            totals = rest if totals is None else jax.tree.map(jnp.add, totals, rest)
        return totals

    return eval_epoch


def weighted(metrics, batch: int, sum_axis: bool = False):
    """Batch-mean loss → loss sum over examples; sums correct/count."""
    out = dict(metrics, loss=metrics["loss"] * batch)
    return {k: jnp.sum(v, axis=0) for k, v in out.items()} if sum_axis else out


def loop_train_epoch(train_step, perm_fn, state, x, y, epoch, batch_size, mesh, on_step):
    """Host loop: numpy batches gathered on the host, sent to the device(s), one jitted step each."""
    n = x.shape[0]
    steps = n // batch_size
    perm = np.asarray(perm_fn(state, epoch))
    sharding = None if mesh is None else _sharding.batch_sharded(mesh)
    metrics = []
    for i in range(steps):
        idx = perm[i * batch_size:(i + 1) * batch_size]
        xb, yb = jax.device_put((x[idx], y[idx]), sharding)
        state, m = train_step(state, xb, yb)
        metrics.append(m)
        on_step()
    return state, jax.tree.map(lambda *v: jnp.stack(v), *metrics)


def loop_eval_epoch(eval_step, state, x, y, batch_size, mesh):
    """Host loop over all examples in order (last batch smaller), example-weighted like the scan version."""
    n = x.shape[0]
    totals = None
    for start in range(0, n, batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        if mesh is not None and len(xb) % mesh.size == 0:
            xb, yb = jax.device_put((xb, yb), _sharding.batch_sharded(mesh))
        m = weighted(eval_step(state, xb, yb), len(xb))
        totals = m if totals is None else jax.tree.map(jnp.add, totals, m)
    return totals
