"""The MLP training step written eight ways (jaxdl loop/scan, torch eager/compile, flax.linen, equinox, plain JAX
loop/scan), all starting from one torch ``state_dict`` and training with Adam(lr=1e-3) on cross-entropy.

Each variant class has ``reset()`` (weights and optimizer back to the start), ``prepare(xs, ys)`` (numpy
batches of shape (S, B, ...) into the variant's own format, on its device) and ``run(data) -> float``: train
one step per batch and return the last step's loss, synchronised. The network is ``layers``, a tuple of
("linear", in, out) / ("bn", n) / ("relu",) / ("dropout", p) — the layout of torch's nn.Sequential, so
index j names the same parameters ("j.weight") everywhere.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from _harness import JaxdlVariant, PlainJaxVariant, TorchVariant, jax_batches

LR = 1e-3


def torch_model(layers, seed=0):
    import torch  # noqa: PLC0415

    torch.manual_seed(seed)
    make = {"linear": lambda a, b: torch.nn.Linear(a, b), "bn": torch.nn.BatchNorm1d,
            "relu": torch.nn.ReLU, "dropout": torch.nn.Dropout}
    return torch.nn.Sequential(*(make[kind](*args) for kind, *args in layers))


def torch_variant(layers, sd, compile=False):
    """torch eager / torch.compile: the torch nn.Sequential with cross-entropy."""
    import torch  # noqa: PLC0415

    return TorchVariant(torch_model(layers), torch.nn.functional.cross_entropy, sd, LR, compile=compile)


# ---------------------------------------------------------------- plain JAX: dict of arrays, hand-written layers
def plain_apply(layers, params, bn, x, key):
    """Training-mode forward; BatchNorm as torch (biased var to normalise, unbiased var in the buffer)."""
    new_bn = {}
    for j, (kind, *args) in enumerate(layers):
        if kind == "linear":
            x = x @ params[f"{j}.weight"].T + params[f"{j}.bias"]
        elif kind == "bn":
            n = x.shape[0]
            mean, var = jnp.mean(x, 0), jnp.var(x, 0)
            x = (x - mean) * lax.rsqrt(var + 1e-5) * params[f"{j}.weight"] + params[f"{j}.bias"]
            new_bn[f"{j}.running_mean"] = 0.9 * bn[f"{j}.running_mean"] + 0.1 * mean
            new_bn[f"{j}.running_var"] = 0.9 * bn[f"{j}.running_var"] + 0.1 * var * n / (n - 1)
        elif kind == "relu":
            x = jax.nn.relu(x)
        elif args[0] > 0:
            keep = jax.random.bernoulli(jax.random.fold_in(key, j), 1 - args[0], x.shape)
            x = jnp.where(keep, x / (1 - args[0]), 0)
    return x, new_bn


class PlainJax(PlainJaxVariant):
    def __init__(self, layers, sd, scan=False):
        self.layers, self.sd, self.tx = layers, sd, optax.adam(LR)

        def step(carry, batch):
            params, opt_state, bn, t = carry
            x, y = batch

            def objective(p):
                out, new_bn = plain_apply(layers, p, bn, x, jax.random.fold_in(jax.random.key(0), t))
                return optax.softmax_cross_entropy_with_integer_labels(out, y).mean(), new_bn

            (loss, bn), grads = jax.value_and_grad(objective, has_aux=True)(params)
            updates, opt_state = self.tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, bn, t + 1), loss

        super().__init__(step, scan)

    def reset(self):
        params = {k: jnp.asarray(v) for k, v in self.sd.items() if k.endswith(("weight", "bias"))}
        bn = {k: jnp.asarray(v) for k, v in self.sd.items() if k.endswith(("running_mean", "running_var"))}
        self.carry = (params, self.tx.init(params), bn, jnp.zeros((), jnp.int32))


# ---------------------------------------------------------------- jaxdl: nn.Sequential + jaxdl.train steps
def jaxdl_mlp(layers, sd, scan=False):
    from jaxdl import functional as F  # noqa: PLC0415
    from jaxdl import nn  # noqa: PLC0415

    make = {"linear": nn.Linear, "bn": nn.BatchNorm1d, "relu": nn.ReLU, "dropout": nn.Dropout}
    model = nn.Sequential(*(make[kind](*args) for kind, *args in layers))
    return JaxdlVariant(model, F.cross_entropy, sd, LR, scan=scan)


# ---------------------------------------------------------------- flax.linen
class FlaxLinen:
    def __init__(self, layers, sd):
        import flax.linen as fnn  # noqa: PLC0415

        class MLP(fnn.Module):
            @fnn.compact
            def __call__(self, x):
                for j, (kind, *args) in enumerate(layers):
                    if kind == "linear":
                        x = fnn.Dense(args[1], name=f"l{j}")(x)
                    elif kind == "bn":  # flax momentum 0.9 == torch momentum 0.1
                        x = fnn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-5, name=f"l{j}")(x)
                    elif kind == "relu":
                        x = fnn.relu(x)
                    else:
                        x = fnn.Dropout(args[0], deterministic=False)(x)
                return x

        self.module, self.layers, self.sd, self.tx = MLP(), layers, sd, optax.adam(LR)
        self.has_bn = any(kind == "bn" for kind, *_ in layers)

        def step(params, stats, opt_state, t, x, y):
            def objective(p):
                variables = {"params": p, **({"batch_stats": stats} if self.has_bn else {})}
                out, upd = self.module.apply(variables, x, mutable=["batch_stats"],
                                             rngs={"dropout": jax.random.fold_in(jax.random.key(0), t)})
                loss = optax.softmax_cross_entropy_with_integer_labels(out, y).mean()
                return loss, upd.get("batch_stats", stats)

            (loss, stats), grads = jax.value_and_grad(objective, has_aux=True)(params)
            updates, opt_state = self.tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), stats, opt_state, t + 1, loss

        self.fn = jax.jit(step, donate_argnums=(0, 1, 2))
        self.prepare = jax_batches
        self.reset()

    def reset(self):
        params, stats = {}, {}
        for j, (kind, *_) in enumerate(self.layers):
            if kind == "linear":
                params[f"l{j}"] = {"kernel": jnp.asarray(self.sd[f"{j}.weight"].T),
                                   "bias": jnp.asarray(self.sd[f"{j}.bias"])}
            elif kind == "bn":
                params[f"l{j}"] = {"scale": jnp.asarray(self.sd[f"{j}.weight"]),
                                   "bias": jnp.asarray(self.sd[f"{j}.bias"])}
                stats[f"l{j}"] = {"mean": jnp.asarray(self.sd[f"{j}.running_mean"]),
                                  "var": jnp.asarray(self.sd[f"{j}.running_var"])}
        self.carry = (params, stats, self.tx.init(params), jnp.zeros((), jnp.int32))

    def run(self, data):
        for x, y in data:
            *self.carry, loss = self.fn(*self.carry, x, y)
        return float(loss)


# ---------------------------------------------------------------- equinox
class Equinox:
    def __init__(self, layers, sd):
        import equinox as eqx  # noqa: PLC0415

        self.eqx, self.layers, self.sd, self.tx = eqx, layers, sd, optax.adam(LR)

        def objective(model, state, x, y, key):
            keys = jax.random.split(key, x.shape[0])  # one dropout key per example (the model sees one example)
            out, state = jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(x, state, key=keys)
            return optax.softmax_cross_entropy_with_integer_labels(out, y).mean(), state

        @eqx.filter_jit
        def step(model, state, opt_state, t, x, y):
            key = jax.random.fold_in(jax.random.key(0), t)
            (loss, state), grads = eqx.filter_value_and_grad(objective, has_aux=True)(model, state, x, y, key)
            updates, opt_state = self.tx.update(grads, opt_state, eqx.filter(model, eqx.is_array))
            return eqx.apply_updates(model, updates), state, opt_state, t + 1, loss

        self.fn = step
        self.prepare = jax_batches
        self.reset()

    def reset(self):
        eqx, key = self.eqx, jax.random.key(0)
        mods = []
        for j, (kind, *args) in enumerate(self.layers):
            if kind == "linear":
                m = eqx.nn.Linear(args[0], args[1], key=key)
                m = eqx.tree_at(lambda m: (m.weight, m.bias), m,
                                (jnp.asarray(self.sd[f"{j}.weight"]), jnp.asarray(self.sd[f"{j}.bias"])))
            elif kind == "bn":  # mode "batch" trains on batch stats as torch ("ema" would mix in the running ones)
                m = eqx.nn.BatchNorm(args[0], axis_name="batch", momentum=0.9, mode="batch")
                m = eqx.tree_at(lambda m: (m.weight, m.bias), m,
                                (jnp.asarray(self.sd[f"{j}.weight"]), jnp.asarray(self.sd[f"{j}.bias"])))
            elif kind == "relu":
                m = eqx.nn.Lambda(jax.nn.relu)
            else:
                m = eqx.nn.Dropout(args[0])
            mods.append(m)
        model, state = eqx.nn.make_with_state(eqx.nn.Sequential)(mods)
        self.carry = (model, state, self.tx.init(eqx.filter(model, eqx.is_array)), jnp.zeros((), jnp.int32))

    def run(self, data):
        for x, y in data:
            *self.carry, loss = self.fn(*self.carry, x, y)
        return float(loss)


VARIANTS = {
    "jaxdl loop": lambda layers, sd: jaxdl_mlp(layers, sd, scan=False),
    "jaxdl scan": lambda layers, sd: jaxdl_mlp(layers, sd, scan=True),
    "torch eager": lambda layers, sd: torch_variant(layers, sd),
    "torch.compile": lambda layers, sd: torch_variant(layers, sd, compile=True),
    "flax.linen jit loop": FlaxLinen,
    "equinox": Equinox,
    "plain JAX jit loop": lambda layers, sd: PlainJax(layers, sd, scan=False),
    "plain JAX lax.scan": lambda layers, sd: PlainJax(layers, sd, scan=True),
}


def state_dict_numpy(layers, seed=0):
    """torch's initial weights (its default init) as float32 numpy arrays, the start for every variant."""
    return {k: np.array(v.detach().numpy(), copy=True) for k, v in torch_model(layers, seed).state_dict().items()}
