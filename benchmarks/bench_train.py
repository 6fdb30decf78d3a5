"""Training speed of the lecture MLP (64 → 256 → 256 → 10, batch 128, Adam): jaxdl loop, jaxdl scan, torch eager.

Run: python benchmarks/bench_train.py [--steps-per-epoch 100] [--epochs 5]
jaxdl's figures are fit's own per-epoch timings (train only, first epoch with its compile left out, median of
the rest); torch runs the same model, data order style (shuffled index batches) and optimizer eagerly.
"""
from __future__ import annotations

import argparse
import statistics
import time

import jax
import numpy as np

from jaxdl import nn, optim
from jaxdl.train import fit


def mlp():
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def bench_jaxdl(mode, x, y, batch, epochs):
    res = fit(mlp(), optim.adam(lr=1e-3), (x, y), epochs=epochs, batch_size=batch, key=jax.random.key(0),
              mode=mode, progress=False)
    steps = len(x) // batch
    return steps / statistics.median(h["time_s"] for h in res.history[1:])


def bench_torch(x, y, batch, epochs, threads=None):
    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x), torch.tensor(y).long()
    steps, rates = len(x) // batch, []
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        t0 = time.perf_counter()
        for i in range(steps):
            idx = perm[i * batch:(i + 1) * batch]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        loss.item()
        rates.append(steps / (time.perf_counter() - t0))
    return statistics.median(rates[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's); on a loaded machine 1 avoids spin-wait stalls")
    args = parser.parse_args()
    batch = 128
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch * args.steps_per_epoch, 64)).astype(np.float32)
    y = rng.integers(0, 10, len(x)).astype(np.int32)
    rates = {"torch eager": bench_torch(x, y, batch, args.epochs, args.torch_threads),
             "jaxdl loop": bench_jaxdl("loop", x, y, batch, args.epochs),
             "jaxdl scan": bench_jaxdl("scan", x, y, batch, args.epochs)}
    base = rates["torch eager"]
    print(f"MLP 64-256-256-10, batch {batch}, Adam, {args.steps_per_epoch} steps/epoch, "
          f"median of epochs 2..{args.epochs}; device: {jax.devices()[0].platform}")
    print(f"{'mode':<12} {'steps/s':>10} {'ms/step':>9} {'time/step vs torch':>19}")
    for name, r in rates.items():
        print(f"{name:<12} {r:>10.0f} {1e3 / r:>9.3f} {base / r:>18.2f}x")


if __name__ == "__main__":
    main()
