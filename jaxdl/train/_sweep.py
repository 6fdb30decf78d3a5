"""sweep: train copies differing in float hyperparameters and seed at once, with jax.vmap in one jit."""
from __future__ import annotations

import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxdl import amp
from jaxdl import functional as F
from jaxdl.checks import check_positive_int
from jaxdl.data import check_batches
from jaxdl.train import _epoch, _validate
from jaxdl.train._state import TrainState
from jaxdl.train._step import make_eval_step, make_train_step


class SweepResult(NamedTuple):
    states: TrainState   # stacked: every leaf has a leading axis of len(configs)
    histories: list      # histories[c] is copy c's list of per-epoch dicts (as FitResult.history)
    configs: list        # configs[c] = {hparam: value, ..., "seed": seed}, hyperparameter-major order


def sweep(model, make_tx, hparams: dict, seeds, train_data, val_data=None, *, loss_fn=F.cross_entropy,
          epochs: int, batch_size: int, accuracy: bool = True, dtype=jnp.float32,
          precision: str = "fp32") -> SweepResult:
    """Train k × len(seeds) copies, copy (i, s) using ``make_tx(**{name: hparams[name][i]})`` and key(s).

    The whole sweep (init, every epoch's scan and validation) is one jitted program vmapped over copies.
    Inside it each copy builds its own transform ``make_tx(**h)`` from its (traced) values and trains with
    ``make_train_step(model, make_tx(**h), loss_fn)``, so copy (i, s) equals ``fit(model, make_tx(**h_i),
    ..., key=jax.random.key(s), mode="scan")`` without early stopping, for any optax transform:
    ``optax.adam``, ``optax.inject_hyperparams(...)``, or a schedule of the swept value
    (``lambda lr: optim.sgd(lr=StepLR(lr, 10))``). ``make_tx`` must accept traced floats (no Python
    ``if`` on them). A jaxdl.optim optimizer stores its copy's lr in its state at init (``optim.get_lr(
    states.opt_state)`` lists them; ``optim.set_lr`` changes them). To continue copy c, rebuild its transform
    with ``make_tx(**configs[c])`` minus "seed".

    Args:
      hparams: {name: array of shape (k,)}, all of the same length k. seeds: ints.
      train_data, val_data: (x, y) numpy arrays as in fit. precision: "fp32", "bf16-mixed" or "fp16-mixed", as fit.
    """
    x, y = _validate.check_data("train_data", train_data)
    val = None if val_data is None else _validate.check_data("val_data", val_data)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_batches("train_data", len(x), batch_size, drop_last=True)  # fit's rule for arrays
    _validate.check_precision(precision, dtype)
    make_tx = _scaled_maker(make_tx, precision)
    values = {name: np.asarray(v, dtype=np.float64) for name, v in hparams.items()}
    lengths = {name: v.shape for name, v in values.items()}
    if not values or len({s for s in lengths.values()}) != 1 or len(next(iter(lengths.values()))) != 1:
        raise ValueError(f"hparams must be a non-empty dict of 1-D arrays of one length k; got shapes {lengths}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    k = len(next(iter(values.values())))
    configs = [{**{n: float(v[i]) for n, v in values.items()}, "seed": s}
               for i, s in itertools.product(range(k), seeds)]

    first = {n: float(v[0]) for n, v in values.items()}
    probe = TrainState.create(model, make_tx(**first), jax.random.key(seeds[0]), dtype)
    _validate.check_model_fits(model, probe, loss_fn, x, y, batch_size)
    _check_traceable(make_tx, first, probe.params)

    keys = jnp.stack([jax.random.key(c["seed"]) for c in configs])
    hs = {n: jnp.asarray([c[n] for c in configs], dtype) for n in values}
    eval_step = make_eval_step(model, loss_fn, accuracy=accuracy, precision=precision)
    eval_epoch = _epoch.make_eval_epoch(eval_step, batch_size)

    def one_copy(key, h, x, y, vx, vy):
        tx = make_tx(**h)  # this copy's transform, from its own (traced) values (a jaxdl lr: into its state)
        state = TrainState.create(model, tx, key, dtype)
        train_step = make_train_step(model, tx, loss_fn, accuracy=accuracy, precision=precision)
        train_epoch = _epoch.make_train_epoch(train_step, batch_size)

        def epoch_body(state, epoch):
            state, metrics = train_epoch(state, x, y, epoch, state.data_key())
            return state, (metrics, eval_epoch(state, vx, vy) if vx is not None else {})

        return lax.scan(epoch_body, state, jnp.arange(1, epochs + 1, dtype=jnp.int32))

    vx, vy = (None, None) if val is None else (jnp.asarray(val[0]), jnp.asarray(val[1]))
    run = jax.jit(jax.vmap(one_copy, in_axes=(0, 0, None, None, None, None)),
                  compiler_options=amp.compiler_options(precision))
    states, (train_m, val_m) = run(keys, hs, jnp.asarray(x), jnp.asarray(y), vx, vy)
    train_m, val_m = jax.device_get((train_m, val_m))  # leaves (copies, epochs, steps) / (copies, epochs)
    histories = [[_record(e + 1, train_m, val_m, c, e, None if val is None else len(val[0]))
                  for e in range(epochs)] for c in range(len(configs))]
    return SweepResult(states, histories, configs)


def _record(epoch, train_m, val_m, c, e, n_val):
    acc = (lambda m, idx: float(np.sum(m["correct"][idx])) / float(np.sum(m["count"][idx]))
           if "correct" in m else None)
    return {"epoch": epoch, "train_loss": float(np.mean(train_m["loss"][c, e])), "train_acc": acc(train_m, (c, e)),
            "val_loss": None if n_val is None else float(val_m["loss"][c, e]) / n_val,
            "val_acc": None if n_val is None else acc(val_m, (c, e))}


def _check_traceable(make_tx, first: dict, params) -> None:
    """make_tx must build a transform from traced values (each copy's, inside the vmapped program)."""
    try:
        jax.eval_shape(lambda h: make_tx(**h).init(params), first)
    except jax.errors.ConcretizationTypeError as err:
        raise ValueError(f"sweep: make_tx(**{first}) must accept traced floats (inside jax.vmap); it converts "
                         f"one to a Python value: {str(err).splitlines()[0]}") from err


def _scaled_maker(make_tx, precision):
    """make_tx whose transforms train at ``precision`` (fp16-mixed: each copy has its own GradScaler state)."""
    return lambda **h: amp.training_optimizer(make_tx(**h), precision)
