"""One epoch of training or evaluation over a DataLoader: fused with lax.scan over its arrays on the device, or
as a host loop over its batches.

Both follow the loader's rules (torch's ``DataLoader``): with ``shuffle`` epoch ``e`` visits rows in the order
``jaxdl.data.epoch_permutation(loader.key, e, N)`` (the scan computes it on the device, the loop on the host);
with ``drop_last`` the last ``N % batch_size`` examples of that order are dropped (every step the same shape: no
recompile; fit's arrays train so), else they make one smaller last step. Evaluation is example-weighted: the
loss sum over the examples evaluated, divided by their number.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxdl.data import epoch_permutation
from jaxdl.train import _sharding


def permutation(state, epoch, n: int):
    """fit's shuffle of arrays: ``epoch_permutation(state.data_key(), epoch, n)``."""
    return epoch_permutation(state.data_key(), epoch, n)


def make_train_epoch(train_step, batch_size: int, mesh=None, *, shuffle: bool = True, drop_last: bool = True):
    """Pure ``(state, x, y, epoch, data_key) -> (state, metrics stacked per step)``: ``train_step`` scanned over
    the epoch's batches, in ``epoch_permutation(data_key, epoch, N)`` order with ``shuffle`` (data_key unused
    without), the partial last batch dropped with ``drop_last`` or trained as one more, smaller step."""

    def train_epoch(state, x, y, epoch, data_key):
        n = x.shape[0]
        steps = n // batch_size
        order = epoch_permutation(data_key, epoch, n) if shuffle else jnp.arange(n)
        idx = order[: steps * batch_size].reshape(steps, batch_size)
        xb, yb = x[idx], y[idx]  # (steps, B, ...)
        if mesh is not None:
            xb = lax.with_sharding_constraint(xb, _sharding.batch_sharded(mesh, leading=1))
            yb = lax.with_sharding_constraint(yb, _sharding.batch_sharded(mesh, leading=1))
        state, metrics = lax.scan(lambda s, b: train_step(s, *b), state, (xb, yb))
        if drop_last or n % batch_size == 0:
            return state, metrics
        rest = order[steps * batch_size:]
        state, last = train_step(state, *_on_mesh((x[rest], y[rest]), mesh))
        return state, jax.tree.map(lambda a, b: jnp.concatenate([a, b[None]]), metrics, last)

    return train_epoch


def make_eval_epoch(eval_step, batch_size: int, *, drop_last: bool = False):
    """Pure ``(state, x, y) -> totals`` over the examples in order: full batches mapped, then the remainder
    (left out with ``drop_last``)."""

    def eval_epoch(state, x, y):
        n = x.shape[0]
        full = n // batch_size
        totals = None
        if full:
            xb = x[: full * batch_size].reshape(full, batch_size, *x.shape[1:])
            yb = y[: full * batch_size].reshape(full, batch_size, *y.shape[1:])
            m = lax.map(lambda b: eval_step(state, *b), (xb, yb))
            totals = weighted(m, batch_size, sum_axis=True)
        if n % batch_size and not drop_last:
            rest = weighted(eval_step(state, x[full * batch_size:], y[full * batch_size:]), n % batch_size)
            totals = rest if totals is None else jax.tree.map(jnp.add, totals, rest)
        return totals

    return eval_epoch


def _on_mesh(batch, mesh):
    if mesh is None:
        return batch
    return tuple(lax.with_sharding_constraint(a, _sharding.batch_sharded(mesh)) for a in batch)


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
