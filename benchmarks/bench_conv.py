"""CNN training speed (workload w5): jaxdl (loop and scan) side by side with torch eager, torch.compile and
flax.linen, all in one process, Adam(lr=1e-3), float32, the same weights and data.

Run: python benchmarks/bench_conv.py [--rounds N] [--steps S] [--quick] [--torch-threads T]

Model w5, the digits CNN on 8×8 single-channel inputs, batch 128:
Conv2d(1,16,3,padding=1) → BatchNorm2d → ReLU → MaxPool2d(2) → Conv2d(16,32,3,padding=1) → BatchNorm2d → ReLU →
MaxPool2d(2) → Flatten → Linear(128,10). BatchNorm2d comes from jaxdl.nn when it has one; until then every
variant runs the same network without it (the header line says which). Every variant starts from the torch
model's default init (state_dict copied into each framework) and trains on the same batches. Per variant: the
first call (one step from cold: trace + compile + run), a check that every variant's loss after 10 steps equals
torch eager's, then ``rounds`` interleaved rounds of ``steps`` steps (benchmarks/_harness.py); the table shows
the median ms/step and the ratios to torch eager and to the best non-jaxdl peer. flax.linen gets its data in its
own NHWC layout (prepared once, outside the timing) and transposes to NCHW only before Flatten, so that its
Linear sees torch's feature order.
"""
from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

from _harness import JaxdlVariant, TorchVariant, fmt, machine, table, time_variants

BATCH, LR, CLASSES = 128, 1e-3, 10
JAXDL = ("jaxdl loop", "jaxdl scan")


def has_bn() -> bool:
    from jaxdl import nn  # noqa: PLC0415

    return getattr(nn, "BatchNorm2d", None) is not None


def layers(bn: bool):
    """The network as torch's nn.Sequential indices: ("conv", in, out) / ("bn", c) / ("relu",) / ("pool",) / ..."""
    block = lambda i, o: [("conv", i, o)] + ([("bn", o)] if bn else []) + [("relu",), ("pool",)]  # noqa: E731
    return tuple(block(1, 16) + block(16, 32) + [("flatten",), ("linear", 128, CLASSES)])


def torch_model(spec, seed=0):
    import torch  # noqa: PLC0415

    torch.manual_seed(seed)
    tnn = torch.nn
    make = {"conv": lambda i, o: tnn.Conv2d(i, o, 3, padding=1), "bn": tnn.BatchNorm2d, "relu": tnn.ReLU,
            "pool": lambda: tnn.MaxPool2d(2), "flatten": tnn.Flatten, "linear": tnn.Linear}
    return tnn.Sequential(*(make[kind](*args) for kind, *args in spec))


def state_dict_numpy(spec):
    return {k: np.array(v.detach().numpy(), copy=True) for k, v in torch_model(spec).state_dict().items()}


def torch_variant(spec, sd, compile=False):
    import torch  # noqa: PLC0415

    return TorchVariant(torch_model(spec), torch.nn.functional.cross_entropy, sd, LR, compile=compile)


def jaxdl_variant(spec, sd, scan=False):
    from jaxdl import functional as F  # noqa: PLC0415
    from jaxdl import nn  # noqa: PLC0415

    make = {"conv": lambda i, o: nn.Conv2d(i, o, 3, padding=1), "bn": nn.BatchNorm2d,
            "relu": nn.ReLU, "pool": lambda: nn.MaxPool2d(2), "flatten": nn.Flatten, "linear": nn.Linear}
    model = nn.Sequential(*(make[kind](*args) for kind, *args in spec))
    return JaxdlVariant(model, F.cross_entropy, sd, LR, scan=scan)


