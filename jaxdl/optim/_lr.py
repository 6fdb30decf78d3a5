"""The learning rate as optimizer state: torch's ``param_groups[i]['lr']``, readable and settable.

Every jaxdl optimizer is ``with_lr(direction, lr)``: the chain computes a direction ``d`` that does not
depend on the lr (true of every torch optimizer here, including AdamW's decoupled decay and Adagrad's
``lr_decay``), and the update is ``-lr * d``. The state holds the lr of the *next* step, as torch's
param group does after ``scheduler.step()``: ``lr(0)`` after init, ``lr(k)`` after k updates. That state
lr is the one lr every update uses, whatever type the lr was given as: ``set_lr`` and ReduceLROnPlateau
change it; a schedule rewrites it after each update, as a torch scheduler rewrites ``group['lr']``.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl import checks as V


class LrState(NamedTuple):
    """count: updates done (int32 scalar); lr: the lr the next update uses; inner: the chain's state."""

    count: jax.Array
    lr: jax.Array
    inner: Any


def _lr_value(lr, count):
    value = lr(count) if callable(lr) else lr
    return jnp.asarray(value, dtype=jnp.result_type(float))


def with_lr(direction: optax.GradientTransformation, lr, *, applies_lr: bool = False) -> optax.GradientTransformation:
    """``update = -state.lr * direction(g)``; ``lr`` gives the state's lr: a number or 0-d (possibly traced)
    array is its value at init, a schedule of the count is evaluated at init and after each update.

    ``applies_lr=True`` is for the torch optimizers whose step is not -lr times an lr-free direction (ASGD's
    eta, Rprop's initial step size, Adafactor's min(lr, 1/√t)): ``direction.update(g, s, params, lr=state.lr)``
    returns the update itself (an ``optax.GradientTransformationExtraArgs``; ``optax.chain`` forwards ``lr``).

    torch: ``p.add_(d, alpha=-group['lr'])`` with ``group['lr']`` the only lr (``set_lr`` writes it). The
    transform is built from ``lr`` only at init: an ``optax.inject_hyperparams`` that rebuilds it with a new
    lr changes nothing (pass the lr with ``static_args="lr"`` and change it with ``set_lr``).
    """

    def init_fn(params):
        count = jnp.zeros([], jnp.int32)
        return LrState(count, _lr_value(lr, count), direction.init(params))

    def update_fn(updates, state, params=None):
        if applies_lr:
            updates, inner = direction.update(updates, state.inner, params, lr=state.lr)
        else:
            d, inner = direction.update(updates, state.inner, params)
            updates = jax.tree.map(lambda x: (-state.lr).astype(x.dtype) * x, d)
        count = optax.safe_increment(state.count)
        new_lr = _lr_value(lr, count).astype(state.lr.dtype) if callable(lr) else state.lr
        return updates, LrState(count, new_lr, inner)

    return optax.GradientTransformation(init_fn, update_fn)


def torch_optimizer(lr, *direction, weight_decay=0.0, maximize=False, applies_lr=False,
                    decoupled_weight_decay=False) -> optax.GradientTransformation:
    """torch's common prologue, then ``direction``: g ← -g if maximize; g ← g + weight_decay·θ; update = -lr·d
    (``applies_lr``: the direction makes the update from the lr itself, see ``with_lr``;
    ``decoupled_weight_decay``: d ← d + weight_decay·θ after the direction, torch's θ ← θ(1 - lr·λ))."""
    V.check_lr(lr)
    V.check_nonneg("weight_decay", weight_decay)
    parts = []
    if maximize:
        parts.append(optax.scale(-1.0))
    decay = [] if V.is_zero(weight_decay) else [optax.add_decayed_weights(weight_decay)]
    parts += [*direction, *decay] if decoupled_weight_decay else [*decay, *direction]
    return with_lr(optax.chain(*parts) if parts else optax.identity(), lr, applies_lr=applies_lr)


def _holds_lr_state(tree) -> bool:
    return any(isinstance(s, LrState) for s in jax.tree.leaves(tree, is_leaf=lambda x: isinstance(x, LrState)))


