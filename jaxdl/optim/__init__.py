"""``jaxdl.optim``: torch.optim's optimizers, clipping, schedules and param groups as Optax transforms.

Every optimizer returns an ``optax.GradientTransformation`` whose state holds the lr every update uses, as
torch's ``optimizer.param_groups[0]['lr']``, whatever type the lr was given as (float, numpy scalar, 0-d
array, tracer): ``get_lr(state)`` reads it, ``set_lr`` and ``ReduceLROnPlateau`` change it, a schedule
rewrites it after each update (as a torch scheduler).

Sweeping learning rates with vmap, one compile for every lr: build the optimizer inside the vmapped function,
``jax.vmap(lambda lr: train(optim.adam(lr=lr)))(lrs)`` (its init stores each traced lr; a schedule with a
traced base lr, ``StepLR(lr, 10)``, works too), or give one optimizer's states their lrs,
``states = jax.vmap(lambda lr: optim.set_lr(tx.init(params), lr))(jnp.array([1e-3, 3e-3, 1e-2]))`` with
``tx = optim.adam(lr=1e-3)``, then ``jax.vmap`` the train step over ``states``.
``inject_hyperparams(optim.adam)(lr=...)`` follows an injected lr at init only: use ``static_args="lr"``, ``set_lr``.
"""
from jaxdl.optim import lr_scheduler, swa_utils
from jaxdl.optim._accumulate import accumulate_gradients
from jaxdl.optim._adadelta import adadelta
from jaxdl.optim._adagrad import adagrad
from jaxdl.optim._adafactor import adafactor
from jaxdl.optim._adam import adam, adamw
from jaxdl.optim._adamax import adamax
from jaxdl.optim._asgd import ASGDState, asgd, asgd_averaged_params
from jaxdl.optim._clip import ClipGradNormState, clip_grad_norm, clip_grads_with_norm, get_total_norm
from jaxdl.optim._freeze import freeze, frozen_mask
from jaxdl.optim._lbfgs import LBFGS, LbfgsState, lbfgs
from jaxdl.optim._lr import LrState, get_lr, get_lrs, lr_used, set_lr, with_lr
from jaxdl.optim._muon import muon
from jaxdl.optim._nadam import nadam
from jaxdl.optim._param_groups import decay_labels, param_groups, weight_decay_mask
from jaxdl.optim._plateau import PlateauState, ReduceLROnPlateau
from jaxdl.optim._radam import radam
from jaxdl.optim._rmsprop import rmsprop
from jaxdl.optim._rprop import rprop
from jaxdl.optim._sgd import sgd
from jaxdl.optim._sparse_adam import sparse_adam
from jaxdl.optim._transform import scale_by_torch_adagrad, scale_by_torch_adam, torch_momentum

__all__ = [
    "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta",
    "clip_grad_norm", "clip_grads_with_norm", "get_total_norm", "ClipGradNormState",
    "lr_scheduler", "ReduceLROnPlateau", "PlateauState",
    "get_lr", "get_lrs", "lr_used", "set_lr", "with_lr", "LrState",
    "param_groups", "decay_labels", "weight_decay_mask", "accumulate_gradients",
    "torch_momentum", "scale_by_torch_adam", "scale_by_torch_adagrad",
    "freeze", "frozen_mask",
    "nadam", "radam", "adamax", "asgd", "asgd_averaged_params", "ASGDState", "rprop", "adafactor", "muon",
    "sparse_adam",
    "lbfgs", "LBFGS", "LbfgsState", "swa_utils",
]
