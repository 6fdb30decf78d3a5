"""``jaxdl.optim``: torch.optim's optimizers, clipping, schedules and param groups as Optax transforms.

Every optimizer returns an ``optax.GradientTransformation`` whose state holds the current lr
(``get_lr(state)``, as torch's ``optimizer.param_groups[0]['lr']``; ``set_lr`` to change it).

Sweeping learning rates with vmap (the lr is state, so one optimizer serves every sweep member):
``states = jax.vmap(lambda lr: optim.set_lr(tx.init(params), lr))(jnp.array([1e-3, 3e-3, 1e-2]))`` with
``tx = optim.adam(lr=1e-3)`` (any Python float), then ``jax.vmap`` the train step over ``states`` (for a
constant lr; a schedule rewrites the lr each update). A traced lr also works, built inside the vmapped
function: ``jax.vmap(lambda lr: train(optim.adam(lr=lr)))(lrs)`` (then the lr is fixed: ``set_lr`` and
ReduceLROnPlateau do not apply), and so does a schedule with a traced base lr, ``StepLR(lr, 10)``.
``optax.inject_hyperparams(optim.adam)(lr=...)`` works too; ``get_lr`` then reads its ``hyperparams['lr']``.
"""
from jaxdl.optim import lr_scheduler
from jaxdl.optim._accumulate import accumulate_gradients
from jaxdl.optim._adadelta import adadelta
from jaxdl.optim._adagrad import adagrad
from jaxdl.optim._adam import adam, adamw
from jaxdl.optim._clip import ClipGradNormState, clip_grad_norm, clip_grads_with_norm, get_total_norm
from jaxdl.optim._freeze import freeze, frozen_mask
from jaxdl.optim._lr import LrState, get_lr, get_lrs, lr_used, set_lr, with_lr
from jaxdl.optim._param_groups import decay_labels, param_groups, weight_decay_mask
from jaxdl.optim._plateau import PlateauState, ReduceLROnPlateau
from jaxdl.optim._rmsprop import rmsprop
from jaxdl.optim._sgd import sgd
from jaxdl.optim._transform import scale_by_torch_adagrad, scale_by_torch_adam, torch_momentum

__all__ = [
    "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta",
    "clip_grad_norm", "clip_grads_with_norm", "get_total_norm", "ClipGradNormState",
    "lr_scheduler", "ReduceLROnPlateau", "PlateauState",
    "get_lr", "get_lrs", "lr_used", "set_lr", "with_lr", "LrState",
    "param_groups", "decay_labels", "weight_decay_mask", "accumulate_gradients",
    "torch_momentum", "scale_by_torch_adam", "scale_by_torch_adagrad",
    "freeze", "frozen_mask",
]