def _is_lr_state(x) -> bool:
    """An LrState, or an optax.inject_hyperparams state around an optimizer that holds no LrState (optax.sgd).

    Both InjectStatefulHyperparamsState (optax >= 0.2.3) and the older InjectHyperparamsState carry a
    ``hyperparams`` dict; around a jaxdl optimizer the inner LrState is the lr its updates use.
    """
    if isinstance(x, LrState):
        return True
    return isinstance(getattr(x, "hyperparams", None), dict) and not _holds_lr_state(getattr(x, "inner_state", ()))


def _lr_key(s) -> str:
    for name in ("lr", "learning_rate"):
        if name in s.hyperparams:
            return name
    raise ValueError(f"inject_hyperparams state has no 'lr' or 'learning_rate': {sorted(s.hyperparams)}")


def _lr_of(s) -> jax.Array:
    return s.lr if isinstance(s, LrState) else s.hyperparams[_lr_key(s)]


def _lr_holders(opt_state) -> list:
    found = [s for s in jax.tree.leaves(opt_state, is_leaf=_is_lr_state) if _is_lr_state(s)]
    if not found:
        raise ValueError("no learning rate in this optimizer state: expected a jaxdl.optim optimizer's state "
                         "(LrState) or optax.inject_hyperparams' state")
    return found


def get_lrs(opt_state) -> list[jax.Array]:
    """Every group's current lr, in the state's tree order (torch: ``[g['lr'] for g in param_groups]``)."""
    return [_lr_of(s) for s in _lr_holders(opt_state)]


def get_lr(opt_state, group: int = 0) -> jax.Array:
    """The lr the next update uses, as torch's ``optimizer.param_groups[group]['lr']``.

    For ``optax.inject_hyperparams(optax_optimizer)(learning_rate=schedule)`` it is the lr the *last* update
    used (optax stores ``schedule(count - 1)`` after an update; torch's group shows ``schedule(count)``):
    jaxdl's own optimizers given a schedule report the next one, as torch, also inside inject_hyperparams.

    Args:
      opt_state: the state of a jaxdl.optim optimizer (possibly inside chain/multi_transform/MultiSteps).
      group: index into ``get_lrs(opt_state)``.
    """
    lrs = get_lrs(opt_state)
    if not -len(lrs) <= group < len(lrs):
        raise ValueError(f"group {group} out of range: this state has {len(lrs)} learning rate(s)")
    return lrs[group]


def lr_used(before, after):
    """The lr (first group's) the update from ``before`` to ``after`` used; None if the state holds none.

    A jaxdl.optim LrState holds the lr of the *next* update (read before it), optax.inject_hyperparams the lr of
    the *last* one (read after it): both give torch's ``param_groups[0]['lr']`` at ``optimizer.step()``.
    """
    pairs = zip(jax.tree.leaves(before, is_leaf=_is_lr_state), jax.tree.leaves(after, is_leaf=_is_lr_state))
    for old, new in pairs:
        if _is_lr_state(old):
            return _lr_of(old if isinstance(old, LrState) else new)
    return None


def set_lr(opt_state, lr):
    """A copy of ``opt_state`` whose lr(s) are ``lr``: a scalar for all groups, or one per group (``get_lrs``'s order).

    Torch counterpart: ``for g, v in zip(optimizer.param_groups, lr): g['lr'] = v``. Every later update uses
    it; with a schedule as lr the next update overwrites it from the schedule, as a torch scheduler would.
    Writes each LrState's lr, or the ``hyperparams['lr']`` (or ``'learning_rate'``) of an
    optax.inject_hyperparams state around an optax optimizer. A state without an lr is a ValueError.
    """
    n = len(_lr_holders(opt_state))
    lr = jnp.asarray(lr)
    if lr.ndim > 1 or (lr.ndim == 1 and lr.shape[0] != n):
        raise ValueError(f"set_lr expects a scalar or one lr per group ({n},), got shape {lr.shape}")
    values = iter(range(n))

    def replace(s):
        if not _is_lr_state(s):
            return s
        v = lr if lr.ndim == 0 else lr[next(values)]
        if isinstance(s, LrState):
            return s._replace(lr=v.astype(s.lr.dtype))
        key = _lr_key(s)
        return s._replace(hyperparams={**s.hyperparams, key: v.astype(jnp.result_type(s.hyperparams[key]))})

    return jax.tree.map(replace, opt_state, is_leaf=_is_lr_state)