class FlaxLinen:
    """flax.linen Conv/BatchNorm/max_pool on NHWC data; kernels (kH, kW, in, out) from torch's (out, in, kH, kW)."""

    def __init__(self, spec, sd):
        import flax.linen as fnn  # noqa: PLC0415

        class CNN(fnn.Module):
            @fnn.compact
            def __call__(self, x):  # (B, H, W, C)
                for j, (kind, *args) in enumerate(spec):
                    if kind == "conv":
                        x = fnn.Conv(args[1], (3, 3), padding=((1, 1), (1, 1)), name=f"l{j}")(x)
                    elif kind == "bn":  # flax momentum 0.9 == torch momentum 0.1
                        x = fnn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-5, name=f"l{j}")(x)
                    elif kind == "relu":
                        x = fnn.relu(x)
                    elif kind == "pool":
                        x = fnn.max_pool(x, (2, 2), strides=(2, 2))
                    elif kind == "flatten":  # torch's (C, H, W) feature order for the Linear
                        x = jnp.transpose(x, (0, 3, 1, 2)).reshape(x.shape[0], -1)
                    else:
                        x = fnn.Dense(args[1], name=f"l{j}")(x)
                return x

        self.module, self.spec, self.sd, self.tx = CNN(), spec, sd, optax.adam(LR)

        def step(params, stats, opt_state, x, y):
            def objective(p):
                out, upd = self.module.apply({"params": p, "batch_stats": stats}, x, mutable=["batch_stats"])
                return optax.softmax_cross_entropy_with_integer_labels(out, y).mean(), upd.get("batch_stats", stats)

            (loss, stats), grads = jax.value_and_grad(objective, has_aux=True)(params)
            updates, opt_state = self.tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), stats, opt_state, loss

        self.fn = jax.jit(step, donate_argnums=(0, 1, 2))
        self.reset()

    def prepare(self, xs, ys):
        return [(jnp.asarray(np.transpose(x, (0, 2, 3, 1))), jnp.asarray(y)) for x, y in zip(xs, ys)]

    def reset(self):
        a, sd = jnp.asarray, self.sd
        params, stats = {}, {}
        for j, (kind, *_) in enumerate(self.spec):
            if kind == "conv":
                params[f"l{j}"] = {"kernel": a(sd[f"{j}.weight"].transpose(2, 3, 1, 0)), "bias": a(sd[f"{j}.bias"])}
            elif kind == "linear":
                params[f"l{j}"] = {"kernel": a(sd[f"{j}.weight"].T), "bias": a(sd[f"{j}.bias"])}
            elif kind == "bn":
                params[f"l{j}"] = {"scale": a(sd[f"{j}.weight"]), "bias": a(sd[f"{j}.bias"])}
                stats[f"l{j}"] = {"mean": a(sd[f"{j}.running_mean"]), "var": a(sd[f"{j}.running_var"])}
        self.carry = (params, stats, self.tx.init(params))

    def run(self, data):
        for x, y in data:
            *self.carry, loss = self.fn(*self.carry, x, y)
        return float(loss)


VARIANTS = {
    "jaxdl loop": lambda spec, sd: jaxdl_variant(spec, sd, scan=False),
    "jaxdl scan": lambda spec, sd: jaxdl_variant(spec, sd, scan=True),
    "torch eager": torch_variant,
    "torch.compile": lambda spec, sd: torch_variant(spec, sd, compile=True),
    "flax.linen jit loop": FlaxLinen,
}


def digits_like(steps, seed):
    """``steps`` batches of 8×8 single-channel standard-normal images (N, 1, 8, 8) and random class targets."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((steps, BATCH, 1, 8, 8), dtype=np.float32),
            rng.integers(0, CLASSES, (steps, BATCH)).astype(np.int32))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 7, --quick 2)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed block (default 50, --quick 5)")
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps and rounds")
    parser.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads (default: torch's "
                        "own); on a loaded shared machine torch's 2-thread convs wait on each other")
    args = parser.parse_args(argv)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 7)
    steps = args.steps if args.steps is not None else (5 if args.quick else 50)
    if rounds < 1 or steps < 1:
        parser.error("--rounds and --steps must be ≥ 1")

    import torch  # noqa: PLC0415

    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)
    bn = has_bn()
    spec = layers(bn)
    print(f"# bench_conv on {machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"## w5: digits CNN {'with' if bn else 'WITHOUT'} BatchNorm2d (jaxdl.nn.BatchNorm2d "
          f"{'present' if bn else 'missing'}), 8×8×1 inputs, batch {BATCH}, Adam(lr={LR}), float32; "
          f"{steps} steps per block, {rounds} rounds")
    sd = state_dict_numpy(spec)
    objs = {n: make(spec, sd) for n, make in VARIANTS.items()}

    variants, med = time_variants(objs, *digits_like(steps, seed=0), digits_like(10, seed=1), rounds)
    best_peer = min(m for n, m in med.items() if n not in JAXDL)
    rows = [[v.name, fmt(v.median_ms, ".3f"), f"{min(v.times_ms):.3f}–{max(v.times_ms):.3f}", fmt(v.first_call_s),
             fmt(v.median_ms / med["torch eager"]), fmt(v.median_ms / best_peer)] for v in variants]
    print()
    print(table(["variant", "median ms/step", "range over rounds", "first call s", "× torch eager", "× best peer"],
                rows))
    return med


if __name__ == "__main__":
    sys.exit(main() and None)
