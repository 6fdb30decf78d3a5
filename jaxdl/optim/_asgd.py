"""ASGD (averaged SGD) with torch.optim.ASGD's eta/mu schedule and its averaged parameters ``ax``."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import TORCH_STATE_SCALAR, scalar_dtype


class ASGDState(NamedTuple):
    count: jax.Array
    eta: jax.Array  # float32 scalars, as torch keeps them (state['eta'], state['mu'])
    mu: jax.Array
    ax: optax.Updates  # the averaged parameters, torch's state['ax']


def scale_by_torch_asgd(lambd: float, alpha: float, t0: float):
    """ASGD's update from the lr, as torch/optim/asgd.py ``_single_tensor_asgd`` (an ``applies_lr`` direction):

    θ ← θ(1 - λη) - ηg;  ax ← θ if μ = 1 else ax + μ(θ - ax);  then η ← lr/(1 + λ·lr·t)^α, μ ← 1/max(1, t - t0)
    (η and μ rounded to float32, torch's state dtype). The first step's η is the lr.
    """

    def init_fn(params):
        one = jnp.ones([], TORCH_STATE_SCALAR)
        return ASGDState(jnp.zeros([], jnp.int32), one, one, optax.tree.zeros_like(params))

    def update_fn(updates, state, params, *, lr):
        count = optax.safe_increment(state.count)
        eta = jnp.where(state.count == 0, lr.astype(TORCH_STATE_SCALAR), state.eta).astype(scalar_dtype())
        mu = state.mu.astype(scalar_dtype())

        def step(g, p, ax):
            new_p = p * (1 - lambd * eta).astype(p.dtype) - eta.astype(p.dtype) * g
            new_ax = jnp.where(mu == 1, new_p, ax + (new_p - ax) * mu.astype(p.dtype))
            return new_p - p, new_ax

        pairs = jax.tree.map(step, updates, params, state.ax)
        out = jax.tree.map(lambda _, pair: pair[0], updates, pairs)
        ax = jax.tree.map(lambda _, pair: pair[1], updates, pairs)
        t = count.astype(scalar_dtype())
        lr = lr.astype(scalar_dtype())
        new_eta = (lr / (1 + lambd * lr * t) ** alpha).astype(TORCH_STATE_SCALAR)
        new_mu = (1 / jnp.maximum(1.0, t - t0)).astype(TORCH_STATE_SCALAR)
        return out, ASGDState(count, new_eta, new_mu, ax)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def asgd(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, *, maximize=False
         ) -> optax.GradientTransformation:
    """Averaged SGD, as ``torch.optim.ASGD``; ``asgd_averaged_params(state)`` reads torch's ``state['ax']``.

    g ← ±g + λ_wd·θ;  θ ← θ(1 - λη) - ηg, then the average and the η, μ schedule of ``scale_by_torch_asgd``.
    The state's lr (``get_lr``/``set_lr``) enters as torch's does: through η, one step later.

    Args:
      lr: float, 0-d array or schedule. lambd: decay term λ. alpha: power for the η update. t0: the step
        after which averaging starts. weight_decay: ≥ 0 (L2). maximize: ascend instead.

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.asgd(lr=0.1, lambd=0.0)
      >>> updates, state = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}), {"w": jnp.zeros(1)})
      >>> round(float(updates["w"][0]), 4), round(float(optim.asgd_averaged_params(state)["w"][0]), 4)
      (-0.1, -0.1)
    """
    return torch_optimizer(lr, scale_by_torch_asgd(lambd, alpha, t0), weight_decay=weight_decay, maximize=maximize,
                           applies_lr=True)


def asgd_averaged_params(opt_state, group: int = 0):
    """The averaged parameters ``ax`` of an ``asgd`` state (torch: ``optimizer.state[p]['ax']`` per param).

    Args:
      opt_state: an ``asgd`` state, possibly inside chain / param_groups. group: which ASGD state, in tree order.
    """
    found = [s for s in jax.tree.leaves(opt_state, is_leaf=lambda x: isinstance(x, ASGDState))
             if isinstance(s, ASGDState)]
    if not -len(found) <= group < len(found):
        raise ValueError(f"group {group} out of range: this state holds {len(found)} ASGD state(s)")
    return found[group].ax
