"""One epoch of training or evaluation, fused with lax.scan (device-resident data) or as a host loop over a DataLoader.

Partial batches: training drops the last ``n % batch_size`` examples of each shuffled epoch (torch's
``DataLoader(shuffle=True, drop_last=True)``), so every step has the same shape and nothing recompiles; a
different subset is dropped every epoch. Evaluation covers every example: full batches plus one smaller
final batch, and the loss is the example-weighted mean. Both modes do exactly this.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
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
    # dtype kept: under x64 jnp.sum would widen the int32 counts to int64, unlike the remainder batch's
    return {k: jnp.sum(v, axis=0, dtype=v.dtype) for k, v in out.items()} if sum_axis else out


def loop_train_epoch(train_step, loader, state, epoch: int, mesh, on_step):
    """Host loop: ``loader.batches(epoch)`` sent to the device(s) (global arrays on a mesh), one jitted step each."""
    metrics = []
    for xb, yb in loader.batches(epoch):
        state, m = train_step(state, *_sharding.batch((xb, yb), mesh, loader.num_replicas))
        metrics.append(m)
        on_step()
    return state, jax.tree.map(lambda *v: jnp.stack(v), *metrics)


def loop_eval_epoch(eval_step, loader, state, mesh):
    """Host loop over the loader's batches (last one smaller), example-weighted like the scan version."""
    totals = None
    for xb, yb in loader.batches(0):
        m = weighted(eval_step(state, *_sharding.batch((xb, yb), mesh, loader.num_replicas)),
                     len(xb) * loader.num_replicas)
        totals = m if totals is None else jax.tree.map(jnp.add, totals, m)
    return totals
